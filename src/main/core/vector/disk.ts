// faiss-node's write() does not catch FAISS's I/O exceptions, so a failed write (missing folder, no
// permission, disk full) aborts the process. Writes are therefore preceded by these checks.
import { accessSync, constants, statfsSync } from 'node:fs';
import { VectorIndexError } from './errors.js';
import type { IndexKind } from './index-policy.js';

/** Upper estimate of a serialised index's size. */
export function estimateIndexBytes(kind: IndexKind, rows: number, dim: number, nlist: number): number {
  if (kind === 'flat') return 64 + rows * dim * 4;
  // IVF,SQfp16: 2 bytes a value + an 8-byte id per row, the centroids, per-list sizes, headers.
  return 4096 + rows * (dim * 2 + 8) + nlist * (dim * 4 + 8) + dim * 8;
}

export function assertWritableDir(dir: string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new VectorIndexError(`cannot write the vector index to ${dir}: ${(err as Error).message}`);
  }
}

export function assertFreeSpace(dir: string, bytes: number): void {
  assertWritableDir(dir);
  let free: number;
  try {
    const s = statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    return; // cannot tell: let the write try
  }
  const needed = Math.ceil(bytes * 1.05) + 16 * 1024 * 1024;
  if (free < needed) {
    throw new VectorIndexError(`not enough disk space in ${dir} for the vector index: ${(needed / 1e6).toFixed(0)} MB needed, ${(free / 1e6).toFixed(0)} MB free`);
  }
}
