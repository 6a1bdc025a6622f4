// The catalogue's models and vectors: which photos still need a vector, storing embedding results (with the
// metadata read on the way), imported vectors, counts, and streaming vectors out to build the index.
import { createHash } from 'node:crypto';
import type { PhotoId } from '../../../shared/types.js';
import type { ExifMetadata } from '../metadata.js';
import { CataloguePart, VISIBLE } from './shared.js';

/** Metadata read from a photo while it is decoded for embedding: EXIF plus size, format and content hash. */
export interface PhotoMetadata extends ExifMetadata {
  width: number | null;
  height: number | null;
  format: string | null;
  contentHash: string | null;
}

export interface PhotoToEmbed {
  id: PhotoId;
  path: string;
  size: number;
  mtimeMs: number;
  status: 'pending' | 'ok';
  metadataRead: boolean;
}

/**
 * The photo row as the pipeline read it (photosToEmbed). A result is stored only if the row still says the
 * same: another process (a scan, a second indexer) may have seen the file deleted or overwritten meanwhile.
 */
export interface PhotoAsRead {
  size: number;
  mtimeMs: number;
  status: 'pending' | 'ok';
}

export type EmbedOutcome =
  | { photoId: PhotoId; ok: true; vector: Float32Array; metadata: PhotoMetadata; read?: PhotoAsRead }
  | { photoId: PhotoId; ok: false; status: 'error' | 'unsupported'; error: string; metadata?: Partial<PhotoMetadata>; read?: PhotoAsRead };

export interface SavedBatch {
  /** Results stored (vectors and failures). */
  stored: number;
  /** Photos whose row changed since it was read (deleted, overwritten, re-queued): nothing of theirs was stored. */
  skipped: PhotoId[];
}

export interface EmbeddingBatch {
  embeddingIds: number[];
  photoIds: Uint32Array;
  /** Row-major, photoIds.length × dim. */
  vectors: Float32Array;
}

export interface ModelRecord {
  id: string;
  dim: number;
  preprocessVersion: string;
}

