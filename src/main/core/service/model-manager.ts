// Which CLIP model a library uses, and getting one: a folder the user points to, or the default model
// downloaded into the models folder.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModelStatus, ModelSwitchPreview } from '../../../shared/types.js';
import type { ModelCandidate } from '../catalogue/catalogue.js';
import { lastIndexingSpeed } from '../embed/indexing-speed.js';
import type { Library } from '../library.js';
import { loadModelFolder, type ModelFolder } from '../model/model-folder.js';
import { imageTowerFingerprint } from '../model/model-fingerprint.js';
import { downloadModel, modelDirName } from '../model/download.js';
import { isTextTowerFor } from '../search/text-towers.js';

export const DEFAULT_MODEL_ID = 'immich-app/ViT-B-32__openai';

/** Settings keys of image tower fingerprints, by their files' state (imageTowerFingerprint's cache). */
const FINGERPRINT_SETTING = 'fingerprint:';

/** Folder name of a hub model inside the models folder ("owner/name" → "owner__name"). */
export const modelFolderName = modelDirName;

/**
 * Loads a model folder and names its vector space in the catalogue by content (resolveModel): the folder's
 * modelId is the id its vectors are stored under, which is `name` (default: the folder's name) unless other
 * weights already hold that name, or these weights already have vectors under another name.
 */
export async function identifyModelFolder(library: Library, dir: string, name?: string): Promise<ModelFolder> {
  const { folder, candidate } = await modelCandidate(library, dir, name);
  return { ...folder, modelId: library.catalogue.resolveModel(candidate).id };
}

async function modelCandidate(library: Library, dir: string, name?: string): Promise<{ folder: ModelFolder; candidate: ModelCandidate }> {
  const folder = await loadModelFolder(dir, name);
  const contentHash = await imageTowerFingerprint(folder.visualModelPath, {
    get: (key) => library.catalogue.getSetting(`${FINGERPRINT_SETTING}${key}`),
    set: (key, fingerprint) => library.catalogue.setSetting(`${FINGERPRINT_SETTING}${key}`, fingerprint),
  });
  return {
    folder,
    candidate: { name: folder.modelId, dim: folder.dim, preprocessVersion: folder.preprocessVersion, contentHash, dir: folder.dir },
  };
}

/** What making a model folder current would cost (see ModelSwitchPreview); changes nothing. */
export async function previewModelFolder(library: Library, dir: string): Promise<ModelSwitchPreview> {
  const { candidate } = await modelCandidate(library, dir);
  const { id } = library.catalogue.findModel(candidate);
  const current = library.currentModel;
  const photosToEmbed = library.catalogue.countToEmbed(id);
  const speed = lastIndexingSpeed(library.catalogue);
  return {
    modelId: id,
    isCurrent: current?.id === id,
    photosToEmbed,
    photosPerSecond: speed?.photosPerSecond ?? null,
    speedModelId: speed?.modelId ?? null,
    estimatedSeconds: speed ? photosToEmbed / speed.photosPerSecond : null,
    searchKeeps: library.searchModelAfterSwitch(id),
  };
}

/** Makes a model folder the library's current model (identifyModelFolder names it). */
export async function useModelFolder(library: Library, dir: string, name?: string): Promise<ModelFolder> {
  const folder = await identifyModelFolder(library, dir, name);
  library.useModel({ id: folder.modelId, dim: folder.dim, preprocessVersion: folder.preprocessVersion }, folder.dir);
  return folder;
}

/** A model id already present in the models folder (downloaded earlier), else null. */
export function downloadedModelDir(modelsDir: string, modelId: string): string | null {
  const dir = path.join(modelsDir, modelFolderName(modelId));
  return existsSync(path.join(dir, 'config.json')) ? dir : null;
}

export class ModelManager {
  status: ModelStatus = { state: 'missing', modelId: null, dir: null };
  private folder: ModelFolder | null = null;
  /** The earlier model search still reads (searchFolder), loaded once. */
  private earlier: ModelFolder | null = null;
  private abort: AbortController | null = null;

  constructor(
    private readonly library: Library,
    private readonly modelsDir: string,
    private readonly onStatus: (status: ModelStatus) => void,
  ) {}

  readyFolder(): ModelFolder | null {
    return this.folder;
  }

  /**
   * The folder whose text tower reads search's vectors (Library.searchModel): the current model's, or the
   * earlier model's while the current one is still embedding; null while that one is not loaded.
   */
  searchFolder(): ModelFolder | null {
    const searched = this.library.searchModel;
    if (!searched || searched.id === this.folder?.modelId) return this.folder;
    return this.earlier?.modelId === searched.id ? this.earlier : null;
  }

