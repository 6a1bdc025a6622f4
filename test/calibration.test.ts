// Calibration: the fastest setting wins under controlled timings (an injected measurement, not a timed test), the
// result is remembered per machine, model and provider and reused, and settings the user gives win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { calibrate, calibrationCandidates, type TowerSetting } from '../src/main/core/embed/calibration.js';
import { rememberedSetting } from '../src/main/core/embed/calibration-store.js';
import { prepareImageTower } from '../src/main/core/embed/image-tower-setup.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { unavailableReason } from '../src/main/core/model/execution-providers.js';
import { buildTestModel } from './helpers/test-model.js';
import { tempDir } from './helpers/fixtures.js';

/** Images per second from a table; a setting the table lacks fails the test. */
function table(rates: Record<string, number>) {
  const asked: string[] = [];
  const measure = async ({ threads, batchSize }: TowerSetting): Promise<number> => {
    const key = `${threads}x${batchSize}`;
    asked.push(key);
    assert.ok(key in rates, `measured ${key}, not in the table`);
    return rates[key];
  };
  return { measure, asked };
}

test('calibration: candidates per provider', () => {
  assert.deepEqual(calibrationCandidates('cpu', 2), { threads: [2, 1], batchSizes: [16, 8, 32] });
  assert.deepEqual(calibrationCandidates('cpu', 16), { threads: [16, 8], batchSizes: [16, 8, 32] });
  assert.deepEqual(calibrationCandidates('cpu', 1), { threads: [1], batchSizes: [16, 8, 32] });
  assert.deepEqual(calibrationCandidates('cuda', 16), { threads: [16], batchSizes: [16, 32, 64] });
});

test('calibration: batch sizes at the first thread count, then other thread counts at the best batch; the fastest wins', async () => {
  const { measure, asked } = table({ '2x16': 40, '2x8': 49, '2x32': 47, '1x8': 30 });
  const { best, trials } = await calibrate({ threads: [2, 1], batchSizes: [16, 8, 32] }, measure);
  assert.deepEqual(asked, ['2x16', '2x8', '2x32', '1x8']);
  assert.deepEqual(best, { threads: 2, batchSize: 8, imagesPerSecond: 49 });
  assert.equal(trials.length, 4);

  // Fewer threads faster (SMT siblings): the thread count changes too.
  const smt = table({ '16x8': 100, '16x16': 110, '16x32': 90, '8x16': 140 });
  assert.deepEqual((await calibrate({ threads: [16, 8], batchSizes: [8, 16, 32] }, smt.measure)).best, { threads: 8, batchSize: 16, imagesPerSecond: 140 });
  // Less than 5% faster is noise: the first (default) setting stays; 5% or more replaces it.
  const close = table({ '2x16': 50, '2x8': 52.4, '2x32': 52.6 });
  assert.deepEqual((await calibrate({ threads: [2], batchSizes: [16, 8, 32] }, close.measure)).best, { threads: 2, batchSize: 32, imagesPerSecond: 52.6 });
  const tie = table({ '2x16': 50, '2x8': 52.4 });
  assert.deepEqual((await calibrate({ threads: [2], batchSizes: [16, 8] }, tie.measure)).best, { threads: 2, batchSize: 16, imagesPerSecond: 50 });
  await assert.rejects(calibrate({ threads: [], batchSizes: [8] }, tie.measure), /nothing to calibrate/);
  // A tower faster than decoding could ever feed it keeps the first setting after one measurement.
  const tiny = table({ '2x16': 5000 });
  assert.deepEqual(await calibrate({ threads: [2, 1], batchSizes: [16, 8, 32] }, tiny.measure),
    { best: { threads: 2, batchSize: 16, imagesPerSecond: 5000 }, trials: [{ threads: 2, batchSize: 16, imagesPerSecond: 5000 }] });
  assert.deepEqual(tiny.asked, ['2x16']);
  // A setting that fails (a GPU out of memory at batch 64) is never picked; nothing running throws the first failure.
  const oom = async ({ batchSize }: TowerSetting): Promise<number> => {
    if (batchSize === 64) throw new Error('CUDA out of memory');
    return batchSize;
  };
  const gpu = await calibrate({ threads: [8], batchSizes: [16, 32, 64] }, oom);
  assert.deepEqual(gpu.best, { threads: 8, batchSize: 32, imagesPerSecond: 32 });
  assert.deepEqual(gpu.trials[2], { threads: 8, batchSize: 64, imagesPerSecond: 0, error: 'CUDA out of memory' });
  await assert.rejects(calibrate({ threads: [8], batchSizes: [64] }, oom), /CUDA out of memory/);
});

async function setup(t: { after: (fn: () => void) => void }) {
  const dir = tempDir(t, 'calibration-');
  const folder = await loadModelFolder(await buildTestModel(path.join(dir, 'model')));
  return { folder, file: path.join(dir, 'home', 'calibration.json') };
}

