// The int8 image tower against float32, side by side in one run (issue 12):
//   (a) model only: the image tower on pre-decoded Flickr tensors, fp32 and int8, photos/s and the ratio;
//   (c) the whole command: `photo-search index DIR --model M --precision fp32|int8` in a child process on a
//       fresh library, photos/s (the command's own embedding rate, and wall time from start to exit) and
//       the ratio; each also as a ratio to its own model-only rate, and the time projected for 624,017 photos;
//   (q) cosine between the int8 and fp32 vectors the two commands stored for the same photos (median, p5,
//       min). The architecture model has random weights: this says how closely int8 follows fp32 on
//       these activations, not how well it searches.
// The machine is shared, so each rate comes with the CPU time per photo it cost (this process's for the model,
// the child's for the command), which other work on the machine disturbs far less than wall time.
// Rounds alternate which precision goes first; each round waits for the machine to be idle and runs on a
// fresh part of the photo set. Figures are medians over the rounds. The int8 folder is derived once first
// (its time is reported apart).
//
// Usage: node dist/bench/int8.js [--model DIR] [--limit 1000] [--rounds 3] [--batch 16] [--threads N]
//        [--wait-quiet 120]
// Writes bench/results/int8.json. Skips (exit 0) when ../shared is missing.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ClipModel } from '../src/main/core/model/clip-model.js';
import { loadModelFolder, type ModelFolder } from '../src/main/core/model/model-folder.js';
import { decodeForEmbedding } from '../src/main/core/model/preprocess.js';
import { deriveInt8Folder, readInt8Marker } from '../src/main/core/model/int8/int8-folder.js';
import { packageRoot } from '../src/main/core/paths.js';
import { findArchModel, SHARED_DIR } from './lib/arch-model.js';
import { parseArgs } from './lib/args.js';
import { cosine, runNode } from '../test/helpers/fixtures.js';
import { flickrPhotos, median, timed, waitQuiet } from './lib/machine.js';

const args = parseArgs(process.argv.slice(2));
const limit = Number(args.limit ?? 1000);
const roundsWanted = Math.max(1, Number(args.rounds ?? 3));
const batch = Number(args.batch ?? 16);
const threads = Number(args.threads ?? os.availableParallelism());
const quietSeconds = Number(args['wait-quiet'] ?? 120);
const MODEL_ONLY_TENSORS = 128;
const LIBRARY_PHOTOS = 624_017;
const BIN = path.join(packageRoot, 'bin/photo-search.js');
const PRECISIONS = ['fp32', 'int8'] as const;
type Precision = (typeof PRECISIONS)[number];

interface Round {
  order: Precision[];
  idleBefore: number | null;
  loadBefore: number;
  modelOnly: Record<Precision, { photosPerSecond: number; cpuMsPerPhoto: number }>;
  /** The command's own rate (embedding phase), photos ÷ wall time of the whole command, and its CPU time per photo. */
  command: Record<Precision, { photosPerSecond: number; wallPhotosPerSecond: number; cpuMsPerPhoto: number | null; embedded: number }>;
}

