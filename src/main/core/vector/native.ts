// Loads faiss-node (a CommonJS native addon) from ESM and narrows its API to what this module uses.
// Everything that calls into it lives behind vector-index.ts, which validates inputs first: faiss-node
// lets several misuses reach FAISS assertions that abort the whole process (see ../shared/PLATFORM.md).
import { createRequire } from 'node:module';
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

export function faiss(): FaissModule {
  if (cached) return cached;
  try {
    cached = createRequire(import.meta.url)('faiss-node') as FaissModule;
  } catch (err) {
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
