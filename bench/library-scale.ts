// The whole library at the seed's size: a synthetic library shaped like the user's (624,017 photos in 600 dated
// folders, EXIF dates over 20 years, 5% rated, 2% tagged with 200 tags, 1% exact copies, clustered unit 512-d
// vectors), built through the app's own import path (real files on disk + a recipe imported with importRecipe),
// then measured in a fresh process through LibraryService, the object that serves the UI: every call the UI
// makes, event-loop stalls, filtered-search recall against exact search, memory and disk. Each target is printed
// beside its figure.
//
//   node dist/bench/library-scale.js [--n 624017] [--work DIR] [--reps 40] [--rebuild]
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Library } from '../src/main/core/library.js';
import { importRecipe } from '../src/main/core/recipe/import.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION } from '../src/main/core/recipe/recipe-format.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { openVectorStore } from '../src/main/core/search/vector-store.js';
import type { SearchEngine } from '../src/main/core/search/search-engine.js';
import { startChildJob } from '../src/main/core/jobs/child-job.js';
import type { RebuildArgs } from '../src/main/core/vector/rebuild-process.js';
import { readKeptScan, writeKeptScan } from '../src/main/core/duplicates/scan-store.js';
import { partitionedPairs } from '../src/main/core/duplicates/partitioned-pairs.js';
import type { DuplicateScanStatus } from '../src/shared/types.js';
import type { PhotoId, SearchFilters } from '../src/shared/types.js';
import { parseArgs } from './lib/args.js';
import { ClusteredGenerator } from './lib/synthetic.js';
import { prng } from '../test/helpers/fixtures.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const MODEL_ID = 'bench-synthetic-512';
const DIM = 512;
const FOLDERS = 600;
const TAGS = 200;
/** Tags planted on random subsets of exactly these fractions of the library, for filtered recall. */
const SELECTIVITIES = [0.0001, 0.001, 0.01, 0.1, 0.5];
const selectivityTag = (s: number) => `sel-${s * 100}%`;

const args = parseArgs(process.argv.slice(2));
const N = Number(args.n ?? 624_017);
const WORK = path.resolve(args.work ?? path.join(os.tmpdir(), `photo-search-library-scale-${N}`));
const REPS = Number(args.reps ?? 40);

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

// ---------------------------------------------------------------- build

/** Photo i lives in folder i % FOLDERS; folder f is dated f/FOLDERS of the way through 2006–2026. */
function photoPath(root: string, i: number): { dir: string; file: string; takenAt: number } {
  const f = i % FOLDERS;
  const start = Date.UTC(2006, 0, 1);
  const span = Date.UTC(2026, 0, 1) - start;
  const day = new Date(start + Math.floor((f / FOLDERS) * span));
  const dir = path.join(root, String(day.getUTCFullYear()), `${day.toISOString().slice(0, 10)} event ${f}`);
  const takenAt = day.getTime() + Math.floor(i / FOLDERS) * 60_000;
  return { dir, file: path.join(dir, `IMG_${String(i).padStart(7, '0')}.jpg`), takenAt };
}

/** 0.5% near-duplicate vectors: row i (i % 200 = 199) is a noisy copy (cosine ≈ 0.95) of an earlier row of its chunk. */
const nearCopyOf = (i: number): number | null => (i % 200 === 199 ? i - 1 - (i % 97) : null);

function plantNearCopies(rows: Float32Array, start: number): void {
  const random = prng(start + 17);
  const noise = 0.33 / Math.sqrt(DIM); // |noise| ≈ 0.33: cosine ≈ 1 / √(1 + 0.33²) ≈ 0.95
  for (let r = 0; r < rows.length / DIM; r++) {
    const original = nearCopyOf(start + r);
    if (original === null || original < start) continue;
    const o = (original - start) * DIM;
    let norm = 0;
    for (let j = 0; j < DIM; j++) {
      const v = rows[o + j] + noise * 1.732 * (2 * random() - 1);
      rows[r * DIM + j] = v;
      norm += v * v;
    }
    for (let j = 0; j < DIM; j++) rows[r * DIM + j] /= Math.sqrt(norm);
  }
}

