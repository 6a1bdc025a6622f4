import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ClipTokenizer, unescapeHtml } from '../src/main/core/model/tokenizer.js';
import { COLOURS, buildTestModel } from './helpers/test-model.js';

const SHARED = fileURLToPath(new URL('../../../shared', import.meta.url));
const CLIP_TOKENIZER = join(SHARED, 'data/clip-tokenizer');
const skipClip = existsSync(join(CLIP_TOKENIZER, 'tokenizer.json')) ? false : `${CLIP_TOKENIZER} is absent`;

let tmp: string;
let clip: ClipTokenizer | null = null;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'model-tokenizer-'));
  if (!skipClip) {
    clip = await ClipTokenizer.load({
      tokenizerPath: join(CLIP_TOKENIZER, 'tokenizer.json'),
      tokenizerConfigPath: join(CLIP_TOKENIZER, 'tokenizer_config.json'),
      specialTokensMapPath: join(CLIP_TOKENIZER, 'special_tokens_map.json'),
    });
  }
});
after(async () => rm(tmp, { recursive: true, force: true }));

test('CLIP tokenizer matches every published reference row', { skip: skipClip }, (t) => {
  const path = join(CLIP_TOKENIZER, 'reference-ids.tsv');
  if (!existsSync(path)) return t.skip(`${path} is absent`);
  const rows = readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() && !line.startsWith('#'));
  assert.ok(rows.length > 0);
  let matched = 0;
  for (const row of rows) {
    const [text, withStartEnd, ids] = row.split('\t');
    const expected = ids.trim().split(/\s+/).map(Number);
    const all = clip!.tokenIds(text);
    const actual = withStartEnd === 'yes' ? all : all.slice(1, -1);
    assert.deepEqual(actual, expected, `"${text}"`);
    matched++;
  }
  t.diagnostic(`tokenizer reference rows matched: ${matched}/${rows.length}`);
});

test('encode: start, text, end, padded with the config pad token (49407) to 77', { skip: skipClip }, () => {
  const row = clip!.encode('a photo of a cat');
  assert.equal(row.length, 77);
  assert.deepEqual([...row.subarray(0, 7)], [49406, 320, 1125, 539, 320, 2368, 49407]);
  assert.equal(clip!.padId, 49407);
  assert.ok(row.subarray(7).every((id) => id === 49407));
  // the text tower reads the first end token, at argmax
  assert.equal(row.indexOf(Math.max(...row)), 6);
});

test('truncates long text to 77 ids keeping the end token', { skip: skipClip }, () => {
  const long = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
  assert.ok(clip!.tokenIds(long).length > 77);
  const row = clip!.encode(long);
  assert.equal(row.length, 77);
  assert.equal(row[0], 49406);
  assert.equal(row[76], 49407);
  assert.equal(row.indexOf(49407), 76);
});

test('cleans text as CLIP does: case, whitespace, html entities, typed special tokens', { skip: skipClip }, () => {
  const ids = (text: string): number[] => clip!.tokenIds(text);
  assert.deepEqual(ids('  A   DOG\n\tRunning  '), ids('a dog running'));
  assert.deepEqual(ids('fish &amp; chips'), ids('fish & chips'));
  assert.deepEqual(ids('fish &amp;amp; chips'), ids('fish & chips')); // unescaped twice, like CLIP
  assert.deepEqual(ids('<|endoftext|> hi <|startoftext|>'), ids('hi'));
  assert.deepEqual(ids(''), [49406, 49407]);
  assert.equal(unescapeHtml('&lt;b&gt; &#65;&#x42; &bogus;'), '<b> AB &bogus;');
});

test('encodeBatch lays rows out back to back', { skip: skipClip }, () => {
  const batch = clip!.encodeBatch(['red', 'a blue car']);
  assert.equal(batch.length, 2 * 77);
  assert.deepEqual(batch.subarray(0, 77), clip!.encode('red'));
  assert.deepEqual(batch.subarray(77), clip!.encode('a blue car'));
});

test('the generated test tokenizer: colour words are single tokens, end is the highest id', async () => {
  const dir = await buildTestModel(join(tmp, 'tiny'));
  const tokenizer = await ClipTokenizer.load({
    tokenizerPath: join(dir, 'textual/tokenizer.json'),
    tokenizerConfigPath: join(dir, 'textual/tokenizer_config.json'),
  });
  for (const word of Object.keys(COLOURS)) assert.equal(tokenizer.tokenIds(word).length, 3, word);
  const row = tokenizer.encode('A photo of something RED');
  assert.equal(row[0], tokenizer.startId);
  assert.equal(tokenizer.padId, tokenizer.endId);
  assert.equal(Math.max(...row), tokenizer.endId);
  assert.equal(tokenizer.endId, tokenizer.startId + 1);
  assert.deepEqual(tokenizer.tokenIds('red').slice(1, -1), tokenizer.tokenIds('a photo of something red').slice(-2, -1));
});

test('without a pad token the rows are padded with 0, as OpenAI does', async () => {
  const dir = await buildTestModel(join(tmp, 'tiny-nopad'));
  const tokenizer = await ClipTokenizer.load({ tokenizerPath: join(dir, 'textual/tokenizer.json'), contextLength: 8 });
  assert.equal(tokenizer.padId, 0);
  const row = tokenizer.encode('red');
  assert.deepEqual([...row.subarray(3)], [0, 0, 0, 0, 0]);
  assert.equal(row[2], tokenizer.endId);
});

test('load errors name the file', async () => {
  await assert.rejects(ClipTokenizer.load({ tokenizerPath: join(tmp, 'missing.json') }), /cannot read .*missing\.json/);
  await assert.rejects(ClipTokenizer.load({ tokenizerPath: join(tmp, 'x.json'), contextLength: 1 }), /context length/);
});
