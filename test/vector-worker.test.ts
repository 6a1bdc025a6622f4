import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import { VectorIndexError } from '../src/main/core/vector/errors.js';
import { VectorSearchService } from '../src/main/core/vector/search-worker.js';
import { type VectorBatch, VectorIndex } from '../src/main/core/vector/vector-index.js';
import { bruteForceTopK } from '../src/main/core/vector/vector-math.js';
import { unitRows } from './helpers/fixtures.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vector-worker-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const DIM = 128;
const N = 40_000;
const data = unitRows(N, DIM, 11);
const ids = Uint32Array.from({ length: N }, (_, i) => i + 1);
const queries = unitRows(30, DIM, 12);
const query = (i: number) => queries.slice(i * DIM, (i + 1) * DIM);

async function* source(batch = 5000): AsyncGenerator<VectorBatch> {
  for (let o = 0; o < N; o += batch) {
    yield { photoIds: ids.slice(o, o + batch), vectors: data.slice(o * DIM, (o + batch) * DIM), embeddingIds: [o + batch] };
  }
}

test('the worker service builds, searches, saves and loads without blocking the event loop', async () => {
  const service = VectorSearchService.start();
  try {
    assert.equal(await service.info(), null);
    await assert.rejects(service.search(query(0), 5), /no vector index is loaded/);

    const phases = new Set<string>();
    const built = await service.build(source(), { modelId: 'm', dim: DIM, workDir: tmp, onProgress: (p) => phases.add(p.phase) });
    assert.equal(built.size, N);
    assert.equal(built.lastEmbeddingId, N);
    assert.ok(phases.has('reading'));

    // Exact answers, the same as brute force in this thread.
    for (let i = 0; i < 5; i++) {
      const hits = await service.search(query(i), 10);
      assert.deepEqual(hits.map((h) => h.photoId), bruteForceTopK(query(i), data, ids, 10).map((h) => h.photoId));
    }

    // 30 searches over 40k × 128 keep the worker busy; the main thread's timer must keep firing.
    let ticks = 0;
    let worstGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
      ticks++;
    }, 2);
    const started = performance.now();
    const all = await Promise.all(Array.from({ length: 30 }, (_, i) => service.search(query(i), 10)));
    const elapsed = performance.now() - started;
    clearInterval(timer);
    assert.equal(all.length, 30);
    assert.ok(ticks >= Math.floor(elapsed / 20), `${ticks} ticks in ${elapsed.toFixed(0)} ms`);
    assert.ok(worstGap < 100, `the event loop stalled for ${worstGap.toFixed(0)} ms`);

    // Updates, persistence, and the id list.
    await service.markRemoved([all[0][0].photoId]);
    const after = await service.search(query(0), 10);
    assert.ok(!after.some((h) => h.photoId === all[0][0].photoId));
    const extra = query(7);
    await service.add(Uint32Array.of(999_999), extra, { lastEmbeddingId: N + 1 });
    assert.equal((await service.search(extra, 1))[0].photoId, 999_999);
    const dir = path.join(tmp, 'saved');
    const manifest = await service.save(dir);
    assert.equal(manifest.live, N);
    assert.equal(manifest.lastEmbeddingId, N + 1);
    const beforeLoad = await service.search(query(3), 10);
    // Another module of the app loading faiss-node in this thread (as the duplicate finder does) must not
    // break the worker's next static FAISS call (faiss-node keeps its constructors in a process-wide static).
    const direct = createRequire(import.meta.url)('faiss-node') as { IndexFlatIP: new (d: number) => { add(x: number[]): void; ntotal(): number } };
    const other = new direct.IndexFlatIP(4);
    other.add([1, 0, 0, 0]);
    assert.equal(other.ntotal(), 1);
    const loaded = await service.load(dir, { modelId: 'm' });
    assert.equal(loaded.size, N);
    assert.equal((await service.photoIds()).length, N);
    assert.deepEqual(await service.search(query(3), 10), beforeLoad);
    // The manifest can be read in this thread without touching FAISS.
    assert.equal(VectorIndex.readManifest(dir).rows, N + 1);

    // faiss-node can serve one thread per process: a second owner is refused, not a crash.
    assert.throws(() => VectorSearchService.start(), /one thread per process/);
    assert.throws(() => VectorIndex.create({ modelId: 'm', dim: DIM }), /one thread per process/);

    // Errors come back as VectorIndexError, and the worker survives them.
    await assert.rejects(service.search(new Float32Array(DIM - 1), 3), (err: Error) => err instanceof VectorIndexError && /holds 128-d/.test(err.message));
    await assert.rejects(service.load(path.join(tmp, 'missing')), VectorIndexError);
    assert.equal((await service.search(query(1), 3)).length, 3);
  } finally {
    await service.close();
  }
  await assert.rejects(service.info(), /closed/);
});

test('a failing build is reported and the current index keeps serving', async () => {
  const service = VectorSearchService.start();
  try {
    await service.create('m', DIM);
    await service.add(ids.slice(0, 10), data.slice(0, 10 * DIM));
    async function* broken(): AsyncGenerator<VectorBatch> {
      yield { photoIds: ids.slice(0, 5), vectors: data.slice(0, 5 * DIM) };
      yield { photoIds: ids.slice(0, 5), vectors: new Float32Array(5 * DIM) }; // zero vectors
      yield { photoIds: ids.slice(0, 5), vectors: data.slice(0, 5 * DIM) };
    }
    await assert.rejects(service.build(broken(), { modelId: 'm', dim: DIM, workDir: tmp }), /all zeros/);
    const hits = await service.search(data.slice(0, DIM), 1);
    assert.equal(hits[0].photoId, ids[0]);
    assert.equal((await service.info())?.size, 10);
  } finally {
    await service.close();
  }
});
