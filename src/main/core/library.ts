// A library on disk: its catalogue, its folders' paths and which model it currently searches with.
import { existsSync, mkdirSync } from 'node:fs';
import { Catalogue, type ModelRecord } from './catalogue/catalogue.js';
import { libraryPaths, type LibraryPaths } from './paths.js';
import { cleanStaleScratch, type ScratchCleanup } from './scratch.js';

const MODEL_ID = 'model_id';
const MODEL_DIR = 'model_dir';
const SEARCH_MODEL_ID = 'search_model_id';

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

  /** The model the library indexes with (and searches with, see searchModel), if one was chosen. */
  get currentModel(): (ModelRecord & { dir: string | null }) | null {
    const id = this.catalogue.getSetting(MODEL_ID);
    if (!id) return null;
    const record = this.catalogue.getModel(id);
    return record ? { ...record, dir: this.catalogue.getSetting(MODEL_DIR) } : null;
  }

  /**
   * The model whose vectors search reads: the current one, except after a switch to a model that still has
   * photos to embed, when the model used before it goes on answering while it has more vectors. Derived from
   * the counts each time, so it changes over by itself when the last photo is embedded, and stays changed over
   * when new photos arrive later (the earlier model is not embedding them either).
   */
  get searchModel(): (ModelRecord & { dir: string | null }) | null {
    const current = this.currentModel;
    const earlierId = this.catalogue.getSetting(SEARCH_MODEL_ID);
    if (!current || !earlierId || !this.outranks(earlierId, current.id)) return current;
    const earlier = this.catalogue.getModel(earlierId);
    return earlier ? { ...earlier, dir: this.catalogue.modelDir(earlierId) } : current;
  }

  /** The earlier model search reads instead of the current one, with its vector count; null when none. */
  get earlierSearchModel(): { id: string; embedded: number } | null {
    const searched = this.searchModel;
    if (!searched || searched.id === this.catalogue.getSetting(MODEL_ID)) return null;
    return { id: searched.id, embedded: this.catalogue.countEmbeddings(searched.id) };
  }

  /** The model search would go on reading if `modelId` became current now (null: it would read `modelId`). */
  searchModelAfterSwitch(modelId: string): string | null {
    const searched = this.searchModel;
    return searched && this.outranks(searched.id, modelId) ? searched.id : null;
  }

  /** Search reads `earlierId` rather than `currentId` while the latter has photos to embed and fewer vectors. */
  private outranks(earlierId: string, currentId: string): boolean {
    return earlierId !== currentId && this.catalogue.countToEmbed(currentId) > 0 &&
      this.catalogue.countEmbeddings(earlierId) > this.catalogue.countEmbeddings(currentId);
  }

  /**
   * Makes a model current (registering it); dir is where its ONNX files are, when known. Search stays on the
   * model it used (see searchModel) when that one has more vectors than the new one: switching never leaves
   * search with nothing, and switching back to it costs nothing.
   */
  useModel(model: ModelRecord, dir: string | null): void {
    // IMMEDIATE: it reads before it writes, and a deferred transaction that does so fails at once (SQLITE_BUSY,
    // no wait) when another process wrote meanwhile, e.g. a second `index` opening the catalogue.
    this.catalogue.db.transaction(() => {
      const searched = this.searchModel;
      if (searched?.dir) this.catalogue.rememberModelDir(searched.id, searched.dir);
      this.catalogue.registerModel(model);
      this.catalogue.setSetting(MODEL_ID, model.id);
      this.catalogue.setSetting(MODEL_DIR, dir);
      const keepSearching = searched !== null && this.outranks(searched.id, model.id);
      this.catalogue.setSetting(SEARCH_MODEL_ID, keepSearching ? searched.id : null);
    }).immediate();
  }

  /** Search stops using an earlier model (its files are gone): it reads the current model's vectors. */
  stopSearchingEarlierModel(): void {
    this.catalogue.setSetting(SEARCH_MODEL_ID, null);
  }

  close(): void {
    this.catalogue.close();
  }
}
