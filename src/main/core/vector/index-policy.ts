// Which FAISS index to build for a library of a given size, and when to rebuild it.
//
// Measured on the 2-core target machine with Debian's libfaiss 1.7.3 (generic x86-64 build, no AVX2
// kernels), 512-d unit vectors, other work sharing the CPU (load average 4–5); bench/search-scale.ts:
//  - IndexFlatIP, one query: ~0.4–0.6 ms per 1,000 vectors (≈ 45 ms at 100k, 250 ms at 624k). Exact and
//    cheap to build (its file is written straight from JS), it serves libraries up to FLAT_MAX_ROWS, where
//    a query stays ≲ 25 ms, the vector-search share of a 50 ms text query (the text tower takes ~19 ms).
//  - Above that, IVF with a scalar-quantised fp16 payload ("IVF<nlist>,SQfp16"): a query scans only the
//    nprobe inverted lists nearest to it. At 624,017 vectors, IVF1024,SQfp16 at nprobe 8: p50 6.7 ms,
//    p95 9.4 ms, recall@10 0.9995 against exact search on clustered data, a 616 MB file loaded in 0.6 s,
//    a 722 MB process. fp16 halves memory against IVF,Flat (1.3 GB: too close to a 1.5 GB budget) with
//    recall indistinguishable from Flat; SQ8 quarters it but its own rounding caps recall@10 near 0.99.
//  - HNSW was rejected: minutes to build here, its float storage exceeds the memory budget, and
//    faiss-node aborts the process on removeIds for it.
//  - nlist ≈ 1.5·√n, a power of two in [256, 2048]. k-means training costs ~ sample × nlist × dim × 25
//    iterations with a sample of 40 × nlist (below 39 × nlist FAISS warns), i.e. it grows as nlist²:
//    1024 lists train in ~8–16 s here, 2048 in ~30–75 s, for no better latency at 624k.
//  - nprobe is calibrated after each build (build-index.ts) against exact search, because the recall
//    an nprobe gives depends on how clustered the library is; a cap in scanned vectors bounds latency.
//    On weakly clustered data the cap wins: recall then falls short of the target and the achieved
//    recall is reported (IndexInfo.calibratedRecall) rather than latency silently exploding.

export type IndexKind = 'flat' | 'ivf';

export const FLAT_MAX_ROWS = 50_000;
export const MIN_NLIST = 256;
export const MAX_NLIST = 2048;
export const TRAIN_POINTS_PER_LIST = 40;
/** Largest training sample any plan asks for (MAX_NLIST lists). */
export const MAX_TRAIN_ROWS = MAX_NLIST * TRAIN_POINTS_PER_LIST;
export const IVF_ENCODING = 'SQfp16';

export interface IndexPlan {
  kind: IndexKind;
  /** IVF only: number of inverted lists. */
  nlist: number;
  /** IVF only: rows used to train the coarse quantizer. */
  trainRows: number;
  /** FAISS factory descriptor (IVF only). */
  descriptor: string;
}

export function chooseNlist(rows: number): number {
  const target = 1.5 * Math.sqrt(Math.max(rows, 1));
  const pow2 = 2 ** Math.round(Math.log2(target));
  return Math.min(MAX_NLIST, Math.max(MIN_NLIST, pow2));
}

export function planIndex(rows: number, overrides: { kind?: 'auto' | IndexKind; nlist?: number } = {}): IndexPlan {
  const kind = overrides.kind && overrides.kind !== 'auto' ? overrides.kind : rows > FLAT_MAX_ROWS ? 'ivf' : 'flat';
  if (kind === 'flat') return { kind, nlist: 0, trainRows: 0, descriptor: 'Flat' };
  const nlist = overrides.nlist ?? chooseNlist(rows);
  // FAISS's k-means throws (and faiss-node then aborts) with fewer training points than centroids.
  const trainRows = Math.min(rows, nlist * TRAIN_POINTS_PER_LIST);
  return { kind, nlist, trainRows, descriptor: `IVF${nlist},${IVF_ENCODING}` };
}

export interface IndexHealth {
  kind: IndexKind;
  rows: number;
  removed: number;
  /** IVF: rows present when the coarse quantizer was trained. */
  trainedOn: number;
}

/**
 * Why the index should be rebuilt from the catalogue, or null. Rebuilding is a background job for the
 * caller (build from the catalogue, then swap); the current index keeps answering meanwhile.
 */
export function rebuildReason(h: IndexHealth): string | null {
  const live = h.rows - h.removed;
  if (h.rows > 0 && h.removed > 0.25 * h.rows) {
    return `${h.removed} of ${h.rows} rows are deleted or superseded: a rebuild reclaims memory and search time`;
  }
  if (h.kind === 'flat' && live > FLAT_MAX_ROWS * 1.2) {
    return `the exact index holds ${live} vectors: an IVF index answers faster above ${FLAT_MAX_ROWS}`;
  }
  if (h.kind === 'ivf' && live > 2 * Math.max(h.trainedOn, FLAT_MAX_ROWS)) {
    return `the library grew from ${h.trainedOn} to ${live} vectors since the IVF index was trained: its lists are long`;
  }
  return null;
}
