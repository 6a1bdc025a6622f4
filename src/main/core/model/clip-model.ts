// The two CLIP towers as onnxruntime-node sessions. Each tower is created on first use: search
// needs only the text tower, indexing only the image tower. Input and output names, the batch
// dimension and the id type are read from the model, not assumed. A text tower takes either one input
// (OpenCLIP's `text`: token ids) or token ids and an attention mask (M-CLIP's XLM-R: `input_ids` and
// `attention_mask`, as Immich exports it), told apart by the session's input names.

import { availableParallelism } from 'node:os';
import ort from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { loadModelFolder, type ModelFolder } from './model-folder.js';
import { ClipTokenizer } from './tokenizer.js';
import { sumOfSquares } from '../vector/vector-math.js';
import type { ExecutionProvider, ProviderChoice } from '../../../shared/types.js';
import { explainLoadFailure, openWithFallback, providerCandidates, unavailableReason, type Fallback } from './execution-providers.js';

export interface ClipModelOptions {
  /** Intra-op threads per session. Default: all cores. */
  threads?: number;
  /** Most images per run when the batch dimension is dynamic. Default 16. */
  maxBatch?: number;
  /** Execution provider of both towers (execution-providers.ts). Default 'cpu'. */
  provider?: ProviderChoice;
  /** Creates an ONNX session on one provider; tests inject failing ones. Default: onnxruntime-node's. */
  createSession?: SessionFactory;
}

export type SessionFactory = (path: string, options: InferenceSession.SessionOptions, provider: ExecutionProvider) => Promise<InferenceSession>;

/**
 * onnxruntime-node's session on one provider; a provider whose libraries are missing fails without trying, one
 * whose libraries do not load says which of their dependencies are missing. DirectML refuses a session with
 * memory patterns enabled (ORT's DirectML EP documentation), which onnxruntime-node leaves on unless told.
 */
const createOrtSession: SessionFactory = async (path, options, provider) => {
  const unavailable = unavailableReason(provider);
  if (unavailable) throw new Error(unavailable);
  try {
    return await ort.InferenceSession.create(path, {
      ...options, executionProviders: [provider], ...(provider === 'dml' ? { enableMemPattern: false } : {}),
    });
  } catch (error) {
    const explained = /Failed to load shared library/.test((error as Error).message) ? explainLoadFailure(provider) : null;
    throw explained ? new Error(explained) : error;
  }
};

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

interface Tower {
  session: InferenceSession;
  inputName: string;
  inputType: string;
  /** The model's fixed batch size, or null when the batch dimension is dynamic. */
  fixedBatch: number | null;
  outputName: string;
  /** Text towers that pool over the tokens (M-CLIP): the attention mask input, 1 for tokens, 0 for padding. */
  maskName: string | null;
  maskType: string | null;
  provider: ExecutionProvider;
  /** Providers tried before this one, with why each was passed over. */
  fallbacks: Fallback[];
}

export interface TowerInfo {
  inputName: string;
  outputName: string;
  fixedBatch: number | null;
  /** The attention mask input of a text tower that takes one, else null. */
  maskName: string | null;
  provider: ExecutionProvider;
  fallbacks: Fallback[];
}

export class ClipModel {
  private visual: Promise<Tower> | null = null;
  private textual: Promise<Tower> | null = null;
  private tokenizerPromise: Promise<ClipTokenizer> | null = null;
  private readonly threads: number;
  private readonly maxBatch: number;
  private readonly provider: ProviderChoice;
  private readonly createSession: SessionFactory;

