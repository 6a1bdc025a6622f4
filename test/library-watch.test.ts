// Issue 10, "a status that never lies": library folders are rescanned at start and watched while the service
// runs (a photo copied in becomes searchable with no click, a deleted one goes missing, a moved one keeps its
// rating), a folder added during a run is indexed right after it, and the status says what still waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, unlinkSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { Library } from '../src/main/core/library.js';
import { scanLibrary } from '../src/main/core/scanner/scanner.js';
import { tempDir, until } from './helpers/fixtures.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

async function settled(service: LibraryService): Promise<boolean> {
  const progress = await service.getIndexingProgress();
  const status = await service.getStatus();
  const running = progress.state === 'scanning' || progress.state === 'embedding';
  return !running && !status.runQueued && status.pending === 0 && status.foldersNotScanned === 0 && status.changesWaiting === 0;
}

async function topHit(service: LibraryService, query: string): Promise<string | null> {
  const result = await service.search({ query, limit: 1 });
  return result.items[0] ? path.basename(result.items[0].path) : null;
}

test('a watched library indexes a copied photo with no click, marks a deleted one missing, and a moved one keeps its rating', async (t) => {
  const root = tempDir(t, 'library-watch-');
  const photos = path.join(root, 'photos');
  mkdirSync(photos);
  await writeSolidPhoto(path.join(photos, 'red.jpg'), COLOURS.red, 48);
  await writeSolidPhoto(path.join(photos, 'green.jpg'), COLOURS.green, 48);
  const outside = path.join(root, 'outside');
  mkdirSync(outside);
  await writeSolidPhoto(path.join(outside, 'blue.jpg'), COLOURS.blue, 48);
  const modelDir = await buildTestModel(path.join(root, 'model'));

  const service = await LibraryService.open({
    libraryDir: path.join(root, 'library'), modelsDir: path.join(root, 'models'), watch: true, watchQuietMs: 300,
  });
  t.after(() => service.close());
  assert.equal((await service.useModelFolder(modelDir)).state, 'ready');
  await service.addFolder(photos); // a watched library scans and indexes a new folder at once
  await until('the first folder to be indexed', () => settled(service), 60_000);
  assert.equal((await service.getStatus()).embedded, 2);
  assert.equal(await topHit(service, 'red'), 'red.jpg');

  // A photo copied into the folder is found within 30 s, with no click.
  const copiedAt = Date.now();
  copyFileSync(path.join(outside, 'blue.jpg'), path.join(photos, 'blue.jpg'));
  await until('the copied photo to be searchable', async () => (await topHit(service, 'blue')) === 'blue.jpg');
  assert.ok(Date.now() - copiedAt < 30_000);

  // A photo moved into a new subfolder keeps its id, rating and vector.
  const green = (await service.search({ query: 'green', limit: 1 })).items[0];
  await service.setRating([green.id], 4);
  mkdirSync(path.join(photos, 'sub'));
  renameSync(path.join(photos, 'green.jpg'), path.join(photos, 'sub', 'green.jpg'));
  const moved = await until('the move to be seen', async () => {
    const photo = await service.getPhoto(green.id);
    return photo.path === path.join(photos, 'sub', 'green.jpg') && photo.status !== 'missing' ? photo : null;
  });
  assert.equal(moved.rating, 4);
  await until('the library to settle after the move', () => settled(service));
  assert.equal((await service.getStatus()).embedded, 3, 'the moved photo was not embedded again');
  assert.equal(await topHit(service, 'green'), 'green.jpg');

  // A deleted photo becomes missing.
  const red = (await service.search({ query: 'red', limit: 1 })).items[0];
  unlinkSync(path.join(photos, 'red.jpg'));
  await until('the deleted photo to be missing', async () => (await service.getPhoto(red.id)).status === 'missing');
  await until('the library to settle after the delete', () => settled(service));
  const status = await service.getStatus();
  assert.equal(status.photos, 2);
  assert.equal(status.missing, 1);
});

test('a folder added while indexing runs is scanned and indexed after the run, and the status says so meanwhile', async (t) => {
  const root = tempDir(t, 'library-queue-');
  const first = path.join(root, 'first');
  const second = path.join(root, 'second');
  mkdirSync(first);
  mkdirSync(second);
  for (const colour of ['red', 'green', 'blue']) await writeSolidPhoto(path.join(first, `${colour}.jpg`), COLOURS[colour], 48);
  await writeSolidPhoto(path.join(second, 'yellow.jpg'), COLOURS.yellow, 48);
  const modelDir = await buildTestModel(path.join(root, 'model'));

  const service = await LibraryService.open({ libraryDir: path.join(root, 'library'), modelsDir: path.join(root, 'models') });
  t.after(() => service.close());
  assert.equal((await service.useModelFolder(modelDir)).state, 'ready');
  await service.addFolder(first);
  let status = await service.getStatus();
  assert.equal(status.foldersNotScanned, 1, 'a folder just added is not scanned yet');
  assert.equal(status.runQueued, false);

  await service.startIndexing();
  const added = await service.addFolder(second);
  status = await service.getStatus();
  assert.equal(status.runQueued, true, 'the new folder waits for the run in progress');
  assert.ok(status.foldersNotScanned >= 1);
  const progress = await service.getIndexingProgress();
  assert.equal(progress.runQueued, true);
  assert.ok((progress.foldersNotScanned ?? 0) >= 1);
  assert.equal(typeof progress.pendingPhotos, 'number');
  assert.equal(typeof progress.changesWaiting, 'number');

  await until('both runs to finish', () => settled(service), 60_000);
  status = await service.getStatus();
  assert.equal(status.embedded, 4);
  assert.equal(status.pending, 0);
  assert.equal(status.foldersNotScanned, 0);
  assert.equal(status.folders.find((f) => f.id === added.id)?.photoCount, 1);
  assert.equal(await topHit(service, 'yellow'), 'yellow.jpg');
  assert.equal((await service.getIndexingProgress()).pendingPhotos, 0);
});

test('a watcher-triggered scan covers only the library folders that changed', async (t) => {
  const root = tempDir(t, 'library-scope-');
  const first = path.join(root, 'first');
  const second = path.join(root, 'second');
  mkdirSync(first);
  mkdirSync(second);
  await writeSolidPhoto(path.join(first, 'red.jpg'), COLOURS.red, 16);
  await writeSolidPhoto(path.join(second, 'blue.jpg'), COLOURS.blue, 16);
  const library = Library.open(path.join(root, 'library'));
  t.after(() => library.close());
  const a = library.catalogue.addFolder(first, path.sep);
  library.catalogue.addFolder(second, path.sep);
  const result = await scanLibrary(library.catalogue, { folderIds: new Set([a.id]) });
  assert.deepEqual(result.folders.map((f) => [f.folderId, f.added]), [[a.id, 1]]);
  assert.equal(library.catalogue.statusCounts(null).photos, 1);
});
