// Models identified by content: the same weights through another folder reuse their vectors, other weights or
// another preprocessing never mix with them, and switching models keeps search answering on the earlier model's
// vectors until the new one is complete; switching back costs nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Library } from '../src/main/core/library.js';
import { migrations } from '../src/main/core/catalogue/migrations.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { identifyModelFolder } from '../src/main/core/service/model-manager.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { scanLibrary } from '../src/main/core/scanner/scanner.js';
import { imageTowerFingerprint } from '../src/main/core/model/model-fingerprint.js';
import { indexToTheEnd } from './helpers/service.js';
import { tempDir } from './helpers/fixtures.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

const PHOTOS = 40; // enough for the indexing speed to be recorded (the estimate's basis)
const colours = ['red', 'green', 'blue', 'yellow', 'purple'] as const;

async function writePhotos(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < PHOTOS; i++) {
    const colour = colours[i % colours.length];
    await writeSolidPhoto(path.join(dir, `${colour}-${String(i).padStart(2, '0')}.jpg`), COLOURS[colour], 40 + (i % 7) * 4);
  }
}

test('the same weights in another folder (a copy, a symlink) need no re-embedding', async (t) => {
  const root = tempDir(t, 'model-identity-same-');
  await writePhotos(path.join(root, 'Photos'));
  const original = await buildTestModel(path.join(root, 'models', 'clip'));
  const copy = path.join(root, 'elsewhere', 'renamed-copy');
  cpSync(original, copy, { recursive: true });
  const link = path.join(root, 'linked');
  symlinkSync(original, link);

  const service = await LibraryService.open({ libraryDir: path.join(root, 'library'), modelsDir: path.join(root, 'models') });
  t.after(() => service.close());
  const first = await service.useModelFolder(original);
  await service.addFolder(path.join(root, 'Photos'));
  assert.equal((await indexToTheEnd(service)).state, 'done');
  assert.equal((await service.getStatus()).embedded, PHOTOS);

  for (const other of [copy, link]) {
    const preview = await service.previewModelFolder(other);
    assert.equal(preview.modelId, first.modelId, `${other} holds the same weights: the same vectors`);
    assert.equal(preview.isCurrent, true);
    assert.equal(preview.photosToEmbed, 0);
    const status = await service.useModelFolder(other);
    assert.equal(status.modelId, first.modelId);
    const library = await service.getStatus();
    assert.equal(library.embedded, PHOTOS, 'every photo keeps its vector');
    assert.equal(library.pending, 0);
    assert.equal(library.searchModelId, undefined);
    const run = await indexToTheEnd(service);
    assert.equal(run.total, 0, 'nothing to embed again');
    assert.equal(path.basename((await service.search({ query: 'red', limit: 1 })).items[0].path).split('-')[0], 'red');
  }
  assert.equal(service.library.catalogue.listModels().length, 1, 'one model record for one set of weights');
});

