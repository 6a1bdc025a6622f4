// The int8 twin of a float32 model folder, derived once on this machine and reused.
//
// Where: `<models dir>/derived/<folder name>-<hash of its path>-int8`. The models folder is the app's own,
// writable, and PHOTO_SEARCH_MODELS_DIR moves it; the source folder may be read-only (a shared or packaged
// model), and keying by its path keeps two sources of the same name apart.
// What: visual/model.onnx quantized (quantize-onnx.ts), every other file of the source hard-linked (copied
// across file systems), so it loads as any model folder. The text tower stays float32: it runs once per query.
// Reuse: `int8.json` records the quantizer version, the form and weight bits, the source path and each source
// file's size and mtime; any difference makes it again. It is built in a scratch folder and renamed into place, so a
// killed derivation leaves no half-made folder behind in its place.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { externalDataFiles, loadModelFolder } from '../model-folder.js';
import { isProcessAlive } from '../../scratch.js';
import { DEFAULT_INT8_FORM, QUANTIZER_VERSION, quantizeOnnxFile, type Int8Form, type QuantizeSummary, type WeightBits } from './quantize-onnx.js';

export const INT8_MARKER = 'int8.json';
/** Appended to the source's model id: int8 vectors are never mixed with float32 ones. */
export const INT8_MODEL_SUFFIX = '+int8';

/** The fp32 model id an int8 model id was made from; null for an id that is not an int8 one. */
export function int8SourceId(modelId: string): string | null {
  return modelId.endsWith(INT8_MODEL_SUFFIX) ? modelId.slice(0, -INT8_MODEL_SUFFIX.length) : null;
}

export interface Int8Marker {
  quantizerVersion: number;
  form: Int8Form;
  weightBits: WeightBits;
  source: string;
  files: Record<string, { size: number; mtimeMs: number }>;
  summary: QuantizeSummary;
}

export interface DeriveOptions {
  modelsDir: string;
  form?: Int8Form;
  /** Default: weightBitsForThisCpu(). */
  weightBits?: WeightBits;
  /** Told when the folder is (re)made, which takes seconds for a real model. */
  onDerive?: (target: string) => void;
}

export function int8FolderFor(sourceDir: string, modelsDir: string): string {
  const source = realpathSync(sourceDir);
  const key = createHash('sha256').update(source).digest('hex').slice(0, 12);
  return path.join(modelsDir, 'derived', `${path.basename(source)}-${key}-int8`);
}

/** The marker of a derived int8 folder, or null when `dir` is not one. */
export function readInt8Marker(dir: string): Int8Marker | null {
  try {
    const marker = JSON.parse(readFileSync(path.join(dir, INT8_MARKER), 'utf8')) as Int8Marker;
    return typeof marker.source === 'string' && typeof marker.quantizerVersion === 'number' ? marker : null;
  } catch {
    return null;
  }
}

/** The int8 folder of `sourceDir`: the one made earlier when it still matches the source, else a new one. */
export async function deriveInt8Folder(sourceDir: string, options: DeriveOptions): Promise<string> {
  await loadModelFolder(sourceDir); // a clear error for a folder that is not a model
  const source = realpathSync(sourceDir);
  if (readInt8Marker(source)) throw new Error(`${source} is already an int8 model folder`);
  const wanted = { form: options.form ?? DEFAULT_INT8_FORM, weightBits: options.weightBits ?? weightBitsForThisCpu() };
  const target = int8FolderFor(source, options.modelsDir);
  const files = fingerprint(source);
  if (isCurrent(readInt8Marker(target), source, wanted, files)) return target;

  options.onDerive?.(target);
  await mkdir(path.dirname(target), { recursive: true });
  removeAbandonedScratch(path.dirname(target));
  const scratch = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const replaced = new Set(['visual/model.onnx', ...(await externalDataFiles(path.join(source, 'visual/model.onnx'))).map((f) => `visual/${f}`)]);
    for (const rel of Object.keys(files)) {
      if (replaced.has(rel)) continue;
      await mkdir(path.dirname(path.join(scratch, rel)), { recursive: true });
      await linkOrCopy(path.join(source, rel), path.join(scratch, rel));
    }
    const summary = quantizeOnnxFile(path.join(source, 'visual/model.onnx'), path.join(scratch, 'visual/model.onnx'), wanted);
    if (summary.quantized === 0) throw new Error(`${source}: the image tower has no MatMul or Gemm with constant weights to quantize`);
    const marker: Int8Marker = { quantizerVersion: QUANTIZER_VERSION, ...wanted, source, files, summary };
    await writeFile(path.join(scratch, INT8_MARKER), JSON.stringify(marker, null, 2) + '\n');
    await loadModelFolder(scratch);
    if (isCurrent(readInt8Marker(target), source, wanted, files)) {
      await rm(scratch, { recursive: true, force: true }); // another process made it meanwhile, and may be using it
      return target;
    }
    await rm(target, { recursive: true, force: true });
    await rename(scratch, target);
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    // another process may have made the same folder meanwhile
    if (isCurrent(readInt8Marker(target), source, wanted, files)) return target;
    throw error;
  }
  return target;
}

function isCurrent(marker: Int8Marker | null, source: string, wanted: Pick<Int8Marker, 'form' | 'weightBits'>, files: Int8Marker['files']): boolean {
  return marker !== null && marker.quantizerVersion === QUANTIZER_VERSION && marker.form === wanted.form && marker.weightBits === wanted.weightBits &&
    marker.source === source && JSON.stringify(marker.files) === JSON.stringify(files);
}

/**
 * 7 on x86-64 unless the CPU lists VNNI (Linux /proc/cpuinfo; elsewhere unknown, so 7): without it, onnxruntime's
 * uint8×int8 kernels can saturate on full-range weights. Other CPUs (ARM) take 8.
 */
export function weightBitsForThisCpu(): WeightBits {
  if (process.arch !== 'x64') return 8;
  try {
    return /\b(avx512_vnni|avx_vnni)\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 8 : 7;
  } catch {
    return 7;
  }
}

/** Size and mtime of every file under the folder, by path relative to it, in a stable order. */
function fingerprint(root: string): Int8Marker['files'] {
  const files: Int8Marker['files'] = {};
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      const info = statSync(path.join(root, child));
      if (info.isDirectory()) walk(child);
      else if (info.isFile()) files[child] = { size: info.size, mtimeMs: info.mtimeMs };
    }
  };
  walk('');
  return files;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to); // another file system, or links not allowed
  }
}

/** Scratch folders of derivations whose process is gone. */
function removeAbandonedScratch(dir: string): void {
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const owner = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    // One that cannot be removed (another user's) stays for a later try; it must not crash the process.
    if (owner && !isProcessAlive(Number(owner[1]))) rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}
