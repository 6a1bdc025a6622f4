// VectorSearchService: the vector index behind a worker thread. FAISS calls are synchronous and take
// tens of milliseconds (a search) to minutes (a build); running them in a worker keeps the caller's
// event loop (Electron's main process, the HTTP server) responsive. Typed arrays cross the thread
// boundary as bytes, never as JSON arrays; build batches are transferred (zero-copy) by default.
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { BuildProgress, VectorBatch, VectorSource } from './build-index.js';
import { VectorIndexError } from './errors.js';
import type { IndexManifest, LoadExpectations } from './index-store.js';
import { claimFaiss, FAISS_OWNER_ENV, faissOwner } from './native.js';
import type { IndexInfo, SearchHit } from './vector-index.js';
import type { WireSearchResult, WorkerBuildOptions, WorkerMessage, WorkerRequest } from './worker-protocol.js';

export type { IndexInfo, SearchHit } from './vector-index.js';

export interface ServiceBuildOptions extends WorkerBuildOptions {
  onProgress?: (progress: BuildProgress) => void;
  /**
   * Hand each batch's buffers to the worker instead of copying them (default true): cheaper, but the
   * caller's arrays are detached (empty) afterwards. Set false if the source reuses its arrays.
   */
  transferBatches?: boolean;
}

export interface ServiceSearchOptions {
  exclude?: ArrayLike<number>;
  /** Restrict results to these photo ids (a filter evaluated in the worker). */
  allow?: ArrayLike<number>;
  maxCandidates?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** The buffer of a typed array to transfer: the array itself if it spans its whole buffer, else a copy. */
function transferable<T extends Uint32Array | Float32Array | Float64Array>(a: T): T {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer ? a : (a.slice() as T);
}

export class VectorSearchService {
  private nextId = 1;
  private nextBuildId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly progress = new Map<number, (p: BuildProgress) => void>();
  private failure: Error | null = null;

  private readonly threadId: number;