test('calibration: the first run measures and remembers; the next reuses it without measuring', async (t) => {
  const { folder, file } = await setup(t);
  const statuses: string[] = [];
  // Half the cores and batches of 16 are fastest (on one core, one thread is all there is).
  const cores = os.availableParallelism();
  const fewer = Math.ceil(cores / 2);
  const first = { measure: async ({ threads, batchSize }: TowerSetting) => (threads === fewer ? 25 : 10) + (batchSize === 16 ? 10 : 0) };
  const opened = await prepareImageTower(folder, { provider: 'cpu', calibrationFile: file }, { measure: first.measure, onStatus: (m) => statuses.push(m) });
  t.after(() => opened.model.release());
  assert.deepEqual(opened.runtime, { requested: 'cpu', provider: 'cpu', fallbacks: [], threads: fewer, batchSize: 16, tuning: 'calibrated' });
  assert.equal(statuses.length, 1);
  assert.match(statuses[0], /Measuring/);
  assert.deepEqual(rememberedSetting(file, { modelId: folder.modelId, modelBytes: sizeOf(folder.visualModelPath), provider: 'cpu' }),
    { threads: fewer, batchSize: 16, imagesPerSecond: 35 });
  // The model runs at the chosen setting.
  assert.equal((await opened.model.embedImages([new Float32Array(3 * 32 * 32)])).length, 1);

  const never = async (): Promise<number> => assert.fail('a remembered setting is not measured again');
  const again = await prepareImageTower(folder, { provider: 'cpu', calibrationFile: file }, { measure: never });
  t.after(() => again.model.release());
  assert.deepEqual({ threads: again.runtime.threads, batchSize: again.runtime.batchSize, tuning: again.runtime.tuning }, { threads: fewer, batchSize: 16, tuning: 'remembered' });

  // CUDA asked for on a machine without it runs on the CPU: the CPU's figures apply.
  if (unavailableReason('cuda') !== null) {
    const viaCuda = await prepareImageTower(folder, { provider: 'cuda', calibrationFile: file }, { measure: never });
    t.after(() => viaCuda.model.release());
    assert.deepEqual([viaCuda.runtime.provider, viaCuda.runtime.tuning, viaCuda.runtime.fallbacks[0]?.provider], ['cpu', 'remembered', 'cuda']);
  }
});

test('calibration: settings the user gives win over remembered ones, and nothing is measured', async (t) => {
  const { folder, file } = await setup(t);
  const never = async (): Promise<number> => assert.fail('flags given: nothing is measured');
  const seed = await prepareImageTower(folder, { provider: 'cpu', calibrationFile: file }, { measure: async ({ threads, batchSize }) => threads * 100 + batchSize });
  await seed.model.release();
  const stored = readFileSync(file, 'utf8');
  const remembered = seed.runtime;

  const both = await prepareImageTower(folder, { provider: 'cpu', threads: 1, batchSize: 4, calibrationFile: file }, { measure: never });
  await both.model.release();
  assert.deepEqual({ threads: both.runtime.threads, batchSize: both.runtime.batchSize, tuning: both.runtime.tuning }, { threads: 1, batchSize: 4, tuning: 'given' });

  const batchOnly = await prepareImageTower(folder, { provider: 'cpu', batchSize: 4, calibrationFile: file }, { measure: never });
  await batchOnly.model.release();
  assert.deepEqual({ threads: batchOnly.runtime.threads, batchSize: batchOnly.runtime.batchSize }, { threads: remembered.threads, batchSize: 4 });
  assert.equal(readFileSync(file, 'utf8'), stored, 'flags change nothing remembered');

  // A flag with nothing remembered: the other setting takes its default, still without measuring.
  const fresh = await prepareImageTower(folder, { provider: 'cpu', threads: 1, calibrationFile: path.join(path.dirname(file), 'none.json') }, { measure: never });
  await fresh.model.release();
  assert.deepEqual({ threads: fresh.runtime.threads, batchSize: fresh.runtime.batchSize, tuning: fresh.runtime.tuning }, { threads: 1, batchSize: 16, tuning: 'given' });
});

test('calibration: without a file nothing is measured; a corrupt file is measured again and rewritten', async (t) => {
  const { folder, file } = await setup(t);
  const never = async (): Promise<number> => assert.fail('no calibration file: nothing is measured');
  const plain = await prepareImageTower(folder, { provider: 'cpu' }, { measure: never });
  await plain.model.release();
  assert.equal(plain.runtime.tuning, 'default');
  assert.equal(plain.runtime.batchSize, 16);

  await prepareImageTower(folder, { provider: 'cpu', calibrationFile: file }, { measure: async () => 1 }).then((o) => o.model.release());
  writeFileSync(file, '{ "version": 1, "entries": ');
  let measured = 0;
  const again = await prepareImageTower(folder, { provider: 'cpu', calibrationFile: file }, { measure: async () => ++measured });
  await again.model.release();
  assert.equal(again.runtime.tuning, 'calibrated');
  assert.ok(measured > 0);
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { version: number }).version, 1);
});

function sizeOf(file: string): number {
  return readFileSync(file).length;
}
