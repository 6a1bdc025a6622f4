// The catalogue's user data: ratings and tags. Never dropped by rescans; a missing photo keeps its own.
import type { PhotoId, TagCount } from '../../../shared/types.js';
import { CataloguePart, likeEscape, normaliseTags } from './shared.js';

export class UserDataStore extends CataloguePart {
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
}
