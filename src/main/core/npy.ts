// Reader and writer for NumPy .npy files holding float32 or float16 arrays (C order).
// Used for preprocessing parity tests and for exporting / importing embeddings, so it
// validates everything it reads: a malformed or truncated file gives a clear Error.

export type NpyDtype = 'float32' | 'float16';

export interface NpyHeader {
  shape: number[];
  dtype: NpyDtype;
  littleEndian: boolean;
  /** Byte offset of the first data byte. */
  dataOffset: number;
  /** Number of data bytes the header promises (product(shape) * itemsize). */
  dataLength: number;
}

export interface NpyArray {
  shape: number[];
  /** Always float32: float16 files are widened on read. */
  data: Float32Array;
  /** The dtype stored in the file. */
  dtype: NpyDtype;
}

export class NpyFormatError extends Error {
  override name = 'NpyFormatError';
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parses and validates the header; `buffer` needs only to hold the header itself. */
export function parseNpyHeader(buffer: Uint8Array): NpyHeader {
  const buf = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buf.length < 10) throw new NpyFormatError(`not a .npy file: only ${buf.length} bytes`);
  if (!buf.subarray(0, 6).equals(MAGIC)) throw new NpyFormatError('not a .npy file: bad magic string');
  const major = buf[6];
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new NpyFormatError('truncated .npy header');
    headerLength = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new NpyFormatError(`unsupported .npy format version ${major}.${buf[7]}`);
  }
  const dataOffset = headerStart + headerLength;
  if (buf.length < dataOffset) {
    throw new NpyFormatError(`truncated .npy header: needs ${dataOffset} bytes, file has ${buf.length}`);
  }
  const header = buf.subarray(headerStart, dataOffset).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyFormatError(`malformed .npy header: ${JSON.stringify(header.trim())}`);
  }
  if (fortran === 'True') throw new NpyFormatError('fortran_order .npy arrays are not supported (save in C order)');

  const match = /^([<>=|])f([24])$/.exec(descr);
  if (!match) throw new NpyFormatError(`unsupported .npy dtype '${descr}' (only float32 and float16)`);
  const littleEndian = match[1] === '>' ? false : match[1] === '=' ? HOST_LITTLE_ENDIAN : true;
  const dtype: NpyDtype = match[2] === '4' ? 'float32' : 'float16';

  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      if (!/^\d+L?$/.test(s)) throw new NpyFormatError(`malformed .npy shape '(${shapeText})'`);
      return Number.parseInt(s, 10);
    });
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) throw new NpyFormatError(`.npy shape (${shape.join(', ')}) is too large`);
  return { shape, dtype, littleEndian, dataOffset, dataLength: count * (dtype === 'float32' ? 4 : 2) };
}

export function readNpy(buffer: Uint8Array): NpyArray {
  const header = parseNpyHeader(buffer);
  const available = buffer.byteLength - header.dataOffset;
  if (available < header.dataLength) {
    throw new NpyFormatError(
      `truncated .npy file: shape (${header.shape.join(', ')}) needs ${header.dataLength} data bytes, found ${available}`,
    );
  }
  if (available > header.dataLength) {
    throw new NpyFormatError(`.npy file has ${available - header.dataLength} unexpected bytes after the data`);
  }
  const bytes = buffer.subarray(header.dataOffset, header.dataOffset + header.dataLength);
  const count = header.dataLength / (header.dtype === 'float32' ? 4 : 2);
  const data = new Float32Array(count);
  if (header.dtype === 'float32') {
    if (header.littleEndian === HOST_LITTLE_ENDIAN) {
      new Uint8Array(data.buffer).set(bytes); // copy also fixes alignment
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, header.littleEndian);
    }
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(i * 2, header.littleEndian));
  }
  return { shape: header.shape, data, dtype: header.dtype };
}

/** Builds a version 1.0 header padded so the data starts on a 64-byte boundary. */
function buildHeader(shape: readonly number[], descr: string): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + dict.length + 1; // magic+version+len, dict, trailing newline
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (dict.length > 0xffff) throw new RangeError('.npy header too long');
  const out = Buffer.alloc(10 + dict.length);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(dict.length, 8);
  out.write(dict, 10, 'latin1');
  return out;
}

function checkCount(shape: readonly number[], length: number): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`invalid .npy dimension ${d}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== length) {
    throw new RangeError(`shape (${shape.join(', ')}) holds ${count} values but data has ${length}`);
  }
}

export function writeNpyFloat32(shape: readonly number[], data: Float32Array): Buffer {
  checkCount(shape, data.length);
  const header = buildHeader(shape, '<f4');
  const out = Buffer.alloc(header.length + data.length * 4);
  header.copy(out, 0);
  if (HOST_LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  } else {
    for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], header.length + i * 4);
  }
  return out;
}

/** Writes float32 values as float16 (round to nearest even; out-of-range values become ±Infinity). */
export function writeNpyFloat16(shape: readonly number[], data: Float32Array): Buffer {
  checkCount(shape, data.length);
  const header = buildHeader(shape, '<f2');
  const out = Buffer.alloc(header.length + data.length * 2);
  header.copy(out, 0);
  for (let i = 0; i < data.length; i++) out.writeUInt16LE(floatToHalf(data[i]), header.length + i * 2);
  return out;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf / NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // underflows to zero
    mantissa |= 0x800000; // make the implicit bit explicit, then shift into subnormal range
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    if (rest > midpoint || (rest === midpoint && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry into the exponent is still correct
  return sign | half;
}
