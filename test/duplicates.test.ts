// Duplicate detection on photos with planted copies (exact, resized 50 %, re-encoded at JPEG quality 60,
// brightened): the groups must reach pairwise precision and recall ≥ 0.95. No real CLIP model is available
// here, so the vectors come from a deterministic stand-in (an 8×8 colour thumbnail, mean-removed and
// normalised); the perceptual confirmation is the production code path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { DuplicateGroup, PhotoDetail } from '../src/shared/types.js';
import { Library } from '../src/main/core/library.js';
import { hashFile } from '../src/main/core/scanner/content-hash.js';
import { findDuplicateGroups, findDuplicates, orderForKeeping, trashPhotos } from '../src/main/core/duplicates/duplicates.js';
import { allPairs, similarPairs } from '../src/main/core/duplicates/neighbours.js';
import { differenceHash, hammingDistance, perceptualSignature } from '../src/main/core/duplicates/perceptual.js';
import { UnionFind } from '../src/main/core/duplicates/union-find.js';
import { main } from '../src/main/cli/main.js';
import { type CleanupScope, prng, tempDir } from './helpers/fixtures.js';

const STANDIN = { id: 'standin-8x8', dim: 8 * 8 * 3, preprocessVersion: 'standin-1' };
const FLICKR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/photos/flickr8k-1000/images');

/** A distinct picture: a random gradient under random shapes. */
async function syntheticPhoto(seed: number): Promise<Buffer> {
  const random = prng(seed * 7919 + 1);
  const int = (n: number) => Math.floor(random() * n);
  const colour = () => `rgb(${int(256)},${int(256)},${int(256)})`;
  const [w, h] = [480, 360];
  const shapes: string[] = [];
  for (let i = 0; i < 10; i++) {
    const kind = int(3);
    if (kind === 0) shapes.push(`<rect x="${int(w)}" y="${int(h)}" width="${40 + int(200)}" height="${40 + int(160)}" fill="${colour()}"/>`);
    else if (kind === 1) shapes.push(`<circle cx="${int(w)}" cy="${int(h)}" r="${20 + int(100)}" fill="${colour()}"/>`);
    else shapes.push(`<polygon points="${int(w)},${int(h)} ${int(w)},${int(h)} ${int(w)},${int(h)}" fill="${colour()}"/>`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
    <defs><linearGradient id="g" x1="${random()}" y1="${random()}" x2="${random()}" y2="${random()}">
      <stop offset="0" stop-color="${colour()}"/><stop offset="1" stop-color="${colour()}"/></linearGradient></defs>
    <rect width="${w}" height="${h}" fill="url(#g)"/>${shapes.join('')}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 92 }).toBuffer();
}

type CopyKind = 'exact' | 'resized' | 'q60' | 'brighter';

async function makeCopy(original: string, kind: CopyKind, target: string): Promise<void> {
  if (kind === 'exact') return copyFileSync(original, target);
  const image = sharp(original);
  const meta = await image.metadata();
  const out = kind === 'resized' ? image.resize(Math.round(meta.width! / 2)).jpeg({ quality: 90 })
    : kind === 'q60' ? image.jpeg({ quality: 60 })
      : image.modulate({ brightness: 1.1 }).jpeg({ quality: 90 });
  await out.toFile(target);
}

/** Plants copies: originals[i] gets copies of the kinds in plan[i]; returns the true groups (paths). */
async function plantCopies(dir: string, originals: string[], plan: CopyKind[][]): Promise<string[][]> {
  const truth: string[][] = [];
  for (const [i, kinds] of plan.entries()) {
    if (!kinds.length) continue;
    const group = [originals[i]];
    for (const [j, kind] of kinds.entries()) {
      const target = path.join(dir, `copy-${i}-${j}-${kind}.jpg`);
      await makeCopy(originals[i], kind, target);
      group.push(target);
    }
    truth.push(group);
  }
  return truth;
}

/** The stand-in embedding: 8×8 RGB, mean-removed, unit length. */
async function standInVector(file: string): Promise<Float32Array> {
  const raw = await sharp(file).resize(8, 8, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const v = Float32Array.from(raw);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    v[i] -= mean;
    norm += v[i] * v[i];
  }
  return v.map((x) => x / Math.sqrt(norm));
}

