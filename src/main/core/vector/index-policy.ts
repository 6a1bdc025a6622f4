// Which FAISS index to build for a library of a given size, and when to rebuild it.
//
// Measured on the 2-core target machine with Debian's libfaiss 1.7.3 (generic x86-64 build, no AVX2
// kernels), 512-d vectors; see bench/search-scale.ts and the figures in its results:
//  - IndexFlatIP, one query: ~0.4 ms per 1,000 vectors (40 ms at 100k, ~250 ms at 624k). Exact, cheap to
//    build (its file is written straight from JS), so it serves libraries up to FLAT_MAX_ROWS, where a
//    query still costs ≲ 20 ms of the ~25 ms the vector search may take in a 50 ms text query.
//  - Above that, IVF with a scalar-quantised fp16 payload ("IVF<nlist>,SQfp16"): a query scans only the
//    nprobe inverted lists nearest to it, so its cost is ~nprobe/nlist of a flat scan plus nlist dot
//    products for the coarse quantizer. fp16 halves memory and file size against IVF,Flat (624k × 512:
//    ~0.65 GB instead of 1.3 GB, under the 1.5 GB resident budget) with recall indistinguishable from
//    Flat; SQ8 quarters it but caps recall@10 near 0.99 on its own quantisation error, before any
//    probing loss, so it cannot meet a 0.99 target.
//  - HNSW was rejected: 200 s to build at 624k, needs the float vectors besides its graph (> 1.5 GB), and
//    faiss-node cannot remove from it (abort) or set efSearch other than by file patching as well.
//  - nlist: k-means training costs ~ sample × nlist × dim × 25 iterations, with a sample of 40 × nlist
//    (below 39 × nlist FAISS warns about too few points), i.e. it grows with nlist². 1024 lists train in
//    ~10 s, 2048 in ~35 s here; more lists shorten each list but make every query pay more centroid
//    dot products. nlist ≈ 2·√n rounded to a power of two, clamped to [256, 2048], balances the two.
//  - nprobe is not fixed: after a build the index is calibrated against exact search on held-out
//    queries (build-index.ts), because the recall an nprobe gives depends on how clustered the library is.

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
