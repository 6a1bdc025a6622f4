// The catalogue: SQLite is the source of truth for folders, photos, metadata, embeddings, ratings and
// tags. Every query lives here behind small typed methods (as Signal Desktop's data layer), so the rest
// of the app never writes SQL.
import type Database from 'better-sqlite3';
import type {
  FailedPhoto, LibraryFolder, PhotoDetail, PhotoId, PhotoStatus, PhotoSummary, SearchFilters, TagCount,
} from '../../../shared/types.js';
import type { ExifMetadata } from '../metadata.js';
import { openDatabase } from './database.js';
import { COUNT_ALL, COUNTER_TRIGGER_NAMES, COUNTER_TRIGGERS } from './migrations.js';

/** Metadata read from a photo while it is decoded for embedding: EXIF plus size, format and content hash. */
export interface PhotoMetadata extends ExifMetadata {
  width: number | null;
  height: number | null;
  format: string | null;
  contentHash: string | null;
}

export interface NewPhoto {
  folderId: number | null;
  path: string;
  size: number;
  mtimeMs: number;
}

/** What the scanner needs to diff a folder against the disk. */
export interface KnownFile {
  id: PhotoId;
  size: number;
  mtimeMs: number;
  status: PhotoStatus;
  contentHash: string | null;
}

export interface PhotoToEmbed {
  id: PhotoId;
  path: string;
  size: number;
  metadataRead: boolean;
}

export type EmbedOutcome =
  | { photoId: PhotoId; ok: true; vector: Float32Array; metadata: PhotoMetadata }
  | { photoId: PhotoId; ok: false; status: 'error' | 'unsupported'; error: string; metadata?: Partial<PhotoMetadata> };

export interface EmbeddingBatch {
  embeddingIds: number[];
  photoIds: Uint32Array;
  /** Row-major, photoIds.length × dim. */
  vectors: Float32Array;
}

export interface ModelRecord {
  id: string;
  dim: number;
  preprocessVersion: string;
}

export interface StatusCounts {
  photos: number;
  embedded: number;
  pending: number;
  failed: number;
  missing: number;
}

interface PhotoRow {
  id: number;
  folder_id: number | null;
  path: string;
  size: number;
  mtime_ms: number;
  width: number | null;
  height: number | null;
  format: string | null;
  content_hash: string | null;
  taken_at: number | null;
  camera_make: string | null;
  camera_model: string | null;
  lens: string | null;
  gps_lat: number | null;
  gps_lon: number | null;
  orientation: number | null;
  status: PhotoStatus;
  last_error: string | null;
  rating: number;
}

/** A photo's rating (0 = none), from the ratings table (migration 4). */
const RATING = 'coalesce((SELECT r.rating FROM ratings r WHERE r.photo_id = photos.id), 0) AS rating';
const SUMMARY_COLUMNS = `id, path, width, height, taken_at, ${RATING}, status`;
/** Photos that exist on disk as far as the catalogue knows; 'missing' ones keep their user data but hide. */
const VISIBLE = "status != 'missing'";
/** Browse order: newest first by date taken, falling back to file time. */
const BROWSE_KEY = 'coalesce(taken_at, mtime_ms)';
const BROWSE_ORDER = `${BROWSE_KEY} DESC, id DESC`;
/** Deep browse pages start from a remembered position every this many rows. */
const ANCHOR_EVERY = 2048;

