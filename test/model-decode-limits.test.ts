// Bounded decoding (decode-limits.ts) and per-file decoder errors under parallel decodes (decoder-gate.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  checkDecodeSize, DecodeBudget, decodeMemoryEstimate, ImageTooLargeError, MAX_DECODE_BYTES,
} from '../src/main/core/model/decode-limits.js';
import { SharedExclusiveGate } from '../src/main/core/model/decoder-gate.js';
import { decodeForEmbedding, ImageDecodeError, renderJpeg } from '../src/main/core/model/preprocess.js';
import type { PreprocessCfg } from '../src/main/core/model/model-folder.js';
import { bombGif, corruptFiles } from './helpers/hostile-images.js';

const CFG: PreprocessCfg = {
  width: 224, height: 224, resizeMode: 'shortest', interpolation: 'bicubic',
  mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711], fillColor: 0,
} as PreprocessCfg;

test('decode limits: whole-frame formats are costed by their pixels, streamed ones by a strip', () => {
  const gif = decodeMemoryEstimate({ format: 'gif', width: 16000, height: 16000 });
  assert.ok(gif >= 1.06e9, `a 16000² GIF held 1.06 GB when decoded (estimate ${gif})`);
  assert.throws(() => checkDecodeSize({ format: 'gif', width: 16000, height: 16000 }), (e: unknown) =>
    e instanceof ImageTooLargeError && /16000×16000 GIF, 256 MP, would need about 1221 MB of memory; the limit is 512 MB/.test(e.message));
  // A 48 MP HEIC/HEIF and a 100 MP TIFF scan decode whole, within one decode's allowance.
  assert.ok(checkDecodeSize({ format: 'heif', width: 8064, height: 6048, channels: 3 }) <= MAX_DECODE_BYTES);
  assert.ok(checkDecodeSize({ format: 'tiff', width: 11600, height: 8700, channels: 3 }) <= MAX_DECODE_BYTES);
  // A baseline JPEG and a non-interlaced PNG stream: a 200 MP panorama costs a band of rows, not the image.
  assert.ok(checkDecodeSize({ format: 'jpeg', width: 20000, height: 10000, channels: 3 }) < 128 * 1024 * 1024);
  assert.ok(checkDecodeSize({ format: 'png', width: 16000, height: 16000, channels: 4 }) < 128 * 1024 * 1024);
  // WebP decodes already scaled: the largest there is (16383²) is allowed.
  assert.ok(checkDecodeSize({ format: 'webp', width: 16383, height: 16383, channels: 4 }) <= MAX_DECODE_BYTES);
  // Progressive JPEG keeps its coefficients (4:2:0: 1.5 × 2 bytes a pixel), interlaced PNG its pixels.
  assert.equal(decodeMemoryEstimate({ format: 'jpeg', width: 10000, height: 10000, channels: 3, isProgressive: true, chromaSubsampling: '4:2:0' }), 3e8);
  assert.throws(() => checkDecodeSize({ format: 'png', width: 16000, height: 16000, channels: 4, isProgressive: true }), ImageTooLargeError);
});

test('decode budget: large decodes take turns, small ones pass, every reservation is released', async () => {
  const budget = new DecodeBudget(100);
  const order: string[] = [];
  const job = (name: string, bytes: number, ms: number) => budget.run(bytes, async () => {
    order.push(`start ${name}`);
    await new Promise((r) => setTimeout(r, ms));
    order.push(`end ${name}`);
  });
  await Promise.all([job('a', 60, 30), job('b', 60, 10), job('c', 10, 10), job('huge', 1000, 5)]);
  // b waits for a (60 + 60 > 100); c is queued behind b (first come, first served); huge runs alone.
  assert.deepEqual(order.slice(0, 3), ['start a', 'end a', 'start b']);
  assert.ok(order.indexOf('start huge') > order.indexOf('end c'), 'an over-budget decode runs alone');
  assert.equal(budget.inUse, 0);
});

test('decoder gate: an exclusive run waits for shared ones and holds off later ones', async () => {
  const gate = new SharedExclusiveGate();
  const log: string[] = [];
  const run = (name: string, exclusive: boolean, ms: number) => (exclusive ? gate.runExclusive.bind(gate) : gate.runShared.bind(gate))(async () => {
    log.push(`+${name}`);
    await new Promise((r) => setTimeout(r, ms));
    log.push(`-${name}`);
  });
  const a = run('a', false, 20);
  const b = run('b', false, 20);
  const x = run('x', true, 10);
  const c = run('c', false, 5);
  await Promise.all([a, b, x, c]);
  assert.deepEqual(log.slice(0, 2), ['+a', '+b']);
  const xStart = log.indexOf('+x');
  assert.ok(xStart > log.indexOf('-a') && xStart > log.indexOf('-b'), log.join(' '));
  assert.equal(log[xStart + 1], '-x', 'nothing runs beside the exclusive run');
  assert.ok(log.indexOf('+c') > log.indexOf('-x'), 'a shared run that came later waits for it');
});

test('decode: a decompression-bomb GIF is refused from its header, with a clear message, before any pixel is decoded', async () => {
  const bomb = bombGif(16000, 16000);
  assert.ok(bomb.length < 200_000, `the file is tiny (${bomb.length} bytes)`);
  const before = process.memoryUsage().rss;
  await assert.rejects(decodeForEmbedding(bomb, CFG), (e: unknown) =>
    e instanceof ImageDecodeError && /too large to decode safely \(16000×16000 GIF/.test(e.message));
  await assert.rejects(renderJpeg(bomb, 320, 80), /too large to decode safely/);
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, 'no frame was decoded');
  // A GIF of a sane size still decodes.
  const ok = await decodeForEmbedding(bombGif(2000, 1500, [10, 200, 10]), CFG);
  assert.equal(ok.width, 2000);
  assert.equal(ok.format, 'gif');
});

test('decode errors: under many parallel decodes each corrupt file gets its own message', async () => {
  const files = await corruptFiles();
  const good = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3a6' } }).jpeg().toBuffer();
  const inputs = Array.from({ length: 180 }, (_, i) => (i % 6 === 5 ? { name: 'good.jpg', bytes: good, error: null } : files[i % files.length]));
  const outcomes = await Promise.all(inputs.map((f) => decodeForEmbedding(f.bytes, CFG).then(() => null, (e: Error) => e.message)));
  const wrong = inputs.flatMap((f, i) => {
    const message = outcomes[i];
    if (f.error === null) return message === null ? [] : [`${f.name}: failed: ${message}`];
    return message !== null && f.error.test(message) ? [] : [`${f.name}: ${message}`];
  });
  assert.deepEqual(wrong, [], `${wrong.length} of ${inputs.length} got another file's error (or none)`);
});
