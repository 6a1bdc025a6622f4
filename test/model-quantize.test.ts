// The int8 image tower (issue 12): dynamic quantization of MatMul/Gemm weights, the derived model folder
// and `index --precision int8`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { quantizeColumns, quantizeOnnxFile } from '../src/main/core/model/int8/quantize-onnx.js';
import { deriveInt8Folder, INT8_MARKER, int8FolderFor, readInt8Marker, weightBitsForThisCpu } from '../src/main/core/model/int8/int8-folder.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';
import { cosine, prng, randomRows, runNode, tempDir } from './helpers/fixtures.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/photo-search.js');
const SIZE = 8;
const FEATURES = 3 * SIZE * SIZE;
const HIDDEN = 64;
const DIM = 16;

/**
 * An image tower with both weighted forms: Flatten → Gemm (transB, alpha 0.5, beta 2, bias) → Relu → MatMul,
 * optionally L2-normalised. The Gemm weight lives in an external data file, as the architecture model's do.
 */
function writeTower(dir: string, seed: number, normalise: boolean): void {
  const random = prng(seed);
  const uniform = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  const gemmWeight = uniform(HIDDEN * FEATURES, 1 / Math.sqrt(FEATURES)); // [HIDDEN, FEATURES]: transB
  const bias = uniform(HIDDEN, 0.5);
  const projection = uniform(HIDDEN * DIM, 1 / Math.sqrt(HIDDEN));
  const bytes = (v: Float32Array): Uint8Array => new Uint8Array(v.buffer);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.onnx.data'), bytes(gemmWeight));
  const attr = (name: string, value: number, float = false): OnnxTypes.IAttributeProto => float
    ? { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value }
    : { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
  const output = normalise ? 'projected' : 'embedding';
  const model = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'quantize_test_visual',
      node: [
        { opType: 'Flatten', input: ['image'], output: ['flat'], attribute: [attr('axis', 1)] },
        { opType: 'Gemm', input: ['flat', 'gemm.weight', 'gemm.bias'], output: ['hidden'], name: 'gemm',
          attribute: [attr('transB', 1), attr('alpha', 0.5, true), attr('beta', 2, true)] },
        { opType: 'Relu', input: ['hidden'], output: ['active'] },
        { opType: 'MatMul', input: ['active', 'projection'], output: [output], name: 'projection' },
        ...(normalise ? [
          { opType: 'ReduceL2', input: ['projected'], output: ['norm'], attribute: [{ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [1] }, attr('keepdims', 1)] },
          { opType: 'Div', input: ['projected', 'norm'], output: ['embedding'] },
        ] : []),
      ],
      initializer: [
        { name: 'gemm.weight', dims: [HIDDEN, FEATURES], dataType: FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [{ key: 'location', value: 'model.onnx.data' }, { key: 'offset', value: '0' }, { key: 'length', value: String(gemmWeight.byteLength) }] },
        { name: 'gemm.bias', dims: [HIDDEN], dataType: FLOAT, rawData: bytes(bias) },
        { name: 'projection', dims: [HIDDEN, DIM], dataType: FLOAT, rawData: bytes(projection) },
      ],
      input: [{ name: 'image', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 3 }, { dimValue: SIZE }, { dimValue: SIZE }] } } } }],
      output: [{ name: 'embedding', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: DIM }] } } } }],
    },
  }).finish();
  writeFileSync(path.join(dir, 'model.onnx'), model);
}

/** A model folder (test tokenizer and text tower) whose image tower is writeTower's. */
async function buildFolder(dir: string, seed: number): Promise<string> {
  await buildTestModel(dir, { imageSize: SIZE, dim: DIM });
  writeTower(path.join(dir, 'visual'), seed, true);
  return dir;
}

async function run(modelPath: string, images: Float32Array, batch: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ image: new ort.Tensor('float32', images, [batch, 3, SIZE, SIZE]) });
    return out.embedding.data as Float32Array;
  } finally {
    await session.release();
  }
}

