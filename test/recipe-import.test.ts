// Import of a recipe (embeddings.npy + file_paths.txt [+ faiss.index]) and of a bare path list: round trip,
// "embed only what is missing", and malformed inputs refused with the library left exactly as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import faiss from 'faiss-node';
import { Library } from '../src/main/core/library.js';
import { writeNpyFloat16, writeNpyFloat32 } from '../src/main/core/npy.js';
import { exportRecipe, importPathList, importRecipe, knownModel, RecipeError } from '../src/main/core/recipe/index.js';
import { main } from '../src/main/cli/main.js';
import { type CleanupScope, randomRows, tempDir } from './helpers/fixtures.js';
import { buildTestModel } from './helpers/test-model.js';

const DIM = 512;
const MODEL_ID = 'ViT-B-32__openai';
const MODEL = { id: MODEL_ID, dim: DIM, preprocessVersion: 'pp1-test' };
/** The app's id for the same weights: what a fresh library stores them under. */
const CANONICAL_ID = 'immich-app/ViT-B-32__openai';

function unit(v: Float32Array): Float32Array {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
}

/** `count` small files in a photos folder (content does not matter: import only stats them). */
function photoFiles(t: CleanupScope, count: number): { root: string; paths: string[] } {
  const root = path.join(tempDir(t, 'recipe-photos-'), 'Photos');
  mkdirSync(path.join(root, 'sub'), { recursive: true });
  const paths = Array.from({ length: count }, (_, i) => path.join(root, i % 2 ? 'sub' : '', `img ${String(i).padStart(4, '0')}.jpg`));
  paths.forEach((p, i) => writeFileSync(p, `photo ${i}`));
  return { root, paths };
}

/** Writes a recipe folder by hand, the way a Python user would. */
function writeRecipe(dir: string, paths: string[], vectors: Float32Array, dim: number, options: { faiss?: boolean; float16?: boolean } = {}): string {
  mkdirSync(dir, { recursive: true });
  const shape = [vectors.length / dim, dim];
  writeFileSync(path.join(dir, 'embeddings.npy'), options.float16 ? writeNpyFloat16(shape, vectors) : writeNpyFloat32(shape, vectors));
  writeFileSync(path.join(dir, 'file_paths.txt'), paths.map((p) => p + '\n').join(''));
  if (options.faiss) {
    const index = new faiss.IndexFlatIP(dim);
    if (vectors.length) index.add(Array.from(vectors));
    index.write(path.join(dir, 'faiss.index'));
  }
  return dir;
}

function openLibrary(t: CleanupScope): Library {
  const library = Library.open(tempDir(t, 'recipe-lib-'));
  t.after(() => library.close());
  return library;
}

/** Everything an import could touch, as one digest. */
function snapshot(library: Library): string {
  const db = library.catalogue.db;
  const dump = ['photos', 'embeddings', 'models', 'settings', 'folders']
    .map((table) => JSON.stringify(db.prepare(`SELECT * FROM ${table} ORDER BY 1`).raw(true).all(), (_, v) => (Buffer.isBuffer(v) || (v && v.type === 'Buffer') ? createHash('sha1').update(Buffer.from(v)).digest('hex') : v)));
  return createHash('sha256').update(dump.join('\n')).digest('hex');
}

