// Near-duplicate candidates for photos added since the last scan: each new vector's few nearest neighbours,
// asked of the library's saved IVF index (or one built here when there is none) and caught up with the
// catalogue, many queries per FAISS call. Each query scans only the few inverted lists nearest to it, and a
// copy at cosine ≥ 0.9 lies, all but always, in the list of its original or in the next nearest. At 0.6–3.5
// ms a query here that suits thousands of new photos, not a whole library (partitioned-pairs.ts does that).
import type { Library } from '../library.js';
import { VectorIndex } from '../vector/vector-index.js';
import type { PhotoId } from '../../../shared/types.js';

/** Inverted lists each query scans: measured on the 624k bench, see docs/BENCHMARKS.md. */
export const DUPLICATE_NPROBE = 3;
/** Below this many queries, the saved index's own nprobe is kept (no rewrite of the index). */
const NPROBE_REWRITE_MIN_QUERIES = 2_000;
/** Neighbours asked per photo (itself included): bursts of more copies than this still chain into one group. */
export const DUPLICATE_NEIGHBOURS = 8;
/** Queries per FAISS call: small enough that progress and cancellation stay responsive. */
const QUERIES_PER_CALL = 2048;

export interface IndexedPairsOptions {
  /** The library's saved vector index for the model (built here, not saved, if missing or unreadable). */
  indexDir: string;
  minScore: number;
  /** Query only vectors stored after this embedding id (0: the whole library). */
  afterEmbeddingId?: number;
  neighbours?: number;
  nprobe?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Candidate pairs of a duplicate search, however found. */
export interface CandidatePairs {
  pairs: { a: PhotoId; b: PhotoId; score: number }[];
  /** Vectors queried. */
  searched: number;
  /** Newest embedding id covered: the next incremental scan starts after it. */
  throughEmbeddingId: number;
}

export async function indexedPairs(library: Library, modelId: string, options: IndexedPairsOptions): Promise<CandidatePairs> {
  const catalogue = library.catalogue;
  const model = catalogue.getModel(modelId);
  if (!model) throw new Error(`unknown model ${modelId}`);
  const index = await openOrBuild(library, modelId, model.dim, options.indexDir);
  // Catch the saved index up with vectors stored since it was saved.
  for (const batch of catalogue.iterateEmbeddings(modelId, index.lastEmbeddingId)) {
    index.add(batch.photoIds, batch.vectors, { lastEmbeddingId: batch.embeddingIds[batch.embeddingIds.length - 1] });
  }
  const after = options.afterEmbeddingId ?? 0;
  const total = after === 0 ? catalogue.countEmbeddings(modelId) : catalogue.countEmbeddingsAfter(modelId, after);
  // Fewer lists per query pays off over many queries; changing nprobe rewrites the whole index (616 MB at 624k).
  const nprobe = options.nprobe ?? DUPLICATE_NPROBE;
  if (index.kind === 'ivf' && total > NPROBE_REWRITE_MIN_QUERIES && index.info().nprobe !== nprobe) {
    await index.setNprobe(Math.min(nprobe, index.info().nlist), library.paths.dir);
  }
  const k = Math.min(options.neighbours ?? DUPLICATE_NEIGHBOURS, Math.max(1, index.size));
  const seen = new Set<number>();
  const pairs: CandidatePairs['pairs'] = [];
  let done = 0;
  let through = after;
  for (const batch of catalogue.iterateEmbeddings(modelId, after, QUERIES_PER_CALL)) {
    const { photoIds, scores } = index.searchBatch(batch.vectors, k);
    for (let q = 0; q < batch.photoIds.length; q++) {
      const self = batch.photoIds[q];
      for (let j = 0; j < k; j++) {
        const other = photoIds[q * k + j];
        const score = scores[q * k + j];
        if (other === 0 || other === self) continue;
        if (score < options.minScore) break; // best first
        const a = Math.min(self, other);
        const b = Math.max(self, other);
        const key = a * 2 ** 32 + b;
        if (seen.has(key)) continue;
        seen.add(key);
        pairs.push({ a, b, score });
      }
    }
    done += batch.photoIds.length;
    through = Math.max(through, batch.embeddingIds[batch.embeddingIds.length - 1]);
    options.onProgress?.(done, Math.max(total, done));
    // Let progress messages and a cancel through between calls.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { pairs, searched: done, throughEmbeddingId: through };
}

async function openOrBuild(library: Library, modelId: string, dim: number, indexDir: string): Promise<VectorIndex> {
  try {
    return VectorIndex.load(indexDir, { modelId, dim });
  } catch {
    return VectorIndex.build(library.catalogue.iterateEmbeddings(modelId, 0), { modelId, dim, workDir: library.paths.dir, nprobe: DUPLICATE_NPROBE });
  }
}
