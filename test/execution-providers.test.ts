// Execution providers: the candidates per platform, why one cannot run, and the fallback when one fails to load
// or fails its first run (for real here: this machine has no CUDA libraries; and with an injected session
// factory whose CUDA session loads but throws when run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { ClipModel, type SessionFactory } from '../src/main/core/model/clip-model.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import {
  conciseReason, explainLoadFailure, missingFromLdd, openWithFallback, providerCandidates, unavailableReason, type ProviderEnvironment,
} from '../src/main/core/model/execution-providers.js';
import { describeProvider } from '../src/shared/embedding-runtime.js';
import { prepareImageTower } from '../src/main/core/embed/image-tower-setup.js';
import type { ExecutionProvider } from '../src/shared/types.js';
import { buildTestModel } from './helpers/test-model.js';
import { tempDir } from './helpers/fixtures.js';

test('providers: auto tries the platform\'s providers in order; an explicit one is followed by the CPU', () => {
  assert.deepEqual(providerCandidates('auto', 'linux'), ['cuda', 'cpu']);
  assert.deepEqual(providerCandidates('auto', 'win32'), ['cuda', 'dml', 'cpu']);
  assert.deepEqual(providerCandidates('auto', 'darwin'), ['coreml', 'cpu']);
  assert.deepEqual(providerCandidates('auto', 'freebsd'), ['cpu']);
  assert.deepEqual(providerCandidates('cpu', 'linux'), ['cpu']);
  assert.deepEqual(providerCandidates('dml', 'linux'), ['dml', 'cpu']);
  assert.deepEqual(providerCandidates('cuda', 'darwin'), ['cuda', 'cpu']);
});

test('providers: why one cannot run is known before trying: wrong platform, not compiled in, libraries missing', () => {
  const env = (over: Partial<ProviderEnvironment>): ProviderEnvironment => ({
    platform: 'linux', binDir: '/ort/bin', exists: () => false,
    backends: [{ name: 'cpu', bundled: true }, { name: 'cuda', bundled: false }], ...over,
  });
  assert.equal(unavailableReason('cpu', env({})), null);
  assert.match(unavailableReason('dml', env({}))!, /^DirectML runs only on Windows, not on Linux$/);
  assert.match(unavailableReason('coreml', env({ platform: 'win32' }))!, /^CoreML runs only on macOS, not on Windows$/);
  assert.match(unavailableReason('cuda', env({}))!, /CUDA libraries are not installed: libonnxruntime_providers_cuda\.so and libonnxruntime_providers_shared\.so missing/);
  const present = new Set([path.join('/ort/bin', 'libonnxruntime_providers_cuda.so'), path.join('/ort/bin', 'libonnxruntime_providers_shared.so')]);
  assert.equal(unavailableReason('cuda', env({ exists: (f) => present.has(f) })), null, 'installed: creating the session tells');
  assert.match(unavailableReason('cuda', env({ exists: (f) => f.endsWith('_cuda.so') }))!, /libonnxruntime_providers_shared\.so missing/);
  assert.match(unavailableReason('cuda', env({ platform: 'win32', backends: [{ name: 'cpu', bundled: true }, { name: 'dml', bundled: true }] }))!,
    /this onnxruntime-node build has no CUDA provider/);
  assert.equal(unavailableReason('dml', env({ platform: 'win32', backends: [{ name: 'dml', bundled: true }] })), null);
});

test('providers: CUDA libraries that load but lack CUDA or cuDNN are explained from ldd', () => {
  const ldd = [
    '\tlinux-vdso.so.1 (0x00007ffd)',
    '\tlibcublasLt.so.12 => not found',
    '\tlibcudnn.so.9 => not found',
    '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f36e7c00000)',
  ].join('\n');
  assert.deepEqual(missingFromLdd(ldd), ['libcublasLt.so.12', 'libcudnn.so.9']);
  const env: ProviderEnvironment = { platform: 'linux', binDir: '/ort/bin', exists: () => true, backends: [] };
  const asked: string[] = [];
  const reason = explainLoadFailure('cuda', env, (file) => (asked.push(file), ldd));
  assert.equal(reason, "onnxruntime-node's CUDA provider needs libcublasLt.so.12, libcudnn.so.9, not found: CUDA 12 and cuDNN 9 are required");
  assert.deepEqual(asked, [path.join('/ort/bin', 'libonnxruntime_providers_cuda.so')]);
  assert.equal(explainLoadFailure('cuda', env, () => '\tlibm.so.6 => /lib/libm.so.6'), null, 'nothing missing: ORT\'s own message stands');
  assert.equal(explainLoadFailure('cuda', env, () => null), null, 'no ldd');
  assert.equal(explainLoadFailure('dml', { ...env, platform: 'win32' }, () => ldd), null);
});

