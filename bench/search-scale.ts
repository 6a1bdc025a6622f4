// Vector search at library scale: build, persist, load and query the vector index on synthetic clustered
// 512-d unit vectors (bench/lib/synthetic.ts), and compare its answers with exact search.
//
//   node dist/bench/search-scale.js [--sizes 100000,624017,2000000] [--quick] [--hard] [--queries 200]
//                                   [--nlist N] [--sweep 4,8,16,32] [--keep] [--out bench/results/search-scale.json]
//
// Per size it reports: build time (and its phases), index file size, save time, and from a separate
// child process that only loads the saved index and answers queries through the worker service (what
// the app does at start-up): load time, start-to-first-answer (the text tower, ~19 ms, is not included),
// resident memory, vector-search latency p50/p95 over the queries, and recall@10 against exact search
// (computed with FAISS flat indexes over the same data, one segment at a time, batched).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flatPreamble } from '../src/main/core/vector/faiss-file.js';
import { faiss, releaseDroppedIndexes } from '../src/main/core/vector/native.js';
import { type BuildProgress, type VectorBatch, VectorIndex } from '../src/main/core/vector/vector-index.js';
import { toNumbers } from '../src/main/core/vector/vector-math.js';
import { ClusteredGenerator, type ClusteredSpec, sampleRows } from './lib/synthetic.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const DIM = 512;
const K = 10;
const CHUNK = 8192;
const GT_SEGMENT_ROWS = 262_144;

interface Args {
  sizes: number[];
  queries: number;
  hard: boolean;
  nlist?: number;
  sweep?: string;
  out: string;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sizes: [100_000, 624_017], queries: 200, hard: false, out: path.join(repoRoot, 'bench', 'results', 'search-scale.json'), keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--sizes') args.sizes = value().split(',').map((s) => Number(s.replace(/_/g, '')));
    else if (a === '--quick') args.sizes = [100_000];
    else if (a === '--queries') args.queries = Number(value());
    else if (a === '--hard') args.hard = true;
    else if (a === '--nlist') args.nlist = Number(value());
    else if (a === '--sweep') args.sweep = value();
    else if (a === '--out') args.out = path.resolve(value());
    else if (a === '--keep') args.keep = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (args.sizes.some((n) => !Number.isInteger(n) || n < 1000)) throw new Error('--sizes: integers ≥ 1000');
  if (!(args.queries >= 1)) throw new Error('--queries: a positive integer');
  return args;
}

/** "Hard" data: weaker clusters, so that nearest neighbours spread over many IVF lists. */
const HARD_SPEC: Partial<ClusteredSpec> = { pointNoise: 0.06, clusterSpread: 0.04, coneWeight: 3 };
const DEFAULT_SPEC: Partial<ClusteredSpec> = { pointNoise: 0.055, clusterSpread: 0.05, coneWeight: 1.5 };
const QUERY_NOISE = 0.03;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Exact top-K rows per query: FAISS flat indexes over GT_SEGMENT_ROWS-row segments, batched queries. */
async function exactTopK(gen: ClusteredGenerator, n: number, queries: Float32Array, scratch: string) {
  const nq = queries.length / DIM;
  const best: { row: number; score: number }[][] = Array.from({ length: nq }, () => []);
  const q = toNumbers(queries);
  const file = path.join(scratch, 'exact-segment.faiss');
  const chunk = new Float32Array(CHUNK * DIM);
  let flatMsPerQuery = 0;
  for (let start = 0; start < n; start += GT_SEGMENT_ROWS) {
    const rows = Math.min(GT_SEGMENT_ROWS, n - start);
    const fd = openSync(file, 'w');
    writeSync(fd, flatPreamble(DIM, rows));
    for (let o = 0; o < rows; o += CHUNK) {
      const m = Math.min(CHUNK, rows - o);
      const v = gen.rows(start + o, m, chunk);
      writeSync(fd, new Uint8Array(v.buffer, 0, m * DIM * 4));
    }
    closeSync(fd);
    const flat = faiss().Index.read(file);
    if (start === 0) {
      // Single-query exact search cost, for reference (scaled to n below).
      const t = performance.now();
      for (let i = 0; i < 5; i++) flat.search(toNumbers(queries.subarray(i * DIM, (i + 1) * DIM)), K);
      flatMsPerQuery = ((performance.now() - t) / 5) * (n / rows);
    }
    const { labels, distances } = flat.search(q, K);
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < K; j++) best[i].push({ row: start + labels[i * K + j], score: distances[i * K + j] });
      best[i].sort((a, b) => b.score - a.score).splice(K);
    }
    await releaseDroppedIndexes();
  }
  rmSync(file, { force: true });
  return { truth: best.map((hits) => hits.map((h) => h.row + 1)), flatMsPerQuery }; // photo id = row + 1
}