export function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function blobToVector(blob: Buffer): Float32Array {
  // Copy: a Buffer's byteOffset need not be 4-aligned, and the caller may keep the vector.
  const out = new Float32Array(blob.byteLength / 4);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

/** A model folder as found on disk, before the catalogue names its vector space. */
export interface ModelCandidate {
  /** The name it would like: its hub id, or its folder's name. */
  name: string;
  dim: number;
  preprocessVersion: string;
  /** imageTowerFingerprint() of its image tower. */
  contentHash: string;
  dir: string;
}

/** Vectors imported without a known preprocessing: the first model folder of their name adopts them (import.ts). */
export const UNKNOWN_PREPROCESS_VERSION = 'imported-unknown';

export class EmbeddingStore extends CataloguePart {
  /**
   * Inserts a model record, or checks an existing one: an id's dimension and preprocessing never change, so
   * vectors of one id are always comparable. A model folder goes through resolveModel() instead.
   */
  registerModel(model: ModelRecord): void {
    const existing = this.getModel(model.id);
    if (existing && existing.dim !== model.dim) {
      throw new Error(`model ${model.id} is registered with dimension ${existing.dim}, not ${model.dim}`);
    }
    if (existing && existing.preprocessVersion !== model.preprocessVersion && existing.preprocessVersion !== UNKNOWN_PREPROCESS_VERSION) {
      throw new Error(`model ${model.id}'s vectors were made with preprocessing ${existing.preprocessVersion}, not ` +
        `${model.preprocessVersion}: vectors of two preprocessings are never mixed (choose the model folder again to ` +
        'give the new preprocessing its own vectors)');
    }
    this.db.prepare(
      `INSERT INTO models(id, dim, preprocess_version, added_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET preprocess_version = excluded.preprocess_version`,
    ).run(model.id, model.dim, model.preprocessVersion, Date.now());
  }

  /**
   * The record for a model folder's vector space, which is its image tower's content plus its preprocessing:
   *  1. a model with that content and preprocessing: the same vectors, whatever the folder or its name;
   *  2. else a record of that name never fingerprinted (made before migration 11, or by an import) with the same
   *     dimension and preprocessing (or none known): adopted, its vectors were made by this folder's name;
   *  3. else a new record, under the name if it is free, else the name plus a short content hash.
   */
  resolveModel(candidate: ModelCandidate): ModelRecord {
    return this.db.transaction((): ModelRecord => {
      const found = this.findModel(candidate);
      if (found.existing) {
        this.db.prepare('UPDATE models SET content_hash = ?, preprocess_version = ?, dir = ? WHERE id = ?')
          .run(candidate.contentHash, candidate.preprocessVersion, candidate.dir, found.id);
      } else {
        this.db.prepare('INSERT INTO models(id, dim, preprocess_version, added_at, content_hash, dir) VALUES (?, ?, ?, ?, ?, ?)')
          .run(found.id, candidate.dim, candidate.preprocessVersion, Date.now(), candidate.contentHash, candidate.dir);
      }
      return this.getModel(found.id)!;
    }).immediate();
  }

  /** The id resolveModel would give, and whether that record exists already; changes nothing. */
  findModel(candidate: ModelCandidate): { id: string; existing: boolean } {
    const byContent = this.db.prepare(
      'SELECT id FROM models WHERE content_hash = ? AND preprocess_version = ? AND dim = ? ORDER BY added_at LIMIT 1',
    ).get(candidate.contentHash, candidate.preprocessVersion, candidate.dim) as { id: string } | undefined;
    if (byContent) return { id: byContent.id, existing: true };
    const named = this.db.prepare('SELECT dim, preprocess_version AS pp, content_hash AS hash FROM models WHERE id = ?')
      .get(candidate.name) as { dim: number; pp: string; hash: string | null } | undefined;
    if (!named) return { id: candidate.name, existing: false };
    if (named.hash === null && named.dim === candidate.dim &&
        (named.pp === candidate.preprocessVersion || named.pp === UNKNOWN_PREPROCESS_VERSION)) {
      return { id: candidate.name, existing: true };
    }
    const suffix = createHash('sha256').update(`${candidate.contentHash}:${candidate.preprocessVersion}`).digest('hex').slice(0, 8);
    return { id: `${candidate.name}@${suffix}`, existing: false };
  }

  /** Where a model's files were last seen (resolveModel records it), so search can load an earlier model again. */
  modelDir(modelId: string): string | null {
    return (this.db.prepare('SELECT dir FROM models WHERE id = ?').get(modelId) as { dir: string | null } | undefined)?.dir ?? null;
  }

  /** Records where a model's files are, unless resolveModel already did (a model registered before migration 11). */
  rememberModelDir(modelId: string, dir: string): void {
    this.db.prepare('UPDATE models SET dir = ? WHERE id = ? AND dir IS NULL').run(dir, modelId);
  }

  getModel(modelId: string): ModelRecord | null {
    return (this.db.prepare('SELECT id, dim, preprocess_version AS preprocessVersion FROM models WHERE id = ?')
      .get(modelId) as ModelRecord | undefined) ?? null;
  }

  listModels(): ModelRecord[] {
    return this.db.prepare('SELECT id, dim, preprocess_version AS preprocessVersion FROM models ORDER BY id').all() as ModelRecord[];
  }

  /**
   * The next photos to embed with a model: present on disk, not failed, without a vector for this model.
   * Keyset-paged by id so a resumed run skips everything already embedded.
   */
  photosToEmbed(modelId: string, afterId: PhotoId, limit: number): PhotoToEmbed[] {
    return (this.db.prepare(
      `SELECT p.id, p.path, p.size, p.mtime_ms AS mtimeMs, p.status, p.metadata_read AS metadataRead FROM photos p
       WHERE p.id > ? AND p.status IN ('pending', 'ok')
         AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = p.id AND e.model_id = ?)
       ORDER BY p.id LIMIT ?`,
    ).all(afterId, modelId, limit) as (Omit<PhotoToEmbed, 'metadataRead'> & { metadataRead: number })[])
      .map((r) => ({ ...r, metadataRead: r.metadataRead === 1 }));
  }

  /** Photos waiting for a vector of this model: from the counters (migration 2), not a scan. */
  countToEmbed(modelId: string): number {
    return (this.db.prepare(
      `SELECT coalesce((SELECT sum(n) FROM photo_counts WHERE status IN ('pending', 'ok')), 0)
            - coalesce((SELECT sum(n) FROM embedding_counts WHERE model_id = ? AND status IN ('pending', 'ok')), 0) AS n`,
    ).get(modelId) as { n: number }).n;
  }

  /**
   * Stores one batch of embedding results atomically: a kill loses at most the batch in flight. A result that
   * carries the row as it was read (`read`) is stored only if the photo still has that size, mtime and status:
   * a photo deleted meanwhile stays hidden, an overwritten one keeps no stale vector and is embedded again by
   * the next run. Those are reported as skipped.
   */
  saveEmbedBatch(model: ModelRecord, outcomes: EmbedOutcome[]): SavedBatch {
    const SAME = 'id = ? AND (? = 0 OR (size = ? AND mtime_ms = ? AND status = ?))';
    const ok = this.db.prepare(
      `UPDATE photos SET status = 'ok', last_error = NULL, metadata_read = 1, width = ?, height = ?, format = ?,
       content_hash = coalesce(?, content_hash), taken_at = ?, camera_make = ?, camera_model = ?, lens = ?,
       gps_lat = ?, gps_lon = ?, orientation = ? WHERE ${SAME}`,
    );
    const failed = this.db.prepare(
      `UPDATE photos SET status = ?, last_error = ?, format = coalesce(?, format), content_hash = coalesce(?, content_hash)
       WHERE ${SAME}`,
    );
    const insertVector = this.db.prepare(
      `INSERT INTO embeddings(photo_id, model_id, preprocess_version, vector, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(photo_id, model_id) DO NOTHING`,
    );
    const same = (o: EmbedOutcome): [number, number, number, number, string] => [
      o.photoId, o.read ? 1 : 0, o.read?.size ?? 0, Math.round(o.read?.mtimeMs ?? 0), o.read?.status ?? '',
    ];
    const now = Date.now();
    const skipped: PhotoId[] = [];
    let stored = 0;
    this.transaction(() => {
      for (const o of outcomes) {
        if (o.ok) {
          if (o.vector.length !== model.dim) throw new Error(`vector of length ${o.vector.length} for a ${model.dim}-d model`);
          const m = o.metadata;
          const changed = ok.run(m.width, m.height, m.format, m.contentHash, m.takenAt, m.cameraMake, m.cameraModel, m.lens,
            m.gpsLat, m.gpsLon, m.orientation, ...same(o)).changes;
          if (changed === 0) {
            skipped.push(o.photoId);
            continue;
          }
          insertVector.run(o.photoId, model.id, model.preprocessVersion, vectorToBlob(o.vector), now);
        } else {
          const changed = failed.run(o.status, o.error.slice(0, 2000), o.metadata?.format ?? null, o.metadata?.contentHash ?? null,
            ...same(o)).changes;
          if (changed === 0) {
            skipped.push(o.photoId);
            continue;
          }
        }
        stored++;
      }
    });
    return { stored, skipped };
  }

  /**
   * Stores vectors brought in from outside (import). Photos that already have a vector for the model
   * keep it. Returns how many were stored.
   */
  importVectors(model: ModelRecord, photoIds: PhotoId[], vectors: Float32Array): number {
    const insert = this.db.prepare(
      `INSERT INTO embeddings(photo_id, model_id, preprocess_version, vector, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(photo_id, model_id) DO NOTHING`,
    );
    const markOk = this.db.prepare("UPDATE photos SET status = 'ok' WHERE id IN (SELECT value FROM json_each(?)) AND status = 'pending'");
    const now = Date.now();
    let stored = 0;
    this.transaction(() => {
      markOk.run(JSON.stringify(photoIds));
      photoIds.forEach((id, row) => {
        const vector = vectors.subarray(row * model.dim, (row + 1) * model.dim);
        stored += insert.run(id, model.id, model.preprocessVersion, vectorToBlob(vector), now).changes;
      });
    });
    return stored;
  }

  getVector(photoId: PhotoId, modelId: string): Float32Array | null {
    const row = this.db.prepare('SELECT vector FROM embeddings WHERE photo_id = ? AND model_id = ?').get(photoId, modelId) as
      { vector: Buffer } | undefined;
    return row ? blobToVector(row.vector) : null;
  }

  /** Vectors of this model whose photo is visible: from the counters (migration 2), not a scan. */
  countEmbeddings(modelId: string): number {
    return (this.db.prepare(
      `SELECT coalesce(sum(n), 0) AS n FROM embedding_counts WHERE model_id = ? AND status != 'missing'`,
    ).get(modelId) as { n: number }).n;
  }

  /** The newest embedding id stored for a model (0 when none). */
  lastEmbeddingId(modelId: string): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) AS n FROM embeddings WHERE model_id = ?').get(modelId) as { n: number }).n;
  }

  /** Vectors of a model stored after an embedding id (walks the (model_id, id) index from there). */
  countEmbeddingsAfter(modelId: string, afterEmbeddingId: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM embeddings WHERE model_id = ? AND id > ?').get(modelId, afterEmbeddingId) as { n: number }).n;
  }

  /**
   * Streams the vectors of visible photos for a model in embedding-id order, `batchSize` at a time,
   * starting after an embedding id (0 = all). Used to build and to catch up the vector index.
   */
  *iterateEmbeddings(modelId: string, afterEmbeddingId: number, batchSize = 8192): Generator<EmbeddingBatch> {
    const model = this.getModel(modelId);
    if (!model) return;
    const stmt = this.db.prepare(
      `SELECT e.id, e.photo_id, e.vector FROM embeddings e JOIN photos p ON p.id = e.photo_id
       WHERE e.model_id = ? AND e.id > ? AND p.${VISIBLE} ORDER BY e.id LIMIT ?`,
    ).raw(true);
    let after = afterEmbeddingId;
    for (;;) {
      const rows = stmt.all(modelId, after, batchSize) as [number, number, Buffer][];
      if (rows.length === 0) return;
      const vectors = new Float32Array(rows.length * model.dim);
      const bytes = new Uint8Array(vectors.buffer);
      const photoIds = new Uint32Array(rows.length);
      rows.forEach(([, photoId, blob], i) => {
        if (blob.byteLength !== model.dim * 4) throw new Error(`embedding of photo ${photoId} has ${blob.byteLength / 4} values, expected ${model.dim}`);
        bytes.set(blob, i * model.dim * 4);
        photoIds[i] = photoId;
      });
      yield { embeddingIds: rows.map((r) => r[0]), photoIds, vectors };
      after = rows[rows.length - 1][0];
    }
  }

  /** Ids of visible photos that have a vector for the model (to reconcile the index at start-up). */
  embeddedPhotoIds(modelId: string): Set<PhotoId> {
    const ids = this.db.prepare(
      `SELECT e.photo_id FROM embeddings e JOIN photos p ON p.id = e.photo_id WHERE e.model_id = ? AND p.${VISIBLE}`,
    ).pluck().all(modelId) as number[];
    return new Set(ids);
  }

  /** The vectors of a model for these photos (those that have one), packed row-major. */
  vectorsFor(modelId: string, photoIds: ArrayLike<number>): { photoIds: Uint32Array; vectors: Float32Array } {
    const model = this.getModel(modelId);
    if (!model || photoIds.length === 0) return { photoIds: new Uint32Array(0), vectors: new Float32Array(0) };
    const rows = this.db.prepare(
      'SELECT photo_id, vector FROM embeddings WHERE model_id = ? AND photo_id IN (SELECT value FROM json_each(?))',
    ).raw(true).all(modelId, JSON.stringify(Array.from(photoIds))) as [number, Buffer][];
    const bytesPerRow = model.dim * 4;
    const ids = new Uint32Array(rows.length);
    const vectors = new Float32Array(rows.length * model.dim);
    const bytes = new Uint8Array(vectors.buffer);
    let kept = 0;
    for (const [id, blob] of rows) {
      if (blob.byteLength !== bytesPerRow) continue;
      ids[kept] = id;
      bytes.set(blob, kept * bytesPerRow);
      kept++;
    }
    return { photoIds: ids.subarray(0, kept), vectors: vectors.subarray(0, kept * model.dim) };
  }
}
