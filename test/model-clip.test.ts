import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ClipModel, ModelLoadError } from '../src/main/core/model/clip-model.js';
import { decodeForEmbedding } from '../src/main/core/model/preprocess.js';
import { COLOURS, buildTestModel, writeSolidPhoto, writeSplitPhoto } from './helpers/test-model.js';

const SHARED = fileURLToPath(new URL('../../../shared', import.meta.url));
const ARCH_SOURCE = join(SHARED, 'models/clip-vit-b32-arch');
/** Where the weights are written when ../shared is read-only (the benchmarks use the same place). */
const ARCH_CACHE = join(tmpdir(), 'photo-search-clip-vit-b32-arch');
const materialised = (dir: string): boolean => existsSync(join(dir, 'visual/model.onnx.data')) && existsSync(join(dir, 'textual/model.onnx.data'));
const ARCH = [ARCH_SOURCE, process.env.PHOTO_SEARCH_ARCH_MODEL ?? '', ARCH_CACHE].find((dir) => dir && materialised(dir))
  ?? (existsSync(join(ARCH_SOURCE, 'materialize.mjs')) ? ARCH_CACHE : undefined);

let tmp: string;
let modelDir: string;
const words = Object.keys(COLOURS);
const photoTensors: Float32Array[] = [];

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'model-clip-'));
  modelDir = await buildTestModel(join(tmp, 'tiny'));
  const model = await ClipModel.load(modelDir);
  for (const word of words) {
    const path = await writeSolidPhoto(join(tmp, `${word}.jpg`), COLOURS[word], { width: 80, height: 60 });
    photoTensors.push((await decodeForEmbedding(path, model.folder.preprocessCfg)).tensor);
  }
});
after(async () => rm(tmp, { recursive: true, force: true }));

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function assertUnit(v: Float32Array): void {
  assert.ok(Math.abs(Math.sqrt(dot(v, v)) - 1) < 1e-5, `norm ${Math.sqrt(dot(v, v))}`);
}

function rank(query: Float32Array, images: Float32Array[]): number[] {
  return images.map((v, i) => [dot(query, v), i]).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
}

test('colour words find their photos, end to end (tokenizer + preprocess + ONNX)', async () => {
  const model = await ClipModel.load(modelDir, { threads: 1 });
  const images = await model.embedImages(photoTensors);
  assert.equal(images.length, words.length);
  images.forEach(assertUnit);
  const queries = await model.embedTexts([...words, ...words.map((w) => `a photo of something ${w.toUpperCase()}`)]);
  queries.forEach(assertUnit);
  queries.forEach((query, i) => {
    const word = words[i % words.length];
    assert.equal(words[rank(query, images)[0]], word, `query ${i} (${word}) should rank the ${word} photo first`);
  });
  // a half-red, half-blue photo sits between "red" and "blue", far from "green"
  const split = await writeSplitPhoto(join(tmp, 'split.png'), COLOURS.red, COLOURS.blue, { width: 64, height: 64 });
  const [mixed] = await model.embedImages([(await decodeForEmbedding(split, model.folder.preprocessCfg)).tensor]);
  const [red, blue, green] = await model.embedTexts(['red', 'blue', 'green']);
  assert.ok(dot(mixed, red) > dot(mixed, green) && dot(mixed, blue) > dot(mixed, green));
  await model.release();
});

test('dynamic batches, chunked batches and a fixed batch of 1 give the same vectors', async () => {
  const dynamic = await ClipModel.load(modelDir, { threads: 1 });
  assert.equal((await dynamic.visualInfo()).fixedBatch, null);
  const expected = await dynamic.embedImages(photoTensors);

  const chunked = await ClipModel.load(modelDir, { threads: 1, maxBatch: 3 });
  const fixedDir = await buildTestModel(join(tmp, 'fixed'), { fixedBatch: true });
  const fixed = await ClipModel.load(fixedDir, { threads: 1 });
  assert.equal((await fixed.visualInfo()).fixedBatch, 1);
  assert.equal((await fixed.textualInfo()).fixedBatch, 1);
  for (const model of [chunked, fixed]) {
    const actual = await model.embedImages(photoTensors);
    actual.forEach((v, i) => v.forEach((x, k) => assert.ok(Math.abs(x - expected[i][k]) < 1e-5)));
  }
  const texts = ['red', 'blue', 'a green thing'];
  const a = await dynamic.embedTexts(texts);
  const b = await fixed.embedTexts(texts);
  a.forEach((v, i) => v.forEach((x, k) => assert.ok(Math.abs(x - b[i][k]) < 1e-5)));
  await Promise.all([dynamic.release(), chunked.release(), fixed.release()]);
});