async function runSize(n: number, args: Args, scratchRoot: string) {
  const gen = new ClusteredGenerator(args.hard ? HARD_SPEC : DEFAULT_SPEC);
  const scratch = mkdtempSync(path.join(scratchRoot, `n${n}-`));
  const indexDir = path.join(scratch, 'index');
  const log = (s: string) => process.stderr.write(`[${n}] ${s}\n`);

  let generateMs = 0;
  async function* source(): AsyncGenerator<VectorBatch> {
    for (let start = 0; start < n; start += CHUNK) {
      const m = Math.min(CHUNK, n - start);
      const t = performance.now();
      const vectors = gen.rows(start, m);
      const photoIds = Uint32Array.from({ length: m }, (_, i) => start + i + 1);
      generateMs += performance.now() - t;
      yield { photoIds, vectors, embeddingIds: [start + m] };
    }
  }

  const phaseStart = new Map<string, number>();
  const onProgress = (p: BuildProgress) => {
    if (!phaseStart.has(p.phase)) {
      phaseStart.set(p.phase, performance.now());
      log(`phase ${p.phase}`);
    }
  };
  const buildStarted = performance.now();
  const built: { index: VectorIndex | null } = {
    index: await VectorIndex.build(source(), { modelId: 'synthetic-512', dim: DIM, nlist: args.nlist, workDir: scratch, onProgress }),
  };
  const buildEnded = performance.now();
  const info = built.index!.info();
  log(`built ${info.kind} nlist=${info.nlist} nprobe=${info.nprobe} in ${((buildEnded - buildStarted) / 1000).toFixed(1)} s (load average ${os.loadavg()[0].toFixed(1)})`);
  const phases: Record<string, number> = {};
  const order = ['reading', 'training', 'adding', 'calibrating'].filter((p) => phaseStart.has(p));
  order.forEach((p, i) => {
    phases[p] = ((i + 1 < order.length ? phaseStart.get(order[i + 1])! : buildEnded) - phaseStart.get(p)!) / 1000;
  });
  phases.generatingData = generateMs / 1000; // inside 'reading'

  const saveStarted = performance.now();
  const manifest = built.index!.save(indexDir);
  const saveMs = performance.now() - saveStarted;
  const buildRss = process.memoryUsage().rss;
  // Drop the built index before the exact search and the child run, so that they do not compete for memory.
  built.index = null;
  await releaseDroppedIndexes();
  const calibration = manifest.calibration;
  for (const t of calibration?.tried ?? []) {
    log(`calibration nprobe ${t.nprobe}: recall ${t.recall.toFixed(3)} (strict ${t.strictRecall.toFixed(3)}), ${t.msPerQuery.toFixed(2)} ms/query`);
  }

  // Queries: perturbed data points.
  const queryRows = sampleRows(n, args.queries, 4242);
  const queries = gen.perturbedRows(queryRows, QUERY_NOISE);
  const queryFile = path.join(scratch, 'queries.f32');
  writeFileSync(queryFile, new Uint8Array(queries.buffer));

  const gtStarted = performance.now();
  const { truth, flatMsPerQuery } = await exactTopK(gen, n, queries, scratch);
  const gtMs = performance.now() - gtStarted;
  log(`exact top-${K} for ${args.queries} queries in ${(gtMs / 1000).toFixed(1)} s`);

  const childStarted = performance.now();
  const childArgs = [path.join(here, 'lib', 'search-child.js'), indexDir, queryFile, String(DIM), String(K), ...(args.sweep ? [args.sweep] : [])];
  const child = spawnSync(process.execPath, childArgs, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const childWallMs = performance.now() - childStarted;
  if (child.status !== 0) throw new Error(`search child failed (${child.status ?? child.signal}): ${child.stderr}`);
  const report = JSON.parse(child.stdout) as {
    loadMs: number; firstQueryMs: number; firstAnswerMs: number; rssAfterFirst: number; rssAfterAll: number; latencies: number[]; results: number[][];
    sweep: { nprobe: number; latencies: number[]; results: number[][] }[];
  };
  const recallOf = (results: number[][]) => {
    let hits = 0;
    results.forEach((ids, i) => {
      const want = new Set(truth[i]);
      for (const id of ids) if (want.has(id)) hits++;
    });
    return hits / (results.length * K);
  };
  const latencyOf = (latencies: number[]) => {
    const sorted = [...latencies].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1], mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
  };
  const sweep = report.sweep.map((s) => ({ nprobe: s.nprobe, recallAt10: recallOf(s.results), latencyMs: latencyOf(s.latencies) }));
  for (const s of sweep) log(`nprobe ${s.nprobe}: recall@10 ${s.recallAt10.toFixed(4)} p50 ${s.latencyMs.p50.toFixed(2)} ms p95 ${s.latencyMs.p95.toFixed(2)} ms`);
  const result = {
    n,
    kind: info.kind,
    nlist: info.nlist,
    nprobe: info.nprobe,
    buildSeconds: (buildEnded - buildStarted) / 1000,
    buildPhasesSeconds: phases,
    buildProcessRssMB: buildRss / 2 ** 20,
    saveSeconds: saveMs / 1000,
    indexFileMB: manifest.files.index.bytes / 2 ** 20,
    calibration,
    exactSearchSeconds: gtMs / 1000,
    flatSingleQueryMsEstimate: flatMsPerQuery,
    child: {
      loadSeconds: report.loadMs / 1000,
      firstQueryMs: report.firstQueryMs,
      startToFirstAnswerSeconds: report.firstAnswerMs / 1000,
      rssAfterFirstAnswerMB: report.rssAfterFirst / 2 ** 20,
      rssAfterAllMB: report.rssAfterAll / 2 ** 20,
      wallSeconds: childWallMs / 1000,
    },
    queries: args.queries,
    latencyMs: latencyOf(report.latencies),
    recallAt10: recallOf(report.results),
    sweep,
    loadAverage: os.loadavg(),
  };
  if (!args.keep) rmSync(scratch, { recursive: true, force: true });
  else log(`kept ${scratch}`);
  return result;
}