async function build(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  const photos = path.join(WORK, 'photos');
  const recipe = path.join(WORK, 'recipe');
  mkdirSync(recipe, { recursive: true });
  let started = performance.now();
  const paths: string[] = [];
  const made = new Set<string>();
  for (let i = 0; i < N; i++) {
    const { dir, file } = photoPath(photos, i);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    writeFileSync(file, '');
    paths.push(file);
  }
  console.log(`  ${N} files in ${made.size} folders: ${((performance.now() - started) / 1000).toFixed(1)} s`);

  started = performance.now();
  const generator = new ClusteredGenerator({ dim: DIM });
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${N}, ${DIM}), }`;
  const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const npy = openSync(path.join(recipe, 'embeddings.npy'), 'w');
  const preamble = Buffer.alloc(10);
  preamble.write('\x93NUMPY', 0, 'latin1');
  preamble[6] = 1;
  preamble.writeUInt16LE(padded.length, 8);
  writeSync(npy, preamble);
  writeSync(npy, padded, null, 'latin1');
  for (let start = 0; start < N; start += 20_000) {
    const rows = generator.rows(start, Math.min(20_000, N - start));
    plantNearCopies(rows, start);
    writeSync(npy, new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
  }
  closeSync(npy);
  writeFileSync(path.join(recipe, 'file_paths.txt'), `${paths.join('\n')}\n`);
  writeFileSync(path.join(recipe, 'manifest.json'), JSON.stringify({
    format: MANIFEST_FORMAT, formatVersion: MANIFEST_VERSION, modelId: MODEL_ID, preprocessVersion: 'synthetic', dimension: DIM, count: N,
    normalized: true, metric: 'inner_product', createdAt: new Date().toISOString(), appVersion: 'bench', files: { embeddings: 'embeddings.npy', paths: 'file_paths.txt', faissIndex: 'faiss.index' },
  }));
  console.log(`  recipe written: ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const library = Library.open(path.join(WORK, 'library'));
  library.catalogue.addFolder(photos);
  started = performance.now();
  const summary = await importRecipe(library, { dir: recipe, modelId: MODEL_ID, modelsDir: null });
  const importSeconds = (performance.now() - started) / 1000;
  console.log(`  import: ${summary.vectorsStored} vectors, ${summary.registered} photos in ${importSeconds.toFixed(1)} s`);
  started = performance.now();
  const store = await openVectorStore(library, MODEL_ID, DIM);
  const indexed = store.size;
  await store.close();
  const indexSeconds = (performance.now() - started) / 1000;
  console.log(`  vector index built: ${indexed} vectors in ${indexSeconds.toFixed(1)} s`);

  // What the embedding pipeline would have read from each photo, and what a user would have added.
  started = performance.now();
  const db = library.catalogue.db;
  const random = prng(2026);
  db.transaction(() => {
    const date = db.prepare("UPDATE photos SET taken_at = ?, status = 'ok', metadata_read = 1, content_hash = ? WHERE id = ?");
    for (let i = 0; i < N; i++) date.run(photoPath(photos, i).takenAt, `h${i}`, i + 1);
    // 1% exact copies: photo i+1 shares photo i's content hash.
    const copy = db.prepare('UPDATE photos SET content_hash = ? WHERE id = ?');
    for (let i = 0; i + 1 < N; i += 100) copy.run(`h${i}`, i + 2);
    const rate = db.prepare('INSERT INTO ratings(rating, photo_id) VALUES (?, ?)');
    for (let id = 1; id <= N; id++) if (random() < 0.05) rate.run(1 + Math.floor(random() * 5), id);
  })();
  const tag = (ids: number[], name: string) => library.catalogue.addTags(ids, [name]);
  const byTag = new Map<string, number[]>();
  for (let id = 1; id <= N; id++) {
    if (random() >= 0.02) continue;
    const name = `tag-${String(Math.floor(random() ** 2 * TAGS)).padStart(3, '0')}`; // skewed popularity
    byTag.set(name, [...(byTag.get(name) ?? []), id]);
  }
  for (const [name, ids] of byTag) tag(ids, name);
  for (const s of SELECTIVITIES) {
    const ids: number[] = [];
    for (let id = 1; id <= N; id++) if (random() < s) ids.push(id);
    tag(ids, selectivityTag(s));
  }
  library.close();
  console.log(`  metadata, ratings, tags, copies: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  writeFileSync(path.join(WORK, 'built.json'), JSON.stringify({ n: N, importSeconds, indexSeconds, builtAt: new Date().toISOString() }));
}

// ---------------------------------------------------------------- measure (fresh process)

interface Row {
  what: string;
  p50: number;
  p95: number;
  max: number;
  target: string;
  pass: boolean;
}

/** What is running now, and every loop gap over 100 ms with what was running when it happened. */
let running = 'setup';
const gaps: { what: string; ms: number }[] = [];

async function timed(what: string, reps: number, fn: (i: number) => Promise<unknown>, targetMs = 50): Promise<Row> {
  running = what;
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
    // Each UI call arrives as its own message: let the loop (and the gap watchdog) turn between calls, or
    // back-to-back synchronous calls would add up to one long stall that no user sees.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const p95 = percentile(times, 95);
  return { what, p50: percentile(times, 50), p95, max: Math.max(...times), target: `p95 ≤ ${targetMs} ms`, pass: p95 <= targetMs };
}

/** Exact top-k inner products among the given rows of a row-major matrix. */
function exactTopK(all: Float32Array, rows: Iterable<number>, query: Float32Array, k: number, exclude: number): number[] {
  const scored: [number, number][] = [];
  for (const r of rows) {
    if (r === exclude) continue;
    let s = 0;
    const o = r * DIM;
    for (let j = 0; j < DIM; j++) s += all[o + j] * query[j];
    scored.push([s, r]);
  }
  scored.sort((a, b) => b[0] - a[0]);
  return scored.slice(0, k).map(([, r]) => r);
}

async function measure(): Promise<void> {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const libraryDir = path.join(WORK, 'library');
  const started = performance.now();
  const service = await LibraryService.open({ libraryDir, modelsDir: path.join(WORK, 'models') });
  const openMs = performance.now() - started;
  const firstStatus = await service.getStatus();
  const startToStatusMs = performance.now() - started;
  const first = await service.findSimilar({ photoId: 1, limit: 100 });
  const startToFirstAnswerMs = performance.now() - started;
  console.log(`  open ${openMs.toFixed(0)} ms, first status ${startToStatusMs.toFixed(0)} ms (${firstStatus.photos} photos, ${firstStatus.embedded} embedded), first similar answer ${startToFirstAnswerMs.toFixed(0)} ms (${first.items.length})`);

  loop.enable();
  let tick = performance.now();
  const watchdog = setInterval(() => {
    const now = performance.now();
    if (now - tick > 100) gaps.push({ what: running, ms: now - tick });
    tick = now;
  }, 10);
  const random = prng(7);
  const pick = () => 1 + Math.floor(random() * N);
  const folders = await service.listFolders();
  const tenThousand = Array.from({ length: 10_000 }, (_, i) => 1 + ((i * 61) % N));
  const date2016: SearchFilters = { dateFrom: Date.UTC(2016, 0, 1), dateTo: Date.UTC(2016, 11, 31) };
  const rows: Row[] = [];
  rows.push(await timed('getStatus', REPS, () => service.getStatus()));
  rows.push(await timed('listFolders', REPS, () => service.listFolders()));
  rows.push(await timed('getIndexingProgress', REPS, () => service.getIndexingProgress()));
  for (const offset of [0, Math.floor(N / 2), N - 100]) {
    rows.push(await timed(`browse at ${offset}`, REPS, () => service.search({ query: '', offset, limit: 100 })));
  }
  rows.push(await timed('listTags("")', REPS, () => service.listTags('')));
  rows.push(await timed('listTags("tag-1")', REPS, () => service.listTags('tag-1')));
  rows.push(await timed('browse, rating ≥ 4', REPS, () => service.search({ query: '', filters: { minRating: 4 }, limit: 100 })));
  rows.push(await timed('browse, tag-005', REPS, () => service.search({ query: '', filters: { tags: ['tag-005'] }, limit: 100 })));
  rows.push(await timed('browse, one folder', REPS, () => service.search({ query: '', filters: { folderId: folders[0].id }, limit: 100 })));
  rows.push(await timed('browse, 2016', REPS, () => service.search({ query: '', filters: date2016, limit: 100 })));
  rows.push(await timed('getPhoto', REPS, () => service.getPhoto(pick())));
  rows.push(await timed('setRating × 10,000', 5, (i) => service.setRating(tenThousand, i % 2 ? 0 : 3)));
  rows.push(await timed('addTags × 10,000', 5, () => service.addTags(tenThousand, ['bench-bulk'])));
  rows.push(await timed('removeTags × 10,000', 5, () => service.removeTags(tenThousand, ['bench-bulk'])));
  const searchRows: Row[] = [];
  searchRows.push(await timed('findSimilar, no filter', 20, () => service.findSimilar({ photoId: pick(), limit: 100 }), 150));
  const callsStallMs = loop.max / 1e6;
  loop.reset();
  running = 'rebuild';

  // A full rebuild at this size, in its child process as the store runs it (into a scratch folder, so the
  // library's own index stays), while this process keeps answering similar-photo queries.
  const scratch = path.join(WORK, 'rebuild-scratch');
  rmSync(scratch, { recursive: true, force: true });
  const rebuildStarted = performance.now();
  const rebuildJob = startChildJob<RebuildArgs, never, unknown>(fileURLToPath(new URL('../src/main/core/vector/rebuild-process.js', import.meta.url)),
    { libraryDir, modelId: MODEL_ID, dim: DIM, indexDir: scratch });
  const rebuildExit = rebuildJob.result.then(() => 0, (error: Error) => {
    console.error(`  rebuild failed: ${error.message}`);
    return 1;
  });
  let rebuilding = true;
  void rebuildExit.then(() => (rebuilding = false));
  const duringRebuild: number[] = [];
  while (rebuilding) {
    const t = performance.now();
    await service.findSimilar({ photoId: pick(), limit: 100 });
    duringRebuild.push(performance.now() - t);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const rebuildSeconds = (performance.now() - rebuildStarted) / 1000;
  const rebuildCode = await rebuildExit;
  rmSync(scratch, { recursive: true, force: true });
  const idleP95 = searchRows[0].p95;
  const busyP95 = percentile(duringRebuild, 95);

  clearInterval(watchdog);
  const rebuildStallMs = loop.max / 1e6;
  const stallMs = callsStallMs;
  loop.disable();
  // Before the benchmark loads its own copy of every vector for exact search below.
  const rssMB = process.memoryUsage().rss / 2 ** 20;

  // Filtered recall against exact search over the same vectors.
  const library = service.library;
  const all = new Float32Array(N * DIM);
  const rowOf = new Map<number, number>();
  let r = 0;
  for (const batch of library.catalogue.iterateEmbeddings(MODEL_ID, 0)) {
    for (let i = 0; i < batch.photoIds.length; i++) rowOf.set(batch.photoIds[i], r + i);
    all.set(batch.vectors, r * DIM);
    r += batch.photoIds.length;
  }
  const photoOfRow = new Uint32Array(r);
  for (const [id, row] of rowOf) photoOfRow[row] = id;
  const recallRows: { filter: string; matches: number; recall: number; p95: number; pass: boolean }[] = [];
  const filterCases: { name: string; filters: SearchFilters }[] = [
    ...SELECTIVITIES.map((s) => ({ name: `tag at ${s * 100}%`, filters: { tags: [selectivityTag(s)] } })),
    { name: 'one folder', filters: { folderId: folders[Math.floor(folders.length / 3)].id } },
    { name: 'year 2016', filters: date2016 },
    { name: 'rating ≥ 4', filters: { minRating: 4 } },
  ];
  // The first filter matching more than 12,000 photos starts building the 8-bit sketch (a worker thread,
  // ~6–10 s); searches meanwhile score every match from SQLite. Timed here, then the cases below run warm.
  const engine = (service as unknown as { search_: SearchEngine }).search_;
  const coldStarted = performance.now();
  await service.findSimilar({ photoId: pick(), filters: { tags: [selectivityTag(0.1)] }, limit: 100 });
  const coldFilteredMs = performance.now() - coldStarted;
  const duringBuild: number[] = [];
  while (engine.sketchSize() === null) {
    const t = performance.now();
    await service.findSimilar({ photoId: pick(), filters: { tags: [selectivityTag(0.1)] }, limit: 100 });
    duringBuild.push(performance.now() - t);
  }
  const sketchReadyMs = performance.now() - coldStarted;
  for (const { name, filters } of filterCases) {
    const matching = new Set((service.library.catalogue.browse(filters, 0, N).items).map((p) => p.id as number));
    const matchingRows = [...matching].map((id) => rowOf.get(id)!).filter((x) => x !== undefined);
    let hit = 0;
    let total = 0;
    const times: number[] = [];
    for (let q = 0; q < 5; q++) {
      const photoId = pick();
      const t = performance.now();
      const answer = await service.findSimilar({ photoId, filters, limit: 100, scope: 'all' });
      times.push(performance.now() - t);
      const truth = exactTopK(all, matchingRows, all.subarray(rowOf.get(photoId)! * DIM, (rowOf.get(photoId)! + 1) * DIM), 100, rowOf.get(photoId)!)
        .map((row) => photoOfRow[row]);
      const got = new Set(answer.items.map((p) => p.id as PhotoId));
      hit += truth.filter((id) => got.has(id)).length;
      total += truth.length;
    }
    const recall = total ? hit / total : 1;
    recallRows.push({ filter: name, matches: matching.size, recall, p95: percentile(times, 95), pass: recall >= 0.99 });
  }

  // Duplicates over the whole library in the background (its child process), while this process keeps
  // answering the UI's polling calls; then the view's first page, and an incremental scan of 10,000 photos.
  running = 'duplicate scan';
  rmSync(service.library.paths.duplicates, { force: true }); // a full scan, whatever an earlier run kept
  loop.reset();
  loop.enable();
  const scans: DuplicateScanStatus[] = [];
  service.onEvent((e) => {
    if (e.type === 'duplicates') scans.push(e.scan);
  });
  const scanUntil = async (on: LibraryService, state: DuplicateScanStatus['state']) => {
    const during: number[] = [];
    const begun = performance.now();
    scans.length = 0;
    while (!scans.some((s) => s.state !== 'running')) {
      const t = performance.now();
      await on.getStatus();
      await on.findSimilar({ photoId: pick(), limit: 100 });
      during.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const end = scans.find((s) => s.state !== 'running')!;
    if (end.state !== state) throw new Error(`duplicate scan ended ${end.state}: ${end.error}`);
    return { seconds: (performance.now() - begun) / 1000, p95: percentile(during, 95), status: end, progressEvents: scans.length - 1 };
  };
  await service.startDuplicateScan();
  const fullScan = await scanUntil(service, 'done');
  const scanStallMs = loop.max / 1e6;
  loop.disable();
  const pageStarted = performance.now();
  const firstPage = await service.getDuplicates(0, 50);
  const pageMs = performance.now() - pageStarted;
  const kept = readKeptScan(service.library.paths.duplicates)!;
  writeKeptScan(service.library.paths.duplicates, { ...kept, throughEmbeddingId: kept.throughEmbeddingId - 10_000 });
  await service.close();
  const reopened = await LibraryService.open({ libraryDir, modelsDir: path.join(WORK, 'models') });
  reopened.onEvent((e) => {
    if (e.type === 'duplicates') scans.push(e.scan);
  });
  const reopenStarted = performance.now();
  const reopenedPage = await reopened.getDuplicates(0, 50);
  const reopenPageMs = performance.now() - reopenStarted;
  const incrementalStatus = await reopened.startDuplicateScan();
  const incrementalScan = await scanUntil(reopened, 'done');
  const dup = {
    fullSeconds: fullScan.seconds, groups: fullScan.status.groups, removable: fullScan.status.removable, progressEvents: fullScan.progressEvents,
    uiP95: fullScan.p95, stallMs: scanStallMs, pageMs, reopenPageMs, reopenedGroups: reopenedPage.total, firstPageGroups: firstPage.groups.length,
    incremental: incrementalStatus.incremental, incrementalSeconds: incrementalScan.seconds, stats: kept.stats,
  };
  console.log(`  duplicates: ${JSON.stringify(dup)}`);
  await reopened.close();
  // Candidate recall of the full scan on the planted near copies (photo id = row + 1), against their exact cosines.
  const libraryForPairs = Library.open(libraryDir);
  const pairsStarted = performance.now();
  const found = await partitionedPairs(libraryForPairs.catalogue, MODEL_ID, { minScore: 0.92 });
  const pairsSeconds = (performance.now() - pairsStarted) / 1000;
  libraryForPairs.close();
  const foundKeys = new Set(found.pairs.map((p) => `${p.a}-${p.b}`));
  let planted = 0;
  let recovered = 0;
  for (let i = 0; i < N; i++) {
    const original = nearCopyOf(i);
    if (original === null) continue;
    let dot = 0;
    for (let j = 0; j < DIM; j++) dot += all[rowOf.get(i + 1)! * DIM + j] * all[rowOf.get(original + 1)! * DIM + j];
    if (dot < 0.92) continue;
    planted++;
    if (foundKeys.has(`${original + 1}-${i + 1}`)) recovered++;
  }
  const pairRecall = planted ? recovered / planted : 1;
  const catalogueBytes = ['catalogue.sqlite', 'catalogue.sqlite-wal'].map((f) => path.join(libraryDir, f)).filter(existsSync).reduce((a, f) => a + statSync(f).size, 0);
  const built = JSON.parse(readFileSync(path.join(WORK, 'built.json'), 'utf8')) as { importSeconds: number };

  console.log(`\n  UI calls at ${N} photos (target: every call p95 ≤ 50 ms)`);
  for (const row of [...rows, ...searchRows]) {
    console.log(`  ${row.pass ? 'ok  ' : 'MISS'} ${row.what.padEnd(26)} p50 ${row.p50.toFixed(1).padStart(7)} ms  p95 ${row.p95.toFixed(1).padStart(7)} ms  max ${row.max.toFixed(1).padStart(7)} ms  (${row.target})`);
  }
  // The delay monitor and the gap watchdog see the loop itself: a call that yields (deep browse, exact filtered
  // search) may take longer than 50 ms in all without ever holding the loop that long.
  console.log(`  ${stallMs <= 50 && gaps.length === 0 ? 'ok  ' : 'MISS'} event-loop stall while serving the calls: delay monitor max ${stallMs.toFixed(0)} ms, ${gaps.length} gaps over 100 ms (target ≤ 50 ms)`);
  if (gaps.length) console.log(`  loop gaps over 100 ms: ${gaps.map((g) => `${g.ms.toFixed(0)} ms during ${g.what}`).join('; ')}`);
  console.log(`  ${rebuildStallMs <= 50 ? 'ok  ' : 'MISS'} event-loop delay during the rebuild (delay monitor max): ${rebuildStallMs.toFixed(0)} ms (target ≤ 50 ms)`);
  console.log(`  ${busyP95 <= 2 * idleP95 ? 'ok  ' : 'MISS'} findSimilar during a rebuild: p95 ${busyP95.toFixed(1)} ms over ${duringRebuild.length} queries, idle p95 ${idleP95.toFixed(1)} ms (target ≤ 2× idle)`);
  console.log(`  ${rebuildCode === 0 && rebuildSeconds <= 60 ? 'ok  ' : 'MISS'} rebuild of the ${N}-vector index in its child process: ${rebuildSeconds.toFixed(1)} s${rebuildCode === 0 ? '' : ` (exit ${rebuildCode})`} (target ≤ 60 s)`);
  console.log(`\n  the first filter over 12,000 matches: ${coldFilteredMs.toFixed(0)} ms; sketch ready after ${(sketchReadyMs / 1000).toFixed(1)} s, searches meanwhile p95 ${percentile(duringBuild, 95).toFixed(0)} ms (${duringBuild.length}); the cases below ran after it`);
  console.log(`\n  findSimilar with a filter, recall@100 against exact search (target ≥ 0.99)`);
  for (const row of recallRows) {
    console.log(`  ${row.pass ? 'ok  ' : 'MISS'} ${row.filter.padEnd(14)} ${String(row.matches).padStart(7)} matches  recall ${row.recall.toFixed(3)}  p95 ${row.p95.toFixed(0)} ms`);
  }
  console.log(`\n  ${dup.fullSeconds <= 600 ? 'ok  ' : 'MISS'} duplicates over ${N} photos in the background: ${dup.fullSeconds.toFixed(0)} s (target ≤ 600 s); ${dup.groups} groups, ${dup.removable} extra copies; ${dup.stats.candidatePairs} candidate pairs, ${dup.stats.confirmedPairs} confirmed, ${dup.stats.unreadable} unreadable (the synthetic photos are empty files); ${dup.progressEvents} progress events`);
  console.log(`  ${pairRecall >= 0.99 ? 'ok  ' : 'MISS'} near-copy candidates: ${recovered} of ${planted} planted pairs at cosine ≥ 0.92 found (recall ${pairRecall.toFixed(4)}; partitions alone: ${pairsSeconds.toFixed(0)} s, ${found.pairs.length} candidate pairs)`);
  console.log(`  ${dup.uiP95 <= 50 && dup.stallMs <= 50 ? 'ok  ' : 'MISS'} UI during the scan: getStatus + findSimilar p95 ${dup.uiP95.toFixed(1)} ms, loop delay max ${dup.stallMs.toFixed(0)} ms (target ≤ 50 ms)`);
  console.log(`  ${dup.reopenPageMs <= 1000 ? 'ok  ' : 'MISS'} the view's first page: ${dup.pageMs.toFixed(0)} ms after the scan, ${dup.reopenPageMs.toFixed(0)} ms after a restart (${dup.reopenedGroups} groups kept; target: at once)`);
  console.log(`  ${dup.incremental ? 'ok  ' : 'MISS'} incremental scan of 10,000 photos added since: ${dup.incrementalSeconds.toFixed(1)} s`);
  console.log(`\n  ${built.importSeconds <= 60 ? 'ok  ' : 'MISS'} import of the ${N}-row recipe: ${built.importSeconds.toFixed(1)} s (target ≤ 60 s)`);
  console.log(`  ${startToFirstAnswerMs <= 3000 ? 'ok  ' : 'MISS'} start to first answer: ${(startToFirstAnswerMs / 1000).toFixed(2)} s (target ≤ 3 s)`);
  console.log(`  ${rssMB <= 1536 ? 'ok  ' : 'MISS'} resident memory of the process serving the UI: ${rssMB.toFixed(0)} MB (target ≤ 1,536 MB; the host's heap, SQLite cache and the index worker, before the benchmark's own copy of the vectors)`);
  console.log(`  ${catalogueBytes <= 1.6e9 ? 'ok  ' : 'MISS'} catalogue on disk: ${(catalogueBytes / 1e9).toFixed(2)} GB (target ≤ 1.6 GB)`);

  mkdirSync(path.join(REPO, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(REPO, 'bench', 'results', 'library-scale.json'), JSON.stringify({
    n: N, date: new Date().toISOString(), machine: `${os.cpus().length}× ${os.cpus()[0]?.model}`, rows: [...rows, ...searchRows], stallMs, recallRows, rebuildSeconds, duringRebuildP95: busyP95, rebuildStallMs,
    importSeconds: built.importSeconds, startToFirstAnswerMs, rssMB, catalogueBytes, duplicates: { ...dup, pairRecall, planted, pairsSeconds }, coldFilteredMs, sketchReadyMs,
  }, null, 2));
}

async function main(): Promise<void> {
  if (args.measure) return measure();
  const built = path.join(WORK, 'built.json');
  const have = existsSync(built) && (JSON.parse(readFileSync(built, 'utf8')) as { n: number }).n === N;
  if (!have || args.rebuild) {
    console.log(`building a ${N}-photo library in ${WORK}`);
    await build();
  } else {
    console.log(`using the library built earlier in ${WORK} (--rebuild to build it again)`);
  }
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2), '--measure'], { stdio: 'inherit' });
  process.exitCode = child.status ?? 1;
}

await main();
