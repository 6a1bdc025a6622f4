import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type EmbeddingCatalogue, reconcileIndex } from '../src/main/core/vector/reconcile.js';
import { VectorIndex } from '../src/main/core/vector/vector-index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vector-reconcile-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const DIM = 8;

function vectorFor(seed: number): Float32Array {
  const v = new Float32Array(DIM);
  for (let j = 0; j < DIM; j++) v[j] = Math.sin(seed * 12.9898 + j * 78.233);
  return v;
}

/** The catalogue's embeddings table in miniature: rows (embeddingId, photoId, vector), some hidden. */
class FakeCatalogue implements EmbeddingCatalogue {
  rows: { embeddingId: number; photoId: number; vector: Float32Array }[] = [];
  hidden = new Set<number>();
  private nextId = 1;

  embed(photoId: number, seed = photoId): void {
    this.rows = this.rows.filter((r) => r.photoId !== photoId); // re-embedding replaces the row
    this.rows.push({ embeddingId: this.nextId++, photoId, vector: vectorFor(seed) });
  }

  delete(photoId: number): void {
    this.rows = this.rows.filter((r) => r.photoId !== photoId);
  }

  *iterateEmbeddings(_modelId: string, after: number, batchSize = 3) {
    const visible = this.rows.filter((r) => r.embeddingId > after && !this.hidden.has(r.photoId));
    for (let o = 0; o < visible.length; o += batchSize) {
      const part = visible.slice(o, o + batchSize);
      const vectors = new Float32Array(part.length * DIM);
      part.forEach((r, i) => vectors.set(r.vector, i * DIM));
      yield { embeddingIds: part.map((r) => r.embeddingId), photoIds: Uint32Array.from(part.map((r) => r.photoId)), vectors };
    }
  }

  embeddedPhotoIds(): Set<number> {
    return new Set(this.rows.filter((r) => !this.hidden.has(r.photoId)).map((r) => r.photoId));
  }

  getVector(photoId: number): Float32Array | null {
    return this.rows.find((r) => r.photoId === photoId)?.vector ?? null;
  }
}

test('reconciling a saved index with the catalogue adds, restores, supersedes and removes', async () => {
  const catalogue = new FakeCatalogue();
  for (let id = 1; id <= 10; id++) catalogue.embed(id);
  const built = await VectorIndex.build(catalogue.iterateEmbeddings('m', 0), { modelId: 'm', dim: DIM, workDir: tmp });
  const dir = path.join(tmp, 'index');
  const manifest = built.save(dir);
  assert.equal(manifest.lastEmbeddingId, 10);

  // While the app was closed: new photos, a deleted one, a re-embedded one, one hidden, then shown again.
  catalogue.embed(11);
  catalogue.embed(12);
  catalogue.delete(3);
  catalogue.embed(5, 500); // file changed: new vector, new embedding id
  catalogue.hidden.add(7);

  const index = VectorIndex.load(dir, { modelId: 'm', dim: DIM });
  const first = await reconcileIndex(index, catalogue, 'm', index.lastEmbeddingId);
  assert.deepEqual(first, { added: 3, restored: 0, removed: 2, lastEmbeddingId: 13 });
  assert.deepEqual([...index.photoIds()].sort((a, b) => a - b), [1, 2, 4, 5, 6, 8, 9, 10, 11, 12]);
  const [top] = index.search(vectorFor(500), 1);
  assert.equal(top.photoId, 5);
  assert.ok(top.score > 0.9999, 'photo 5 now has its new vector');

  catalogue.hidden.delete(7); // its old embedding (id 7) is before lastEmbeddingId: fetched one by one
  const second = await reconcileIndex(index, catalogue, 'm', index.lastEmbeddingId);
  assert.deepEqual(second, { added: 0, restored: 1, removed: 0, lastEmbeddingId: 13 });
  assert.equal(index.search(vectorFor(7), 1)[0].photoId, 7);
  assert.equal(index.lastEmbeddingId, 13);

  const third = await reconcileIndex(index, catalogue, 'm', index.lastEmbeddingId);
  assert.deepEqual(third, { added: 0, restored: 0, removed: 0, lastEmbeddingId: 13 });
});