test('switching to another model asks with the cost, search keeps answering, switching back costs nothing', async (t) => {
  const root = tempDir(t, 'model-identity-switch-');
  await writePhotos(path.join(root, 'Photos'));
  const modelA = await buildTestModel(path.join(root, 'models', 'model-a'));
  const modelB = await buildTestModel(path.join(root, 'models', 'model-b'), { imageSize: 24 }); // other weights, other preprocessing

  const service = await LibraryService.open({ libraryDir: path.join(root, 'library'), modelsDir: path.join(root, 'models') });
  t.after(() => service.close());
  const a = (await service.useModelFolder(modelA)).modelId!;
  await service.addFolder(path.join(root, 'Photos'));
  assert.equal((await indexToTheEnd(service)).state, 'done');

  const preview = await service.previewModelFolder(modelB);
  assert.notEqual(preview.modelId, a);
  assert.equal(preview.isCurrent, false);
  assert.equal(preview.photosToEmbed, PHOTOS);
  assert.ok(preview.photosPerSecond !== null && preview.photosPerSecond > 0, 'the estimate uses the speed measured here');
  assert.equal(preview.speedModelId, a);
  assert.ok(Math.abs(preview.estimatedSeconds! - PHOTOS / preview.photosPerSecond!) < 1e-6);
  assert.equal(preview.searchKeeps, a);
  assert.equal(service.library.currentModel?.id, a, 'a preview changes nothing');

  const b = (await service.useModelFolder(modelB)).modelId!;
  assert.equal(b, preview.modelId);
  let status = await service.getStatus();
  assert.equal(status.modelId, b);
  assert.equal(status.pending, PHOTOS, 'every photo is to embed with the new model');
  assert.equal(status.searchModelId, a, 'search stays on the earlier model meanwhile');
  assert.equal(status.searchEmbedded, PHOTOS);
  const during = await service.search({ query: 'blue', limit: 3 });
  assert.equal(during.items.length, 3, 'search keeps answering');
  assert.ok(during.items.every((p) => path.basename(p.path).startsWith('blue-')));

  // Back to the first model: nothing to embed, search on it at once.
  const back = await service.previewModelFolder(modelA);
  assert.deepEqual([back.modelId, back.photosToEmbed, back.searchKeeps], [a, 0, null]);
  await service.useModelFolder(modelA);
  status = await service.getStatus();
  assert.deepEqual([status.modelId, status.pending, status.searchModelId], [a, 0, undefined]);

  // Forward again and let it finish: search changes over by itself.
  await service.useModelFolder(modelB);
  assert.equal((await service.getStatus()).searchModelId, a);
  assert.equal((await indexToTheEnd(service)).state, 'done');
  status = await service.getStatus();
  assert.deepEqual([status.modelId, status.embedded, status.searchModelId], [b, PHOTOS, undefined]);
  const after = await service.search({ query: 'green', limit: 3 });
  assert.ok(after.items.every((p) => path.basename(p.path).startsWith('green-')), 'the new model\'s vectors answer');
  const catalogue = service.library.catalogue;
  assert.deepEqual([catalogue.countEmbeddings(a), catalogue.countEmbeddings(b)], [PHOTOS, PHOTOS], 'each model keeps its own vectors');

  // Photos added later wait for the new model only: search does not go back to the earlier one meanwhile.
  await writeSolidPhoto(path.join(root, 'Photos', 'red-new.jpg'), COLOURS.red, 52);
  await scanLibrary(catalogue);
  status = await service.getStatus();
  assert.deepEqual([status.modelId, status.pending, status.searchModelId], [b, 1, undefined]);
});

test('other weights under a used name, or a changed preprocessing, get their own id: vectors never mix', async (t) => {
  const root = tempDir(t, 'model-identity-names-');
  const library = Library.open(path.join(root, 'library'));
  t.after(() => library.close());
  const first = await identifyModelFolder(library, await buildTestModel(path.join(root, 'x', 'clip')));
  const other = await identifyModelFolder(library, await buildTestModel(path.join(root, 'y', 'clip'), { imageSize: 24 }));
  assert.equal(first.modelId, 'clip');
  assert.match(other.modelId, /^clip@[0-9a-f]{8}$/);

  // The preprocessing of the first folder changes in place: its weights are the same, its vectors would not be.
  const cfgPath = path.join(root, 'x', 'clip', 'visual', 'preprocess_cfg.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { mean: number[] };
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, mean: [0.5, 0.5, 0.5] }));
  const changed = await identifyModelFolder(library, path.join(root, 'x', 'clip'));
  assert.notEqual(changed.modelId, first.modelId);
  assert.notEqual(changed.preprocessVersion, first.preprocessVersion);
  assert.equal((await identifyModelFolder(library, path.join(root, 'x', 'clip'))).modelId, changed.modelId, 'stable');

  // Registering an id with another preprocessing is refused rather than mixing vectors under one id.
  assert.throws(
    () => library.catalogue.registerModel({ id: first.modelId, dim: first.dim, preprocessVersion: changed.preprocessVersion }),
    /never mixed/,
  );
  const byName = await loadModelFolder(path.join(root, 'x', 'clip'));
  assert.equal(byName.modelId, 'clip', 'the folder alone does not decide the id');
});