function opTypes(modelPath: string): { ops: string[]; weightedFloat: string[]; int8Weights: number } {
  const model = onnx.ModelProto.decode(readFileSync(modelPath));
  const initializers = new Map(model.graph!.initializer!.map((t) => [t.name!, t]));
  const weightedFloat = model.graph!.node!
    .filter((n) => (n.opType === 'MatMul' || n.opType === 'Gemm') && initializers.get(n.input![1])?.dataType === FLOAT)
    .map((n) => n.name!);
  const int8Weights = model.graph!.initializer!.filter((t) => t.dataType === onnx.TensorProto.DataType.INT8 && t.dims!.length === 2).length;
  return { ops: model.graph!.node!.map((n) => n.opType!), weightedFloat, int8Weights };
}

for (const form of ['integer-ops', 'contrib'] as const) {
  test(`quantizeOnnxFile (${form}): MatMul and Gemm (transB, alpha, beta, bias) run on int8 weights and match float32`, async (t) => {
    const root = tempDir(t, 'quantize-');
    writeTower(path.join(root, 'fp32'), 7, false);
    mkdirSync(path.join(root, 'int8'));
    const summary = quantizeOnnxFile(path.join(root, 'fp32/model.onnx'), path.join(root, 'int8/model.onnx'), { form });
    assert.equal(summary.quantized, 2);
    assert.deepEqual(summary.kept, []);
    assert.equal(summary.floatWeightBytes, (HIDDEN * FEATURES + HIDDEN * DIM) * 4);

    const graph = opTypes(path.join(root, 'int8/model.onnx'));
    assert.deepEqual(graph.weightedFloat, [], 'no float32 MatMul or Gemm on a weight is left');
    assert.ok(!graph.ops.includes('Gemm') && !graph.ops.includes('MatMul'), graph.ops.join(' '));
    assert.equal(graph.int8Weights, 2);
    if (form === 'contrib') assert.equal(graph.ops.filter((op) => op === 'DynamicQuantizeMatMul').length, 2);
    else {
      assert.equal(graph.ops.filter((op) => op === 'MatMulInteger').length, 2);
      assert.equal(graph.ops.filter((op) => op === 'DynamicQuantizeLinear').length, 2);
    }

    // Raw (unnormalised) outputs: a wrong alpha, beta, bias or transpose would show as a large error.
    const batch = 16;
    const images = randomRows(batch, FEATURES, 11);
    const expected = await run(path.join(root, 'fp32/model.onnx'), images, batch);
    const actual = await run(path.join(root, 'int8/model.onnx'), images, batch);
    const scale = Math.max(...expected.map(Math.abs));
    for (let b = 0; b < batch; b++) {
      const e = expected.subarray(b * DIM, (b + 1) * DIM);
      const a = actual.subarray(b * DIM, (b + 1) * DIM);
      assert.ok(cosine(e, a) > 0.995, `row ${b}: cosine ${cosine(e, a)}`);
      for (let j = 0; j < DIM; j++) assert.ok(Math.abs(e[j] - a[j]) < 0.05 * scale, `row ${b} [${j}]: ${a[j]} vs ${e[j]}`);
    }
  });
}

