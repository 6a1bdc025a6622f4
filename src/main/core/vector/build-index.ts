// Builds a FAISS index from a stream of (photo ids, vectors) batches in one pass over the source:
//   1. spool every batch to disk (unit length, as flat-index segment files) and keep a uniform sample;
//   2. once the size is known, choose the index (index-policy.ts):
//      - flat: read the segments back as FAISS files (no number[] conversion at all);
//      - IVF: train the coarse quantizer on the sample, stream the spool into the index, then calibrate
//        nprobe against exact search (the spool segments searched one at a time as flat indexes).
// The function yields to the event loop between chunks, so a worker that builds a new index can keep
// answering searches on the old one until it swaps them.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VectorIndexError } from './errors.js';
import { patchNprobe } from './faiss-file.js';
import { assertFreeSpace, estimateIndexBytes } from './disk.js';
import { type IndexKind, MAX_TRAIN_ROWS, planIndex } from './index-policy.js';
import { type FaissIndex, faiss, METRIC_INNER_PRODUCT, releaseDroppedIndexes } from './native.js';
import { assertVectorBatch, normaliseRowsInto, toNumbers } from './vector-math.js';
import { ReservoirSample, VectorSpool } from './vector-spool.js';

export interface VectorBatch {
  photoIds: Uint32Array;
  /** Row-major, photoIds.length × dim. */
  vectors: Float32Array;
  /** Catalogue embedding row ids of these vectors (optional): the largest is kept to catch up later. */
  embeddingIds?: ArrayLike<number>;
}

export type VectorSource = Iterable<VectorBatch> | AsyncIterable<VectorBatch>;

export interface BuildProgress {
  phase: 'reading' | 'training' | 'adding' | 'calibrating';
  done: number;
  total: number;
}

export interface BuildOptions {
  modelId: string;
  dim: number;
  /** 'auto' (default) picks flat or IVF by size. */
  kind?: 'auto' | IndexKind;
  /** IVF: override the number of lists. */
  nlist?: number;
  /** IVF: use this nprobe instead of calibrating one. */
  nprobe?: number;
  /**
   * IVF calibration: recall@10 against exact search that nprobe must reach (default 0.99). The default
   * calibration queries are harder than queries near photos (see midpointQueries), which is the margin.
   */
  targetRecall?: number;
  /** IVF calibration: queries (row-major, unit length). Default: midpoints of pairs of sampled photos. */
  calibrationQueries?: Float32Array;
  /** Largest nprobe calibration may choose (default: see maxScannedVectors). */
  maxNprobe?: number;
  /**
   * Latency cap for calibration, in vectors a query may scan (nprobe × n / nlist; default 24,000, ~15 ms
   * here). Expressed in work rather than measured milliseconds because a build usually shares the CPU
   * with indexing, which would make measured latencies (and the chosen nprobe) erratic.
   */
  maxScannedVectors?: number;
  /** Scratch space for the spool (default: the OS temp dir). Needs rows × dim × 4 bytes free. */
  workDir?: string;
  onProgress?: (progress: BuildProgress) => void;
}

export interface CalibrationResult {
  queries: number;
  k: number;
  target: number;
  nprobe: number;
  recall: number;
  /** recall: counting results within 1e-3 of the k-th exact score as found (fp16 rounding); strictRecall: exact ids only. */
  tried: { nprobe: number; recall: number; strictRecall: number; msPerQuery: number }[];
}

export interface IndexMeta {
  modelId: string;
  dim: number;
  kind: IndexKind;
  nlist: number;
  nprobe: number;
  /** Rows the IVF quantizer was trained with a sample of (0 for flat). */
  trainedOn: number;
  lastEmbeddingId: number;
  calibration: CalibrationResult | null;
  builtAt: number;
}

export interface IndexParts {
  index: FaissIndex;
  meta: IndexMeta;
  rowIds: Uint32Array;
  removedRows: Uint32Array;
}

const ADD_CHUNK_ROWS = 1024;
const CALIBRATION_QUERIES = 200;
const CALIBRATION_K = 10;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export function validateModelAndDim(modelId: unknown, dim: unknown): void {
  if (typeof modelId !== 'string' || modelId.length === 0) throw new VectorIndexError('modelId must be a non-empty string');
  if (!Number.isInteger(dim) || (dim as number) < 1 || (dim as number) > 65536) {
    throw new VectorIndexError(`dim must be an integer in 1..65536, got ${String(dim)}`);
  }
}

