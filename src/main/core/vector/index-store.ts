// Persistence of a vector index: the FAISS file, the row → photo id map, the deleted rows, and a small
// JSON manifest written last. Each save writes a new generation of files and then swaps the manifest
// atomically (rename), so a crash mid-save leaves the previous generation loadable. The manifest tells
// the caller what the cache holds (model, dimension, rows, last catalogue embedding id) so that it can
// reconcile with SQLite, and lets load() reject a mismatched or damaged cache with a JS error before
// any byte reaches native code.
//
// Several processes may save into one directory (the app and the CLI on one library): temporary names are
// unique (pid + random), and a save removes only generations that no process can still be loading or writing:
// never the one the manifest names, and none whose files changed within GENERATION_GRACE_MS (a save in progress
// elsewhere, or the generation a save has just replaced, whose files it touches when it swaps the manifest).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { CalibrationResult, IndexMeta, IndexParts } from './build-index.js';
import { assertFreeSpace, estimateIndexBytes } from './disk.js';
import { VectorIndexError } from './errors.js';
import { isIvfFourcc, parseHeader, parseIvfParams, readFileStart } from './faiss-file.js';
import type { IndexKind } from './index-policy.js';
import { type FaissIndex, faiss } from './native.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'photo-search-vector-index';
export const MANIFEST_VERSION = 1;

export interface StoredFile {
  name: string;
  bytes: number;
  /** crc32 of the content (not computed for the large FAISS file, which is checked by header and size). */
  crc32?: number;
}

export interface IndexManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  modelId: string;
  dim: number;
  kind: IndexKind;
  metric: 'inner_product';
  /** Rows in the FAISS index, deleted ones included. */
  rows: number;
  /** Rows still searchable. */
  live: number;
  nlist: number;
  nprobe: number;
  trainedOn: number;
  /** Largest catalogue embedding id the index holds: catch up with embeddings after it. */
  lastEmbeddingId: number;
  builtAt: number;
  savedAt: number;
  calibration: CalibrationResult | null;
  files: { index: StoredFile; ids: StoredFile; removed: StoredFile };
}

export interface LoadExpectations {
  modelId?: string;
  dim?: number;
}