test('import: round trip export → fresh library; every photo registered with its vector, nothing left to embed', async (t) => {
  const { root, paths } = photoFiles(t, 300);
  const source = openLibrary(t);
  source.useModel({ ...MODEL, id: CANONICAL_ID }, null);
  source.catalogue.insertPhotos(paths.map((p) => ({ folderId: null, path: p, size: 7, mtimeMs: 1 })));
  const vectors = randomRows(300, DIM, 1);
  source.catalogue.importVectors({ ...MODEL, id: CANONICAL_ID }, paths.map((p) => source.catalogue.photoIdByPath(p)!), vectors.map((x) => x)); // stored as given
  const recipe = path.join(tempDir(t, 'recipe-import-'), 'recipe');
  await exportRecipe(source, { outDir: recipe });

  const target = openLibrary(t);
  const folder = target.catalogue.addFolder(root);
  const summary = await importRecipe(target, { dir: recipe, modelId: CANONICAL_ID, modelsDir: null });
  assert.equal(summary.rows, 300);
  assert.equal(summary.registered, 300);
  assert.equal(summary.notFound, 0);
  assert.equal(summary.vectorsStored, 300);
  assert.equal(summary.skippedExisting, 0);
  assert.equal(summary.faissIndexChecked, true);
  assert.equal(summary.modelRegistered, true);
  assert.equal(summary.modelAdopted, true, 'a library without a model adopts the imported one');
  assert.equal(target.currentModel?.id, CANONICAL_ID);
  assert.equal(target.catalogue.getModel(CANONICAL_ID)?.preprocessVersion, 'pp1-test', 'preprocessing version comes from the manifest');
  assert.equal(summary.leftToEmbed, 0);
  assert.deepEqual(target.catalogue.photosToEmbed(CANONICAL_ID, 0, 10), []);
  assert.equal(target.catalogue.countToEmbed(CANONICAL_ID), 0);

  for (const i of [0, 1, 150, 299]) {
    const id = target.catalogue.photoIdByPath(paths[i])!;
    const photo = target.catalogue.getPhoto(id)!;
    assert.equal(photo.folderId, folder.id, 'registered under the library folder containing it');
    assert.equal(photo.status, 'ok');
    assert.equal(photo.size, readFileSync(paths[i]).length, 'real size, so a rescan keeps the vector');
    const got = target.catalogue.getVector(id, CANONICAL_ID)!;
    const want = unit(vectors.subarray(i * DIM, (i + 1) * DIM));
    for (let k = 0; k < DIM; k++) assert.ok(Math.abs(got[k] - want[k]) < 1e-5);
  }

  // Importing again changes nothing and says so.
  const again = await importRecipe(target, { dir: recipe, modelId: CANONICAL_ID, modelsDir: null });
  assert.equal(again.registered, 0);
  assert.equal(again.vectorsStored, 0);
  assert.equal(again.skippedExisting, 300);
});

test('import: vectors for the first 100 of 1000 registered photos leave exactly 900 to embed', async (t) => {
  const { paths } = photoFiles(t, 1000);
  const library = openLibrary(t);
  const list = path.join(tempDir(t, 'recipe-import-'), 'all-paths.txt');
  writeFileSync(list, paths.join('\n') + '\n');
  const registered = await importPathList(library, { file: list });
  assert.deepEqual({ ...registered, notFound: registered.notFound.length }, { listed: 1000, registered: 1000, alreadyKnown: 0, notFound: 0 });
  library.useModel(MODEL, null);
  assert.equal(library.catalogue.countToEmbed(MODEL_ID), 1000);

  const recipe = writeRecipe(path.join(tempDir(t, 'recipe-import-'), 'recipe'), paths.slice(0, 100), randomRows(100, DIM, 2), DIM, { faiss: true });
  const summary = await importRecipe(library, { dir: recipe, modelId: MODEL_ID, modelsDir: null });
  assert.equal(summary.registered, 0);
  assert.equal(summary.vectorsStored, 100);
  assert.equal(summary.normalised, 100);
  assert.equal(summary.leftToEmbed, 900);
  assert.equal(library.catalogue.countToEmbed(MODEL_ID), 900);
  const next = library.catalogue.photosToEmbed(MODEL_ID, 0, 2000);
  assert.equal(next.length, 900);
  const withVectors = new Set(paths.slice(0, 100));
  assert.ok(next.every((p) => !withVectors.has(p.path)), 'only photos without a vector are left');
});

