// A compact in-memory copy of every vector (8 bits per value, a scale per dimension) to shortlist a
// filtered search. Scoring a filter's matches exactly needs their vectors, and reading them from SQLite
// costs ~4 µs each (370 ms for 63k matches at 624k photos); scoring the 8-bit copies costs well under
// 1 µs. The shortlist (several times the results asked for) is then scored exactly from the catalogue,
// so the answer is exact unless a rounding error of ~1e-3 moves a photo across a gap of several hundred
// places. 512 bytes per photo: 320 MB at 624k, built (in a worker thread) on the first large filtered
// search, not at start.
import { Worker } from 'node:worker_threads';
import type { Catalogue, EmbeddingBatch } from '../catalogue/catalogue.js';
import { sumOfSquares } from '../vector/vector-math.js';

/** Rows read from the catalogue per step (catching up: between turns of the event loop). */
const BUILD_BATCH = 4096;
/** Matches scored per step, between turns of the event loop. */
const SCORE_STEP = 32_768;

/** A sketch's arrays, as the building worker hands them over (transferred, not copied). */
export interface SketchParts {
  modelId: string;
  dim: number;
  scale: Float32Array;
  codes: Int8Array;
  rowOf: Int32Array;
  rows: number;
  lastEmbeddingId: number;
}

const BUILD_WORKER = new URL('./vector-sketch-worker.js', import.meta.url);

export class VectorSketch {
  private codes: Int8Array;
  /** Row of each photo id, -1 when it has none. */
  private rowOf: Int32Array;
  private rows: number;
  private lastEmbeddingId: number;
  readonly modelId: string;
  readonly dim: number;
  private readonly scale: Float32Array;

  private constructor(parts: SketchParts) {
    ({ modelId: this.modelId, dim: this.dim, scale: this.scale, codes: this.codes, rowOf: this.rowOf, rows: this.rows, lastEmbeddingId: this.lastEmbeddingId } = parts);
  }

