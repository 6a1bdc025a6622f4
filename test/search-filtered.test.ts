// Filtered vector search is exact within its filter: for selective filters the answers are the true nearest
// photos among those passing the filter (an approximate index over-fetched and then filtered returns only
// what its probed lists hold, and lost most of them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Library } from '../src/main/core/library.js';
import { SearchEngine } from '../src/main/core/search/search-engine.js';
import { bruteForceTopK } from '../src/main/core/vector/vector-math.js';
import type { SearchFilters } from '../src/shared/types.js';
import { prng, tempDir, unitRows } from './helpers/fixtures.js';

const DIM = 16;
const N = 60_000; // above FLAT_MAX_ROWS: the vector index is approximate (IVF)

test('similar photos within a tag, a rating and a date range are the exact nearest among the matches', async (t) => {
  const library = Library.open(path.join(tempDir(t, 'search-filtered-'), 'library'));
  const model = { id: 'synthetic-16', dim: DIM, preprocessVersion: 'v1' };
  library.useModel(model, null);
  const catalogue = library.catalogue;
  catalogue.insertPhotos(Array.from({ length: N }, (_, i) => ({ folderId: null, path: `/p/${i}.jpg`, size: 1, mtimeMs: Date.UTC(2020, 0, 1) + i * 86_400_000 })));
  const ids = Array.from({ length: N }, (_, i) => i + 1);
  const vectors = unitRows(N, DIM, 11);
  catalogue.importVectors(model, ids, vectors);
  catalogue.db.prepare("UPDATE photos SET status = 'ok'").run();
  const random = prng(5);
  const tagged = ids.filter(() => random() < 0.02);
  catalogue.addTags(tagged, ['rare']);
  const rated = ids.filter(() => random() < 0.01);
  catalogue.setRating(rated, 4);
  const engine = new SearchEngine(library, () => null);
  t.after(async () => {
    await engine.close();
    library.close();
  });

  const cases: { filters: SearchFilters; matching: number[] }[] = [
    { filters: { tags: ['rare'] }, matching: tagged },
    { filters: { minRating: 4 }, matching: rated },
    { filters: { dateFrom: Date.UTC(2021, 0, 1), dateTo: Date.UTC(2021, 11, 31) }, matching: ids.filter((id) => id > 366 && id <= 366 + 365) },
  ];
  for (const { filters, matching } of cases) {
    for (const photoId of [1, 77, 25_000]) {
      const rows = matching.filter((id) => id !== photoId);
      const subset = new Float32Array(rows.length * DIM);
      rows.forEach((id, i) => subset.set(vectors.subarray((id - 1) * DIM, id * DIM), i * DIM));
      const expected = bruteForceTopK(vectors.subarray((photoId - 1) * DIM, photoId * DIM), subset, rows, 50).map((hit) => hit.photoId);
      const answer = await engine.similar({ photoId, filters, limit: 50 });
      assert.deepEqual(answer.items.map((p) => p.id), expected, JSON.stringify(filters));
      assert.equal(answer.total, Math.min(rows.length, 1000));
    }
  }
});