test('migration 11: mixed vectors are dropped to be embedded again, a model of before is adopted by its name', async (t) => {
  const root = tempDir(t, 'model-identity-migration-');
  const libraryDir = path.join(root, 'library');
  mkdirSync(libraryDir);
  const modelDir = await buildTestModel(path.join(root, 'clip'));
  const folder = await loadModelFolder(modelDir);

  // A catalogue as version 8 left it: the model's preprocessing was updated in place after 2 photos were embedded.
  const db = new Database(path.join(libraryDir, 'catalogue.sqlite'));
  for (const m of migrations.filter((m) => m.version <= 8)) db.exec(m.up);
  db.pragma('user_version = 8');
  db.prepare("INSERT INTO folders(id, path, added_at) VALUES (1, '/photos', 0)").run();
  const addPhoto = db.prepare("INSERT INTO photos(id, folder_id, path, size, mtime_ms, status, added_at) VALUES (?, 1, ?, 1, 0, 'ok', 0)");
  for (let id = 1; id <= 4; id++) addPhoto.run(id, `/photos/${id}.jpg`);
  db.prepare('INSERT INTO models(id, dim, preprocess_version, added_at) VALUES (?, ?, ?, 0)').run('clip', folder.dim, folder.preprocessVersion);
  const vector = Buffer.from(new Float32Array(folder.dim).fill(0.5).buffer);
  const addVector = db.prepare('INSERT INTO embeddings(photo_id, model_id, preprocess_version, vector, created_at) VALUES (?, ?, ?, ?, 0)');
  addVector.run(1, 'clip', folder.preprocessVersion, vector);
  addVector.run(2, 'clip', 'pp1-an-older-one', vector);
  addVector.run(3, 'clip', 'imported-unknown', vector);
  db.prepare("INSERT INTO settings(key, value) VALUES ('model_id', 'clip'), ('model_dir', ?)").run(modelDir);
  db.close();

  const library = Library.open(libraryDir);
  t.after(() => library.close());
  assert.equal(library.catalogue.countEmbeddings('clip'), 2, 'the vector of the older preprocessing is dropped');
  assert.equal(library.catalogue.countToEmbed('clip'), 2);
  const adopted = await identifyModelFolder(library, modelDir, 'clip');
  assert.equal(adopted.modelId, 'clip', 'the same name, dimension and preprocessing: its vectors are this folder\'s');
  assert.equal(library.catalogue.countEmbeddings('clip'), 2);
  assert.equal(library.catalogue.modelDir('clip'), adopted.dir);
});

test('a fingerprint is read from the cache while the files keep their sizes and mtimes, and computed again after', async (t) => {
  const root = tempDir(t, 'model-identity-cache-');
  const visual = path.join(await buildTestModel(path.join(root, 'clip')), 'visual', 'model.onnx');
  const stored = new Map<string, string>();
  const cache = { get: (key: string) => stored.get(key) ?? null, set: (key: string, value: string) => void stored.set(key, value) };
  const real = await imageTowerFingerprint(visual, cache);
  assert.match(real, /^[0-9a-f]{64}$/);
  assert.equal(stored.size, 1, 'remembered under the files\' state');
  const [key] = stored.keys();
  stored.set(key, 'from-the-cache');
  assert.equal(await imageTowerFingerprint(visual, cache), 'from-the-cache', 'the files are not read again');
  utimesSync(visual, new Date(), new Date(Date.now() + 5000));
  assert.equal(await imageTowerFingerprint(visual, cache), real, 'touched files: hashed again (same content, same hash)');
  assert.equal(stored.size, 2);
});
