// The duplicate scan at library scale: candidates found inside partitions of similar vectors agree with the
// exact all-pairs search, an incremental scan of new photos through the vector index (IVF) merges into the
// kept results exactly as a full scan would group them, and the background scan the UI drives reports progress, keeps its results across a
// restart, can be cancelled, and reports a failure. Vectors are synthetic (no image files): near copies
// are planted as noisy copies of earlier vectors, so the perceptual confirmation is off here
// (test/duplicates.test.ts covers it on real pictures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import path from 'node:path';
import type { ApiEvent, DuplicateScanStatus } from '../src/shared/types.js';
import { Library } from '../src/main/core/library.js';
import { findDuplicateSets, type DuplicateSet } from '../src/main/core/duplicates/duplicates.js';
import { mergeSets } from '../src/main/core/duplicates/scan-store.js';
import { DuplicateScanner } from '../src/main/core/service/duplicate-scanner.js';
import { LibraryService } from '../src/main/core/service/library-service.js';
import { vectorIndexDir } from '../src/main/core/search/vector-store.js';
import { VectorIndex } from '../src/main/core/vector/vector-index.js';
import { type CleanupScope, prng, tempDir } from './helpers/fixtures.js';

const MODEL = { id: 'standin-32', dim: 32, preprocessVersion: 'standin-1' };

/**
 * Appends `count` photos with unit vectors: every `copyEvery`-th is a noisy copy (cosine ≈ 0.99) of a
 * random earlier vector; the others are random. Returns the planted pairs as "a-b" photo ids.
 */
function addPhotos(library: Library, count: number, seed: number, copyEvery: number): Set<string> {
  const catalogue = library.catalogue;
  const folder = catalogue.listFolders()[0] ?? catalogue.addFolder(path.join(library.paths.dir, 'photos'));
  const first = (catalogue.db.prepare('SELECT coalesce(max(id), 0) AS n FROM photos').get() as { n: number }).n + 1;
  catalogue.insertPhotos(Array.from({ length: count }, (_, i) => ({
    folderId: folder.id, path: path.join(folder.path, `p${first + i}.jpg`), size: 1000 + first + i, mtimeMs: 1,
  })));
  const ids = Array.from({ length: count }, (_, i) => first + i);
  const random = prng(seed);
  const vectors = new Float32Array(count * MODEL.dim);
  const planted = new Set<string>();
  for (let r = 0; r < count; r++) {
    const row = vectors.subarray(r * MODEL.dim, (r + 1) * MODEL.dim);
    if (r % copyEvery === copyEvery - 1) {
      const original = 1 + Math.floor(random() * (first + r - 1));
      const source = catalogue.getVector(original, MODEL.id) ?? vectors.subarray((original - first) * MODEL.dim, (original - first + 1) * MODEL.dim);
      for (let i = 0; i < MODEL.dim; i++) row[i] = source[i] + (random() - 0.5) * 0.04;
      planted.add(`${original}-${first + r}`);
    } else {
      for (let i = 0; i < MODEL.dim; i++) row[i] = random() - 0.5;
    }
    const norm = Math.hypot(...row);
    for (let i = 0; i < MODEL.dim; i++) row[i] /= norm;
  }
  catalogue.importVectors(MODEL, ids, vectors);
  return planted;
}

