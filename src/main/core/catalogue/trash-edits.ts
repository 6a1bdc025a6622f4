// Trash edits in the undo history (migration 10): trashing photos, and resolving duplicates, whose kept copies
// take the others' tags and highest rating. The journal is written before any file moves: the merge and the
// list of photos about to be trashed in one transaction, then each photo marked missing (and counted) in its
// own as its file leaves. A kill in between leaves journaled photos whose files never moved; undo finds them
// at their paths. Undoing is one transaction: the merge taken back where its values are still in place (as
// for rating and tag edits), the photos whose files are back visible again, the edit forgotten.
import type { EditId, EditRecord, PhotoId } from '../../../shared/types.js';
import { CataloguePart } from './shared.js';
import { missingEdit, toRecord, type EditRow, type UserDataStore } from './user-data.js';

/** A photo a trash edit moves to the trash, as it was before. */
export interface TrashedPhoto {
  photoId: PhotoId;
  path: string;
  size: number;
  status: string;
  /** Resolving duplicates: the copy kept in its group (null: trashed on its own). */
  keptId: PhotoId | null;
}

/** A resolved duplicate group: the copy that stays takes the tags and highest rating of the others. */
export interface MergeChoice {
  keepId: PhotoId;
  fromIds: PhotoId[];
}

export class TrashEditStore extends CataloguePart {
  constructor(db: CataloguePart['db'], private readonly userData: UserDataStore) {
    super(db);
  }

  /** Records a trash edit before its files move: the merges are applied (and journaled), the photos listed. */
  open(photos: TrashedPhoto[], merges: MergeChoice[]): EditId {
    return this.transaction(() => {
      const editId = Number(this.db.prepare("INSERT INTO edits(kind, rating, tags, created_at) VALUES ('trash', NULL, '[]', ?)").run(Date.now()).lastInsertRowid);
      const names = this.merge(editId, merges);
      this.db.prepare('UPDATE edits SET tags = ? WHERE id = ?').run(JSON.stringify(names), editId);
      const journal = this.db.prepare('INSERT OR IGNORE INTO edit_trash(edit_id, photo_id, path, size, status, kept_id) VALUES (?, ?, ?, ?, ?, ?)');
      for (const p of photos) journal.run(editId, p.photoId, p.path, p.size, p.status, p.keptId);
      return editId;
    });
  }

  /** The photo's file is in the trash now: it leaves the library (keeping its rating, tags and vector). */
  trashed(editId: EditId, photoId: PhotoId): void {
    this.transaction(() => {
      this.db.prepare("UPDATE photos SET status = 'missing' WHERE id = ?").run(photoId);
      this.db.prepare('UPDATE edits SET changed = changed + 1 WHERE id = ?').run(editId);
    });
  }

  /** The photo's file could not be moved: nothing to undo for it. */
  notTrashed(editId: EditId, photoId: PhotoId): void {
    this.db.prepare('DELETE FROM edit_trash WHERE edit_id = ? AND photo_id = ?').run(editId, photoId);
  }

  /** Ends the edit: forgotten when it trashed and merged nothing, else kept (the oldest edits make room). */
  close(editId: EditId): EditId | null {
    return this.transaction(() => {
      const changed = this.db.prepare('SELECT changed FROM edits WHERE id = ?').pluck().get(editId) as number | undefined;
      if (changed === undefined) return null;
      const merged = this.db.prepare(
        'SELECT EXISTS (SELECT 1 FROM edit_tags WHERE edit_id = ?) OR EXISTS (SELECT 1 FROM edit_merged_ratings WHERE edit_id = ?)',
      ).pluck().get(editId, editId) as number;
      if (changed === 0 && !merged) {
        this.userData.forgetEdit(editId);
        return null;
      }
      this.userData.trimHistory();
      return editId;
    });
  }

  /** The trash edit and the photos it trashed; throws when it is not (or no longer) in the history. */
  read(editId: EditId): { edit: EditRecord; photos: TrashedPhoto[] } {
    const row = this.db.prepare('SELECT * FROM edits WHERE id = ?').get(editId) as EditRow | undefined;
    if (!row) throw missingEdit();
    if (row.kind !== 'trash') throw new Error(`edit ${editId} is a ${row.kind} edit, not a trash edit`);
    const photos = this.db.prepare(
      'SELECT photo_id AS photoId, path, size, status, kept_id AS keptId FROM edit_trash WHERE edit_id = ? ORDER BY photo_id',
    ).all(editId) as TrashedPhoto[];
    return { edit: toRecord(row), photos };
  }

