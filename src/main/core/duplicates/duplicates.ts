// Duplicate photos: exact copies (same content hash) and near-duplicates (resized, recompressed, lightly
// edited copies). Near-duplicate candidates come from the CLIP vectors (pairs at cosine ≥ threshold); each
// candidate pair is then confirmed by a perceptual hash (dHash Hamming distance), so precision does not rest
// on the vectors alone. Without vectors, 'perceptual' mode takes candidates from a 16×16 grey pixel vector
// of every photo instead (see perceptual.ts), confirmed by the same hash. Pairs chain into groups
// (union-find); exact copies join the same groups, so every photo appears in at most one group, and a group
// whose members all share one content hash is 'exact'.
//
// Calibration (the defaults): real CLIP ViT-B/32 gives near-duplicates cosines ≥ 0.95 (usually ≥ 0.98) and
// distinct photos rarely above ~0.9; 0.92 leaves headroom for brightened or lightly cropped copies because the
// dHash check (≤ 10 of 64 bits) rejects different photos of the same scene. Without the check, use ≥ 0.95.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import type { DuplicateGroup, PhotoDetail, PhotoId } from '../../../shared/types.js';
import type { Library } from '../library.js';
import { thumbnailPath } from '../paths.js';
import { hashFile } from '../scanner/content-hash.js';
import { similarPairs, type RowSource } from './neighbours.js';
import { indexedPairs } from './indexed-pairs.js';
import { partitionedPairs } from './partitioned-pairs.js';
import { GRID_VECTOR_DIM, HASH_BITS, dot, hammingDistance, perceptualSignature, type PerceptualSignature } from './perceptual.js';
import { UnionFind } from './union-find.js';

export { trashPhotos, type TrashOptions } from './trash.js';

/** Up to this many vectors, a full scan finds every vector's nearest neighbours exactly (one BLAS product per batch). */
export const EXACT_PAIRS_LIMIT = 20_000;
/** Cosine threshold for vector candidates when each pair is confirmed by the perceptual hash. */
export const DEFAULT_THRESHOLD = 0.92;
/** Cosine threshold to use when pairs are not confirmed (precision then rests on the vectors alone). */
export const DEFAULT_UNVERIFIED_THRESHOLD = 0.95;
/** Cosine threshold on the 16×16 grey vectors in 'perceptual' mode (copies ≥ 0.96, distinct photos ≲ 0.9). */
export const DEFAULT_PERCEPTUAL_THRESHOLD = 0.95;
/** Largest dHash Hamming distance (of 64 bits) at which two photos count as the same picture. */
export const DEFAULT_MAX_HASH_DISTANCE = 10;
/** In larger groups only the first this many members are compared pairwise for the group's similarity. */
const PAIRWISE_SIMILARITY_LIMIT = 300;

export interface FindDuplicatesOptions {
  /** 'vectors' (default): candidates from the model's vectors. 'perceptual': from a tiny grey decode of
   *  every visible photo, for photos without vectors (decodes every photo: hours on 600k photos). */
  mode?: 'vectors' | 'perceptual';
  /** Default: the library's current model. Without one, only exact copies are found in 'vectors' mode. */
  modelId?: string;
  /** Cosine threshold for candidates: on the CLIP vectors, or on the grey vectors in 'perceptual' mode. */
  threshold?: number;
  /** Confirm candidates with the perceptual hash (default true). */
  verify?: boolean;
  maxHashDistance?: number;
  /** Neighbours looked at per photo on large libraries (FAISS path). */
  neighbours?: number;
  /** Up to this many vectors, every pair is compared exactly in JS. */
  bruteForceLimit?: number;
  /**
   * Up to this many vectors (default EXACT_PAIRS_LIMIT), every vector's nearest neighbours are found exactly
   * (FAISS flat); above, inside partitions of similar vectors (partitioned-pairs.ts).
   */
  exactPairsLimit?: number;
  /** Partitions for large libraries (default ≈ 1.3·√n). */
  partitions?: number;
  /** Photos decoded at once for perceptual hashes. */
  concurrency?: number;
  /** The library's saved vector index for the model, which an incremental scan queries (indexed-pairs.ts). */
  indexDir?: string;
  /** With indexDir: look for copies of vectors stored after this embedding id only (an incremental scan). */
  afterEmbeddingId?: number;
  onProgress?: (stage: 'vectors' | 'hashing' | 'grouping', done: number, total: number) => void;
}

/** A group of duplicate photos by id, as a scan finds and keeps it (see DuplicateGroup for what the UI shows). */
export interface DuplicateSet {
  ids: PhotoId[];
  kind: 'exact' | 'near';
  /** Lowest pairwise similarity inside the set (1 for exact copies). */
  similarity: number;
}

