// What the user decided about duplicates: pairs that are not duplicates, and the curation a removed copy
// hands to the copy that stays (its tags, and its rating where higher). User data, never dropped by scans.
import type { PhotoId } from '../../../shared/types.js';
import { CataloguePart } from './shared.js';

export class CurationStore extends CataloguePart {
  /** Records every pair of these photos as "not duplicates". */
  dismissPairs(photoIds: PhotoId[]): void {
    const ids = [...new Set(photoIds)].sort((a, b) => a - b);
    const insert = this.db.prepare(
      'INSERT INTO dismissed_pairs(a, b) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM photos WHERE id = ?) AND EXISTS (SELECT 1 FROM photos WHERE id = ?) ON CONFLICT DO NOTHING',
    );
    this.transaction(() => {
      for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) insert.run(ids[i], ids[j], ids[i], ids[j]);
    });
  }

  /** The dismissed pairs among these photos, as "a-b" keys with a < b. */
  dismissedAmong(photoIds: PhotoId[]): Set<string> {
    if (photoIds.length < 2) return new Set();
    const rows = this.db.prepare(
      `SELECT a, b FROM dismissed_pairs WHERE a IN (SELECT value FROM json_each(?1)) AND b IN (SELECT value FROM json_each(?1))`,
    ).all(JSON.stringify(photoIds)) as { a: number; b: number }[];
    return new Set(rows.map((r) => `${r.a}-${r.b}`));
  }

  /** Every dismissed pair (a scan skips them), as "a-b" keys. */
  allDismissed(): Set<string> {
    const rows = this.db.prepare('SELECT a, b FROM dismissed_pairs').all() as { a: number; b: number }[];
    return new Set(rows.map((r) => `${r.a}-${r.b}`));
  }

  /**
   * Gives the kept photo the tags of the others, and the highest rating among them if it is higher than
   * its own. Returns how many tags it gained and whether its rating changed.
   */
  mergeInto(keepId: PhotoId, fromIds: PhotoId[]): { tagsAdded: number; ratingRaised: boolean } {
    const from = JSON.stringify(fromIds.filter((id) => id !== keepId));
    return this.transaction(() => {
      const tags = this.db.prepare(
        `INSERT INTO photo_tags(photo_id, tag_id) SELECT DISTINCT ?, tag_id FROM photo_tags WHERE photo_id IN (SELECT value FROM json_each(?))
         ON CONFLICT DO NOTHING`,
      ).run(keepId, from);
      const rating = this.db.prepare(
        `INSERT INTO ratings(photo_id, rating)
         SELECT ?, max(rating) FROM ratings WHERE photo_id IN (SELECT value FROM json_each(?)) HAVING max(rating) IS NOT NULL
         ON CONFLICT(photo_id) DO UPDATE SET rating = excluded.rating WHERE excluded.rating > ratings.rating`,
      ).run(keepId, from);
      return { tagsAdded: tags.changes, ratingRaised: rating.changes > 0 };
    });
  }
}