test('import: float16 embeddings are widened; missing files are kept as missing with their vector', async (t) => {
  const { paths } = photoFiles(t, 10);
  const ghost = path.join(path.dirname(paths[0]), 'deleted long ago.jpg');
  const library = openLibrary(t);
  const rows = randomRows(11, DIM, 3);
  const recipe = writeRecipe(path.join(tempDir(t, 'recipe-import-'), 'recipe'), [...paths, ghost], rows, DIM, { float16: true });
  const summary = await importRecipe(library, { dir: recipe, modelId: 'immich-app/ViT-B-32__openai', modelsDir: null });
  assert.equal(summary.dtype, 'float16');
  assert.equal(summary.registered, 11);
  assert.equal(summary.notFound, 1);
  assert.equal(summary.vectorsStored, 11);
  assert.equal(summary.faissIndexChecked, false);
  const ghostPhoto = library.catalogue.getPhoto(library.catalogue.photoIdByPath(ghost)!)!;
  assert.equal(ghostPhoto.status, 'missing');
  assert.ok(library.catalogue.getVector(ghostPhoto.id, 'immich-app/ViT-B-32__openai'));
  assert.equal(library.catalogue.countToEmbed('immich-app/ViT-B-32__openai'), 0);
  const got = library.catalogue.getVector(library.catalogue.photoIdByPath(paths[4])!, 'immich-app/ViT-B-32__openai')!;
  const want = unit(rows.subarray(4 * DIM, 5 * DIM));
  for (let k = 0; k < DIM; k++) assert.ok(Math.abs(got[k] - want[k]) < 2e-3, 'float16 precision');
});

test('import: an alias of a known model stores under the library\'s name for the same weights', async (t) => {
  const { paths } = photoFiles(t, 8);
  // A fresh library: "ViT-B/32" (the OpenAI clip package's name) lands under the app's canonical id.
  const fresh = openLibrary(t);
  const recipe = writeRecipe(path.join(tempDir(t, 'recipe-import-'), 'recipe'), paths.slice(0, 5), randomRows(5, DIM, 10), DIM);
  const s1 = await importRecipe(fresh, { dir: recipe, modelId: 'ViT-B/32', modelsDir: null });
  assert.equal(s1.modelId, 'immich-app/ViT-B-32__openai');
  assert.equal(fresh.currentModel?.id, 'immich-app/ViT-B-32__openai');
  assert.equal(fresh.catalogue.getModel('ViT-B/32'), null);
  assert.equal(fresh.catalogue.getModel('immich-app/ViT-B-32__openai')?.preprocessVersion, 'imported-unknown');
  // A library already indexing with "ViT-B-32__openai": the vectors go there, so only the rest is left to embed.
  const indexed = openLibrary(t);
  indexed.useModel(MODEL, null);
  indexed.catalogue.insertPhotos(paths.map((p) => ({ folderId: null, path: p, size: 7, mtimeMs: 1 })));
  const s2 = await importRecipe(indexed, { dir: recipe, modelId: 'openai/clip-vit-base-patch32', modelsDir: null });
  assert.equal(s2.modelId, MODEL_ID);
  assert.equal(s2.modelRegistered, false);
  assert.equal(indexed.catalogue.countToEmbed(MODEL_ID), 3);
  assert.deepEqual(indexed.catalogue.listModels().map((m) => m.id), [MODEL_ID]);
});

test('import: a model folder in the models directory vouches for its id and dimension', async (t) => {
  const { paths } = photoFiles(t, 3);
  const modelsDir = tempDir(t, 'models-');
  // An incomplete folder (config.json only) does not count: the id stays unknown.
  mkdirSync(path.join(modelsDir, 'my-clip'), { recursive: true });
  writeFileSync(path.join(modelsDir, 'my-clip', 'config.json'), JSON.stringify({ embed_dim: 8 }));
  const library = openLibrary(t);
  const recipe = writeRecipe(path.join(tempDir(t, 'recipe-import-'), 'recipe'), paths, randomRows(3, 8, 4), 8);
  await assert.rejects(importRecipe(library, { dir: recipe, modelId: 'my-clip', modelsDir }), /unknown model "my-clip"/);
  // A complete model folder vouches: its config.json gives the dimension, the folder its preprocessing.
  await buildTestModel(path.join(modelsDir, 'tiny-clip'), { dim: 8 });
  const summary = await importRecipe(library, { dir: recipe, modelId: 'tiny-clip', modelsDir });
  assert.equal(summary.vectorsStored, 3);
  assert.equal(summary.modelRegistered, true);
  assert.match(library.catalogue.getModel('tiny-clip')!.preprocessVersion, /^pp\d+-/);
  assert.equal(library.currentModel?.dir, path.join(modelsDir, 'tiny-clip'), 'adopted with its folder');
  const wrongDim = writeRecipe(path.join(tempDir(t, 'recipe-import-'), 'recipe16'), paths, randomRows(3, 16, 4), 16);
  await assert.rejects(importRecipe(library, { dir: wrongDim, modelId: 'tiny-clip', modelsDir }), /16-d but model tiny-clip \(registered in this library\) is 8-d/);
  const other = openLibrary(t);
  await assert.rejects(importRecipe(other, { dir: wrongDim, modelId: 'tiny-clip', modelsDir }), /16-d but model tiny-clip \(model folder .*\) is 8-d/);
  // A registered model is known, with its dimension.
  library.catalogue.registerModel({ id: 'my-clip', dim: 8, preprocessVersion: 'x' });
  const again = await importRecipe(library, { dir: recipe, modelId: 'my-clip', modelsDir });
  assert.equal(again.vectorsStored, 3);
  assert.equal(again.modelRegistered, false);
  assert.equal(again.modelAdopted, false, 'the library already had a current model');
});

