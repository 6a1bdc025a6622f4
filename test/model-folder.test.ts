import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import onnxProto from 'onnx-proto';
import { ModelFolderError, loadModelFolder } from '../src/main/core/model/model-folder.js';
import { buildTestModel } from './helpers/test-model.js';

const SHARED = fileURLToPath(new URL('../../../shared', import.meta.url));
const ARCH = join(SHARED, 'models/clip-vit-b32-arch');

let tmp: string;
let model: string;

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'model-folder-'));
  model = await buildTestModel(join(tmp, 'tiny-clip'));
});
after(async () => rm(tmp, { recursive: true, force: true }));

async function copyModel(name: string): Promise<string> {
  const dir = join(tmp, name);
  await cp(model, dir, { recursive: true });
  return dir;
}

test('loads the test model folder', async () => {
  const folder = await loadModelFolder(model);
  assert.equal(folder.modelId, 'tiny-clip');
  assert.equal(folder.dim, 8);
  assert.equal(folder.contextLength, 77);
  assert.equal(folder.preprocessCfg.width, 32);
  assert.equal(folder.preprocessCfg.height, 32);
  assert.equal(folder.preprocessCfg.interpolation, 'bicubic');
  assert.equal(folder.preprocessCfg.resizeMode, 'shortest');
  assert.deepEqual(folder.preprocessCfg.mean, [0.48145466, 0.4578275, 0.40821073]);
  assert.match(folder.preprocessVersion, /^pp\d+-[0-9a-f]{16}$/);
  assert.equal(folder.visualModelPath, join(model, 'visual/model.onnx'));
  assert.equal(folder.tokenizerConfigPath, join(model, 'textual/tokenizer_config.json'));
  assert.equal((await loadModelFolder(model, 'custom-id')).modelId, 'custom-id');
});

test('preprocessVersion is stable and follows the preprocessing config', async () => {
  const a = await loadModelFolder(model);
  const copy = await copyModel('other-name');
  assert.equal((await loadModelFolder(copy)).preprocessVersion, a.preprocessVersion);
  const cfgPath = join(copy, 'visual/preprocess_cfg.json');
  const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
  cfg.mean = [0.5, 0.5, 0.5];
  await writeFile(cfgPath, JSON.stringify(cfg));
  assert.notEqual((await loadModelFolder(copy)).preprocessVersion, a.preprocessVersion);
});

test('names the missing file', async () => {
  for (const file of ['config.json', 'visual/model.onnx', 'visual/preprocess_cfg.json', 'textual/model.onnx', 'textual/tokenizer.json']) {
    const dir = await copyModel(`missing-${file.replace('/', '-')}`);
    await rm(join(dir, file));
    await assert.rejects(loadModelFolder(dir), (err: Error) => {
      assert.ok(err instanceof ModelFolderError);
      assert.equal(err.file, file);
      assert.match(err.message, new RegExp(`missing ${file.replace('.', '\\.')}`));
      return true;
    });
  }
  await assert.rejects(loadModelFolder(join(tmp, 'nope')), /does not exist/);
});

test('tokenizer_config.json and special_tokens_map.json are optional', async () => {
  const dir = await copyModel('no-token-configs');
  await rm(join(dir, 'textual/tokenizer_config.json'));
  await rm(join(dir, 'textual/special_tokens_map.json'));
  const folder = await loadModelFolder(dir);
  assert.equal(folder.tokenizerConfigPath, null);
  assert.equal(folder.specialTokensMapPath, null);
});

test('rejects invalid config files clearly', async () => {
  const dir = await copyModel('bad-configs');
  await writeFile(join(dir, 'config.json'), '{ not json');
  await assert.rejects(loadModelFolder(dir), /config\.json .* is not valid JSON/);
  await writeFile(join(dir, 'config.json'), JSON.stringify({ vision_cfg: {} }));
  await assert.rejects(loadModelFolder(dir), /embed_dim must be a positive integer/);
  await writeFile(join(dir, 'config.json'), JSON.stringify({ embed_dim: 8 }));
  const cfgPath = join(dir, 'visual/preprocess_cfg.json');
  const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
  await writeFile(cfgPath, JSON.stringify({ ...cfg, resize_mode: 'zoom' }));
  await assert.rejects(loadModelFolder(dir), /preprocess_cfg\.json: unsupported resize_mode 'zoom'/);
  await writeFile(cfgPath, JSON.stringify({ ...cfg, std: [1, 0, 1] }));
  await assert.rejects(loadModelFolder(dir), /std values must be positive/);
  await writeFile(cfgPath, JSON.stringify({ ...cfg, size: 'big' }));
  await assert.rejects(loadModelFolder(dir), /size must be a number or \[height, width\]/);
  await writeFile(cfgPath, JSON.stringify({ ...cfg, size: 224 }));
  const folder = await loadModelFolder(dir);
  assert.equal(folder.preprocessCfg.width, 224);
});

test('names a missing external weights file', async () => {
  const { onnx } = onnxProto;
  const dir = await copyModel('external-data');
  const bytes = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [{ opType: 'Identity', input: ['w'], output: ['embedding'] }],
      initializer: [{
        name: 'w', dims: [2], dataType: onnx.TensorProto.DataType.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [{ key: 'location', value: 'model.onnx.data' }, { key: 'offset', value: '0' }, { key: 'length', value: '8' }],
      }],
      output: [{ name: 'embedding', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
    },
  }).finish();
  await writeFile(join(dir, 'textual/model.onnx'), bytes);
  await assert.rejects(loadModelFolder(dir), (err: Error) => {
    assert.ok(err instanceof ModelFolderError);
    assert.equal(err.file, 'textual/model.onnx.data');
    assert.match(err.message, /missing textual\/model\.onnx\.data \(the weights of textual\/model\.onnx\)/);
    return true;
  });
  await writeFile(join(dir, 'textual/model.onnx.data'), Buffer.alloc(8));
  await loadModelFolder(dir);
});

test('the benchmark architecture folder loads, or names its missing weights', { skip: existsSync(ARCH) ? false : `${ARCH} is absent` }, async () => {
  if (existsSync(join(ARCH, 'visual/model.onnx.data')) && existsSync(join(ARCH, 'textual/model.onnx.data'))) {
    const folder = await loadModelFolder(ARCH);
    assert.equal(folder.dim, 512);
    assert.equal(folder.preprocessCfg.width, 224);
  } else {
    await assert.rejects(loadModelFolder(ARCH), /missing (visual|textual)\/model\.onnx\.data/);
  }
});
