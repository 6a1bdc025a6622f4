// Builds a tiny CLIP-layout model folder whose embeddings carry meaning, and simple test photos.
//
// Visual tower: mean of the normalised image over H and W -> [B,3] -> MatMul [3,D] -> L2 normalise.
// Textual tower: Gather rows of a [V,D] table by token id -> sum over the sequence -> L2 normalise.
// A colour word's row is the visual embedding of a photo of that colour, every other row is zero,
// so the text "red" ranks a solid red photo first. The tokenizer is a real CLIP-style byte-level
// BPE (generated here) that @huggingface/tokenizers loads, with the end token as the highest id.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import sharp, { type Sharp } from 'sharp';

const { onnx } = onnxProto;

export type Rgb = [number, number, number];

/** Colours the test model knows, by word. */
export const COLOURS: Record<string, Rgb> = {
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
  cyan: [0, 255, 255],
  magenta: [255, 0, 255],
  orange: [255, 140, 0],
  purple: [128, 0, 128],
  white: [255, 255, 255],
  black: [0, 0, 0],
  grey: [128, 128, 128],
};

export const TEST_MEAN: Rgb = [0.48145466, 0.4578275, 0.40821073];
export const TEST_STD: Rgb = [0.26862954, 0.26130258, 0.27577711];
export const START_TOKEN = '<|startoftext|>';
export const END_TOKEN = '<|endoftext|>';

export interface TestModelOptions {
  /** Square model input size. Default 32. */
  imageSize?: number;
  /** Embedding dimension (≥ 3). Default 8. */
  dim?: number;
  /** Fix the batch dimension of both towers at 1, as some published models do. Default false. */
  fixedBatch?: boolean;
  /** Text input type. Default int32. */
  textType?: 'int32' | 'int64';
  contextLength?: number;
}

/** Writes the model folder into `dir` (created if needed) and returns `dir`. */
export async function buildTestModel(dir: string, options: TestModelOptions = {}): Promise<string> {
  const size = options.imageSize ?? 32;
  const dim = options.dim ?? 8;
  const context = options.contextLength ?? 77;
  if (dim < 3) throw new RangeError('dim must be at least 3');
  const batch = options.fixedBatch ? 1 : 'batch';
  const tokenizer = buildClipStyleTokenizer(Object.keys(COLOURS));

  // projection [3, D]: the identity into the first three dimensions
  const projection = new Float32Array(3 * dim);
  for (let c = 0; c < 3; c++) projection[c * dim + c] = 1;
  const table = new Float32Array(tokenizer.vocabSize * dim);
  for (const [word, rgb] of Object.entries(COLOURS)) {
    const id = tokenizer.wordIds.get(word);
    if (id === undefined) throw new Error(`no token for ${word}`);
    normalisedColour(rgb).forEach((v, c) => (table[id * dim + c] = v));
  }

  await mkdir(join(dir, 'visual'), { recursive: true });
  await mkdir(join(dir, 'textual'), { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({
    embed_dim: dim,
    vision_cfg: { image_size: size, layers: 0, width: 3, patch_size: size },
    text_cfg: { context_length: context, vocab_size: tokenizer.vocabSize, width: dim, heads: 1, layers: 0 },
  }, null, 2));
  await writeFile(join(dir, 'visual/preprocess_cfg.json'), JSON.stringify({
    size: [size, size], mode: 'RGB', mean: TEST_MEAN, std: TEST_STD,
    interpolation: 'bicubic', resize_mode: 'shortest', fill_color: 0,
  }, null, 2));
  await writeFile(join(dir, 'visual/model.onnx'), visualModel(size, dim, batch, projection));
  await writeFile(join(dir, 'textual/model.onnx'), textualModel(context, dim, batch, tokenizer.vocabSize, table, options.textType ?? 'int32'));
  await writeFile(join(dir, 'textual/tokenizer.json'), JSON.stringify(tokenizer.json));
  const special = (content: string): Record<string, unknown> =>
    ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false });
  await writeFile(join(dir, 'textual/tokenizer_config.json'), JSON.stringify({
    bos_token: START_TOKEN, eos_token: END_TOKEN, pad_token: END_TOKEN, unk_token: END_TOKEN,
    do_lower_case: true, model_max_length: context, tokenizer_class: 'CLIPTokenizer',
  }, null, 2));
  await writeFile(join(dir, 'textual/special_tokens_map.json'), JSON.stringify({
    bos_token: special(START_TOKEN), eos_token: special(END_TOKEN), pad_token: special(END_TOKEN), unk_token: special(END_TOKEN),
  }, null, 2));
  return dir;
}

