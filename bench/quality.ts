// Search quality: text-to-image recall R@1/5/10 on a captioned photo set, for any model folder, printed beside
// published reference figures. A captioned set is a folder of images plus a `captions.tsv` of
// `image<TAB>caption_index<TAB>caption` (Flickr8k's layout). Each caption is a query; it is a hit at k when its
// own image is among the k images the model ranks highest (cosine of the text and image embeddings, over every
// image of the set), as in CLIP's zero-shot retrieval evaluations.
//
//   BENCH=quality npm run bench
//   node dist/bench/quality.js [--model DIR] [--photos DIR] [--split all|test] [--limit N]
//
// Defaults: the architecture model of ../shared (true ViT-B/32 cost, RANDOM weights: its figures are at chance
// level, R@k ≈ k / images, and say nothing about the app) and ../shared's 1,000 Flickr8k photos. A user with real
// weights points --model at them. Reference: OpenAI CLIP ViT-B/32 zero-shot on the Flickr8k 1,000-image test split,
// text→image R@1/5/10 = 51.1 / 77.9 / 86.4.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ClipModel } from '../src/main/core/model/clip-model.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { decodeForEmbedding } from '../src/main/core/model/preprocess.js';
import { packageRoot } from '../src/main/core/paths.js';
import { findArchModel, SHARED_DIR } from './lib/arch-model.js';
import { parseArgs } from './lib/args.js';

const REFERENCE = { name: 'OpenAI CLIP ViT-B/32, zero-shot, Flickr8k 1k test split', r1: 51.1, r5: 77.9, r10: 86.4 };
const KS = [1, 5, 10] as const;
const BATCH = 16;

const args = parseArgs(process.argv.slice(2));

interface Caption {
  image: string;
  text: string;
}

function readCaptions(dir: string, split: string): { images: string[]; captions: Caption[] } {
  const rows = readFileSync(path.join(dir, 'captions.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((line) => line.split('\t'));
  let captions = rows.filter((r) => r.length >= 3).map(([image, , text]) => ({ image, text }));
  const splitFile = path.join(dir, 'canonical_splits', 'Flickr_8k.testImages.canonical.txt');
  if (split === 'test' && existsSync(splitFile)) {
    const test = new Set(readFileSync(splitFile, 'utf8').split('\n').map((s) => s.trim()).filter(Boolean));
    const inSplit = captions.filter((c) => test.has(c.image));
    if (inSplit.length > 0) captions = inSplit;
  }
  captions = captions.filter((c) => existsSync(path.join(dir, 'images', c.image)));
  const images = [...new Set(captions.map((c) => c.image))];
  const limit = args.limit ? Number(args.limit) : images.length;
  const kept = new Set(images.slice(0, limit));
  return { images: images.slice(0, limit), captions: captions.filter((c) => kept.has(c.image)) };
}

async function main(): Promise<void> {
  const photos = path.resolve(String(args.photos ?? path.join(SHARED_DIR, 'data/photos/flickr8k-1000')));
  const modelDir = findArchModel(args.model ? String(args.model) : undefined);
  if (!existsSync(path.join(photos, 'captions.tsv')) || !modelDir) {
    console.log(`quality: skipped, needs a captioned photo set (${photos}/captions.tsv) and a model folder (--model, or ../shared's)`);
    return;
  }
  const arch = !args.model;
  const split = String(args.split ?? 'all');
  const { images, captions } = readCaptions(photos, split);
  const folder = await loadModelFolder(modelDir);
  const model = await ClipModel.load(folder, { threads: 2, maxBatch: BATCH });
  console.log(`model ${modelDir}${arch ? ' (architecture model: RANDOM weights, chance-level figures expected)' : ''}`);
  console.log(`photos ${photos}: ${images.length} images, ${captions.length} captions (split: ${split}; the reference used the 1,000-image test split, so compare galleries of the same size)`);

  const started = performance.now();
  const imageVectors: Float32Array[] = [];
  for (let i = 0; i < images.length; i += BATCH) {
    const tensors = await Promise.all(images.slice(i, i + BATCH).map(async (name) =>
      (await decodeForEmbedding(await readFile(path.join(photos, 'images', name)), folder.preprocessCfg, {})).tensor));
    imageVectors.push(...(await model.embedImages(tensors)));
  }
  const textVectors: Float32Array[] = [];
  for (let i = 0; i < captions.length; i += 64) textVectors.push(...(await model.embedTexts(captions.slice(i, i + 64).map((c) => c.text))));
  const seconds = (performance.now() - started) / 1000;
  await model.release();

  const indexOf = new Map(images.map((name, i) => [name, i]));
  const hits = new Map<number, number>(KS.map((k) => [k, 0]));
  for (const [q, caption] of captions.entries()) {
    const t = textVectors[q];
    const own = indexOf.get(caption.image)!;
    const ownScore = dot(t, imageVectors[own]);
    // Rank of the caption's own image: how many images score strictly higher (ties counted against it).
    let above = 0;
    for (let i = 0; i < imageVectors.length; i++) if (i !== own && dot(t, imageVectors[i]) >= ownScore) above++;
    for (const k of KS) if (above < k) hits.set(k, hits.get(k)! + 1);
  }
  const recall = Object.fromEntries(KS.map((k) => [`r${k}`, (100 * hits.get(k)!) / captions.length])) as Record<'r1' | 'r5' | 'r10', number>;
  const chance = Object.fromEntries(KS.map((k) => [`r${k}`, (100 * Math.min(k, images.length)) / images.length])) as Record<'r1' | 'r5' | 'r10', number>;
  const row = (name: string, r: Record<'r1' | 'r5' | 'r10', number>) =>
    `  ${name.padEnd(58)} ${r.r1.toFixed(1).padStart(6)} ${r.r5.toFixed(1).padStart(6)} ${r.r10.toFixed(1).padStart(6)}`;
  console.log(`\n  text→image recall (%), ${captions.length} captions over ${images.length} images; embedding took ${seconds.toFixed(0)} s`);
  console.log(`  ${''.padEnd(58)} ${'R@1'.padStart(6)} ${'R@5'.padStart(6)} ${'R@10'.padStart(6)}`);
  console.log(row(`this model${arch ? ' (random weights)' : ''}`, recall));
  console.log(row('chance (k / images)', chance));
  console.log(row(`reference: ${REFERENCE.name}`, REFERENCE));
  const out = path.join(packageRoot, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'quality.json'), JSON.stringify({ date: new Date().toISOString(), model: modelDir, randomWeights: arch, images: images.length, captions: captions.length, recall, chance, reference: REFERENCE }, null, 2));
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

main().catch((error: Error) => {
  console.error(error);
  process.exitCode = 1;
});
