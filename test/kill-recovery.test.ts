// Issue 10: 20 SIGKILLs at seeded random moments (the seed is printed; KILL_TEST_SEED replays it), five in each
// of: an indexing run, a vector index save (the rebuild child), a duplicate merge and an undo of one (children
// that move files through the freedesktop trash under a temporary XDG_DATA_HOME). After each kill the library is
// reopened and checked: SQLite's integrity check, one vector per photo per model, every rating and tag either as
// before the interrupted work or as after all of it (a merge and an undo are all-or-nothing in the catalogue),
// files and catalogue agreeing after a rescan, the saved index loading and holding exactly the catalogue's
// vectors; then the interrupted work is finished and the library must reach its expected state exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, watch } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MergeChoice } from '../src/main/core/catalogue/catalogue.js';
import { IndexerClient, IndexerExitError } from '../src/main/core/embed/indexer-client.js';
import { undoTrashEdit } from '../src/main/core/duplicates/trash-undo.js';
import { Library } from '../src/main/core/library.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { scanFolder } from '../src/main/core/scanner/scanner.js';
import { openVectorStore, vectorIndexDir } from '../src/main/core/search/vector-store.js';
import { reconcileIndex } from '../src/main/core/vector/reconcile.js';
import { VectorIndex } from '../src/main/core/vector/vector-index.js';
import { prng, tempDir, unitRows } from './helpers/fixtures.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

const PLAIN_PHOTOS = 100;
/** Duplicate pairs: g<i>-keep.jpg and g<i>-copy.jpg, the same bytes. */
const GROUPS = 10;
const KILLS_PER_PHASE = 5;
/** A second model's vectors, enough that saving its index takes a few milliseconds to land kills in. */
const SAVE_ROWS = 20_000;
const SAVE_DIM = 256;

const here = path.dirname(fileURLToPath(import.meta.url));
const KILL_CHILD = path.join(here, 'helpers', 'kill-child.js');
const REBUILD_ENTRY = path.join(here, '../src/main/core/vector/rebuild-process.js');

/** Each catalogued photo of the folder (by file name): its rating and sorted tags. */
type UserData = Record<string, string>;

