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
}

/** faiss MetricType.METRIC_INNER_PRODUCT: cosine similarity on unit vectors. */
export const METRIC_INNER_PRODUCT = 0;

// faiss-node keeps the JS constructors that its static methods (read, fromFactory) instantiate in a
// process-wide C++ static, overwritten every time a thread loads the addon. A static method called in
// thread A after thread B loaded the addon therefore enters B's V8 isolate: the process dies with a V8
// fatal error. Two defences:
//  - re-arm: before every static call, the addon is initialised again for the calling thread
//    (process.dlopen re-runs its init, ~0.15 ms), so other modules that load faiss-node on another
//    thread (and only use `new` and instance methods, which are safe) cannot break this module;
//  - one owner: this module uses FAISS from one thread per process. The owner is recorded in an
//    environment variable (pid-tagged, as child processes inherit it) that VectorSearchService shares
//    with its worker (SHARE_ENV) and clears when the worker exits. Two threads calling statics at the
//    same moment could still race, which the single owner rules out.
export const FAISS_OWNER_ENV = 'PHOTO_SEARCH_FAISS_OWNER_THREAD';

/** The thread of this process that owns FAISS, if any. */
export function faissOwner(): string | undefined {
  const [pid, thread] = (process.env[FAISS_OWNER_ENV] ?? '').split(':');
  return pid === String(process.pid) && thread ? thread : undefined;
}

export function claimFaiss(thread: number): void {
  process.env[FAISS_OWNER_ENV] = `${process.pid}:${thread}`;
}

let addonFile: string | null = null;

function loadAddon(): string {
  const owner = faissOwner();
  if (owner !== undefined && owner !== String(threadId)) {
    throw new VectorIndexError(
      `FAISS is already in use by thread ${owner} of this process (the vector search worker): ` +
        'this module drives faiss-node from one thread per process, so use that VectorSearchService instead',
    );
  }
  const require = createRequire(import.meta.url);
  try {
    require('faiss-node');
  } catch (err) {
    throw new VectorIndexError(
      `the vector search engine (faiss-node) could not be loaded: ${(err as Error).message}. ` +
        'Reinstall the app, or on Linux install libfaiss-dev and run npm rebuild.',
    );
  }
  const file = Object.keys(require.cache).find((k) => /faiss-node\.node$/.test(k));
  if (!file) throw new VectorIndexError('faiss-node loaded but its native addon file was not found');
  claimFaiss(threadId);
  return file;
}

/** faiss-node, initialised for the calling thread: call it afresh before each static method. */
export function faiss(): FaissModule {
  addonFile ??= loadAddon();
  const module = { exports: {} as FaissModule };
  process.dlopen(module, addonFile);
  return module.exports;
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