function table(results: Awaited<ReturnType<typeof runSize>>[]): string {
  const head = ['n', 'index', 'build s', 'file MB', 'load s', 'first ans s', 'RSS MB', 'p50 ms', 'p95 ms', 'recall@10', 'flat ms (ref)'];
  const rows = results.map((r) => [
    r.n.toLocaleString('en-US'),
    r.kind === 'ivf' ? `IVF${r.nlist},SQfp16 np=${r.nprobe}` : 'Flat',
    r.buildSeconds.toFixed(1),
    r.indexFileMB.toFixed(0),
    r.child.loadSeconds.toFixed(2),
    r.child.startToFirstAnswerSeconds.toFixed(2),
    r.child.rssAfterAllMB.toFixed(0),
    r.latencyMs.p50.toFixed(2),
    r.latencyMs.p95.toFixed(2),
    r.recallAt10.toFixed(4),
    r.flatSingleQueryMsEstimate.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const scratchRoot = mkdtempSync(path.join(os.tmpdir(), 'search-scale-'));
  const results = [];
  try {
    for (const n of args.sizes) results.push(await runSize(n, args, scratchRoot));
  } finally {
    if (!args.keep) rmSync(scratchRoot, { recursive: true, force: true });
  }
  console.log(table(results));
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (${os.cpus().length} cores; other work on the machine inflates latencies)`);
  mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify({
    benchmark: 'search-scale',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: os.totalmem() / 2 ** 30, node: process.version },
    data: { dim: DIM, spec: args.hard ? HARD_SPEC : DEFAULT_SPEC, hard: args.hard, queryNoise: QUERY_NOISE, queries: 'perturbed data points' },
    note: 'vector search only: the text tower (~19 ms) is not included; load times are with the index file in the page cache',
    results,
  }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), args.out)}`);
}

await main();
