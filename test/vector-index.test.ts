import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { VectorIndexError } from '../src/main/core/vector/errors.js';
import { parseIvfParams, patchNprobe, readFileStart } from '../src/main/core/vector/faiss-file.js';
import { chooseNlist, planIndex, rebuildReason } from '../src/main/core/vector/index-policy.js';
import { MANIFEST_FILE } from '../src/main/core/vector/index-store.js';
import { type VectorBatch, VectorIndex } from '../src/main/core/vector/vector-index.js';
import { bruteForceTopK } from '../src/main/core/vector/vector-math.js';
import { prng, unitRows } from './helpers/fixtures.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vector-index-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Clustered unit vectors (so that an IVF index has structure to exploit). */
function clusteredRows(n: number, dim: number, clusters: number, noise: number, seed: number): Float32Array {
  const next = prng(seed);
  const centres = unitRows(clusters, dim, seed + 1);
  const v = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    const c = Math.floor(next() * clusters);
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const x = centres[c * dim + j] + noise * (next() * 2 - 1);
      v[r * dim + j] = x;
      s += x * x;
    }
    for (let j = 0; j < dim; j++) v[r * dim + j] /= Math.sqrt(s);
  }
  return v;
}

function* batches(ids: Uint32Array, vectors: Float32Array, dim: number, size: number): Generator<VectorBatch> {
  for (let o = 0; o < ids.length; o += size) {
    const n = Math.min(size, ids.length - o);
    yield { photoIds: ids.slice(o, o + n), vectors: vectors.slice(o * dim, (o + n) * dim), embeddingIds: Array.from({ length: n }, (_, i) => 1000 + o + i) };
  }
}

const DIM = 32;
const N = 3000;
const data = unitRows(N, DIM, 1);
const ids = Uint32Array.from({ length: N }, (_, i) => 10 + i * 7); // photo ids are not row numbers
const queries = unitRows(20, DIM, 2);
const query = (i: number) => queries.subarray(i * DIM, (i + 1) * DIM);

describe('VectorIndex (exact)', async () => {
  const index = await VectorIndex.build(batches(ids, data, DIM, 700), { modelId: 'clip-test', dim: DIM, workDir: tmp });

  test('builds a flat index holding every vector and the last embedding id', () => {
    const info = index.info();
    assert.equal(info.kind, 'flat');
    assert.equal(info.size, N);
    assert.equal(info.lastEmbeddingId, 1000 + N - 1);
    assert.deepEqual(index.photoIds(), ids);
  });

  test('returns the same top-k as brute force in JS, with cosine scores', () => {
    for (let i = 0; i < 20; i++) {
      const got = index.search(query(i), 10);
      const want = bruteForceTopK(query(i), data, ids, 10);
      assert.deepEqual(got.map((h) => h.photoId), want.map((h) => h.photoId));
      got.forEach((h, j) => assert.ok(Math.abs(h.score - want[j].score) < 1e-5));
    }
  });

  test('normalises the query: scaling it changes nothing', () => {
    const scaled = query(3).map((x) => x * 7.5);
    assert.deepEqual(index.search(scaled, 5).map((h) => h.photoId), index.search(query(3), 5).map((h) => h.photoId));
  });

  test('a save/load round trip answers identically', () => {
    const dir = path.join(tmp, 'flat');
    const manifest = index.save(dir);
    assert.equal(manifest.rows, N);
    assert.equal(manifest.kind, 'flat');
    assert.equal(manifest.lastEmbeddingId, 1000 + N - 1);
    const loaded = VectorIndex.load(dir, { modelId: 'clip-test', dim: DIM });
    for (let i = 0; i < 20; i++) assert.deepEqual(loaded.search(query(i), 10), index.search(query(i), 10));
    assert.deepEqual(VectorIndex.readManifest(dir), manifest);
  });

  test('k larger than the index, k = 0 and an empty index are handled', () => {
    const small = VectorIndex.create({ modelId: 'm', dim: DIM });
    assert.deepEqual(small.search(query(0), 10), []);
    small.add(ids.slice(0, 3), data.slice(0, 3 * DIM));
    assert.equal(small.search(query(0), 50).length, 3);
    assert.deepEqual(small.search(query(0), 0), []);
    assert.throws(() => small.search(query(0), -1), VectorIndexError);
    assert.throws(() => small.search(query(0), 1.5), VectorIndexError);
  });

  test('a dimension mismatch throws a clear error', () => {
    assert.throws(() => index.search(new Float32Array(DIM + 1), 5), /query has 33 values but the index holds 32-d vectors/);
    assert.throws(() => index.add(Uint32Array.of(1), new Float32Array(DIM * 2)), /dimension mismatch/);
    assert.throws(() => VectorIndex.load(path.join(tmp, 'flat'), { dim: 64 }), /holds 32-d vectors, expected 64-d/);
    assert.throws(() => VectorIndex.load(path.join(tmp, 'flat'), { modelId: 'other' }), /built for model clip-test/);
  });

  test('bad vectors are rejected before reaching FAISS', () => {
    const v = new Float32Array(DIM).fill(0.1);
    v[4] = Number.NaN;
    assert.throws(() => index.search(v, 5), /NaN/);
    assert.throws(() => index.add(Uint32Array.of(5), new Float32Array(DIM)), /photo 5 is all zeros/);
    assert.throws(() => index.add([1] as unknown as Uint32Array, new Float32Array(DIM)), /Uint32Array/);
  });
});

