// Search in the user's language: a library embedded by an image model is searched through another text tower
// that shares its vector space (M-CLIP's multilingual XLM-R tower for OpenAI ViT-B/32), picked by the query's
// script, with no re-embedding; an English-only tower says it cannot read Hebrew instead of answering noise.
// The models here are tiny test models named like the real ones: they show the wiring, not search quality.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipModel } from '../src/main/core/model/clip-model.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { selectModelFiles } from '../src/main/core/model/download.js';
import { detectScript } from '../src/main/core/search/query-script.js';
import { catalogueModel, MODEL_CATALOGUE, readsScript, textTowersFor } from '../src/main/core/recipe/known-models.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { waitForIndexing } from './helpers/service.js';
import { serveRepo } from './helpers/fake-hub.js';
import { tempDir } from './helpers/fixtures.js';
import { buildMultilingualTestModel, buildTestModel, COLOURS, HEBREW_COLOURS, normalisedColour, writeSolidPhoto } from './helpers/test-model.js';

const BIN = fileURLToPath(new URL('../../bin/photo-search.js', import.meta.url));
const OPENAI = 'immich-app__ViT-B-32__openai';
const MCLIP = 'immich-app__XLM-Roberta-Large-Vit-B-32';

function cosine(a: Float32Array, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * (b[i] ?? 0);
    na += a[i] ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

test('detectScript: the script of the query\'s letters, non-Latin first', () => {
  assert.equal(detectScript('a red car'), 'latin');
  assert.equal(detectScript('אדום'), 'hebrew');
  assert.equal(detectScript('IMG_2041 אדום'), 'hebrew');
  assert.equal(detectScript('красный'), 'cyrillic');
  assert.equal(detectScript('赤い車'), 'cjk');
  assert.equal(detectScript('سيارة حمراء'), 'arabic');
  assert.equal(detectScript('빨간'), 'hangul');
  assert.equal(detectScript('2019 !'), null);
  assert.equal(detectScript('café crème'), 'latin');
});

test('catalogue: which towers share a space and which scripts they read', () => {
  assert.ok(readsScript('immich-app/ViT-B-32__openai', 'latin'));
  assert.ok(!readsScript('immich-app/ViT-B-32__openai', 'hebrew'));
  assert.ok(!readsScript(OPENAI, 'hebrew'), 'a downloaded folder\'s name is the same model');
  assert.ok(readsScript('my-own-model', 'hebrew'), 'nothing is known of an unknown model: it is not refused');
  assert.deepEqual(textTowersFor('ViT-B-32__openai', 'hebrew').map((m) => m.id), ['immich-app/XLM-Roberta-Large-Vit-B-32']);
  assert.deepEqual(textTowersFor('immich-app/ViT-B-32__openai+int8', 'hebrew').map((m) => m.id), ['immich-app/XLM-Roberta-Large-Vit-B-32'],
    'an int8 image tower keeps its fp32 one\'s space');
  assert.ok(!readsScript('immich-app/ViT-B-32__openai+int8', 'hebrew'));
  assert.deepEqual(textTowersFor('immich-app/ViT-B-32__laion2b-s34b-b79k', 'hebrew'), [], 'M-CLIP is not in laion2b\'s space');
  assert.equal(catalogueModel('XLM-Roberta-Large-Vit-B-32')?.space, 'immich-app/ViT-B-32__openai');
  for (const id of ['immich-app/ViT-B-32__openai', 'immich-app/XLM-Roberta-Large-Vit-B-32', 'immich-app/ViT-B-32__laion2b-s34b-b79k']) {
    assert.ok(MODEL_CATALOGUE.some((m) => m.id === id), id);
  }
  assert.ok(MODEL_CATALOGUE.some((m) => /nllb|siglip2/i.test(m.id) && m.role === 'image+text' && m.scripts === 'any'));
  assert.equal(MODEL_CATALOGUE.filter((m) => m.isDefault).length, 1);
});

test('download: per-tensor weight files in a tower folder are fetched; other runtimes\' files are not', () => {
  const file = (p: string) => ({ path: p, size: 1, sha256: null, gitOid: null });
  const chosen = selectModelFiles([
    'config.json', 'README.md', 'visual/model.onnx', 'visual/preprocess_cfg.json', 'visual/model.armnn', 'visual/fp16/model.onnx',
    'textual/model.onnx', 'textual/tokenizer.json', 'textual/tokenizer_config.json', 'textual/sentencepiece.bpe.model',
    'textual/embeddings.word_embeddings.weight', 'textual/transformer.encoder.layer.20.intermediate.dense.bias', 'textual/model.rknn',
  ].map(file)).map((f) => f.path).sort();
  assert.deepEqual(chosen, [
    'config.json', 'textual/embeddings.word_embeddings.weight', 'textual/model.onnx', 'textual/tokenizer.json', 'textual/tokenizer_config.json',
    'textual/transformer.encoder.layer.20.intermediate.dense.bias', 'visual/model.onnx', 'visual/preprocess_cfg.json',
  ]);
});

test('M-CLIP-shaped text tower: input_ids + attention_mask (int32 and int64, external weights), XLM-R tokenizer', async (t) => {
  const root = tempDir(t, 'mclip-tower-');
  for (const [name, options] of [['int32', {}], ['int64', { textType: 'int64' as const }], ['external', { externalWeights: true }]] as const) {
    const dir = await buildMultilingualTestModel(path.join(root, name), options);
    const model = await ClipModel.load(await loadModelFolder(dir));
    t.after(() => model.release());
    const info = await model.textualInfo();
    assert.equal(info.inputName, 'input_ids', name);
    assert.equal(info.maskName, 'attention_mask', name);
    assert.equal(info.fixedBatch, 1, name);

    const tokenizer = await model.tokenizer();
    const { ids, mask } = tokenizer.encodeBatchWithMask(['אדום', 'Red']);
    assert.deepEqual([...ids.subarray(0, 4)], [0, ids[1], 2, 1], `${name}: <s> word </s> <pad>`);
    assert.notEqual(ids[1], 3, `${name}: the Hebrew word is one known piece, not <unk>`);
    assert.deepEqual([...mask.subarray(0, 4)], [1, 1, 1, 0]);
    assert.equal(mask.reduce((a, b) => a + b, 0), 6);

    // Two queries through a tower fixed at batch 1; the padding (whose vector points at blue) is masked out.
    const [hebrew, english, blue] = await model.embedTexts(['אדום', 'red', 'כחול']);
    assert.ok(cosine(hebrew, normalisedColour(COLOURS.red)) > 0.999, `${name}: אדום is red`);
    assert.ok(cosine(english, normalisedColour(COLOURS.red)) > 0.999, `${name}: red is red`);
    assert.ok(cosine(blue, normalisedColour(COLOURS.blue)) > 0.999, `${name}: כחול is blue`);
  }
  // the OpenCLIP single-input tower still loads as before
  const clip = await ClipModel.load(await buildTestModel(path.join(root, 'clip')));
  t.after(() => clip.release());
  assert.equal((await clip.textualInfo()).maskName, null);
});

test('search: a Hebrew query finds the photo of its colour through the multilingual tower, with no re-embedding', async (t) => {
  const root = tempDir(t, 'search-language-');
  const photos = path.join(root, 'Photos');
  mkdirSync(photos);
  const colours = ['red', 'green', 'blue', 'yellow', 'purple'] as const;
  for (const colour of colours) await writeSolidPhoto(path.join(photos, `${colour}.jpg`), COLOURS[colour], 48);
  const modelsDir = path.join(root, 'models');
  const imageModel = await buildTestModel(path.join(modelsDir, OPENAI));

  const service = await LibraryService.open({ libraryDir: path.join(root, 'library'), modelsDir });
  t.after(() => service.close());
  assert.equal((await service.useModelFolder(imageModel)).state, 'ready');
  await service.addFolder(photos);
  const finished = waitForIndexing(service);
  await service.startIndexing();
  assert.equal((await finished).state, 'done');
  const modelId = service.library.currentModel?.id;
  const embeddedBefore = (await service.getStatus()).embedded;
  assert.equal(embeddedBefore, colours.length);

  // The English-only tower: English is searched as before; Hebrew is refused with a clear notice and an offer.
  const english = await service.search({ query: 'red', limit: 3 });
  assert.equal(path.basename(english.items[0].path), 'red.jpg');
  assert.equal(english.notice, undefined);
  const refused = await service.search({ query: 'אדום', limit: 3 });
  assert.equal(refused.items.length, 0, 'no noise: nothing is searched');
  assert.equal(refused.total, 0);
  assert.equal(refused.notice?.kind, 'cannot-read');
  assert.equal(refused.notice?.script, 'Hebrew');
  assert.match(refused.notice?.message ?? '', /reads English only: it cannot read this Hebrew query/);
  assert.match(refused.notice?.message ?? '', /XLM-Roberta-Large-Vit-B-32 .*no re-embedding \(download about 2\.6 GB\)/);
  assert.deepEqual(refused.notice?.offer && { id: refused.notice.offer.modelId, reembed: refused.notice.offer.reembed },
    { id: 'immich-app/XLM-Roberta-Large-Vit-B-32', reembed: false });

  // The multilingual tower arrives in the models folder (as a download puts it): Hebrew now finds its colours.
  await buildMultilingualTestModel(path.join(modelsDir, MCLIP));
  for (const [word, colour] of Object.entries(HEBREW_COLOURS).filter(([, c]) => (colours as readonly string[]).includes(c))) {
    const result = await service.search({ query: word, limit: 3 });
    assert.equal(path.basename(result.items[0].path), `${colour}.jpg`, `"${word}" finds ${colour}`);
    assert.equal(result.notice?.kind, 'other-text-model');
    assert.equal(result.notice?.textModelId, 'immich-app/XLM-Roberta-Large-Vit-B-32');
  }
  // English keeps the library's own tower.
  assert.equal((await service.search({ query: 'green', limit: 1 })).notice, undefined);
  // No re-embedding: same model, same vectors, nothing pending.
  assert.equal(service.library.currentModel?.id, modelId);
  const status = await service.getStatus();
  assert.equal(status.embedded, embeddedBefore);
  assert.equal(status.pending, 0);
});

test('cli: models lists the catalogue; search says when the model cannot read the query, and reads it with the multilingual tower', async (t) => {
  const root = tempDir(t, 'cli-language-');
  const modelsDir = path.join(root, 'models');
  const env = { ...process.env, PHOTO_SEARCH_MODELS_DIR: modelsDir, PHOTO_SEARCH_LIBRARY: '' };
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });

  const listed = cli('models', '--json');
  assert.equal(listed.status, 0, listed.stderr);
  const catalogue = JSON.parse(listed.stdout) as { models: { id: string; default: boolean; downloadBytes: number; languages: string; speed: string; reembed: boolean; installed: string | null }[] };
  const byId = new Map(catalogue.models.map((m) => [m.id, m]));
  assert.equal(byId.get('immich-app/ViT-B-32__openai')?.default, true);
  assert.equal(byId.get('immich-app/XLM-Roberta-Large-Vit-B-32')?.reembed, false);
  assert.equal(byId.get('immich-app/XLM-Roberta-Large-Vit-B-32')?.speed, 'not measured here');
  assert.equal(byId.get('immich-app/ViT-B-32__laion2b-s34b-b79k')?.reembed, true);
  assert.ok(catalogue.models.every((m) => m.downloadBytes > 0 && m.languages.length > 0 && m.installed === null));
  const text = cli('models');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /XLM-Roberta-Large-Vit-B-32\n {2}repository {2}immich-app\/XLM-Roberta-Large-Vit-B-32\n {2}what {8}a text tower for the vectors of ViT-B-32__openai/);
  assert.match(text.stdout, /nllb-clip-base-siglip__v1/);
  assert.match(text.stdout, /speed {7}not measured here/);

  const photos = path.join(root, 'Photos');
  mkdirSync(photos);
  for (const colour of ['red', 'blue'] as const) await writeSolidPhoto(path.join(photos, `${colour}.jpg`), COLOURS[colour], 32);
  const library = path.join(root, 'library');
  const index = cli('index', photos, '--model', await buildTestModel(path.join(modelsDir, OPENAI)), '--library', library);
  assert.equal(index.status, 0, index.stderr);

  const refused = cli('search', 'אדום', '--json', '--library', library);
  assert.equal(refused.status, 1);
  assert.equal(refused.stdout.trim(), '[]');
  assert.match(refused.stderr, /cannot read this Hebrew query, so nothing was searched\. XLM-Roberta-Large-Vit-B-32 reads Hebrew/);

  await buildMultilingualTestModel(path.join(modelsDir, MCLIP));
  const found = cli('search', 'אדום', '--json', '-k', '1', '--library', library);
  assert.equal(found.status, 0, found.stderr);
  assert.equal(path.basename((JSON.parse(found.stdout) as { path: string }[])[0].path), 'red.jpg');
  assert.match(found.stderr, /read by XLM-Roberta-Large-Vit-B-32/);
  assert.match(cli('models').stdout, new RegExp(`installed {3}${path.join(modelsDir, MCLIP).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

test('download: the multilingual text tower (per-tensor weight files) lands beside the library\'s model, which stays current', async (t) => {
  const root = tempDir(t, 'download-language-');
  const published = await buildMultilingualTestModel(path.join(root, 'published'), { externalWeights: true });
  const hub = await serveRepo(t, 'immich-app/XLM-Roberta-Large-Vit-B-32', published);
  const saved = process.env.PHOTO_SEARCH_HUB_URL;
  process.env.PHOTO_SEARCH_HUB_URL = hub;
  t.after(() => {
    if (saved === undefined) delete process.env.PHOTO_SEARCH_HUB_URL;
    else process.env.PHOTO_SEARCH_HUB_URL = saved;
  });

  const photos = path.join(root, 'Photos');
  mkdirSync(photos);
  for (const colour of ['red', 'green'] as const) await writeSolidPhoto(path.join(photos, `${colour}.jpg`), COLOURS[colour], 32);
  const modelsDir = path.join(root, 'models');
  const service = await LibraryService.open({ libraryDir: path.join(root, 'library'), modelsDir });
  t.after(() => service.close());
  await service.useModelFolder(await buildTestModel(path.join(modelsDir, OPENAI)));
  await service.addFolder(photos);
  const finished = waitForIndexing(service);
  await service.startIndexing();
  assert.equal((await finished).state, 'done');

  const offer = (await service.search({ query: 'ירוק', limit: 1 })).notice?.offer;
  assert.equal(offer?.modelId, 'immich-app/XLM-Roberta-Large-Vit-B-32');
  const ready = new Promise<void>((resolve) => {
    const off = service.onEvent((event) => {
      if (event.type === 'model' && (event.status.textModel?.state === 'ready' || event.status.textModel?.state === 'error')) {
        off();
        resolve();
      }
    });
  });
  const during: string[] = [];
  const off = service.onEvent((event) => {
    if (event.type === 'model') during.push(event.status.state);
  });
  await service.downloadModel(offer!.modelId);
  await ready;
  off();
  assert.deepEqual([...new Set(during)], ['ready'], 'the model stays ready (English search goes on) while the text tower downloads');
  assert.equal((await service.getModelStatus()).textModel?.state, 'ready');
  assert.equal((await service.search({ query: 'green', limit: 1 })).items.length, 1);
  const status = await service.getModelStatus();
  assert.equal(status.state, 'ready', status.error);
  assert.equal(status.modelId, OPENAI, 'the library keeps its model');
  assert.equal(service.library.currentModel?.id, OPENAI);
  assert.ok(readdirSync(path.join(modelsDir, MCLIP, 'textual')).includes('embeddings.word_embeddings.weight'));

  const found = await service.search({ query: 'ירוק', limit: 1 });
  assert.equal(path.basename(found.items[0].path), 'green.jpg');
  assert.equal(found.notice?.kind, 'other-text-model');
  assert.equal((await service.getStatus()).pending, 0, 'nothing to embed again');
});
