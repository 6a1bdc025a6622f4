// Export: the library's vectors for one model, as the recipe (see recipe-format.ts). Streams row batches
// straight from SQLite into the .npy, the paths file and the FAISS index, so 624k rows never sit in one
// JS array; everything is written into a temporary folder and renamed into place only once complete.
//
// Disk space: the space the export needs (the vectors twice, the paths, estimated) is checked first, and
// every file, faiss.index included, is written with Node's fs (faiss.index is a flat inner-product index,
// written as FAISS lays it out: vector/faiss-file.ts), so a disk that fills up meanwhile is an ordinary
// ENOSPC error: the staging folder is removed and the error says so. (faiss-node's write() aborted the
// process on a full disk, leaving the staging folder behind.) Staging folders of killed exports are
// removed by the next export into the same folder.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Library } from '../library.js';
import { packageRoot } from '../paths.js';
import { isProcessAlive } from '../scratch.js';
import { FLAT_PREAMBLE_BYTES, flatPreamble } from '../vector/faiss-file.js';
import { freeBytes, spaceNeeded } from '../vector/disk.js';
import {
  MANIFEST_FORMAT, MANIFEST_VERSION, RECIPE_FILES, RecipeError, npyFloat32Header, type RecipeManifest,
} from './recipe-format.js';
import { scaleRowsToUnit } from '../vector/vector-math.js';