describe('VectorIndex (updates)', () => {
  test('tombstones filter results and survive a save/load', () => {
    const index = VectorIndex.create({ modelId: 'm', dim: DIM });
    index.add(ids, data, { lastEmbeddingId: 42 });
    const before = index.search(query(1), 10).map((h) => h.photoId);
    assert.equal(index.markRemoved(before.slice(0, 4)), 4);
    assert.equal(index.markRemoved([before[0], 999_999]), 0); // already gone / never there
    const after = index.search(query(1), 10).map((h) => h.photoId);
    assert.equal(after.length, 10);
    for (const id of before.slice(0, 4)) assert.ok(!after.includes(id));
    assert.deepEqual(after.slice(0, 6), before.slice(4));
    assert.equal(index.size, N - 4);
    const dir = path.join(tmp, 'tombstones');
    index.save(dir);
    const loaded = VectorIndex.load(dir);
    assert.deepEqual(loaded.search(query(1), 10).map((h) => h.photoId), after);
    assert.equal(loaded.info().removed, 4);
    assert.equal(loaded.lastEmbeddingId, 42);
  });

  test('re-adding a photo supersedes its old vector', () => {
    const index = VectorIndex.create({ modelId: 'm', dim: DIM });
    index.add(ids.slice(0, 100), data.slice(0, 100 * DIM));
    const target = query(2);
    index.add(Uint32Array.of(ids[50]), target); // photo re-embedded: now identical to the query
    const [top] = index.search(target, 1);
    assert.equal(top.photoId, ids[50]);
    assert.ok(top.score > 0.9999);
    assert.equal(index.size, 100);
    assert.equal(index.search(target, 200).filter((h) => h.photoId === ids[50]).length, 1);
  });

  test('exclude and filter options', () => {
    const index = VectorIndex.create({ modelId: 'm', dim: DIM });
    index.add(ids, data);
    const top = index.search(query(4), 5).map((h) => h.photoId);
    const excluded = index.search(query(4), 5, { exclude: [top[0]] }).map((h) => h.photoId);
    assert.deepEqual(excluded.slice(0, 4), top.slice(1));
    const even = index.search(query(4), 20, { filter: (id) => id % 2 === 0 });
    assert.equal(even.length, 20);
    assert.ok(even.every((h) => h.photoId % 2 === 0));
    const want = bruteForceTopK(query(4), data, ids, N).filter((h) => h.photoId % 2 === 0).slice(0, 20);
    assert.deepEqual(even.map((h) => h.photoId), want.map((h) => h.photoId));
  });

  test('a damaged or mismatched cache is refused with a JS error', () => {
    const index = VectorIndex.create({ modelId: 'm', dim: DIM });
    index.add(ids.slice(0, 500), data.slice(0, 500 * DIM));
    const dir = path.join(tmp, 'damaged');
    const manifest = index.save(dir);
    const idsFile = path.join(dir, manifest.files.ids.name);
    const bytes = readFileSync(idsFile);
    bytes[0] ^= 0xff;
    writeFileSync(idsFile, bytes);
    assert.throws(() => VectorIndex.load(dir), /damaged/);
    index.save(dir); // a new generation replaces the damaged one
    const indexFile = path.join(dir, VectorIndex.readManifest(dir).files.index.name);
    writeFileSync(indexFile, readFileSync(indexFile).subarray(0, 1000));
    assert.throws(() => VectorIndex.load(dir), /truncated/);
    writeFileSync(path.join(dir, MANIFEST_FILE), '{"format":"something else"}');
    assert.throws(() => VectorIndex.load(dir), VectorIndexError);
    assert.throws(() => VectorIndex.load(path.join(tmp, 'nothing-here')), /no vector index/);
  });

  test('saving to an unwritable place throws instead of aborting', () => {
    const index = VectorIndex.create({ modelId: 'm', dim: DIM });
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, 'x');
    assert.throws(() => index.save(path.join(file, 'sub')));
  });
});

