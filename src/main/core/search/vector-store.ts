// The vector index of one (library, model): loaded from disk when it is there and matches, else built
// from the catalogue, then reconciled with the catalogue (the truth) and saved again when it changed.
// FAISS runs in a worker thread (VectorSearchService), so none of this blocks the caller's event loop.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Library } from '../library.js';
import { VectorSearchService } from '../vector/search-worker.js';
import { addNewEmbeddings, reconcileIndex } from '../vector/reconcile.js';
import { buildFromCatalogue } from '../vector/build-from-catalogue.js';
import { isNoSpaceError } from '../vector/disk.js';
import { modelFolderName } from '../service/model-manager.js';
import { JobCancelledError, startChildJob, type ChildJob } from '../jobs/child-job.js';
import type { RebuildArgs } from '../vector/rebuild-process.js';
import type { IndexInfo } from '../vector/vector-index.js';

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
  /**
   * Adds the vectors stored since the last catch-up (another process's run) without saving, falling back
   * to sync() when the catalogue's counters show photos also went or came back. Returns the photos added.
   */
  catchUp(): Promise<number>;
  search(query: Float32Array, k: number): Promise<ScoredPhoto[]>;
  /** Settles when no background rebuild is running (at once when none is). */
  whenRebuilt(): Promise<void>;
  close(): Promise<void>;
}

/** Range reads a catch-up tries before it falls back to the full reconcile (a writer may commit meanwhile). */
const CATCH_UP_READS = 3;

function warnNotSaved(error: Error): void {
  console.warn(`vector index not saved (searching from memory): ${error.message}`);
}

const REBUILD_ENTRY = fileURLToPath(new URL('../vector/rebuild-process.js', import.meta.url));

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

  private rebuilding: { job: ChildJob<IndexInfo>; done: Promise<void> } | null = null;

  async open(): Promise<void> {
    // With no usable index there is nothing to answer from meanwhile: build it here, once.
    let info = await this.service.load(this.dir, { modelId: this.modelId, dim: this.dim }).catch(() => null);
    if (!info) {
      info = await buildFromCatalogue(this.service, this.library, this.modelId, this.dim, this.dir).catch(async (error: unknown) => {
        // Built but not saved for lack of space: search from memory all the same (built again next time).
        const built = isNoSpaceError(error) ? await this.service.info() : null;
        if (!built) throw error;
        warnNotSaved(error as Error);
        return built;
      });
    }
    this.size = info.size;
    await this.sync(info.lastEmbeddingId);
  }

  /** Vectors added by catchUp() and not saved yet: the next sync() saves them. */
  private unsaved = false;

  async sync(lastEmbeddingId?: number): Promise<void> {
    const since = lastEmbeddingId ?? (await this.service.info())?.lastEmbeddingId ?? 0;
    const result = await reconcileIndex(this.service, this.library.catalogue, this.modelId, since);
    const info = await this.service.info();
    this.size = info?.size ?? 0;
    if (info?.rebuildReason) this.startRebuild();
    // While a rebuild runs, its generation is the next one on disk: saving this one would hide it.
    else if (!this.rebuilding && (this.unsaved || result.added + result.removed + result.restored > 0)) {
      await this.saveUnlessFull();
      this.unsaved = false;
    }
  }

  async catchUp(): Promise<number> {
    // Cheap at any library size: a range read of what is new, and a counter. The full reconcile (every embedded
    // photo id: 0.8-2 s at 624k, a third of it on the event loop) runs only when the counts disagree.
    let added = 0;
    for (let read = 0; read < CATCH_UP_READS; read++) {
      const info = await this.service.info();
      if (!info) return added;
      added += (await addNewEmbeddings(this.service, this.library.catalogue, this.modelId, info.lastEmbeddingId)).added;
      const after = await this.service.info();
      this.size = after?.size ?? 0;
      if (added > 0) this.unsaved = true;
      const stored = this.library.catalogue.countEmbeddings(this.modelId);
      if (this.size === stored) {
        if (after?.rebuildReason) this.startRebuild();
        return added;
      }
      // More stored than held: the writer committed again meanwhile (read on), or photos came back. Fewer:
      // photos went. Either of the last two needs the full reconcile.
      if (this.size > stored) break;
    }
    await this.sync();
    return added;
  }

  /** Saves the caught-up index; on a full disk the index in memory still answers, and the next open catches up again. */
  private async saveUnlessFull(): Promise<void> {
    try {
      await this.service.save(this.dir);
    } catch (error) {
      if (!isNoSpaceError(error)) throw error;
      warnNotSaved(error as Error);
    }
  }

  whenRebuilt(): Promise<void> {
    return this.rebuilding?.done ?? Promise.resolve();
  }

  /**
   * Rebuilds in a child process while this index keeps answering, then loads the new generation and catches
   * it up with what was embedded meanwhile. A failed rebuild leaves the current index in place.
   */
  private startRebuild(): void {
    if (this.rebuilding) return;
    const args: RebuildArgs = { libraryDir: this.library.paths.dir, modelId: this.modelId, dim: this.dim, indexDir: this.dir };
    const job = startChildJob<RebuildArgs, never, IndexInfo>(REBUILD_ENTRY, args);
    const done = job.result.then(async () => {
      if (this.closed) return;
      const info = await this.service.load(this.dir, { modelId: this.modelId, dim: this.dim });
      this.size = info.size;
      const caughtUp = await reconcileIndex(this.service, this.library.catalogue, this.modelId, info.lastEmbeddingId);
      this.size = (await this.service.info())?.size ?? this.size;
      if (caughtUp.added + caughtUp.removed + caughtUp.restored > 0) await this.saveUnlessFull();
    }).catch((error: Error) => {
      if (!(error instanceof JobCancelledError)) console.error(`vector index rebuild failed: ${error.message}`);
    }).finally(() => {
      this.rebuilding = null;
    });
    this.rebuilding = { job, done };
  }

  async search(query: Float32Array, k: number): Promise<ScoredPhoto[]> {
    if (this.size === 0 || k < 1) return [];
    return this.service.search(query, Math.min(k, this.size));
  }

  private closed = false;

  async close(): Promise<void> {
    this.closed = true;
    const rebuilding = this.rebuilding;
    if (rebuilding) {
      rebuilding.job.cancel();
      await rebuilding.done;
    }
    await this.service.close();
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