/** The colour after CLIP normalisation: what the visual tower averages for a solid photo. */
export function normalisedColour(rgb: Rgb): Rgb {
  return [0, 1, 2].map((c) => (rgb[c] / 255 - TEST_MEAN[c]) / TEST_STD[c]) as Rgb;
}

/** Writes a solid-colour photo; the format follows the extension (.jpg, .png, .webp). */
export async function writeSolidPhoto(path: string, rgb: Rgb, size: number | { width: number; height: number } = 64): Promise<string> {
  const { width, height } = typeof size === 'number' ? { width: size, height: size } : size;
  const image = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  await writeImage(path, image);
  return path;
}

/**
 * Writes a photo split in two: `first` on the left half, `second` on the right half. With an EXIF
 * `orientation`, the stored pixels are transformed so that a viewer that applies the tag shows
 * exactly that picture (left/right halves as given).
 */
export async function writeSplitPhoto(
  path: string,
  first: Rgb,
  second: Rgb,
  size: { width: number; height: number },
  orientation = 1,
): Promise<string> {
  const { width, height } = size;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) pixels.set(x < width / 2 ? first : second, (y * width + x) * 3);
  }
  let image = sharp(pixels, { raw: { width, height, channels: 3 } });
  if (orientation !== 1) {
    // store the inverse transform; sharp's autoOrient (and any viewer) undoes it
    const { data, info } = await inverseOrientation(image, orientation).raw().toBuffer({ resolveWithObject: true });
    image = sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).withMetadata({ orientation });
  }
  await writeImage(path, image);
  return path;
}

/** Note: sharp mirrors (flip/flop) before it rotates, whatever the call order. */
function inverseOrientation(image: Sharp, orientation: number): Sharp {
  switch (orientation) {
    case 2: return image.flop();
    case 3: return image.rotate(180);
    case 4: return image.flip();
    case 5: return image.rotate(270).flop(); // transpose: its own inverse
    case 6: return image.rotate(270);
    case 7: return image.rotate(90).flop(); // transverse: its own inverse
    case 8: return image.rotate(90);
    default: throw new RangeError(`orientation must be 1..8, got ${orientation}`);
  }
}

async function writeImage(path: string, image: Sharp): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const ext = extname(path).toLowerCase();
  if (ext === '.png') await image.png().toFile(path);
  else if (ext === '.webp') await image.webp({ quality: 90 }).toFile(path);
  else if (ext === '.jpg' || ext === '.jpeg') await image.jpeg({ quality: 92 }).toFile(path);
  else throw new Error(`writeImage: unknown extension ${ext}`);
}

// ---------- ONNX graphs ----------

type Dim = number | string;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT32 = onnx.TensorProto.DataType.INT32;
const INT64 = onnx.TensorProto.DataType.INT64;

function valueInfo(name: string, elemType: number, dims: Dim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function floatTensor(name: string, dims: number[], values: Float32Array): OnnxTypes.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) };
}

function node(opType: string, inputs: string[], outputs: string[], ints: Record<string, number[]> = {}): OnnxTypes.INodeProto {
  return {
    opType,
    name: `${opType}_${outputs[0]}`,
    input: inputs,
    output: outputs,
    attribute: Object.entries(ints).map(([name, values]) =>
      name === 'keepdims' || name === 'axis' || name === 'to'
        ? { name, type: onnx.AttributeProto.AttributeType.INT, i: values[0] }
        : { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values }),
  };
}

