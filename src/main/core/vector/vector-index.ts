// The vector index: a rebuildable cache of the catalogue's embeddings for one model, answering
// "which photos are most similar to this vector" (cosine similarity = inner product of unit vectors).
//
// FAISS numbers its rows 0..n-1 in insertion order; this class keeps the row → photo id map beside it.
// Deletions are tombstones filtered at query time, never faiss removeIds (which renumbers a flat
// index's rows and aborts the process on HNSW). Re-adding a photo supersedes its previous row.
// All methods validate their input before reaching native code, so misuse throws a VectorIndexError.
// Synchronous except build(): run it in a worker thread (search-worker.ts) to keep an event loop free.
import { type BuildOptions, buildIndexParts, emptyFlat, type IndexMeta, type IndexParts, validateModelAndDim, type VectorSource } from './build-index.js';
import { VectorIndexError } from './errors.js';
import { patchNprobe } from './faiss-file.js';
import { type IndexKind, rebuildReason } from './index-policy.js';
import { type IndexManifest, type LoadExpectations, prepareLoad, readManifest, saveParts } from './index-store.js';
import { type FaissIndex, faiss, releaseDroppedIndexes } from './native.js';
import { assertVectorBatch, normaliseRowsInto, toNumbers } from './vector-math.js';
import { assertFreeSpace, estimateIndexBytes } from './disk.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type { BuildOptions, BuildProgress, CalibrationResult, VectorBatch, VectorSource } from './build-index.js';
export type { IndexManifest, LoadExpectations } from './index-store.js';
export type { IndexKind } from './index-policy.js';

export interface SearchHit {
  photoId: number;
  /** Cosine similarity (inner product of unit vectors); approximate to ~1e-3 for IVF,SQfp16. */
  score: number;
}

export interface SearchOptions {
  /** Photo ids to leave out (e.g. the query photo itself in a "similar photos" search). */
  exclude?: Iterable<number>;
  /** Keep only photos for which this returns true. */
  filter?: (photoId: number) => boolean;
  /**
   * Most candidates to fetch from FAISS while looking for k survivors of exclude/filter/deletions
   * (default max(1000, 8k)). A very selective filter is better served by scoring its photos exactly
   * (bruteForceTopK over their vectors from the catalogue).
   */
  maxCandidates?: number;
}

export interface IndexInfo {
  modelId: string;
  dim: number;
  kind: IndexKind;
  /** Rows in FAISS, deleted ones included. */
  rows: number;
  /** Searchable photos. */
  size: number;
  removed: number;
  nlist: number;
  nprobe: number;
  trainedOn: number;
  lastEmbeddingId: number;
  calibratedRecall: number | null;
  /**
   * About how many photos one search scores: all of them (flat), or the nprobe lists scanned (IVF, about
   * nprobe × rows / nlist). An IVF search returns at most that many results, and ranks far below the
   * top ~100 are approximate: ask for k well under it.
   */
  candidatesPerQuery: number;
  /** Why a rebuild from the catalogue is advisable, or null. */
  rebuildReason: string | null;
}

const ADD_CHUNK_ROWS = 1024;
const MAX_K = 100_000;

export class VectorIndex {
  private index: FaissIndex;
  private meta: IndexMeta;
  private rowIds: Uint32Array;
  private rowCount: number;
  private removed: Uint8Array;
  private removedCount = 0;
  /** Live row of each photo. */
  private rowOf = new Map<number, number>();

  private constructor(parts: IndexParts) {
    this.index = parts.index;
    this.meta = parts.meta;
    this.rowCount = parts.rowIds.length;
    this.rowIds = new Uint32Array(Math.max(1024, this.rowCount));
    this.rowIds.set(parts.rowIds);
    this.removed = new Uint8Array(this.rowIds.length);
    for (const row of parts.removedRows) this.tombstone(row);
    for (let row = 0; row < this.rowCount; row++) {
      if (this.removed[row]) continue;
      const previous = this.rowOf.get(this.rowIds[row]);
      if (previous !== undefined) this.tombstone(previous); // the later vector of a photo wins
      this.rowOf.set(this.rowIds[row], row);
    }
  }

