// Export of the recipe (embeddings.npy + file_paths.txt + faiss.index + manifest.json), checked without
// Python: the .npy header and data are parsed here, the FAISS file is read back with faiss-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import faiss from 'faiss-node';
import { Library } from '../src/main/core/library.js';
import { exportRecipe, RecipeError } from '../src/main/core/recipe/index.js';
import { readFaissHeader } from '../src/main/core/recipe/recipe-format.js';
import { main } from '../src/main/cli/main.js';
import { type CleanupScope, tempDir, unitRows } from './helpers/fixtures.js';

const DIM = 512;
const MODEL = { id: 'ViT-B-32__openai', dim: DIM, preprocessVersion: 'pp1-test' };

/** A library with `count` photos (paths under /photos, not on disk) that all have vectors. */
function libraryWithVectors(t: CleanupScope, count: number): { library: Library; paths: string[]; vectors: Float32Array } {
  const library = Library.open(tempDir(t, 'recipe-lib-'));
  t.after(() => library.close());
  library.useModel(MODEL, null);
  const paths = Array.from({ length: count }, (_, i) => `/photos/${String(i).padStart(4, '0')} été ${i % 7 === 0 ? 'שלום' : 'x'}.jpg`);
  library.catalogue.insertPhotos(paths.map((p) => ({ folderId: null, path: p, size: 1000, mtimeMs: 1 })));
  const vectors = unitRows(count, DIM, 42);
  library.catalogue.importVectors(MODEL, paths.map((p) => library.catalogue.photoIdByPath(p)!), vectors);
  return { library, paths, vectors };
}

interface ParsedNpy {
  major: number;
  minor: number;
  headerLength: number;
  dataOffset: number;
  descr: string;
  fortran: string;
  shape: number[];
  data: Float32Array;
}

/** An independent .npy parser (not the app's), so the test does not grade the code with itself. */
function parseNpy(bytes: Buffer): ParsedNpy {
  assert.deepEqual([...bytes.subarray(0, 6)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'magic string');
  const major = bytes[6];
  const minor = bytes[7];
  const headerLength = bytes.readUInt16LE(8);
  const dataOffset = 10 + headerLength;
  const header = bytes.subarray(10, dataOffset).toString('latin1');
  assert.ok(header.endsWith('\n'), 'header ends with a newline');
  const descr = /'descr': '([^']+)'/.exec(header)![1];
  const fortran = /'fortran_order': (\w+)/.exec(header)![1];
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = bytes.subarray(dataOffset);
  const data = new Float32Array(body.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = body.readFloatLE(i * 4);
  return { major, minor, headerLength, dataOffset, descr, fortran, shape, data };
}

test('export: valid .npy (v1.0, <f4, C order, 64-byte aligned, unit rows) in file_paths.txt order', async (t) => {
  const { library, paths, vectors } = libraryWithVectors(t, 1000);
  // A missing photo is not part of the export.
  const goneId = library.catalogue.photoIdByPath(paths[3])!;
  library.catalogue.markMissing([goneId]);
  const out = path.join(tempDir(t, 'recipe-export-'), 'recipe');
  const result = await exportRecipe(library, { outDir: out, batchSize: 300 });
  assert.equal(result.count, 999);
  assert.equal(result.dimension, DIM);
  assert.deepEqual(readdirSync(out).sort(), ['embeddings.npy', 'faiss.index', 'file_paths.txt', 'manifest.json']);

  const npyBytes = readFileSync(path.join(out, 'embeddings.npy'));
  const npy = parseNpy(npyBytes);
  assert.equal(npy.major, 1);
  assert.equal(npy.minor, 0);
  assert.equal(npy.dataOffset % 64, 0, 'data starts on a 64-byte boundary');
  assert.equal(npy.descr, '<f4');
  assert.equal(npy.fortran, 'False');
  assert.deepEqual(npy.shape, [999, DIM]);
  assert.equal(npyBytes.length, npy.dataOffset + 999 * DIM * 4);

  const lines = readFileSync(path.join(out, 'file_paths.txt'), 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines.length, 999);
  assert.ok(!lines.includes(paths[3]));
  const expectedRow = new Map(paths.map((p, i) => [p, i]));
  lines.forEach((line, row) => {
    const source = expectedRow.get(line);
    assert.ok(source !== undefined, `line ${row} is a catalogued path`);
    let norm = 0;
    for (let i = 0; i < DIM; i++) {
      const v = npy.data[row * DIM + i];
      norm += v * v;
      if (i < 8) assert.ok(Math.abs(v - vectors[source * DIM + i]) < 1e-6, `row ${row} holds the vector of ${line}`);
    }
    assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-4, `row ${row} is unit length`);
  });

  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.modelId, MODEL.id);
  assert.equal(manifest.preprocessVersion, MODEL.preprocessVersion);
  assert.equal(manifest.dimension, DIM);
  assert.equal(manifest.count, 999);
  assert.ok(!Number.isNaN(Date.parse(manifest.createdAt)));
  assert.match(manifest.appVersion, /^\d+\.\d+\.\d+/);
});

