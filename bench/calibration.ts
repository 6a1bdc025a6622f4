// Calibration and provider fallback on the real ViT-B/32 cost (../shared's architecture model, random weights):
//   - what the first-run calibration costs (wall time beyond opening the tower) and what it picks here;
//   - the picked setting against the fixed default it replaces (all cores, batch 16), the image tower alone,
//     alternating the two (the machine's speed drifts);
//   - what asking for CUDA on a machine without it costs before the CPU runs (the fallback).
// Usage: node dist/bench/calibration.js [--model DIR] [--reps 3] [--wait-quiet 120]
// Writes bench/results/calibration.json. Skips (exit 0) when ../shared is missing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { ClipModel } from '../src/main/core/model/clip-model.js';
import { packageRoot } from '../src/main/core/paths.js';
import { DEFAULT_BATCH, prepareImageTower } from '../src/main/core/embed/image-tower-setup.js';
import { findArchModel } from './lib/arch-model.js';
import { parseArgs } from './lib/args.js';
import { median, timed, waitQuiet } from './lib/machine.js';

const args = parseArgs(process.argv.slice(2));
const reps = Math.max(1, Number(args.reps ?? 3));
const quietSeconds = Number(args['wait-quiet'] ?? 120);
const round = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const modelDir = findArchModel(args.model ? String(args.model) : undefined);
  if (!modelDir) {
    console.log('calibration: skipped, ../shared/models/clip-vit-b32-arch is missing (benchmarks need ../shared)');
    return;
  }
  const folder = await loadModelFolder(modelDir);
  const work = mkdtempSync(path.join(os.tmpdir(), 'calibration-bench-'));
  try {
    const idleBefore = await waitQuiet(quietSeconds);
    // Opening the tower alone (session + warm-up-free CPU open), then opening it with a calibration.
    let plain: Awaited<ReturnType<typeof prepareImageTower>> | null = null;
    const open = await timed(async () => {
      plain = await prepareImageTower(folder, { provider: 'cpu' });
      await plain.model.visualInfo();
    });
    await plain!.model.release();
    let calibrated: Awaited<ReturnType<typeof prepareImageTower>> | null = null;
    const withCalibration = await timed(async () => {
      calibrated = await prepareImageTower(folder, { provider: 'cpu', calibrationFile: path.join(work, 'calibration.json') });
    });
    const picked = calibrated!.runtime;
    await calibrated!.model.release();
    console.log(`calibration: ${round(withCalibration.seconds - open.seconds)} s beyond opening the tower (${round(open.seconds)} s); ` +
      `picked ${picked.threads} threads, batch ${picked.batchSize}`);
    for (const t of calibrated!.trials) console.log(`  ${t.threads} thread${t.threads === 1 ? '' : 's'}, batch ${t.batchSize}: ${round(t.imagesPerSecond)} img/s`);

    // The picked setting against the default it replaces, image tower alone, alternating.
    const defaults = { threads: os.availableParallelism(), batchSize: DEFAULT_BATCH };
    const settings = [{ name: 'default', ...defaults }, { name: 'calibrated', threads: picked.threads, batchSize: picked.batchSize }];
    const { width, height } = folder.preprocessCfg;
    const image = Float32Array.from({ length: 3 * width * height }, (_, i) => Math.cos(i) * 1.2);
    const rates = new Map<string, number[]>(settings.map((s) => [s.name, []]));
    const models = new Map<string, ClipModel>();
    for (const s of settings) {
      const model = await ClipModel.load(folder, { threads: s.threads, maxBatch: s.batchSize });
      await model.embedImages(Array.from({ length: s.batchSize }, () => image));
      models.set(s.name, model);
    }
    for (let r = 0; r < reps; r++) {
      for (const s of settings) {
        const batches = Math.max(2, Math.ceil(64 / s.batchSize));
        const batch = Array.from({ length: s.batchSize }, () => image);
        const t = await timed(async () => {
          for (let i = 0; i < batches; i++) await models.get(s.name)!.embedImages(batch);
        });
        rates.get(s.name)!.push((batches * s.batchSize) / t.seconds);
      }
    }
    for (const m of models.values()) await m.release();
    const compared = settings.map((s) => ({ ...s, imagesPerSecond: round(median(rates.get(s.name)!)), samples: rates.get(s.name)!.map(round) }));
    for (const c of compared) console.log(`${c.name.padEnd(10)} ${c.threads} threads, batch ${c.batchSize}: ${c.imagesPerSecond} img/s (median of ${reps}: ${c.samples.join(', ')})`);

    // The fallback: CUDA asked for, the CPU runs.
    let viaCuda: Awaited<ReturnType<typeof prepareImageTower>> | null = null;
    const fallback = await timed(async () => {
      viaCuda = await prepareImageTower(folder, { provider: 'cuda', threads: defaults.threads, batchSize: defaults.batchSize });
    });
    await viaCuda!.model.release();
    console.log(`cuda asked for: ${viaCuda!.runtime.provider} runs after ${round(fallback.seconds)} s ` +
      `(opening on the CPU alone: ${round(open.seconds)} s); ${viaCuda!.runtime.fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ') || 'no fallback'}`);

    const out = {
      benchmark: 'calibration',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAverage: os.loadavg(), idleBefore },
      model: path.basename(modelDir),
      openSeconds: round(open.seconds),
      calibrationSeconds: round(withCalibration.seconds - open.seconds),
      picked: { threads: picked.threads, batchSize: picked.batchSize },
      trials: calibrated!.trials,
      compared,
      fallback: { seconds: round(fallback.seconds), provider: viaCuda!.runtime.provider, fallbacks: viaCuda!.runtime.fallbacks },
    };
    const file = path.join(packageRoot, 'bench/results/calibration.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
    console.log(`wrote ${path.relative(packageRoot, file)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