  private constructor(private readonly worker: Worker) {
    this.threadId = worker.threadId;
    worker.on('message', (m: WorkerMessage) => this.onMessage(m));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      this.releaseFaiss();
      this.fail(new VectorIndexError(`the vector search worker exited (code ${code})`));
    });
  }

  /**
   * Starts the worker thread. The worker script is resolved next to this file (works from dist/).
   * One service per process, and no direct VectorIndex use in other threads meanwhile: faiss-node can
   * serve only one thread per process (see native.ts).
   */
  static start(opts: { workerUrl?: URL } = {}): VectorSearchService {
    const owner = faissOwner();
    if (owner !== undefined) {
      throw new VectorIndexError(`FAISS is already in use by thread ${owner} of this process: faiss-node can serve only one thread per process`);
    }
    const url = opts.workerUrl ?? new URL('./vector-worker.js', import.meta.url);
    const worker = new Worker(url, { env: SHARE_ENV });
    // Claimed now, not when the worker first loads the addon, so that a second start() fails at once.
    claimFaiss(worker.threadId);
    return new VectorSearchService(worker);
  }

  /** Loads a saved index (replacing the current one). Throws VectorIndexError if missing or damaged. */
  async load(dir: string, expect: LoadExpectations = {}): Promise<IndexInfo> {
    return (await this.call({ op: 'load', dir, expect })) as IndexInfo;
  }

  /** Starts an empty exact index (replacing the current one). */
  async create(modelId: string, dim: number): Promise<IndexInfo> {
    return (await this.call({ op: 'create', modelId, dim })) as IndexInfo;
  }

  /**
   * Builds a new index from the source and then swaps it in; the current index keeps answering
   * searches meanwhile. Batches are sent one at a time (back-pressure: memory stays bounded).
   */
  async build(source: VectorSource, options: ServiceBuildOptions): Promise<IndexInfo> {
    const { onProgress, transferBatches = true, ...workerOptions } = options;
    const buildId = this.nextBuildId++;
    if (onProgress) this.progress.set(buildId, onProgress);
    try {
      await this.call({ op: 'buildBegin', buildId, options: workerOptions });
      try {
        for await (const batch of source as AsyncIterable<VectorBatch>) {
          if (!(batch?.photoIds instanceof Uint32Array) || !(batch.vectors instanceof Float32Array)) {
            throw new VectorIndexError('each batch needs photoIds: Uint32Array and vectors: Float32Array');
          }
          const photoIds = transferBatches ? transferable(batch.photoIds) : batch.photoIds;
          const vectors = transferBatches ? transferable(batch.vectors) : batch.vectors;
          const embeddingIds = batch.embeddingIds ? Float64Array.from(batch.embeddingIds) : undefined;
          const transfer = transferBatches ? [photoIds.buffer as ArrayBuffer, vectors.buffer as ArrayBuffer] : [];
          await this.call({ op: 'buildBatch', buildId, photoIds, vectors, embeddingIds }, transfer);
        }
      } catch (err) {
        await this.call({ op: 'buildAbort', buildId, reason: (err as Error).message }).catch(() => undefined);
        throw err;
      }
      return (await this.call({ op: 'buildEnd', buildId })) as IndexInfo;
    } finally {
      this.progress.delete(buildId);
    }
  }

  /** Adds (or supersedes) vectors. The arrays are copied unless `transfer` is set. */
  async add(photoIds: Uint32Array, vectors: Float32Array, opts: { lastEmbeddingId?: number; transfer?: boolean } = {}): Promise<IndexInfo> {
    const ids = opts.transfer ? transferable(photoIds) : photoIds;
    const vecs = opts.transfer ? transferable(vectors) : vectors;
    const transfer = opts.transfer ? [ids.buffer as ArrayBuffer, vecs.buffer as ArrayBuffer] : [];
    return (await this.call({ op: 'add', photoIds: ids, vectors: vecs, lastEmbeddingId: opts.lastEmbeddingId }, transfer)) as IndexInfo;
  }

  async markRemoved(photoIds: ArrayLike<number>): Promise<number> {
    return (await this.call({ op: 'markRemoved', photoIds: Uint32Array.from(photoIds) })) as number;
  }

  async search(query: Float32Array, k: number, opts: ServiceSearchOptions = {}): Promise<SearchHit[]> {
    if (!(query instanceof Float32Array)) throw new VectorIndexError('query must be a Float32Array');
    const wire = (await this.call({
      op: 'search',
      query,
      k,
      exclude: opts.exclude ? Uint32Array.from(opts.exclude) : undefined,
      allow: opts.allow ? Uint32Array.from(opts.allow) : undefined,
      maxCandidates: opts.maxCandidates,
    })) as WireSearchResult;
    const hits: SearchHit[] = new Array(wire.photoIds.length);
    for (let i = 0; i < hits.length; i++) hits[i] = { photoId: wire.photoIds[i], score: wire.scores[i] };
    return hits;
  }

  async setNprobe(nprobe: number, scratchDir?: string): Promise<IndexInfo> {
    return (await this.call({ op: 'setNprobe', nprobe, scratchDir })) as IndexInfo;
  }

  async save(dir: string): Promise<IndexManifest> {
    return (await this.call({ op: 'save', dir })) as IndexManifest;
  }

  /** Null when no index is loaded. */
  async info(): Promise<IndexInfo | null> {
    return (await this.call({ op: 'info' })) as IndexInfo | null;
  }

  async photoIds(): Promise<Uint32Array> {
    return (await this.call({ op: 'photoIds' })) as Uint32Array;
  }

  /** Drops the index (its memory is released) but keeps the worker. */
  async unload(): Promise<void> {
    await this.call({ op: 'unload' });
  }

  /** Stops the worker; all native memory goes with it. */
  async close(): Promise<void> {
    if (this.failure) return;
    this.failure = new VectorIndexError('the vector search service is closed');
    await this.worker.terminate();
    this.releaseFaiss();
    this.rejectAll(this.failure);
  }

  private releaseFaiss(): void {
    if (faissOwner() === String(this.threadId)) delete process.env[FAISS_OWNER_ENV];
  }

  private call(req: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, req }, transfer);
    });
  }

  private onMessage(m: WorkerMessage): void {
    if (m.kind === 'progress') {
      this.progress.get(m.buildId)?.(m.progress);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else {
      const err = m.error.name === 'VectorIndexError' ? new VectorIndexError(m.error.message) : new Error(m.error.message);
      p.reject(err);
    }
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    this.rejectAll(err);
  }

  private rejectAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
