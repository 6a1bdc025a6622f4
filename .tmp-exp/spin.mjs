import ort from 'onnxruntime-node';
import { readFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { decodeForEmbedding } from '/work/main/dist/src/main/core/model/preprocess.js';
import { loadModelFolder } from '/work/main/dist/src/main/core/model/model-folder.js';
const folder = await loadModelFolder('/work/.tmp-models/clip-vit-b32-arch');
const dir = '/work/shared/data/photos/flickr8k-1000/images';
const files = readdirSync(dir).slice(0, 64).map(f => dir + '/' + f);
const mk = (spin) => ort.InferenceSession.create(folder.visualModelPath, { intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: spin } } } });
const sessions = { spin1: await mk('1'), spin0: await mk('0') };
const B = 16;
const batch = new Float32Array(B * 3 * 224 * 224);
async function decodeAll() { let n = 0; await Promise.all([0,1,2,3].map(async () => { while (n < files.length) { const f = files[n++]; await decodeForEmbedding(await readFile(f), folder.preprocessCfg, {thumbSize: 320}); } })); }
async function infer(s, k) { for (let i = 0; i < k; i++) await s.run({ image: new ort.Tensor('float32', batch, [B,3,224,224]) }); }
for (const s of Object.values(sessions)) await infer(s, 1);
for (let round = 0; round < 3; round++) {
  for (const [name, s] of Object.entries(sessions)) {
    let t = performance.now(); await infer(s, 2); const a = 32000 / (performance.now() - t);
    t = performance.now(); await decodeAll(); const b = 64000 / (performance.now() - t);
    t = performance.now(); await Promise.all([infer(s, 2), decodeAll()]); const both = (performance.now() - t) / 1000;
    const serial = 32 / a + 64 / b;
    console.log(round, name, 'a', a.toFixed(1), 'b', b.toFixed(1), 'overlap', both.toFixed(2), 's vs serial', serial.toFixed(2), 's', 'gain', (serial / both).toFixed(2));
  }
}
