// Worker-thread entry: owns the FAISS index so that searches (tens of ms) and builds (minutes) never
// block the caller's event loop. Requests are handled as they arrive; a build runs concurrently with
// them (it yields between chunks) and the new index replaces the current one only when it is complete,
// so searches keep being answered by the old index meanwhile.
import { parentPort } from 'node:worker_threads';
import type { VectorBatch } from './build-index.js';
import { VectorIndexError } from './errors.js';
import { releaseDroppedIndexes } from './native.js';
import { VectorIndex } from './vector-index.js';
import type { WireSearchResult, WorkerMessage, WorkerRequest } from './worker-protocol.js';

if (!parentPort) throw new Error('vector-worker.js must run in a worker thread');
const port = parentPort;

let current: VectorIndex | null = null;

/** Batches posted by the caller, pulled by the build; the caller waits for each pull (back-pressure). */
class BatchQueue implements AsyncIterable<VectorBatch> {
  private items: { batch: VectorBatch; pulled: () => void }[] = [];
  private waiting: ((r: IteratorResult<VectorBatch>) => void) | null = null;
  private ended = false;
  private failure: Error | null = null;

  push(batch: VectorBatch, pulled: () => void): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      pulled();
      resolve({ value: batch, done: false });
    } else this.items.push({ batch, pulled });
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  abort(reason: string): void {
    this.failure = new VectorIndexError(`build cancelled: ${reason}`);
    this.wake();
  }

  private wake(): void {
    if (!this.waiting) return;
    const resolve = this.waiting;
    this.waiting = null;
    resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<VectorBatch> {
    return {
      next: async () => {
        if (this.failure) throw this.failure;
        const item = this.items.shift();
        if (item) {
          item.pulled();
          return { value: item.batch, done: false };
        }
        if (this.ended) return { value: undefined, done: true };
        const result = await new Promise<IteratorResult<VectorBatch>>((resolve) => (this.waiting = resolve));
        if (this.failure) throw this.failure;
        return result;
      },
    };
  }
}

interface Build {
  queue: BatchQueue;
  result: Promise<VectorIndex>;
}
const builds = new Map<number, Build>();

function requireIndex(): VectorIndex {
  if (!current) throw new VectorIndexError('no vector index is loaded: load, create or build one first');
  return current;
}

async function replaceCurrent(next: VectorIndex | null): Promise<void> {
  const dropped = current !== null;
  current = next;
  if (dropped) await releaseDroppedIndexes();
}

async function handle(req: WorkerRequest, reply: (result: unknown, transfer?: ArrayBuffer[]) => void): Promise<void> {
  switch (req.op) {
    case 'load': {
      const prepared = VectorIndex.prepareLoad(req.dir, req.expect); // a bad cache is refused here, keeping the current index
      await replaceCurrent(null); // free the old index before reading the new one: peak memory = one index
      await replaceCurrent(prepared.open());
      return reply(requireIndex().info());
    }
    case 'create':
      await replaceCurrent(VectorIndex.create({ modelId: req.modelId, dim: req.dim }));
      return reply(requireIndex().info());
    case 'buildBegin': {
      if (builds.has(req.buildId)) throw new VectorIndexError(`build ${req.buildId} already started`);
      const queue = new BatchQueue();
      const result = VectorIndex.build(queue, {
        ...req.options,
        onProgress: (progress) => port.postMessage({ kind: 'progress', buildId: req.buildId, progress } satisfies WorkerMessage),
      });
      result.catch(() => undefined); // reported by buildEnd
      builds.set(req.buildId, { queue, result });
      return reply(null);
    }
    case 'buildBatch': {
      const build = builds.get(req.buildId);
      if (!build) throw new VectorIndexError(`no build ${req.buildId} in progress`);
      // Answered when the build takes the batch, or with the build's error if it failed meanwhile.
      await new Promise<void>((resolve, reject) => {
        build.queue.push({ photoIds: req.photoIds, vectors: req.vectors, embeddingIds: req.embeddingIds }, resolve);
        build.result.then(() => reject(new VectorIndexError('the build has already finished')), reject);
      });
      return reply(null);
    }
    case 'buildEnd': {
      const build = builds.get(req.buildId);
      if (!build) throw new VectorIndexError(`no build ${req.buildId} in progress`);
      build.queue.end();
      try {
        await replaceCurrent(await build.result);
      } finally {
        builds.delete(req.buildId);
      }
      return reply(requireIndex().info());
    }
    case 'buildAbort': {
      const build = builds.get(req.buildId);
      builds.delete(req.buildId);
      build?.queue.abort(req.reason);
      await build?.result.catch(() => undefined);
      return reply(null);
    }
    case 'add':
      requireIndex().add(req.photoIds, req.vectors, { lastEmbeddingId: req.lastEmbeddingId });
      return reply(requireIndex().info());
    case 'markRemoved':
      return reply(requireIndex().markRemoved(req.photoIds));
    case 'search': {
      const index = requireIndex();
      const allow = req.allow ? new Set(req.allow) : null;
      const hits = index.search(req.query, req.k, {
        exclude: req.exclude,
        filter: allow ? (id) => allow.has(id) : undefined,
        maxCandidates: req.maxCandidates,
      });
      const wire: WireSearchResult = { photoIds: new Uint32Array(hits.length), scores: new Float32Array(hits.length) };
      hits.forEach((h, i) => {
        wire.photoIds[i] = h.photoId;
        wire.scores[i] = h.score;
      });
      return reply(wire, [wire.photoIds.buffer as ArrayBuffer, wire.scores.buffer as ArrayBuffer]);
    }
    case 'setNprobe':
      await requireIndex().setNprobe(req.nprobe, req.scratchDir);
      return reply(requireIndex().info());
    case 'save':
      return reply(requireIndex().save(req.dir));
    case 'info':
      return reply(current ? current.info() : null);
    case 'photoIds': {
      const ids = requireIndex().photoIds();
      return reply(ids, [ids.buffer as ArrayBuffer]);
    }
    case 'unload':
      await replaceCurrent(null);
      return reply(null);
    default:
      throw new VectorIndexError(`unknown request ${(req as { op: string }).op}`);
  }
}

port.on('message', (message: { id: number; req: WorkerRequest }) => {
  const { id, req } = message;
  const reply = (result: unknown, transfer: ArrayBuffer[] = []) => port.postMessage({ kind: 'reply', id, ok: true, result } satisfies WorkerMessage, transfer);
  handle(req, reply).catch((err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    port.postMessage({ kind: 'reply', id, ok: false, error: { name: e.name, message: e.message } } satisfies WorkerMessage);
  });
});