describe('VectorIndex (IVF)', async () => {
  const n = 8000;
  const clustered = clusteredRows(n, DIM, 40, 0.6, 3);
  const cIds = Uint32Array.from({ length: n }, (_, i) => i + 1);
  const cQueries = clusteredRows(40, DIM, 40, 0.6, 4);
  const index = await VectorIndex.build(batches(cIds, clustered, DIM, 1500), { modelId: 'm', dim: DIM, kind: 'ivf', nlist: 32, maxNprobe: 32, workDir: tmp });

  function recall(idx: VectorIndex): number {
    let hits = 0;
    for (let i = 0; i < 40; i++) {
      const q = cQueries.subarray(i * DIM, (i + 1) * DIM);
      const got = new Set(idx.search(q, 10).map((h) => h.photoId));
      for (const h of bruteForceTopK(q, clustered, cIds, 10)) if (got.has(h.photoId)) hits++;
    }
    return hits / 400;
  }

  test('calibrates nprobe to the recall target', () => {
    const info = index.info();
    assert.equal(info.kind, 'ivf');
    assert.equal(info.nlist, 32);
    assert.ok(info.nprobe >= 1 && info.nprobe <= 32);
    assert.ok(info.calibratedRecall !== null && info.calibratedRecall >= 0.99, `calibrated recall ${info.calibratedRecall}`);
    assert.ok(recall(index) >= 0.95);
  });

  test('the nprobe patch takes effect: recall follows nprobe, and it persists', async () => {
    await index.setNprobe(1, tmp);
    const low = recall(index);
    await index.setNprobe(32, tmp); // every list: exact up to fp16 rounding
    const all = recall(index);
    assert.ok(low < 0.9, `recall at nprobe 1 = ${low}`);
    assert.ok(all >= 0.99, `recall at nprobe 32 = ${all}`);
    const dir = path.join(tmp, 'ivf');
    const manifest = index.save(dir);
    assert.equal(manifest.nprobe, 32);
    const params = parseIvfParams(readFileStart(path.join(dir, manifest.files.index.name)));
    assert.deepEqual([params.nlist, params.nprobe], [32, 32]);
    const loaded = VectorIndex.load(dir);
    assert.equal(loaded.info().nprobe, 32);
    for (let i = 0; i < 5; i++) {
      const q = cQueries.subarray(i * DIM, (i + 1) * DIM);
      assert.deepEqual(loaded.search(q, 10), index.search(q, 10));
    }
  });

  test('patchNprobe checks the layout and the range', () => {
    const dir = path.join(tmp, 'ivf');
    const file = path.join(dir, VectorIndex.readManifest(dir).files.index.name);
    assert.throws(() => patchNprobe(file, 33), /exceeds nlist/);
    assert.throws(() => patchNprobe(file, 0), VectorIndexError);
    const flatDir = path.join(tmp, 'flat');
    assert.throws(() => patchNprobe(path.join(flatDir, VectorIndex.readManifest(flatDir).files.index.name), 4), /not an IVF index/);
  });

  test('reports how many photos a search scans', () => {
    const info = index.info();
    assert.equal(info.candidatesPerQuery, Math.round((info.nprobe * info.rows) / info.nlist));
  });

  test('adds and tombstones work on IVF too', () => {
    const extra = unitRows(1, DIM, 99);
    index.add(Uint32Array.of(123_456), extra);
    assert.equal(index.search(extra, 1)[0].photoId, 123_456);
    index.markRemoved([123_456]);
    assert.notEqual(index.search(extra, 1)[0]?.photoId, 123_456);
  });
});

test('build options are validated before any native call', async () => {
  const one = () => batches(ids.slice(0, 10), data.slice(0, 10 * DIM), DIM, 10);
  await assert.rejects(VectorIndex.build(one(), { modelId: '', dim: DIM }), /modelId/);
  await assert.rejects(VectorIndex.build(one(), { modelId: 'm', dim: 0 }), /dim must be/);
  await assert.rejects(VectorIndex.build(one(), { modelId: 'm', dim: DIM, nlist: 1.5 }), /nlist must be/);
  await assert.rejects(VectorIndex.build(one(), { modelId: 'm', dim: DIM + 1, workDir: tmp }), /dimension mismatch/);
  // Fewer vectors than lists: FAISS's k-means would throw inside native code (an abort in faiss-node).
  await assert.rejects(VectorIndex.build(one(), { modelId: 'm', dim: DIM, kind: 'ivf', nlist: 64, workDir: tmp }), /needs at least 64 vectors/);
  await assert.rejects(
    VectorIndex.build(one(), { modelId: 'm', dim: DIM, kind: 'ivf', nlist: 2, calibrationQueries: new Float32Array(DIM + 3) }),
    /calibrationQueries/,
  );
  const empty = await VectorIndex.build([], { modelId: 'm', dim: DIM, workDir: tmp });
  assert.equal(empty.size, 0);
  assert.deepEqual(empty.search(query(0), 3), []);
});

test('policy: flat for small libraries, IVF with nlist ≈ 2√n above', () => {
  assert.equal(planIndex(10_000).kind, 'flat');
  const plan = planIndex(624_017);
  assert.equal(plan.kind, 'ivf');
  assert.equal(plan.nlist, chooseNlist(624_017));
  assert.equal(plan.descriptor, `IVF${plan.nlist},SQfp16`);
  assert.ok(plan.trainRows >= plan.nlist * 39);
  assert.equal(rebuildReason({ kind: 'ivf', rows: 100_000, removed: 0, trainedOn: 100_000 }), null);
  assert.match(rebuildReason({ kind: 'ivf', rows: 300_000, removed: 0, trainedOn: 100_000 }) ?? '', /grew/);
  assert.match(rebuildReason({ kind: 'flat', rows: 1000, removed: 400, trainedOn: 0 }) ?? '', /deleted/);
});