test('import: malformed inputs are refused with a clear error and the library unchanged', async (t) => {
  const { paths } = photoFiles(t, 1000);
  const library = openLibrary(t);
  library.useModel(MODEL, null);
  library.catalogue.insertPhotos(paths.slice(0, 10).map((p) => ({ folderId: null, path: p, size: 1, mtimeMs: 1 })));
  library.catalogue.importVectors(MODEL, [library.catalogue.photoIdByPath(paths[0])!], unit(randomRows(1, DIM, 9)));
  const before = snapshot(library);
  const base = tempDir(t, 'recipe-import-');
  const rows = randomRows(1000, DIM, 5);
  let n = 0;
  const recipe = (make: (dir: string) => void) => {
    const dir = path.join(base, `case-${n++}`);
    mkdirSync(dir);
    make(dir);
    return dir;
  };
  const cases: [string, string, RegExp, string?][] = [
    ['truncated .npy', recipe((d) => {
      writeRecipe(d, paths, rows, DIM);
      truncateSync(path.join(d, 'embeddings.npy'), 128 + 1000 * DIM * 4 - 1000);
    }), /embeddings\.npy: truncated \.npy file/],
    ['999 paths for 1000 rows', recipe((d) => writeRecipe(d, paths.slice(0, 999), rows, DIM)),
      /file_paths\.txt lists 999 paths but embeddings\.npy has 1000 rows/],
    ['768-d vectors for a 512-d model', recipe((d) => writeRecipe(d, paths.slice(0, 100), randomRows(100, 768, 6), 768)),
      /768-d but model ViT-B-32__openai \(registered in this library\) is 512-d/],
    ['768-d vectors for a known 512-d model', recipe((d) => writeRecipe(d, paths.slice(0, 100), randomRows(100, 768, 6), 768)),
      /768-d but model ViT-B-32__openai \(the same weights as openai\/clip-vit-base-patch32\) \(registered in this library\) is 512-d/, 'openai/clip-vit-base-patch32'],
    ['unknown model', recipe((d) => writeRecipe(d, paths.slice(0, 10), rows.subarray(0, 10 * DIM), DIM)), /unknown model "some\/other-model"/, 'some/other-model'],
    ['missing file_paths.txt', recipe((d) => {
      writeRecipe(d, paths.slice(0, 10), rows.subarray(0, 10 * DIM), DIM);
      unlinkSync(path.join(d, 'file_paths.txt'));
    }), /missing file: .*file_paths\.txt/],
    ['missing embeddings.npy', recipe((d) => {
      writeRecipe(d, paths.slice(0, 10), rows.subarray(0, 10 * DIM), DIM);
      unlinkSync(path.join(d, 'embeddings.npy'));
    }), /missing file: .*embeddings\.npy/],
    ['no such folder', path.join(base, 'does-not-exist'), /recipe folder .* does not exist/],
    ['relative path', recipe((d) => writeRecipe(d, ['photos/a.jpg', ...paths.slice(1, 10)], rows.subarray(0, 10 * DIM), DIM)),
      /file_paths\.txt line 1 is not an absolute path/],
    ['duplicate path', recipe((d) => writeRecipe(d, [...paths.slice(0, 9), paths[3]], rows.subarray(0, 10 * DIM), DIM)),
      /file_paths\.txt line 10 repeats the path of line 4/],
    ['empty line', recipe((d) => writeRecipe(d, [...paths.slice(0, 9), ''], rows.subarray(0, 10 * DIM), DIM)), /file_paths\.txt line 10 is empty/],
    ['faiss.index of other rows', recipe((d) => {
      writeRecipe(d, paths.slice(0, 10), rows.subarray(0, 10 * DIM), DIM);
      const index = new faiss.IndexFlatIP(DIM);
      index.add(Array.from(rows.subarray(0, 9 * DIM)));
      index.write(path.join(d, 'faiss.index'));
    }), /faiss\.index holds 9×512 vectors but embeddings\.npy is 10×512/],
    ['truncated faiss.index', recipe((d) => {
      writeRecipe(d, paths.slice(0, 10), rows.subarray(0, 10 * DIM), DIM, { faiss: true });
      truncateSync(path.join(d, 'faiss.index'), 1000);
    }), /faiss\.index is truncated or damaged/],
    ['not a faiss index', recipe((d) => {
      writeRecipe(d, paths.slice(0, 10), rows.subarray(0, 10 * DIM), DIM);
      writeFileSync(path.join(d, 'faiss.index'), 'hello');
    }), /faiss\.index is not a FAISS index/],
    ['NaN in a row', recipe((d) => {
      const bad = rows.slice(0, 10 * DIM);
      bad[7 * DIM + 3] = NaN;
      writeRecipe(d, paths.slice(0, 10), bad, DIM);
    }), /embeddings\.npy row 7 .* not a finite number/],
    ['all-zero row', recipe((d) => {
      const bad = rows.slice(0, 10 * DIM);
      bad.fill(0, 2 * DIM, 3 * DIM);
      writeRecipe(d, paths.slice(0, 10), bad, DIM);
    }), /embeddings\.npy row 2 .* all zeros/],
    ['1-D array', recipe((d) => {
      writeRecipe(d, paths.slice(0, 10), rows.subarray(0, 10 * DIM), DIM);
      writeFileSync(path.join(d, 'embeddings.npy'), writeNpyFloat32([10 * DIM], rows.subarray(0, 10 * DIM)));
    }), /must be a 2-D array/],
    ['float64 .npy', recipe((d) => {
      writeRecipe(d, paths.slice(0, 10), rows.subarray(0, 10 * DIM), DIM);
      const npy = writeNpyFloat32([10, DIM], rows.subarray(0, 10 * DIM));
      npy.write("'<f8'", npy.indexOf("'<f4'"), 'latin1');
      writeFileSync(path.join(d, 'embeddings.npy'), npy);
    }), /unsupported \.npy dtype '<f8'/],
    ['manifest of another model', recipe((d) => {
      writeRecipe(d, paths.slice(0, 10), rows.subarray(0, 10 * DIM), DIM);
      writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ format: 'photo-search-recipe', formatVersion: 1, modelId: 'other', count: 10, dimension: DIM }));
    }), /manifest\.json says these vectors come from model "other"/],
    ['a folder listed as a photo', recipe((d) => writeRecipe(d, [path.dirname(paths[0]), ...paths.slice(11, 20)], rows.subarray(0, 10 * DIM), DIM)),
      /is a folder, not a photo/],
  ];
  for (const [name, dir, message, modelId] of cases) {
    await assert.rejects(importRecipe(library, { dir, modelId: modelId ?? MODEL_ID, modelsDir: null }),
      (e: Error) => e instanceof RecipeError && message.test(e.message) ? true : assert.fail(`${name}: got ${e.name}: ${e.message}`), name);
    assert.equal(snapshot(library), before, `${name}: library unchanged`);
  }
  assert.equal(knownModel('openai/clip-vit-base-patch32')?.id, 'immich-app/ViT-B-32__openai');
});

