// Small numeric helpers shared by the index, its build pipeline and callers that score a few thousand
// vectors exactly (e.g. a search restricted by a selective filter, where an approximate index would
// return too few survivors); also the app's one L2 normalisation and one Float32Array → number[] copy.
// Pure: the model, recipe, duplicates and search code import it without pulling in FAISS.
import { VectorIndexError } from './errors.js';

/** The sum of the squares of `values[start, end)`, accumulated in double precision in index order. */
export function sumOfSquares(values: Float32Array, start = 0, end = values.length): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += values[i] * values[i];
  return sum;
}

/**
 * L2 normalisation, the one copy: scales each `dim`-value row of `src` to unit length into `dst` (which may be
 * `src`), every value times 1/√(its row's sum of squares). `check(row, sum)` sees each row's sum of squares
 * first: it may throw, or return false to leave that row as it is (copied when `dst` is not `src`).
 */
export function scaleRowsToUnit(
  src: Float32Array, dst: Float32Array, dim: number, check?: (row: number, sumOfSquares: number) => boolean,
): void {
  const count = src.length / dim;
  for (let r = 0; r < count; r++) {
    const o = r * dim;
    const sum = sumOfSquares(src, o, o + dim);
    if (check && !check(r, sum)) {
      if (dst !== src) dst.set(src.subarray(o, o + dim), o);
      continue;
    }
    const inv = 1 / Math.sqrt(sum);
    for (let j = 0; j < dim; j++) dst[o + j] = src[o + j] * inv;
  }
}

/**
 * Copies `count` rows of `dim` floats from `src` into `dst`, scaled to unit length, checking that every
 * value is finite and no row is zero. `label(i)` names row i in errors.
 */
export function normaliseRowsInto(src: Float32Array, dst: Float32Array, dim: number, label: (row: number) => string): void {
  scaleRowsToUnit(src, dst, dim, (r, sum) => {
    if (!Number.isFinite(sum)) throw new VectorIndexError(`${label(r)} contains a NaN or infinite value`);
    if (sum === 0) throw new VectorIndexError(`${label(r)} is all zeros`);
    return true;
  });
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

/**
 * Plain number[] copy, the only input faiss-node accepts (the one Float32Array → number[] conversion; a
 * preallocated loop is about twice as fast as Array.from here).
 */
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