  /** Loads the earlier model search goes on reading; one whose files are gone no longer answers. */
  private async loadEarlier(): Promise<void> {
    const searched = this.library.searchModel;
    if (!searched || searched.id === this.folder?.modelId) {
      this.earlier = null;
      return;
    }
    if (this.earlier?.modelId === searched.id) return;
    try {
      if (!searched.dir) throw new Error('where its files are is not known');
      this.earlier = await loadModelFolder(searched.dir, searched.id);
    } catch {
      this.earlier = null;
      this.library.stopSearchingEarlierModel();
    }
  }

  /** Finds a usable model: the library's current one, else the default model if it was downloaded. */
  async refresh(): Promise<ModelStatus> {
    const current = this.library.currentModel;
    const candidates: [string, string | undefined][] = [];
    if (current?.dir) candidates.push([current.dir, current.id]);
    const fallback = downloadedModelDir(this.modelsDir, current?.id ?? DEFAULT_MODEL_ID);
    if (fallback) candidates.push([fallback, current?.id ?? DEFAULT_MODEL_ID]);
    for (const [dir, id] of candidates) {
      try {
        await this.setReady(await useModelFolder(this.library, dir, id));
        return this.status;
      } catch (error) {
        this.setStatus({ state: 'error', modelId: id ?? null, dir, error: (error as Error).message });
      }
    }
    if (candidates.length === 0) this.setStatus({ state: 'missing', modelId: current?.id ?? null, dir: null });
    return this.status;
  }

  async useFolder(dir: string): Promise<ModelStatus> {
    try {
      await this.setReady(await useModelFolder(this.library, dir));
    } catch (error) {
      this.setStatus({ state: 'error', modelId: null, dir, error: (error as Error).message });
    }
    return this.status;
  }

  async download(modelId: string | null): Promise<void> {
    if (this.abort) return; // one download at a time
    const id = modelId ?? DEFAULT_MODEL_ID;
    const current = this.library.currentModel;
    if (current && this.folder && isTextTowerFor(id, current.id)) return this.downloadTextTower(id, this.folder);
    this.abort = new AbortController();
    this.setStatus({ state: 'downloading', modelId: id, dir: null, progress: { file: '', receivedBytes: 0, totalBytes: 0 } });
    try {
      const dir = await downloadModel(id, {
        modelsDir: this.modelsDir,
        signal: this.abort.signal,
        onProgress: (p) => this.setStatus({
          state: 'downloading', modelId: id, dir: null,
          progress: { file: p.file, receivedBytes: p.overallReceivedBytes, totalBytes: p.overallTotalBytes },
        }),
      });
      await this.setReady(await useModelFolder(this.library, dir, id));
    } catch (error) {
      this.setStatus({ state: 'error', modelId: id, dir: null, error: (error as Error).message });
      throw error;
    } finally {
      this.abort = null;
    }
  }

  /**
   * A text tower for the library's vectors (the multilingual one): downloaded beside the model, which stays
   * ready and current meanwhile (English search goes on) and after; search picks the tower up from the models
   * folder for the queries it reads. A failure is reported on `textModel` and leaves the model ready.
   */
  private async downloadTextTower(id: string, folder: ModelFolder): Promise<void> {
    this.abort = new AbortController();
    const report = (textModel: NonNullable<ModelStatus['textModel']>): void =>
      this.setStatus({ state: 'ready', modelId: folder.modelId, dir: folder.dir, textModel });
    report({ modelId: id, state: 'downloading', progress: { file: '', receivedBytes: 0, totalBytes: 0 } });
    try {
      const dir = await downloadModel(id, {
        modelsDir: this.modelsDir,
        signal: this.abort.signal,
        onProgress: (p) => report({
          modelId: id, state: 'downloading', progress: { file: p.file, receivedBytes: p.overallReceivedBytes, totalBytes: p.overallTotalBytes },
        }),
      });
      await loadModelFolder(dir, id);
      report({ modelId: id, state: 'ready' });
    } catch (error) {
      report({ modelId: id, state: 'error', error: (error as Error).message });
      throw error;
    } finally {
      this.abort = null;
    }
  }

  cancelDownload(): void {
    this.abort?.abort();
  }

  private async setReady(folder: ModelFolder): Promise<void> {
    this.folder = folder;
    await this.loadEarlier();
    this.setStatus({ state: 'ready', modelId: folder.modelId, dir: folder.dir });
  }

  private setStatus(status: ModelStatus): void {
    this.status = status;
    this.onStatus(status);
  }
}
