// Undo of trashing and of resolving duplicates (migration 10): the files come back byte-identical from the
// freedesktop trash (XDG_DATA_HOME pointed at a temp folder, the real `trash` package moving them), visible and
// searchable again with their ratings and tags; the kept copy gives back the tags and rating it took, and the
// pair is a duplicate group again; a taken
// path or a file emptied from the trash is named in a partial result; where the system trash cannot be restored
// from (macOS, Windows), undo takes back the catalogue side and says to restore the files by hand. Migration
// 10 keeps the history it rebuilds. Restoring reads a volume's own .Trash-$uid and copies across volumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Catalogue } from '../src/main/core/catalogue/catalogue.js';
import { migrations } from '../src/main/core/catalogue/migrations.js';
import type { LibraryService } from '../src/main/core/service/library-service.js';
import { systemTrash } from '../src/main/core/duplicates/trash-restore.js';
import { undoTrashEdit } from '../src/main/core/duplicates/trash-undo.js';
import { tempDir } from './helpers/fixtures.js';
import { indexToTheEnd } from './helpers/service.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

const NAMES = ['red', 'green', 'blue', 'yellow', 'cyan', 'magenta', 'orange', 'purple'] as const;

test('undo of trash and of resolved duplicates', { skip: process.platform === 'linux' ? false : 'the freedesktop trash is Linux-only' }, async (t) => {
  const root = tempDir(t, 'trash-undo-');
  // The trash package reads XDG_DATA_HOME when it is loaded: set it first, then load the service.
  const dataHome = path.join(root, 'data');
  process.env.XDG_DATA_HOME = dataHome;
  const { LibraryService } = await import('../src/main/core/service/library-service.js');
  const trashFiles = path.join(dataHome, 'Trash', 'files');
  const trashInfo = path.join(dataHome, 'Trash', 'info');

  const photos = path.join(root, 'photos');
  mkdirSync(photos);
  for (const [i, name] of NAMES.entries()) await writeSolidPhoto(path.join(photos, `${name}.jpg`), COLOURS[name], 40 + i * 4);
  copyFileSync(path.join(photos, 'red.jpg'), path.join(photos, 'red-copy.jpg'));
  const original = new Map(readdirSync(photos).map((f) => [f, readFileSync(path.join(photos, f))]));

  const service: LibraryService = await LibraryService.open({ libraryDir: path.join(root, 'library'), modelsDir: path.join(root, 'models') });
  t.after(() => service.close());
  await service.useModelFolder(await buildTestModel(path.join(root, 'model')));
  await service.addFolder(photos);
  assert.equal((await indexToTheEnd(service)).state, 'done');
  const browse = await service.search({ query: '', limit: 100 });
  const idOf = (name: string) => browse.items.find((i) => path.basename(i.path) === `${name}.jpg`)!.id;
  const topOf = async (query: string) => path.basename((await service.search({ query, limit: 1 })).items[0].path);
  const byteIdentical = (name: string) => readFileSync(path.join(photos, `${name}.jpg`)).equals(original.get(`${name}.jpg`)!);

  await t.test('trashed photos come back from the trash with their rating, tags and vector (Ctrl+Z)', async () => {
    const blue = idOf('blue');
    const yellow = idOf('yellow');
    await service.setRating([blue], 4);
    await service.addTags([blue, yellow], ['sky']);
    assert.equal(await topOf('blue'), 'blue.jpg');

    const result = await service.trashPhotos([blue, yellow]);
    assert.deepEqual(result.trashed.sort(), [blue, yellow].sort());
    assert.notEqual(result.editId, null);
    assert.equal(readdirSync(trashFiles).length, 2, 'both files are in the trash');
    assert.equal((await service.getPhoto(blue)).status, 'missing');
    assert.notEqual(await topOf('blue'), 'blue.jpg', 'a trashed photo is not found');
    assert.deepEqual((await service.listEdits())[0], { ...(await service.listEdits())[0], id: result.editId!, kind: 'trash', changed: 2 });

    const undone = await service.undoLast();
    assert.equal(undone?.edit.id, result.editId);
    assert.deepEqual({ restored: undone?.restored, skipped: undone?.skipped, notRestored: undone?.notRestored }, { restored: 2, skipped: 0, notRestored: [] });
    assert.ok(byteIdentical('blue') && byteIdentical('yellow'), 'the files are back at their paths, byte for byte');
    assert.deepEqual([readdirSync(trashFiles), readdirSync(trashInfo)], [[], []], 'their trash entries are gone');
    const back = await service.getPhoto(blue);
    assert.deepEqual({ status: back.status, rating: back.rating, tags: back.tags }, { status: 'ok', rating: 4, tags: ['sky'] });
    assert.equal(await topOf('blue'), 'blue.jpg', 'searchable again');
    assert.equal((await service.listEdits()).some((e) => e.id === result.editId), false, 'the edit is forgotten');
    await assert.rejects(service.undoEdit(result.editId!), /cannot be undone any more/);
  });

  await t.test('resolving duplicates is undone as one edit: the copy comes back, the kept photo gives back what it took', async () => {
    const red = idOf('red');
    const copy = idOf('red-copy');
    await service.setRating([red], 2);
    await service.setRating([copy], 5);
    await service.addTags([copy], ['party', 'sky']);
    await service.addTags([red], ['sky']);

    const groupIds = async () => (await service.getDuplicates(0, 10)).groups.map((g) => g.photos.map((p) => p.id).sort((a, b) => a - b));
    await service.startDuplicateScan();
    while ((await service.getDuplicates(0, 10)).scan.state === 'running') await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await groupIds(), [[red, copy].sort((a, b) => a - b)], 'the scan finds the pair');

    const result = await service.resolveDuplicates([{ keepId: red, trashIds: [copy] }]);
    assert.deepEqual(result.trashed, [copy]);
    assert.deepEqual(await groupIds(), []);
    const merged = await service.getPhoto(red);
    assert.deepEqual({ rating: merged.rating, tags: merged.tags }, { rating: 5, tags: ['party', 'sky'] });

    const undone = await service.undoEdit(result.editId!);
    assert.equal(undone.restored, 1);
    assert.ok(byteIdentical('red-copy'));
    const kept = await service.getPhoto(red);
    assert.deepEqual({ rating: kept.rating, tags: kept.tags }, { rating: 2, tags: ['sky'] }, 'the merge is taken back');
    const copyBack = await service.getPhoto(copy);
    assert.deepEqual({ status: copyBack.status, rating: copyBack.rating, tags: copyBack.tags }, { status: 'ok', rating: 5, tags: ['party', 'sky'] });
    assert.deepEqual(await groupIds(), [[red, copy].sort((a, b) => a - b)], 'the pair is back in the duplicates view');
  });

  await t.test('a taken path and a file emptied from the trash give a partial result that names each', async () => {
    const [green, cyan, magenta] = ['green', 'cyan', 'magenta'].map(idOf);
    const result = await service.trashPhotos([green, cyan, magenta]);
    assert.equal(result.trashed.length, 3);
    writeFileSync(path.join(photos, 'green.jpg'), 'another file, saved here since');
    const cyanEntry = readdirSync(trashInfo).find((f) => readFileSync(path.join(trashInfo, f), 'utf8').includes('/cyan.jpg'))!;
    rmSync(path.join(trashFiles, cyanEntry.replace(/\.trashinfo$/, ''))); // emptied from the trash
    rmSync(path.join(trashInfo, cyanEntry));

    const undone = await service.undoEdit(result.editId!);
    assert.deepEqual({ restored: undone.restored, skipped: undone.skipped }, { restored: 1, skipped: 2 });
    assert.ok(byteIdentical('magenta'));
    assert.equal((await service.getPhoto(magenta)).status, 'ok');
    const why = new Map(undone.notRestored!.map((n) => [n.id, n.error]));
    assert.match(why.get(green)!, /another file now lies at .*green\.jpg; the trashed one was left in the Trash/);
    assert.match(why.get(cyan)!, /cyan\.jpg is no longer in the Trash/);
    assert.equal(readFileSync(path.join(photos, 'green.jpg'), 'utf8'), 'another file, saved here since', 'never overwritten');
    assert.equal(readdirSync(trashFiles).length, 1, 'the trashed green is still in the trash');
    assert.equal((await service.getPhoto(cyan)).status, 'missing');
  });

  await t.test('where the trash cannot be restored from, undo takes back the catalogue side and says what to do', async () => {
    const [orange, purple] = ['orange', 'purple'].map(idOf);
    await service.addTags([purple], ['dusk']);
    const result = await service.resolveDuplicates([{ keepId: orange, trashIds: [purple] }]);
    assert.deepEqual((await service.getPhoto(orange)).tags, ['dusk']);
    const { result: undone } = await undoTrashEdit(service.library, result.editId!, systemTrash('darwin'));
    assert.match(undone.notice!, /restore the files from the Trash yourself/);
    assert.deepEqual(undone.notRestored!.map((n) => n.error), ['restore it from the Trash yourself']);
    assert.deepEqual((await service.getPhoto(orange)).tags, [], 'the kept copy gave back the tag');
    assert.equal((await service.getPhoto(purple)).status, 'missing', 'still in the trash until the user puts it back');
    assert.equal(systemTrash('win32').name, 'Recycle Bin');
  });
});

