// Deterministic synthetic embeddings that look a little like CLIP image vectors: unit length, clustered in
// two levels (topics → clusters → photos) around a shared "cone" direction, with skewed cluster sizes.
// Any row can be regenerated on its own (the generator is seeded per row), so a benchmark can stream
// millions of rows in chunks without holding them, and rebuild any row later as a query.
import { scaleRowsToUnit } from '../../src/main/core/vector/vector-math.js';

export interface ClusteredSpec {
  dim: number;
  topics: number;
  clustersPerTopic: number;
  seed: number;
  /** Noise added to a topic direction to make each cluster centre (per-dimension σ). */
  clusterSpread: number;
  /** Noise added to a cluster centre to make each photo (per-dimension σ). */
  pointNoise: number;
  /** Weight of the shared direction in each topic (0 = isotropic topics). */
  coneWeight: number;
}

export const DEFAULT_SPEC: ClusteredSpec = {
  dim: 512,
  topics: 100,
  clustersPerTopic: 20,
  seed: 20261124,
  clusterSpread: 0.06,
  pointNoise: 0.045,
  coneWeight: 0.8,
};

/** mulberry32: tiny, fast, good enough for synthetic data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function hash32(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

// 65,536 standard normal samples (Box–Muller, fixed seed): drawing a gaussian is then one table look-up
// per 16 random bits, which keeps 2M × 512 generation to seconds.
const GAUSS = (() => {
  const next = prng(12345);
  const table = new Float32Array(65536);
  for (let i = 0; i < table.length; i += 2) {
    const u1 = (next() + 1) / 4294967297;
    const u2 = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    table[i] = r * Math.cos(2 * Math.PI * u2);
    table[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return table;
})();

function addNoise(out: Float32Array, offset: number, dim: number, sigma: number, next: () => number): void {
  for (let j = 0; j < dim; j += 2) {
    const r = next();
    out[offset + j] += sigma * GAUSS[r & 0xffff];
    if (j + 1 < dim) out[offset + j + 1] += sigma * GAUSS[r >>> 16];
  }
}

/** In place; a zero row stays zero. */
export function normaliseRows(v: Float32Array, dim: number): void {
  scaleRowsToUnit(v, v, dim, (_, s) => s > 0);
}

export class ClusteredGenerator {
  readonly spec: ClusteredSpec;
  /** nClusters × dim, unit rows. */
  private readonly centres: Float32Array;
  private readonly nClusters: number;

  constructor(spec: Partial<ClusteredSpec> = {}) {
    this.spec = { ...DEFAULT_SPEC, ...spec };
    const { dim, topics, clustersPerTopic, seed, clusterSpread, coneWeight } = this.spec;
    this.nClusters = topics * clustersPerTopic;
    const next = prng(seed);
    // A shared direction every vector leans towards (CLIP embeddings occupy a narrow cone).
    const cone = new Float32Array(dim);
    addNoise(cone, 0, dim, 1, next);
    normaliseRows(cone, dim);
    const topicDirs = new Float32Array(topics * dim);
    for (let t = 0; t < topics; t++) {
      for (let j = 0; j < dim; j++) topicDirs[t * dim + j] = coneWeight * cone[j];
      addNoise(topicDirs, t * dim, dim, 1 / Math.sqrt(dim), next);
    }
    normaliseRows(topicDirs, dim);
    this.centres = new Float32Array(this.nClusters * dim);
    for (let c = 0; c < this.nClusters; c++) {
      const t = Math.floor(c / clustersPerTopic);
      this.centres.set(topicDirs.subarray(t * dim, (t + 1) * dim), c * dim);
      addNoise(this.centres, c * dim, dim, clusterSpread, next);
    }
    normaliseRows(this.centres, dim);
  }

  get dim(): number {
    return this.spec.dim;
  }

  /** Cluster of a row: skewed sizes (a few big clusters, many small ones), as photo libraries have. */
  private clusterOf(row: number): number {
    const u = hash32(this.spec.seed, row) / 4294967296;
    return Math.min(this.nClusters - 1, Math.floor(this.nClusters * u * u));
  }

  /** Writes rows [start, start + count) into `out` (count × dim), unit length. */
  rows(start: number, count: number, out = new Float32Array(count * this.spec.dim)): Float32Array {
    const { dim, pointNoise, seed } = this.spec;
    for (let i = 0; i < count; i++) {
      const row = start + i;
      const c = this.clusterOf(row);
      out.set(this.centres.subarray(c * dim, (c + 1) * dim), i * dim);
      addNoise(out, i * dim, dim, pointNoise, prng(hash32(seed + 1, row)));
    }
    normaliseRows(out.subarray(0, count * dim), dim);
    return out;
  }

  /** Queries: the given data rows, perturbed by `noise` (per-dimension σ), renormalised. */
  perturbedRows(rowIds: ArrayLike<number>, noise: number, querySeed = 7): Float32Array {
    const { dim } = this.spec;
    const out = new Float32Array(rowIds.length * dim);
    for (let i = 0; i < rowIds.length; i++) {
      this.rows(rowIds[i], 1, out.subarray(i * dim, (i + 1) * dim));
      addNoise(out, i * dim, dim, noise, prng(hash32(querySeed, rowIds[i])));
    }
    normaliseRows(out, dim);
    return out;
  }
}

/** `count` distinct pseudo-random row ids in [0, n), deterministic. */
export function sampleRows(n: number, count: number, seed = 99): Uint32Array {
  const next = prng(seed);
  const picked = new Set<number>();
  const want = Math.min(count, n);
  while (picked.size < want) picked.add(next() % n);
  return Uint32Array.from(picked);
}
