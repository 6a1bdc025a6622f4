// Bringing a loaded index (a cache) back in line with the catalogue (the truth) at start-up, or after
// an indexing run: add the embeddings written since the index was saved, add back photos that became
// visible again, and hide photos that are gone. Works with VectorIndex and with VectorSearchService.
import type { VectorBatch } from './build-index.js';

/** What reconciliation needs from the catalogue (Catalogue satisfies it structurally). */
export interface EmbeddingCatalogue {
  /** Vectors of visible photos, in embedding-id order, after an embedding id. */
  iterateEmbeddings(modelId: string, afterEmbeddingId: number, batchSize?: number): Iterable<VectorBatch & { embeddingIds: ArrayLike<number> }>;
  /** Visible photos that have a vector for the model. */
  embeddedPhotoIds(modelId: string): Set<number>;
  getVector(photoId: number, modelId: string): Float32Array | null;
}

/** What reconciliation needs from the index: VectorIndex or VectorSearchService. */
export interface ReconcilableIndex {
  photoIds(): Uint32Array | Promise<Uint32Array>;
  add(photoIds: Uint32Array, vectors: Float32Array, opts?: { lastEmbeddingId?: number }): unknown;
  markRemoved(photoIds: Uint32Array): number | Promise<number>;
}

export interface ReconcileResult {
  added: number;
  restored: number;
  removed: number;
  lastEmbeddingId: number;
}

/**
 * Adds the embeddings stored after an embedding id (new photos, and re-embedded ones, which supersede their
 * old rows): one range read of the catalogue's (model_id, id) index, so its cost follows what is new, not the
 * library. Photos hidden or shown again meanwhile need reconcileIndex. `seen` collects the photos added.
 */
export async function addNewEmbeddings(
  index: Pick<ReconcilableIndex, 'add'>,
  catalogue: Pick<EmbeddingCatalogue, 'iterateEmbeddings'>,
  modelId: string,
  lastEmbeddingId: number,
  seen?: Set<number>,
): Promise<{ added: number; lastEmbeddingId: number }> {
  let added = 0;
  let last = lastEmbeddingId;
  for (const batch of catalogue.iterateEmbeddings(modelId, lastEmbeddingId)) {
    for (let i = 0; i < batch.embeddingIds.length; i++) last = Math.max(last, batch.embeddingIds[i]);
    await index.add(batch.photoIds, batch.vectors, { lastEmbeddingId: last });
    if (seen) for (const id of batch.photoIds) seen.add(id);
    added += batch.photoIds.length;
  }
  return { added, lastEmbeddingId: last };
}

export async function reconcileIndex(
  index: ReconcilableIndex,
  catalogue: EmbeddingCatalogue,
  modelId: string,
  lastEmbeddingId: number,
): Promise<ReconcileResult> {
  const seen = new Set<number>();
  const { added, lastEmbeddingId: last } = await addNewEmbeddings(index, catalogue, modelId, lastEmbeddingId, seen);
  const truth = catalogue.embeddedPhotoIds(modelId);
  const present = new Set(await index.photoIds());
  for (const id of seen) present.add(id);
  // Gone from the catalogue (deleted, hidden, vector dropped because the file changed).
  const gone = Uint32Array.from([...present].filter((id) => !truth.has(id)));
  const removed = gone.length > 0 ? await index.markRemoved(gone) : 0;
  // Visible again with an old embedding (e.g. a folder re-added): fetch those vectors one by one.
  let restored = 0;
  const missing = [...truth].filter((id) => !present.has(id));
  for (let start = 0; start < missing.length; start += 1024) {
    const ids: number[] = [];
    const vectors: Float32Array[] = [];
    for (const id of missing.slice(start, start + 1024)) {
      const v = catalogue.getVector(id, modelId);
      if (v) {
        ids.push(id);
        vectors.push(v);
      }
    }
    if (ids.length === 0) continue;
    const flat = new Float32Array(vectors.reduce((n, v) => n + v.length, 0));
    let o = 0;
    for (const v of vectors) {
      flat.set(v, o);
      o += v.length;
    }
    await index.add(Uint32Array.from(ids), flat);
    restored += ids.length;
  }
  return { added, restored, removed, lastEmbeddingId: last };
}