export interface ExportOptions {
  outDir: string;
  /** Default: the library's current model. */
  modelId?: string;
  /** Replace recipe files already in outDir (default: refuse). */
  overwrite?: boolean;
  /** Rows read from the catalogue per step. */
  batchSize?: number;
  /** Check the free space first (default true; tests turn it off to fill a disk mid-write). */
  checkSpace?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface ExportResult {
  dir: string;
  modelId: string;
  dimension: number;
  count: number;
  /** Photos left out because their path cannot be one line of file_paths.txt. */
  skipped: string[];
  files: string[];
  manifest: RecipeManifest;
}

const NPY_HEADER_BYTES = 128;
const STAGING_PREFIX = '.photo-search-export-';
/** Bytes of file_paths.txt assumed per photo before the paths are read (for the space check only). */
const PATH_BYTES_ESTIMATE = 160;

export async function exportRecipe(library: Library, options: ExportOptions): Promise<ExportResult> {
  const catalogue = library.catalogue;
  const modelId = options.modelId ?? library.currentModel?.id;
  if (!modelId) throw new RecipeError('the library has no current model: say which model\'s vectors to export');
  const model = catalogue.getModel(modelId);
  if (!model) {
    const known = catalogue.listModels().map((m) => m.id);
    throw new RecipeError(`model "${modelId}" has no vectors in this library${known.length ? ` (models: ${known.join(', ')})` : ''}`);
  }

  const outDir = path.resolve(options.outDir);
  const createdOutDir = !existsSync(outDir);
  if (!createdOutDir) {
    if (!(await stat(outDir)).isDirectory()) throw new RecipeError(`${outDir} exists and is not a folder`);
    const clashes = Object.values(RECIPE_FILES).filter((f) => existsSync(path.join(outDir, f)));
    if (clashes.length && !options.overwrite) {
      throw new RecipeError(`${outDir} already holds ${clashes.join(', ')}; choose an empty folder or allow overwriting`);
    }
  }
  await mkdir(outDir, { recursive: true });
  await removeStaleStaging(outDir);
  const total = catalogue.countEmbeddings(modelId);
  if (options.checkSpace !== false) {
    try {
      assertSpaceFor(outDir, total, model.dim);
    } catch (error) {
      if (createdOutDir) await rmdir(outDir).catch(() => undefined);
      throw error;
    }
  }
  const tmp = path.join(outDir, `${STAGING_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);

  try {
    await mkdir(tmp);
    const written = await writeRows(library, model.id, model.dim, tmp, total, options);
    const manifest: RecipeManifest = {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_VERSION,
      modelId: model.id,
      preprocessVersion: model.preprocessVersion,
      dimension: model.dim,
      count: written.count,
      normalized: true,
      metric: 'inner_product',
      createdAt: new Date().toISOString(),
      appVersion: appVersion(),
      files: { embeddings: RECIPE_FILES.embeddings, paths: RECIPE_FILES.paths, faissIndex: RECIPE_FILES.faissIndex },
    };
    await writeFile(path.join(tmp, RECIPE_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
    // The manifest goes last: its presence says the other three are complete.
    const order = [RECIPE_FILES.embeddings, RECIPE_FILES.paths, RECIPE_FILES.faissIndex, RECIPE_FILES.manifest];
    for (const file of order) await rename(path.join(tmp, file), path.join(outDir, file));
    await rm(tmp, { recursive: true, force: true });
    return {
      dir: outDir, modelId: model.id, dimension: model.dim, count: written.count, skipped: written.skipped,
      files: order.map((f) => path.join(outDir, f)), manifest,
    };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    if (createdOutDir) await rmdir(outDir).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new RecipeError(`the disk holding ${outDir} is full: the export was stopped and its partial files removed ` +
        `(it needs about ${mb(exportBytes(total, model.dim))} MB)`, { cause: error });
    }
    throw error;
  }
}

/** Bytes an export of `rows` vectors of `dim` writes: the .npy and faiss.index (the vectors each), paths (estimated), manifest. */
function exportBytes(rows: number, dim: number): number {
  return NPY_HEADER_BYTES + FLAT_PREAMBLE_BYTES + rows * dim * 4 * 2 + rows * PATH_BYTES_ESTIMATE + 4096;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(bytes < 10e6 ? 1 : 0);
}

function assertSpaceFor(dir: string, rows: number, dim: number): void {
  const free = freeBytes(dir);
  if (free === null) return; // cannot tell: the writes will say
  const needed = spaceNeeded(exportBytes(rows, dim));
  if (free < needed) {
    throw new RecipeError(`not enough disk space in ${dir} to export ${rows} vectors: about ${mb(needed)} MB needed, ${mb(free)} MB free`);
  }
}

/** Removes staging folders that exports killed before they finished left in `dir`. */
async function removeStaleStaging(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const owner = name.startsWith(STAGING_PREFIX) ? Number(/^(\d+)-/.exec(name.slice(STAGING_PREFIX.length))?.[1]) : NaN;
    if (Number.isInteger(owner) && !isProcessAlive(owner)) await rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

async function writeRows(
  library: Library, modelId: string, dim: number, dir: string, total: number, options: ExportOptions,
): Promise<{ count: number; skipped: string[] }> {
  const catalogue = library.catalogue;
  const npy = await open(path.join(dir, RECIPE_FILES.embeddings), 'w');
  const paths = await open(path.join(dir, RECIPE_FILES.paths), 'w');
  const index = await open(path.join(dir, RECIPE_FILES.faissIndex), 'w');
  let count = 0;
  const skipped: string[] = [];
  try {
    await npy.write(npyFloat32Header([0, dim], NPY_HEADER_BYTES), 0, NPY_HEADER_BYTES, 0);
    await index.write(flatPreamble(dim, 0), 0, FLAT_PREAMBLE_BYTES, 0);
    let npyOffset = NPY_HEADER_BYTES;
    let indexOffset = FLAT_PREAMBLE_BYTES;
    for (const batch of catalogue.iterateEmbeddings(modelId, 0, options.batchSize ?? 4096)) {
      const ids = Array.from(batch.photoIds);
      const pathOf = catalogue.photoPaths(ids);
      const rows: number[] = [];
      const lines: string[] = [];
      ids.forEach((id, row) => {
        const file = pathOf.get(id);
        if (file === undefined) return; // removed since the batch was read
        if (/[\r\n]/.test(file)) {
          skipped.push(file);
          return;
        }
        rows.push(row);
        lines.push(file);
      });
      const vectors = rows.length === ids.length ? batch.vectors : gatherRows(batch.vectors, rows, dim);
      // Stored vectors are unit length already; this guarantees the IndexFlatIP scores are cosines.
      scaleRowsToUnit(vectors, vectors, dim, (_, sum) => !(sum === 0 || Math.abs(sum - 1) < 1e-6));
      if (lines.length === 0) continue;
      const bytes = Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength);
      await npy.write(bytes, 0, bytes.length, npyOffset);
      npyOffset += bytes.length;
      await index.write(bytes, 0, bytes.length, indexOffset);
      indexOffset += bytes.length;
      await paths.write(lines.join('\n') + '\n');
      count += lines.length;
      options.onProgress?.(count, total);
    }
    // Now the row count is known: rewrite the header (fixed size, so the data does not move).
    await npy.write(npyFloat32Header([count, dim], NPY_HEADER_BYTES), 0, NPY_HEADER_BYTES, 0);
    await index.write(flatPreamble(dim, count), 0, FLAT_PREAMBLE_BYTES, 0);
    await npy.sync();
    await paths.sync();
    await index.sync();
  } finally {
    await npy.close();
    await paths.close();
    await index.close();
  }
  return { count, skipped };
}

function gatherRows(vectors: Float32Array, rows: number[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => out.set(vectors.subarray(row * dim, (row + 1) * dim), i * dim));
  return out;
}

function appVersion(): string {
  try {
    return String((JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}