  /**
   * Takes back the merge where its values are still in place, makes visible again the photos whose files are
   * back at their paths, and forgets the edit, all at once. Returns how many of those photos are visible.
   */
  undo(editId: EditId, back: PhotoId[]): { edit: EditRecord; visible: number } {
    return this.transaction(() => {
      const { edit } = this.read(editId);
      // A rating the kept copy took goes back to what it was, unless it was rated again since.
      this.db.prepare(
        `DELETE FROM ratings WHERE photo_id IN (SELECT photo_id FROM edit_merged_ratings m WHERE m.edit_id = ? AND m.previous = 0 AND m.merged = ratings.rating)`,
      ).run(editId);
      this.db.prepare(
        `UPDATE ratings SET rating = (SELECT m.previous FROM edit_merged_ratings m WHERE m.edit_id = ? AND m.photo_id = ratings.photo_id)
         WHERE photo_id IN (SELECT photo_id FROM edit_merged_ratings m WHERE m.edit_id = ? AND m.previous > 0 AND m.merged = ratings.rating)`,
      ).run(editId, editId);
      // The tags the kept copies took, by the edit's list of names (a tag renamed or dropped since is left).
      this.userData.untagJournaled(editId, edit.tags);
      // Back where it was trashed from: its old status, or 'pending' where it has no vector to be 'ok' with.
      const show = this.db.prepare(
        `UPDATE photos SET status = CASE WHEN t.status = 'ok' AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = photos.id) THEN 'pending'
                                         ELSE t.status END
         FROM edit_trash t WHERE t.edit_id = ? AND t.photo_id = ? AND photos.id = t.photo_id AND photos.path = t.path AND photos.status = 'missing'`,
      );
      for (const id of back) show.run(editId, id);
      const visible = this.db.prepare(
        `SELECT count(*) FROM photos WHERE status != 'missing' AND id IN (SELECT value FROM json_each(?))`,
      ).pluck().get(JSON.stringify(back)) as number;
      this.userData.forgetEdit(editId);
      return { edit, visible };
    });
  }

  /** Gives each kept copy the tags and highest rating of the others, journaling what it gained. */
  private merge(editId: EditId, merges: MergeChoice[]): string[] {
    const names: string[] = [];
    const gained = this.db.prepare(
      `SELECT DISTINCT t.id, t.name FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id
       WHERE pt.photo_id IN (SELECT value FROM json_each(?))
       AND NOT EXISTS (SELECT 1 FROM photo_tags k WHERE k.photo_id = ? AND k.tag_id = pt.tag_id) ORDER BY t.id`,
    );
    const link = this.db.prepare('INSERT INTO photo_tags(photo_id, tag_id) VALUES (?, ?) ON CONFLICT DO NOTHING');
    const journalTag = this.db.prepare('INSERT OR IGNORE INTO edit_tags(edit_id, tag, photo_id) VALUES (?, ?, ?)');
    const ratingOf = this.db.prepare('SELECT coalesce((SELECT rating FROM ratings WHERE photo_id = ?), 0)').pluck();
    const highest = this.db.prepare('SELECT coalesce(max(rating), 0) FROM ratings WHERE photo_id IN (SELECT value FROM json_each(?))').pluck();
    const rate = this.db.prepare('INSERT INTO ratings(photo_id, rating) VALUES (?, ?) ON CONFLICT(photo_id) DO UPDATE SET rating = excluded.rating');
    const journalRating = this.db.prepare(
      `INSERT INTO edit_merged_ratings(edit_id, photo_id, previous, merged) VALUES (?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET merged = excluded.merged`,
    );
    for (const { keepId, fromIds } of merges) {
      const from = JSON.stringify(fromIds.filter((id) => id !== keepId));
      for (const tag of gained.all(from, keepId) as { id: number; name: string }[]) {
        let index = names.indexOf(tag.name);
        if (index < 0) index = names.push(tag.name) - 1;
        link.run(keepId, tag.id);
        journalTag.run(editId, index, keepId);
      }
      const own = ratingOf.get(keepId) as number;
      const best = highest.get(from) as number;
      if (best > own) {
        rate.run(keepId, best);
        journalRating.run(editId, keepId, own, best);
      }
    }
    return names;
  }
}