export function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function blobToVector(blob: Buffer): Float32Array {
  // Copy: a Buffer's byteOffset need not be 4-aligned, and the caller may keep the vector.
  const out = new Float32Array(blob.byteLength / 4);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export class Catalogue {
  readonly db: Database.Database;

  constructor(file: string) {
    this.db = openDatabase(file);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * Runs a bulk write (an import of 624k photos) in one transaction without the per-row counter triggers, then
   * counts everything once and puts the triggers back: the per-row upkeep cost more than the count.
   */
  bulkTransaction<T>(fn: () => T): T {
    return this.transaction(() => {
      for (const name of COUNTER_TRIGGER_NAMES) this.db.exec(`DROP TRIGGER ${name}`);
      const result = fn();
      this.db.exec(`DELETE FROM photo_counts; DELETE FROM embedding_counts; ${COUNT_ALL} ${COUNTER_TRIGGERS}`);
      return result;
    });
  }

  // ---------- settings ----------

  getSetting(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setSetting(key: string, value: string | null): void {
    if (value === null) this.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // ---------- folders ----------

  addFolder(absPath: string, sep = '/'): LibraryFolder {
    const id = this.transaction(() => {
      this.db.prepare('INSERT INTO folders(path, added_at) VALUES (?, ?) ON CONFLICT(path) DO NOTHING').run(absPath, Date.now());
      const row = this.db.prepare('SELECT id FROM folders WHERE path = ?').get(absPath) as { id: number };
      // Photos registered without a folder (imported path lists) now belong to this one.
      const prefix = absPath.endsWith(sep) ? absPath : absPath + sep;
      this.db.prepare('UPDATE photos SET folder_id = ? WHERE folder_id IS NULL AND path >= ? AND path < ?')
        .run(row.id, prefix, prefix + '\u{10FFFF}');
      return row.id;
    });
    return this.getFolder(id)!;
  }

  getFolder(folderId: number): LibraryFolder | null {
    return (this.db.prepare(
      `SELECT f.id, f.path, (SELECT count(*) FROM photos p WHERE p.folder_id = f.id AND p.${VISIBLE}) AS photoCount
       FROM folders f WHERE f.id = ?`,
    ).get(folderId) as LibraryFolder | undefined) ?? null;
  }

  /** Library folder paths, without the per-folder photo counts listFolders computes (a scan of every photo). */
  folderPaths(): string[] {
    return this.db.prepare('SELECT path FROM folders ORDER BY path').pluck().all() as string[];
  }

  listFolders(): LibraryFolder[] {
    return this.db.prepare(
      `SELECT f.id, f.path, coalesce((SELECT sum(c.n) FROM photo_counts c WHERE c.folder_id = f.id AND c.status != 'missing'), 0) AS photoCount
       FROM folders f ORDER BY f.path`,
    ).all() as LibraryFolder[];
  }

  /** Forgets a folder. Its photos stay catalogued as missing so ratings and tags survive a re-add. */
  removeFolder(folderId: number): void {
    this.transaction(() => {
      this.db.prepare("UPDATE photos SET status = 'missing', folder_id = NULL WHERE folder_id = ?").run(folderId);
      this.db.prepare('DELETE FROM folders WHERE id = ?').run(folderId);
    });
  }

  // ---------- registering photos (scanner, import) ----------

  /** Every catalogued photo under a path prefix, keyed by path (what the scanner diffs against). */
  knownFilesUnder(prefix: string): Map<string, KnownFile> {
    const rows = this.db.prepare(
      `SELECT id, path, size, mtime_ms AS mtimeMs, status, content_hash AS contentHash FROM photos
       WHERE path >= ? AND path < ?`,
    ).raw(false).iterate(prefix, prefix + '\u{10FFFF}') as IterableIterator<KnownFile & { path: string }>;
    const known = new Map<string, KnownFile>();
    for (const row of rows) known.set(row.path, { id: row.id, size: row.size, mtimeMs: row.mtimeMs, status: row.status, contentHash: row.contentHash });
    return known;
  }

  /** Inserts new photos (ignoring paths already known); returns how many were added. */
  insertPhotos(photos: NewPhoto[]): number {
    const insert = this.db.prepare(
      `INSERT INTO photos(folder_id, path, size, mtime_ms, added_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(path) DO NOTHING`,
    );
    const now = Date.now();
    let added = 0;
    this.transaction(() => {
      for (const p of photos) added += insert.run(p.folderId, p.path, p.size, Math.round(p.mtimeMs), now).changes;
    });
    return added;
  }

  /** A file whose size or mtime changed: its metadata and vectors are stale, its rating and tags are not. */
  markChanged(changes: { id: PhotoId; size: number; mtimeMs: number; folderId: number | null }[]): void {
    const update = this.db.prepare(
      `UPDATE photos SET size = ?, mtime_ms = ?, folder_id = ?, status = 'pending', last_error = NULL,
       content_hash = NULL, metadata_read = 0 WHERE id = ?`,
    );
    const dropVectors = this.db.prepare('DELETE FROM embeddings WHERE photo_id = ?');
    this.transaction(() => {
      for (const c of changes) {
        update.run(c.size, Math.round(c.mtimeMs), c.folderId, c.id);
        dropVectors.run(c.id);
      }
    });
  }

  /** A missing file found again unchanged (e.g. a folder re-added): restore it without losing anything. */
  markRestored(changes: { id: PhotoId; folderId: number | null; hadVector: boolean }[]): void {
    const update = this.db.prepare(
      `UPDATE photos SET folder_id = ?, status = CASE WHEN ? THEN 'ok' ELSE 'pending' END WHERE id = ?`,
    );
    this.transaction(() => {
      for (const c of changes) update.run(c.folderId, c.hadVector ? 1 : 0, c.id);
    });
  }

  markMissing(photoIds: PhotoId[]): void {
    const update = this.db.prepare("UPDATE photos SET status = 'missing' WHERE id = ?");
    this.transaction(() => {
      for (const id of photoIds) update.run(id);
    });
  }

  /** A file moved or renamed (same content): the row follows it, keeping vectors, rating and tags. */
  movePhoto(photoId: PhotoId, newPath: string, folderId: number | null, size: number, mtimeMs: number): void {
    this.transaction(() => {
      // The new path may already have been registered as a new photo in this scan; the old row wins.
      this.db.prepare('DELETE FROM photos WHERE path = ? AND id != ? AND id NOT IN (SELECT photo_id FROM ratings) AND id NOT IN (SELECT photo_id FROM photo_tags)').run(newPath, photoId);
      const hasVector = this.db.prepare('SELECT 1 FROM embeddings WHERE photo_id = ? LIMIT 1').get(photoId) !== undefined;
      this.db.prepare(
        `UPDATE photos SET path = ?, folder_id = ?, size = ?, mtime_ms = ?, status = ? WHERE id = ?`,
      ).run(newPath, folderId, size, Math.round(mtimeMs), hasVector ? 'ok' : 'pending', photoId);
    });
  }

  /** Missing photos whose size is one of the given sizes, grouped by size (one query for a whole scan). */
  missingWithSizes(sizes: number[]): Map<number, { id: PhotoId; path: string; contentHash: string | null }[]> {
    const out = new Map<number, { id: PhotoId; path: string; contentHash: string | null }[]>();
    if (sizes.length === 0) return out;
    const rows = this.db.prepare(
      `SELECT id, path, size, content_hash AS contentHash FROM photos
       WHERE status = 'missing' AND size IN (SELECT value FROM json_each(?)) ORDER BY id`,
    ).all(JSON.stringify([...new Set(sizes)])) as { id: PhotoId; path: string; size: number; contentHash: string | null }[];
    for (const { size, ...candidate } of rows) {
      const list = out.get(size);
      if (list) list.push(candidate);
      else out.set(size, [candidate]);
    }
    return out;
  }

  /** Which of the given photos have a vector for any model (a restored photo with one needs no re-embedding). */
  photosWithVectors(photoIds: PhotoId[]): Set<PhotoId> {
    if (photoIds.length === 0) return new Set();
    return new Set(this.db.prepare(
      'SELECT DISTINCT photo_id FROM embeddings WHERE photo_id IN (SELECT value FROM json_each(?))',
    ).pluck().all(JSON.stringify(photoIds)) as number[]);
  }

  setContentHash(photoId: PhotoId, hash: string): void {
    this.db.prepare('UPDATE photos SET content_hash = ? WHERE id = ?').run(hash, photoId);
  }

  photoIdByPath(absPath: string): PhotoId | null {
    const row = this.db.prepare('SELECT id FROM photos WHERE path = ?').get(absPath) as { id: number } | undefined;
    return row?.id ?? null;
  }

  // ---------- models and embeddings ----------

  registerModel(model: ModelRecord): void {
    const existing = this.getModel(model.id);
    if (existing && existing.dim !== model.dim) {
      throw new Error(`model ${model.id} is registered with dimension ${existing.dim}, not ${model.dim}`);
    }
    this.db.prepare(
      `INSERT INTO models(id, dim, preprocess_version, added_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET preprocess_version = excluded.preprocess_version`,
    ).run(model.id, model.dim, model.preprocessVersion, Date.now());
  }

  getModel(modelId: string): ModelRecord | null {
    return (this.db.prepare('SELECT id, dim, preprocess_version AS preprocessVersion FROM models WHERE id = ?')
      .get(modelId) as ModelRecord | undefined) ?? null;
  }

  listModels(): ModelRecord[] {
    return this.db.prepare('SELECT id, dim, preprocess_version AS preprocessVersion FROM models ORDER BY id').all() as ModelRecord[];
  }

  /**
   * The next photos to embed with a model: present on disk, not failed, without a vector for this model.
   * Keyset-paged by id so a resumed run skips everything already embedded.
   */
  photosToEmbed(modelId: string, afterId: PhotoId, limit: number): PhotoToEmbed[] {
    return (this.db.prepare(
      `SELECT p.id, p.path, p.size, p.metadata_read AS metadataRead FROM photos p
       WHERE p.id > ? AND p.status IN ('pending', 'ok')
         AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = p.id AND e.model_id = ?)
       ORDER BY p.id LIMIT ?`,
    ).all(afterId, modelId, limit) as { id: number; path: string; size: number; metadataRead: number }[])
      .map((r) => ({ ...r, metadataRead: r.metadataRead === 1 }));
  }

  /** Photos waiting for a vector of this model: from the counters (migration 2), not a scan. */
  countToEmbed(modelId: string): number {
    return (this.db.prepare(
      `SELECT coalesce((SELECT sum(n) FROM photo_counts WHERE status IN ('pending', 'ok')), 0)
            - coalesce((SELECT sum(n) FROM embedding_counts WHERE model_id = ? AND status IN ('pending', 'ok')), 0) AS n`,
    ).get(modelId) as { n: number }).n;
  }

  /** Stores one batch of embedding results atomically: a kill loses at most the batch in flight. */
  saveEmbedBatch(model: ModelRecord, outcomes: EmbedOutcome[]): void {
    const ok = this.db.prepare(
      `UPDATE photos SET status = 'ok', last_error = NULL, metadata_read = 1, width = ?, height = ?, format = ?,
       content_hash = coalesce(?, content_hash), taken_at = ?, camera_make = ?, camera_model = ?, lens = ?,
       gps_lat = ?, gps_lon = ?, orientation = ? WHERE id = ?`,
    );
    const failed = this.db.prepare(
      `UPDATE photos SET status = ?, last_error = ?, format = coalesce(?, format), content_hash = coalesce(?, content_hash)
       WHERE id = ?`,
    );
    const insertVector = this.db.prepare(
      `INSERT INTO embeddings(photo_id, model_id, preprocess_version, vector, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(photo_id, model_id) DO NOTHING`,
    );
    const now = Date.now();
    this.transaction(() => {
      for (const o of outcomes) {
        if (o.ok) {
          if (o.vector.length !== model.dim) throw new Error(`vector of length ${o.vector.length} for a ${model.dim}-d model`);
          const m = o.metadata;
          ok.run(m.width, m.height, m.format, m.contentHash, m.takenAt, m.cameraMake, m.cameraModel, m.lens,
            m.gpsLat, m.gpsLon, m.orientation, o.photoId);
          insertVector.run(o.photoId, model.id, model.preprocessVersion, vectorToBlob(o.vector), now);
        } else {
          failed.run(o.status, o.error.slice(0, 2000), o.metadata?.format ?? null, o.metadata?.contentHash ?? null, o.photoId);
        }
      }
    });
  }

  /**
   * Stores vectors brought in from outside (import). Photos that already have a vector for the model
   * keep it. Returns how many were stored.
   */
  importVectors(model: ModelRecord, photoIds: PhotoId[], vectors: Float32Array): number {
    const insert = this.db.prepare(
      `INSERT INTO embeddings(photo_id, model_id, preprocess_version, vector, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(photo_id, model_id) DO NOTHING`,
    );
    const markOk = this.db.prepare("UPDATE photos SET status = 'ok' WHERE id IN (SELECT value FROM json_each(?)) AND status = 'pending'");
    const now = Date.now();
    let stored = 0;
    this.transaction(() => {
      markOk.run(JSON.stringify(photoIds));
      photoIds.forEach((id, row) => {
        const vector = vectors.subarray(row * model.dim, (row + 1) * model.dim);
        stored += insert.run(id, model.id, model.preprocessVersion, vectorToBlob(vector), now).changes;
      });
    });
    return stored;
  }

  getVector(photoId: PhotoId, modelId: string): Float32Array | null {
    const row = this.db.prepare('SELECT vector FROM embeddings WHERE photo_id = ? AND model_id = ?').get(photoId, modelId) as
      { vector: Buffer } | undefined;
    return row ? blobToVector(row.vector) : null;
  }

  /** Vectors of this model whose photo is visible: from the counters (migration 2), not a scan. */
  countEmbeddings(modelId: string): number {
    return (this.db.prepare(
      `SELECT coalesce(sum(n), 0) AS n FROM embedding_counts WHERE model_id = ? AND status != 'missing'`,
    ).get(modelId) as { n: number }).n;
  }

  /** The newest embedding id stored for a model (0 when none). */
  lastEmbeddingId(modelId: string): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) AS n FROM embeddings WHERE model_id = ?').get(modelId) as { n: number }).n;
  }

  /** Vectors of a model stored after an embedding id (walks the (model_id, id) index from there). */
  countEmbeddingsAfter(modelId: string, afterEmbeddingId: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM embeddings WHERE model_id = ? AND id > ?').get(modelId, afterEmbeddingId) as { n: number }).n;
  }

  /**
   * Streams the vectors of visible photos for a model in embedding-id order, `batchSize` at a time,
   * starting after an embedding id (0 = all). Used to build and to catch up the vector index.
   */
  *iterateEmbeddings(modelId: string, afterEmbeddingId: number, batchSize = 8192): Generator<EmbeddingBatch> {
    const model = this.getModel(modelId);
    if (!model) return;
    const stmt = this.db.prepare(
      `SELECT e.id, e.photo_id, e.vector FROM embeddings e JOIN photos p ON p.id = e.photo_id
       WHERE e.model_id = ? AND e.id > ? AND p.${VISIBLE} ORDER BY e.id LIMIT ?`,
    ).raw(true);
    let after = afterEmbeddingId;
    for (;;) {
      const rows = stmt.all(modelId, after, batchSize) as [number, number, Buffer][];
      if (rows.length === 0) return;
      const vectors = new Float32Array(rows.length * model.dim);
      const bytes = new Uint8Array(vectors.buffer);
      const photoIds = new Uint32Array(rows.length);
      rows.forEach(([, photoId, blob], i) => {
        if (blob.byteLength !== model.dim * 4) throw new Error(`embedding of photo ${photoId} has ${blob.byteLength / 4} values, expected ${model.dim}`);
        bytes.set(blob, i * model.dim * 4);
        photoIds[i] = photoId;
      });
      yield { embeddingIds: rows.map((r) => r[0]), photoIds, vectors };
      after = rows[rows.length - 1][0];
    }
  }

  /** Ids of visible photos that have a vector for the model (to reconcile the index at start-up). */
  embeddedPhotoIds(modelId: string): Set<PhotoId> {
    const ids = this.db.prepare(
      `SELECT e.photo_id FROM embeddings e JOIN photos p ON p.id = e.photo_id WHERE e.model_id = ? AND p.${VISIBLE}`,
    ).pluck().all(modelId) as number[];
    return new Set(ids);
  }

  // ---------- reading photos ----------

  getPhoto(photoId: PhotoId): PhotoDetail | null {
    const row = this.db.prepare(`SELECT *, ${RATING} FROM photos WHERE id = ?`).get(photoId) as PhotoRow | undefined;
    if (!row) return null;
    return toDetail(row, this.tagsFor([photoId]).get(photoId) ?? []);
  }

  /** Where a photo is and what it is: all that serving its bytes needs (no tags, no metadata). */
  photoFile(photoId: PhotoId): { path: string; status: PhotoStatus; format: string | null } | null {
    return (this.db.prepare('SELECT path, status, format FROM photos WHERE id = ?').get(photoId) as
      { path: string; status: PhotoStatus; format: string | null } | undefined) ?? null;
  }

  getPhotos(photoIds: PhotoId[]): PhotoDetail[] {
    if (photoIds.length === 0) return [];
    const rows = this.db.prepare(`SELECT *, ${RATING} FROM photos WHERE id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(photoIds)) as PhotoRow[];
    const tags = this.tagsFor(photoIds);
    const byId = new Map(rows.map((r) => [r.id, toDetail(r, tags.get(r.id) ?? [])]));
    return photoIds.map((id) => byId.get(id)).filter((p): p is PhotoDetail => p !== undefined);
  }

  /** Paths of the given photos (export writes one per vector row; lighter than getPhotos). */
  photoPaths(photoIds: PhotoId[]): Map<PhotoId, string> {
    if (photoIds.length === 0) return new Map();
    const rows = this.db.prepare('SELECT id, path FROM photos WHERE id IN (SELECT value FROM json_each(?))').raw(true)
      .all(JSON.stringify(photoIds)) as [PhotoId, string][];
    return new Map(rows);
  }

  /** Ids and paths of visible photos, keyset-paged by id (duplicates' perceptual pass walks them all). */
  visiblePhotoPaths(afterId: PhotoId, limit: number): { id: PhotoId; path: string }[] {
    return this.db.prepare(`SELECT id, path FROM photos WHERE id > ? AND ${VISIBLE} ORDER BY id LIMIT ?`)
      .all(afterId, limit) as { id: PhotoId; path: string }[];
  }

  /** Summaries for ids in the given order (ids that no longer exist are dropped). */
  summaries(photoIds: PhotoId[]): PhotoSummary[] {
    if (photoIds.length === 0) return [];
    const rows = this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM photos WHERE id IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(photoIds)) as PhotoRow[];
    const tags = this.tagsFor(photoIds);
    const byId = new Map(rows.map((r) => [r.id, toSummary(r, tags.get(r.id) ?? [])]));
    return photoIds.map((id) => byId.get(id)).filter((p): p is PhotoSummary => p !== undefined);
  }

  /** Browsing: visible photos matching the filters, newest first. */
  browse(filters: SearchFilters, offset: number, limit: number): { items: PhotoSummary[]; total: number } {
    const { where, params } = filterClause(filters);
    // Counted once per filter until the catalogue changes: a count walks every match (100 ms for 300k).
    const state = this.anchorList(filters);
    const total = (state.total ??= this.countMatching(filters));
    // A deep page starts from the nearest remembered position (keyset), so it skips at most ANCHOR_EVERY rows
    // instead of every row before it.
    const anchor = offset >= ANCHOR_EVERY ? this.browseAnchor(filters, offset) : null;
    const after = anchor ? afterAnchorClause(filters, anchor.key) : null;
    const rows = (anchor && after
      ? this.db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM photos WHERE ${after.where} ORDER BY ${BROWSE_ORDER} LIMIT ? OFFSET ?`)
        .all(...after.params, limit, offset - anchor.offset)
      : this.db.prepare(
        `SELECT ${SUMMARY_COLUMNS} FROM photos WHERE ${where} ORDER BY ${BROWSE_ORDER} LIMIT ? OFFSET ?`,
      ).all(...params, limit, offset)) as PhotoRow[];
    const tags = this.tagsFor(rows.map((r) => r.id));
    return { items: rows.map((r) => toSummary(r, tags.get(r.id) ?? [])), total };
  }

  private anchors: { filter: string; version: string; keys: [number, number][]; complete: boolean; total?: number } | null = null;

  /**
   * The browse-order keys of every ANCHOR_EVERY-th photo passing the filters, found one page-walk at a time and
   * kept until the catalogue changes (this connection's writes or another process's commits).
   */
  private anchorList(filters: SearchFilters) {
    const filter = JSON.stringify(filterClause(filters));
    const version = `${this.db.pragma('data_version', { simple: true })}:${this.db.prepare('SELECT total_changes()').pluck().get()}`;
    if (this.anchors?.filter !== filter || this.anchors.version !== version) this.anchors = { filter, version, keys: [], complete: false };
    return this.anchors;
  }

  /** Finds positions until `index` is known, the list is complete, or the deadline passes; returns the list. */
  private extendAnchors(filters: SearchFilters, index: number, deadline = Infinity) {
    const anchors = this.anchorList(filters);
    while (anchors.keys.length <= index && !anchors.complete && performance.now() < deadline) {
      const last = anchors.keys[anchors.keys.length - 1];
      const { where, params } = last ? afterAnchorClause(filters, last) : filterClause(filters);
      // From the last position, the one ANCHOR_EVERY rows further; with none yet, the first row.
      const next = this.db.prepare(`SELECT ${BROWSE_KEY}, id FROM photos WHERE ${where} ORDER BY ${BROWSE_ORDER} LIMIT 1 OFFSET ${last ? ANCHOR_EVERY : 0}`)
        .raw(true).get(...params) as [number, number] | undefined;
      if (next) anchors.keys.push(next);
      else anchors.complete = true;
    }
    return anchors;
  }

  /** Readies the position a browse page at `offset` starts from, yielding to the event loop every 20 ms. */
  async prepareBrowse(filters: SearchFilters, offset: number): Promise<void> {
    if (offset < ANCHOR_EVERY) return;
    const index = Math.floor(offset / ANCHOR_EVERY);
    for (;;) {
      const anchors = this.extendAnchors(filters, index, performance.now() + 20);
      if (anchors.complete || anchors.keys.length > index) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private browseAnchor(filters: SearchFilters, offset: number): { key: [number, number]; offset: number } | null {
    const wanted = Math.floor(offset / ANCHOR_EVERY);
    const { keys } = this.extendAnchors(filters, wanted);
    const index = Math.min(wanted, keys.length - 1);
    if (index < 1) return null;
    return { key: keys[index], offset: index * ANCHOR_EVERY };
  }

  /** Keeps, in order, the candidate ids that are visible and pass the filters. */
  filterIds(photoIds: PhotoId[], filters: SearchFilters): PhotoId[] {
    if (photoIds.length === 0) return [];
    const { where, params } = filterClause(filters);
    const passing = new Set(this.db.prepare(
      `SELECT id FROM photos WHERE id IN (SELECT value FROM json_each(?)) AND ${where}`,
    ).pluck().all(JSON.stringify(photoIds), ...params) as number[]);
    return photoIds.filter((id) => passing.has(id));
  }

  /** How many visible photos pass the filters. */
  countMatching(filters: SearchFilters): number {
    const { folderId, ...rest } = filters;
    if (!Catalogue.hasFilters(rest)) {
      // The whole library or one folder: the counters know (a count(*) here walks every row, 130 ms at 624k).
      return (this.db.prepare(
        `SELECT coalesce(sum(n), 0) AS n FROM photo_counts WHERE status != 'missing'${folderId !== undefined ? ' AND folder_id = ?' : ''}`,
      ).get(...(folderId !== undefined ? [folderId] : [])) as { n: number }).n;
    }
    const { where, params } = filterClause(filters);
    return (this.db.prepare(`SELECT count(*) AS n FROM photos WHERE ${where}`).get(...params) as { n: number }).n;
  }

  /** Ids of the visible photos passing the filters, in id order. */
  matchingIds(filters: SearchFilters): Uint32Array {
    const { where, params } = filterClause(filters);
    return Uint32Array.from(this.db.prepare(`SELECT id FROM photos WHERE ${where} ORDER BY id`).pluck().all(...params) as number[]);
  }

  /** The vectors of a model for these photos (those that have one), packed row-major. */
  vectorsFor(modelId: string, photoIds: ArrayLike<number>): { photoIds: Uint32Array; vectors: Float32Array } {
    const model = this.getModel(modelId);
    if (!model || photoIds.length === 0) return { photoIds: new Uint32Array(0), vectors: new Float32Array(0) };
    const rows = this.db.prepare(
      'SELECT photo_id, vector FROM embeddings WHERE model_id = ? AND photo_id IN (SELECT value FROM json_each(?))',
    ).raw(true).all(modelId, JSON.stringify(Array.from(photoIds))) as [number, Buffer][];
    const bytesPerRow = model.dim * 4;
    const ids = new Uint32Array(rows.length);
    const vectors = new Float32Array(rows.length * model.dim);
    const bytes = new Uint8Array(vectors.buffer);
    let kept = 0;
    for (const [id, blob] of rows) {
      if (blob.byteLength !== bytesPerRow) continue;
      ids[kept] = id;
      bytes.set(blob, kept * bytesPerRow);
      kept++;
    }
    return { photoIds: ids.subarray(0, kept), vectors: vectors.subarray(0, kept * model.dim) };
  }

  /** True when the filters can exclude anything (so vector search must over-fetch and filter). */
  static hasFilters(filters: SearchFilters | undefined): boolean {
    return filterClause(filters ?? {}).params.length > 0;
  }

  statusCounts(modelId: string | null): StatusCounts {
    const byStatus = new Map(
      (this.db.prepare('SELECT status, sum(n) AS n FROM photo_counts GROUP BY status').all() as { status: string; n: number }[])
        .map((r) => [r.status, r.n]),
    );
    const missing = byStatus.get('missing') ?? 0;
    const photos = [...byStatus.values()].reduce((a, b) => a + b, 0) - missing;
    const failed = (byStatus.get('error') ?? 0) + (byStatus.get('unsupported') ?? 0);
    const embedded = modelId ? this.countEmbeddings(modelId) : 0;
    return { photos, embedded, pending: modelId ? this.countToEmbed(modelId) : byStatus.get('pending') ?? 0, failed, missing };
  }

  listFailed(limit: number): FailedPhoto[] {
    return this.db.prepare(
      `SELECT id, path, status, coalesce(last_error, '') AS error FROM photos
       WHERE status IN ('error', 'unsupported') ORDER BY id LIMIT ?`,
    ).all(limit) as FailedPhoto[];
  }

  // ---------- ratings and tags (user data: never dropped by rescans) ----------

  setRating(photoIds: PhotoId[], rating: number): void {
    if (!Number.isInteger(rating) || rating < 0 || rating > 5) throw new Error(`rating must be an integer 0–5, got ${rating}`);
    // One statement for the whole selection, on the narrow ratings table: 10,000 photos in a few milliseconds.
    const ids = JSON.stringify(photoIds);
    if (rating === 0) this.db.prepare('DELETE FROM ratings WHERE photo_id IN (SELECT value FROM json_each(?))').run(ids);
    else {
      this.db.prepare(
        `INSERT INTO ratings(photo_id, rating) SELECT p.id, ? FROM photos p WHERE p.id IN (SELECT value FROM json_each(?))
         ON CONFLICT(photo_id) DO UPDATE SET rating = excluded.rating`,
      ).run(rating, ids);
    }
  }

  addTags(photoIds: PhotoId[], names: string[]): void {
    const clean = normaliseTags(names);
    const insertTag = this.db.prepare('INSERT INTO tags(name) VALUES (?) ON CONFLICT(name) DO NOTHING');
    const tagId = this.db.prepare('SELECT id FROM tags WHERE name = ?').pluck();
    const link = this.db.prepare('INSERT INTO photo_tags(photo_id, tag_id) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM photos WHERE id = ?) ON CONFLICT DO NOTHING');
    this.transaction(() => {
      for (const name of clean) {
        insertTag.run(name);
        const id = tagId.get(name) as number;
        for (const photoId of photoIds) link.run(photoId, id, photoId);
      }
    });
  }

  removeTags(photoIds: PhotoId[], names: string[]): void {
    const unlink = this.db.prepare('DELETE FROM photo_tags WHERE photo_id = ? AND tag_id = (SELECT id FROM tags WHERE name = ?)');
    this.transaction(() => {
      for (const name of normaliseTags(names)) for (const photoId of photoIds) unlink.run(photoId, name);
      this.db.prepare('DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM photo_tags)').run();
    });
  }

  listTags(prefix: string): TagCount[] {
    return this.db.prepare(
      `SELECT t.name, count(pt.photo_id) AS count FROM tags t JOIN photo_tags pt ON pt.tag_id = t.id
       WHERE t.name LIKE ? ESCAPE '\\' GROUP BY t.id ORDER BY count DESC, t.name LIMIT 50`,
    ).all(likeEscape(prefix.trim()) + '%') as TagCount[];
  }

  tagsFor(photoIds: PhotoId[]): Map<PhotoId, string[]> {
    const out = new Map<PhotoId, string[]>();
    if (photoIds.length === 0) return out;
    const rows = this.db.prepare(
      `SELECT pt.photo_id AS photoId, t.name FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id
       WHERE pt.photo_id IN (SELECT value FROM json_each(?)) ORDER BY t.name`,
    ).all(JSON.stringify(photoIds)) as { photoId: number; name: string }[];
    for (const r of rows) {
      const list = out.get(r.photoId);
      if (list) list.push(r.name);
      else out.set(r.photoId, [r.name]);
    }
    return out;
  }

  // ---------- duplicates ----------

  /** Groups of visible photos sharing a content hash. */
  exactDuplicateGroups(): PhotoId[][] {
    const rows = this.db.prepare(
      `SELECT content_hash AS h, id FROM photos WHERE ${VISIBLE} AND content_hash IS NOT NULL AND content_hash IN (
         SELECT content_hash FROM photos WHERE ${VISIBLE} AND content_hash IS NOT NULL
         GROUP BY content_hash HAVING count(*) > 1) ORDER BY h, id`,
    ).all() as { h: string; id: number }[];
    const groups = new Map<string, PhotoId[]>();
    for (const r of rows) groups.set(r.h, [...(groups.get(r.h) ?? []), r.id]);
    return [...groups.values()];
  }
}

export function normaliseTags(names: string[]): string[] {
  // NFC so that the same word typed on different keyboards (e.g. Hebrew with or without composed marks) is one tag.
  const seen = new Set<string>();
  for (const name of names) {
    const clean = name.normalize('NFC').trim().replace(/\s+/g, ' ');
    if (clean.length > 0 && clean.length <= 100) seen.add(clean);
  }
  return [...seen];
}

function filterClause(filters: SearchFilters): { where: string; params: (string | number)[] } {
  const parts = [VISIBLE];
  const params: (string | number)[] = [];
  if (filters.minRating !== undefined && filters.minRating > 0) {
    parts.push('photos.id IN (SELECT photo_id FROM ratings WHERE rating >= ?)');
    params.push(filters.minRating);
  }
  if (filters.folderId !== undefined) {
    parts.push('folder_id = ?');
    params.push(filters.folderId);
  }
  if (filters.dateFrom !== undefined) {
    parts.push('coalesce(taken_at, mtime_ms) >= ?');
    params.push(filters.dateFrom);
  }
  if (filters.dateTo !== undefined) {
    parts.push('coalesce(taken_at, mtime_ms) <= ?');
    params.push(filters.dateTo);
  }
  if (filters.camera && filters.camera.trim()) {
    parts.push("(coalesce(camera_make, '') || ' ' || coalesce(camera_model, '')) LIKE ? ESCAPE '\\'");
    params.push(`%${likeEscape(filters.camera.trim())}%`);
  }
  for (const tag of normaliseTags(filters.tags ?? [])) {
    // Driven from the tag (photo_tags_tag index), so a rare tag costs its own rows, not a pass over every photo.
    parts.push('photos.id IN (SELECT pt.photo_id FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE t.name = ?)');
    params.push(tag);
  }
  return { where: parts.join(' AND '), params };
}

/**
 * The filters from an anchor on, in browse order. The anchor's key replaces dateTo as the upper bound (it is
 * never above it): given two upper bounds on the sort key SQLite would walk the index from the looser one.
 */
function afterAnchorClause(filters: SearchFilters, [key, id]: [number, number]): { where: string; params: (string | number)[] } {
  const { where, params } = filterClause({ ...filters, dateTo: undefined });
  return { where: `${where} AND ${BROWSE_KEY} <= ? AND (${BROWSE_KEY} < ? OR id <= ?)`, params: [...params, key, key, id] };
}

function toSummary(row: PhotoRow, tags: string[]): PhotoSummary {
  return {
    id: row.id,
    path: row.path,
    width: row.width,
    height: row.height,
    takenAt: row.taken_at,
    rating: row.rating,
    tags,
    status: row.status,
  };
}

function toDetail(row: PhotoRow, tags: string[]): PhotoDetail {
  return {
    ...toSummary(row, tags),
    folderId: row.folder_id,
    size: row.size,
    mtimeMs: row.mtime_ms,
    format: row.format,
    contentHash: row.content_hash,
    cameraMake: row.camera_make,
    cameraModel: row.camera_model,
    lens: row.lens,
    gpsLat: row.gps_lat,
    gpsLon: row.gps_lon,
    orientation: row.orientation,
    lastError: row.last_error,
  };
}