test(`${4 * KILLS_PER_PHASE} SIGKILLs while indexing, saving the index, merging duplicates and undoing: nothing lost or half-applied`, {
  skip: process.platform === 'linux' ? false : 'the trash phases use the freedesktop trash (Linux)',
}, async (t) => {
  const root = tempDir(t, 'kill-recovery-');
  // The trash package reads XDG_DATA_HOME when loaded: set first (the children inherit it), then load it.
  process.env.XDG_DATA_HOME = path.join(root, 'data');
  const { trashPhotos } = await import('../src/main/core/duplicates/trash.js');
  const trashFiles = path.join(root, 'data', 'Trash', 'files');
  const seed = Number(process.env.KILL_TEST_SEED ?? Date.now() % 1_000_000);
  const next = prng(seed);
  console.log(`kill-recovery seed ${seed} (KILL_TEST_SEED=${seed} replays it)`);
  t.diagnostic(`seed ${seed}`);

  const photos = path.join(root, 'photos');
  const palette = Object.values(COLOURS);
  await Promise.all(Array.from({ length: PLAIN_PHOTOS }, (_, i) =>
    writeSolidPhoto(path.join(photos, `p${String(i).padStart(2, '0')}.jpg`), palette[i % palette.length], 40 + (i % 7) * 6)));
  for (let g = 0; g < GROUPS; g++) {
    await writeSolidPhoto(path.join(photos, `g${g}-keep.jpg`), palette[g % palette.length], 70 + g * 2);
    copyFileSync(path.join(photos, `g${g}-keep.jpg`), path.join(photos, `g${g}-copy.jpg`));
  }
  const originals = new Map(readdirSync(photos).map((f) => [f, readFileSync(path.join(photos, f))]));

  const libraryDir = path.join(root, 'library');
  const library = Library.open(libraryDir);
  t.after(() => library.close());
  const model = await loadModelFolder(await buildTestModel(path.join(root, 'model')));
  library.useModel({ id: model.modelId, dim: model.dim, preprocessVersion: model.preprocessVersion }, model.dir);
  const folder = library.catalogue.addFolder(photos);
  await scanFolder(library.catalogue, folder);
  const catalogue = library.catalogue;
  const idOf = (name: string) => catalogue.photoIdByPath(path.join(photos, name))!;

  // User data: the copies carry tags and ratings their kept photo lacks (a merge changes them), some of it shared.
  const merges: MergeChoice[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const keep = idOf(`g${g}-keep.jpg`);
    const copy = idOf(`g${g}-copy.jpg`);
    merges.push({ keepId: keep, fromIds: [copy] });
    catalogue.setRating([copy], 1 + ((g * 2) % 5));
    if (g % 3 === 0) catalogue.setRating([keep], 3);
    catalogue.addTags([copy], [`trip ${g}`, 'copies']);
    if (g % 2 === 0) catalogue.addTags([keep], ['copies']);
  }
  catalogue.setRating([idOf('p01.jpg'), idOf('p02.jpg')], 4);
  catalogue.addTags([idOf('p03.jpg')], ['plain']);
  const copies = merges.flatMap((m) => m.fromIds);

  const userData = (lib: Library): UserData => Object.fromEntries((lib.catalogue.db.prepare(
    `SELECT p.path, coalesce(r.rating, 0) AS rating,
            coalesce((SELECT group_concat(name, ',') FROM (SELECT t.name FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.photo_id = p.id ORDER BY t.name)), '') AS tags
     FROM photos p LEFT JOIN ratings r ON r.photo_id = p.id WHERE p.folder_id IS NOT NULL ORDER BY p.path`,
  ).all() as { path: string; rating: number; tags: string }[]).map((r) => [path.basename(r.path), `${r.rating}|${r.tags}`]));
  const before = userData(library);
  // What resolving every group gives: each kept photo with the union of the tags and the highest rating.
  const merged: UserData = { ...before };
  for (let g = 0; g < GROUPS; g++) {
    const [keepRating, keepTags] = before[`g${g}-keep.jpg`].split('|');
    const [copyRating, copyTags] = before[`g${g}-copy.jpg`].split('|');
    const tags = [...new Set([...keepTags.split(','), ...copyTags.split(',')].filter(Boolean))].sort();
    merged[`g${g}-keep.jpg`] = `${Math.max(Number(keepRating), Number(copyRating))}|${tags.join(',')}`;
  }

  const log: string[] = [];
  /** Reopens the library and checks what must hold after any kill; returns which user-data state it is in. */
  async function checkAfterKill(label: string, allowed: Record<string, UserData>): Promise<string> {
    const reopened = Library.open(libraryDir);
    try {
      const db = reopened.catalogue.db;
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', `${label}: integrity`);
      assert.equal(db.prepare('SELECT count(*) FROM (SELECT 1 FROM embeddings GROUP BY photo_id, model_id HAVING count(*) > 1)').pluck().get(), 0, `${label}: one vector per photo per model`);
      assert.equal(db.prepare("SELECT count(*) FROM photos p WHERE status = 'ok' AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = p.id)").pluck().get(), 0, `${label}: no 'ok' photo without a vector`);
      const now = userData(reopened);
      const state = Object.keys(allowed).find((name) => JSON.stringify(allowed[name]) === JSON.stringify(now));
      assert.ok(state, `${label}: ratings and tags are neither ${Object.keys(allowed).join(' nor ')}:\n${JSON.stringify(now)}`);
      // A restart's rescan: the catalogue then agrees with the disk, file by file.
      await scanFolder(reopened.catalogue, reopened.catalogue.listFolders()[0]);
      for (const p of reopened.catalogue.getPhotos(db.prepare('SELECT id FROM photos WHERE folder_id IS NOT NULL').pluck().all() as number[])) {
        assert.equal(p.status !== 'missing', existsSync(p.path), `${label}: ${path.basename(p.path)} is ${p.status} in the catalogue`);
      }
      return state!;
    } finally {
      reopened.close();
    }
  }

  /** Back where the trash phases start: every photo present, byte for byte, with its own rating and tags. */
  function assertAtStart(label: string): void {
    assert.deepEqual(userData(library), before, `${label}: ratings and tags as before`);
    for (const [name, bytes] of originals) assert.ok(readFileSync(path.join(photos, name)).equals(bytes), `${label}: ${name} is back as it was`);
    assert.equal(catalogue.db.prepare("SELECT count(*) FROM photos WHERE folder_id IS NOT NULL AND status = 'missing'").pluck().get(), 0, `${label}: all visible`);
    assert.deepEqual(readdirSync(trashFiles), [], `${label}: nothing left in the trash`);
  }

  const trashEdits = () => catalogue.listEdits().filter((e) => e.kind === 'trash').map((e) => e.id);
  const undoAll = async () => {
    for (const id of trashEdits()) await undoTrashEdit(library, id);
  };

  // ---------- 1. indexing ----------
  const request = { libraryDir, modelDir: model.dir, batchSize: 8, threads: 1 };
  const total = PLAIN_PHOTOS + 2 * GROUPS;
  for (let kills = 0; kills < KILLS_PER_PHASE;) {
    const client = new IndexerClient();
    const run = client.start(request);
    // A random few batches in, plus a random sub-batch delay: mid-decode, mid-inference or mid-commit.
    const target = Math.min(catalogue.countEmbeddings(model.modelId) + Math.floor(next() * 2) * 8, total - 1);
    const extraMs = Math.floor(next() * 30);
    const started = Date.now();
    while (catalogue.countEmbeddings(model.modelId) < target && client.running && Date.now() - started < 20_000) await sleep(2);
    await sleep(extraMs);
    const embedded = catalogue.countEmbeddings(model.modelId);
    client.kill('SIGKILL');
    const outcome = await run.then(() => 'finished', (error: unknown) => error);
    if (outcome === 'finished') break; // nothing left to kill: the phase is short of kills, asserted below
    assert.ok(outcome instanceof IndexerExitError && outcome.signal === 'SIGKILL', String(outcome));
    kills++;
    log.push(`index: killed at ${embedded}/${total} embedded`);
    await checkAfterKill(`indexing kill ${kills}`, { before });
  }
  assert.equal(log.length, KILLS_PER_PHASE, `every indexing kill landed in a run (${log.join('; ')})`);
  assert.equal((await new IndexerClient().start(request)).state, 'done');
  assert.equal(catalogue.countEmbeddings(model.modelId), total, 'the interrupted indexing finished: every photo has its vector');
  const store = await openVectorStore(library, model.modelId, model.dim);
  assert.equal(store.size, total, 'the index loads or is built, holding every vector');
  await store.close();

  // ---------- 2. index saves ----------
  const saveModel = { id: 'kill-save-model', dim: SAVE_DIM, preprocessVersion: 'test' };
  catalogue.registerModel(saveModel);
  catalogue.insertPhotos(Array.from({ length: SAVE_ROWS }, (_, i) => ({ folderId: null, path: `/phantom/${i}.jpg`, size: 1, mtimeMs: i })));
  const phantomIds = catalogue.db.prepare('SELECT id FROM photos WHERE folder_id IS NULL ORDER BY id').pluck().all() as number[];
  catalogue.importVectors(saveModel, phantomIds, unitRows(SAVE_ROWS, SAVE_DIM, seed));
  const indexDir = path.join(root, 'save-index');
  mkdirSync(indexDir);
  const expected = [...catalogue.embeddedPhotoIds(saveModel.id)].sort((a, b) => a - b);
  const generation = () => {
    try {
      return VectorIndex.readManifest(indexDir).files.index.name;
    } catch {
      return null;
    }
  };
  const checkSavedIndex = (label: string) => {
    const index = VectorIndex.load(indexDir, { modelId: saveModel.id, dim: SAVE_DIM });
    assert.deepEqual([...index.photoIds()].sort((a, b) => a - b), expected, `${label}: the saved index holds exactly the catalogue's vectors`);
  };
  const rebuildArgs = JSON.stringify({ libraryDir, modelId: saveModel.id, dim: SAVE_DIM, indexDir });
  const rebuildToTheEnd = async () => {
    const child = fork(REBUILD_ENTRY, [rebuildArgs], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    assert.equal(await new Promise((resolve) => child.once('exit', (code) => resolve(code))), 0, 'the rebuild runs to the end');
  };
  for (let kills = 0, attempts = 0; kills < KILLS_PER_PHASE; attempts++) {
    assert.ok(attempts < 3 * KILLS_PER_PHASE, 'index saves: the kills keep missing the save');
    const delayMs = next() * 15;
    const was = generation();
    const child = fork(REBUILD_ENTRY, [rebuildArgs], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    // The save starts when the new generation's index file appears; the kill comes a random moment after.
    const watcher = watch(indexDir, (_, name) => {
      if (name && /^index-.*\.faiss$/.test(name) && !(was && name === was)) {
        watcher.close();
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_, s) => resolve(s)));
    watcher.close();
    if (signal !== 'SIGKILL') continue; // finished before the kill: try another moment
    kills++;
    // Half the kills land while an older generation is in place (the first saves may all have been killed).
    if (kills === Math.floor(KILLS_PER_PHASE / 2) && generation() === null) await rebuildToTheEnd();
    const now = generation();
    log.push(`save: killed ${delayMs.toFixed(1)} ms into the save, ${now === was ? (was ? 'old generation kept' : 'no index yet') : 'new generation in place'}`);
    await checkAfterKill(`save kill ${kills}`, { before });
    if (now) checkSavedIndex(`save kill ${kills}`);
  }
  await rebuildToTheEnd();
  checkSavedIndex('after the saves');

  // ---------- 3. duplicate merges, 4. undoing them ----------
  for (let kills = 0, attempts = 0; kills < KILLS_PER_PHASE; attempts++) {
    assert.ok(attempts < 3 * KILLS_PER_PHASE, 'merges: the kills keep missing the work');
    const afterLines = 1 + Math.floor(next() * (GROUPS + 1)); // 'ready', then a line per file moved
    const delayMs = next() * 4;
    const killed = await runChildAndKill({ libraryDir, job: 'merge', merges }, afterLines, delayMs);
    if (killed) {
      kills++;
      const state = await checkAfterKill(`merge kill ${kills}`, { before, merged });
      log.push(`merge: killed after ${afterLines - 1} moves + ${delayMs.toFixed(1)} ms: ${state}`);
      // Finish the interrupted work: resolving the groups again trashes what is left.
      const rest = catalogue.getPhotos(copies).filter((p) => p.status !== 'missing').map((p) => p.id);
      const again = await trashPhotos(library, rest, { merges });
      assert.deepEqual(again.failed, [], `merge kill ${kills}: the resumed merge trashed every copy left`);
      assert.deepEqual(userData(library), merged, `merge kill ${kills}: merged once done`);
      for (const id of copies) assert.equal(existsSync(catalogue.getPhoto(id)!.path), false);
    }
    await undoAll();
    assertAtStart(`after merge attempt ${attempts}`);
  }
  for (let kills = 0, attempts = 0; kills < KILLS_PER_PHASE; attempts++) {
    assert.ok(attempts < 3 * KILLS_PER_PHASE, 'undos: the kills keep missing the work');
    const { editId, trashed } = await trashPhotos(library, copies, { merges });
    assert.equal(trashed.length, GROUPS);
    const afterLines = 1 + Math.floor(next() * (GROUPS + 1)); // 'ready', then a line per file put back
    const delayMs = next() * 4;
    const killed = await runChildAndKill({ libraryDir, job: 'undo', editId }, afterLines, delayMs);
    if (killed) {
      kills++;
      const state = await checkAfterKill(`undo kill ${kills}`, { merged, before });
      log.push(`undo: killed after ${afterLines - 1} restores + ${delayMs.toFixed(1)} ms: ${state === 'merged' ? 'edit still to undo' : 'undone'}`);
      assert.equal(trashEdits().includes(editId!), state === 'merged', `undo kill ${kills}: the edit is in the history exactly while its merge is`);
      await undoAll(); // finish the interrupted undo
    }
    assertAtStart(`after undo attempt ${attempts}`);
  }

  // The search index saved in phase 1, reconciled with the catalogue as at a start (FAISS on this thread now).
  const searchIndex = VectorIndex.load(vectorIndexDir(library, model.modelId), { modelId: model.modelId, dim: model.dim });
  await reconcileIndex(searchIndex, catalogue, model.modelId, searchIndex.info().lastEmbeddingId);
  assert.deepEqual([...searchIndex.photoIds()].sort((a, b) => a - b), [...catalogue.embeddedPhotoIds(model.modelId)].sort((a, b) => a - b),
    'the search index, reconciled, holds exactly the visible photos\' vectors');
  for (const line of log) t.diagnostic(line);
  assert.equal(log.length, 4 * KILLS_PER_PHASE);
});

/**
 * Runs the kill child, SIGKILLs it `delayMs` after its `afterLines`-th line of output; true when the kill
 * stopped it (false: it had finished).
 */
async function runChildAndKill(args: object, afterLines: number, delayMs: number): Promise<boolean> {
  const child = spawn(process.execPath, [KILL_CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    const before = lines;
    lines += d.toString().split('\n').length - 1;
    if (before < afterLines && lines >= afterLines) setTimeout(() => child.kill('SIGKILL'), delayMs);
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (c, s) => resolve({ code: c, signal: s })));
  if (signal === 'SIGKILL') return true;
  assert.equal(code, 0, `the kill child failed:\n${stderr}`);
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
