// Issue 10, one writer and readers that keep up: `photo-search index` runs on a library that a LibraryService
// (what `serve` and the app run) has open. The service sees the CLI's photos within seconds with no call that
// forces a refresh (it polls the catalogue's data_version), and its own indexing request waits for the CLI's
// writer lock, says whom it waits for, then runs and finds nothing left to embed: no photo is embedded twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { OWNER_FILE } from '../src/main/core/writer-lock.js';
import type { ApiEvent, IndexingProgress } from '../src/shared/types.js';
import { holdWriterLock, tempDir, until } from './helpers/fixtures.js';
import { waitForIndexing } from './helpers/service.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/photo-search.js');
const FIRST = 60;
const SECOND = 60;
/** The service's poll runs every 1.5 s and its catch-up takes milliseconds here: 5 s leaves room for a busy machine. */
const SEEN_WITHIN_MS = 5000;

function startCli(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { child, exited };
}

function lockOwnerPid(library: string): number | null {
  try {
    return (JSON.parse(readFileSync(path.join(library, OWNER_FILE), 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
}

/** The service's indexing progress once its run waits for another process's writer lock. */
function waitingRun(service: LibraryService): Promise<IndexingProgress> {
  return until('the run to wait for the writer lock', async () => {
    const progress = await service.getIndexingProgress();
    return progress.state === 'waiting' ? progress : null;
  }, 10_000);
}

async function writePhotos(dir: string, count: number, seed: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    await writeSolidPhoto(path.join(dir, `p${i}.png`), [(i * 37 + seed) % 256, (i * 91 + seed) % 256, (i * 53) % 256], 32);
  }
}

test('a CLI index beside an open LibraryService: the service finds its photos within seconds, and its own run waits for the CLI and embeds nothing twice', async (t) => {
  const root = tempDir(t, 'cli-and-serve-');
  const modelsDir = path.join(root, 'models');
  const modelDir = await buildTestModel(path.join(modelsDir, 'tiny-clip'), { dim: 8 });
  const photos = path.join(root, 'photos');
  await writePhotos(path.join(photos, 'a'), FIRST, 0);
  await writeSolidPhoto(path.join(photos, 'a', 'red.png'), COLOURS.red, 32);
  const library = path.join(root, 'library');
  const env = { ...process.env, PHOTO_SEARCH_MODELS_DIR: modelsDir, PHOTO_SEARCH_HOME: path.join(root, 'home') };
  const args = ['index', photos, '--model', modelDir, '--batch', '4', '--threads', '1', '--library', library];

  const service = await LibraryService.open({ libraryDir: library, modelsDir, lockOwner: 'the test service' });
  t.after(() => service.close());
  assert.equal((await service.useModelFolder(modelDir)).state, 'ready');
  const everything = async () => (await service.search({ query: 'red', scope: 'all', limit: 1 })).ranked ?? 0;
  // The vector index is loaded (empty) before the CLI writes: only a catch-up can bring the CLI's vectors in.
  assert.equal(await everything(), 0);
  const changes: ('writing' | 'done')[] = [];
  service.onEvent((event: ApiEvent) => {
    if (event.type === 'library-changed') changes.push(event.writing ? 'writing' : 'done');
  });

  // 1. The CLI indexes while the service is idle: search and status follow within seconds, with no nudge.
  const first = startCli(args, env);
  const firstRun = await first.exited;
  assert.equal(firstRun.code, 0, firstRun.stderr);
  const ended = Date.now();
  const total1 = FIRST + 1;
  await until('the service to search and count the CLI\'s photos',
    async () => (await everything()) === total1 && (await service.getStatus()).embedded === total1, 20_000);
  const lag = Date.now() - ended;
  assert.ok(lag < SEEN_WITHIN_MS, `the CLI's photos became searchable ${lag} ms after it ended`);
  // The window was told: while the CLI wrote (counts and browsing refresh), then once it stopped (everything does).
  await until('the window to be told the CLI stopped writing', () => changes.at(-1) === 'done', SEEN_WITHIN_MS);
  assert.ok(changes.includes('writing'), changes.join());
  assert.equal((await service.search({ query: 'red', limit: 1 })).items[0]?.path, path.join(photos, 'a', 'red.png'));

  // 2. The service asks to index while the CLI holds the writer lock: it waits, naming the CLI, then runs.
  await writePhotos(path.join(photos, 'b'), SECOND, 101);
  const second = startCli(args, env);
  await until('the CLI to take the writer lock', () => lockOwnerPid(library) === second.child.pid, 20_000);
  second.child.kill('SIGSTOP'); // holds the lock until we let it go on
  const serviceRun = waitForIndexing(service);
  await service.startIndexing();
  const waiting = await waitingRun(service);
  assert.equal(waiting.waitingFor, `photo-search index, pid ${second.child.pid}`);
  assert.match(waiting.message ?? '', /Waiting for photo-search index, pid \d+ to finish/);
  second.child.kill('SIGCONT');
  const secondRun = await second.exited;
  assert.equal(secondRun.code, 0, secondRun.stderr);
  const done = await serviceRun;
  assert.equal(done.state, 'done', done.message);
  assert.equal(done.done, 0, 'the service found every photo embedded by the CLI');

  const total = FIRST + 1 + SECOND;
  assert.equal((await service.getStatus()).embedded, total);
  assert.equal(await everything(), total);
  await until('the service to release the writer lock after its run', () => lockOwnerPid(library) === null, 5000);
  const db = new Database(path.join(library, 'catalogue.sqlite'), { readonly: true });
  t.after(() => db.close());
  assert.equal((db.prepare('SELECT count(*) AS n FROM embeddings').get() as { n: number }).n, total, 'one embedding a photo');
});

test('a run waiting for another process\'s writer lock can be cancelled, and the lock holder\'s name is shown', async (t) => {
  const root = tempDir(t, 'wait-cancel-');
  const modelDir = await buildTestModel(path.join(root, 'models', 'tiny-clip'), { dim: 8 });
  const library = path.join(root, 'library');
  const service = await LibraryService.open({ libraryDir: library, modelsDir: path.join(root, 'models') });
  t.after(() => service.close());
  assert.equal((await service.useModelFolder(modelDir)).state, 'ready');

  const holder = await holdWriterLock(t, library, 'a test holder');

  const ended = waitForIndexing(service);
  await service.startIndexing();
  const waiting = await waitingRun(service);
  assert.equal(waiting.waitingFor, `a test holder, pid ${holder.pid}`);
  await service.cancelIndexing();
  assert.equal((await ended).state, 'cancelled');
  assert.equal(lockOwnerPid(library), holder.pid, 'the holder still holds the lock');
});

test('a photo another process shows again comes back in the service\'s results within seconds (the catch-up falls back to the full reconcile)', async (t) => {
  const root = tempDir(t, 'reader-restore-');
  const modelsDir = path.join(root, 'models');
  const modelDir = await buildTestModel(path.join(modelsDir, 'tiny-clip'), { dim: 8 });
  const photos = path.join(root, 'photos');
  await writePhotos(photos, 6, 0);
  const red = await writeSolidPhoto(path.join(photos, 'red.png'), COLOURS.red, 32);
  const library = path.join(root, 'library');
  const first = await LibraryService.open({ libraryDir: library, modelsDir });
  assert.equal((await first.useModelFolder(modelDir)).state, 'ready');
  await first.addFolder(photos);
  const run = waitForIndexing(first);
  await first.startIndexing();
  assert.equal((await run).state, 'done');
  // Searching builds and saves the vector index with every vector, the photo's included.
  assert.equal((await first.search({ query: 'red', limit: 1 })).items[0]?.path, red);
  await first.close();

  // Another process hides the photo (a scan found it gone); the service opened now holds no vector for it.
  const db = new Database(path.join(library, 'catalogue.sqlite'));
  t.after(() => db.close());
  const setStatus = db.prepare('UPDATE photos SET status = ? WHERE path = ?');
  setStatus.run('missing', red);
  const service = await LibraryService.open({ libraryDir: library, modelsDir });
  t.after(() => service.close());
  const top = async () => (await service.search({ query: 'red', scope: 'all', limit: 1 })).items[0]?.path;
  assert.notEqual(await top(), red);

  // It comes back with its old vector: no new embedding to read, so only the full reconcile brings it back.
  setStatus.run('ok', red);
  await until('the photo to be found again', async () => (await top()) === red, SEEN_WITHIN_MS);
});

test('a scan without a model waits for the writer lock too, then the status is idle again', async (t) => {
  const root = tempDir(t, 'wait-scan-');
  const photos = path.join(root, 'photos');
  await writePhotos(photos, 3, 0);
  const library = path.join(root, 'library');
  mkdirSync(library);
  const holder = await holdWriterLock(t, library, 'a test holder');
  const service = await LibraryService.open({ libraryDir: library, modelsDir: path.join(root, 'models'), watch: true, lockOwner: 'the test service' });
  t.after(() => service.close());
  await service.addFolder(photos); // a watched library scans a new folder at once
  assert.equal((await waitingRun(service)).waitingFor, `a test holder, pid ${holder.pid}`);
  assert.equal((await service.getStatus()).photos, 0, 'nothing scanned while the other process writes');
  holder.kill();
  await until('the folder to be scanned', async () => (await service.getStatus()).photos === 3, 10_000);
  await until('the state to leave waiting', async () => (await service.getIndexingProgress()).state === 'idle', 5000);
});