function bytesOf(a: Uint32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** How long a generation outlives its replacement, or an unfinished save its last write, before a save may remove it. */
export const GENERATION_GRACE_MS = 60_000;

const GENERATION_FILE = /^(?:index|ids|removed)-([a-z0-9-]+)\.(?:faiss|u32)$/;
const TEMP_FILE = /\.[0-9]+-[0-9a-f]+\.tmp$/;

function writeAtomic(file: string, data: string | Buffer): void {
  // Unique per writer: two processes saving at once must not write into (or rename) each other's temp file.
  const tmp = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** The file names the manifest in `dir` names now (empty when there is none or it is unreadable). */
function manifestFiles(dir: string): Set<string> {
  try {
    const m = JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as Partial<IndexManifest>;
    return new Set(Object.values(m.files ?? {}).map((f) => (f as StoredFile | undefined)?.name).filter((n): n is string => typeof n === 'string'));
  } catch {
    return new Set();
  }
}

export function saveParts(dir: string, parts: IndexParts): IndexManifest {
  const { index, meta, rowIds, removedRows } = parts;
  mkdirSync(dir, { recursive: true });
  assertFreeSpace(dir, estimateIndexBytes(meta.kind, rowIds.length, meta.dim, meta.nlist) + rowIds.byteLength + removedRows.byteLength);
  const generation = `${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  const names = { index: `index-${generation}.faiss`, ids: `ids-${generation}.u32`, removed: `removed-${generation}.u32` };
  index.write(path.join(dir, names.index));
  const written = parseHeader(readFileStart(path.join(dir, names.index)));
  if (written.ntotal !== rowIds.length || written.dim !== meta.dim) {
    throw new VectorIndexError(`the written index holds ${written.ntotal} × ${written.dim}, expected ${rowIds.length} × ${meta.dim}`);
  }
  writeFileSync(path.join(dir, names.ids), bytesOf(rowIds));
  writeFileSync(path.join(dir, names.removed), bytesOf(removedRows));
  const manifest: IndexManifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    modelId: meta.modelId,
    dim: meta.dim,
    kind: meta.kind,
    metric: 'inner_product',
    rows: rowIds.length,
    live: rowIds.length - removedRows.length,
    nlist: meta.nlist,
    nprobe: meta.nprobe,
    trainedOn: meta.trainedOn,
    lastEmbeddingId: meta.lastEmbeddingId,
    builtAt: meta.builtAt,
    savedAt: Date.now(),
    calibration: meta.calibration,
    files: {
      index: { name: names.index, bytes: statSync(path.join(dir, names.index)).size },
      ids: { name: names.ids, bytes: rowIds.byteLength, crc32: crc32(bytesOf(rowIds)) },
      removed: { name: names.removed, bytes: removedRows.byteLength, crc32: crc32(bytesOf(removedRows)) },
    },
  };
  const replaced = manifestFiles(dir);
  writeAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  // The generation just replaced may be being loaded by another process that read the old manifest: its
  // files' times now say when it stopped being current, so it is kept for the grace period from now.
  const now = new Date();
  for (const name of replaced) {
    try {
      utimesSync(path.join(dir, name), now, now);
    } catch {
      // already gone
    }
  }
  removeStaleGenerations(dir);
  return manifest;
}

/**
 * Removes generations that no process can be using: not named by the current manifest, and with no file
 * changed within `graceMs` (another process's save in progress, or a generation replaced only just now).
 * Also removes temp files that saves killed midway left behind.
 */
export function removeStaleGenerations(dir: string, graceMs = GENERATION_GRACE_MS): void {
  const current = manifestFiles(dir);
  if (!existsSync(path.join(dir, MANIFEST_FILE)) || current.size === 0) return; // nothing known to be current: keep all
  const generations = new Map<string, { files: string[]; newest: number }>();
  const cutoff = Date.now() - graceMs;
  for (const name of readdirSync(dir)) {
    let mtime: number;
    try {
      mtime = statSync(path.join(dir, name)).mtimeMs;
    } catch {
      continue; // removed meanwhile
    }
    if (TEMP_FILE.test(name)) {
      if (mtime < cutoff) rmSync(path.join(dir, name), { force: true });
      continue;
    }
    const match = GENERATION_FILE.exec(name);
    if (!match) continue;
    const generation = generations.get(match[1]) ?? { files: [], newest: 0 };
    generation.files.push(name);
    generation.newest = Math.max(generation.newest, mtime);
    generations.set(match[1], generation);
  }
  for (const { files, newest } of generations.values()) {
    if (files.some((f) => current.has(f)) || newest >= cutoff) continue;
    for (const f of files) rmSync(path.join(dir, f), { force: true });
  }
}

/** Reads and checks the manifest alone (cheap): what the caller needs to decide to load or rebuild. */
export function readManifest(dir: string): IndexManifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!existsSync(file)) throw new VectorIndexError(`no vector index in ${dir}`);
  let m: IndexManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as IndexManifest;
  } catch (err) {
    throw new VectorIndexError(`vector index manifest ${file} is unreadable: ${(err as Error).message}`);
  }
  const bad = (what: string) => new VectorIndexError(`vector index manifest ${file}: ${what}`);
  if (m?.format !== MANIFEST_FORMAT) throw bad('not a photo-search vector index');
  if (m.version !== MANIFEST_VERSION) throw bad(`version ${String(m.version)} (this build reads ${MANIFEST_VERSION})`);
  const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (typeof m.modelId !== 'string' || !m.modelId) throw bad('missing modelId');
  if (!Number.isInteger(m.dim) || m.dim < 1 || m.dim > 65536) throw bad(`bad dim ${String(m.dim)}`);
  if (m.kind !== 'flat' && m.kind !== 'ivf') throw bad(`unknown kind ${String(m.kind)}`);
  for (const key of ['rows', 'live', 'nlist', 'nprobe', 'trainedOn', 'lastEmbeddingId'] as const) if (!isCount(m[key])) throw bad(`bad ${key}`);
  for (const key of ['index', 'ids', 'removed'] as const) {
    const f = m.files?.[key];
    if (!f || typeof f.name !== 'string' || /[/\\]/.test(f.name) || !isCount(f.bytes)) throw bad(`bad files.${key}`);
  }
  if (m.files.ids.bytes !== m.rows * 4) throw bad('ids file size disagrees with rows');
  return m;
}

function readChecked(dir: string, f: StoredFile): Buffer {
  const file = path.join(dir, f.name);
  if (!existsSync(file)) throw new VectorIndexError(`vector index file ${file} is missing`);
  const data = readFileSync(file);
  if (data.length !== f.bytes || (f.crc32 !== undefined && crc32(data) !== f.crc32)) {
    throw new VectorIndexError(`vector index file ${file} is damaged (size or checksum mismatch)`);
  }
  return data;
}

function toUint32(data: Buffer): Uint32Array {
  const out = new Uint32Array(data.length / 4);
  new Uint8Array(out.buffer).set(data);
  return out;
}

export interface PreparedLoad {
  manifest: IndexManifest;
  /** Reads the FAISS file (the expensive, native part). */
  open(): IndexParts;
}

/**
 * Every check that can be done in JS (manifest, checksums, FAISS header against the manifest), so that
 * a caller can refuse a bad cache before dropping the index it currently serves.
 */
export function prepareLoad(dir: string, expect: LoadExpectations = {}): PreparedLoad {
  const m = readManifest(dir);
  if (expect.modelId !== undefined && expect.modelId !== m.modelId) {
    throw new VectorIndexError(`the vector index in ${dir} was built for model ${m.modelId}, not ${expect.modelId}`);
  }
  if (expect.dim !== undefined && expect.dim !== m.dim) {
    throw new VectorIndexError(`the vector index in ${dir} holds ${m.dim}-d vectors, expected ${expect.dim}-d`);
  }
  const rowIds = toUint32(readChecked(dir, m.files.ids));
  const removedRows = toUint32(readChecked(dir, m.files.removed));
  for (const row of removedRows) if (row >= m.rows) throw new VectorIndexError(`vector index in ${dir}: removed row ${row} out of range`);

  // Check the FAISS file's header against the manifest before native code parses the whole file.
  const indexFile = path.join(dir, m.files.index.name);
  if (!existsSync(indexFile)) throw new VectorIndexError(`vector index file ${indexFile} is missing`);
  if (statSync(indexFile).size !== m.files.index.bytes) throw new VectorIndexError(`vector index file ${indexFile} is truncated or replaced`);
  const start = readFileStart(indexFile);
  const header = parseHeader(start);
  const kindOk = m.kind === 'flat' ? header.fourcc === 'IxFI' : isIvfFourcc(header.fourcc);
  if (!kindOk || header.dim !== m.dim || header.ntotal !== m.rows || header.metric !== 0) {
    throw new VectorIndexError(`vector index file ${indexFile} does not match its manifest (${header.fourcc}, ${header.ntotal} × ${header.dim})`);
  }
  if (m.kind === 'ivf') {
    const ivf = parseIvfParams(start);
    if (ivf.nlist !== m.nlist || ivf.nprobe !== m.nprobe) throw new VectorIndexError(`vector index file ${indexFile}: nlist/nprobe differ from the manifest`);
  }
  const meta: IndexMeta = {
    modelId: m.modelId, dim: m.dim, kind: m.kind, nlist: m.nlist, nprobe: m.nprobe, trainedOn: m.trainedOn,
    lastEmbeddingId: m.lastEmbeddingId, calibration: m.calibration ?? null, builtAt: m.builtAt,
  };
  return {
    manifest: m,
    open(): IndexParts {
      let index: FaissIndex;
      try {
        index = faiss().Index.read(indexFile);
      } catch (err) {
        throw new VectorIndexError(`vector index file ${indexFile} could not be read: ${(err as Error).message}`);
      }
      if (index.ntotal() !== m.rows || index.getDimension() !== m.dim) throw new VectorIndexError(`vector index file ${indexFile} does not match its manifest`);
      return { index, meta, rowIds, removedRows };
    },
  };
}
