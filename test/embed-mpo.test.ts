// MPO (multi-picture object: 3D and multi-shot cameras) is a JPEG followed by more JPEGs: indexed as JPEG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Library } from '../src/main/core/library.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { scanFolder } from '../src/main/core/scanner/scanner.js';
import { classifyFile } from '../src/main/core/scanner/formats.js';
import { runIndexing } from '../src/main/core/embed/pipeline.js';
import { MediaResolver } from '../src/main/core/service/media.js';
import { buildTestModel } from './helpers/test-model.js';
import { tempDir } from './helpers/fixtures.js';
import { mpoFile } from './helpers/hostile-images.js';

test('mpo: .mpo (multi-picture JPEG) files are registered and indexed as JPEG, their thumbnails served', async (t) => {
  assert.equal(classifyFile('DSCF0001.MPO'), 'photo');
  const dir = tempDir(t, 'embed-mpo-');
  const folder = await loadModelFolder(await buildTestModel(path.join(dir, 'model')));
  const s = { photos: path.join(dir, 'photos'), folder };
  mkdirSync(s.photos);
  writeFileSync(path.join(s.photos, 'stereo.mpo'), await mpoFile([0, 200, 0], [200, 0, 0]));
  const library = Library.open(path.join(dir, 'library'));
  t.after(() => library.close());
  library.useModel({ id: folder.modelId, dim: folder.dim, preprocessVersion: folder.preprocessVersion }, folder.dir);
  const scan = await scanFolder(library.catalogue, library.catalogue.addFolder(s.photos));
  assert.equal(scan.added, 1);
  const summary = await runIndexing({ library, modelFolder: s.folder });
  assert.equal(summary.embedded, 1);
  const id = library.catalogue.photoIdByPath(path.join(s.photos, 'stereo.mpo'))!;
  assert.equal(library.catalogue.photoFile(id)?.format, 'jpeg');
  const media = new MediaResolver(library);
  const thumb = await media.resolve('thumb', id);
  assert.ok(thumb && existsSync(thumb.path));
  const { data } = await sharp(thumb.path).raw().toBuffer({ resolveWithObject: true });
  assert.ok(data[1] > 150 && data[0] < 60, `the first picture (green) is the photo: ${[...data.subarray(0, 3)]}`);
  assert.equal((await media.resolve('full', id))?.contentType, 'image/jpeg');
});