/** L2 normalisation of `input` [B, D] into `output`. */
function normaliseNodes(input: string, output: string): OnnxTypes.INodeProto[] {
  return [
    node('ReduceL2', [input], ['norm'], { axes: [1], keepdims: [1] }),
    node('Add', ['norm', 'epsilon'], ['norm_safe']),
    node('Div', [input, 'norm_safe'], [output]),
  ];
}

function encodeModel(graph: OnnxTypes.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    producerName: 'photo-search test-model',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  }).finish();
}

function visualModel(size: number, dim: number, batch: Dim, projection: Float32Array): Uint8Array {
  return encodeModel({
    name: 'test_visual',
    node: [
      node('ReduceMean', ['image'], ['mean_colour'], { axes: [2, 3], keepdims: [0] }),
      node('MatMul', ['mean_colour', 'projection'], ['features']),
      ...normaliseNodes('features', 'embedding'),
    ],
    initializer: [floatTensor('projection', [3, dim], projection), floatTensor('epsilon', [], new Float32Array([1e-12]))],
    input: [valueInfo('image', FLOAT, [batch, 3, size, size])],
    output: [valueInfo('embedding', FLOAT, [batch, dim])],
  });
}

function textualModel(context: number, dim: number, batch: Dim, vocab: number, table: Float32Array, type: 'int32' | 'int64'): Uint8Array {
  return encodeModel({
    name: 'test_textual',
    node: [
      node('Gather', ['token_table', 'text'], ['token_vectors'], { axis: [0] }),
      node('ReduceSum', ['token_vectors', 'sequence_axis'], ['features'], { keepdims: [0] }),
      ...normaliseNodes('features', 'embedding'),
    ],
    initializer: [
      floatTensor('token_table', [vocab, dim], table),
      floatTensor('epsilon', [], new Float32Array([1e-12])),
      { name: 'sequence_axis', dims: [1], dataType: INT64, int64Data: [1] },
    ],
    input: [valueInfo('text', type === 'int64' ? INT64 : INT32, [batch, context])],
    output: [valueInfo('embedding', FLOAT, [batch, dim])],
  });
}

// ---------- CLIP-style byte-level BPE tokenizer ----------

/** GPT-2 / CLIP byte-to-unicode table, in CLIP's vocabulary order. */
function byteAlphabet(): string[] {
  const bytes: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bytes.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bytes.push(b);
  for (let b = 0xae; b <= 0xff; b++) bytes.push(b);
  const chars = bytes.map((b) => String.fromCharCode(b));
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(String.fromCharCode(256 + n++));
    }
  }
  return chars;
}

/** Splits a lower-case ASCII word into symbols and applies merges by rank, as BPE does. */
function bpe(word: string, ranks: Map<string, number>): string[] {
  const symbols = [...word];
  symbols[symbols.length - 1] += '</w>';
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i < symbols.length - 1; i++) {
      const rank = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) return symbols;
    symbols.splice(best, 2, symbols[best] + symbols[best + 1]);
  }
}

interface GeneratedTokenizer {
  json: Record<string, unknown>;
  vocabSize: number;
  /** Token id of each whole word (its "word</w>" token). */
  wordIds: Map<string, number>;
}

function buildClipStyleTokenizer(words: string[]): GeneratedTokenizer {
  const alphabet = byteAlphabet();
  const vocab = new Map<string, number>();
  for (const c of alphabet) vocab.set(c, vocab.size);
  for (const c of alphabet) vocab.set(`${c}</w>`, vocab.size);
  const merges: string[] = [];
  const ranks = new Map<string, number>();
  const wordIds = new Map<string, number>();
  for (const word of words) {
    // add merges (each ranked below all earlier ones, so earlier words keep their tokens)
    for (let symbols = bpe(word, ranks); symbols.length > 1; symbols = bpe(word, ranks)) {
      const pair = `${symbols[0]} ${symbols[1]}`;
      ranks.set(pair, merges.length);
      merges.push(pair);
      const merged = symbols[0] + symbols[1];
      if (!vocab.has(merged)) vocab.set(merged, vocab.size);
    }
    wordIds.set(word, vocab.get(`${word}</w>`) as number);
  }
  const startId = vocab.size;
  const endId = vocab.size + 1;
  vocab.set(START_TOKEN, startId);
  vocab.set(END_TOKEN, endId);
  const added = (id: number, content: string, normalized: boolean): Record<string, unknown> =>
    ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized, special: true });
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(startId, START_TOKEN, true), added(endId, END_TOKEN, false)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing', sep: [END_TOKEN, endId], cls: [START_TOKEN, startId], trim_offsets: false, add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: END_TOKEN,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
  return { json, vocabSize: vocab.size, wordIds };
}