test('import: a recipe saved by NumPy itself (float32 and float16), optional: skipped without python3 + numpy', async (t) => {
  if (spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status !== 0) {
    t.skip('python3 with numpy is not available');
    return;
  }
  const { paths } = photoFiles(t, 6);
  for (const dtype of ['float32', 'float16']) {
    const dir = path.join(tempDir(t, 'recipe-import-'), 'numpy-recipe');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'file_paths.txt'), paths.join('\n') + '\n');
    const script = `import numpy as np, sys\nrng = np.random.default_rng(0)\na = rng.normal(size=(6, ${DIM})).astype(np.${dtype})\nnp.save(sys.argv[1], a)\nprint(",".join(str(float(x)) for x in (a[4] / np.linalg.norm(a[4].astype(np.float64)))[:5]))`;
    const expected = execFileSync('python3', ['-c', script, path.join(dir, 'embeddings.npy')], { encoding: 'utf8' }).trim().split(',').map(Number);
    const library = openLibrary(t);
    const summary = await importRecipe(library, { dir, modelId: CANONICAL_ID, modelsDir: null });
    assert.equal(summary.dtype, dtype);
    assert.equal(summary.vectorsStored, 6);
    const got = library.catalogue.getVector(library.catalogue.photoIdByPath(paths[4])!, CANONICAL_ID)!;
    expected.forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-6, `${dtype} value ${i}`));
  }
});