/** Registers every file (real size and mtime, content hash as the pipeline would) and, optionally, stand-in vectors. */
async function catalogueFiles(library: Library, dir: string, withVectors: boolean): Promise<void> {
  const folder = library.catalogue.addFolder(dir);
  const files = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(dir, f));
  // Originals first, so the oldest/lowest id is the original when sizes tie.
  files.sort((a, b) => Number(path.basename(a).startsWith('copy')) - Number(path.basename(b).startsWith('copy')));
  library.catalogue.insertPhotos(files.map((f) => ({ folderId: folder.id, path: f, size: statSync(f).size, mtimeMs: statSync(f).mtimeMs })));
  for (const f of files) library.catalogue.setContentHash(library.catalogue.photoIdByPath(f)!, await hashFile(f));
  if (!withVectors) return;
  library.useModel(STANDIN, null);
  const vectors = new Float32Array(files.length * STANDIN.dim);
  for (const [i, f] of files.entries()) vectors.set(await standInVector(f), i * STANDIN.dim);
  library.catalogue.importVectors(STANDIN, files.map((f) => library.catalogue.photoIdByPath(f)!), vectors);
}

function pairsOf(groups: string[][]): Set<string> {
  const out = new Set<string>();
  for (const g of groups) {
    const sorted = [...g].sort();
    for (let i = 0; i < sorted.length; i++) for (let j = i + 1; j < sorted.length; j++) out.add(`${sorted[i]}\n${sorted[j]}`);
  }
  return out;
}

/** Pairwise precision and recall of predicted groups against the planted ones. */
function score(groups: DuplicateGroup[], truth: string[][]): { precision: number; recall: number } {
  const predicted = pairsOf(groups.map((g) => g.photos.map((p) => p.path)));
  const expected = pairsOf(truth);
  const hits = [...predicted].filter((p) => expected.has(p)).length;
  return { precision: predicted.size ? hits / predicted.size : 1, recall: expected.size ? hits / expected.size : 1 };
}

function groupOf(groups: DuplicateGroup[], file: string): DuplicateGroup | undefined {
  return groups.find((g) => g.photos.some((p) => p.path === file));
}

// 30 distinct generated photos; 18 of them get planted copies (23 copies in all).
const PLAN: CopyKind[][] = [
  ['exact'], ['exact'], ['exact'], ['exact'],
  ['resized'], ['resized'], ['resized'], ['resized'],
  ['q60'], ['q60'], ['q60'], ['q60'],
  ['brighter'], ['brighter'], ['brighter'], ['brighter'],
  ['exact', 'resized', 'q60', 'brighter'], ['resized', 'q60', 'brighter'],
];

async function syntheticSet(t: CleanupScope): Promise<{ dir: string; originals: string[]; truth: string[][] }> {
  const dir = path.join(tempDir(t, 'dupes-'), 'photos');
  mkdirSync(dir);
  const originals: string[] = [];
  for (let i = 0; i < 30; i++) {
    const file = path.join(dir, `photo-${String(i).padStart(2, '0')}.jpg`);
    writeFileSync(file, await syntheticPhoto(i));
    originals.push(file);
  }
  return { dir, originals, truth: await plantCopies(dir, originals, PLAN) };
}

function openLibrary(t: CleanupScope): Library {
  const library = Library.open(tempDir(t, 'dupes-lib-'));
  t.after(() => library.close());
  return library;
}

test('union-find chains pairs into groups', () => {
  const uf = new UnionFind();
  uf.union(5, 9);
  uf.union(9, 2);
  uf.union(7, 8);
  uf.find(100);
  assert.deepEqual(uf.groups().sort((a, b) => a[0] - b[0]), [[2, 5, 9], [7, 8]]);
  assert.equal(uf.find(9), uf.find(2));
  assert.notEqual(uf.find(7), uf.find(2));
});

