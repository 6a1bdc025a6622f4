// Messages between VectorSearchService (caller's thread) and vector-worker.ts (the thread owning FAISS).
// Vectors and ids travel as typed arrays (structured clone copies them as bytes, or they are transferred).
import type { BuildOptions, BuildProgress } from './build-index.js';
import type { LoadExpectations } from './index-store.js';

export type WorkerBuildOptions = Omit<BuildOptions, 'onProgress'>;

export type WorkerRequest =
  | { op: 'load'; dir: string; expect: LoadExpectations }
  | { op: 'create'; modelId: string; dim: number }
  | { op: 'buildBegin'; buildId: number; options: WorkerBuildOptions }
  | { op: 'buildBatch'; buildId: number; photoIds: Uint32Array; vectors: Float32Array; embeddingIds?: Float64Array }
  | { op: 'buildEnd'; buildId: number }
  | { op: 'buildAbort'; buildId: number; reason: string }
  | { op: 'add'; photoIds: Uint32Array; vectors: Float32Array; lastEmbeddingId?: number }
  | { op: 'markRemoved'; photoIds: Uint32Array }
  | { op: 'search'; query: Float32Array; k: number; exclude?: Uint32Array; allow?: Uint32Array; maxCandidates?: number }
  | { op: 'setNprobe'; nprobe: number; scratchDir?: string }
  | { op: 'save'; dir: string }
  | { op: 'info' }
  | { op: 'photoIds' }
  | { op: 'unload' };

export type WorkerMessage =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: { name: string; message: string } }
  | { kind: 'progress'; buildId: number; progress: BuildProgress };

export interface WireSearchResult {
  photoIds: Uint32Array;
  scores: Float32Array;
}
