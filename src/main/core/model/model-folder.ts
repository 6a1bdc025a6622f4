// Loads and validates a CLIP model folder in the Immich / Hugging Face layout:
//   config.json, visual/{model.onnx, preprocess_cfg.json}, textual/{model.onnx, tokenizer.json,
//   tokenizer_config.json?, special_tokens_map.json?}
// Nothing heavy happens here (no ONNX session); it only reads the small JSON files.

import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export type ResizeMode = 'shortest' | 'longest' | 'squash';
export type Interpolation = 'bicubic' | 'bilinear' | 'nearest' | 'lanczos';

export interface PreprocessCfg {
  /** Model input size in pixels. */
  width: number;
  height: number;
  /** Per-channel RGB mean and std applied to values scaled to 0..1. */
  mean: [number, number, number];
  std: [number, number, number];
  interpolation: Interpolation;
  resizeMode: ResizeMode;
  /** 0..255 grey level used to pad in 'longest' mode. */
  fillColor: number;
}

export interface ModelFolder {
  dir: string;
  modelId: string;
  /** Embedding dimension (config.json embed_dim). */
  dim: number;
  /** Text context length (config.json text_cfg.context_length, default 77). */
  contextLength: number;
  preprocessCfg: PreprocessCfg;
  /** Changes whenever the image preprocessing changes: cfg values or this code's algorithm. */
  preprocessVersion: string;
  visualModelPath: string;
  textualModelPath: string;
  tokenizerPath: string;
  tokenizerConfigPath: string | null;
  specialTokensMapPath: string | null;
}

export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
  /** Path of the missing or invalid file, relative to the folder, when one is to blame. */
  readonly file: string | null;
  constructor(message: string, file: string | null = null) {
    super(message);
    this.file = file;
  }
}

/** Bump when the preprocessing code changes in a way that changes tensors. */
export const PREPROCESS_ALGORITHM_VERSION = 1;

const REQUIRED_FILES = [
  'config.json',
  'visual/model.onnx',
  'visual/preprocess_cfg.json',
  'textual/model.onnx',
  'textual/tokenizer.json',
] as const;

export async function loadModelFolder(dir: string, modelId?: string): Promise<ModelFolder> {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new ModelFolderError(`model folder ${root} does not exist or is not a folder`);
  }
  for (const file of REQUIRED_FILES) {
    const path = join(root, file);
    if (!existsSync(path)) throw new ModelFolderError(`model folder ${root} is missing ${file}`, file);
    if (!statSync(path).isFile()) throw new ModelFolderError(`${join(root, file)} is not a file`, file);
  }
  for (const onnx of ['visual/model.onnx', 'textual/model.onnx']) {
    for (const data of await externalDataFiles(join(root, onnx))) {
      const rel = join(dirname(onnx), data);
      if (!existsSync(join(root, rel))) {
        // Architecture-only benchmark folders ship a script that writes their weights instead of the weights.
        const materialize = existsSync(join(root, 'materialize.mjs'))
          ? `; this folder writes its weights with \`node ${join(root, 'materialize.mjs')} ${root} [OUT_DIR]\`` : '';
        throw new ModelFolderError(`model folder ${root} is missing ${rel} (the weights of ${onnx})${materialize}`, rel);
      }
    }
  }

  const config = await readJsonObject(root, 'config.json');
  const dim = config.embed_dim;
  if (!Number.isInteger(dim) || (dim as number) <= 0) {
    throw new ModelFolderError(`config.json: embed_dim must be a positive integer, got ${JSON.stringify(dim)}`, 'config.json');
  }
  const textCfg = isObject(config.text_cfg) ? config.text_cfg : {};
  const contextLength = textCfg.context_length ?? 77;
  if (!Number.isInteger(contextLength) || (contextLength as number) < 2) {
    throw new ModelFolderError(`config.json: text_cfg.context_length must be an integer ≥ 2`, 'config.json');
  }

  const preprocessCfg = parsePreprocessCfg(await readJsonObject(root, 'visual/preprocess_cfg.json'));
  const optional = (file: string): string | null => (existsSync(join(root, file)) ? join(root, file) : null);

  return {
    dir: root,
    modelId: modelId ?? basename(root),
    dim: dim as number,
    contextLength: contextLength as number,
    preprocessCfg,
    preprocessVersion: preprocessVersionOf(preprocessCfg),
    visualModelPath: join(root, 'visual/model.onnx'),
    textualModelPath: join(root, 'textual/model.onnx'),
    tokenizerPath: join(root, 'textual/tokenizer.json'),
    tokenizerConfigPath: optional('textual/tokenizer_config.json'),
    specialTokensMapPath: optional('textual/special_tokens_map.json'),
  };
}