test('export: faiss.index is an IndexFlatIP over the same rows (faiss-node reads it; same top hit as brute force)', async (t) => {
  const { library } = libraryWithVectors(t, 600);
  const out = path.join(tempDir(t, 'recipe-export-'), 'recipe');
  await exportRecipe(library, { outDir: out, batchSize: 128 });
  const npy = parseNpy(readFileSync(path.join(out, 'embeddings.npy')));
  const file = path.join(out, 'faiss.index');
  const header = await readFaissHeader(file);
  assert.deepEqual(header, { fourcc: 'IxFI', dimension: DIM, ntotal: 600 });
  const index = faiss.IndexFlatIP.read(file);
  assert.equal(index.ntotal(), 600);
  assert.equal(index.getDimension(), DIM);
  // A query that is not any row: brute-force argmax over the .npy rows must match FAISS's first label.
  const query = unitRows(5, DIM, 7);
  const result = index.search(Array.from(query), 3);
  for (let q = 0; q < 5; q++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let r = 0; r < 600; r++) {
      let s = 0;
      for (let i = 0; i < DIM; i++) s += query[q * DIM + i] * npy.data[r * DIM + i];
      if (s > bestScore) [best, bestScore] = [r, s];
    }
    assert.equal(result.labels[q * 3], best, `query ${q}`);
    assert.ok(Math.abs(result.distances[q * 3] - bestScore) < 1e-4);
  }
  // Each row finds itself first.
  const self = index.search(Array.from(npy.data.subarray(123 * DIM, 124 * DIM)), 1);
  assert.equal(self.labels[0], 123);
});

test('export: numpy reads the .npy (optional: skipped without python3 + numpy)', async (t) => {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('python3 with numpy is not available');
    return;
  }
  const { library, vectors, paths } = libraryWithVectors(t, 50);
  const out = path.join(tempDir(t, 'recipe-export-'), 'recipe');
  await exportRecipe(library, { outDir: out });
  const script = [
    'import numpy as np, sys, json',
    `a = np.load(sys.argv[1])`,
    `paths = open(sys.argv[2], encoding='utf-8').read().split('\\n')[:-1]`,
    `print(json.dumps({"shape": list(a.shape), "dtype": str(a.dtype), "c": bool(a.flags["C_CONTIGUOUS"]), "row0": a[0, :4].tolist(), "norms": float(abs(np.linalg.norm(a, axis=1) - 1).max()), "first": paths[0], "n": len(paths)}))`,
  ].join('\n');
  const output = execFileSync('python3', ['-c', script, path.join(out, 'embeddings.npy'), path.join(out, 'file_paths.txt')], { encoding: 'utf8' });
  const seen = JSON.parse(output);
  assert.deepEqual(seen.shape, [50, DIM]);
  assert.equal(seen.dtype, 'float32');
  assert.equal(seen.c, true);
  assert.ok(seen.norms < 1e-4);
  assert.equal(seen.n, 50);
  const row = paths.indexOf(seen.first);
  assert.ok(row >= 0);
  seen.row0.forEach((v: number, i: number) => assert.ok(Math.abs(v - vectors[row * DIM + i]) < 1e-6));
});

