// Issue 10's check, across real processes: `photo-search serve` and `photo-search index` on one library at once.
// serve starts on an empty library; the CLI adds a folder, chooses the model and embeds it. Over serve's HTTP
// API, with no call that asks it to refresh, the CLI's photos are counted and searchable within seconds, and
// serve then watches the folder the CLI added: a photo copied in is indexed by serve itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { LibraryStatus, SearchResponse } from '../src/shared/types.js';
import { runNode, tempDir, until } from './helpers/fixtures.js';
import { buildTestModel, COLOURS, writeSolidPhoto } from './helpers/test-model.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/photo-search.js');
const TOKEN_HEADER = 'x-photo-search-token';
const PHOTOS = 40;

test('serve and index on one library at once: serve counts and finds the CLI\'s photos within seconds, then watches its folder', async (t) => {
  const root = tempDir(t, 'serve-and-index-');
  const modelsDir = path.join(root, 'models');
  const modelDir = await buildTestModel(path.join(modelsDir, 'tiny-clip'), { dim: 8 });
  const photos = path.join(root, 'photos');
  mkdirSync(photos);
  for (let i = 0; i < PHOTOS; i++) await writeSolidPhoto(path.join(photos, `p${i}.png`), [(i * 37) % 256, (i * 91) % 256, 60], 32);
  const red = await writeSolidPhoto(path.join(photos, 'red.png'), COLOURS.red, 32);
  const blue = await writeSolidPhoto(path.join(root, 'blue.png'), COLOURS.blue, 32);
  const library = path.join(root, 'library');
  const env = { ...process.env, PHOTO_SEARCH_MODELS_DIR: modelsDir, PHOTO_SEARCH_HOME: path.join(root, 'home') };

  const serve = spawn(process.execPath, [BIN, 'serve', '--library', library, '--models', modelsDir, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let serveLog = '';
  serve.stderr.on('data', (d: Buffer) => (serveLog += d.toString()));
  t.after(() => serve.kill());
  const url = new URL(await new Promise<string>((resolve) => createInterface({ input: serve.stdout }).once('line', resolve)));
  const token = url.searchParams.get('token')!;
  const api = async <T>(method: string, ...args: unknown[]): Promise<T> => {
    const response = await fetch(new URL(`/api/${method}`, url), {
      method: 'POST', headers: { 'content-type': 'application/json', [TOKEN_HEADER]: token }, body: JSON.stringify(args),
    });
    const payload = (await response.json()) as { ok: boolean; result?: T; error?: string };
    if (!payload.ok) throw new Error(`${method}: ${payload.error}`);
    return payload.result as T;
  };
  assert.equal((await api<LibraryStatus>('getStatus')).photos, 0);

  const index = await runNode([BIN, 'index', photos, '--model', modelDir, '--threads', '1', '--library', library], env);
  assert.equal(index.code, 0, index.stderr);
  const ended = Date.now();
  const total = PHOTOS + 1;
  await until('serve to count and find the CLI\'s photos', async () => {
    const status = await api<LibraryStatus>('getStatus');
    if (status.embedded !== total) return false;
    const found = await api<SearchResponse>('search', { query: 'red', limit: 1 }).catch(() => null);
    return found?.items[0]?.path === red;
  }, 20_000);
  const lag = Date.now() - ended;
  assert.ok(lag < 5000, `serve found the CLI's photos ${lag} ms after it ended\n${serveLog}`);

  // The folder the CLI added is watched by serve now: a photo copied in is indexed by serve's own run.
  copyFileSync(blue, path.join(photos, 'blue.png'));
  await until('serve to index the copied photo', async () => {
    const found = await api<SearchResponse>('search', { query: 'blue', limit: 1 });
    return found.items[0]?.path === path.join(photos, 'blue.png');
  }, 30_000);
  const db = new Database(path.join(library, 'catalogue.sqlite'), { readonly: true });
  t.after(() => db.close());
  assert.equal((db.prepare('SELECT count(*) AS n FROM embeddings').get() as { n: number }).n, total + 1, 'one embedding a photo');
});
