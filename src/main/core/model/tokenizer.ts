// CLIP text tokenisation: @huggingface/tokenizers reads the model's tokenizer.json (the real BPE, or
// M-CLIP's XLM-R SentencePiece/Unigram model), and this module adds CLIP's framing: <start> text <end>, truncated to the context length
// (the end token is always kept) and padded.
//
// Padding: we pad with the tokenizer config's pad_token (<|endoftext|> = 49407 for the CLIP
// models), as Immich — which publishes these model folders — does; without a pad_token we pad
// with 0 as OpenAI's clip.tokenize does. Either works: the text tower reads its features at the
// first end token (argmax of the ids), and nothing after it affects the result. Towers that pool over
// every position (M-CLIP) take an attention mask instead, which encodeBatchWithMask gives; the framing is
// the tokenizer's own bos/eos (<s> … </s> for XLM-R), padded with its pad_token (<pad>).

import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';

export interface TokenizerFiles {
  tokenizerPath: string;
  tokenizerConfigPath?: string | null;
  specialTokensMapPath?: string | null;
  /** Default 77. */
  contextLength?: number;
}

export class TokenizerLoadError extends Error {
  override name = 'TokenizerLoadError';
}

type TokenSpec = string | { content?: unknown } | null | undefined;

export class ClipTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly contextLength: number,
    readonly startId: number,
    readonly endId: number,
    readonly padId: number,
    private readonly lowercase: boolean,
    private readonly specialTexts: string[],
  ) {}

  static async load(files: TokenizerFiles): Promise<ClipTokenizer> {
    const contextLength = files.contextLength ?? 77;
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new TokenizerLoadError(`context length must be an integer ≥ 2, got ${contextLength}`);
    }
    const tokenizerJson = await readJson(files.tokenizerPath);
    const config = files.tokenizerConfigPath ? await readJson(files.tokenizerConfigPath) : {};
    const specialMap = files.specialTokensMapPath ? await readJson(files.specialTokensMapPath) : {};
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, config);
    } catch (err) {
      throw new TokenizerLoadError(`cannot load ${files.tokenizerPath}: ${(err as Error).message}`, { cause: err });
    }

    const tokenText = (key: string, fallback: string | null): string | null =>
      specText(config[key] as TokenSpec) ?? specText(specialMap[key] as TokenSpec) ?? fallback;
    const idOf = (key: string, text: string | null): number | null => {
      if (text === null) return null;
      const id = tokenizer.token_to_id(text);
      if (id === undefined) throw new TokenizerLoadError(`${key} '${text}' is not in ${files.tokenizerPath}`);
      return id;
    };
    const startText = tokenText('bos_token', '<|startoftext|>');
    const endText = tokenText('eos_token', '<|endoftext|>');
    const startId = idOf('bos_token', startText) as number;
    const endId = idOf('eos_token', endText) as number;
    const padId = idOf('pad_token', tokenText('pad_token', null)) ?? 0;
    // CLIP's tokenizers lowercase (their configs may not say so); other tokenizers (XLM-R, a cased
    // SentencePiece model) lowercase only when their config asks.
    const lowercase = typeof config.do_lower_case === 'boolean' ? config.do_lower_case : startText === '<|startoftext|>';
    const specials = [startText, endText].filter((t): t is string => t !== null && t.length > 0);
    return new ClipTokenizer(tokenizer, contextLength, startId, endId, padId, lowercase, specials);
  }

  /** Start token, the text's tokens, end token: untruncated. */
  tokenIds(text: string): number[] {
    const ids = this.tokenizer.encode(this.clean(text), { add_special_tokens: false }).ids;
    return [this.startId, ...ids, this.endId];
  }

  /** One row of `contextLength` ids: truncated keeping the end token, then padded. */
  encode(text: string): Int32Array {
    const row = new Int32Array(this.contextLength).fill(this.padId);
    this.writeRow(text, row);
    return row;
  }

  /** Row-major [texts.length, contextLength] ids, ready for the text tower. */
  encodeBatch(texts: readonly string[]): Int32Array {
    return this.encodeBatchWithMask(texts).ids;
  }

  /**
   * The ids as encodeBatch gives them, and the attention mask that towers such as M-CLIP's XLM-R take:
   * 1 for each token of the text (start and end tokens included), 0 for padding.
   */
  encodeBatchWithMask(texts: readonly string[]): { ids: Int32Array; mask: Int32Array } {
    const ids = new Int32Array(texts.length * this.contextLength).fill(this.padId);
    const mask = new Int32Array(texts.length * this.contextLength);
    texts.forEach((text, i) => {
      const length = this.writeRow(text, ids.subarray(i * this.contextLength, (i + 1) * this.contextLength));
      mask.fill(1, i * this.contextLength, i * this.contextLength + length);
    });
    return { ids, mask };
  }

  /** Writes the row's tokens; returns how many (the rest is padding). */
  private writeRow(text: string, row: Int32Array): number {
    const ids = this.tokenIds(text);
    if (ids.length > this.contextLength) {
      ids.length = this.contextLength;
      ids[this.contextLength - 1] = this.endId;
    }
    row.set(ids);
    return ids.length;
  }

  /** CLIP's text cleanup (html unescape, whitespace collapse, lowercase), and special tokens
   * typed as text are removed so that a query cannot end itself early. */
  private clean(text: string): string {
    let t = unescapeHtml(unescapeHtml(text));
    for (const special of this.specialTexts) t = t.split(special).join(' ');
    t = t.normalize('NFC').replace(/\s+/g, ' ').trim();
    return this.lowercase ? t.toLowerCase() : t;
  }
}

function specText(spec: TokenSpec): string | null {
  if (typeof spec === 'string') return spec;
  if (spec && typeof spec === 'object' && typeof spec.content === 'string') return spec.content;
  return null;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new TokenizerLoadError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenizerLoadError(`${path} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The entities people actually type or paste; Python's html.unescape knows more. */
export function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}