/** Stable short string: the algorithm version plus a hash of the normalised cfg. */
export function preprocessVersionOf(cfg: PreprocessCfg): string {
  const canonical = JSON.stringify([
    cfg.width, cfg.height, cfg.mean, cfg.std, cfg.interpolation, cfg.resizeMode, cfg.fillColor,
  ]);
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 16);
  return `pp${PREPROCESS_ALGORITHM_VERSION}-${hash}`;
}

export function parsePreprocessCfg(raw: Record<string, unknown>): PreprocessCfg {
  const file = 'visual/preprocess_cfg.json';
  const fail = (what: string): never => {
    throw new ModelFolderError(`${file}: ${what}`, file);
  };
  const size = raw.size;
  let width: unknown;
  let height: unknown;
  if (typeof size === 'number') {
    width = height = size;
  } else if (Array.isArray(size) && size.length === 2) {
    [height, width] = size; // open_clip stores (H, W)
  } else {
    fail(`size must be a number or [height, width], got ${JSON.stringify(size)}`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) < 1 || (height as number) < 1) {
    fail(`size must hold positive integers, got ${JSON.stringify(size)}`);
  }
  const triple = (key: 'mean' | 'std'): [number, number, number] => {
    const v = raw[key];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      return fail(`${key} must be three numbers, got ${JSON.stringify(v)}`);
    }
    return [v[0], v[1], v[2]];
  };
  const mean = triple('mean');
  const std = triple('std');
  if (std.some((s) => s <= 0)) fail('std values must be positive');

  const interpolation = String(raw.interpolation ?? 'bicubic').toLowerCase();
  if (!['bicubic', 'bilinear', 'nearest', 'lanczos'].includes(interpolation)) {
    fail(`unsupported interpolation '${interpolation}'`);
  }
  const resizeMode = String(raw.resize_mode ?? 'shortest').toLowerCase();
  if (!['shortest', 'longest', 'squash'].includes(resizeMode)) fail(`unsupported resize_mode '${resizeMode}'`);
  const mode = raw.mode ?? 'RGB';
  if (mode !== 'RGB') fail(`unsupported mode '${String(mode)}' (only RGB)`);
  const fill = raw.fill_color ?? 0;
  if (typeof fill !== 'number' || fill < 0 || fill > 255) fail(`fill_color must be 0..255, got ${JSON.stringify(fill)}`);

  return {
    width: width as number,
    height: height as number,
    mean,
    std,
    interpolation: interpolation as Interpolation,
    resizeMode: resizeMode as ResizeMode,
    fillColor: fill as number,
  };
}

async function readJsonObject(root: string, file: string): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(join(root, file), 'utf8'));
  } catch (err) {
    throw new ModelFolderError(`${file} in ${root} is not valid JSON: ${(err as Error).message}`, file);
  }
  if (!isObject(value)) throw new ModelFolderError(`${file} in ${root} must hold a JSON object`, file);
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Small .onnx files usually keep their weights in external files; a large one is self-contained. */
const EXTERNAL_DATA_SCAN_LIMIT = 64 * 1024 * 1024;
// A TensorProto external_data entry is a StringStringEntryProto: field 1 "location", field 2 the file name.
const LOCATION_ENTRY = Buffer.from([0x0a, 0x08, ...Buffer.from('location'), 0x12]);

/** Names of the external data files an ONNX model refers to (best effort, by scanning its bytes). */
export async function externalDataFiles(onnxPath: string): Promise<string[]> {
  const size = statSync(onnxPath).size;
  if (size > EXTERNAL_DATA_SCAN_LIMIT) return [];
  const handle = await open(onnxPath, 'r');
  let bytes: Buffer;
  try {
    bytes = Buffer.alloc(size);
    await handle.read(bytes, 0, size, 0);
  } finally {
    await handle.close();
  }
  const names = new Set<string>();
  for (let at = bytes.indexOf(LOCATION_ENTRY); at >= 0; at = bytes.indexOf(LOCATION_ENTRY, at + 1)) {
    const lengthAt = at + LOCATION_ENTRY.length;
    const length = bytes[lengthAt];
    if (length === undefined || length === 0 || length > 127) continue; // single-byte varint names only
    const name = bytes.subarray(lengthAt + 1, lengthAt + 1 + length).toString('utf8');
    if (/^[\w.\-/]+$/.test(name) && !name.includes('..')) names.add(name);
  }
  return [...names];
}