  /**
   * Reads every vector of the model in a worker thread with its own read-only connection (about 6 s at 624k),
   * so the event loop serving the window, and filtered searches answered meanwhile, do not wait for it.
   */
  static build(catalogueFile: string, modelId: string, dim: number): Promise<VectorSketch> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(BUILD_WORKER, { workerData: { catalogueFile, modelId, dim } });
      let parts: SketchParts | null = null;
      worker.once('message', (message: SketchParts) => (parts = message));
      worker.once('error', reject);
      worker.once('exit', (code) => (parts ? resolve(new VectorSketch(parts)) : reject(new Error(`the sketch worker stopped (exit code ${code})`))));
    });
  }

  /** Reads every vector of the model on this thread (the worker's part of build). */
  static buildParts(catalogue: Catalogue, modelId: string, dim: number): SketchParts {
    // Unit vectors: |value| ≤ 1. A per-dimension scale from the largest magnitude seen in a first batch
    // (with headroom; larger values are clamped) spends the 8 bits on the range the values use.
    const first = catalogue.iterateEmbeddings(modelId, 0, BUILD_BATCH).next();
    const scale = new Float32Array(dim).fill(1 / 127);
    if (!first.done) {
      const maxAbs = new Float32Array(dim);
      const v = first.value.vectors;
      for (let i = 0; i < v.length; i++) maxAbs[i % dim] = Math.max(maxAbs[i % dim], Math.abs(v[i]));
      for (let j = 0; j < dim; j++) scale[j] = Math.min(1, Math.max(1e-3, maxAbs[j] * 1.5)) / 127;
    }
    const capacity = Math.max(1024, catalogue.countEmbeddings(modelId));
    const sketch = new VectorSketch({ modelId, dim, scale, codes: new Int8Array(capacity * dim), rowOf: new Int32Array(1024).fill(-1), rows: 0, lastEmbeddingId: 0 });
    for (const batch of catalogue.iterateEmbeddings(modelId, 0, BUILD_BATCH)) sketch.putBatch(batch);
    return { modelId, dim, scale, codes: sketch.codes, rowOf: sketch.rowOf, rows: sketch.rows, lastEmbeddingId: sketch.lastEmbeddingId };
  }

  get size(): number {
    return this.rows;
  }

  /** Adds (or replaces) the vectors stored since the last call. */
  async catchUp(catalogue: Catalogue): Promise<void> {
    for (const batch of catalogue.iterateEmbeddings(this.modelId, this.lastEmbeddingId, BUILD_BATCH)) {
      this.putBatch(batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private putBatch(batch: EmbeddingBatch): void {
    for (let i = 0; i < batch.photoIds.length; i++) this.put(batch.photoIds[i], batch.vectors.subarray(i * this.dim, (i + 1) * this.dim));
    this.lastEmbeddingId = batch.embeddingIds[batch.embeddingIds.length - 1];
  }

  private put(photoId: number, vector: Float32Array): void {
    if (photoId >= this.rowOf.length) {
      const grown = new Int32Array(Math.max(photoId + 1, this.rowOf.length * 2)).fill(-1);
      grown.set(this.rowOf);
      this.rowOf = grown;
    }
    let row = this.rowOf[photoId];
    if (row < 0) {
      row = this.rows++;
      if (this.rows * this.dim > this.codes.length) {
        const grown = new Int8Array(Math.max(this.rows, (this.codes.length / this.dim) * 1.5) * this.dim);
        grown.set(this.codes);
        this.codes = grown;
      }
      this.rowOf[photoId] = row;
    }
    const o = row * this.dim;
    const norm = sumOfSquares(vector, 0, this.dim);
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < this.dim; j++) this.codes[o + j] = Math.max(-127, Math.min(127, Math.round((vector[j] * inv) / this.scale[j])));
  }

  /**
   * The `limit` photos among `photoIds` with the highest approximate score, and every one of them the
   * sketch does not hold (to be scored exactly), in no particular order.
   */
  async shortlist(query: Float32Array, photoIds: Uint32Array, limit: number): Promise<Uint32Array> {
    const q = new Float32Array(this.dim);
    for (let j = 0; j < this.dim; j++) q[j] = query[j] * this.scale[j];
    const scores = new Float32Array(photoIds.length);
    const unknown: number[] = [];
    for (let start = 0; start < photoIds.length; start += SCORE_STEP) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      const end = Math.min(photoIds.length, start + SCORE_STEP);
      for (let i = start; i < end; i++) {
        const id = photoIds[i];
        const row = id < this.rowOf.length ? this.rowOf[id] : -1;
        if (row < 0) {
          scores[i] = -Infinity;
          unknown.push(id);
          continue;
        }
        scores[i] = dotRow(q, this.codes, row * this.dim, this.dim);
      }
    }
    const known = photoIds.length - unknown.length;
    if (known <= limit) return photoIds;
    // The limit-th highest score, by selection on a copy; then everything at or above it.
    const threshold = kthLargest(Float32Array.from(scores), limit);
    const out = new Uint32Array(limit + unknown.length + 16);
    let n = 0;
    for (let i = 0; i < photoIds.length && n < limit; i++) if (scores[i] > threshold) out[n++] = photoIds[i];
    for (let i = 0; i < photoIds.length && n < limit; i++) if (scores[i] === threshold) out[n++] = photoIds[i];
    for (const id of unknown) out[n++] = id;
    return out.subarray(0, n);
  }
}

/** q · codes[o, o + dim), four running sums (1.7× faster here than one). */
function dotRow(q: Float32Array, codes: Int8Array, o: number, dim: number): number {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    a += q[j] * codes[o + j];
    b += q[j + 1] * codes[o + j + 1];
    c += q[j + 2] * codes[o + j + 2];
    d += q[j + 3] * codes[o + j + 3];
  }
  for (; j < dim; j++) a += q[j] * codes[o + j];
  return a + b + c + d;
}

/** The k-th largest value (1-based) of `values`, reordering them (quickselect). */
function kthLargest(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target];
  }
  return values[target];
}
