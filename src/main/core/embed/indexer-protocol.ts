// Messages between the app and the background indexer process (plain data: they cross process
// boundaries as structured clones).
import type { IndexingProgress } from '../../../shared/types.js';
import type { IndexingSummary } from './pipeline.js';

export interface IndexerStartRequest {
  type: 'start';
  libraryDir: string;
  modelDir: string;
  /** Id the vectors are stored under; default: the library's current model when its folder is modelDir, else the folder name. */
  modelId?: string;
  batchSize?: number;
  threads?: number;
  /** The parent holds the library's writer lock for this run (the app's IndexingController): do not take it. */
  parentHoldsLock?: boolean;
}

export type IndexerRequest = IndexerStartRequest | { type: 'pause' } | { type: 'resume' } | { type: 'cancel' };

export type IndexerEvent =
  /** Sent once the child listens: requests sent earlier could be lost (nothing queues them for a listener not yet there). */
  | { type: 'ready' }
  | { type: 'progress'; progress: IndexingProgress }
  | { type: 'done'; summary: IndexingSummary }
  | { type: 'error'; message: string };

export function isIndexerRequest(value: unknown): value is IndexerRequest {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  if (m.type === 'pause' || m.type === 'resume' || m.type === 'cancel') return true;
  return m.type === 'start' && typeof m.libraryDir === 'string' && typeof m.modelDir === 'string'
    && (m.modelId === undefined || typeof m.modelId === 'string')
    && (m.batchSize === undefined || (Number.isInteger(m.batchSize) && (m.batchSize as number) > 0))
    && (m.threads === undefined || (Number.isInteger(m.threads) && (m.threads as number) > 0))
    && (m.parentHoldsLock === undefined || typeof m.parentHoldsLock === 'boolean');
}
