// An index that outgrew its kind is rebuilt in a child process while the current one keeps answering; the
// new generation is then loaded and caught up. Searches never wait for the training.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Library } from '../src/main/core/library.js';
import { openVectorStore, vectorIndexDir } from '../src/main/core/search/vector-store.js';
import { readManifest } from '../src/main/core/vector/index-store.js';
import { tempDir, unitRows } from './helpers/fixtures.js';

const DIM = 16;

function addPhotos(library: Library, from: number, count: number, vectors: Float32Array): void {
  const model = library.currentModel!;
  library.catalogue.insertPhotos(Array.from({ length: count }, (_, i) => ({ folderId: null, path: `/p/${from + i}.jpg`, size: 1, mtimeMs: 1 })));
  library.catalogue.importVectors(model, Array.from({ length: count }, (_, i) => from + i), vectors);
  library.catalogue.db.prepare("UPDATE photos SET status = 'ok' WHERE id >= ?").run(from);
}

test('an outgrown index is rebuilt beside the one answering searches, then swapped in', { timeout: 120_000 }, async (t) => {
  const library = Library.open(path.join(tempDir(t, 'vector-rebuild-'), 'library'));
  library.useModel({ id: 'synthetic-16', dim: DIM, preprocessVersion: 'v1' }, null);
  const all = unitRows(75_000, DIM, 21);
  addPhotos(library, 1, 40_000, all.subarray(0, 40_000 * DIM));
  const store = await openVectorStore(library, 'synthetic-16', DIM);
  t.after(async () => {
    await store.close();
    library.close();
  });
  const dir = vectorIndexDir(library, 'synthetic-16');
  assert.equal(readManifest(dir).kind, 'flat');

  // Past 1.2 × FLAT_MAX_ROWS the exact index should become IVF.
  addPhotos(library, 40_001, 35_000, all.subarray(40_000 * DIM));
  await store.sync();
  let rebuilt = false;
  const whenRebuilt = store.whenRebuilt().then(() => (rebuilt = true));
  // Answered from the current (exact) index, which already holds the new photos, while the child trains.
  const query = all.subarray(70_000 * DIM, 70_001 * DIM);
  const [best] = await store.search(query, 5);
  assert.equal(best.photoId, 70_001);
  assert.equal(rebuilt, false, 'the search did not wait for the rebuild');
  assert.equal(store.size, 75_000);

  await whenRebuilt;
  const manifest = readManifest(dir);
  assert.equal(manifest.kind, 'ivf');
  assert.equal(manifest.live, 75_000);
  const [again] = await store.search(query, 5);
  assert.equal(again.photoId, 70_001, 'the rebuilt index answers');
  assert.equal(store.size, 75_000);
});
