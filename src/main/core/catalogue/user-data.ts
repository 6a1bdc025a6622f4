// The catalogue's user data: ratings and tags, and the undo history of their edits (migration 7). Never
// dropped by rescans; a missing photo keeps its own.
//
// Every edit records, in the same transaction and with one INSERT … SELECT, exactly what it replaces: the
// previous rating of each photo whose rating it changes, the photo–tag links it adds or removes. Undoing puts
// those back, and only where the edit's own value is still there, so undoing an older edit never overwrites
// a later one (undoing newest first, as Ctrl+Z does, restores everything exactly).
import { ApiInputError } from '../../../shared/api-schema.js';
import type { EditId, EditKind, EditRecord, EditResult, PhotoId, TagCount, UndoResult } from '../../../shared/types.js';
import { CataloguePart, likeEscape, normaliseTags } from './shared.js';

/** How many edits the undo history keeps; older ones are forgotten as new ones are made. */
export const EDIT_HISTORY = 20;

export interface EditRow {
  id: number;
  kind: EditKind;
  rating: number | null;
  tags: string;
  changed: number;
  created_at: number;
}

export interface Tag {
  id: number;
  name: string;
}

const NOTHING: EditResult = { editId: null, changed: 0 };

export class UserDataStore extends CataloguePart {
  /**
   * Rates photos (0 clears). `partOf`: the edit that an earlier chunk of the same selection made; this
   * call joins it when it is still the newest edit and the same change, so one undo takes back the whole.
   */
  setRating(photoIds: PhotoId[], rating: number, partOf: EditId | null = null): EditResult {
    if (!Number.isInteger(rating) || rating < 0 || rating > 5) throw new Error(`rating must be an integer 0–5, got ${rating}`);
    // One statement for the journal and one for the edit, on the narrow ratings table: 10,000 photos in a few
    // milliseconds. The journal keeps only photos whose rating changes (0 for those that had none).
    const ids = JSON.stringify(photoIds);
    return this.transaction(() => {
      const edit = this.openEdit('rating', rating, [], partOf);
      const changed = this.db.prepare(
        `INSERT OR IGNORE INTO edit_ratings(edit_id, photo_id, previous)
         SELECT ?, p.id, coalesce(r.rating, 0) FROM photos p LEFT JOIN ratings r ON r.photo_id = p.id
         WHERE p.id IN (SELECT value FROM json_each(?)) AND coalesce(r.rating, 0) != ?`,
      ).run(edit.id, ids, rating).changes;
      if (changed > 0) {
        // A new edit's journal lists exactly the photos to change, existing ones only, in id order: the edit
        // reads them back from it, with no second look-up of each photo (half the time of going by the list
        // at 10,000 photos). A joined edit's journal holds earlier chunks too: it goes by the list.
        if (edit.isNew) {
          if (rating === 0) this.db.prepare('DELETE FROM ratings WHERE photo_id IN (SELECT photo_id FROM edit_ratings WHERE edit_id = ?)').run(edit.id);
          else {
            this.db.prepare(
              `INSERT INTO ratings(photo_id, rating) SELECT photo_id, ? FROM edit_ratings WHERE edit_id = ?
               ON CONFLICT(photo_id) DO UPDATE SET rating = excluded.rating`,
            ).run(rating, edit.id);
          }
        } else if (rating === 0) this.db.prepare('DELETE FROM ratings WHERE photo_id IN (SELECT value FROM json_each(?))').run(ids);
        else {
          this.db.prepare(
            `INSERT INTO ratings(photo_id, rating) SELECT p.id, ? FROM photos p WHERE p.id IN (SELECT value FROM json_each(?))
             ON CONFLICT(photo_id) DO UPDATE SET rating = excluded.rating`,
          ).run(rating, ids);
        }
      }
      return this.closeEdit(edit, changed);
    });
  }

  /** Adds tags to photos (see setRating for `partOf`). */
  addTags(photoIds: PhotoId[], names: string[], partOf: EditId | null = null): EditResult {
    const clean = normaliseTags(names);
    if (clean.length === 0 || photoIds.length === 0) return NOTHING;
    const ids = JSON.stringify(photoIds);
    const insertTag = this.db.prepare('INSERT INTO tags(name) VALUES (?) ON CONFLICT(name) DO NOTHING');
    // Photos that exist and lack the tag: the links this edit adds.
    const journal = this.db.prepare(
      `INSERT OR IGNORE INTO edit_tags(edit_id, tag, photo_id)
       SELECT ?, ?, p.id FROM photos p WHERE p.id IN (SELECT value FROM json_each(?))
       AND NOT EXISTS (SELECT 1 FROM photo_tags pt WHERE pt.photo_id = p.id AND pt.tag_id = ?)`,
    );
    // The links go in from the journal (see setRating), or by the list for a joined edit.
    const linkJournaled = this.db.prepare('INSERT INTO photo_tags(photo_id, tag_id) SELECT photo_id, ? FROM edit_tags WHERE edit_id = ? AND tag = ? ON CONFLICT DO NOTHING');
    const link = this.db.prepare(
      `INSERT INTO photo_tags(photo_id, tag_id) SELECT p.id, ? FROM photos p WHERE p.id IN (SELECT value FROM json_each(?))
       ON CONFLICT DO NOTHING`,
    );
    return this.transaction(() => {
      for (const name of clean) insertTag.run(name);
      const tags = this.findTags(clean);
      const edit = this.openEdit('tag', null, tags.map((t) => t.name), partOf);
      let changed = 0;
      for (const [index, tag] of tags.entries()) {
        const added = journal.run(edit.id, index, ids, tag.id).changes;
        if (added > 0 && edit.isNew) linkJournaled.run(tag.id, edit.id, index);
        else if (added > 0) link.run(tag.id, ids);
        changed += added;
      }
      this.dropUnusedTags(tags); // a new tag that no photo took
      return this.closeEdit(edit, changed);
    });
  }

