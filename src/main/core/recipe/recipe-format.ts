// The "recipe": the minimal, tool-neutral form in which embeddings travel in and out of a library,
//   embeddings.npy   float32 (N, D), C order, one L2-normalised row per photo
//   file_paths.txt   line i = absolute path of row i (UTF-8, '\n')
//   faiss.index      optional on import: IndexFlatIP over the same rows in the same order
//   manifest.json    written by our export, optional on import (model id, preprocessing, counts)
// Python reads it with numpy.load + faiss.read_index; nothing here depends on this app.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { scaleRowsToUnit } from '../vector/vector-math.js';

export const RECIPE_FILES = {
  embeddings: 'embeddings.npy',
  paths: 'file_paths.txt',
  faissIndex: 'faiss.index',
  manifest: 'manifest.json',
} as const;

export const MANIFEST_FORMAT = 'photo-search-recipe';
export const MANIFEST_VERSION = 1;

export interface RecipeManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  modelId: string;
  preprocessVersion: string;
  dimension: number;
  count: number;
  /** Rows are L2-normalised, so inner product = cosine similarity. */
  normalized: true;
  metric: 'inner_product';
  createdAt: string;
  appVersion: string;
  files: { embeddings: string; paths: string; faissIndex: string };
}

export class RecipeError extends Error {
  override name = 'RecipeError';
}

/**
 * Splits file_paths.txt into its lines (a final newline is optional, '\r\n' is accepted) and checks each
 * is an absolute path, unique after normalisation. `base` names the file in error messages.
 */
export function parsePathList(bytes: Uint8Array, base: string): string[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new RecipeError(`${base} is not valid UTF-8`);
  }
  if (text.length === 0) return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const seen = new Map<string, number>();
  return lines.map((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const where = `${base} line ${i + 1}`;
    if (line.length === 0) throw new RecipeError(`${where} is empty`);
    if (line.includes('\0')) throw new RecipeError(`${where} contains a NUL byte`);
    if (!path.isAbsolute(line)) throw new RecipeError(`${where} is not an absolute path: ${JSON.stringify(line)}`);
    const normal = path.resolve(line);
    const first = seen.get(normal);
    if (first !== undefined) throw new RecipeError(`${where} repeats the path of line ${first}: ${JSON.stringify(line)}`);
    seen.set(normal, i + 1);
    return normal;
  });
}

export interface FaissHeader {
  fourcc: string;
  dimension: number;
  ntotal: number;
}

// write_index_header(): fourcc, int32 d, int64 ntotal, two int64 dummies, uint8 is_trained, int32 metric.
const HEADER_BYTES = 4 + 4 + 8 + 8 + 8 + 1 + 4;
/** Flat indexes then store size_t n*d and the float32 codes, so their exact file size is known. */
const FLAT_FOURCCS = new Set(['IxFI', 'IxF2', 'IxFl']);

/**
 * Reads the header every FAISS (float) index file starts with: enough to check ntotal and the dimension
 * without loading a 1.2 GiB index into memory. A flat index's size is checked too, catching truncation.
 */
export async function readFaissHeader(file: string): Promise<FaissHeader> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const buf = Buffer.alloc(HEADER_BYTES + 8);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const name = path.basename(file);
    if (bytesRead < HEADER_BYTES) throw new RecipeError(`${name} is not a FAISS index (only ${size} bytes)`);
    const fourcc = buf.subarray(0, 4).toString('latin1');
    if (!/^[A-Za-z0-9]{4}$/.test(fourcc)) throw new RecipeError(`${name} is not a FAISS index (bad header)`);
    if (fourcc.startsWith('IB') || fourcc.startsWith('IwB')) {
      throw new RecipeError(`${name} is a binary FAISS index (${fourcc}); a float index over the embeddings is expected`);
    }
    const dimension = buf.readInt32LE(4);
    const ntotal = Number(buf.readBigInt64LE(8));
    if (dimension < 1 || dimension > 1 << 16 || ntotal < 0 || !Number.isSafeInteger(ntotal)) {
      throw new RecipeError(`${name} is not a FAISS index (dimension ${dimension}, ntotal ${ntotal})`);
    }
    if (FLAT_FOURCCS.has(fourcc)) {
      const metric = buf.readInt32LE(33);
      const codesAt = HEADER_BYTES + (metric > 1 ? 4 : 0) + 8;
      const expected = codesAt + ntotal * dimension * 4;
      if (size !== expected) {
        throw new RecipeError(`${name} is truncated or damaged: a flat index of ${ntotal}×${dimension} takes ${expected} bytes, the file has ${size}`);
      }
    }
    return { fourcc, dimension, ntotal };
  } finally {
    await handle.close();
  }
}

/** NumPy .npy v1.0 header for a float32 C-order array, padded to `totalBytes` (a multiple of 64). */
export function npyFloat32Header(shape: readonly number[], totalBytes = 128): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const padded = dict + ' '.repeat(totalBytes - 10 - dict.length - 1) + '\n';
  if (totalBytes % 64 !== 0 || padded.length + 10 !== totalBytes) throw new RangeError(`.npy header does not fit in ${totalBytes} bytes`);
  const out = Buffer.alloc(totalBytes);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(padded.length, 8);
  out.write(padded, 10, 'latin1');
  return out;
}

/** L2-normalises each row in place; returns how many rows were not already unit length. Zero rows throw. */
export function normaliseRows(data: Float32Array, dim: number, describeRow: (row: number) => string): number {
  let changed = 0;
  scaleRowsToUnit(data, data, dim, (r, sum) => {
    if (!Number.isFinite(sum)) throw new RecipeError(`${describeRow(r)} holds a value that is not a finite number`);
    if (sum === 0) throw new RecipeError(`${describeRow(r)} is all zeros and cannot be a photo's embedding`);
    if (Math.abs(Math.sqrt(sum) - 1) > 1e-4) changed++;
    return true;
  });
  return changed;
}
