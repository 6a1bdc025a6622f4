import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { NpyFormatError, halfToFloat, floatToHalf, parseNpyHeader, readNpy, writeNpyFloat16, writeNpyFloat32 } from '../src/main/core/npy.js';

const SHARED = fileURLToPath(new URL('../../../shared', import.meta.url));
const REFERENCE = join(SHARED, 'data/preprocess-reference');

/** A file as numpy writes it, from a header dict and raw data bytes. */
function npyFile(dict: string, data: Buffer, major = 1): Buffer {
  const prefix = major === 1 ? 10 : 12;
  let header = dict;
  header += ' '.repeat((64 - ((prefix + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(head);
  if (major === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

function f32le(values: number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer);
}

test('float32 round trip keeps shape and values, data 64-byte aligned', () => {
  for (const shape of [[3, 2, 2], [5], [], [0, 4]]) {
    const count = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: count }, (_, i) => i * 0.5 - 1.25);
    const file = writeNpyFloat32(shape, data);
    const header = parseNpyHeader(file);
    assert.equal(header.dataOffset % 64, 0);
    const back = readNpy(file);
    assert.deepEqual(back.shape, shape);
    assert.equal(back.dtype, 'float32');
    assert.deepEqual([...back.data], [...data]);
  }
});

test('reads files written by numpy (v1 and v2 headers, big-endian)', () => {
  const values = [1.5, -2, 3.25, 0];
  const v1 = readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", f32le(values)));
  assert.deepEqual(v1.shape, [2, 2]);
  assert.deepEqual([...v1.data], values);
  const v2 = readNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", f32le(values), 2));
  assert.deepEqual([...v2.data], values);
  const be = Buffer.alloc(16);
  values.forEach((v, i) => be.writeFloatBE(v, i * 4));
  assert.deepEqual([...readNpy(npyFile("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", be)).data], values);
});

test('float16: writes and reads back, including subnormals and infinities', () => {
  const values = [0, 0.5, -2, 65504, 1 / 3, 6e-8, -Infinity, 1e6, 3.14159];
  const file = writeNpyFloat16([values.length], new Float32Array(values));
  const back = readNpy(file);
  assert.equal(back.dtype, 'float16');
  assert.equal(back.data[0], 0);
  assert.equal(back.data[1], 0.5);
  assert.equal(back.data[2], -2);
  assert.equal(back.data[3], 65504);
  assert.ok(Math.abs(back.data[4] - 1 / 3) < 1e-3);
  assert.ok(Math.abs(back.data[5] - 6e-8) < 3e-8);
  assert.equal(back.data[6], -Infinity);
  assert.equal(back.data[7], Infinity); // beyond float16's range
  assert.ok(Math.abs(back.data[8] - 3.14159) < 2e-3);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  // round to nearest even: 1 + 2^-11 lies halfway between 1 and the next half, 1 + 2^-10
  assert.equal(halfToFloat(floatToHalf(1 + 2 ** -11)), 1);
  assert.equal(halfToFloat(floatToHalf(1 + 3 * 2 ** -11)), 1 + 2 * 2 ** -10);
});

test('rejects malformed files with clear errors', () => {
  const good = writeNpyFloat32([2, 3], new Float32Array(6));
  const cases: [string, Buffer, RegExp][] = [
    ['truncated data', good.subarray(0, good.length - 4), /truncated \.npy file: shape \(2, 3\) needs 24 data bytes, found 20/],
    ['truncated header', good.subarray(0, 40), /truncated \.npy header/],
    ['tiny', good.subarray(0, 5), /only 5 bytes/],
    ['bad magic', Buffer.concat([Buffer.from('XNUMPY'), good.subarray(6)]), /bad magic/],
    ['trailing bytes', Buffer.concat([good, Buffer.alloc(4)]), /4 unexpected bytes/],
    ['fortran order', npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", f32le([1, 2])), /fortran_order/],
    ['float64', npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(8)), /unsupported \.npy dtype '<f8'/],
    ['int32', npyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", Buffer.alloc(4)), /unsupported \.npy dtype '<i4'/],
    ['bad shape', npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", Buffer.alloc(8)), /malformed \.npy shape/],
    ['no dict', npyFile('hello', Buffer.alloc(0)), /malformed \.npy header/],
    ['version 9', Buffer.concat([good.subarray(0, 6), Buffer.from([9, 0]), good.subarray(8)]), /unsupported \.npy format version 9/],
  ];
  for (const [name, file, message] of cases) {
    assert.throws(() => readNpy(file), (err: Error) => err instanceof NpyFormatError && message.test(err.message), name);
  }
  assert.throws(() => writeNpyFloat32([2, 2], new Float32Array(3)), /holds 4 values but data has 3/);
  assert.throws(() => writeNpyFloat32([-1], new Float32Array(0)), /invalid \.npy dimension/);
});

test('reads the reference preprocessing tensors', { skip: existsSync(REFERENCE) ? false : `${REFERENCE} is absent` }, () => {
  const index = JSON.parse(readFileSync(join(REFERENCE, 'index.json'), 'utf8')) as { items: { tensor: string; mean: number }[] };
  for (const item of index.items) {
    const { shape, data, dtype } = readNpy(readFileSync(join(REFERENCE, item.tensor)));
    assert.deepEqual(shape, [3, 224, 224]);
    assert.equal(dtype, 'float32');
    const mean = data.reduce((a, b) => a + b, 0) / data.length;
    assert.ok(Math.abs(mean - item.mean) < 1e-4, `${item.tensor}: mean ${mean} vs ${item.mean}`);
  }
});
