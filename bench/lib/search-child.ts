// Child process of bench/search-scale.ts: what the app does at start-up, alone in a fresh process.
// Starts the vector search worker, loads the persisted index, answers one query (start-to-first-answer,
// minus the text tower), then runs every query for latency and recall, and reports resident memory.
// Usage: node search-child.js <indexDir> <queries.f32> <dim> <k> [nprobe,nprobe,...]
// With a list of nprobe values (IVF), the queries are run again at each of them (a recall/latency sweep).
import { readFileSync } from 'node:fs';
import { VectorSearchService } from '../../src/main/core/vector/search-worker.js';

const [dir, queryFile, dimArg, kArg, sweepArg] = process.argv.slice(2);
const dim = Number(dimArg);
const k = Number(kArg);
const sinceStart = () => performance.now(); // performance.now() counts from process start

const service = VectorSearchService.start();
try {
  const loadStarted = performance.now();
  const info = await service.load(dir);
  const loadMs = performance.now() - loadStarted;
  const bytes = readFileSync(queryFile);
  const queries = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const nq = queries.length / dim;
  const firstStarted = performance.now();
  await service.search(queries.slice(0, dim), k);
  const firstQueryMs = performance.now() - firstStarted;
  const firstAnswerMs = sinceStart();
  const rssAfterFirst = process.memoryUsage().rss;

  async function runAll() {
    const latencies: number[] = [];
    const results: number[][] = [];
    for (let i = 0; i < nq; i++) {
      const q = queries.slice(i * dim, (i + 1) * dim);
      const started = performance.now();
      const hits = await service.search(q, k);
      latencies.push(performance.now() - started);
      results.push(hits.map((h) => h.photoId));
    }
    return { latencies, results };
  }
  const { latencies, results } = await runAll();
  const rssAfterAll = process.memoryUsage().rss;
  const sweep: { nprobe: number; latencies: number[]; results: number[][] }[] = [];
  if (sweepArg && info.kind === 'ivf') {
    for (const nprobe of sweepArg.split(',').map(Number).filter((p) => p >= 1 && p <= info.nlist)) {
      await service.setNprobe(nprobe);
      sweep.push({ nprobe, ...(await runAll()) });
    }
  }
  const report = {
    info,
    loadMs,
    firstQueryMs,
    firstAnswerMs,
    rssAfterFirst,
    rssAfterAll,
    latencies,
    results,
    sweep,
  };
  process.stdout.write(JSON.stringify(report));
} finally {
  await service.close();
}
