// A library on disk: its catalogue, its folders' paths and which model it currently searches with.
import { existsSync, mkdirSync } from 'node:fs';
import { Catalogue, type ModelRecord } from './catalogue/catalogue.js';
import { libraryPaths, type LibraryPaths } from './paths.js';
import { cleanStaleScratch, type ScratchCleanup } from './scratch.js';

const MODEL_ID = 'model_id';
const MODEL_DIR = 'model_dir';

/** There is no library (no catalogue) at the path given. */
export class LibraryNotFoundError extends Error {
  override name = 'LibraryNotFoundError';
  constructor(readonly dir: string) {
    super(`no library at ${dir} (no catalogue.sqlite there): check the path given with --library or PHOTO_SEARCH_LIBRARY; ` +
      '`photo-search index <folder> --library DIR` creates one');
  }
}

export class Library {
  readonly paths: LibraryPaths;
  readonly catalogue: Catalogue;
  /** What opening removed: scratch that killed processes left behind (scratch.ts). */
  readonly staleScratch: ScratchCleanup;

  private constructor(paths: LibraryPaths) {
    this.paths = paths;
    mkdirSync(paths.dir, { recursive: true });
    this.catalogue = new Catalogue(paths.catalogue);
    this.staleScratch = cleanStaleScratch(paths);
  }

  /** Opens the library in `dir`, creating it when there is none. */
  static open(dir: string): Library {
    return new Library(libraryPaths(dir));
  }

  /**
   * Opens an existing library, for commands that only read one: a mistyped path is refused
   * (LibraryNotFoundError) instead of becoming a new, empty library.
   */
  static openExisting(dir: string): Library {
    const paths = libraryPaths(dir);
    if (!existsSync(paths.catalogue)) throw new LibraryNotFoundError(paths.dir);
    return new Library(paths);
  }

  /** The model the library searches and indexes with, if one was chosen. */
  get currentModel(): (ModelRecord & { dir: string | null }) | null {
    const id = this.catalogue.getSetting(MODEL_ID);
    if (!id) return null;
    const record = this.catalogue.getModel(id);
    return record ? { ...record, dir: this.catalogue.getSetting(MODEL_DIR) } : null;
  }

  /** Makes a model current (registering it); dir is where its ONNX files are, when known. */
  useModel(model: ModelRecord, dir: string | null): void {
    this.catalogue.transaction(() => {
      this.catalogue.registerModel(model);
      this.catalogue.setSetting(MODEL_ID, model.id);
      this.catalogue.setSetting(MODEL_DIR, dir);
    });
  }

  close(): void {
    this.catalogue.close();
  }
}
