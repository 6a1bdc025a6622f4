// Small numeric helpers shared by the index, its build pipeline and callers that score a few thousand
// vectors exactly (e.g. a search restricted by a selective filter, where an approximate index would
// return too few survivors).
import { VectorIndexError } from './errors.js';

/**
 * Copies `count` rows of `dim` floats from `src` into `dst`, scaled to unit length, checking that every
 * value is finite and no row is zero. `label(i)` names row i in errors.
 */
export function normaliseRowsInto(src: Float32Array, dst: Float32Array, dim: number, label: (row: number) => string): void {
  const count = src.length / dim;
  for (let r = 0; r < count; r++) {
    const o = r * dim;
    let sum = 0;
    for (let j = 0; j < dim; j++) sum += src[o + j] * src[o + j];
    if (!Number.isFinite(sum)) throw new VectorIndexError(`${label(r)} contains a NaN or infinite value`);
    if (sum === 0) throw new VectorIndexError(`${label(r)} is all zeros`);
    const inv = 1 / Math.sqrt(sum);
    for (let j = 0; j < dim; j++) dst[o + j] = src[o + j] * inv;
  }
}

export function assertVectorBatch(photoIds: Uint32Array, vectors: Float32Array, dim: number): void {
  if (!(photoIds instanceof Uint32Array)) throw new VectorIndexError('photoIds must be a Uint32Array');
  if (!(vectors instanceof Float32Array)) throw new VectorIndexError('vectors must be a Float32Array');
  if (vectors.length !== photoIds.length * dim) {
    throw new VectorIndexError(
      `vectors hold ${vectors.length} values, expected ${photoIds.length} × ${dim} = ${photoIds.length * dim} ` +
        `(dimension mismatch: this index holds ${dim}-d vectors)`,
    );
  }
}

/** Plain number[] copy, the only input faiss-node accepts. */
export function toNumbers(values: Float32Array): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

export interface ScoredId {
  photoId: number;
  score: number;
}

/**
 * Exact top-k by inner product over row-major `vectors` (ids[i] owns row i), best first. Ties keep the
 * lower row first. O(n·dim) in JS: fine for tens of thousands of rows.
 */
export function bruteForceTopK(query: Float32Array, vectors: Float32Array, ids: ArrayLike<number>, k: number): ScoredId[] {
  const dim = query.length;
  if (vectors.length !== ids.length * dim) throw new VectorIndexError('bruteForceTopK: vectors and ids disagree in length');
  const n = ids.length;
  const limit = Math.min(k, n);
  if (limit <= 0) return [];
  // Keep a small sorted window: k is small compared with n.
  const topScores: number[] = [];
  const topRows: number[] = [];
  for (let r = 0; r < n; r++) {
    const o = r * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += query[j] * vectors[o + j];
    if (topScores.length === limit && s <= topScores[limit - 1]) continue;
    let pos = topScores.length;
    while (pos > 0 && topScores[pos - 1] < s) pos--;
    topScores.splice(pos, 0, s);
    topRows.splice(pos, 0, r);
    if (topScores.length > limit) {
      topScores.pop();
      topRows.pop();
    }
  }
  return topRows.map((r, i) => ({ photoId: ids[r], score: topScores[i] }));
}