test('import --paths: registers listed photos without vectors, skipping unknown files and known ones', async (t) => {
  const { root, paths } = photoFiles(t, 5);
  const library = openLibrary(t);
  const folder = library.catalogue.addFolder(root);
  library.catalogue.insertPhotos([{ folderId: folder.id, path: paths[0], size: 7, mtimeMs: 1 }]);
  const list = path.join(tempDir(t, 'recipe-import-'), 'paths.txt');
  writeFileSync(list, [...paths, path.join(root, 'nope.jpg')].join('\r\n'));
  const s = await importPathList(library, { file: list });
  assert.equal(s.listed, 6);
  assert.equal(s.registered, 4);
  assert.equal(s.alreadyKnown, 1);
  assert.deepEqual(s.notFound, [path.join(root, 'nope.jpg')]);
  assert.equal(library.catalogue.getPhoto(library.catalogue.photoIdByPath(paths[3])!)!.folderId, folder.id);
  assert.equal(library.catalogue.getPhoto(library.catalogue.photoIdByPath(paths[3])!)!.status, 'pending');
  writeFileSync(list, 'relative.jpg\n');
  await assert.rejects(importPathList(library, { file: list }), /line 1 is not an absolute path/);
});

test('import CLI: summary for a recipe, usage errors, clear failure for an unknown model', async (t) => {
  const { paths } = photoFiles(t, 20);
  const libraryDir = tempDir(t, 'recipe-cli-lib-');
  const recipe = writeRecipe(path.join(tempDir(t, 'recipe-import-'), 'recipe'), paths, randomRows(20, DIM, 8), DIM, { faiss: true });
  const previous = process.env.PHOTO_SEARCH_MODELS_DIR;
  process.env.PHOTO_SEARCH_MODELS_DIR = tempDir(t, 'models-');
  t.after(() => {
    if (previous === undefined) delete process.env.PHOTO_SEARCH_MODELS_DIR;
    else process.env.PHOTO_SEARCH_MODELS_DIR = previous;
  });
  const log = t.mock.method(console, 'log', () => undefined);
  const error = t.mock.method(console, 'error', () => undefined);
  assert.equal(await main(['import', '--dir', recipe, '--model-id', 'nobody/knows', '--library', libraryDir]), 1);
  assert.match(String(error.mock.calls.at(-1)!.arguments[0]), /unknown model "nobody\/knows"/);
  assert.equal(await main(['import', '--dir', recipe, '--library', libraryDir]), 2, '--model-id is required');
  assert.equal(await main(['import', '--library', libraryDir]), 2);
  assert.equal(await main(['import', '--dir', recipe, '--model-id', MODEL_ID, '--library', libraryDir]), 0);
  const text = String(log.mock.calls.at(-1)!.arguments[0]);
  assert.match(text, /imported 20 rows \(512-d float32\)/);
  assert.match(text, /registered new photos: 20/);
  assert.match(text, /vectors stored: 20/);
  assert.match(text, /skipped \(already had a vector\): 0/);
  const list = path.join(tempDir(t, 'recipe-import-'), 'list.txt');
  writeFileSync(list, paths.join('\n'));
  assert.equal(await main(['import', '--paths', list, '--library', libraryDir]), 0);
  assert.match(String(log.mock.calls.at(-1)!.arguments[0]), /listed 20: registered 0 new, 20 already known, 0 not found/);
});