// ---------- an M-CLIP-shaped multilingual text tower (XLM-R layout) ----------

/** Hebrew colour words the multilingual test tower knows, mapped onto the same colours as the English ones. */
export const HEBREW_COLOURS: Record<string, keyof typeof COLOURS> = {
  אדום: 'red',
  ירוק: 'green',
  כחול: 'blue',
  צהוב: 'yellow',
  כתום: 'orange',
  סגול: 'purple',
  לבן: 'white',
  שחור: 'black',
  אפור: 'grey',
};

export interface MultilingualTestModelOptions {
  /** Must match the image test model's (default 32 and 8). */
  imageSize?: number;
  dim?: number;
  contextLength?: number;
  /** Type of input_ids and attention_mask. Default int32, as Immich exports M-CLIP. */
  textType?: 'int32' | 'int64';
  /** Keep the token table in an external data file named after its tensor, as Immich first published M-CLIP. */
  externalWeights?: boolean;
}

/**
 * Writes a folder shaped like Immich's `XLM-Roberta-Large-Vit-B-32`: the image test model's visual tower
 * (M-CLIP ships OpenAI's) and a text tower that takes `input_ids` and `attention_mask`, mean-pools token
 * vectors over the mask and normalises, with a SentencePiece-style Unigram tokenizer.json (<s> … </s>,
 * <pad>). English and Hebrew colour words map onto the image test model's colour directions, so "אדום"
 * finds the red photo in a library embedded by buildTestModel, with no re-embedding. The padding token's
 * vector points at blue: a loader that ignored the attention mask would find blue for every short query.
 */
