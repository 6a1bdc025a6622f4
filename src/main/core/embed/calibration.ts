// Picks the image tower's intra-op threads and batch size by measuring them. A coordinate search: batch sizes
// at the first thread count, then the other thread counts at the best batch, so a 2-core CPU measures 4
// settings (about 4 s with ViT-B/32) instead of every pair. A setting replaces the best so far only when it is
// at least 5% faster: between settings closer than that the timing noise of a few batches decides, so the first
// candidate (the former fixed default) stays. It measures the image tower alone, on synthetic input: decoding
// shares the cores during a run, which the measurement does not see.
import os from 'node:os';
import type { ExecutionProvider } from '../../../shared/types.js';

export interface TowerSetting {
  threads: number;
  batchSize: number;
}

export interface Trial extends TowerSetting {
  imagesPerSecond: number;
  /** Why the setting could not run (a GPU out of memory at a large batch): it then counts as 0 images/s. */
  error?: string;
}

/** Images per second at a setting. */
export type MeasureSetting = (setting: TowerSetting) => Promise<number>;

export interface CalibrationCandidates {
  /** Thread counts, the default first. */
  threads: number[];
  /** Batch sizes, the default first. */
  batchSizes: number[];
}

/** How much faster another setting must be to replace the best so far. */
export const CALIBRATION_MARGIN = 0.05;

/**
 * A tower this fast at the first setting is not tuned further: under 1 ms a photo, it waits on decoding (5 ms or
 * more a photo, docs/BENCHMARKS.md §1), and its timings would be mostly noise.
 */
export const FAST_ENOUGH_IMAGES_PER_SECOND = 1000;

/**
 * What is worth measuring. CPU: all logical cores and half of them (SMT siblings often slow ORT down), batches
 * 8-32 (larger batches gain nothing on a CPU). GPU providers: the intra-op threads only run the few nodes left
 * on the CPU, so one count, and larger batches.
 */
export function calibrationCandidates(provider: ExecutionProvider, cores = os.availableParallelism()): CalibrationCandidates {
  const all = Math.max(1, cores);
  if (provider !== 'cpu') return { threads: [all], batchSizes: [16, 32, 64] };
  return { threads: [...new Set([all, Math.ceil(all / 2)])], batchSizes: [16, 8, 32] };
}

/**
 * Measures the candidates (see the top of the file) and returns the fastest setting with every trial. A setting
 * that fails is never picked; when none runs, the first failure is thrown.
 */
export async function calibrate(candidates: CalibrationCandidates, measure: MeasureSetting): Promise<{ best: Trial; trials: Trial[] }> {
  const [firstThreads, ...otherThreads] = candidates.threads;
  if (firstThreads === undefined || candidates.batchSizes.length === 0) throw new RangeError('nothing to calibrate');
  const trials: Trial[] = [];
  let firstFailure: unknown = null;
  const run = async (setting: TowerSetting): Promise<Trial> => {
    let trial: Trial;
    try {
      trial = { ...setting, imagesPerSecond: await measure(setting) };
    } catch (error) {
      firstFailure ??= error;
      trial = { ...setting, imagesPerSecond: 0, error: (error as Error).message || String(error) };
    }
    trials.push(trial);
    return trial;
  };
  const fastest = (list: Trial[]): Trial => list.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond * (1 + CALIBRATION_MARGIN) ? b : a));
  let best = fastest([await run({ threads: firstThreads, batchSize: candidates.batchSizes[0] })]);
  if (best.imagesPerSecond >= FAST_ENOUGH_IMAGES_PER_SECOND) return { best, trials };
  for (const batchSize of candidates.batchSizes.slice(1)) best = fastest([best, await run({ threads: firstThreads, batchSize })]);
  for (const threads of otherThreads) best = fastest([best, await run({ threads, batchSize: best.batchSize })]);
  if (best.imagesPerSecond <= 0) throw firstFailure ?? new Error('calibration measured nothing');
  return { best, trials };
}