  /** An empty exact index, ready for add(). */
  static create(opts: { modelId: string; dim: number }): VectorIndex {
    validateModelAndDim(opts.modelId, opts.dim);
    return new VectorIndex({
      index: emptyFlat(opts.dim),
      meta: { modelId: opts.modelId, dim: opts.dim, kind: 'flat', nlist: 0, nprobe: 0, trainedOn: 0, lastEmbeddingId: 0, calibration: null, builtAt: Date.now() },
      rowIds: new Uint32Array(0),
      removedRows: new Uint32Array(0),
    });
  }

  /**
   * Builds from a stream of batches (e.g. the catalogue's iterateEmbeddings), choosing flat or IVF by
   * size (index-policy.ts). The batches are consumed: their arrays are not kept.
   */
  static async build(source: VectorSource, opts: BuildOptions): Promise<VectorIndex> {
    return new VectorIndex(await buildIndexParts(source, opts));
  }

  /** Loads a saved index; throws VectorIndexError if it is missing, damaged or for another model/dim. */
  static load(dir: string, expect: LoadExpectations = {}): VectorIndex {
    return new VectorIndex(prepareLoad(dir, expect).open());
  }

  /** Checks a saved index without reading it into memory; open() then loads it. */
  static prepareLoad(dir: string, expect: LoadExpectations = {}): { manifest: IndexManifest; open(): VectorIndex } {
    const prepared = prepareLoad(dir, expect);
    return { manifest: prepared.manifest, open: () => new VectorIndex(prepared.open()) };
  }

  /** The manifest of a saved index without loading it (to decide between load and rebuild). */
  static readManifest(dir: string): IndexManifest {
    return readManifest(dir);
  }

  get dim(): number {
    return this.meta.dim;
  }

  get modelId(): string {
    return this.meta.modelId;
  }

  get kind(): IndexKind {
    return this.meta.kind;
  }

  /** Searchable photos. */
  get size(): number {
    return this.rowCount - this.removedCount;
  }

  get lastEmbeddingId(): number {
    return this.meta.lastEmbeddingId;
  }

  has(photoId: number): boolean {
    return this.rowOf.has(photoId);
  }

  /** Ids of the searchable photos, in row order. */
  photoIds(): Uint32Array {
    const out = new Uint32Array(this.size);
    let n = 0;
    for (let row = 0; row < this.rowCount; row++) if (!this.removed[row]) out[n++] = this.rowIds[row];
    return out;
  }

  info(): IndexInfo {
    return {
      modelId: this.meta.modelId,
      dim: this.meta.dim,
      kind: this.meta.kind,
      rows: this.rowCount,
      size: this.size,
      removed: this.removedCount,
      nlist: this.meta.nlist,
      nprobe: this.meta.nprobe,
      trainedOn: this.meta.trainedOn,
      lastEmbeddingId: this.meta.lastEmbeddingId,
      calibratedRecall: this.meta.calibration?.recall ?? null,
      candidatesPerQuery: this.meta.kind === 'ivf' ? Math.round((this.meta.nprobe * this.rowCount) / this.meta.nlist) : this.rowCount,
      rebuildReason: rebuildReason({ kind: this.meta.kind, rows: this.rowCount, removed: this.removedCount, trainedOn: this.meta.trainedOn }),
    };
  }