test('neighbour pairs: the FAISS path finds the same pairs as the exact JS comparison', async () => {
  const random = prng(3);
  const dim = 32;
  const n = 400;
  const rows = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    // Every 10th row is a noisy copy of the row before it.
    for (let i = 0; i < dim; i++) rows[r * dim + i] = r % 10 === 9 ? rows[(r - 1) * dim + i] + (random() - 0.5) * 0.05 : random() - 0.5;
    const norm = Math.hypot(...rows.subarray(r * dim, (r + 1) * dim));
    for (let i = 0; i < dim; i++) rows[r * dim + i] /= norm;
  }
  const source = { dim, count: n, *batches() { for (let s = 0; s < n; s += 64) yield rows.subarray(s * dim, Math.min(n, s + 64) * dim); } };
  const exact = allPairs(rows, dim, 0.9).map((p) => `${p.a}-${p.b}`).sort();
  const viaFaiss = (await similarPairs(source, { minScore: 0.9, bruteForceLimit: 0, k: 5, queryBatch: 50 })).map((p) => `${p.a}-${p.b}`).sort();
  assert.equal(exact.length, 40);
  assert.deepEqual(viaFaiss, exact);
  assert.deepEqual((await similarPairs(source, { minScore: 0.9 })).map((p) => `${p.a}-${p.b}`).sort(), exact);
});

test('perceptual hash: copies stay within a few bits, different pictures do not', async () => {
  const a = await syntheticPhoto(1);
  const b = await syntheticPhoto(2);
  const resized = await sharp(a).resize(240).jpeg({ quality: 90 }).toBuffer();
  const q60 = await sharp(a).jpeg({ quality: 60 }).toBuffer();
  const brighter = await sharp(a).modulate({ brightness: 1.1 }).jpeg({ quality: 90 }).toBuffer();
  const ha = await differenceHash(a);
  for (const copy of [resized, q60, brighter]) assert.ok(hammingDistance(ha, await differenceHash(copy)) <= 6);
  assert.ok(hammingDistance(ha, await differenceHash(b)) > 16);
  const sig = await perceptualSignature(a);
  assert.equal(sig.vector.length, 256);
  assert.ok(Math.abs(Math.hypot(...sig.vector) - 1) < 1e-5);
  assert.equal(hammingDistance(0b1011n, 0b0110n), 3);
});

test('keep order: most pixels, then largest file, then oldest, then lowest id', async () => {
  const base = { width: 100, height: 100, size: 1000, takenAt: null, mtimeMs: 50 } as PhotoDetail;
  const photos = [
    { ...base, id: 1, size: 900 },
    { ...base, id: 2, width: 200 },
    { ...base, id: 3, width: 200, mtimeMs: 10 },
    { ...base, id: 4, width: 200, takenAt: 5 },
    { ...base, id: 5, width: 200, size: 2000 },
  ] as PhotoDetail[];
  assert.deepEqual((await orderForKeeping(photos)).map((p) => p.id), [5, 4, 3, 2, 1]);
});

test('duplicates: planted copies among 30 generated photos, vectors + perceptual check, precision and recall ≥ 0.95', async (t) => {
  const { dir, originals, truth } = await syntheticSet(t);
  const library = openLibrary(t);
  await catalogueFiles(library, dir, true);

  const report = await findDuplicates(library);
  const { precision, recall } = score(report.groups, truth);
  t.diagnostic(`vectors+dHash: precision ${precision.toFixed(3)} recall ${recall.toFixed(3)}, ${report.groups.length} groups, ${report.stats.candidatePairs} candidates, ${report.stats.confirmedPairs} confirmed`);
  assert.ok(precision >= 0.95, `precision ${precision}`);
  assert.ok(recall >= 0.95, `recall ${recall}`);
  assert.equal(report.stats.mode, 'vectors');
  assert.equal(report.stats.searched, 30 + PLAN.flat().length);

  for (let i = 0; i < 4; i++) {
    const group = groupOf(report.groups, originals[i])!;
    assert.equal(group.kind, 'exact');
    assert.equal(group.similarity, 1);
    assert.equal(group.keepId, group.photos[0].id);
    assert.equal(group.photos[0].path, originals[i], 'the original (older, lower id) is kept over its byte-identical copy');
  }
  for (let i = 4; i < 12; i++) {
    const group = groupOf(report.groups, originals[i])!;
    assert.equal(group.kind, 'near');
    assert.ok(group.similarity >= 0.92 && group.similarity <= 1);
    assert.equal(group.photos.find((p) => p.id === group.keepId)!.path, originals[i], 'the original is larger than its resized / recompressed copy');
  }
  const mixed = groupOf(report.groups, originals[16])!;
  assert.equal(mixed.photos.length, 5);
  assert.equal(mixed.kind, 'near');

  // The FAISS path (forced) gives the same groups.
  const viaFaiss = await findDuplicateGroups(library, { bruteForceLimit: 0 });
  assert.deepEqual(viaFaiss.map((g) => g.photos.map((p) => p.id)), report.groups.map((g) => g.photos.map((p) => p.id)));

  // Precision does not rest on the vectors: with a far too low threshold the perceptual check still holds.
  const loose = await findDuplicates(library, { threshold: 0.3 });
  const looseScore = score(loose.groups, truth);
  t.diagnostic(`threshold 0.3 + dHash: precision ${looseScore.precision.toFixed(3)} recall ${looseScore.recall.toFixed(3)} (${loose.stats.candidatePairs} candidates)`);
  assert.ok(loose.stats.candidatePairs > report.stats.candidatePairs);
  assert.ok(loose.stats.confirmedPairs < loose.stats.candidatePairs, 'the perceptual check rejected the false candidates');
  assert.ok(looseScore.precision >= 0.95);

  // Perceptual mode (no vectors used) on the same photos.
  const perceptual = await findDuplicates(library, { mode: 'perceptual' });
  const p = score(perceptual.groups, truth);
  t.diagnostic(`perceptual: precision ${p.precision.toFixed(3)} recall ${p.recall.toFixed(3)}`);
  assert.ok(p.precision >= 0.95 && p.recall >= 0.95);
});