export interface DuplicateReport {
  groups: DuplicateGroup[];
  stats: {
    mode: 'vectors' | 'perceptual';
    modelId: string | null;
    threshold: number;
    maxHashDistance: number;
    verified: boolean;
    /** Rows searched (vectors, or hashed photos). */
    searched: number;
    candidatePairs: number;
    confirmedPairs: number;
    /** Candidate pairs dropped because a photo could not be decoded for its hash. */
    unreadable: number;
    /** Newest embedding id the scan covered (vectors mode), for a later incremental scan. */
    throughEmbeddingId: number;
  };
}

export async function findDuplicateGroups(library: Library, options: FindDuplicatesOptions = {}): Promise<DuplicateGroup[]> {
  return (await findDuplicates(library, options)).groups;
}

export async function findDuplicates(library: Library, options: FindDuplicatesOptions = {}): Promise<DuplicateReport> {
  const { sets, stats } = await findDuplicateSets(library, options);
  const groups: DuplicateGroup[] = [];
  for (const set of sets) {
    const group = await describeSet(library, set);
    if (group) groups.push(group);
  }
  return { groups, stats };
}

/** Duplicate sets by photo id, most members first: what a background scan computes and keeps. */
export async function findDuplicateSets(library: Library, options: FindDuplicatesOptions = {}): Promise<{ sets: DuplicateSet[]; stats: DuplicateReport['stats'] }> {
  const mode = options.mode ?? 'vectors';
  const verify = options.verify ?? true;
  const maxHashDistance = options.maxHashDistance ?? DEFAULT_MAX_HASH_DISTANCE;
  const threshold = options.threshold ?? (mode === 'perceptual' ? DEFAULT_PERCEPTUAL_THRESHOLD : verify ? DEFAULT_THRESHOLD : DEFAULT_UNVERIFIED_THRESHOLD);
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  if (!Number.isInteger(maxHashDistance) || maxHashDistance < 0 || maxHashDistance > HASH_BITS) {
    throw new RangeError(`maxHashDistance must be an integer 0–${HASH_BITS}, got ${maxHashDistance}`);
  }
  const signatures = new PerceptualSignatures(library, options.concurrency ?? 2);
  const links = new UnionFind();
  const catalogue = library.catalogue;
  // Pairs the user said are not duplicates are never linked directly (a third photo may still join them).
  const dismissed = catalogue.allDismissedPairs();
  const isDismissed = (a: PhotoId, b: PhotoId) => dismissed.size > 0 && dismissed.has(a < b ? `${a}-${b}` : `${b}-${a}`);
  for (const group of catalogue.exactDuplicateGroups()) {
    if (dismissed.size === 0 || !group.some((a, i) => group.some((b, j) => j > i && isDismissed(a, b)))) {
      for (const id of group.slice(1)) links.union(group[0], id);
    } else {
      for (let i = 0; i < group.length; i++) for (let j = i + 1; j < group.length; j++) if (!isDismissed(group[i], group[j])) links.union(group[i], group[j]);
    }
  }

  const modelId = options.modelId ?? library.searchModel?.id ?? null;
  const stats: DuplicateReport['stats'] = {
    mode, modelId: mode === 'vectors' ? modelId : null, threshold, maxHashDistance, verified: verify,
    searched: 0, candidatePairs: 0, confirmedPairs: 0, unreadable: 0, throughEmbeddingId: 0,
  };

  // Candidate pairs of photo ids, from the CLIP vectors or from every photo's grey vector.
  let candidates: { a: PhotoId; b: PhotoId }[] = [];
  if (mode === 'vectors' && modelId && catalogue.getModel(modelId)) {
    const onProgress = (done: number, total: number) => options.onProgress?.('vectors', done, total);
    const count = catalogue.countEmbeddings(modelId);
    if (options.afterEmbeddingId) {
      // Photos added since a scan: each queried against the whole library through its vector index.
      if (!options.indexDir) throw new RangeError('an incremental duplicate scan needs the vector index (indexDir)');
      const found = await indexedPairs(library, modelId, {
        indexDir: options.indexDir, minScore: threshold, afterEmbeddingId: options.afterEmbeddingId, neighbours: options.neighbours, onProgress,
      });
      stats.searched = found.searched;
      stats.throughEmbeddingId = found.throughEmbeddingId;
      candidates = found.pairs;
    } else if (count > (options.exactPairsLimit ?? EXACT_PAIRS_LIMIT)) {
      const found = await partitionedPairs(catalogue, modelId, { minScore: threshold, partitions: options.partitions, neighbours: options.neighbours, onProgress });
      stats.searched = found.searched;
      stats.throughEmbeddingId = found.throughEmbeddingId;
      candidates = found.pairs;
    } else {
      const source = new EmbeddingRows(library, modelId);
      stats.searched = source.count;
      stats.throughEmbeddingId = catalogue.lastEmbeddingId(modelId);
      const pairs = await similarPairs(source, {
        minScore: threshold, k: options.neighbours, bruteForceLimit: options.bruteForceLimit, onProgress,
      });
      candidates = pairs.map((p) => ({ a: source.photoId(p.a), b: source.photoId(p.b) }));
    }
    if (verify) await signatures.load(candidates.flatMap((p) => [p.a, p.b]), options.onProgress);
  } else if (mode === 'perceptual') {
    const paths = new Map<PhotoId, string>();
    for (let after = 0; ;) {
      const page = catalogue.visiblePhotoPaths(after, 10_000);
      if (page.length === 0) break;
      for (const p of page) paths.set(p.id, p.path);
      after = page[page.length - 1].id;
    }
    const photos = [...paths.keys()];
    await signatures.load(photos, options.onProgress, paths);
    const readable = photos.filter((id) => signatures.get(id) !== null);
    stats.searched = readable.length;
    const pairs = await similarPairs(gridRows(readable.map((id) => signatures.get(id)!.vector)), {
      minScore: threshold, k: options.neighbours, bruteForceLimit: options.bruteForceLimit,
    });
    candidates = pairs.map((p) => ({ a: readable[p.a], b: readable[p.b] }));
  }
  stats.candidatePairs = candidates.length;
  for (const { a, b } of candidates) {
    if (isDismissed(a, b)) continue;
    if (verify) {
      const sa = signatures.get(a);
      const sb = signatures.get(b);
      if (sa === null || sb === null) {
        stats.unreadable++;
        continue;
      }
      if (hammingDistance(sa.hash, sb.hash) > maxHashDistance) continue;
    }
    stats.confirmedPairs++;
    links.union(a, b);
  }

  const memberSets = links.groups(2);
  const sets: DuplicateSet[] = [];
  for (const [i, ids] of memberSets.entries()) {
    options.onProgress?.('grouping', i, memberSets.length);
    const set = await summariseSet(library, ids, mode === 'vectors' ? modelId : null, signatures);
    if (set) sets.push(set);
  }
  sets.sort(bySetOrder);
  return { sets, stats };
}