async function main(): Promise<void> {
  if (!existsSync(SHARED_DIR)) {
    console.log(`int8: skipped, ${SHARED_DIR} is missing (benchmarks need ../shared)`);
    return;
  }
  const modelDir = findArchModel(args.model ? String(args.model) : undefined)!;
  const files = flickrPhotos(SHARED_DIR, limit);
  const work = mkdtempSync(path.join(os.tmpdir(), 'int8-bench-'));
  const modelsDir = path.join(work, 'models');
  try {
    const derive = await timed(() => deriveInt8Folder(modelDir, { modelsDir }));
    const fp32 = await loadModelFolder(modelDir);
    const int8Dir = await deriveInt8Folder(modelDir, { modelsDir });
    const int8 = await loadModelFolder(int8Dir);
    const summary = readInt8Marker(int8Dir)!.summary;
    console.log(`model ${modelDir}; int8 derived in ${derive.seconds.toFixed(1)} s (${summary.quantized} MatMul/Gemm, ` +
      `${mb(summary.floatWeightBytes)} → ${mb(summary.int8WeightBytes)} MB); batch ${batch}; threads ${threads}; ${files.length} photos`);

    const tensors = await decode(files.slice(0, MODEL_ONLY_TENSORS), fp32);
    const models: Record<Precision, ClipModel> = {
      fp32: await ClipModel.load(fp32, { threads, maxBatch: batch }),
      int8: await ClipModel.load(int8, { threads, maxBatch: batch }),
    };
    for (const p of PRECISIONS) await models[p].embedImages(tensors.slice(0, batch)); // session creation

    const rounds: Round[] = [];
    const chunk = Math.ceil(files.length / roundsWanted);
    const libraries: Record<Precision, string[]> = { fp32: [], int8: [] };
    for (let r = 0; r < roundsWanted; r++) {
      const part = files.slice(r * chunk, (r + 1) * chunk);
      if (part.length === 0) break;
      const photos = path.join(work, `photos-${r}`);
      mkdirSync(photos);
      for (const f of part) copyFileSync(f, path.join(photos, path.basename(f)));
      const order: Precision[] = r % 2 === 0 ? ['fp32', 'int8'] : ['int8', 'fp32'];
      const idleBefore = await waitQuiet(quietSeconds);
      const loadBefore = os.loadavg()[0];
      const round: Round = { order, idleBefore, loadBefore, modelOnly: {} as Round['modelOnly'], command: {} as Round['command'] };
      for (const p of order) round.modelOnly[p] = await modelOnly(models[p], tensors);
      for (const p of order) {
        const library = path.join(work, `library-${p}-${r}`);
        libraries[p].push(library);
        round.command[p] = await indexCommand(photos, library, modelDir, p, modelsDir);
      }
      rounds.push(round);
      console.log(`round ${r + 1} (${order.join(' first, ')}; load ${loadBefore.toFixed(2)}, idle before ${idleBefore === null ? '?' : Math.round(idleBefore * 100) + '%'}): ` +
        PRECISIONS.map((p) => `${p} model ${round.modelOnly[p].photosPerSecond.toFixed(1)}/s (${round.modelOnly[p].cpuMsPerPhoto} cpu ms), ` +
          `index ${round.command[p].photosPerSecond.toFixed(1)}/s (wall ${round.command[p].wallPhotosPerSecond.toFixed(1)}/s, ${round.command[p].cpuMsPerPhoto ?? '?'} cpu ms)`).join('; '));
    }
    for (const p of PRECISIONS) await models[p].release();

    const cosines = compareVectors(libraries.fp32, libraries.int8);
    const med = (pick: (r: Round) => number): number => round2(median(rounds.map(pick)));
    const figuresOf = (p: Precision): Record<string, number> => {
      const modelRate = med((r) => r.modelOnly[p].photosPerSecond);
      const commandRate = med((r) => r.command[p].photosPerSecond);
      return {
        modelOnlyPhotosPerSecond: modelRate,
        indexPhotosPerSecond: commandRate,
        indexWallPhotosPerSecond: med((r) => r.command[p].wallPhotosPerSecond),
        indexToModelOnly: round2(commandRate / modelRate),
        modelOnlyCpuMsPerPhoto: med((r) => r.modelOnly[p].cpuMsPerPhoto),
        indexCpuMsPerPhoto: med((r) => r.command[p].cpuMsPerPhoto ?? NaN),
        projectedHoursFor624017: round2(LIBRARY_PHOTOS / commandRate / 3600),
      };
    };
    const figures = { fp32: figuresOf('fp32'), int8: figuresOf('int8') };
    const ratios = {
      modelOnly: med((r) => r.modelOnly.int8.photosPerSecond / r.modelOnly.fp32.photosPerSecond),
      modelOnlyCpu: med((r) => r.modelOnly.fp32.cpuMsPerPhoto / r.modelOnly.int8.cpuMsPerPhoto),
      indexCpu: med((r) => (r.command.fp32.cpuMsPerPhoto ?? NaN) / (r.command.int8.cpuMsPerPhoto ?? NaN)),
      index: med((r) => r.command.int8.photosPerSecond / r.command.fp32.photosPerSecond),
      indexWall: med((r) => r.command.int8.wallPhotosPerSecond / r.command.fp32.wallPhotosPerSecond),
    };
    const out = {
      benchmark: 'int8',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      model: path.basename(modelDir),
      settings: { limit, rounds: roundsWanted, batch, threads },
      derive: { seconds: round2(derive.seconds), ...summary, kept: summary.kept.length },
      figures, ratios, cosine: cosines, rounds,
    };
    const file = path.join(packageRoot, 'bench/results/int8.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
    console.log(`\nwrote ${path.relative(packageRoot, file)}`);
    for (const p of PRECISIONS) {
      const f = figures[p];
      console.log(`${p}: model only ${f.modelOnlyPhotosPerSecond}/s; index ${f.indexPhotosPerSecond}/s (wall ${f.indexWallPhotosPerSecond}/s) = ` +
        `${f.indexToModelOnly} of model only; 624,017 photos ≈ ${f.projectedHoursFor624017} h; cpu ms/photo model ${f.modelOnlyCpuMsPerPhoto}, index ${f.indexCpuMsPerPhoto}`);
    }
    console.log(`int8 ÷ fp32: model only ${ratios.modelOnly} (target ≥ 1.8), index ${ratios.index} (wall ${ratios.indexWall}; target ≥ 1.7); ` +
      `fp32 ÷ int8 cpu per photo: model ${ratios.modelOnlyCpu}, index ${ratios.indexCpu}`);
    console.log(`cosine int8 vs fp32 over ${cosines.photos} photos: median ${cosines.median}, p5 ${cosines.p5}, min ${cosines.min} (target median ≥ 0.99; random weights)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function decode(files: string[], folder: ModelFolder): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const f of files) out.push((await decodeForEmbedding(await readFile(f), folder.preprocessCfg)).tensor);
  return out;
}

/** Photos/s of the image tower alone over the pre-decoded tensors, in batches. */
async function modelOnly(model: ClipModel, tensors: Float32Array[]): Promise<Round['modelOnly'][Precision]> {
  let photos = 0;
  const t = await timed(async () => {
    for (let i = 0; i + batch <= tensors.length; i += batch) photos += (await model.embedImages(tensors.slice(i, i + batch))).length;
  });
  return { photosPerSecond: photos / t.seconds, cpuMsPerPhoto: round2((t.cpuSeconds * 1000) / photos) };
}

/** `photo-search index` as a user runs it, in its own process. */
async function indexCommand(photos: string, library: string, modelDir: string, precision: Precision, modelsDir: string):
  Promise<Round['command'][Precision]> {
  const argv = [BIN, 'index', photos, '--model', modelDir, '--precision', precision, '--batch', String(batch),
    '--threads', String(threads), '--json', '--library', library];
  const cpuBefore = childrenCpuSeconds();
  const started = performance.now();
  const { code, stdout, stderr } = await runNode(argv, { ...process.env, PHOTO_SEARCH_MODELS_DIR: modelsDir, PHOTO_SEARCH_HOME: path.join(modelsDir, '..', 'home') });
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = childrenCpuSeconds();
  if (code !== 0) throw new Error(`index --precision ${precision} failed (${code}): ${stderr}`);
  const summary = JSON.parse(stdout) as { embedded: number; photosPerSecond: number };
  const cpuMsPerPhoto = cpuBefore === null || cpuAfter === null ? null : round2(((cpuAfter - cpuBefore) * 1000) / summary.embedded);
  return { photosPerSecond: round2(summary.photosPerSecond), wallPhotosPerSecond: round2(summary.embedded / seconds), cpuMsPerPhoto, embedded: summary.embedded };
}

/** CPU seconds of this process's finished children (Linux /proc/self/stat cutime + cstime, 100 ticks/s), or null. */
function childrenCpuSeconds(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // fields 16 and 17 of stat(5), counted from state (3)
  } catch {
    return null;
  }
}

/** Cosine between the two libraries' vectors of each photo (matched by file name), with the model ids seen. */
function compareVectors(fp32Libraries: string[], int8Libraries: string[]): { photos: number; median: number; p5: number; min: number; modelIds: Record<Precision, string[]> } {
  const read = (libraries: string[]): { vectors: Map<string, Float32Array>; ids: Set<string> } => {
    const vectors = new Map<string, Float32Array>();
    const ids = new Set<string>();
    for (const library of libraries) {
      const db = new Database(path.join(library, 'catalogue.sqlite'), { readonly: true });
      try {
        const rows = db.prepare('SELECT p.path AS path, e.model_id AS model, e.vector AS vector FROM embeddings e JOIN photos p ON p.id = e.photo_id').all() as { path: string; model: string; vector: Buffer }[];
        for (const r of rows) {
          ids.add(r.model);
          vectors.set(path.basename(r.path), new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength)));
        }
      } finally {
        db.close();
      }
    }
    return { vectors, ids };
  };
  const a = read(fp32Libraries);
  const b = read(int8Libraries);
  const cosines: number[] = [];
  for (const [name, x] of a.vectors) {
    const y = b.vectors.get(name);
    if (y) cosines.push(cosine(x, y));
  }
  cosines.sort((x, y) => x - y);
  const at = (q: number): number => Math.round(cosines[Math.min(cosines.length - 1, Math.floor(q * cosines.length))] * 1e5) / 1e5;
  return { photos: cosines.length, median: at(0.5), p5: at(0.05), min: at(0), modelIds: { fp32: [...a.ids], int8: [...b.ids] } };
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);
const round2 = (x: number): number => Math.round(x * 100) / 100;

await main();