  /** Removes tags from photos (see setRating for `partOf`). */
  removeTags(photoIds: PhotoId[], names: string[], partOf: EditId | null = null): EditResult {
    const clean = normaliseTags(names);
    if (clean.length === 0 || photoIds.length === 0) return NOTHING;
    const ids = JSON.stringify(photoIds);
    const journal = this.db.prepare(
      `INSERT OR IGNORE INTO edit_tags(edit_id, tag, photo_id)
       SELECT ?, ?, pt.photo_id FROM photo_tags pt WHERE pt.tag_id = ? AND pt.photo_id IN (SELECT value FROM json_each(?))`,
    );
    const unlinkJournaled = this.db.prepare('DELETE FROM photo_tags WHERE tag_id = ? AND photo_id IN (SELECT photo_id FROM edit_tags WHERE edit_id = ? AND tag = ?)');
    const unlink = this.db.prepare('DELETE FROM photo_tags WHERE tag_id = ? AND photo_id IN (SELECT value FROM json_each(?))');
    return this.transaction(() => {
      const tags = this.findTags(clean);
      if (tags.length === 0) return NOTHING;
      const edit = this.openEdit('untag', null, tags.map((t) => t.name), partOf);
      let changed = 0;
      for (const [index, tag] of tags.entries()) {
        const removed = journal.run(edit.id, index, tag.id, ids).changes;
        if (removed > 0 && edit.isNew) unlinkJournaled.run(tag.id, edit.id, index);
        else if (removed > 0) unlink.run(tag.id, ids);
        changed += removed;
      }
      this.dropUnusedTags(tags);
      return this.closeEdit(edit, changed);
    });
  }

  // ---------- undo ----------

  /** The undo history, newest first. */
  listEdits(): EditRecord[] {
    return (this.db.prepare('SELECT * FROM edits ORDER BY id DESC').all() as EditRow[]).map(toRecord);
  }

  /** Undoes the newest edit; null when there is none. */
  undoLast(): UndoResult | null {
    return this.transaction(() => {
      const newest = this.db.prepare('SELECT max(id) FROM edits').pluck().get() as number | null;
      return newest === null ? null : this.undoEdit(newest);
    });
  }

  /**
   * Puts back what one edit replaced, where its own value is still in place (a photo rated or tagged again
   * since keeps the later value), and forgets the edit.
   */
  undoEdit(editId: EditId): UndoResult {
    return this.transaction(() => {
      const row = this.db.prepare('SELECT * FROM edits WHERE id = ?').get(editId) as EditRow | undefined;
      if (!row) throw missingEdit();
      // Its files have to be found in the trash first: undoTrashEdit (duplicates/trash-undo.ts) does that.
      if (row.kind === 'trash') throw new Error(`edit ${editId} moved photos to the trash: undo it with undoTrashEdit`);
      let restored = 0;
      if (row.kind === 'rating') {
        const rating = row.rating ?? 0;
        // Photos that had no rating: remove the one the edit gave them.
        if (rating > 0) {
          restored += this.db.prepare(
            'DELETE FROM ratings WHERE rating = ? AND photo_id IN (SELECT photo_id FROM edit_ratings WHERE edit_id = ? AND previous = 0)',
          ).run(rating, editId).changes;
        }
        restored += this.db.prepare(
          `INSERT INTO ratings(photo_id, rating)
           SELECT e.photo_id, e.previous FROM edit_ratings e JOIN photos p ON p.id = e.photo_id
           WHERE e.edit_id = ? AND e.previous > 0 AND coalesce((SELECT r.rating FROM ratings r WHERE r.photo_id = e.photo_id), 0) = ?
           ON CONFLICT(photo_id) DO UPDATE SET rating = excluded.rating`,
        ).run(editId, rating).changes;
      } else if (row.kind === 'tag') {
        restored += this.untagJournaled(editId, JSON.parse(row.tags) as string[]);
      } else {
        const names = JSON.parse(row.tags) as string[];
        const insertTag = this.db.prepare('INSERT INTO tags(name) VALUES (?) ON CONFLICT(name) DO NOTHING');
        for (const [index, name] of names.entries()) {
          insertTag.run(name); // the last photo with the tag lost it: the tag comes back
          const [tag] = this.findTags([name]);
          if (!tag) continue;
          restored += this.db.prepare(
            `INSERT INTO photo_tags(photo_id, tag_id) SELECT e.photo_id, ? FROM edit_tags e JOIN photos p ON p.id = e.photo_id
             WHERE e.edit_id = ? AND e.tag = ? ON CONFLICT DO NOTHING`,
          ).run(tag.id, editId, index).changes;
          this.dropUnusedTags([tag]);
        }
      }
      this.forgetEdit(editId);
      return { edit: toRecord(row), restored, skipped: Math.max(0, row.changed - restored) };
    });
  }