test('quantizeColumns: symmetric per-column int8, the same for a weight stored transposed', () => {
  const [k, n] = [5, 3];
  const w = Float32Array.from({ length: k * n }, (_, i) => Math.sin(i * 1.7) * (1 + (i % n)));
  w[2 * n + 1] = 0; // column 1 keeps a zero
  const transposed = new Float32Array(k * n);
  for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) transposed[c * k + r] = w[r * n + c];
  const a = quantizeColumns(w, k, n);
  const b = quantizeColumns(transposed, n, k, { transposed: true });
  assert.deepEqual([...a.values], [...b.values]);
  assert.deepEqual([...a.scales], [...b.scales]);
  for (let c = 0; c < n; c++) {
    let maxAbs = 0;
    for (let r = 0; r < k; r++) maxAbs = Math.max(maxAbs, Math.abs(w[r * n + c]));
    assert.ok(Math.abs(a.scales[c] - maxAbs / 127) < 1e-6);
    for (let r = 0; r < k; r++) {
      assert.ok(Math.abs(a.values[r * n + c] * a.scales[c] - w[r * n + c]) <= a.scales[c] / 2 + 1e-6);
    }
  }
  assert.equal(a.values[2 * n + 1], 0);
  assert.equal(Math.max(...a.values.map(Math.abs)), 127);
  assert.deepEqual([...quantizeColumns(w, k, n, { alpha: -2 }).scales], [...a.scales].map((s) => Math.fround(s * -2)));
  // 7 bits (x86-64 without VNNI): ±63, twice the step
  const reduced = quantizeColumns(w, k, n, { bits: 7 });
  assert.equal(Math.max(...reduced.values.map(Math.abs)), 63);
  reduced.scales.forEach((s, c) => assert.ok(Math.abs(s - (a.scales[c] * 127) / 63) < 1e-6));
});

test('deriveInt8Folder: a loadable folder, reused while the source is unchanged, made again when it changes', async (t) => {
  const root = tempDir(t, 'int8-folder-');
  const modelsDir = path.join(root, 'models');
  const source = await buildFolder(path.join(root, 'tiny-clip'), 3);
  const derivations: string[] = [];
  const options = { modelsDir, onDerive: (dir: string) => derivations.push(dir) };

  const dir = await deriveInt8Folder(source, options);
  assert.equal(dir, int8FolderFor(source, modelsDir));
  assert.ok(dir.startsWith(path.join(modelsDir, 'derived') + path.sep));
  assert.equal(derivations.length, 1);
  const folder = await loadModelFolder(dir);
  assert.equal(folder.dim, DIM);
  assert.deepEqual(opTypes(folder.visualModelPath).weightedFloat, []);
  assert.equal(readFileSync(folder.tokenizerPath, 'utf8'), readFileSync(path.join(source, 'textual/tokenizer.json'), 'utf8'));
  assert.equal(readInt8Marker(dir)?.source, source);
  assert.equal(readInt8Marker(dir)?.weightBits, weightBitsForThisCpu());
  assert.equal(readInt8Marker(source), null);

  // The int8 folder embeds like its source: same direction for the same pixels.
  const images = randomRows(4, FEATURES, 5);
  const fp32 = await run(path.join(source, 'visual/model.onnx'), images, 4);
  const int8 = await run(folder.visualModelPath, images, 4);
  for (let b = 0; b < 4; b++) assert.ok(cosine(fp32.subarray(b * DIM, (b + 1) * DIM), int8.subarray(b * DIM, (b + 1) * DIM)) > 0.995);

  const markerTime = statSync(path.join(dir, INT8_MARKER)).mtimeMs;
  assert.equal(await deriveInt8Folder(source, options), dir);
  assert.equal(derivations.length, 1, 'reused');
  assert.equal(statSync(path.join(dir, INT8_MARKER)).mtimeMs, markerTime);

  // New weights in the source: made again, and the new folder follows them.
  writeTower(path.join(source, 'visual'), 4, true);
  const later = new Date(Date.now() + 5000);
  utimesSync(path.join(source, 'visual/model.onnx'), later, later);
  assert.equal(await deriveInt8Folder(source, options), dir);
  assert.equal(derivations.length, 2, 'made again');
  const renewed = await run(path.join(dir, 'visual/model.onnx'), images, 4);
  const newFp32 = await run(path.join(source, 'visual/model.onnx'), images, 4);
  assert.ok(cosine(renewed.subarray(0, DIM), newFp32.subarray(0, DIM)) > 0.995);
  assert.ok(cosine(renewed.subarray(0, DIM), int8.subarray(0, DIM)) < 0.99, 'not the old weights');

  // Other weight bits (another CPU) make it again too.
  const otherBits = weightBitsForThisCpu() === 8 ? 7 : 8;
  await deriveInt8Folder(source, { ...options, weightBits: otherBits });
  assert.equal(derivations.length, 3);
  assert.equal(readInt8Marker(dir)?.weightBits, otherBits);

  // Two derivations at once (two libraries indexing): one folder, loadable, no scratch left behind.
  const otherModels = path.join(root, 'models-2');
  const both = await Promise.all([deriveInt8Folder(source, { modelsDir: otherModels }), deriveInt8Folder(source, { modelsDir: otherModels })]);
  assert.equal(both[0], both[1]);
  await loadModelFolder(both[0]);
  assert.deepEqual(readdirSync(path.dirname(both[0])), [path.basename(both[0])]);

  await assert.rejects(deriveInt8Folder(dir, options), /already an int8 model folder/);
  await assert.rejects(deriveInt8Folder(path.join(root, 'nothing'), options), /does not exist/);
});

