// The catalogue's folders and photo rows: adding and removing library folders, and the scanner's and
// import's bookkeeping (new files, changed files, missing files, moves, content hashes).
import type { LibraryFolder, PhotoId, PhotoStatus } from '../../../shared/types.js';
import { CataloguePart, VISIBLE } from './shared.js';

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

export class PhotoStore extends CataloguePart {
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
}
