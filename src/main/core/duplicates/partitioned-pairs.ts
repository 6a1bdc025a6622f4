// Near-duplicate candidates over a whole large library, exact within partitions: every vector joins the two
// partitions whose anchors (evenly spaced library vectors) it is most similar to (and up to two more whose
// anchors are nearly as similar), and all pairs inside
// each partition are scored as one matrix product (TopKProduct: ONNX Runtime's SIMD kernels, ~100 GMAC/s
// on this 2-core machine). A copy at cosine ≥ 0.9 ranks the anchors almost exactly as its original does, so
// the two share a partition. Measured here (docs/BENCHMARKS.md): per-query IVF scans over the library's
// SQfp16 index take 0.6–3.5 ms a photo (6–36 min at 624k), where this takes about a minute.
import type { Catalogue } from '../catalogue/catalogue.js';
import { TopKProduct } from '../vector/top-k-product.js';
import type { CandidatePairs } from './indexed-pairs.js';

/** Neighbours kept per photo inside its partition (itself included). */
const NEIGHBOURS = 8;
/** Partitions each vector joins: always its two nearest anchors, and up to two more nearly as near. */
const ALWAYS = 2;
const AT_MOST = 4;
/** "Nearly as near": within this much cosine of the nearest anchor (where a copy could rank them differently). */
const MARGIN = 0.05;
/** Vectors read and assigned per step. */
const READ_BATCH = 8192;

export interface PartitionedPairsOptions {
  minScore: number;
  /** Number of partitions (default ≈ 1.3·√n: partitions of ~1,200 at 624k, ~600 of them quadratic work each). */
  partitions?: number;
  neighbours?: number;
  onProgress?: (done: number, total: number) => void;
}


export async function partitionedPairs(catalogue: Catalogue, modelId: string, options: PartitionedPairsOptions): Promise<CandidatePairs> {
  const model = catalogue.getModel(modelId);
  if (!model) throw new Error(`unknown model ${modelId}`);
  const dim = model.dim;
  const expected = catalogue.countEmbeddings(modelId);
  const partitions = Math.max(1, Math.min(expected, options.partitions ?? Math.round(1.3 * Math.sqrt(expected))));
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  // Pass 1: the photo of every row, and evenly spaced rows as partition anchors.
  const stride = Math.max(1, Math.floor(expected / partitions));
  const anchors = new Float32Array(partitions * dim);
  let anchorCount = 0;
  let ids = new Uint32Array(Math.max(1, expected));
  let rows = 0;
  let through = 0;
  for (const batch of catalogue.iterateEmbeddings(modelId, 0, READ_BATCH)) {
    if (rows + batch.photoIds.length > ids.length) {
      const grown = new Uint32Array((rows + batch.photoIds.length) * 2);
      grown.set(ids.subarray(0, rows));
      ids = grown;
    }
    for (let i = 0; i < batch.photoIds.length; i++) {
      const row = rows + i;
      ids[row] = batch.photoIds[i];
      if (row % stride === 0 && anchorCount < partitions) anchors.set(batch.vectors.subarray(i * dim, (i + 1) * dim), dim * anchorCount++);
    }
    rows += batch.photoIds.length;
    through = Math.max(through, batch.embeddingIds[batch.embeddingIds.length - 1]);
    await tick();
  }
  const total = rows * (ALWAYS + 2); // progress, roughly: assigning counts once, scoring each membership once
  if (rows < 2) return { pairs: [], searched: rows, throughEmbeddingId: through };

  const product = await TopKProduct.create();
  try {
    return await scoreInPartitions(catalogue, modelId, dim, product, { ids, rows, through, anchors: anchors.subarray(0, anchorCount * dim), anchorCount, total }, options);
  } finally {
    await product.close();
  }
}

async function scoreInPartitions(
  catalogue: Catalogue, modelId: string, dim: number, product: TopKProduct,
  read: { ids: Uint32Array; rows: number; through: number; anchors: Float32Array; anchorCount: number; total: number },
  options: PartitionedPairsOptions,
): Promise<CandidatePairs> {
  const { ids, rows, through, anchors, anchorCount, total } = read;
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  // Pass 2: each row's nearest anchors.
  const k = Math.min(AT_MOST, anchorCount);
  const memberRow: number[] = [];
  const memberPartition: number[] = [];
  let assigned = 0;
  for (const batch of catalogue.iterateEmbeddings(modelId, 0, READ_BATCH)) {
    const n = Math.min(batch.photoIds.length, rows - assigned);
    if (n <= 0) break;
    const nearest = await product.search(batch.vectors.subarray(0, n * dim), anchors, dim, k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        const label = nearest.rows[i * k + j];
        if (j >= ALWAYS && nearest.scores[i * k + j] < nearest.scores[i * k] - MARGIN) break;
        memberRow.push(assigned + i);
        memberPartition.push(label);
      }
    }
    assigned += n;
    options.onProgress?.(assigned, total);
    await tick();
  }

  // Members of each partition (photo ids), by counting sort.
  const starts = new Uint32Array(anchorCount + 1);
  for (const p of memberPartition) starts[p + 1]++;
  for (let p = 0; p < anchorCount; p++) starts[p + 1] += starts[p];
  const members = new Uint32Array(memberPartition.length);
  const fill = starts.slice(0, anchorCount);
  for (let i = 0; i < memberPartition.length; i++) members[fill[memberPartition[i]]++] = ids[memberRow[i]];

  // Pass 3: all pairs inside each partition.
  const seen = new Set<number>();
  const pairs: CandidatePairs['pairs'] = [];
  let done = assigned;
  for (let p = 0; p < anchorCount; p++) {
    const group = members.subarray(starts[p], starts[p + 1]);
    done += group.length;
    if (group.length < 2) continue;
    const { photoIds, vectors } = catalogue.vectorsFor(modelId, group);
    const nearest = Math.min(options.neighbours ?? NEIGHBOURS, photoIds.length);
    const found = await product.search(vectors, vectors, dim, nearest);
    for (let q = 0; q < photoIds.length; q++) {
      for (let j = 0; j < nearest; j++) {
        const score = found.scores[q * nearest + j];
        if (score < options.minScore) break; // best first
        const other = found.rows[q * nearest + j];
        if (other === q) continue;
        const a = Math.min(photoIds[q], photoIds[other]);
        const b = Math.max(photoIds[q], photoIds[other]);
        if (a === b) continue;
        const key = a * 2 ** 32 + b;
        if (seen.has(key)) continue;
        seen.add(key);
        pairs.push({ a, b, score });
      }
    }
    options.onProgress?.(done, total);
    await tick();
  }
  return { pairs, searched: assigned, throughEmbeddingId: through };
}