/** Exact copies first (certain), then near duplicates most similar first; larger sets first, then by id. */
export function bySetOrder(a: DuplicateSet, b: DuplicateSet): number {
  if (a.kind !== b.kind) return a.kind === 'exact' ? -1 : 1;
  return b.similarity - a.similarity || b.ids.length - a.ids.length || a.ids[0] - b.ids[0];
}

/**
 * Kind and similarity of linked photos that are still in the library, or null when fewer than two are.
 * Vectors come from the catalogue for `modelId`, else from perceptual signatures when given.
 */
export async function summariseSet(
  library: Library, ids: PhotoId[], modelId: string | null, signatures?: PerceptualSignatures,
): Promise<DuplicateSet | null> {
  const photos = library.catalogue.getPhotos(ids).filter((p) => p.status !== 'missing');
  if (photos.length < 2) return null;
  const contentHashes = await Promise.all(photos.map(async (p) => p.contentHash ?? (await sameSizeSibling(p, photos) ? await hashFile(p.path).catch(() => null) : null)));
  const exact = contentHashes.every((h) => h !== null && h === contentHashes[0]);
  let similarity = 1;
  if (!exact) {
    const vectors = modelId
      ? photos.map((p) => library.catalogue.getVector(p.id, modelId))
      : photos.map((p) => signatures?.get(p.id)?.vector ?? null);
    similarity = lowestCosine(vectors, contentHashes);
  }
  return { ids: photos.map((p) => p.id).sort((a, b) => a - b), kind: exact ? 'exact' : 'near', similarity };
}

/** What the UI shows of a set: its photos still in the library, the copy to keep first; null if under two remain. */
export async function describeSet(library: Library, set: DuplicateSet): Promise<DuplicateGroup | null> {
  const photos = library.catalogue.getPhotos(set.ids).filter((p) => p.status !== 'missing');
  if (photos.length < 2) return null;
  const ordered = await orderForKeeping(photos);
  return { kind: set.kind, photos: ordered, keepId: ordered[0].id, similarity: set.similarity };
}

function sameSizeSibling(photo: PhotoDetail, group: PhotoDetail[]): boolean {
  return group.some((other) => other.id !== photo.id && other.size === photo.size);
}

