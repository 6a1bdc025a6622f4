// The counters behind the status bar and the folder list (migration 2) stay equal to a real count through
// every way the catalogue writes: scans, embedding, import, failures, moves, missing files, removed folders,
// deleted rows (with their vectors), and an upgrade from a catalogue written before the counters existed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Catalogue, type ModelRecord } from '../src/main/core/catalogue/catalogue.js';
import { migrations } from '../src/main/core/catalogue/migrations.js';
import { tempDir, unitRows } from './helpers/fixtures.js';

const MODEL: ModelRecord = { id: 'test-model', dim: 4, preprocessVersion: 'v1' };
const OTHER: ModelRecord = { id: 'other-model', dim: 4, preprocessVersion: 'v1' };

/** What the counters must say, counted the slow way. */
function truth(catalogue: Catalogue, modelId: string) {
  const db = catalogue.db;
  const one = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
  return {
    photos: one("SELECT count(*) AS n FROM photos WHERE status != 'missing'"),
    missing: one("SELECT count(*) AS n FROM photos WHERE status = 'missing'"),
    failed: one("SELECT count(*) AS n FROM photos WHERE status IN ('error', 'unsupported')"),
    embedded: one("SELECT count(*) AS n FROM embeddings e JOIN photos p ON p.id = e.photo_id WHERE e.model_id = ? AND p.status != 'missing'", modelId),
    pending: one(`SELECT count(*) AS n FROM photos p WHERE p.status IN ('pending', 'ok')
      AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.photo_id = p.id AND e.model_id = ?)`, modelId),
    folders: db.prepare(`SELECT f.id, f.path, count(p.id) AS photoCount FROM folders f
      LEFT JOIN photos p ON p.folder_id = f.id AND p.status != 'missing' GROUP BY f.id ORDER BY f.path`).all(),
  };
}

function assertCounters(catalogue: Catalogue, when: string): void {
  for (const model of [MODEL, OTHER]) {
    const expected = truth(catalogue, model.id);
    const { folders, ...counts } = expected;
    assert.deepEqual(catalogue.statusCounts(model.id), counts, `${when} (${model.id})`);
    assert.deepEqual(catalogue.listFolders(), folders, `${when}: folders`);
  }
}

function photosIn(catalogue: Catalogue, folderId: number, dir: string, names: string[]): number[] {
  catalogue.insertPhotos(names.map((name, i) => ({ folderId, path: path.join(dir, name), size: 1000 + i, mtimeMs: 1_700_000_000_000 + i })));
  return names.map((name) => catalogue.photoIdByPath(path.join(dir, name))!);
}

