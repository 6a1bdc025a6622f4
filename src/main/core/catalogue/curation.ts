// What the user decided about duplicates: pairs that are not duplicates. User data, never dropped by scans.
// (The curation a removed copy hands to the copy that stays is part of its trash edit: trash-edits.ts.)
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
}
