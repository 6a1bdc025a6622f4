// The catalogue's reads for the UI and search: photos by id, browsing (newest first, with keyset anchors for
// deep pages), the filters applied to candidate ids, counts by status, failures and exact duplicates.
import type Database from 'better-sqlite3';
import type {
  TimelineMonth,
  FailedPhoto, PhotoDetail, PhotoId, PhotoStatus, PhotoSummary, SearchFilters,
} from '../../../shared/types.js';
import type { EmbeddingStore } from './embeddings.js';
import { CataloguePart, filterClause, hasFilters, RATING, VISIBLE } from './shared.js';
import type { UserDataStore } from './user-data.js';

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
  date_ms?: number;
}

/** Browse order: newest first by date taken, falling back to file time. */
const BROWSE_KEY = 'coalesce(taken_at, mtime_ms)';
const SUMMARY_COLUMNS = `id, path, width, height, taken_at, ${RATING}, status, ${BROWSE_KEY} AS date_ms`;
const BROWSE_ORDER = `${BROWSE_KEY} DESC, id DESC`;
/** Deep browse pages start from a remembered position every this many rows. */
const ANCHOR_EVERY = 2048;

export class PhotoQueries extends CataloguePart {
  constructor(db: Database.Database, private readonly userData: UserDataStore, private readonly embeddings: EmbeddingStore) {
    super(db);
  }

  // ---------- reading photos ----------

  getPhoto(photoId: PhotoId): PhotoDetail | null {
    const row = this.db.prepare(`SELECT *, ${RATING} FROM photos WHERE id = ?`).get(photoId) as PhotoRow | undefined;
    if (!row) return null;
    return toDetail(row, this.userData.tagsFor([photoId]).get(photoId) ?? []);
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
    const tags = this.userData.tagsFor(photoIds);
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
    const tags = this.userData.tagsFor(photoIds);
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
    const tags = this.userData.tagsFor(rows.map((r) => r.id));
    return { items: rows.map((r) => toSummary(r, tags.get(r.id) ?? [])), total };
  }

  private anchors: { filter: string; version: string; keys: [number, number][]; complete: boolean; total?: number } | null = null;

