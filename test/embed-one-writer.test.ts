// Issue 10, one writer per library: two `photo-search index` runs on one library at once. Before, both embedded
// the same photos (4,960 embeddings computed for 2,000 photos); now the second refuses at once, naming the first
// (the lock dies with its process), and every photo is embedded exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { buildTestModel, writeSolidPhoto } from './helpers/test-model.js';
import { holdWriterLock, runNode, tempDir } from './helpers/fixtures.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/photo-search.js');
const PHOTOS = 160;

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode([BIN, ...args], env);
}

test('two indexing runs on one library at once: the second refuses naming the first, no photo is embedded twice', async (t) => {
  const root = tempDir(t, 'one-writer-');
  const modelsDir = path.join(root, 'models');
  const modelDir = await buildTestModel(path.join(modelsDir, 'tiny-clip'), { dim: 8 });
  const photos = path.join(root, 'photos');
  for (let i = 0; i < PHOTOS; i++) {
    await writeSolidPhoto(path.join(photos, `p${i}.png`), [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256], 48);
  }
  const library = path.join(root, 'library');
  const env = { ...process.env, PHOTO_SEARCH_MODELS_DIR: modelsDir, PHOTO_SEARCH_HOME: path.join(root, 'home') };
  const args = ['index', photos, '--model', modelDir, '--json', '--batch', '4', '--threads', '1', '--library', library];
  const runs = await Promise.all([cli(args, env), cli(args, env)]);

  // Embeddings computed: every photo decoded and inferred, whether stored or not.
  let computed = 0;
  for (const run of runs) {
    if (run.code === 0) {
      const summary = JSON.parse(run.stdout) as { done: number; skipped?: number };
      computed += summary.done + (summary.skipped ?? 0);
    } else {
      assert.match(run.stderr, /another process is already writing this library \(photo-search index, pid \d+/, run.stderr);
    }
  }
  assert.ok(runs.some((r) => r.code === 0), runs.map((r) => r.stderr).join('\n'));
  assert.equal(computed, PHOTOS, 'each photo embedded once');
  const db = new Database(path.join(library, 'catalogue.sqlite'), { readonly: true });
  t.after(() => db.close());
  assert.equal((db.prepare('SELECT count(*) AS n FROM embeddings').get() as { n: number }).n, PHOTOS);

  // The lock went with its process: a later run may write.
  const later = await cli(args, env);
  assert.equal(later.code, 0, later.stderr);
  assert.equal((JSON.parse(later.stdout) as { done: number }).done, 0);
});

test('index --wait waits for the process holding the writer lock, saying whom, then indexes', async (t) => {
  const root = tempDir(t, 'one-writer-wait-');
  const modelsDir = path.join(root, 'models');
  const modelDir = await buildTestModel(path.join(modelsDir, 'tiny-clip'), { dim: 8 });
  const photos = path.join(root, 'photos');
  for (let i = 0; i < 8; i++) await writeSolidPhoto(path.join(photos, `p${i}.png`), [i * 30, 255 - i * 30, 90], 32);
  const library = path.join(root, 'library');
  mkdirSync(library, { recursive: true });
  const env = { ...process.env, PHOTO_SEARCH_MODELS_DIR: modelsDir, PHOTO_SEARCH_HOME: path.join(root, 'home') };

  // Another process (the app, `serve`) holds the lock until we stop it.
  const holder = await holdWriterLock(t, library, 'a test holder');

  const args = ['index', photos, '--model', modelDir, '--json', '--threads', '1', '--library', library];
  const refused = await cli(args, env);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /another process is already writing this library \(a test holder, pid \d+/);

  const waiting = cli([...args, '--wait'], env);
  await new Promise((resolve) => setTimeout(resolve, 2500)); // a try or two
  holder.kill();
  const run = await waiting;
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`Waiting for a test holder, pid ${holder.pid} to finish writing this library`));
  assert.equal((JSON.parse(run.stdout) as { done: number }).done, 8);
});
