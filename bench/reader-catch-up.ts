// A reader keeping up with another process's writes at library scale: a LibraryService (what `serve` and the
// app run) holds the 624,017-photo synthetic library of bench/library-scale.ts while a second process writes
// photos and vectors as the indexer does (a transaction every 16 photos). Measures the cost of the change poll
// (PRAGMA data_version), the catch-up of 1,000 new vectors in one go, the full reconcile it avoids, the time
// from the writer's last commit to the photos being searchable, and the longest event-loop stall meanwhile.
//
//   node dist/bench/reader-catch-up.js [--n 624017] [--add 1000] [--work DIR]
// Needs the library that `node dist/bench/library-scale.js` builds and keeps in /tmp; works on a copy of it.
import { fork } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Library } from '../src/main/core/library.js';
import type { EmbedOutcome, PhotoMetadata } from '../src/main/core/catalogue/embeddings.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { CatalogueChangePoller } from '../src/main/core/service/catalogue-changes.js';
import type { SearchEngine } from '../src/main/core/search/search-engine.js';
import { parseArgs } from './lib/args.js';
import { ClusteredGenerator } from './lib/synthetic.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const MODEL_ID = 'bench-synthetic-512';
const DIM = 512;
const BATCH = 16;
const PACE_MS = 320;

const args = parseArgs(process.argv.slice(2));
const N = Number(args.n ?? 624_017);
const ADD = Number(args.add ?? 1000);
const SOURCE = path.join(os.tmpdir(), `photo-search-library-scale-${N}`, 'library');
const WORK = path.resolve(args.work ?? path.join(os.tmpdir(), `photo-search-reader-catch-up-${N}`));
const LIBRARY = path.join(WORK, 'library');

if (args.writer) await writer(Number(args.batch ?? BATCH), Number(args.seed), Number(args.pace ?? 0));
else await main();

/** The writing process: ADD new photos with vectors, `batch` per transaction, paceMs apart; sends the time of its last commit. */
async function writer(batch: number, seed: number, paceMs: number): Promise<void> {
  const library = Library.open(LIBRARY);
  const catalogue = library.catalogue;
  const model = catalogue.getModel(MODEL_ID)!;
  const folderId = catalogue.listFolders()[0].id;
  const dir = path.join(catalogue.listFolders()[0].path, `reader-bench-${Date.now()}-${seed}`); // new photos on every run
  const generator = new ClusteredGenerator({ dim: DIM });
  for (let start = 0; start < ADD; start += batch) {
    const count = Math.min(batch, ADD - start);
    const paths = Array.from({ length: count }, (_, i) => path.join(dir, `new-${start + i}.jpg`));
    catalogue.insertPhotos(paths.map((p) => ({ folderId, path: p, size: 1000, mtimeMs: Date.now() })));
    const ids = paths.map((p) => (catalogue.db.prepare('SELECT id FROM photos WHERE path = ?').get(p) as { id: number }).id);
    const vectors = generator.rows(N + seed * ADD + start, count); // rows the library does not hold, of its distribution
    const metadata = { width: 640, height: 480, format: 'jpeg', contentHash: null } as unknown as PhotoMetadata;
    const outcomes: EmbedOutcome[] = ids.map((photoId, i) => ({ photoId, ok: true, vector: vectors.subarray(i * DIM, (i + 1) * DIM), metadata }));
    catalogue.saveEmbedBatch(model, outcomes);
    if (paceMs > 0) await new Promise((resolve) => setTimeout(resolve, paceMs));
  }
  const lastCommitAt = Date.now();
  library.close();
  process.send!({ lastCommitAt });
}

function runWriter(batch: number, seed: number, paceMs = 0): Promise<{ lastCommitAt: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--n', String(N), '--add', String(ADD), '--work', WORK, '--writer', '--batch', String(batch), '--seed', String(seed), '--pace', String(paceMs)]);
    child.once('message', (m) => resolve(m as { lastCommitAt: number }));
    child.once('exit', (code) => code !== 0 && reject(new Error(`writer exited with ${code}`)));
  });
}

/** The longest gap between 10 ms timer ticks while `work` runs: how long the event loop was held. */
async function longestStall<T>(work: () => Promise<T>): Promise<{ value: T; stallMs: number; ms: number }> {
  let last = performance.now();
  let stallMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last - 10);
    last = now;
  }, 10);
  const started = performance.now();
  try {
    const value = await work();
    return { value, stallMs, ms: performance.now() - started };
  } finally {
    clearInterval(tick);
  }
}

