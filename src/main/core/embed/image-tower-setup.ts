// Opens the image tower for an indexing run: on the first execution provider that works (execution-providers.ts),
// with the threads and batch size given, else remembered for this machine, model and provider, else measured
// now and remembered (calibration.ts), else the defaults. A GPU provider that then fails a first batch at the
// chosen size (or fails every calibration setting) gives way to the CPU, with the reason. Runs where the tower
// will run (the embed worker).
import os from 'node:os';
import ort from 'onnxruntime-node';
import { stat } from 'node:fs/promises';
import type { EmbeddingRuntime, ExecutionProvider, ProviderChoice } from '../../../shared/types.js';
import { ClipModel, type SessionFactory } from '../model/clip-model.js';
import type { ModelFolder } from '../model/model-folder.js';
import { calibrate, calibrationCandidates, type MeasureSetting, type TowerSetting, type Trial } from './calibration.js';
import { conciseReason } from '../model/execution-providers.js';
import { rememberedSetting, rememberSetting, type CalibrationKey } from './calibration-store.js';

export const DEFAULT_BATCH = 16;

export interface ImageTowerRequest {
  provider: ProviderChoice;
  /** Given by the user: wins over anything remembered or measured. */
  threads?: number;
  batchSize?: number;
  /** Where calibrations are remembered; without one nothing is measured and unset settings take the defaults. */
  calibrationFile?: string | null;
}

export interface ImageTowerHooks {
  /** Progress in words (the calibration, while it runs). */
  onStatus?: (message: string) => void;
  /** Replaces the timed runs (tests give controlled timings). */
  measure?: MeasureSetting;
  createSession?: SessionFactory;
}

export async function prepareImageTower(
  folder: ModelFolder,
  request: ImageTowerRequest,
  hooks: ImageTowerHooks = {},
): Promise<{ model: ClipModel; runtime: EmbeddingRuntime; trials: Trial[] }> {
  // A provider that fails to load makes ORT print error lines on stderr before it throws; the fallback reports
  // it in one line instead. Takes effect where no session was created before (the embed worker's process).
  if (request.provider !== 'cpu') ort.env.logLevel = 'fatal';
  const cores = os.availableParallelism();
  const firstThreads = request.threads ?? cores;
  const open = (threads: number, provider: ProviderChoice, maxBatch: number): Promise<ClipModel> =>
    ClipModel.load(folder, { threads, maxBatch, provider, createSession: hooks.createSession });

  // The largest batch any candidate measures, so one embedImages call is one run.
  let model = await open(firstThreads, request.provider, request.batchSize ?? 64);
  const info = await model.visualInfo();
  const provider = info.provider;
  const key: CalibrationKey = { modelId: folder.modelId, modelBytes: (await stat(folder.visualModelPath)).size, provider };
  const remembered = request.calibrationFile ? rememberedSetting(request.calibrationFile, key) : null;
  const flags = request.threads !== undefined || request.batchSize !== undefined;
  const fallBackToCpu = async (reason: string): Promise<{ model: ClipModel; runtime: EmbeddingRuntime; trials: Trial[] }> => {
    await model.release();
    const onCpu = await prepareImageTower(folder, { ...request, provider: 'cpu' }, hooks);
    const fallbacks = [...info.fallbacks, { provider, reason }];
    return { ...onCpu, runtime: { ...onCpu.runtime, requested: request.provider, fallbacks } };
  };

  let setting: TowerSetting;
  let tuning: EmbeddingRuntime['tuning'];
  let trials: Trial[] = [];
  if (request.threads !== undefined && request.batchSize !== undefined) {
    setting = { threads: request.threads, batchSize: request.batchSize };
    tuning = 'given';
  } else if (remembered) {
    setting = { threads: request.threads ?? remembered.threads, batchSize: request.batchSize ?? remembered.batchSize };
    tuning = 'remembered';
  } else if (request.calibrationFile && !flags) {
    hooks.onStatus?.('Measuring the fastest settings on this computer (first run only, a few seconds)…');
    const candidates = calibrationCandidates(provider, cores);
    // A model with a fixed batch size runs that size whatever the batch: only its threads are worth measuring.
    if (info.fixedBatch !== null) candidates.batchSizes = [DEFAULT_BATCH];
    let measured: Awaited<ReturnType<typeof calibrate>>;
    try {
      measured = await calibrate(candidates, hooks.measure ?? timedRuns(folder, model, firstThreads, provider, open));
    } catch (error) {
      if (provider === 'cpu') throw error;
      return fallBackToCpu(`no batch size ran: ${conciseReason(error)}`);
    }
    const { best } = measured;
    trials = measured.trials;
    await rememberSetting(request.calibrationFile, key, best);
    setting = { threads: best.threads, batchSize: best.batchSize };
    tuning = 'calibrated';
  } else {
    setting = { threads: firstThreads, batchSize: request.batchSize ?? DEFAULT_BATCH };
    tuning = flags ? 'given' : 'default';
  }

  let fallbacks = info.fallbacks;
  let runsOn: ExecutionProvider = provider;
  // The open model's batch cap need not match: the pipeline hands it one batch per call.
  if (setting.threads !== firstThreads) {
    await model.release();
    model = await open(setting.threads, provider, setting.batchSize);
    const reopened = await model.visualInfo();
    fallbacks = [...fallbacks, ...reopened.fallbacks];
    runsOn = reopened.provider;
  }
  if (runsOn !== 'cpu' && tuning !== 'calibrated') {
    // The warm-up ran one image; a GPU may still fail at the real batch size (memory). Calibration ran it already.
    const { width, height } = folder.preprocessCfg;
    try {
      await model.embedImages(Array.from({ length: setting.batchSize }, () => new Float32Array(3 * width * height)));
    } catch (error) {
      return fallBackToCpu(`a first batch of ${setting.batchSize} failed: ${conciseReason(error)}`);
    }
  }
  return { model, runtime: { requested: request.provider, provider: runsOn, fallbacks, ...setting, tuning }, trials };
}

/**
 * Times the tower at a setting: one untimed run of the batch (first-run allocations), then at least 16 images
 * timed. Thread counts other than the open model's get a session of their own for the measurement.
 */
function timedRuns(
  folder: ModelFolder,
  openModel: ClipModel,
  openThreads: number,
  provider: ExecutionProvider,
  open: (threads: number, provider: ProviderChoice, maxBatch: number) => Promise<ClipModel>,
): MeasureSetting {
  const { width, height } = folder.preprocessCfg;
  const image = Float32Array.from({ length: 3 * width * height }, (_, i) => Math.sin(i) * 1.5);
  return async ({ threads, batchSize }) => {
    const model = threads === openThreads ? openModel : await open(threads, provider, batchSize);
    try {
      const batch = Array.from({ length: batchSize }, () => image);
      await model.embedImages(batch);
      const rounds = Math.max(1, Math.ceil(16 / batchSize));
      const started = performance.now();
      for (let i = 0; i < rounds; i++) await model.embedImages(batch);
      return (rounds * batchSize * 1000) / Math.max(1e-3, performance.now() - started);
    } finally {
      if (model !== openModel) await model.release();
    }
  };
}
