// Deep browse pages start from remembered positions (keyset anchors): every page must equal the plain
// LIMIT/OFFSET answer, with ties in date, with filters, and after the catalogue changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Catalogue } from '../src/main/core/catalogue/catalogue.js';
import type { SearchFilters } from '../src/shared/types.js';
import { prng, tempDir } from './helpers/fixtures.js';

function naive(catalogue: Catalogue, where: string, offset: number, limit: number): number[] {
  return catalogue.db.prepare(`SELECT id FROM photos WHERE ${where} ORDER BY coalesce(taken_at, mtime_ms) DESC, id DESC LIMIT ? OFFSET ?`)
    .pluck().all(limit, offset) as number[];
}

test('deep browse pages equal LIMIT/OFFSET pages, before and after changes', (t) => {
  const catalogue = new Catalogue(path.join(tempDir(t, 'browse-'), 'catalogue.sqlite'));
  t.after(() => catalogue.close());
  const random = prng(3);
  const n = 9000;
  // Few distinct dates, so many photos tie on the sort key and the id breaks the tie.
  catalogue.insertPhotos(Array.from({ length: n }, (_, i) => ({ folderId: null, path: `/p/${i}.jpg`, size: 1, mtimeMs: Math.floor(random() * 50) * 1000 })));
  catalogue.setRating(Array.from({ length: n }, (_, i) => i + 1).filter(() => random() < 0.4), 3);
  const cases: [SearchFilters, string][] = [[{}, "status != 'missing'"], [{ minRating: 3 }, "status != 'missing' AND id IN (SELECT photo_id FROM ratings WHERE rating >= 3)"]];
  const check = (when: string) => {
    for (const [filters, where] of cases) {
      const total = catalogue.browse(filters, 0, 1).total;
      for (const offset of [0, 2047, 2048, 2049, 4095, 4096, 5000, total - 100, total - 1, total]) {
        assert.deepEqual(catalogue.browse(filters, offset, 100).items.map((p) => p.id), naive(catalogue, where, offset, 100), `${when} ${JSON.stringify(filters)} at ${offset}`);
      }
    }
  };
  check('first');
  // Changes move photos in the order: the remembered positions must not be reused.
  catalogue.db.prepare('UPDATE photos SET mtime_ms = 999999 WHERE id % 7 = 0').run();
  catalogue.markMissing([5, 6, 7]);
  check('after changes');
});