  /**
   * Adds vectors (row-major, photoIds.length × dim; normalised here). A photo already present is
   * superseded. `lastEmbeddingId`: the catalogue id of the newest embedding added, for catching up.
   */
  add(photoIds: Uint32Array, vectors: Float32Array, opts: { lastEmbeddingId?: number } = {}): void {
    assertVectorBatch(photoIds, vectors, this.dim);
    if (!this.index.isTrained()) throw new VectorIndexError('the index is not trained'); // add() would abort
    const unit = new Float32Array(vectors.length);
    normaliseRowsInto(vectors, unit, this.dim, (r) => `the vector of photo ${photoIds[r]}`);
    this.ensureCapacity(this.rowCount + photoIds.length);
    for (let start = 0; start < photoIds.length; start += ADD_CHUNK_ROWS) {
      const end = Math.min(photoIds.length, start + ADD_CHUNK_ROWS);
      this.index.add(toNumbers(unit.subarray(start * this.dim, end * this.dim)));
      for (let i = start; i < end; i++) {
        const row = this.rowCount++;
        this.rowIds[row] = photoIds[i];
        const previous = this.rowOf.get(photoIds[i]);
        if (previous !== undefined) this.tombstone(previous);
        this.rowOf.set(photoIds[i], row);
      }
    }
    if (opts.lastEmbeddingId !== undefined) {
      if (!Number.isSafeInteger(opts.lastEmbeddingId) || opts.lastEmbeddingId < 0) throw new VectorIndexError('lastEmbeddingId must be a non-negative integer');
      this.meta.lastEmbeddingId = Math.max(this.meta.lastEmbeddingId, opts.lastEmbeddingId);
    }
  }

  /** Makes photos unsearchable (deleted, hidden, re-embedding pending). Returns how many were present. */
  markRemoved(photoIds: Iterable<number>): number {
    let n = 0;
    for (const id of photoIds) {
      const row = this.rowOf.get(id);
      if (row === undefined) continue;
      this.tombstone(row);
      this.rowOf.delete(id);
      n++;
    }
    return n;
  }

  /** The k photos most similar to `query` (any length-dim vector; normalised here), best first. */
  search(query: Float32Array | ArrayLike<number>, k: number, opts: SearchOptions = {}): SearchHit[] {
    if (!Number.isInteger(k) || k < 0 || k > MAX_K) throw new VectorIndexError(`k must be an integer in 0..${MAX_K}, got ${k}`);
    if (!query || typeof query.length !== 'number') throw new VectorIndexError('query must be a Float32Array');
    if (query.length !== this.dim) {
      throw new VectorIndexError(`query has ${query.length} values but the index holds ${this.dim}-d vectors (model ${this.modelId})`);
    }
    const unit = new Float32Array(this.dim);
    normaliseRowsInto(Float32Array.from(query), unit, this.dim, () => 'the query vector');
    if (k === 0 || this.size === 0) return [];

    const exclude = opts.exclude ? new Set(opts.exclude) : null;
    const filter = opts.filter;
    if (filter !== undefined && typeof filter !== 'function') throw new VectorIndexError('filter must be a function');
    const maxCandidates = Math.min(this.rowCount, opts.maxCandidates ?? Math.max(1000, 8 * k));
    // Ask FAISS for enough rows that k survive the deletions and exclusions; with a filter, widen if needed.
    let want = Math.min(this.rowCount, Math.max(k + this.removedCount + (exclude?.size ?? 0), filter ? 2 * k : k));
    const q = toNumbers(unit);
    for (;;) {
      const fetched = Math.min(want, maxCandidates, this.rowCount);
      const { labels, distances } = this.index.search(q, fetched);
      const hits: SearchHit[] = [];
      let exhausted = false;
      for (let i = 0; i < labels.length && hits.length < k; i++) {
        const row = labels[i];
        if (row < 0) {
          exhausted = true; // IVF: the probed lists hold fewer rows than asked for
          break;
        }
        if (row >= this.rowCount || this.removed[row]) continue;
        const photoId = this.rowIds[row];
        if (exclude?.has(photoId) || (filter && !filter(photoId))) continue;
        hits.push({ photoId, score: distances[i] });
      }
      if (hits.length >= k || exhausted || fetched >= Math.min(maxCandidates, this.rowCount)) return hits;
      want = fetched * 4;
    }
  }

