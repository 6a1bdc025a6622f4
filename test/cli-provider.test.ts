// `photo-search index --provider`: CUDA asked for on a machine without it falls back to the CPU with one clear
// line and the run completes; the library's provider setting is used when no flag is given; bad values refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Library } from '../src/main/core/library.js';
import { setProviderSetting } from '../src/main/core/embed/provider-setting.js';
import { unavailableReason } from '../src/main/core/model/execution-providers.js';
import type { EmbeddingRuntime } from '../src/shared/types.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';
import { runNode, tempDir } from './helpers/fixtures.js';

const BIN = fileURLToPath(new URL('../../bin/photo-search.js', import.meta.url));

async function setup(t: { after: (fn: () => void) => void }) {
  const root = tempDir(t, 'cli-provider-');
  const model = await buildTestModel(path.join(root, 'model'));
  const photos = path.join(root, 'photos');
  for (const [name, rgb] of Object.entries(COLOURS).slice(0, 5)) await writeSolidPhoto(path.join(photos, `${name}.jpg`), rgb);
  const env = { ...process.env, PHOTO_SEARCH_HOME: path.join(root, 'home'), PHOTO_SEARCH_LIBRARY: '' };
  const index = (...args: string[]) => runNode([BIN, 'index', photos, '--model', model, '--library', path.join(root, 'library'), ...args], env);
  return { root, index };
}

const providerLines = (stderr: string): string[] => stderr.split('\n').filter((line) => /embedding on /i.test(line));

test('cli: index --provider cuda on a machine without CUDA says why in one line, embeds on the CPU, and completes', async (t) => {
  if (unavailableReason('cuda') === null) return t.skip('this machine has onnxruntime-node\'s CUDA libraries');
  const { index } = await setup(t);
  const run = await index('--provider', 'cuda', '--json');
  assert.equal(run.code, 0, run.stderr);
  const lines = providerLines(run.stderr);
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0], /^CUDA unavailable \(onnxruntime-node's CUDA libraries are not installed: .+\); embedding on the CPU, \d+ threads?, batches of \d+ \(measured on this computer\)$/);
  assert.doesNotMatch(run.stderr, /onnxruntime::|provider_bridge/, 'ORT\'s own error log stays out of it');
  const summary = JSON.parse(run.stdout) as { embedded: number; runtime: EmbeddingRuntime };
  assert.equal(summary.embedded, 5);
  assert.equal(summary.runtime.requested, 'cuda');
  assert.equal(summary.runtime.provider, 'cpu');
  assert.equal(summary.runtime.fallbacks[0].provider, 'cuda');
  assert.equal(summary.runtime.tuning, 'calibrated');

  // The next run reuses the measurement; flags win over it.
  const again = await index('--provider', 'cpu', '--json');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(providerLines(again.stderr), [`Embedding on the CPU, ${summary.runtime.threads} thread${summary.runtime.threads === 1 ? '' : 's'}, batches of ${summary.runtime.batchSize} (as measured on this computer before)`]);
  const given = await index('--threads', '1', '--batch', '3', '--provider', 'cpu', '--json');
  assert.equal(given.code, 0, given.stderr);
  const runtime = (JSON.parse(given.stdout) as { runtime: EmbeddingRuntime }).runtime;
  assert.deepEqual([runtime.threads, runtime.batchSize, runtime.tuning], [1, 3, 'given']);
});

test('cli: without --provider the library\'s setting applies; a provider the platform lacks falls back with a line', async (t) => {
  if (process.platform === 'win32') return t.skip('DirectML exists on Windows');
  const { root, index } = await setup(t);
  const library = Library.open(path.join(root, 'library'));
  setProviderSetting(library.catalogue, 'dml');
  library.close();
  const run = await index('--threads', '1', '--batch', '4', '--json');
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(providerLines(run.stderr), [`DirectML unavailable (DirectML runs only on Windows, not on ${process.platform === 'darwin' ? 'macOS' : 'Linux'}); embedding on the CPU, 1 thread, batches of 4 (as given)`]);
  assert.equal((JSON.parse(run.stdout) as { runtime: EmbeddingRuntime }).runtime.requested, 'dml');
});

test('cli: index --provider with an unknown value refuses, naming the choices', async (t) => {
  const { index } = await setup(t);
  const run = await index('--provider', 'gpu');
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /--provider must be one of auto, cpu, cuda, dml, coreml, got gpu/);
});