test('providers: onnxruntime-node here lists cpu as bundled and cuda as a separate download', () => {
  const backends = ort.listSupportedBackends();
  assert.ok(backends.some((b) => b.name === 'cpu' && b.bundled), JSON.stringify(backends));
  if (process.platform === 'linux' && process.arch === 'x64') {
    assert.ok(backends.some((b) => b.name === 'cuda' && !b.bundled), JSON.stringify(backends));
  }
});

interface FakeSession {
  provider: ExecutionProvider;
  released: boolean;
}

test('fallback: a provider that fails to load, or loads and fails its warm-up, gives way to the next, with why', async () => {
  const made: FakeSession[] = [];
  const result = await openWithFallback<FakeSession>(['cuda', 'dml', 'cpu'], {
    create: async (provider) => {
      if (provider === 'cuda') throw new Error('Failed to load shared library\nmore detail');
      const session = { provider, released: false };
      made.push(session);
      return session;
    },
    warmUp: async (session) => {
      if (session.provider === 'dml') throw new Error('/onnxruntime_src/dml/run.cc:12 DirectML device removed');
    },
    release: async (session) => {
      session.released = true;
    },
  });
  assert.equal(result.provider, 'cpu');
  assert.deepEqual(result.fallbacks, [
    { provider: 'cuda', reason: 'Failed to load shared library' },
    { provider: 'dml', reason: 'DirectML device removed' },
  ]);
  assert.deepEqual(made.map((s) => [s.provider, s.released]), [['dml', true], ['cpu', false]], 'the failed session is released, the chosen one kept');
  assert.equal(describeProvider(result.provider, result.fallbacks),
    'CUDA unavailable (Failed to load shared library); DirectML unavailable (DirectML device removed); embedding on the CPU');
});

test('fallback: the last candidate is not warmed up, and its own error is thrown as is', async () => {
  let warmed = 0;
  const broken = new Error('cannot load the visual model: protobuf parsing failed');
  await assert.rejects(openWithFallback(['cuda', 'cpu'], {
    create: async (provider) => {
      throw provider === 'cuda' ? new Error('no CUDA') : broken;
    },
    warmUp: async () => void warmed++,
    release: async () => undefined,
  }), (error) => error === broken);
  const only = await openWithFallback(['cpu'], { create: async () => 'session', warmUp: async () => void warmed++, release: async () => undefined });
  assert.deepEqual(only, { session: 'session', provider: 'cpu', fallbacks: [] });
  assert.equal(warmed, 0);
});

test('fallback: reasons are one line, from the wrapped ORT error, without colour codes, at most 300 characters', () => {
  const wrapped = new Error('cannot load the visual model /x.onnx: ignored', { cause: new Error('\x1b[1;31mCUDA failure 100: no CUDA-capable device\x1b[m\nstack') });
  assert.equal(conciseReason(wrapped), 'CUDA failure 100: no CUDA-capable device');
  assert.equal(conciseReason(new Error('x'.repeat(400))).length, 300);
});

async function testModelFolder(t: { after: (fn: () => void) => void }) {
  return loadModelFolder(await buildTestModel(path.join(tempDir(t, 'providers-'), 'model')));
}

const image = (value: number): Float32Array => new Float32Array(3 * 32 * 32).fill(value);

