// Embedding throughput: is the full pipeline as fast as its two stages allow?
//   (a) model only: CLIP image tower on pre-decoded tensors, photos/s (best of the batch sizes tried)
//   (b) decode only: read + decode + preprocess + thumbnail, photos/s (the pipeline's decode concurrency)
//   (c) full pipeline: register (scan), read once, hash, EXIF, decode, thumbnail, infer, store
//   ratio = c ÷ (1 / (1/a + 1/b)), the serial limit of doing (a) and (b) one after the other. The
//   pipeline overlaps them, but both compete for the same cores, so ≈ 1 is the target (≥ 0.90).
// Photo sets: ../shared/data/photos/flickr8k-1000 (small real photos) and generated 12-megapixel JPEGs.
// Model: ../shared/models/clip-vit-b32-arch (real ViT-B/32 cost, random weights), materialized.
//
// Usage: node dist/bench/embed-throughput.js [--limit N] [--large N] [--batches 8,16] [--threads 2]
//        [--model DIR] [--sets flickr,large]
// Writes bench/results/embed-throughput.json. Skips (exit 0) when ../shared is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync, copyFileSync, rmSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Library } from '../src/main/core/library.js';
import { loadModelFolder, type ModelFolder } from '../src/main/core/model/model-folder.js';
import { ClipModel } from '../src/main/core/model/clip-model.js';
import { decodeForEmbedding } from '../src/main/core/model/preprocess.js';
import { packageRoot } from '../src/main/core/paths.js';
import { scanFolder } from '../src/main/core/scanner/scanner.js';
import { runIndexing } from '../src/main/core/embed/pipeline.js';

const args = parseArgs(process.argv.slice(2));
const shared = path.resolve(packageRoot, '../shared');
const limit = Number(args.limit ?? 1000);
const largeCount = Number(args.large ?? 48);
const batches = String(args.batches ?? '8,16').split(',').map(Number);
const threads = Number(args.threads ?? os.availableParallelism());
const decodeConcurrency = Number(args['decode-concurrency'] ?? 4);
const sets = String(args.sets ?? 'flickr,large').split(',');

interface SetResult {
  set: string;
  photos: number;
  medianBytes: number;
  modelOnly: { photosPerSecond: number; batch: number; byBatch: Record<string, number> };
  decodeOnly: { photosPerSecond: number };
  fullPipeline: { photosPerSecond: number; seconds: number; scanSeconds: number; embedded: number; failed: number };
  serialLimit: number;
  ratio: number;
}

async function main(): Promise<void> {
  if (!existsSync(shared)) {
    console.log(`embed-throughput: skipped, ${shared} is missing (benchmarks need ../shared)`);
    return;
  }
  const modelDir = findModel();
  const folder = await loadModelFolder(modelDir);
  console.log(`model ${modelDir}; threads ${threads}; decode concurrency ${decodeConcurrency}; sharp concurrency ${sharp.concurrency()}; UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? 4}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'embed-bench-'));
  const results: SetResult[] = [];
  try {
    for (const set of sets) {
      const files = set === 'flickr' ? flickrPhotos(limit) : await largePhotos(Math.min(largeCount, limit));
      if (files.length === 0) continue;
      results.push(await measureSet(set, files, folder, work));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const out = {
    benchmark: 'embed-throughput',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    model: path.basename(modelDir),
    settings: { threads, batches, decodeConcurrency, sharpConcurrency: sharp.concurrency(), limit, large: largeCount },
    results,
  };
  const file = path.join(packageRoot, 'bench/results/embed-throughput.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(packageRoot, file)}`);
  for (const r of results) {
    console.log(`${r.set.padEnd(7)} ${String(r.photos).padStart(5)} photos: a model ${r.modelOnly.photosPerSecond.toFixed(1)}/s (batch ${r.modelOnly.batch}), ` +
      `b decode ${r.decodeOnly.photosPerSecond.toFixed(1)}/s, serial limit ${r.serialLimit.toFixed(1)}/s, ` +
      `c pipeline ${r.fullPipeline.photosPerSecond.toFixed(1)}/s → ratio ${r.ratio.toFixed(3)}`);
  }
}