test('reads names and types from the model: int64 text input works too', async () => {
  const dir = await buildTestModel(join(tmp, 'int64'), { textType: 'int64' });
  const model = await ClipModel.load(dir, { threads: 1 });
  const info = await model.textualInfo();
  assert.deepEqual([info.inputName, info.outputName], ['text', 'embedding']);
  const [red] = await model.embedTexts(['red']);
  const [redPhoto] = await model.embedImages([photoTensors[words.indexOf('red')]]);
  assert.ok(dot(red, redPhoto) > 0.999);
  await model.release();
});

test('towers load lazily: text search works even when the image tower is broken', async () => {
  const dir = join(tmp, 'broken-visual');
  await cp(modelDir, dir, { recursive: true });
  await writeFile(join(dir, 'visual/model.onnx'), 'not an onnx model');
  const model = await ClipModel.load(dir, { threads: 1 });
  const [red] = await model.embedTexts(['red']);
  assertUnit(red);
  await assert.rejects(model.embedImages([photoTensors[0]]), (err: Error) => {
    assert.ok(err instanceof ModelLoadError);
    assert.match(err.message, /cannot load the visual model .*visual\/model\.onnx/);
    return true;
  });
  await model.release();
});

test('bad input is rejected clearly; empty input gives empty output', async () => {
  const model = await ClipModel.load(modelDir, { threads: 1 });
  await assert.rejects(model.embedImages([new Float32Array(10)]), /image 0 has 10 values; the model takes 3x32x32 = 3072/);
  assert.deepEqual(await model.embedImages([]), []);
  assert.deepEqual(await model.embedTexts([]), []);
  await model.release();
});

test('a model whose input size disagrees with preprocess_cfg.json is refused', async () => {
  const dir = join(tmp, 'mismatch');
  await cp(modelDir, dir, { recursive: true });
  await buildTestModel(join(tmp, 'size48'), { imageSize: 48 });
  await cp(join(tmp, 'size48/visual/model.onnx'), join(dir, 'visual/model.onnx'));
  const model = await ClipModel.load(dir, { threads: 1 });
  await assert.rejects(model.embedImages([photoTensors[0]]), /shape \[batch, 3, 48, 48\], but the folder's config says \[batch, 3, 32, 32\]/);
  await model.release();
});

test('the ViT-B/32 architecture model runs (512-d, normalised)', { skip: ARCH ? false : 'no clip-vit-b32-arch model (../shared or PHOTO_SEARCH_ARCH_MODEL)' }, async (t) => {
  // Deterministic weights, ~600 MB, a few seconds to write.
  if (!materialised(ARCH!)) execFileSync(process.execPath, [join(ARCH_SOURCE, 'materialize.mjs'), ARCH_SOURCE, ARCH!], { stdio: 'ignore' });
  const model = await ClipModel.load(ARCH!, { threads: 2 });
  let start = performance.now();
  const texts = await model.embedTexts(['a photo of a dog', 'red']);
  const textMs = performance.now() - start;
  assert.equal(texts[0].length, 512);
  texts.forEach(assertUnit);
  const photo = await writeSolidPhoto(join(tmp, 'arch.jpg'), [200, 100, 50], { width: 400, height: 300 });
  const { tensor } = await decodeForEmbedding(photo, model.folder.preprocessCfg);
  start = performance.now();
  const images = await model.embedImages([tensor, tensor]);
  const imageMs = performance.now() - start;
  assert.equal(images[1].length, 512);
  images.forEach(assertUnit);
  t.diagnostic(`arch model: first text batch ${textMs.toFixed(0)} ms, first image batch of 2 ${imageMs.toFixed(0)} ms (both include session creation)`);
  await model.release();
});