/** An empty exact index. */
export function emptyFlat(dim: number): FaissIndex {
  return faiss().Index.fromFactory(dim, 'Flat', METRIC_INNER_PRODUCT);
}

class GrowableIds {
  ids = new Uint32Array(1024);
  length = 0;
  push(batch: Uint32Array): void {
    if (this.length + batch.length > this.ids.length) {
      const next = new Uint32Array(Math.max(this.ids.length * 2, this.length + batch.length));
      next.set(this.ids.subarray(0, this.length));
      this.ids = next;
    }
    this.ids.set(batch, this.length);
    this.length += batch.length;
  }
  view(): Uint32Array {
    return this.ids.slice(0, this.length);
  }
}

export async function buildIndexParts(source: VectorSource, opts: BuildOptions): Promise<IndexParts> {
  validateModelAndDim(opts.modelId, opts.dim);
  const { dim } = opts;
  const target = opts.targetRecall ?? 0.99;
  if (!(target > 0 && target <= 1)) throw new VectorIndexError(`targetRecall must be in (0, 1], got ${target}`);
  if (opts.calibrationQueries && (!(opts.calibrationQueries instanceof Float32Array) || opts.calibrationQueries.length === 0 || opts.calibrationQueries.length % dim !== 0)) {
    throw new VectorIndexError(`calibrationQueries must be a Float32Array holding a whole number of ${dim}-d vectors`);
  }
  for (const key of ['nlist', 'nprobe', 'maxNprobe', 'maxScannedVectors'] as const) {
    const v = opts[key];
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || (key !== 'maxScannedVectors' && v > 65536))) {
      throw new VectorIndexError(`${key} must be a positive integer, got ${String(v)}`);
    }
  }
  // Named with the pid, so a library opened after this process was killed removes it (scratch.ts).
  const scratch = mkdtempSync(path.join(opts.workDir ?? os.tmpdir(), `vector-build-${process.pid}-`));
  const spool = new VectorSpool(path.join(scratch, 'spool'), dim);
  const sampleRows = opts.kind === 'flat' ? CALIBRATION_QUERIES * 2 : opts.nlist ? planIndex(Infinity, opts).trainRows : MAX_TRAIN_ROWS;
  const sample = new ReservoirSample(Math.max(sampleRows, CALIBRATION_QUERIES * 2), dim);
  const ids = new GrowableIds();
  let lastEmbeddingId = 0;
  try {
    for await (const batch of source as AsyncIterable<VectorBatch>) {
      assertVectorBatch(batch.photoIds, batch.vectors, dim);
      const unit = new Float32Array(batch.vectors.length);
      normaliseRowsInto(batch.vectors, unit, dim, (r) => `the vector of photo ${batch.photoIds[r]}`);
      spool.append(unit);
      sample.offer(unit);
      ids.push(batch.photoIds);
      if (batch.embeddingIds) for (let i = 0; i < batch.embeddingIds.length; i++) lastEmbeddingId = Math.max(lastEmbeddingId, batch.embeddingIds[i]);
      opts.onProgress?.({ phase: 'reading', done: spool.size, total: 0 });
      await tick();
    }
    spool.finish();
    const rows = spool.size;
    const plan = planIndex(rows, opts);
    const meta: IndexMeta = {
      modelId: opts.modelId, dim, kind: plan.kind, nlist: plan.nlist, nprobe: 0, trainedOn: 0,
      lastEmbeddingId, calibration: null, builtAt: Date.now(),
    };
    let index: FaissIndex;
    if (plan.kind === 'flat') {
      index = await readFlatSegments(spool);
    } else {
      if (rows < plan.nlist) throw new VectorIndexError(`an IVF index with ${plan.nlist} lists needs at least ${plan.nlist} vectors, got ${rows}`);
      // Held in a box so that calibration can drop the only reference once the index is on disk.
      const built = { index: await trainAndAdd(spool, sample, plan.descriptor, Math.min(plan.trainRows, sample.size), opts) as FaissIndex | null };
      meta.trainedOn = rows;
      const queries = opts.calibrationQueries ? unitCopy(opts.calibrationQueries, dim) : midpointQueries(sample, CALIBRATION_QUERIES);
      const maxNprobe = Math.min(plan.nlist, opts.maxNprobe ?? defaultMaxNprobe(rows, plan.nlist, opts.maxScannedVectors));
      const tuned = await tuneNprobe(built, spool, scratch, queries, {
        fixed: opts.nprobe, target, maxNprobe, nlist: plan.nlist, onProgress: opts.onProgress,
      });
      index = tuned.index;
      meta.nprobe = tuned.nprobe;
      meta.calibration = tuned.calibration;
    }
    return { index, meta, rowIds: ids.view(), removedRows: new Uint32Array(0) };
  } finally {
    spool.remove();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function readFlatSegments(spool: VectorSpool): Promise<FaissIndex> {
  if (spool.segments.length === 0) return emptyFlat(spool.dim);
  const index = faiss().Index.read(spool.segments[0].path);
  for (const segment of spool.segments.slice(1)) {
    index.mergeFrom(faiss().Index.read(segment.path)); // moves the vectors; the emptied source is dropped
    await releaseDroppedIndexes();
  }
  return index;
}

async function trainAndAdd(spool: VectorSpool, sample: ReservoirSample, descriptor: string, trainRows: number, opts: BuildOptions): Promise<FaissIndex> {
  const index = faiss().Index.fromFactory(spool.dim, descriptor, METRIC_INNER_PRODUCT);
  opts.onProgress?.({ phase: 'training', done: 0, total: trainRows });
  index.train(toNumbers(sample.rows().subarray(0, trainRows * spool.dim)));
  if (!index.isTrained()) throw new VectorIndexError(`training ${descriptor} did not complete`); // add() would abort
  for (const { startRow, vectors } of spool.chunks(ADD_CHUNK_ROWS)) {
    index.add(toNumbers(vectors));
    opts.onProgress?.({ phase: 'adding', done: startRow + vectors.length / spool.dim, total: spool.size });
    await tick();
  }
  return index;
}

export const DEFAULT_MAX_SCANNED_VECTORS = 24_000;

function defaultMaxNprobe(rows: number, nlist: number, maxScanned = DEFAULT_MAX_SCANNED_VECTORS): number {
  const byWork = 2 ** Math.floor(Math.log2(Math.max(1, (maxScanned * nlist) / rows)));
  return Math.max(1, Math.min(nlist / 4, byWork));
}

function unitCopy(vectors: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(vectors.length);
  normaliseRowsInto(vectors, out, dim, (q) => `calibration query ${q}`);
  return out;
}

/**
 * Default calibration queries: the normalised sum of two random sampled photos. Like a text query
 * ("a dog on a beach"), such a query resembles photos of several clusters and falls between them,
 * where an IVF index is weakest; queries near one photo are much easier (see bench/search-scale.ts).
 * Callers that have the text tower can pass embeddings of typical prompts instead.
 */
function midpointQueries(sample: ReservoirSample, count: number): Float32Array {
  const { dim } = sample;
  const n = sample.size;
  const rows = sample.rows();
  const out = new Float32Array(count * dim);
  for (let q = 0; q < count; q++) {
    const a = Math.floor(sample.random() * n);
    const b = Math.floor(sample.random() * n);
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      out[q * dim + j] = rows[a * dim + j] + rows[b * dim + j];
      norm += out[q * dim + j] ** 2;
    }
    if (norm < 1e-6) out.set(rows.subarray(a * dim, (a + 1) * dim), q * dim); // opposite photos: use one
  }
  normaliseRowsInto(out, out, dim, (q) => `calibration query ${q}`);
  return out;
}