async function measureSet(set: string, files: string[], folder: ModelFolder, work: string): Promise<SetResult> {
  const sizes = files.map((f) => statSync(f).size).sort((x, y) => x - y);
  console.log(`\n== ${set}: ${files.length} photos, median ${(sizes[sizes.length >> 1] / 1024).toFixed(0)} KiB`);

  // (b) decode only, as the pipeline decodes: read the file, decode once into tensor + thumbnail.
  const decodeStart = performance.now();
  let next = 0;
  const tensors: Float32Array[] = [];
  const keepTensors = Math.min(files.length, 96);
  await Promise.all(Array.from({ length: decodeConcurrency }, async () => {
    while (next < files.length) {
      const i = next++;
      try {
        const decoded = await decodeForEmbedding(await readFile(files[i]), folder.preprocessCfg, { thumbSize: 320 });
        if (i < keepTensors) tensors[i] = decoded.tensor;
      } catch (error) {
        console.log(`  decode failed: ${files[i]}: ${(error as Error).message}`);
      }
    }
  }));
  const decodePerSecond = (files.length * 1000) / (performance.now() - decodeStart);
  console.log(`(b) decode+preprocess+thumbnail: ${decodePerSecond.toFixed(1)} photos/s`);

  // (a) model only, on tensors decoded above; one warm-up batch per setting.
  const byBatch: Record<string, number> = {};
  const inputs = tensors.filter(Boolean);
  for (const batch of batches) {
    const session = await ClipModel.load(folder, { threads, maxBatch: batch });
    await session.embedImages(inputs.slice(0, batch));
    const rounds = Math.max(1, Math.floor(inputs.length / batch));
    const t = performance.now();
    for (let r = 0; r < rounds; r++) await session.embedImages(inputs.slice(r * batch, (r + 1) * batch));
    byBatch[batch] = (rounds * batch * 1000) / (performance.now() - t);
    console.log(`(a) model only, batch ${batch}, ${threads} threads: ${byBatch[batch].toFixed(1)} photos/s`);
    await session.release();
  }
  const bestBatch = Number(Object.entries(byBatch).sort((x, y) => y[1] - x[1])[0][0]);
  const modelPerSecond = byBatch[bestBatch];

  // (c) full pipeline into a fresh library, model loaded and warmed beforehand (as a running app has it).
  const photosDir = path.join(work, `${set}-photos`);
  mkdirSync(photosDir, { recursive: true });
  files.forEach((f, i) => copyFileSync(f, path.join(photosDir, `${String(i).padStart(5, '0')}-${path.basename(f)}`)));
  const library = Library.open(path.join(work, `${set}-library`));
  const embedder = await ClipModel.load(folder, { threads, maxBatch: bestBatch });
  await embedder.embedImages(inputs.slice(0, bestBatch));
  const t0 = performance.now();
  const scan = await scanFolder(library.catalogue, library.catalogue.addFolder(photosDir));
  const scanSeconds = (performance.now() - t0) / 1000;
  const summary = await runIndexing({ library, modelFolder: folder, embedder, batchSize: bestBatch, decodeConcurrency });
  const seconds = (performance.now() - t0) / 1000;
  library.close();
  await embedder.release();
  const pipelinePerSecond = scan.added / seconds;
  const serialLimit = 1 / (1 / modelPerSecond + 1 / decodePerSecond);
  console.log(`(c) full pipeline: ${summary.embedded} embedded, ${summary.failed} failed in ${seconds.toFixed(1)} s ` +
    `(scan ${scanSeconds.toFixed(2)} s): ${pipelinePerSecond.toFixed(1)} photos/s; serial limit ${serialLimit.toFixed(1)}/s; ` +
    `ratio ${(pipelinePerSecond / serialLimit).toFixed(3)}`);
  return {
    set, photos: files.length, medianBytes: sizes[sizes.length >> 1],
    modelOnly: { photosPerSecond: round(modelPerSecond), batch: bestBatch, byBatch: Object.fromEntries(Object.entries(byBatch).map(([k, v]) => [k, round(v)])) },
    decodeOnly: { photosPerSecond: round(decodePerSecond) },
    fullPipeline: { photosPerSecond: round(pipelinePerSecond), seconds: round(seconds), scanSeconds: round(scanSeconds), embedded: summary.embedded, failed: summary.failed },
    serialLimit: round(serialLimit),
    ratio: Math.round((pipelinePerSecond / serialLimit) * 1000) / 1000,
  };
}

function flickrPhotos(n: number): string[] {
  const dir = path.join(shared, 'data/photos/flickr8k-1000/images');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, n).map((f) => path.join(dir, f));
}

/** 12-megapixel JPEGs with camera-like detail (a real photo upscaled plus sensor-like noise), cached in tmp. */
async function largePhotos(n: number): Promise<string[]> {
  const dir = path.join(os.tmpdir(), 'photo-search-bench-12mp-v1');
  mkdirSync(dir, { recursive: true });
  const sources = flickrPhotos(n);
  const out: string[] = [];
  for (let i = 0; i < n && sources.length > 0; i++) {
    const file = path.join(dir, `large-${String(i).padStart(3, '0')}.jpg`);
    if (!existsSync(file)) {
      const noise = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 12 } } })
        .raw().toBuffer();
      const base = await sharp(sources[i % sources.length]).resize(4000, 3000, { fit: 'cover' }).raw().toBuffer();
      for (let p = 0; p < base.length; p++) base[p] = Math.max(0, Math.min(255, base[p] + noise[p] - 128));
      await sharp(base, { raw: { width: 4000, height: 3000, channels: 3 } }).jpeg({ quality: 90 })
        .withExif({ IFD0: { Make: 'Bench', Model: '12MP' }, IFD2: { DateTimeOriginal: '2024:06:01 12:00:00' } })
        .toFile(file + '.part');
      renameSync(file + '.part', file);
    }
    out.push(file);
  }
  if (out.length > 0) console.log(`large photos: ${out.length} × 4000×3000 JPEG in ${dir}`);
  return out;
}

/** The benchmark model with its weights written out: shared if materialized there, else a sibling or tmp copy. */
function findModel(): string {
  if (args.model) return path.resolve(String(args.model));
  const source = path.join(shared, 'models/clip-vit-b32-arch');
  const materialized = (dir: string): boolean => existsSync(path.join(dir, 'visual/model.onnx.data'));
  const candidates = [source, path.resolve(packageRoot, '../.tmp-models/clip-vit-b32-arch'), path.join(os.tmpdir(), 'photo-search-clip-vit-b32-arch')];
  const found = candidates.find(materialized);
  if (found) return found;
  const target = candidates[2];
  console.log(`materializing the benchmark model weights into ${target} (~600 MB, a few seconds)`);
  execFileSync(process.execPath, [path.join(source, 'materialize.mjs'), source, target], { stdio: 'inherit' });
  return target;
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    out[m[1]] = m[2] ?? (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : 'true');
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

await main();
