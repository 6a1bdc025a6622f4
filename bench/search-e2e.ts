// Text query end to end at library scale, through the app's real SearchEngine: tokenise, CLIP text
// tower, vector search (FAISS in its worker), filter and fetch the page of results from SQLite.
// Builds a synthetic library (catalogue rows + clustered unit vectors stored like real embeddings),
// then measures in a fresh child process: start to first answer, per-query p50/p95, vector-only
// p50/p95 and resident memory. Needs the architecture model (../shared/models/clip-vit-b32-arch with its
// weights materialised); its random weights cost exactly what ViT-B/32 costs, and say nothing of quality.
//
//   node dist/bench/search-e2e.js [--sizes 100000,624017] [--queries 200] [--model DIR] [--work DIR]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Library } from '../src/main/core/library.js';
import { loadModelFolder, type ModelFolder } from '../src/main/core/model/model-folder.js';
import { SearchEngine } from '../src/main/core/search/search-engine.js';
import { openVectorStore } from '../src/main/core/search/vector-store.js';
import { ClusteredGenerator } from './lib/synthetic.js';
import { findArchModel } from './lib/arch-model.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');

interface ChildResult {
  n: number;
  firstAnswerMs: number;
  queryMs: { p50: number; p95: number; mean: number };
  textTowerMs: { p50: number; p95: number };
  vectorOnlyMs: { p50: number; p95: number };
  rssMB: number;
  indexKind: string;
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

function queries(count: number): string[] {
  const captions = path.resolve(REPO, '../shared/data/photos/flickr8k-1000/captions.tsv');
  const out: string[] = [];
  if (existsSync(captions)) {
    for (const line of readFileSync(captions, 'utf8').split('\n').slice(1)) {
      const text = line.split('\t')[2]?.trim();
      if (text) out.push(text);
      if (out.length >= count) break;
    }
  }
  const words = ['dog', 'beach', 'sunset', 'kids', 'mountain', 'snow', 'city', 'night', 'bicycle', 'red car', 'wedding', 'cat'];
  for (let i = 0; out.length < count; i++) out.push(`a photo of ${words[i % words.length]} and ${words[(i * 7 + 3) % words.length]} number ${i}`);
  return out;
}

async function buildLibrary(dir: string, n: number, folder: ModelFolder): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  const library = Library.open(dir);
  const started = performance.now();
  library.useModel({ id: folder.modelId, dim: folder.dim, preprocessVersion: folder.preprocessVersion }, folder.dir);
  const generator = new ClusteredGenerator({ dim: folder.dim });
  const model = library.currentModel!;
  const chunk = 20_000;
  const base = Date.UTC(2015, 0, 1);
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    library.catalogue.insertPhotos(Array.from({ length: count }, (_, i) => ({
      folderId: null, path: `/bench/photos/${Math.floor((start + i) / 1000)}/IMG_${start + i}.jpg`, size: 1e6 + i, mtimeMs: base + (start + i) * 60_000,
    })));
    const ids = Array.from({ length: count }, (_, i) => start + i + 1); // a fresh catalogue numbers rows from 1
    library.catalogue.importVectors(model, ids, generator.rows(start, count));
  }
  const stored = performance.now();
  const store = await openVectorStore(library, folder.modelId, folder.dim);
  const size = store.size;
  await store.close();
  library.close();
  console.log(`  built a synthetic library of ${n} photos: catalogue ${((stored - started) / 1000).toFixed(1)} s, vector index ${((performance.now() - stored) / 1000).toFixed(1)} s (${size} searchable)`);
}