interface Truth {
  rows: Set<number>;
  /** Exact score of the k-th neighbour. */
  kth: number;
}

/** Exact top-k rows for each query, by searching the spool's segments one at a time. */
async function exactTopRows(spool: VectorSpool, queries: Float32Array, k: number): Promise<Truth[]> {
  const nq = queries.length / spool.dim;
  const best: { row: number; score: number }[][] = Array.from({ length: nq }, () => []);
  const q = toNumbers(queries);
  for (const segment of spool.segments) {
    const flat = faiss().Index.read(segment.path);
    const kk = Math.min(k, segment.rows);
    const { labels, distances } = flat.search(q, kk);
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < kk; j++) {
        const label = labels[i * kk + j];
        if (label >= 0) best[i].push({ row: segment.startRow + label, score: distances[i * kk + j] });
      }
      best[i].sort((x, y) => y.score - x.score).splice(k);
    }
    await releaseDroppedIndexes();
  }
  return best.map((hits) => ({ rows: new Set(hits.map((h) => h.row)), kth: hits[hits.length - 1]?.score ?? -Infinity }));
}

/**
 * fp16 storage perturbs scores by up to ~5e-4 (2^-11 relative per component, unit vectors): a result
 * scoring within this of the exact k-th neighbour is as good a neighbour, and counting it as a miss
 * would make calibration chase rounding noise with ever larger nprobe.
 */
