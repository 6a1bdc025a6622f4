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
      const answer = await engine.similar({ photoId, filters, limit: 50, scope: 'all' });
      assert.deepEqual(answer.items.map((p) => p.id), expected, JSON.stringify(filters));
      assert.equal(answer.total, Math.min(rows.length, 1000));
    }
  }
});

test('a broad filter is shortlisted on the 8-bit sketch and still answered exactly, new photos included', async (t) => {
  const n = 30_000;
  const library = Library.open(path.join(tempDir(t, 'search-sketch-'), 'library'));
  const model = { id: 'synthetic-32', dim: 32, preprocessVersion: 'v1' };
  library.useModel(model, null);
  const catalogue = library.catalogue;
  const add = (from: number, count: number, seed: number) => {
    catalogue.insertPhotos(Array.from({ length: count }, (_, i) => ({ folderId: null, path: `/p/${from + i}.jpg`, size: 1, mtimeMs: 1 })));
    const rows = unitRows(count, 32, seed);
    catalogue.importVectors(model, Array.from({ length: count }, (_, i) => from + i), rows);
    catalogue.db.prepare("UPDATE photos SET status = 'ok'").run();
    return rows;
  };
  let vectors = add(1, n, 21);
  const random = prng(8);
  const common = Array.from({ length: n }, (_, i) => i + 1).filter(() => random() < 0.5);
  catalogue.addTags(common, ['common']);
  const engine = new SearchEngine(library, () => null);
  t.after(async () => {
    await engine.close();
    library.close();
  });
  const expect = (photoId: number, matching: number[]) => {
    const rows = matching.filter((id) => id !== photoId);
    const subset = new Float32Array(rows.length * 32);
    rows.forEach((id, i) => subset.set(vectors.subarray((id - 1) * 32, id * 32), i * 32));
    return bruteForceTopK(vectors.subarray((photoId - 1) * 32, photoId * 32), subset, rows, 1000).map((hit) => hit.photoId);
  };
  const filters = { tags: ['common'] };
  await engine.similar({ photoId: 5, filters, limit: 10 }); // starts building the sketch
  for (let waited = 0; engine.sketchSize() === null && waited < 20_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(engine.sketchSize(), n);
  for (const photoId of [5, 999, 27_000]) {
    const answer = await engine.similar({ photoId, filters, limit: 1000, scope: 'all' });
    assert.deepEqual(answer.items.map((p) => p.id), expect(photoId, common), `photo ${photoId}`);
  }

  // Photos added later: the sketch catches up before the next filtered search.
  const added = add(n + 1, 200, 22);
  vectors = Float32Array.from([...vectors, ...added]);
  const newIds = Array.from({ length: 200 }, (_, i) => n + 1 + i);
  catalogue.addTags(newIds, ['common']);
  engine.markStale();
  const answer = await engine.similar({ photoId: n + 10, filters, limit: 1000, scope: 'all' });
  assert.equal(engine.sketchSize(), n + 200);
  assert.deepEqual(answer.items.map((p) => p.id), expect(n + 10, [...common, ...newIds]));
});