test('duplicates: Flickr8k photos with planted copies, perceptual path, precision and recall ≥ 0.95', { skip: existsSync(FLICKR) ? false : '../shared/data/photos/flickr8k-1000 is not available' }, async (t) => {
  const dir = path.join(tempDir(t, 'dupes-'), 'flickr');
  mkdirSync(dir);
  const originals = readdirSync(FLICKR).filter((f) => f.endsWith('.jpg')).sort().slice(0, 40).map((f) => {
    copyFileSync(path.join(FLICKR, f), path.join(dir, f));
    return path.join(dir, f);
  });
  const plan: CopyKind[][] = [
    ['exact'], ['exact'], ['exact'], ['resized'], ['resized'], ['resized'], ['resized'], ['q60'], ['q60'], ['q60'],
    ['brighter'], ['brighter'], ['brighter'], ['exact', 'resized'], ['q60', 'brighter'], ['resized', 'q60', 'brighter'],
  ];
  const truth = await plantCopies(dir, originals, plan);
  const library = openLibrary(t);
  await catalogueFiles(library, dir, false);
  const report = await findDuplicates(library, { mode: 'perceptual' });
  const { precision, recall } = score(report.groups, truth);
  t.diagnostic(`flickr perceptual: precision ${precision.toFixed(3)} recall ${recall.toFixed(3)}, ${report.groups.length} groups of ${truth.length} planted`);
  assert.equal(report.stats.searched, 40 + plan.flat().length);
  assert.ok(precision >= 0.95, `precision ${precision}`);
  assert.ok(recall >= 0.95, `recall ${recall}`);

  // Without a model, the default (vector) mode still reports the byte-identical copies.
  const exactOnly = await findDuplicateGroups(library);
  assert.ok(exactOnly.length >= 4 && exactOnly.every((g) => g.kind === 'exact'));
});