test('export: refuses to overwrite a recipe unless asked, and a failed export leaves nothing behind', async (t) => {
  const { library, paths } = libraryWithVectors(t, 20);
  const out = path.join(tempDir(t, 'recipe-export-'), 'recipe');
  await exportRecipe(library, { outDir: out });
  const before = readFileSync(path.join(out, 'embeddings.npy'));
  await assert.rejects(exportRecipe(library, { outDir: out }), /already holds embeddings\.npy/);
  await exportRecipe(library, { outDir: out, overwrite: true });
  assert.deepEqual(readFileSync(path.join(out, 'embeddings.npy')).subarray(128), before.subarray(128));

  // Damage one stored vector: the export fails midway and must leave no partial files.
  const id = library.catalogue.photoIdByPath(paths[15])!;
  library.catalogue.db.prepare('UPDATE embeddings SET vector = ? WHERE photo_id = ?').run(Buffer.alloc(12), id);
  const fresh = path.join(tempDir(t, 'recipe-export-'), 'new-recipe');
  await assert.rejects(exportRecipe(library, { outDir: fresh, batchSize: 8 }), /expected 512/);
  assert.equal(existsSync(fresh), false, 'the new output folder is removed again');
  await assert.rejects(exportRecipe(library, { outDir: out, overwrite: true, batchSize: 8 }), /expected 512/);
  assert.deepEqual(readdirSync(out).sort(), ['embeddings.npy', 'faiss.index', 'file_paths.txt', 'manifest.json'], 'no temp folder left');
  assert.deepEqual(readFileSync(path.join(out, 'embeddings.npy')).subarray(128), before.subarray(128), 'previous export intact');
});

test('export: a path with a line break cannot be a line of file_paths.txt: left out and reported', async (t) => {
  const { library } = libraryWithVectors(t, 5);
  const odd = '/photos/two\nlines.jpg';
  library.catalogue.insertPhotos([{ folderId: null, path: odd, size: 1, mtimeMs: 1 }]);
  library.catalogue.importVectors(MODEL, [library.catalogue.photoIdByPath(odd)!], unitRows(1, DIM, 3));
  const out = path.join(tempDir(t, 'recipe-export-'), 'recipe');
  const result = await exportRecipe(library, { outDir: out });
  assert.equal(result.count, 5);
  assert.deepEqual(result.skipped, [odd]);
  assert.deepEqual(parseNpy(readFileSync(path.join(out, 'embeddings.npy'))).shape, [5, DIM]);
  assert.equal(readFileSync(path.join(out, 'file_paths.txt'), 'utf8').split('\n').length, 6);
});

test('export: clear errors for a library without the model', async (t) => {
  const library = Library.open(tempDir(t, 'recipe-export-'));
  t.after(() => library.close());
  await assert.rejects(exportRecipe(library, { outDir: path.join(tempDir(t, 'recipe-export-'), 'x') }), (e: Error) => e instanceof RecipeError && /no current model/.test(e.message));
  await assert.rejects(exportRecipe(library, { outDir: path.join(tempDir(t, 'recipe-export-'), 'x'), modelId: 'nope' }), /model "nope" has no vectors/);
  const file = path.join(tempDir(t, 'recipe-export-'), 'a-file');
  writeFileSync(file, 'x');
  library.useModel(MODEL, null);
  await assert.rejects(exportRecipe(library, { outDir: file }), /not a folder/);
});

test('export: an empty model exports a (0, D) array and an empty index', async (t) => {
  const library = Library.open(tempDir(t, 'recipe-export-'));
  t.after(() => library.close());
  library.useModel(MODEL, null);
  const out = path.join(tempDir(t, 'recipe-export-'), 'recipe');
  const result = await exportRecipe(library, { outDir: out });
  assert.equal(result.count, 0);
  assert.deepEqual(parseNpy(readFileSync(path.join(out, 'embeddings.npy'))).shape, [0, DIM]);
  assert.equal(readFileSync(path.join(out, 'file_paths.txt'), 'utf8'), '');
  assert.equal((await readFaissHeader(path.join(out, 'faiss.index'))).ntotal, 0);
});

test('export CLI: photo-search export --out DIR --library DIR', async (t) => {
  const { library } = libraryWithVectors(t, 30);
  const libraryDir = library.paths.dir;
  library.close();
  const out = path.join(tempDir(t, 'recipe-export-'), 'cli-recipe');
  const log = t.mock.method(console, 'log', () => undefined);
  assert.equal(await main(['export', '--out', out, '--library', libraryDir]), 0);
  assert.match(String(log.mock.calls[0].arguments[0]), /exported 30 vectors \(512-d, model ViT-B-32__openai\)/);
  const error = t.mock.method(console, 'error', () => undefined);
  assert.equal(await main(['export', '--library', libraryDir]), 2, 'missing --out is a usage error');
  assert.equal(await main(['export', '--out', out, '--library', libraryDir]), 1, 'existing recipe without --force');
  assert.match(String(error.mock.calls.at(-1)!.arguments[0]), /already holds/);
  assert.equal(await main(['export', '--out', out, '--force', '--library', libraryDir]), 0);
});