/** Runs in a fresh process: everything from process start is counted. */
async function child(libraryDir: string, modelDir: string, queryCount: number): Promise<void> {
  const library = Library.open(libraryDir);
  const folder = await loadModelFolder(modelDir);
  const engine = new SearchEngine(library, () => folder);
  const texts = queries(queryCount + 1);
  await engine.search({ query: texts[0], limit: 100 });
  const firstAnswerMs = performance.now(); // ms since this process started
  const times: number[] = [];
  for (const text of texts.slice(1)) {
    const t = performance.now();
    const response = await engine.search({ query: text, limit: 100 });
    times.push(performance.now() - t);
    if (response.items.length === 0) throw new Error('a query returned nothing');
  }
  // Components: the text tower alone, and the vector search alone (FAISS in its worker + transfer).
  const { ClipModel } = await import('../src/main/core/model/clip-model.js');
  const model = await ClipModel.load(folder);
  const tower: number[] = [];
  const vectors: Float32Array[] = [];
  for (const text of texts.slice(1, 51)) {
    const t = performance.now();
    vectors.push((await model.embedTexts([text]))[0]);
    tower.push(performance.now() - t);
  }
  const store = await engine.vectors();
  const vectorOnly: number[] = [];
  for (const v of vectors) {
    const t = performance.now();
    await store.search(v, 1001);
    vectorOnly.push(performance.now() - t);
  }
  const manifest = JSON.parse(readFileSync(path.join(library.paths.vectorIndex, folder.modelId, 'manifest.json'), 'utf8')) as { kind: string; nlist: number; nprobe: number };
  const result: ChildResult = {
    n: library.catalogue.countEmbeddings(folder.modelId),
    firstAnswerMs,
    queryMs: { p50: percentile(times, 50), p95: percentile(times, 95), mean: times.reduce((a, b) => a + b, 0) / times.length },
    textTowerMs: { p50: percentile(tower, 50), p95: percentile(tower, 95) },
    vectorOnlyMs: { p50: percentile(vectorOnly, 50), p95: percentile(vectorOnly, 95) },
    rssMB: process.memoryUsage().rss / 2 ** 20,
    indexKind: manifest.kind === 'ivf' ? `IVF${manifest.nlist},SQfp16 nprobe ${manifest.nprobe}` : 'Flat (exact)',
  };
  await model.release();
  await engine.close();
  library.close();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '100000,624017' },
      queries: { type: 'string', default: '200' },
      model: { type: 'string' },
      work: { type: 'string', default: path.join(os.tmpdir(), 'photo-search-bench-e2e') },
      child: { type: 'string' },
      quick: { type: 'boolean' },
    },
    strict: false,
  });
  const queryCount = Number(values.queries);
  if (typeof values.child === 'string') return child(values.child, String(values.model), queryCount);
  const modelDir = findArchModel(typeof values.model === 'string' ? values.model : undefined);
  if (!modelDir) {
    console.log('search-e2e: skipped: ../shared/models/clip-vit-b32-arch is not here');
    return;
  }
  const folder = await loadModelFolder(modelDir);
  const sizes = values.quick ? [100_000] : String(values.sizes).split(',').map(Number);
  mkdirSync(String(values.work), { recursive: true });
  const results: ChildResult[] = [];
  console.log(`search-e2e: model ${folder.modelId} (${folder.dim}-d), ${queryCount} text queries per size, page of 100 results`);
  for (const n of sizes) {
    const dir = path.join(String(values.work), `library-${n}`);
    await buildLibrary(dir, n, folder);
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', dir, '--model', folder.dir, '--queries', String(queryCount)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`child failed: ${run.stderr}`);
    const r = JSON.parse(line.slice(7)) as ChildResult;
    results.push(r);
    console.log(`  n=${r.n}  index ${r.indexKind}`);
    console.log(`    text query end to end  p50 ${r.queryMs.p50.toFixed(1)} ms  p95 ${r.queryMs.p95.toFixed(1)} ms  (text tower p50 ${r.textTowerMs.p50.toFixed(1)} ms, vector search p50 ${r.vectorOnlyMs.p50.toFixed(1)} / p95 ${r.vectorOnlyMs.p95.toFixed(1)} ms)`);
    console.log(`    process start → first answer ${(r.firstAnswerMs / 1000).toFixed(2)} s   resident memory ${r.rssMB.toFixed(0)} MB`);
    rmSync(dir, { recursive: true, force: true });
  }
  const out = path.join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'search-e2e.json'), JSON.stringify({
    benchmark: 'search-e2e', date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: os.totalmem() / 2 ** 30, node: process.version },
    note: 'synthetic clustered vectors; the architecture model (random weights, true ViT-B/32 cost); index file in the page cache',
    results,
  }, null, 2));
}

await main();
