// Issue 10, "two processes on one library race": an indexer batch is stored only where the photo row is still
// what the pipeline read. A photo deleted while its batch was in flight stays hidden; one overwritten meanwhile
// keeps no stale vector and is embedded again by the next run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Library } from '../src/main/core/library.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { scanFolder } from '../src/main/core/scanner/scanner.js';
import { runIndexing, type ImageEmbedder } from '../src/main/core/embed/pipeline.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';
import { tempDir } from './helpers/fixtures.js';

test('a batch does not bring back a photo deleted, nor keep a vector of one overwritten, while it was embedded', async (t) => {
  const dir = tempDir(t, 'embed-races-');
  const folder = await loadModelFolder(await buildTestModel(path.join(dir, 'model')));
  const photos = path.join(dir, 'photos');
  const files = await Promise.all(['a', 'b', 'c', 'd'].map((name, i) =>
    writeSolidPhoto(path.join(photos, `${name}.png`), Object.values(COLOURS)[i])));
  const library = Library.open(path.join(dir, 'library'));
  t.after(() => library.close());
  const model = { id: folder.modelId, dim: folder.dim, preprocessVersion: folder.preprocessVersion };
  library.useModel(model, folder.dir);
  await scanFolder(library.catalogue, library.catalogue.addFolder(photos));
  const [deleted, overwritten, kept] = files.map((f) => library.catalogue.photoIdByPath(f)!);

  // Another process (a scan) sees one file deleted and another overwritten while the batch is inferred.
  let calls = 0;
  const embedder: ImageEmbedder = {
    async embedImages(tensors) {
      if (calls++ === 0) {
        library.catalogue.markMissing([deleted]);
        library.catalogue.markChanged([{ id: overwritten, size: 123_456, mtimeMs: 1_800_000_000_000, folderId: null }]);
      }
      return tensors.map(() => {
        const v = new Float32Array(folder.dim);
        v[0] = 1;
        return v;
      });
    },
  };
  const summary = await runIndexing({ library, modelFolder: folder, embedder, batchSize: 16 });
  assert.equal(summary.skipped, 2);
  assert.equal(summary.embedded, 2);

  const status = (id: number): string =>
    (library.catalogue.db.prepare('SELECT status FROM photos WHERE id = ?').get(id) as { status: string }).status;
  assert.equal(status(deleted), 'missing', 'the deleted photo stays hidden');
  assert.equal(library.catalogue.getVector(deleted, model.id), null);
  assert.equal(status(overwritten), 'pending', 'the overwritten photo waits to be embedded again');
  assert.equal(library.catalogue.getVector(overwritten, model.id), null, 'no vector of the old content');
  assert.equal(status(kept), 'ok');
  assert.ok(library.catalogue.getVector(kept, model.id));
  assert.deepEqual(library.catalogue.photosToEmbed(model.id, 0, 10).map((p) => p.id), [overwritten]);

  // The next run embeds the overwritten photo.
  const again = await runIndexing({ library, modelFolder: folder, embedder, batchSize: 16 });
  assert.equal(again.embedded, 1);
  assert.equal(again.skipped, 0);
  assert.ok(library.catalogue.getVector(overwritten, model.id));
});
