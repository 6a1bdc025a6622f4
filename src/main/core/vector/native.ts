// Loads faiss-node (a CommonJS native addon) from ESM and narrows its API to what this module uses.
// Everything that calls into it lives behind vector-index.ts, which validates inputs first: faiss-node
// lets several misuses reach FAISS assertions that abort the whole process (see ../shared/PLATFORM.md).
import { createRequire } from 'node:module';
import { threadId } from 'node:worker_threads';
import type { Index as FaissIndex } from 'faiss-node';
import { VectorIndexError } from './errors.js';

export type { FaissIndex };

export interface FaissModule {
  Index: {
    read(fname: string): FaissIndex;
    fromFactory(dims: number, descriptor: string, metric?: number): FaissIndex;
  };
  IndexFlatIP: { new (d: number): FaissIndex; read(fname: string): FaissIndex };
}

/** faiss MetricType.METRIC_INNER_PRODUCT: cosine similarity on unit vectors. */
export const METRIC_INNER_PRODUCT = 0;

let cached: FaissModule | null = null;

// faiss-node keeps the JS constructors its static methods (read, fromFactory) instantiate in a
// process-wide C++ static, overwritten by every thread that loads the addon. Once two threads have
// loaded it, one of them calls into the other's V8 isolate and the process dies (V8 fatal error).
// So one thread per process owns FAISS: the owner is recorded in an environment variable, which
// VectorSearchService shares with its worker (SHARE_ENV) and clears when the worker exits.
export const FAISS_OWNER_ENV = 'PHOTO_SEARCH_FAISS_OWNER_THREAD';

/** The thread of this process that owns FAISS (the variable is inherited by child processes: pid-tagged). */
export function faissOwner(): string | undefined {
  const [pid, thread] = (process.env[FAISS_OWNER_ENV] ?? '').split(':');
  return pid === String(process.pid) && thread ? thread : undefined;
}

export function claimFaiss(thread: number): void {
  process.env[FAISS_OWNER_ENV] = `${process.pid}:${thread}`;
}

export function faiss(): FaissModule {
  if (cached) return cached;
  const owner = faissOwner();
  if (owner !== undefined && owner !== String(threadId)) {
    throw new VectorIndexError(
      `FAISS is already in use by thread ${owner} of this process (the vector search worker): ` +
        'faiss-node can serve only one thread per process, so use that VectorSearchService instead',
    );
  }
  claimFaiss(threadId);
  try {
    cached = createRequire(import.meta.url)('faiss-node') as FaissModule;
  } catch (err) {
    delete process.env[FAISS_OWNER_ENV];
    throw new VectorIndexError(
      `the vector search engine (faiss-node) could not be loaded: ${(err as Error).message}. ` +
        'Reinstall the app, or on Linux install libfaiss-dev and run npm rebuild.',
    );
  }
  return cached;
}

// faiss-node frees an index's native memory only when V8 collects its JS wrapper, and since the addon
// does not report that memory to V8, nothing prompts a collection: a dropped 600 MB index can linger
// indefinitely. After dropping a large index we therefore ask for a full collection. `gc` is exposed at
// run time (the flag only affects contexts created afterwards, hence the new context); a failure leaves
// the memory to a later natural collection.
let collect: (() => void) | null | undefined;

export async function releaseDroppedIndexes(): Promise<void> {
  if (collect === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') collect = g;
    else {
      try {
        const { setFlagsFromString } = await import('node:v8');
        const { runInNewContext } = await import('node:vm');
        setFlagsFromString('--expose-gc');
        collect = runInNewContext('gc') as () => void;
      } catch {
        collect = null;
      }
    }
  }
  if (!collect) return;
  collect();
  // Wrapper finalizers may run after the collection that found them: give them a turn, collect again.
  await new Promise((resolve) => setImmediate(resolve));
  collect();
}