async function until(probe: () => Promise<boolean>, explain: () => Promise<string>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${await explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main(): Promise<void> {
  if (!existsSync(LIBRARY)) {
    if (!existsSync(SOURCE)) {
      console.log(`skipped: no ${SOURCE}; build it with node dist/bench/library-scale.js --n ${N}`);
      return;
    }
    console.log(`copying ${SOURCE} to ${LIBRARY}`);
    mkdirSync(WORK, { recursive: true });
    cpSync(SOURCE, LIBRARY, { recursive: true });
  }
  console.log(`load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const service = await LibraryService.open({ libraryDir: LIBRARY, modelsDir: path.join(WORK, 'models') });
  const engine = (service as unknown as { search_: SearchEngine }).search_; // the catch-up itself is timed below
  const catchUps: number[] = [];
  const catchUp = engine.catchUp.bind(engine);
  engine.catchUp = async () => {
    const started = performance.now();
    await catchUp();
    catchUps.push(performance.now() - started);
  };
  await service.findSimilar({ photoId: 1, limit: 10 }); // the index is loaded
  // Photos in the loaded vector index (a query answers from it); vectors() syncs only after markStale(), never here.
  const searchable = async () => (await engine.vectors()).size;
  const before = (await service.getStatus()).embedded;
  console.log(`library: ${before} vectors`);

  // 1. The poll itself, on the service's connection, with nothing changed.
  const poller = new CatalogueChangePoller(service.library.catalogue.db, () => undefined);
  const polls = 20_000;
  const started = performance.now();
  for (let i = 0; i < polls; i++) poller.poll();
  const pollMicros = ((performance.now() - started) * 1000) / polls;
  console.log(`poll (PRAGMA data_version): ${pollMicros.toFixed(1)} µs`);
  let idleChanges = 0;
  const off = service.onEvent((e) => {
    if (e.type === 'library-changed') idleChanges++;
  });
  await new Promise((resolve) => setTimeout(resolve, 6000));
  off();
  console.log(`idle for 6 s: ${idleChanges} change events`);

  // 2. The writer streams ADD photos, 16 a transaction every 320 ms (an indexer at ~50 photos/s): the catch-ups
  // meanwhile, and the time from its last commit to all of them searchable.
  const stream = await longestStall(async () => {
    const written = await runWriter(BATCH, 1, PACE_MS);
    await until(async () => (await service.getStatus()).embedded === before + ADD && (await searchable()) === before + ADD,
      async () => `${(await service.getStatus()).embedded} embedded, ${await searchable()} searchable`);
    return Date.now() - written.lastCommitAt;
  });
  const streamedCatchUps = catchUps.splice(0);
  const meanCatchUp = streamedCatchUps.reduce((a, b) => a + b, 0) / streamedCatchUps.length;
  console.log(`streamed ${ADD} (${BATCH} a commit every ${PACE_MS} ms): searchable ${stream.value} ms after the last commit; ${streamedCatchUps.length} catch-ups, ` +
    `mean ${meanCatchUp.toFixed(0)} ms, longest ${Math.max(...streamedCatchUps).toFixed(0)} ms; longest event-loop stall ${stream.stallMs.toFixed(0)} ms`);

  // 3. ADD vectors in one commit: one catch-up takes them all.
  const bulk = await longestStall(async () => {
    const written = await runWriter(ADD, 2);
    await until(async () => (await searchable()) === before + 2 * ADD, async () => `${await searchable()} searchable`);
    return Date.now() - written.lastCommitAt;
  });
  const bulkCatchUps = catchUps.splice(0);
  console.log(`${ADD} in one commit: searchable ${bulk.value} ms after it; catch-up ${bulkCatchUps.map((ms) => ms.toFixed(0)).join(', ')} ms; ` +
    `longest event-loop stall ${bulk.stallMs.toFixed(0)} ms`);

  // 4. What the poll avoids: the full reconcile (every embedded photo id compared) that markStale leads to.
  engine.markStale();
  const full = await longestStall(() => engine.vectors());
  console.log(`full reconcile at ${before + 2 * ADD}: ${full.ms.toFixed(0)} ms, longest event-loop stall ${full.stallMs.toFixed(0)} ms`);

  await service.close();
  const result = {
    date: new Date().toISOString(), n: before, add: ADD, pollMicros, idleChanges,
    streamed: { visibleAfterMs: stream.value, catchUps: streamedCatchUps.length, meanCatchUpMs: meanCatchUp, longestCatchUpMs: Math.max(...streamedCatchUps), stallMs: stream.stallMs },
    bulk: { visibleAfterMs: bulk.value, catchUpMs: bulkCatchUps, stallMs: bulk.stallMs },
    fullReconcile: { ms: full.ms, stallMs: full.stallMs },
    load: os.loadavg(),
  };
  mkdirSync(path.join(REPO, 'bench/results'), { recursive: true });
  writeFileSync(path.join(REPO, 'bench/results/reader-catch-up.json'), JSON.stringify(result, null, 2));
}
