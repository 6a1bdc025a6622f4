// Just enough of FAISS's on-disk format (faiss/impl/index_write.cpp, stable from 1.7 to 1.8) to
//  - check a persisted index before handing it to native code,
//  - write flat (IndexFlatIP) index files straight from Float32Arrays: faiss-node's add() takes a plain
//    number[] and converts it element by element through N-API (~100 ns a value here, 30+ s for 624k
//    vectors), whereas reading a file runs at disk speed,
//  - set an IVF index's nprobe, which faiss-node cannot set but FAISS serialises right after nlist.
//
// Layout (little-endian): fourcc u32 | d i32 | ntotal i64 | dummy i64 | dummy i64 | is_trained u8 |
// metric_type i32 | [metric_arg f32 when metric_type > 1]. An IndexFlat then writes its vectors as a
// size_t count of floats followed by the floats. An IVF index writes nlist u64, nprobe u64, then its
// coarse quantizer as a nested index (an IndexFlat whose ntotal equals nlist).
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { VectorIndexError } from './errors.js';

export interface FaissHeader {
  fourcc: string;
  dim: number;
  ntotal: number;
  isTrained: boolean;
  metric: number;
  /** Offset of the first byte after the common header. */
  end: number;
}

export interface IvfParams {
  nlist: number;
  nprobe: number;
  /** File offset of the u64 nprobe field. */
  nprobeOffset: number;
}

const COMMON_HEADER_BYTES = 4 + 4 + 8 + 8 + 8 + 1 + 4;
/** Size of a flat IP index file's preamble (header + float count) before the vectors. */
export const FLAT_PREAMBLE_BYTES = COMMON_HEADER_BYTES + 8;
/** Enough of a file to parse an IVF header and its quantizer's header. */
export const HEADER_PROBE_BYTES = 256;

const FLAT_FOURCCS = new Set(['IxFI', 'IxF2', 'IxFl']);

function safeInt(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new VectorIndexError(`corrupt index file: ${what} = ${value}`);
  return Number(value);
}

export function parseHeader(buf: Buffer, at = 0): FaissHeader {
  if (buf.length < at + COMMON_HEADER_BYTES) throw new VectorIndexError('index file is too short to hold a FAISS header');
  const fourcc = buf.toString('latin1', at, at + 4);
  const dim = buf.readInt32LE(at + 4);
  const ntotal = safeInt(buf.readBigInt64LE(at + 8), 'ntotal');
  const isTrained = buf[at + 32] !== 0;
  const metric = buf.readInt32LE(at + 33);
  if (!/^[A-Za-z0-9]{4}$/.test(fourcc) || dim <= 0 || dim > 65536) {
    throw new VectorIndexError(`not a FAISS index file (fourcc ${JSON.stringify(fourcc)}, d ${dim})`);
  }
  return { fourcc, dim, ntotal, isTrained, metric, end: at + COMMON_HEADER_BYTES + (metric > 1 ? 4 : 0) };
}

export function isIvfFourcc(fourcc: string): boolean {
  return fourcc.startsWith('Iw');
}

/**
 * Reads nlist and nprobe of a serialised IVF index, after checking that the bytes that follow are the
 * coarse quantizer we expect (a flat index of nlist vectors of the same dimension): a wrong offset
 * would otherwise silently corrupt the file when patched.
 */
export function parseIvfParams(buf: Buffer): IvfParams {
  const header = parseHeader(buf);
  if (!isIvfFourcc(header.fourcc)) throw new VectorIndexError(`index type ${header.fourcc} is not an IVF index`);
  const at = header.end;
  if (buf.length < at + 16 + COMMON_HEADER_BYTES) throw new VectorIndexError('IVF header truncated');
  const nlist = safeInt(buf.readBigUInt64LE(at), 'nlist');
  const nprobe = safeInt(buf.readBigUInt64LE(at + 8), 'nprobe');
  const quantizer = parseHeader(buf, at + 16);
  if (!FLAT_FOURCCS.has(quantizer.fourcc) || quantizer.dim !== header.dim || quantizer.ntotal !== nlist || nlist === 0) {
    throw new VectorIndexError(
      `unexpected IVF layout: quantizer ${quantizer.fourcc} d=${quantizer.dim} ntotal=${quantizer.ntotal}, nlist=${nlist}`,
    );
  }
  return { nlist, nprobe, nprobeOffset: at + 8 };
}

export function readFileStart(path: string, bytes = HEADER_PROBE_BYTES): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Rewrites the nprobe of a persisted IVF index in place (8 bytes). Returns the previous value. */
export function patchNprobe(path: string, nprobe: number): IvfParams {
  if (!Number.isInteger(nprobe) || nprobe < 1) throw new VectorIndexError(`nprobe must be a positive integer, got ${nprobe}`);
  const params = parseIvfParams(readFileStart(path));
  if (nprobe > params.nlist) throw new VectorIndexError(`nprobe ${nprobe} exceeds nlist ${params.nlist}`);
  const fd = openSync(path, 'r+');
  try {
    const field = Buffer.alloc(8);
    field.writeBigUInt64LE(BigInt(nprobe));
    writeSync(fd, field, 0, 8, params.nprobeOffset);
  } finally {
    closeSync(fd);
  }
  return params;
}

/** Preamble of an IndexFlatIP file holding `ntotal` vectors of `dim` floats (the floats follow). */
export function flatPreamble(dim: number, ntotal: number): Buffer {
  const buf = Buffer.alloc(FLAT_PREAMBLE_BYTES);
  buf.write('IxFI', 0, 'latin1');
  buf.writeInt32LE(dim, 4);
  buf.writeBigInt64LE(BigInt(ntotal), 8);
  buf.writeBigInt64LE(1n << 20n, 16); // FAISS writes these two dummies with this value
  buf.writeBigInt64LE(1n << 20n, 24);
  buf[32] = 1; // is_trained
  buf.writeInt32LE(0, 33); // METRIC_INNER_PRODUCT
  buf.writeBigUInt64LE(BigInt(ntotal) * BigInt(dim), COMMON_HEADER_BYTES);
  return buf;
}