  private constructor(
    readonly folder: ModelFolder,
    options: ClipModelOptions,
  ) {
    this.threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
    this.maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 16));
    this.provider = options.provider ?? 'cpu';
    this.createSession = options.createSession ?? createOrtSession;
  }

  /** Cheap: validates the folder; the ONNX sessions are created on first use. */
  static async load(folder: ModelFolder | string, options: ClipModelOptions = {}): Promise<ClipModel> {
    const loaded = typeof folder === 'string' ? await loadModelFolder(folder) : folder;
    return new ClipModel(loaded, options);
  }

  get dim(): number {
    return this.folder.dim;
  }

  async visualInfo(): Promise<TowerInfo> {
    return towerInfo(await this.visualTower());
  }

  async textualInfo(): Promise<TowerInfo> {
    return towerInfo(await this.textualTower());
  }

  tokenizer(): Promise<ClipTokenizer> {
    this.tokenizerPromise ??= ClipTokenizer.load({
      tokenizerPath: this.folder.tokenizerPath,
      tokenizerConfigPath: this.folder.tokenizerConfigPath,
      specialTokensMapPath: this.folder.specialTokensMapPath,
      contextLength: this.folder.contextLength,
    }).catch((err: unknown) => {
      this.tokenizerPromise = null;
      throw err;
    });
    return this.tokenizerPromise;
  }

  /** Embeds preprocessed images (each float32 [3, H, W]); returns L2-normalised vectors. */
  async embedImages(images: readonly Float32Array[]): Promise<Float32Array[]> {
    if (images.length === 0) return [];
    const { width, height } = this.folder.preprocessCfg;
    const sampleSize = 3 * height * width;
    images.forEach((img, i) => {
      if (img.length !== sampleSize) {
        throw new RangeError(`image ${i} has ${img.length} values; the model takes 3x${height}x${width} = ${sampleSize}`);
      }
    });
    const tower = await this.visualTower();
    return this.runBatched(tower, images.length, [3, height, width], (start, count, rows) => {
      const batch = new Float32Array(rows * sampleSize);
      for (let i = 0; i < count; i++) batch.set(images[start + i], i * sampleSize);
      return batch;
    });
  }

  /** Embeds text queries; returns L2-normalised vectors. */
  async embedTexts(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const [tower, tokenizer] = await Promise.all([this.textualTower(), this.tokenizer()]);
    const context = tokenizer.contextLength;
    const { ids, mask } = tokenizer.encodeBatchWithMask(texts);
    const rowsOf = (values: Int32Array, type: string, start: number, count: number, rows: number): Int32Array | BigInt64Array => {
      const batch = type === 'int64' ? new BigInt64Array(rows * context) : new Int32Array(rows * context);
      // padding rows (fixed batch) hold id 0 (and mask 0): harmless, their outputs are dropped
      const chunk = values.subarray(start * context, (start + count) * context);
      if (batch instanceof BigInt64Array) chunk.forEach((id, i) => (batch[i] = BigInt(id)));
      else batch.set(chunk);
      return batch;
    };
    return this.runBatched(tower, texts.length, [context], (start, count, rows) => rowsOf(ids, tower.inputType, start, count, rows),
      tower.maskName ? (start, count, rows) => rowsOf(mask, tower.maskType as string, start, count, rows) : undefined);
  }

  /** Releases both sessions (call when no embedding is in flight); later calls re-create them. */
  async release(): Promise<void> {
    const towers = [this.visual, this.textual];
    this.visual = this.textual = null;
    for (const tower of towers) {
      if (!tower) continue;
      try {
        await (await tower).session.release();
      } catch {
        // a tower that failed to load has nothing to release
      }
    }
  }

  private async runBatched(
    tower: Tower,
    total: number,
    sampleShape: number[],
    makeBatch: (start: number, count: number, rows: number) => Float32Array | Int32Array | BigInt64Array,
    makeMask?: (start: number, count: number, rows: number) => Int32Array | BigInt64Array,
  ): Promise<Float32Array[]> {
    const batchSize = tower.fixedBatch ?? Math.min(this.maxBatch, total);
    const results: Float32Array[] = [];
    for (let start = 0; start < total; start += batchSize) {
      const count = Math.min(batchSize, total - start);
      // a fixed batch is always filled up to its size (the padding rows are dropped)
      const rows = tower.fixedBatch ?? count;
      const data = makeBatch(start, count, rows);
      const type = tower.inputType as 'float32' | 'int32' | 'int64';
      const feeds: Record<string, Tensor> = { [tower.inputName]: new ort.Tensor(type, data, [rows, ...sampleShape]) };
      if (tower.maskName && makeMask) {
        feeds[tower.maskName] = new ort.Tensor(tower.maskType as 'int32' | 'int64', makeMask(start, count, rows), [rows, ...sampleShape]);
      }
      let output: Tensor;
      try {
        const out = await tower.session.run(feeds);
        output = out[tower.outputName] as Tensor;
      } catch (err) {
        throw new Error(`model ${this.folder.modelId} failed to run: ${(err as Error).message}`, { cause: err });
      }
      const vectors = output.data as Float32Array;
      const dim = this.folder.dim;
      if (output.type !== 'float32' || vectors.length !== rows * dim) {
        throw new Error(
          `model ${this.folder.modelId}: output '${tower.outputName}' is ${output.type} [${output.dims.join(', ')}], expected float32 [${rows}, ${dim}]`,
        );
      }
      for (let i = 0; i < count; i++) results.push(l2Normalise(vectors.slice(i * dim, (i + 1) * dim)));
    }
    return results;
  }

  private visualTower(): Promise<Tower> {
    this.visual ??= this.createTower(this.folder.visualModelPath, 'visual', ['float32']).catch((err: unknown) => {
      this.visual = null;
      throw err;
    });
    return this.visual;
  }

  private textualTower(): Promise<Tower> {
    this.textual ??= this.createTower(this.folder.textualModelPath, 'textual', ['int32', 'int64']).catch((err: unknown) => {
      this.textual = null;
      throw err;
    });
    return this.textual;
  }

  /** The tower on the first provider that loads it and runs a warm-up (execution-providers.ts). */
  private async createTower(path: string, which: 'visual' | 'textual', inputTypes: string[]): Promise<Tower> {
    const opened = await openWithFallback(providerCandidates(this.provider), {
      create: (provider) => this.createTowerOn(path, which, inputTypes, provider),
      warmUp: (tower) => this.warmUp(tower, which),
      release: (tower) => tower.session.release(),
    });
    return { ...opened.session, fallbacks: opened.fallbacks };
  }

  /** One real run on synthetic input (zeros; token id 0): a provider that loads but cannot run fails here. */
  private async warmUp(tower: Tower, which: 'visual' | 'textual'): Promise<void> {
    const { width, height } = this.folder.preprocessCfg;
    const shape = which === 'visual' ? [3, height, width] : [this.folder.contextLength];
    const size = shape.reduce((a, b) => a * b, 1);
    const zeros = (rows: number): Float32Array | Int32Array | BigInt64Array =>
      tower.inputType === 'float32' ? new Float32Array(rows * size) : tower.inputType === 'int64' ? new BigInt64Array(rows * size) : new Int32Array(rows * size);
    await this.runBatched(tower, 1, shape, (_start, _count, rows) => zeros(rows), (_start, _count, rows) => zeros(rows) as Int32Array | BigInt64Array);
  }

  private async createTowerOn(path: string, which: 'visual' | 'textual', inputTypes: string[], provider: ExecutionProvider): Promise<Tower> {
    let session: InferenceSession;
    try {
      session = await this.createSession(path, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      }, provider);
    } catch (err) {
      throw new ModelLoadError(`cannot load the ${which} model ${path}: ${(err as Error).message}`, { cause: err });
    }
    const fail = (message: string): never => {
      void session.release().catch(() => undefined);
      throw new ModelLoadError(`${which} model ${path}: ${message}`);
    };
    let input = session.inputMetadata[0];
    let mask: (typeof session.inputMetadata)[number] | null = null;
    if (which === 'textual' && session.inputMetadata.length === 2) {
      // M-CLIP (XLM-R): token ids and an attention mask, by name
      const ids = session.inputMetadata.find((m) => /input_ids|^text$|^ids$/i.test(m.name));
      mask = session.inputMetadata.find((m) => /attention_mask|^mask$/i.test(m.name)) ?? null;
      if (!ids || !mask || ids === mask) {
        fail(`expected token ids and an attention mask (input_ids, attention_mask), found ${session.inputNames.join(', ')}`);
      }
      input = ids as typeof input;
      if (!mask!.isTensor || !inputTypes.includes(mask!.type)) fail(`input '${mask!.name}' must be an int32 or int64 tensor`);
    } else if (session.inputMetadata.length !== 1) {
      fail(`expected ${which === 'textual' ? 'one input (token ids) or two (input_ids, attention_mask)' : 'one input'}, found ${session.inputNames.join(', ')}`);
    }
    if (!input.isTensor) return fail(`input '${input.name}' is not a tensor`);
    if (!inputTypes.includes(input.type)) fail(`input '${input.name}' is ${input.type}, expected ${inputTypes.join(' or ')}`);
    const shape = [...input.shape];
    const expected = which === 'visual' ? [3, this.folder.preprocessCfg.height, this.folder.preprocessCfg.width] : [this.folder.contextLength];
    if (shape.length !== expected.length + 1) {
      fail(`input '${input.name}' has shape [${shape.join(', ')}], expected [batch, ${expected.join(', ')}]`);
    }
    expected.forEach((size, i) => {
      const actual = shape[i + 1];
      if (typeof actual === 'number' && actual > 0 && actual !== size) {
        fail(`input '${input.name}' has shape [${shape.join(', ')}], but the folder's config says [batch, ${expected.join(', ')}]`);
      }
    });
    const batch = shape[0];
    const fixedBatch = typeof batch === 'number' && batch > 0 ? batch : null;
    const outputName = session.outputNames.includes('embedding') ? 'embedding' : session.outputNames[0];
    if (outputName === undefined) fail('the model has no outputs');
    const maskType = mask?.isTensor ? mask.type : null;
    return { session, inputName: input.name, inputType: input.type, fixedBatch, outputName, maskName: mask?.name ?? null, maskType, provider, fallbacks: [] };
  }
}

function towerInfo(tower: Tower): TowerInfo {
  return {
    inputName: tower.inputName, outputName: tower.outputName, fixedBatch: tower.fixedBatch, maskName: tower.maskName,
    provider: tower.provider, fallbacks: tower.fallbacks,
  };
}

/**
 * In place; a zero vector stays zero. Divides by the norm where scaleRowsToUnit multiplies by its inverse (the
 * two can differ in the last bit), so that the vectors stored for a photo stay what they were.
 */
export function l2Normalise(v: Float32Array): Float32Array {
  const norm = Math.sqrt(sumOfSquares(v));
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}