  /**
   * The browse-order keys of every ANCHOR_EVERY-th photo passing the filters, found one page-walk at a time and
   * kept until the catalogue changes (this connection's writes or another process's commits).
   */
  private anchorList(filters: SearchFilters) {
    const filter = JSON.stringify(filterClause(filters));
    const version = this.changeStamp();
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

  private lastTimeline: { filter: string; version: string; months: TimelineMonth[] } | null = null;

  /**
   * Visible photos passing the filters per month of their browse date (UTC, as the grid labels them), newest
   * first, empty months left out. A GROUP BY on the month computed per row takes 5-7 s at 624k; see the two
   * ways below. Kept until the catalogue changes.
   */
  timeline(filters: SearchFilters): TimelineMonth[] {
    const { where, params } = filterClause(filters);
    const filter = JSON.stringify([where, params]);
    const version = this.changeStamp();
    if (this.lastTimeline?.filter === filter && this.lastTimeline.version === version) return this.lastTimeline.months;
    const byRows = hasFilters({ ...filters, folderId: undefined, dateFrom: undefined, dateTo: undefined });
    const months = byRows ? this.timelineByRows(where, params) : this.timelineByRanges(where, params);
    this.lastTimeline = { filter, version, months };
    return months;
  }

  /**
   * Month by month down the browse index (the whole library, a folder, a date range): one seek to the newest
   * date under the current bound, one range count for its month. 24-35 ms for 240 months at 624k.
   */
  private timelineByRanges(where: string, params: (string | number)[]): TimelineMonth[] {
    const newest = this.db.prepare(`SELECT ${BROWSE_KEY} FROM photos WHERE ${where} AND ${BROWSE_KEY} < ? ORDER BY ${BROWSE_ORDER} LIMIT 1`).pluck();
    const count = this.db.prepare(`SELECT count(*) FROM photos WHERE ${where} AND ${BROWSE_KEY} >= ? AND ${BROWSE_KEY} < ?`).pluck();
    const months: TimelineMonth[] = [];
    let bound = Number.MAX_SAFE_INTEGER;
    for (;;) {
      const key = newest.get(...params, bound) as number | null | undefined;
      if (key === undefined || key === null) break;
      const date = new Date(key);
      const year = date.getUTCFullYear();
      const month = date.getUTCMonth() + 1;
      const start = Date.UTC(year, month - 1, 1);
      if (!Number.isFinite(start)) break;
      const n = count.get(...params, start, bound) as number;
      if (n > 0) months.push({ year, month, count: n });
      bound = start;
    }
    return months;
  }

  /**
   * Rating, tag or camera filters: per-month range counts would re-run the filter 240 times (12 s for
   * minRating at 624k), so the matching rows' dates are read once and counted here (80 ms for 28k matches;
   * as slow as the browse count for filters that scan every row).
   */
  private timelineByRows(where: string, params: (string | number)[]): TimelineMonth[] {
    const counts = new Map<number, number>();
    for (const key of this.db.prepare(`SELECT ${BROWSE_KEY} FROM photos WHERE ${where}`).pluck().iterate(...params) as Iterable<number | null>) {
      if (key === null) continue;
      const date = new Date(key);
      const index = date.getUTCFullYear() * 12 + date.getUTCMonth();
      if (Number.isFinite(index)) counts.set(index, (counts.get(index) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => b[0] - a[0]).map(([index, count]) => ({ year: Math.floor(index / 12), month: (index % 12 + 12) % 12 + 1, count }));
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
    if (!hasFilters(rest)) {
      // The whole library or one folder: the counters know (a count(*) here walks every row, 130 ms at 624k).
      return (this.db.prepare(
        `SELECT coalesce(sum(n), 0) AS n FROM photo_counts WHERE status != 'missing'${folderId !== undefined ? ' AND folder_id = ?' : ''}`,
      ).get(...(folderId !== undefined ? [folderId] : [])) as { n: number }).n;
    }
    const { where, params } = filterClause(filters);
    return (this.db.prepare(`SELECT count(*) AS n FROM photos WHERE ${where}`).get(...params) as { n: number }).n;
  }

  /** Changes whenever this connection writes or another process commits: what cached answers are keyed by. */
  private changeStamp(): string {
    return `${this.db.pragma('data_version', { simple: true })}:${this.db.prepare('SELECT total_changes()').pluck().get()}`;
  }

  private lastMatching: { filter: string; version: string; ids: Uint32Array } | null = null;

  /**
   * Ids of the visible photos passing the filters, in id order. The last answer is kept until the catalogue
   * changes: "similar photos" for one photo after another under one filter (30 ms for 63k matches at 624k).
   * Callers must not modify the array.
   */
  matchingIds(filters: SearchFilters): Uint32Array {
    const { where, params } = filterClause(filters);
    const filter = JSON.stringify([where, params]);
    const version = this.changeStamp();
    if (this.lastMatching?.filter === filter && this.lastMatching.version === version) return this.lastMatching.ids;
    const ids = Uint32Array.from(this.db.prepare(`SELECT id FROM photos WHERE ${where} ORDER BY id`).pluck().all(...params) as number[]);
    this.lastMatching = { filter, version, ids };
    return ids;
  }

  statusCounts(modelId: string | null): StatusCounts {
    const byStatus = new Map(
      (this.db.prepare('SELECT status, sum(n) AS n FROM photo_counts GROUP BY status').all() as { status: string; n: number }[])
        .map((r) => [r.status, r.n]),
    );
    const missing = byStatus.get('missing') ?? 0;
    const photos = [...byStatus.values()].reduce((a, b) => a + b, 0) - missing;
    const failed = (byStatus.get('error') ?? 0) + (byStatus.get('unsupported') ?? 0);
    const embedded = modelId ? this.embeddings.countEmbeddings(modelId) : 0;
    return { photos, embedded, pending: modelId ? this.embeddings.countToEmbed(modelId) : byStatus.get('pending') ?? 0, failed, missing };
  }

  listFailed(limit: number): FailedPhoto[] {
    return this.db.prepare(
      `SELECT id, path, status, coalesce(last_error, '') AS error FROM photos
       WHERE status IN ('error', 'unsupported') ORDER BY id LIMIT ?`,
    ).all(limit) as FailedPhoto[];
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
    ...(row.date_ms !== undefined ? { date: row.date_ms } : {}),
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