const SCORE_TOLERANCE = 1e-3;
const TIMED_QUERIES = 20;

interface TuneOptions {
  fixed?: number;
  target: number;
  maxNprobe: number;
  nlist: number;
  onProgress?: (progress: BuildProgress) => void;
}

/**
 * Sets nprobe by rewriting it in a serialised copy of the index and reading that back: doubling nprobe
 * from 1 until recall@10 on the calibration queries reaches the target, or maxNprobe (the latency cap).
 */
async function tuneNprobe(built: { index: FaissIndex | null }, spool: VectorSpool, scratch: string, queries: Float32Array, o: TuneOptions):
Promise<{ index: FaissIndex; nprobe: number; calibration: CalibrationResult | null }> {
  const file = path.join(scratch, 'ivf.faiss');
  assertFreeSpace(scratch, estimateIndexBytes('ivf', spool.size, spool.dim, o.nlist));
  built.index!.write(file);
  built.index = null;
  if (o.fixed !== undefined) {
    if (!Number.isInteger(o.fixed) || o.fixed < 1 || o.fixed > o.nlist) throw new VectorIndexError(`nprobe must be in 1..${o.nlist}, got ${o.fixed}`);
    patchNprobe(file, o.fixed);
    await releaseDroppedIndexes();
    return { index: faiss().Index.read(file), nprobe: o.fixed, calibration: null };
  }
  const truth = await exactTopRows(spool, queries, CALIBRATION_K);
  const q = toNumbers(queries);
  const nq = truth.length;
  const k = Math.min(CALIBRATION_K, spool.size);
  const tried: CalibrationResult['tried'] = [];
  // One candidate alive at a time: the previous one is dropped and collected before the next is read.
  const candidate: { index: FaissIndex | null } = { index: null };
  const measure = async (nprobe: number) => {
    o.onProgress?.({ phase: 'calibrating', done: tried.length, total: Math.ceil(Math.log2(o.maxNprobe)) + 2 });
    patchNprobe(file, nprobe);
    candidate.index = null;
    await releaseDroppedIndexes();
    candidate.index = faiss().Index.read(file);
    const { labels, distances } = candidate.index.search(q, CALIBRATION_K);
    let hits = 0;
    let strictHits = 0;
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < CALIBRATION_K; j++) {
        const label = labels[i * CALIBRATION_K + j];
        if (label < 0) continue;
        const exact = truth[i].rows.has(label);
        if (exact) strictHits++;
        if (exact || distances[i * CALIBRATION_K + j] >= truth[i].kth - SCORE_TOLERANCE) hits++;
      }
    }
    // Single-query latency (informative: a build usually shares the CPU with indexing).
    const times: number[] = [];
    for (let i = 0; i < Math.min(TIMED_QUERIES, nq); i++) {
      const started = performance.now();
      candidate.index.search(q.slice(i * spool.dim, (i + 1) * spool.dim), CALIBRATION_K);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const result = { nprobe, recall: hits / (nq * k), strictRecall: strictHits / (nq * k), msPerQuery: times[times.length >> 1] };
    tried.push(result);
    await tick();
    return result.recall >= o.target;
  };
  // Double until the target is met (or the cap), then try halfway back (×0.75) once: cost grows
  // linearly with nprobe, so the finer step is worth one more read of the index.
  let nprobe = Math.min(o.maxNprobe, Math.max(1, Math.floor(o.nlist / 256)));
  let met = await measure(nprobe);
  while (!met && nprobe < o.maxNprobe) {
    nprobe = Math.min(nprobe * 2, o.maxNprobe);
    met = await measure(nprobe);
  }
  const between = Math.round(nprobe * 0.75);
  if (met && between > nprobe / 2 && between < nprobe && !tried.some((t) => t.nprobe === between)) {
    if (await measure(between)) nprobe = between;
    else await measure(nprobe); // back to the larger one (re-read)
  }
  const last = tried.filter((t) => t.nprobe === nprobe).pop()!;
  return {
    index: candidate.index!,
    nprobe,
    calibration: { queries: nq, k: CALIBRATION_K, target: o.target, nprobe, recall: last.recall, tried },
  };
}
