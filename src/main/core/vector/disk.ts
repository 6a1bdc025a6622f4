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

const NO_SPACE = 'not enough disk space';

/** Whether an error (also one relayed from the vector worker, by message) is a refused write for lack of space. */
export function isNoSpaceError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith(NO_SPACE);
}

/**
 * Free space a write of `bytes` asks for: the bytes plus a margin sized to them (5%, at least 256 KiB for
 * the small files written beside them and block rounding). A fixed 16 MB margin made search refuse to
 * run with 19 MB free for a 2 MB index.
 */
export function spaceNeeded(bytes: number): number {
  return Math.ceil(bytes + Math.max(256 * 1024, bytes * 0.05));
}

/** Bytes this process may still write in `dir`'s file system, or null when the system cannot tell. */
export function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export function assertFreeSpace(dir: string, bytes: number): void {
  assertWritableDir(dir);
  const free = freeBytes(dir);
  if (free === null) return; // cannot tell: let the write try
  const needed = spaceNeeded(bytes);
  if (free < needed) {
    throw new VectorIndexError(`${NO_SPACE} in ${dir} for the vector index: ${(needed / 1e6).toFixed(0)} MB needed, ${(free / 1e6).toFixed(0)} MB free`);
  }
}
