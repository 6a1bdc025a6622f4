import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os'; import path from 'node:path';
const root = '/work/main/dist/src/main/core/';
const { Library } = await import(root + 'library.js');
const { exportRecipe, importRecipe } = await import(root + 'recipe/index.js');
const { findDuplicates } = await import(root + 'duplicates/duplicates.js');
const N = Number(process.argv[2] ?? 100000), D = 512;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'recipe-measure-'));
const lib = Library.open(path.join(tmp, 'a'));
const model = { id: 'ViT-B-32__openai', dim: D, preprocessVersion: 'x' };
lib.useModel(model, null);
const paths = Array.from({ length: N }, (_, i) => `/nowhere/photos/${i}.jpg`);
lib.catalogue.insertPhotos(paths.map(p => ({ folderId: null, path: p, size: 1, mtimeMs: 1 })));
let s = 1; const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
const vec = new Float32Array(N * D); for (let i = 0; i < vec.length; i++) vec[i] = rnd() - 0.5;
for (let r = 0; r < N; r++) { let n = 0; for (let i = 0; i < D; i++) n += vec[r*D+i]**2; n = Math.sqrt(n); for (let i = 0; i < D; i++) vec[r*D+i] /= n; }
lib.catalogue.importVectors(model, paths.map(p => lib.catalogue.photoIdByPath(p)), vec);
let t = Date.now(); const mem0 = process.memoryUsage().rss;
const res = await exportRecipe(lib, { outDir: path.join(tmp, 'out') });
console.log(`export ${N}: ${Date.now() - t} ms, npy ${statSync(path.join(tmp,'out/embeddings.npy')).size} B, index ${statSync(path.join(tmp,'out/faiss.index')).size} B, rss ${(process.memoryUsage().rss/2**20).toFixed(0)} MiB`);
const lib2 = Library.open(path.join(tmp, 'b'));
t = Date.now();
const sum = await importRecipe(lib2, { dir: path.join(tmp, 'out'), modelId: model.id, modelsDir: null });
console.log(`import ${N}: ${Date.now() - t} ms`, sum, `rss ${(process.memoryUsage().rss/2**20).toFixed(0)} MiB`);
if (process.argv[3]) { t = Date.now(); const rep = await findDuplicates(lib, { }); console.log(`duplicates over ${N} vectors: ${Date.now() - t} ms`, rep.stats); }
lib.close(); lib2.close(); rmSync(tmp, { recursive: true, force: true });