/** Gives each planted pair one picture (random noise) as both files, so the perceptual check confirms it. */
async function writePictures(library: Library, planted: Set<string>, seed: number): Promise<void> {
  const random = prng(seed);
  for (const pair of planted) {
    const pixels = Buffer.from(Array.from({ length: 32 * 32 * 3 }, () => Math.floor(random() * 256)));
    const png = await sharp(pixels, { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer();
    for (const id of pair.split('-').map(Number)) {
      const file = library.catalogue.getPhoto(id)!.path;
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, png);
    }
  }
}

function openLibrary(t: CleanupScope): Library {
  const library = Library.open(tempDir(t, 'dup-scan-'));
  t.after(() => library.close());
  library.useModel(MODEL, null);
  return library;
}

const idsOf = (sets: DuplicateSet[]) => sets.map((s) => s.ids.join(',')).sort();

test('duplicate candidates inside partitions match the exact all-pairs search; an incremental scan through the IVF index merges into the same groups', async (t) => {
  const library = openLibrary(t);
  const planted = addPhotos(library, 3000, 1, 25);
  const indexDir = vectorIndexDir(library, MODEL.id);
  const index = await VectorIndex.build(library.catalogue.iterateEmbeddings(MODEL.id, 0), { modelId: MODEL.id, dim: MODEL.dim, kind: 'ivf', nlist: 32, nprobe: 8, workDir: library.paths.dir });
  index.save(indexDir);
  assert.equal(index.kind, 'ivf');

  const exact = await findDuplicateSets(library, { verify: false, bruteForceLimit: 100_000 });
  const viaIndex = await findDuplicateSets(library, { verify: false, bruteForceLimit: 0, exactPairsLimit: 0 });
  assert.ok(exact.sets.length >= 100, `${exact.sets.length} sets`);
  for (const pair of planted) {
    const [a, b] = pair.split('-').map(Number);
    assert.ok(exact.sets.some((s) => s.ids.includes(a) && s.ids.includes(b)), `planted pair ${pair} is grouped`);
  }
  assert.deepEqual(idsOf(viaIndex.sets), idsOf(exact.sets));
  assert.equal(viaIndex.stats.searched, 3000);
  assert.equal(viaIndex.stats.throughEmbeddingId, library.catalogue.lastEmbeddingId(MODEL.id));

  // 400 more photos, some copies of old ones: an incremental scan looks only at them.
  addPhotos(library, 400, 2, 20);
  const incremental = await findDuplicateSets(library, { verify: false, indexDir, afterEmbeddingId: viaIndex.stats.throughEmbeddingId });
  assert.equal(incremental.stats.searched, 400);
  const merged = await mergeSets(library, MODEL.id, viaIndex.sets, incremental.sets);
  const full = await findDuplicateSets(library, { verify: false, bruteForceLimit: 100_000 });
  assert.deepEqual(idsOf(merged), idsOf(full.sets));
  assert.ok(full.sets.length > exact.sets.length);
});

async function waitFor(events: DuplicateScanStatus[], done: (s: DuplicateScanStatus) => boolean, what: string): Promise<DuplicateScanStatus> {
  for (let waited = 0; waited < 60_000; waited += 50) {
    const hit = events.find(done);
    if (hit) return hit;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}; saw ${events.map((e) => e.state).join(', ')}`);
}

test('the background duplicate scan: progress, kept across a restart, incremental for new photos, cancel, and a failure reported', async (t) => {
  const dir = tempDir(t, 'dup-service-');
  const seeded = Library.open(dir);
  seeded.useModel(MODEL, null);
  await writePictures(seeded, addPhotos(seeded, 2000, 3, 40), 5);
  // Two byte-identical files: an exact group whatever the vectors say.
  seeded.catalogue.setContentHash(7, 'same');
  seeded.catalogue.setContentHash(8, 'same');
  seeded.close();

  const modelsDir = tempDir(t, 'dup-models-');
  const open = async () => {
    const service = await LibraryService.open({ libraryDir: dir, modelsDir });
    t.after(() => service.close().catch(() => undefined)); // after a failed assertion too
    const events: DuplicateScanStatus[] = [];
    service.onEvent((e: ApiEvent) => {
      if (e.type === 'duplicates') events.push(e.scan);
    });
    return { service, events };
  };
  let { service, events } = await open();
  assert.equal((await service.getDuplicates(0, 10)).scan.state, 'never');

  const started = await service.startDuplicateScan();
  assert.equal(started.state, 'running');
  assert.equal(started.incremental, false);
  const finished = await waitFor(events, (s) => s.state === 'done', 'the scan to finish');
  assert.ok(events.some((s) => s.state === 'running' && s.total > 0 && s.stage === 'vectors'), 'progress was reported');
  assert.equal(finished.unchecked, 0);
  const page = await service.getDuplicates(0, 500);
  assert.ok(page.total >= 45, `${page.total} groups`);
  assert.equal(page.groups.length, page.total);
  assert.equal(page.groups[0].kind, 'exact', 'exact copies come first');
  assert.deepEqual(page.groups[0].photos.map((p) => p.id).sort(), [7, 8]);
  const second = await service.getDuplicates(10, 5);
  assert.deepEqual(second.groups.map((g) => g.keepId), page.groups.slice(10, 15).map((g) => g.keepId));
  await service.close();

  // A restart shows the kept results at once, without scanning.
  ({ service, events } = await open());
  const reopened = await service.getDuplicates(0, 500);
  assert.equal(reopened.scan.state, 'done');
  assert.equal(reopened.total, page.total);
  assert.equal(events.length, 0);

  // New photos: the next scan checks only them and adds their groups.
  const library = service.library;
  await writePictures(library, addPhotos(library, 300, 4, 10), 6);
  assert.equal((await service.getDuplicates(0, 1)).scan.unchecked, 300);
  const incremental = await service.startDuplicateScan();
  assert.equal(incremental.incremental, true);
  await waitFor(events, (s) => s.state === 'done', 'the incremental scan');
  const grown = await service.getDuplicates(0, 1);
  assert.equal(grown.scan.unchecked, 0);
  assert.ok(grown.total >= page.total + 25, `${grown.total} groups after adding 30 copies to ${page.total}`);

  // Cancel: the kept results stay.
  events.length = 0;
  await service.startDuplicateScan();
  const cancelled = await service.cancelDuplicateScan();
  const settled = cancelled.state === 'cancelled' ? cancelled : await waitFor(events, (s) => s.state === 'cancelled', 'the cancel');
  assert.equal(settled.groups, grown.total);
  assert.equal((await service.getDuplicates(0, 1)).total, grown.total);
  await service.close();

  // A scan that fails says why, and keeps the previous results.
  const failing = path.join(tempDir(t, 'dup-entry-'), 'fail.cjs');
  writeFileSync(failing, "process.send({ type: 'error', message: 'disk on fire' }, undefined, undefined, () => process.exit(1));\n");
  const reopenedLibrary = Library.open(dir);
  t.after(() => reopenedLibrary.close());
  const statuses: DuplicateScanStatus[] = [];
  const scanner = new DuplicateScanner(reopenedLibrary, { indexDir: (m) => vectorIndexDir(reopenedLibrary, m), onStatus: (s) => statuses.push(s), entry: failing });
  scanner.start({ full: true });
  const failed = await waitFor(statuses, (s) => s.state === 'failed', 'the failure');
  assert.equal(failed.error, 'disk on fire');
  assert.equal(failed.groups, grown.total);

  // Photos that leave the library leave their groups.
  const before = await scanner.page(0, 1);
  const gone = before.groups[0].photos.map((p) => p.id);
  scanner.forget(gone);
  assert.equal((await scanner.page(0, 1)).total, grown.total - 1);
});

test('resolving duplicates keeps one copy with the others\' tags and best rating; "not duplicates" is remembered', async (t) => {
  const dir = tempDir(t, 'dup-resolve-');
  const seeded = Library.open(dir);
  seeded.useModel(MODEL, null);
  addPhotos(seeded, 40, 9, 1000);
  const catalogue = seeded.catalogue;
  // Photos 1–3: one picture three times; 4–5: another picture twice.
  for (const [id, hash] of [[1, 'x'], [2, 'x'], [3, 'x'], [4, 'y'], [5, 'y']] as const) {
    const file = catalogue.getPhoto(id)!.path;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `picture ${hash}`);
    catalogue.setContentHash(id, hash);
  }
  catalogue.addTags([2], ['beach']);
  catalogue.addTags([3], ['family', 'beach']);
  catalogue.setRating([1], 2);
  catalogue.setRating([3], 4);
  seeded.close();

  const trashed: string[] = [];
  const trashDir = tempDir(t, 'dup-resolve-trash-');
  const moveToTrash = async (file: string) => {
    trashed.push(file);
    renameSync(file, path.join(trashDir, path.basename(file)));
  };
  const service = await LibraryService.open({ libraryDir: dir, modelsDir: tempDir(t, 'dup-resolve-models-'), moveToTrash });
  t.after(() => service.close());
  const events: DuplicateScanStatus[] = [];
  service.onEvent((e) => {
    if (e.type === 'duplicates') events.push(e.scan);
  });
  await service.startDuplicateScan();
  await waitFor(events, (s) => s.state === 'done', 'the scan');
  assert.deepEqual((await service.getDuplicates(0, 10)).groups.map((g) => g.photos.map((p) => p.id).sort()), [[1, 2, 3], [4, 5]]);

  // Refused, and nothing changes: trashing the kept copy, or two groups trashing each other's kept copy.
  await assert.rejects(service.resolveDuplicates([{ keepId: 1, trashIds: [1, 2] }]), /copy to keep/);
  await assert.rejects(service.resolveDuplicates([{ keepId: 4, trashIds: [5] }, { keepId: 5, trashIds: [4] }]), /kept in another group/);
  assert.deepEqual((await service.getPhoto(1)).tags, []);
  assert.equal(trashed.length, 0);

  const result = await service.resolveDuplicates([{ keepId: 1, trashIds: [2, 3] }]);
  assert.deepEqual(result.failed, []);
  assert.deepEqual(result.trashed.sort(), [2, 3]);
  const kept = await service.getPhoto(1);
  assert.deepEqual([...kept.tags].sort(), ['beach', 'family']);
  assert.equal(kept.rating, 4, 'the highest rating of the group');
  assert.equal((await service.getPhoto(2)).status, 'missing');
  assert.equal(trashed.length, 2);

  // "Not duplicates": the group leaves the results, and a fresh full scan does not bring it back.
  await service.dismissDuplicates([4, 5]);
  assert.equal((await service.getDuplicates(0, 10)).total, 0);
  events.length = 0;
  await service.startDuplicateScan();
  await waitFor(events, (s) => s.state === 'done', 'the rescan');
  assert.deepEqual((await service.getDuplicates(0, 10)).groups, []);
});