/** A real CPU session with some methods replaced: a provider that loads, then fails the way a GPU would. */
function withOverrides(session: InferenceSession, overrides: Partial<Pick<InferenceSession, 'run' | 'release'>>): InferenceSession {
  return new Proxy(session, {
    get(target, name) {
      const override = overrides[name as keyof typeof overrides];
      if (override) return override;
      const value = Reflect.get(target, name, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

test('fallback, for real: CUDA asked for on this machine runs on the CPU, says why, and embeds as the CPU does', async (t) => {
  if (unavailableReason('cuda') === null) return t.skip('this machine has onnxruntime-node\'s CUDA libraries; the fallback is tested with the fake below');
  const folder = await testModelFolder(t);
  const onCuda = await ClipModel.load(folder, { provider: 'cuda', threads: 1 });
  const onCpu = await ClipModel.load(folder, { provider: 'cpu', threads: 1 });
  t.after(() => Promise.all([onCuda.release(), onCpu.release()]));
  const info = await onCuda.visualInfo();
  assert.equal(info.provider, 'cpu');
  assert.equal(info.fallbacks.length, 1);
  assert.equal(info.fallbacks[0].provider, 'cuda');
  assert.match(info.fallbacks[0].reason, /CUDA libraries are not installed/);
  const [a] = await onCuda.embedImages([image(0.3)]);
  const [b] = await onCpu.embedImages([image(0.3)]);
  assert.deepEqual([...a], [...b]);
  assert.deepEqual((await onCpu.visualInfo()).fallbacks, [], 'the CPU asked for: nothing passed over');
});

test('fallback: a provider whose session loads but throws on the first batch gives way to the CPU', async (t) => {
  const folder = await testModelFolder(t);
  const created: { provider: ExecutionProvider; released: boolean }[] = [];
  // The "CUDA" session is a real CPU session whose run fails, as a GPU that loads and then faults would.
  const factory: SessionFactory = async (file, options, provider) => {
    const session = await ort.InferenceSession.create(file, { ...options, executionProviders: ['cpu'] });
    const record = { provider, released: false };
    created.push(record);
    return withOverrides(session, {
      run: provider === 'cuda' ? () => Promise.reject(new Error('CUDA error 700: an illegal memory access was encountered')) : undefined,
      release: () => ((record.released = true), session.release()),
    });
  };
  const model = await ClipModel.load(folder, { provider: 'cuda', createSession: factory, threads: 1 });
  t.after(() => model.release());
  const info = await model.visualInfo();
  assert.equal(info.provider, 'cpu');
  assert.deepEqual(info.fallbacks, [{ provider: 'cuda', reason: 'CUDA error 700: an illegal memory access was encountered' }]);
  assert.deepEqual(created.map((c) => [c.provider, c.released]), [['cuda', true], ['cpu', false]]);
  const [vector] = await model.embedImages([image(0.5)]);
  assert.equal(vector.length, folder.dim);
});

test('fallback: a provider that passes the one-image warm-up but fails a first batch at the chosen size gives way to the CPU', async (t) => {
  const folder = await testModelFolder(t);
  // The "CUDA" session runs one image and fails at more (as a GPU short of memory would).
  const factory: SessionFactory = async (file, options, provider) => {
    const session = await ort.InferenceSession.create(file, { ...options, executionProviders: ['cpu'] });
    if (provider === 'cpu') return session;
    return withOverrides(session, {
      run: (feeds) => Object.values(feeds)[0].dims[0] > 1 ? Promise.reject(new Error('CUDA failure 2: out of memory')) : session.run(feeds),
    });
  };
  const { model, runtime } = await prepareImageTower(folder, { provider: 'cuda', threads: 1, batchSize: 4 }, { createSession: factory });
  t.after(() => model.release());
  assert.deepEqual(runtime, {
    requested: 'cuda', provider: 'cpu', threads: 1, batchSize: 4, tuning: 'given',
    fallbacks: [{ provider: 'cuda', reason: 'a first batch of 4 failed: CUDA failure 2: out of memory' }],
  });
  assert.equal((await model.embedImages([image(0.1), image(0.2), image(0.3), image(0.4)])).length, 4, 'the CPU runs the batch');

  // Calibrating on that provider: every batch size fails, so the CPU is measured instead.
  const file = path.join(tempDir(t, 'providers-cal-'), 'calibration.json');
  const calibrated = await prepareImageTower(folder, { provider: 'cuda', calibrationFile: file }, { createSession: factory });
  t.after(() => calibrated.model.release());
  assert.equal(calibrated.runtime.provider, 'cpu');
  assert.equal(calibrated.runtime.tuning, 'calibrated');
  assert.match(calibrated.runtime.fallbacks[0].reason, /^no batch size ran: .*out of memory/);
});