test('trash: files go to the trash via the injected mover, rows become missing, failures are reported per file', async (t) => {
  const dir = tempDir(t, 'dupes-');
  const trashDir = tempDir(t, 'trash-');
  const library = openLibrary(t);
  const files = ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'].map((f) => path.join(dir, f));
  files.forEach((f) => writeFileSync(f, f));
  library.catalogue.insertPhotos(files.map((f) => ({ folderId: null, path: f, size: 1, mtimeMs: 1 })));
  const [a, b, c, d] = files.map((f) => library.catalogue.photoIdByPath(f)!);
  rmSync(files[2]); // c is already gone from disk
  const moved: string[] = [];
  const result = await trashPhotos(library, [a, b, c, d, 999, a], {
    moveToTrash: async (file) => {
      if (file === files[3]) throw new Error('permission denied');
      copyFileSync(file, path.join(trashDir, path.basename(file)));
      rmSync(file);
      moved.push(file);
    },
  });
  assert.deepEqual(result.trashed, [a, b]);
  assert.deepEqual(moved, [files[0], files[1]]);
  assert.deepEqual(result.failed.map((f) => f.id), [c, d, 999]);
  assert.match(result.failed[0].error, /file not found/);
  assert.match(result.failed[1].error, /permission denied/);
  assert.match(result.failed[2].error, /no such photo/);
  assert.deepEqual([a, b, c, d].map((id) => library.catalogue.getPhoto(id)!.status), ['missing', 'missing', 'missing', 'pending']);
  assert.ok(existsSync(files[3]), 'a failed move leaves the file alone');
  // A mover that claims success but leaves the file is not believed.
  const liar = await trashPhotos(library, [d], { moveToTrash: async () => undefined });
  assert.deepEqual(liar.trashed, []);
  assert.match(liar.failed[0].error, /still there/);
  assert.equal(library.catalogue.getPhoto(d)!.status, 'pending');
});

test('trash: the default mover (the trash package) puts the file in the XDG trash', { skip: process.platform === 'linux' ? false : 'XDG trash layout is Linux-only' }, (t) => {
  const dir = tempDir(t, 'dupes-');
  const dataHome = tempDir(t, 'xdg-data-');
  const libraryDir = tempDir(t, 'trash-lib-');
  const file = path.join(dir, 'photo.jpg');
  writeFileSync(file, 'bytes');
  const setup = Library.open(libraryDir);
  setup.catalogue.insertPhotos([{ folderId: null, path: file, size: 5, mtimeMs: 1 }]);
  const id = setup.catalogue.photoIdByPath(file)!;
  setup.close();
  // A child process, so the trash package resolves XDG_DATA_HOME to the temporary folder.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = `
    const { Library } = await import(${JSON.stringify(path.join(here, '../src/main/core/library.js'))});
    const { trashPhotos } = await import(${JSON.stringify(path.join(here, '../src/main/core/duplicates/trash.js'))});
    const library = Library.open(${JSON.stringify(libraryDir)});
    console.log(JSON.stringify(await trashPhotos(library, [${id}])));
    library.close();`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, XDG_DATA_HOME: dataHome }, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout).trashed, [id]);
  assert.equal(existsSync(file), false);
  const trashed = readdirSync(path.join(dataHome, 'Trash', 'files'));
  assert.equal(trashed.length, 1, 'the file is in the trash, not deleted');
  const check = Library.open(libraryDir);
  assert.equal(check.catalogue.getPhoto(id)!.status, 'missing');
  check.close();
});

test('duplicates CLI: lists groups as text and JSON', async (t) => {
  const dir = path.join(tempDir(t, 'dupes-'), 'photos');
  mkdirSync(dir);
  const original = path.join(dir, 'one.jpg');
  writeFileSync(original, await syntheticPhoto(11));
  writeFileSync(path.join(dir, 'two.jpg'), await syntheticPhoto(12));
  await makeCopy(original, 'resized', path.join(dir, 'copy-small.jpg'));
  const library = openLibrary(t);
  await catalogueFiles(library, dir, true);
  const libraryDir = library.paths.dir;
  const log = t.mock.method(console, 'log', () => undefined);
  assert.equal(await main(['duplicates', '--library', libraryDir]), 0);
  const text = log.mock.calls.map((c) => String(c.arguments[0])).join('\n');
  assert.match(text, /group 1: near, 2 photos/);
  assert.match(text, /keep +.*one\.jpg/);
  assert.match(text, /copy +.*copy-small\.jpg/);
  assert.equal(await main(['duplicates', '--json', '--threshold', '0.9', '--library', libraryDir]), 0);
  const json = JSON.parse(String(log.mock.calls.at(-1)!.arguments[0]));
  assert.equal(json.groups.length, 1);
  assert.equal(json.stats.threshold, 0.9);
  const error = t.mock.method(console, 'error', () => undefined);
  assert.equal(await main(['duplicates', '--threshold', '2', '--library', libraryDir]), 2);
  assert.match(String(error.mock.calls.at(-1)!.arguments[0]), /--threshold must be a number in \(0, 1\]/);
});