  /**
   * Takes each of an edit's tags (`names`, by its index there) off the photos the edit journaled for it, and drops
   * the tag where no photo has it any more; a tag renamed or dropped since is left. Returns how many links went.
   */
  untagJournaled(editId: EditId, names: string[]): number {
    const unlink = this.db.prepare('DELETE FROM photo_tags WHERE tag_id = ? AND photo_id IN (SELECT photo_id FROM edit_tags WHERE edit_id = ? AND tag = ?)');
    let removed = 0;
    for (const [index, name] of names.entries()) {
      const [tag] = this.findTags([name]);
      if (!tag) continue;
      removed += unlink.run(tag.id, editId, index).changes;
      this.dropUnusedTags([tag]);
    }
    return removed;
  }

  /** The edit this change goes into: `partOf` when it is the newest edit and the same change, else a new one. */
  private openEdit(kind: EditKind, rating: number | null, tags: string[], partOf: EditId | null): { id: EditId; isNew: boolean } {
    const tagsJson = JSON.stringify(tags);
    if (partOf !== null) {
      const newest = this.db.prepare('SELECT * FROM edits ORDER BY id DESC LIMIT 1').get() as EditRow | undefined;
      if (newest && newest.id === partOf && newest.kind === kind && newest.rating === rating && newest.tags === tagsJson) {
        return { id: partOf, isNew: false };
      }
    }
    const id = this.db.prepare('INSERT INTO edits(kind, rating, tags, created_at) VALUES (?, ?, ?, ?)').run(kind, rating, tagsJson, Date.now()).lastInsertRowid;
    return { id: Number(id), isNew: true };
  }

  /** Counts what the edit changed; a new edit that changed nothing is dropped, a new one that did pushes out the oldest. */
  private closeEdit(edit: { id: EditId; isNew: boolean }, changed: number): EditResult {
    if (changed === 0) {
      if (edit.isNew) {
        this.db.prepare('DELETE FROM edits WHERE id = ?').run(edit.id);
        return NOTHING;
      }
      return { editId: edit.id, changed: 0 };
    }
    this.db.prepare('UPDATE edits SET changed = changed + ? WHERE id = ?').run(changed, edit.id);
    if (edit.isNew) this.trimHistory();
    return { editId: edit.id, changed };
  }

  /** Forgets the edits older than the newest EDIT_HISTORY. */
  trimHistory(): void {
    const oldestKept = this.db.prepare('SELECT id FROM edits ORDER BY id DESC LIMIT 1 OFFSET ?').pluck().get(EDIT_HISTORY - 1) as number | undefined;
    if (oldestKept !== undefined) this.forgetEdits('id < ?', 'edit_id < ?', oldestKept);
  }

  /** Forgets one edit and its journal (it was undone). */
  forgetEdit(editId: EditId): void {
    this.forgetEdits('id = ?', 'edit_id = ?', editId);
  }

  private forgetEdits(editsWhere: string, journalWhere: string, value: number): void {
    this.db.prepare(`DELETE FROM edits WHERE ${editsWhere}`).run(value);
    for (const journal of ['edit_ratings', 'edit_tags', 'edit_trash', 'edit_merged_ratings']) {
      this.db.prepare(`DELETE FROM ${journal} WHERE ${journalWhere}`).run(value);
    }
  }

  /** The catalogue's tags for these names (in the case first stored), each tag once. */
  findTags(names: string[]): Tag[] {
    const find = this.db.prepare('SELECT id, name FROM tags WHERE name = ?');
    const out = new Map<number, Tag>();
    for (const name of names) {
      const tag = find.get(name) as Tag | undefined;
      if (tag && !out.has(tag.id)) out.set(tag.id, tag);
    }
    return [...out.values()];
  }

  /** Deletes those of these tags that no photo has any more. */
  dropUnusedTags(tags: Tag[]): void {
    const drop = this.db.prepare('DELETE FROM tags WHERE id = ? AND NOT EXISTS (SELECT 1 FROM photo_tags WHERE tag_id = ?)');
    for (const tag of tags) drop.run(tag.id, tag.id);
  }

  // ---------- reading ----------

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
}

export function missingEdit(): ApiInputError {
  return new ApiInputError(`that edit cannot be undone any more: it was undone already, or is older than the last ${EDIT_HISTORY} edits`);
}

export function toRecord(row: EditRow): EditRecord {
  return { id: row.id, kind: row.kind, rating: row.rating, tags: JSON.parse(row.tags) as string[], changed: row.changed, createdAt: row.created_at };
}