  /**
   * The k nearest rows of each of many queries in one FAISS call (FAISS spreads queries over its threads):
   * for scanning a whole library, e.g. for near-duplicates. Row-major results, query q's in
   * [q·k, (q+1)·k), best first; photoId 0 marks no result or a deleted row. Queries are normalised here.
   */
  searchBatch(queries: Float32Array, k: number): { photoIds: Uint32Array; scores: Float32Array } {
    if (!(queries instanceof Float32Array) || queries.length % this.dim !== 0) {
      throw new VectorIndexError(`queries must be a Float32Array of whole ${this.dim}-d vectors`);
    }
    if (!Number.isInteger(k) || k < 1 || k > 1000) throw new VectorIndexError(`k must be an integer in 1..1000, got ${k}`);
    const n = queries.length / this.dim;
    const fetched = Math.min(k, this.rowCount);
    const photoIds = new Uint32Array(n * k);
    const scores = new Float32Array(n * k);
    if (n === 0 || fetched === 0) return { photoIds, scores };
    const unit = new Float32Array(queries.length);
    normaliseRowsInto(queries, unit, this.dim, (r) => `query ${r}`);
    const { labels, distances } = this.index.search(toNumbers(unit), fetched);
    for (let q = 0; q < n; q++) {
      for (let j = 0; j < fetched; j++) {
        const row = labels[q * fetched + j];
        if (row < 0 || row >= this.rowCount || this.removed[row]) continue;
        photoIds[q * k + j] = this.rowIds[row];
        scores[q * k + j] = distances[q * fetched + j];
      }
    }
    return { photoIds, scores };
  }

  /**
   * IVF only: changes how many lists a query scans (recall against speed) by rewriting nprobe in a
   * serialised copy and reading it back (faiss-node has no setter). Costs a write and a read of the index.
   */
  async setNprobe(nprobe: number, scratchDir = os.tmpdir()): Promise<void> {
    if (this.meta.kind !== 'ivf') throw new VectorIndexError('nprobe applies to IVF indexes only');
    if (!Number.isInteger(nprobe) || nprobe < 1 || nprobe > this.meta.nlist) throw new VectorIndexError(`nprobe must be in 1..${this.meta.nlist}, got ${nprobe}`);
    const dir = mkdtempSync(path.join(scratchDir, `vector-nprobe-${process.pid}-`));
    try {
      assertFreeSpace(dir, estimateIndexBytes('ivf', this.rowCount, this.dim, this.meta.nlist));
      const file = path.join(dir, 'index.faiss');
      this.index.write(file);
      patchNprobe(file, nprobe);
      const next = faiss().Index.read(file);
      if (next.ntotal() !== this.rowCount) throw new VectorIndexError('re-reading the index lost rows');
      this.index = next;
      this.meta.nprobe = nprobe;
      await releaseDroppedIndexes();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Persists the index under `dir` (see index-store.ts). */
  save(dir: string): IndexManifest {
    const removedRows = new Uint32Array(this.removedCount);
    let n = 0;
    for (let row = 0; row < this.rowCount; row++) if (this.removed[row]) removedRows[n++] = row;
    return saveParts(dir, { index: this.index, meta: this.meta, rowIds: this.rowIds.subarray(0, this.rowCount), removedRows });
  }

  private tombstone(row: number): void {
    if (this.removed[row]) return;
    this.removed[row] = 1;
    this.removedCount++;
  }

  private ensureCapacity(rows: number): void {
    if (rows <= this.rowIds.length) return;
    const capacity = Math.max(rows, this.rowIds.length * 2);
    const ids = new Uint32Array(capacity);
    ids.set(this.rowIds.subarray(0, this.rowCount));
    const removed = new Uint8Array(capacity);
    removed.set(this.removed.subarray(0, this.rowCount));
    this.rowIds = ids;
    this.removed = removed;
  }
}
