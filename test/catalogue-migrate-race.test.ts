// Issue 10: two processes opening an old catalogue at once must not both migrate it. The schema version is
// read inside the migration's BEGIN IMMEDIATE transaction, so the second process waits for the first and then
// finds nothing to do (before, both read the old version, and the second failed re-creating the first's tables).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { migrations } from '../src/main/core/catalogue/migrations.js';
import { runNode, tempDir } from './helpers/fixtures.js';

const databaseModule = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/main/core/catalogue/database.js')).href;

/** A catalogue as version 1 of the app left it, with enough photos that migrating takes a while. */
function oldCatalogue(file: string, photos: number): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(migrations[0].up);
  db.pragma('user_version = 1');
  const insert = db.prepare('INSERT INTO photos(path, size, mtime_ms, added_at) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < photos; i++) insert.run(`/photos/p${i}.jpg`, 1000 + i, 1_700_000_000_000 + i, 0);
  })();
  db.close();
}

/** Opens the catalogue (migrating it) in a child process, at a given moment so both start together. */
function openInChild(file: string, startAt: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    const { openDatabase } = await import(${JSON.stringify(databaseModule)});
    while (Date.now() < ${startAt}) { /* start together */ }
    const db = openDatabase(${JSON.stringify(file)});
    console.log(db.pragma('user_version', { simple: true }));
    db.close();
  `;
  return runNode(['--input-type=module', '-e', script]);
}

test('two processes opening an old catalogue at once: one migrates, the other waits and finds it done', async (t) => {
  const dir = tempDir(t, 'migrate-race-');
  const latest = migrations[migrations.length - 1].version;
  for (let round = 0; round < 3; round++) {
    const file = path.join(dir, `catalogue-${round}.sqlite`);
    oldCatalogue(file, 60_000);
    const startAt = Date.now() + 1500; // both children have loaded their modules by then
    const results = await Promise.all([openInChild(file, startAt), openInChild(file, startAt)]);
    for (const r of results) {
      assert.equal(r.code, 0, `round ${round}: a process failed to open the catalogue:\n${r.stderr}`);
      assert.equal(r.stdout.trim(), String(latest));
    }
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), latest);
    assert.equal((db.prepare("SELECT sum(n) AS n FROM photo_counts WHERE status = 'pending'").get() as { n: number }).n, 60_000,
      'the counters were filled once');
    db.close();
  }
});