function lowestCosine(vectors: (Float32Array | null)[], contentHashes: (string | null)[]): number {
  let lowest = 1;
  if (vectors.length > PAIRWISE_SIMILARITY_LIMIT) vectors = vectors.slice(0, PAIRWISE_SIMILARITY_LIMIT);
  for (let i = 0; i < vectors.length; i++) {
    for (let j = i + 1; j < vectors.length; j++) {
      const a = vectors[i];
      const b = vectors[j];
      if (contentHashes[i] !== null && contentHashes[i] === contentHashes[j]) continue; // identical bytes: 1
      if (!a || !b) continue;
      lowest = Math.min(lowest, dot(a, b));
    }
  }
  return Math.max(-1, Math.min(1, lowest));
}

/**
 * Best copy first: the most pixels, then the largest file, then the oldest (date taken, else file time),
 * then the lowest id. Pixel sizes not yet in the catalogue are read from the file header.
 */
export async function orderForKeeping(photos: PhotoDetail[]): Promise<PhotoDetail[]> {
  const area = new Map<PhotoId, number>();
  for (const p of photos) {
    let { width, height } = p;
    if (width === null || height === null) {
      const meta = await sharp(p.path).metadata().catch(() => null);
      width = meta?.width ?? 0;
      height = meta?.height ?? 0;
    }
    area.set(p.id, width * height);
  }
  const age = (p: PhotoDetail) => p.takenAt ?? p.mtimeMs;
  return [...photos].sort((a, b) =>
    area.get(b.id)! - area.get(a.id)! || b.size - a.size || age(a) - age(b) || a.id - b.id);
}

/** Vectors of visible photos for a model, as re-iterable batches whose row order must not change. */
class EmbeddingRows implements RowSource {
  readonly dim: number;
  readonly count: number;
  private ids: Uint32Array | null = null;

  constructor(private readonly library: Library, private readonly modelId: string) {
    this.dim = library.catalogue.getModel(modelId)!.dim;
    this.count = library.catalogue.countEmbeddings(modelId);
  }

  photoId(row: number): PhotoId {
    return this.ids![row];
  }

  *batches(): Iterable<Float32Array> {
    const first = this.ids === null;
    if (first) this.ids = new Uint32Array(this.count);
    let row = 0;
    for (const batch of this.library.catalogue.iterateEmbeddings(this.modelId, 0, 4096)) {
      const take = Math.min(batch.photoIds.length, this.count - row);
      for (let i = 0; i < take; i++) {
        if (first) this.ids![row + i] = batch.photoIds[i];
        else if (this.ids![row + i] !== batch.photoIds[i]) throw new Error('the library changed during the duplicate search; run it again');
      }
      yield take === batch.photoIds.length ? batch.vectors : batch.vectors.subarray(0, take * this.dim);
      row += take;
      if (row === this.count) break;
    }
    if (row !== this.count) throw new Error('the library changed during the duplicate search; run it again');
  }
}

function gridRows(vectors: Float32Array[]): RowSource {
  return {
    dim: GRID_VECTOR_DIM,
    count: vectors.length,
    *batches() {
      const rowsPerBatch = 8192;
      for (let start = 0; start < vectors.length; start += rowsPerBatch) {
        const chunk = vectors.slice(start, start + rowsPerBatch);
        const out = new Float32Array(chunk.length * GRID_VECTOR_DIM);
        chunk.forEach((v, i) => out.set(v, i * GRID_VECTOR_DIM));
        yield out;
      }
    },
  };
}

/** Perceptual signatures per photo, from the cached thumbnail when there is one (cheaper to decode), else the file. */
export class PerceptualSignatures {
  private readonly values = new Map<PhotoId, PerceptualSignature | null>();

  constructor(private readonly library: Library, private readonly concurrency: number) {}

  get(id: PhotoId): PerceptualSignature | null {
    return this.values.get(id) ?? null;
  }

  async load(ids: PhotoId[], onProgress?: FindDuplicatesOptions['onProgress'], knownPaths?: Map<PhotoId, string>): Promise<void> {
    const todo = [...new Set(ids)].filter((id) => !this.values.has(id));
    const paths = knownPaths ?? new Map(this.library.catalogue.getPhotos(todo).map((p) => [p.id, p.path]));
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < todo.length) {
        const id = todo[next++];
        this.values.set(id, await this.signatureOf(id, paths.get(id)));
        onProgress?.('hashing', ++done, todo.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.concurrency, todo.length)) }, worker));
  }

  private async signatureOf(id: PhotoId, file: string | undefined): Promise<PerceptualSignature | null> {
    const thumbnail = thumbnailPath(this.library.paths, id);
    for (const source of existsSync(thumbnail) ? [thumbnail, file] : [file]) {
      if (!source) continue;
      try {
        return await perceptualSignature(await readFile(source));
      } catch {
        // Try the next source; an unreadable photo simply cannot be confirmed.
      }
    }
    return null;
  }
}
