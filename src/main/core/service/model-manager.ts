// Which CLIP model a library uses, and getting one: a folder the user points to, or the default model
// downloaded into the models folder.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ModelStatus } from '../../../shared/types.js';
import type { Library } from '../library.js';
import { loadModelFolder, type ModelFolder } from '../model/model-folder.js';
import { downloadModel, modelDirName } from '../model/download.js';
import { isTextTowerFor } from '../search/text-towers.js';

export const DEFAULT_MODEL_ID = 'immich-app/ViT-B-32__openai';

/** Folder name of a hub model inside the models folder ("owner/name" → "owner__name"). */
export const modelFolderName = modelDirName;

/** Makes a model folder the library's current model; the id defaults to the folder's name. */
export async function useModelFolder(library: Library, dir: string, modelId?: string): Promise<ModelFolder> {
  const folder = await loadModelFolder(dir, modelId);
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
  private abort: AbortController | null = null;

  constructor(
    private readonly library: Library,
    private readonly modelsDir: string,
    private readonly onStatus: (status: ModelStatus) => void,
  ) {}

  readyFolder(): ModelFolder | null {
    return this.folder;
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
        this.setReady(await useModelFolder(this.library, dir, id));
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
      this.setReady(await useModelFolder(this.library, dir));
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
      this.setReady(await useModelFolder(this.library, dir, id));
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

  private setReady(folder: ModelFolder): void {
    this.folder = folder;
    this.setStatus({ state: 'ready', modelId: folder.modelId, dir: folder.dir });
  }

  private setStatus(status: ModelStatus): void {
    this.status = status;
    this.onStatus(status);
  }
}