test('migration 10 keeps the undo history: its edits, their ids, and the id counter past an undone edit', (t) => {
  const file = path.join(tempDir(t, 'trash-undo-migrate-'), 'catalogue.sqlite');
  const db = new Database(file);
  for (const migration of migrations.filter((m) => m.version <= 8)) db.exec(migration.up);
  db.pragma('user_version = 8');
  db.exec("INSERT INTO photos(path, added_at) VALUES ('/p/1.jpg', 0)");
  const edit = db.prepare("INSERT INTO edits(kind, rating, changed, created_at) VALUES ('rating', ?, 1, 0)");
  for (const rating of [3, 4, 5]) edit.run(rating);
  db.exec('DELETE FROM edits WHERE id = 3'); // undone: its id is never given again
  db.close();

  const catalogue = new Catalogue(file);
  t.after(() => catalogue.close());
  assert.deepEqual(catalogue.listEdits().map((e) => [e.id, e.rating]), [[2, 4], [1, 3]]);
  assert.equal(catalogue.setRating([1], 2).editId, 4, 'the counter went on from 3');
  catalogue.db.prepare("INSERT INTO edits(kind, created_at) VALUES ('trash', 0)").run();
});

/** A folder on another volume than the temp folder (tmpfs /dev/shm), or null where there is none. */
function otherVolume(t: Parameters<typeof tempDir>[0]): string | null {
  if (process.platform !== 'linux' || !existsSync('/dev/shm') || statSync('/dev/shm').dev === statSync(os.tmpdir()).dev) return null;
  const dir = mkdtempSync('/dev/shm/trash-undo-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a file trashed on another volume comes back from the .Trash-$uid at its top (Path relative to it, as GIO writes)', async (t) => {
  const volume = otherVolume(t);
  if (!volume) return t.skip('no second volume (/dev/shm) here');
  const topTrash = `/dev/shm/.Trash-${process.getuid!()}`;
  if (existsSync(topTrash)) return t.skip(`${topTrash} exists already: not touching it`);
  t.after(() => rmSync(topTrash, { recursive: true, force: true }));
  const original = path.join(volume, 'holiday 100% sun.jpg');
  mkdirSync(path.join(topTrash, 'files'), { recursive: true });
  mkdirSync(path.join(topTrash, 'info'));
  writeFileSync(path.join(topTrash, 'files', 'holiday 100% sun.jpg'), 'the bytes of a photo');
  writeFileSync(path.join(topTrash, 'info', 'holiday 100% sun.jpg.trashinfo'),
    `[Trash Info]\nPath=${encodeURI(path.relative('/dev/shm', original))}\nDeletionDate=2026-11-30T10:00:00\n`);

  assert.deepEqual(await systemTrash('linux').restore(original, 'the bytes of a photo'.length), { restored: true });
  assert.equal(readFileSync(original, 'utf8'), 'the bytes of a photo');
  assert.deepEqual([readdirSync(path.join(topTrash, 'files')), readdirSync(path.join(topTrash, 'info'))], [[], []], 'its trash entry is gone');
});

test('a file put back across volumes is copied beside its place and then linked in, never over another', async (t) => {
  const volume = otherVolume(t);
  if (!volume) return t.skip('no second volume (/dev/shm) here');
  const dataHome = tempDir(t, 'trash-undo-xdg-');
  const previous = process.env.XDG_DATA_HOME;
  process.env.XDG_DATA_HOME = dataHome;
  t.after(() => (previous === undefined ? delete process.env.XDG_DATA_HOME : (process.env.XDG_DATA_HOME = previous)));
  // A home-trash entry (as GIO writes one: escaped Path, local DeletionDate) for a file of the other volume.
  const trashed = (name: string, bytes: string, deletedAt: string) => {
    mkdirSync(path.join(dataHome, 'Trash', 'files'), { recursive: true });
    mkdirSync(path.join(dataHome, 'Trash', 'info'), { recursive: true });
    writeFileSync(path.join(dataHome, 'Trash', 'files', name), bytes);
    writeFileSync(path.join(dataHome, 'Trash', 'info', `${name}.trashinfo`),
      `[Trash Info]\nPath=${encodeURI(path.join(volume, 'a photo.jpg'))}\nDeletionDate=${deletedAt}\n`);
  };
  trashed('a photo.jpg', 'older, other size', '2026-11-01T10:00:00');
  trashed('a photo.2.jpg', 'newest', '2026-11-30T10:00:00');
  trashed('a photo.3.jpg', 'oldest', '2026-11-02T10:00:00'); // the same size as 'newest'
  const original = path.join(volume, 'a photo.jpg');

  writeFileSync(original, 'something else');
  assert.match((await systemTrash('linux').restore(original, 'newest'.length) as { error: string }).error, /another file now lies at/);
  rmSync(original);
  assert.deepEqual(await systemTrash('linux').restore(original, 'newest'.length), { restored: true });
  assert.equal(readFileSync(original, 'utf8'), 'newest', 'the newest entry of that size');
  assert.deepEqual(readdirSync(volume), ['a photo.jpg'], 'no temporary copy is left beside it');
  assert.deepEqual(readdirSync(path.join(dataHome, 'Trash', 'files')).sort(), ['a photo.3.jpg', 'a photo.jpg'], 'the others stay in the trash');
});
