// The vector index of one (library, model): loaded from disk when it is there and matches, else built
// from the catalogue, then reconciled with the catalogue (the truth) and saved again when it changed.
// FAISS runs in a worker thread (VectorSearchService), so none of this blocks the caller's event loop.
import path from 'node:path';
import type { Library } from '../library.js';
import { VectorSearchService } from '../vector/search-worker.js';
import { reconcileIndex } from '../vector/reconcile.js';
import { modelFolderName } from '../service/model-manager.js';

export interface ScoredPhoto {
  photoId: number;
  score: number;
}

export interface VectorStore {
  readonly modelId: string;
  /** Searchable photos. */
  readonly size: number;
  /** Catches up with the catalogue (new, changed and removed photos) and saves if anything changed. */
  sync(): Promise<void>;
  search(query: Float32Array, k: number): Promise<ScoredPhoto[]>;
  close(): Promise<void>;
}

export function vectorIndexDir(library: Library, modelId: string): string {
  return path.join(library.paths.vectorIndex, modelFolderName(modelId));
}

class WorkerVectorStore implements VectorStore {
  size = 0;

  constructor(
    private readonly library: Library,
    readonly modelId: string,
    private readonly dim: number,
    private readonly service: VectorSearchService,
    private readonly dir: string,
  ) {}

  async open(): Promise<void> {
    let info = await this.service.load(this.dir, { modelId: this.modelId, dim: this.dim }).catch(() => null);
    if (!info || info.rebuildReason) info = await this.rebuild();
    this.size = info.size;
    await this.sync(info.lastEmbeddingId);
  }

  async sync(lastEmbeddingId?: number): Promise<void> {
    const since = lastEmbeddingId ?? (await this.service.info())?.lastEmbeddingId ?? 0;
    const result = await reconcileIndex(this.service, this.library.catalogue, this.modelId, since);
    let info = await this.service.info();
    if (info?.rebuildReason) info = await this.rebuild();
    else if (result.added + result.removed + result.restored > 0) await this.service.save(this.dir);
    this.size = info?.size ?? 0;
  }

  private async rebuild() {
    const info = await this.service.build(this.library.catalogue.iterateEmbeddings(this.modelId, 0), {
      modelId: this.modelId,
      dim: this.dim,
      workDir: this.library.paths.dir,
    });
    await this.service.save(this.dir);
    return info;
  }

  async search(query: Float32Array, k: number): Promise<ScoredPhoto[]> {
    if (this.size === 0 || k < 1) return [];
    return this.service.search(query, Math.min(k, this.size));
  }

  close(): Promise<void> {
    return this.service.close();
  }
}

export async function openVectorStore(library: Library, modelId: string, dim: number): Promise<VectorStore> {
  const service = VectorSearchService.start();
  const store = new WorkerVectorStore(library, modelId, dim, service, vectorIndexDir(library, modelId));
  try {
    await store.open();
  } catch (error) {
    await service.close();
    throw error;
  }
  return store;
}