test('counters follow every write path', (t) => {
  const catalogue = new Catalogue(path.join(tempDir(t, 'counters-'), 'catalogue.sqlite'));
  t.after(() => catalogue.close());
  catalogue.registerModel(MODEL);
  catalogue.registerModel(OTHER);
  assertCounters(catalogue, 'empty');

  const a = catalogue.addFolder('/photos/a');
  const b = catalogue.addFolder('/photos/b');
  const inA = photosIn(catalogue, a.id, '/photos/a', Array.from({ length: 20 }, (_, i) => `a${i}.jpg`));
  const inB = photosIn(catalogue, b.id, '/photos/b', Array.from({ length: 10 }, (_, i) => `b${i}.jpg`));
  assertCounters(catalogue, 'after a scan');

  const vectors = unitRows(30, 4, 7);
  catalogue.saveEmbedBatch(MODEL, [
    ...inA.slice(0, 12).map((photoId, i) => ({ photoId, ok: true as const, vector: vectors.subarray(i * 4, i * 4 + 4), metadata: {
      width: 10, height: 10, format: 'jpeg', contentHash: `h${i}`, takenAt: null, cameraMake: null, cameraModel: null, lens: null, gpsLat: null, gpsLon: null, orientation: null,
    } })),
    { photoId: inA[12], ok: false, status: 'error', error: 'corrupt' },
    { photoId: inA[13], ok: false, status: 'unsupported', error: 'raw' },
  ]);
  catalogue.importVectors(OTHER, inB, unitRows(10, 4, 8));
  catalogue.importVectors(OTHER, inA.slice(0, 3), unitRows(3, 4, 9));
  assertCounters(catalogue, 'after embedding and import');

  catalogue.markMissing([inA[0], inA[12], inB[0]]);
  assertCounters(catalogue, 'after files went missing');
  catalogue.markRestored([{ id: inA[0], folderId: a.id, hadVector: true }]);
  assertCounters(catalogue, 'after a file came back');
  catalogue.markChanged([{ id: inA[1], size: 5, mtimeMs: 5, folderId: a.id }, { id: inA[2], size: 6, mtimeMs: 6, folderId: b.id }]);
  assertCounters(catalogue, 'after files changed (vectors dropped)');
  // A move onto a path a scan had just registered as new: the new row is deleted, the old one follows the file.
  const [fresh] = photosIn(catalogue, b.id, '/photos/b', ['moved.jpg']);
  assert.ok(fresh);
  catalogue.markMissing([inA[3]]);
  catalogue.movePhoto(inA[3], '/photos/b/moved.jpg', b.id, 1003, 1);
  assertCounters(catalogue, 'after a move');
  // A photo deleted with its vectors (cascade).
  catalogue.db.prepare('DELETE FROM photos WHERE id = ?').run(inA[4]);
  assertCounters(catalogue, 'after a row was deleted with its vectors');
  catalogue.removeFolder(b.id);
  assertCounters(catalogue, 'after a folder was removed');

  // A bulk write (import) runs without the triggers and counts once at the end; the triggers are back after it.
  const c = catalogue.addFolder('/photos/c');
  catalogue.bulkTransaction(() => {
    const inC = photosIn(catalogue, c.id, '/photos/c', Array.from({ length: 15 }, (_, i) => `c${i}.jpg`));
    catalogue.importVectors(MODEL, inC.slice(0, 10), unitRows(10, 4, 10));
    catalogue.markMissing([inC[14]]);
  });
  assertCounters(catalogue, 'after a bulk import');
  photosIn(catalogue, c.id, '/photos/c', ['after-bulk.jpg']);
  assertCounters(catalogue, 'after a write following the bulk import');
  assert.throws(() => catalogue.bulkTransaction(() => {
    photosIn(catalogue, c.id, '/photos/c', ['rolled-back.jpg']);
    throw new Error('abort');
  }), /abort/);
  assert.equal(catalogue.photoIdByPath('/photos/c/rolled-back.jpg'), null);
  photosIn(catalogue, c.id, '/photos/c', ['after-rollback.jpg']);
  assertCounters(catalogue, 'after a bulk write rolled back (triggers still in place)');
});

test('a catalogue from before the counters is counted when it is upgraded, its ratings kept', (t) => {
  const file = path.join(tempDir(t, 'counters-upgrade-'), 'catalogue.sqlite');
  const old = new Database(file);
  old.pragma('foreign_keys = ON');
  old.exec(migrations[0].up);
  old.pragma('user_version = 1');
  old.prepare("INSERT INTO folders(id, path, added_at) VALUES (1, '/p', 0)").run();
  old.prepare("INSERT INTO models(id, dim, preprocess_version, added_at) VALUES ('test-model', 4, 'v1', 0)").run();
  const insert = old.prepare('INSERT INTO photos(folder_id, path, status, added_at) VALUES (1, ?, ?, 0)');
  ['ok', 'ok', 'pending', 'missing', 'error'].forEach((status, i) => insert.run(`/p/${i}.jpg`, status));
  old.prepare('UPDATE photos SET rating = 4 WHERE id IN (1, 4)').run();
  old.prepare("INSERT INTO embeddings(photo_id, model_id, preprocess_version, vector, created_at) VALUES (1, 'test-model', 'v1', x'00', 0), (4, 'test-model', 'v1', x'00', 0)").run();
  old.close();

  const catalogue = new Catalogue(file);
  t.after(() => catalogue.close());
  assert.deepEqual(catalogue.statusCounts('test-model'), { photos: 4, embedded: 1, pending: 2, failed: 1, missing: 1 });
  assert.deepEqual(catalogue.listFolders(), [{ id: 1, path: '/p', photoCount: 4 }]);
  // Ratings moved to their own table (migration 4), the missing photo's included.
  assert.equal(catalogue.getPhoto(1)?.rating, 4);
  assert.equal(catalogue.getPhoto(4)?.rating, 4);
  assert.equal(catalogue.getPhoto(2)?.rating, 0);
  assert.deepEqual(catalogue.browse({ minRating: 4 }, 0, 10).items.map((p) => p.id), [1]);
});
