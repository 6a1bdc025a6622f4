// A folder of camera RAW files is indexed through their embedded previews: each usable one gets a
// vector, an upright thumbnail, a viewer image and its EXIF; one without a usable preview is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Library } from '../src/main/core/library.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { scanFolder } from '../src/main/core/scanner/scanner.js';
import { runIndexing } from '../src/main/core/embed/pipeline.js';
import { thumbnailPath } from '../src/main/core/paths.js';
import { MediaResolver } from '../src/main/core/service/media.js';
import { buildTestModel } from './helpers/test-model.js';
import { tempDir } from './helpers/fixtures.js';
import { buildCr3, buildRaf, nefLike, quadrantJpeg, RAW_FIXTURES, redCorner, withPreviewAppended } from './helpers/raw-files.js';

test('raw: a folder of RAW files is indexed, each usable one with a vector, an upright thumbnail and its EXIF', async (t) => {
  const dir = tempDir(t, 'embed-raw-');
  const folder = await loadModelFolder(await buildTestModel(path.join(dir, 'model')));
  const photos = path.join(dir, 'photos');
  mkdirSync(photos);
  const picture = await quadrantJpeg(640, 480);
  // ExifTool's real D70 file, its placeholder preview (29 bytes at 1120) replaced by a real JPEG.
  const d70 = withPreviewAppended(readFileSync(path.join(RAW_FIXTURES, 'Nikon.nef')), 1120, 29, picture);
  const files: Record<string, Buffer> = {
    'portrait.NEF': await nefLike(picture, { orientation: 6 }),
    'd70.nef': d70,
    'canon.cr3': buildCr3({ preview: picture, thumbnail: await quadrantJpeg(160, 120), orientation: 8 }),
    'fuji.RAF': buildRaf(picture),
    'tiny.nef': await nefLike(await quadrantJpeg(200, 150)),
    'sigma.x3f': Buffer.from('FOVb not read'),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(photos, name), bytes);

  const library = Library.open(path.join(dir, 'library'));
  t.after(() => library.close());
  library.useModel({ id: folder.modelId, dim: folder.dim, preprocessVersion: folder.preprocessVersion }, folder.dir);
  const scan = await scanFolder(library.catalogue, library.catalogue.addFolder(photos));
  assert.equal(scan.added, 5);
  assert.deepEqual(scan.unsupported, { x3f: 1 });

  const summary = await runIndexing({ library, modelFolder: folder, threads: 1 });
  assert.equal(summary.embedded, 4);
  assert.equal(summary.unsupported, 1);

  const media = new MediaResolver(library);
  const expected: Record<string, { format: string; corner: string; size: [number, number] }> = {
    'portrait.NEF': { format: 'nef', corner: 'top-right', size: [480, 640] },
    'd70.nef': { format: 'nef', corner: 'top-left', size: [640, 480] },
    'canon.cr3': { format: 'cr3', corner: 'bottom-left', size: [480, 640] },
    'fuji.RAF': { format: 'raf', corner: 'top-left', size: [640, 480] },
  };
  for (const [name, want] of Object.entries(expected)) {
    const id = library.catalogue.photoIdByPath(path.join(photos, name))!;
    const photo = library.catalogue.getPhoto(id)!;
    assert.equal(photo.status, 'ok', name);
    assert.equal(photo.format, want.format, name);
    assert.deepEqual([photo.width, photo.height], want.size, name);
    assert.ok(library.catalogue.getVector(id, folder.modelId), `${name} has a vector`);
    const thumb = thumbnailPath(library.paths, id);
    assert.ok(existsSync(thumb), `${name} has a thumbnail`);
    assert.equal(await redCorner(readFileSync(thumb)), want.corner, `${name} thumbnail upright`);
    const full = await media.resolve('full', id);
    assert.equal(full?.contentType, 'image/jpeg', name);
    assert.notEqual(full?.path, path.join(photos, name), `${name}: the viewer gets a JPEG, not the RAW`);
    const { width, height } = await sharp(full!.path).metadata();
    assert.deepEqual([width, height], want.size, `${name} viewer image`);
    assert.equal(await redCorner(readFileSync(full!.path)), want.corner, `${name} viewer image upright`);
  }

  const d70Photo = library.catalogue.getPhoto(library.catalogue.photoIdByPath(path.join(photos, 'd70.nef'))!)!;
  assert.equal(d70Photo.cameraModel, 'NIKON D70');
  assert.equal(new Date(d70Photo.takenAt!).toISOString(), '2004-06-09T16:02:35.000Z');
  const portrait = library.catalogue.getPhoto(library.catalogue.photoIdByPath(path.join(photos, 'portrait.NEF'))!)!;
  assert.equal(portrait.cameraMake, 'NIKON CORPORATION');
  assert.equal(portrait.orientation, 6);

  const tiny = library.catalogue.getPhoto(library.catalogue.photoIdByPath(path.join(photos, 'tiny.nef'))!)!;
  assert.equal(tiny.status, 'unsupported');
  assert.match(tiny.lastError ?? '', /RAW without a usable embedded preview \(largest 200×150\)/);
});