test('cli: index --precision int8 stores its vectors under their own model id, beside the fp32 ones', async (t) => {
  const root = tempDir(t, 'int8-cli-');
  const modelsDir = path.join(root, 'models');
  const model = await buildFolder(path.join(root, 'tiny-clip'), 9);
  const photos = path.join(root, 'photos');
  const colours = Object.values(COLOURS).slice(0, 6);
  for (const [i, rgb] of colours.entries()) await writeSolidPhoto(path.join(photos, `p${i}.png`), rgb, 24);
  const library = path.join(root, 'library');
  const env = { ...process.env, PHOTO_SEARCH_MODELS_DIR: modelsDir, PHOTO_SEARCH_HOME: path.join(root, 'home') };
  const cli = (...args: string[]): ReturnType<typeof runNode> => runNode([BIN, 'index', ...args, '--json', '--threads', '1', '--library', library], env);

  const bad = await cli(photos, '--model', model, '--precision', 'int4');
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--precision must be fp32 or int8, got 'int4'/);

  const fp32 = await cli(photos, '--model', model, '--precision', 'fp32');
  assert.equal(fp32.code, 0, fp32.stderr);
  const int8 = await cli(photos, '--model', model, '--precision', 'int8');
  assert.equal(int8.code, 0, int8.stderr);
  assert.match(int8.stderr, /Quantizing the image tower/);
  assert.equal((JSON.parse(int8.stdout) as { embedded: number }).embedded, colours.length, 'int8 embeds every photo again');
  // Without --precision, a library on the int8 model stays on it: nothing left to embed.
  const again = await cli(photos);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { embedded: number }).embedded, 0);
  assert.doesNotMatch(again.stderr, /Quantizing/, 'the derived folder is reused');
  // The derived folder given as --model stands for its source at int8: the same model id, nothing to embed.
  const derived = await cli(photos, '--model', int8FolderFor(model, modelsDir));
  assert.equal(derived.code, 0, derived.stderr);
  assert.equal((JSON.parse(derived.stdout) as { embedded: number }).embedded, 0);

  const db = new Database(path.join(library, 'catalogue.sqlite'), { readonly: true });
  t.after(() => db.close());
  const rows = db.prepare('SELECT model_id AS model, photo_id AS photo, vector FROM embeddings ORDER BY photo_id').all() as { model: string; photo: number; vector: Buffer }[];
  const models = [...new Set(rows.map((r) => r.model))];
  assert.equal(models.length, 2, models.join(', '));
  const int8Model = models.find((m) => m.endsWith('+int8'));
  assert.ok(int8Model, models.join(', '));
  for (const m of models) assert.equal(rows.filter((r) => r.model === m).length, colours.length);
  const vector = (b: Buffer): Float32Array => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  for (const photo of new Set(rows.map((r) => r.photo))) {
    const [a, b] = rows.filter((r) => r.photo === photo).map((r) => vector(r.vector));
    assert.ok(cosine(a, b) > 0.99, `photo ${photo}: int8 vs fp32 cosine ${cosine(a, b)}`);
  }
});