export async function buildMultilingualTestModel(dir: string, options: MultilingualTestModelOptions = {}): Promise<string> {
  const size = options.imageSize ?? 32;
  const dim = options.dim ?? 8;
  const context = options.contextLength ?? 77;
  const words = new Map<string, Rgb>([
    ...Object.entries(COLOURS),
    ...Object.entries(HEBREW_COLOURS).map(([word, english]) => [word, COLOURS[english]] as [string, Rgb]),
  ]);
  const tokenizer = buildUnigramTokenizer([...words.keys()]);
  const table = new Float32Array(tokenizer.vocabSize * dim);
  for (const [word, rgb] of words) {
    const id = tokenizer.wordIds.get(word) as number;
    normalisedColour(rgb).forEach((v, c) => (table[id * dim + c] = v));
  }
  normalisedColour(COLOURS.blue).forEach((v, c) => (table[tokenizer.padId * dim + c] = v));
  const projection = new Float32Array(3 * dim);
  for (let c = 0; c < 3; c++) projection[c * dim + c] = 1;

  await mkdir(join(dir, 'visual'), { recursive: true });
  await mkdir(join(dir, 'textual'), { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({
    embed_dim: dim,
    vision_cfg: { image_size: size, layers: 0, width: 3, patch_size: size },
    text_cfg: { context_length: context, hf_model_name: 'xlm-roberta-large (test)', vocab_size: tokenizer.vocabSize },
  }, null, 2));
  await writeFile(join(dir, 'visual/preprocess_cfg.json'), JSON.stringify({
    size: [size, size], mode: 'RGB', mean: TEST_MEAN, std: TEST_STD,
    interpolation: 'bicubic', resize_mode: 'shortest', fill_color: 0,
  }, null, 2));
  await writeFile(join(dir, 'visual/model.onnx'), visualModel(size, dim, 'batch', projection));
  const tableName = 'embeddings.word_embeddings.weight';
  const tableTensor: OnnxTypes.ITensorProto = options.externalWeights
    ? {
      name: tableName, dims: [tokenizer.vocabSize, dim], dataType: FLOAT,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: tableName }, { key: 'offset', value: '0' }, { key: 'length', value: String(table.byteLength) }],
    }
    : floatTensor(tableName, [tokenizer.vocabSize, dim], table);
  if (options.externalWeights) await writeFile(join(dir, 'textual', tableName), new Uint8Array(table.buffer));
  const idType = options.textType === 'int64' ? INT64 : INT32;
  await writeFile(join(dir, 'textual/model.onnx'), encodeModel({
    name: 'test_mclip_textual',
    node: [
      node('Gather', [tableName, 'input_ids'], ['token_vectors'], { axis: [0] }),
      node('Cast', ['attention_mask'], ['mask_float'], { to: [FLOAT] }),
      node('Unsqueeze', ['mask_float', 'last_axis'], ['mask_column']),
      node('Mul', ['token_vectors', 'mask_column'], ['masked']),
      node('ReduceSum', ['masked', 'sequence_axis'], ['features'], { keepdims: [0] }),
      ...normaliseNodes('features', 'embedding'),
    ],
    initializer: [
      tableTensor,
      floatTensor('epsilon', [], new Float32Array([1e-12])),
      { name: 'sequence_axis', dims: [1], dataType: INT64, int64Data: [1] },
      { name: 'last_axis', dims: [1], dataType: INT64, int64Data: [2] },
    ],
    // fixed [1, 77], as Immich exports M-CLIP (its dynamic axes are commented out)
    input: [valueInfo('input_ids', idType, [1, context]), valueInfo('attention_mask', idType, [1, context])],
    output: [valueInfo('embedding', FLOAT, [1, dim])],
  }));
  await writeFile(join(dir, 'textual/tokenizer.json'), JSON.stringify(tokenizer.json));
  await writeFile(join(dir, 'textual/tokenizer_config.json'), JSON.stringify({
    bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', cls_token: '<s>', sep_token: '</s>',
    mask_token: { content: '<mask>', lstrip: true, normalized: true, rstrip: false, single_word: false },
    model_max_length: 512, tokenizer_class: 'XLMRobertaTokenizer',
  }, null, 2));
  await writeFile(join(dir, 'textual/special_tokens_map.json'), JSON.stringify({
    bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', cls_token: '<s>', sep_token: '</s>', mask_token: '<mask>',
  }, null, 2));
  return dir;
}

/** A SentencePiece-style Unigram tokenizer (XLM-R's special tokens and ids 0-3), one piece per word. */
function buildUnigramTokenizer(words: string[]): { json: Record<string, unknown>; vocabSize: number; padId: number; wordIds: Map<string, number> } {
  const specials = ['<s>', '<pad>', '</s>', '<unk>'];
  const vocab: [string, number][] = specials.map((t) => [t, 0]);
  vocab.push(['▁', -3]);
  const wordIds = new Map<string, number>();
  for (const word of words) {
    wordIds.set(word, vocab.length);
    vocab.push([`▁${word}`, -1]);
  }
  const chars = new Set([...words.join(''), ...'abcdefghijklmnopqrstuvwxyz0123456789']);
  for (const c of chars) vocab.push([c, -6]);
  const maskId = vocab.length;
  vocab.push(['<mask>', 0]);
  const added = (id: number, content: string): Record<string, unknown> =>
    ({ id, content, single_word: false, lstrip: content === '<mask>', rstrip: false, normalized: false, special: true });
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...specials.map((t, id) => added(id, t)), added(maskId, '<mask>')],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: {
        '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] },
        '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
      },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
  };
  return { json, vocabSize: vocab.length, padId: 1, wordIds };
}
