// LibraryService end to end under plain Node: the API the UI uses, on a real library, the project's
// small test model and the real background indexer process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { describeSkipped } from '../src/main/core/service/indexing-controller.js';
import { ApiInputError } from '../src/shared/api-schema.js';
import type { ApiEvent } from '../src/shared/types.js';
import { waitForIndexing } from './helpers/service.js';
import { tempDir } from './helpers/fixtures.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

test('LibraryService: folders, indexing in a child process, text search, similar, ratings, tags, filters, media', async (t) => {
  const root = tempDir(t, 'library-service-');
  const photos = path.join(root, 'Photos');
  mkdirSync(photos);
  const colours = ['red', 'green', 'blue', 'yellow', 'purple'] as const;
  for (const colour of colours) await writeSolidPhoto(path.join(photos, `${colour}.jpg`), COLOURS[colour], 48);
  writeFileSync(path.join(photos, 'broken.jpg'), 'not a photo');
  writeFileSync(path.join(photos, 'raw.x3f'), 'raw bytes'); // Sigma's container: no preview reader, counted only
  const secret = path.join(root, 'secret.jpg');
  await writeSolidPhoto(secret, COLOURS.white, 16);
  symlinkSync(secret, path.join(photos, 'escape.jpg')); // points outside the folder: never served
  const modelDir = await buildTestModel(path.join(root, 'model'));

  const service = await LibraryService.open({ libraryDir: path.join(root, 'library'), modelsDir: path.join(root, 'models') });
  t.after(() => service.close());

  assert.equal((await service.getModelStatus()).state, 'missing');
  await assert.rejects(service.addFolder(path.join(root, 'nope')), ApiInputError);
  await assert.rejects(service.addFolder('relative/path'), ApiInputError);
  assert.equal((await service.useModelFolder(modelDir)).state, 'ready');
  const folder = await service.addFolder(photos);

  const finished = waitForIndexing(service);
  await service.startIndexing();
  const progress = await finished;
  assert.equal(progress.state, 'done', progress.message);
  assert.match(progress.message ?? '', /Not supported, skipped: 1 \.x3f/);

  const status = await service.getStatus();
  assert.equal(status.embedded, colours.length);
  assert.equal(status.failed, 1);
  const failed = await service.listFailed(10);
  assert.deepEqual(failed.map((f) => path.basename(f.path)), ['broken.jpg']);

  for (const colour of colours) {
    const result = await service.search({ query: colour, limit: 3 });
    assert.equal(result.mode, 'text');
    assert.equal(path.basename(result.items[0].path), `${colour}.jpg`, `"${colour}" ranks its photo first`);
    const scores = result.items.map((i) => i.score!);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'scores are non-increasing');
  }

  const browse = await service.search({ query: '', limit: 100 });
  assert.equal(browse.mode, 'browse');
  assert.equal(browse.total, colours.length + 1); // the broken file is catalogued (and shown as failed)

  const red = (await service.search({ query: 'red', limit: 1 })).items[0];
  const similar = await service.findSimilar({ photoId: red.id, limit: 10, scope: 'all' });
  assert.ok(!similar.items.some((p) => p.id === red.id), 'the query photo is not its own neighbour');
  assert.equal(similar.items.length, colours.length - 1);

  const blue = (await service.search({ query: 'blue', limit: 1 })).items[0];
  await service.setRating([red.id, blue.id], 4);
  await service.addTags([blue.id], ['sea', 'ים']);
  assert.deepEqual((await service.listTags('')).map((t) => t.name).sort(), ['sea', 'ים'].sort());
  const rated = await service.search({ query: 'green', filters: { minRating: 4 }, limit: 10, scope: 'all' });
  assert.deepEqual(rated.items.map((p) => p.id).sort(), [red.id, blue.id].sort(), 'a text query combined with a rating filter');
  const tagged = await service.search({ query: '', filters: { tags: ['ים'], folderId: folder.id }, limit: 10 });
  assert.deepEqual(tagged.items.map((p) => p.id), [blue.id]);
  await service.removeTags([blue.id], ['sea']);
  assert.deepEqual((await service.getPhoto(blue.id)).tags, ['ים']);
  // Every edit is in the undo history; undoing one says so to every window.
  assert.deepEqual((await service.listEdits()).map((e) => e.kind), ['untag', 'tag', 'rating']);
  const events: ApiEvent[] = [];
  const off = service.onEvent((event) => events.push(event));
  const undone = await service.undoLast();
  off();
  assert.deepEqual({ kind: undone?.edit.kind, tags: undone?.edit.tags, restored: undone?.restored }, { kind: 'untag', tags: ['sea'], restored: 1 });
  assert.deepEqual((await service.getPhoto(blue.id)).tags, ['sea', 'ים']);
  assert.ok(events.some((event) => event.type === 'library-changed'));
  await assert.rejects(service.undoEdit(undone!.edit.id), ApiInputError);
  await assert.rejects(service.getPhoto(987654), ApiInputError);

  const thumb = await service.resolveMedia('thumb', red.id);
  assert.equal(thumb?.contentType, 'image/jpeg');
  assert.ok(!browse.items.some((p) => p.path.endsWith('escape.jpg')), 'a symlink out of the folder is not catalogued');
  assert.equal(await service.resolveMedia('full', 987654), null);
});

test('describeSkipped: totals unsupported files by extension over folders, most common first', () => {
  assert.equal(describeSkipped([]), '');
  assert.equal(describeSkipped([{}, {}]), '');
  assert.equal(describeSkipped([{ cr2: 2, mp4: 1 }, { cr2: 1, nef: 4 }]), 'Not supported, skipped: 4 .nef, 3 .cr2, 1 .mp4');
});
