// The indexer's memory settings (issue 9: indexer RSS flat over a long run). The soak itself is
// bench/indexer-soak.ts (30,000 photos, minutes); these check that the settings it validated stay in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { forkLauncher, indexerEnv, INDEXER_MMAP_THRESHOLD } from '../src/main/core/embed/indexer-client.js';
import { tempDir } from './helpers/fixtures.js';

test('indexer env: a fixed glibc mmap threshold unless the user chose one', () => {
  assert.equal(INDEXER_MMAP_THRESHOLD, 1024 * 1024);
  const env = indexerEnv({ PATH: '/bin', HOME: '/home/u' });
  assert.deepEqual(env, { PATH: '/bin', HOME: '/home/u', MALLOC_MMAP_THRESHOLD_: String(INDEXER_MMAP_THRESHOLD) });
  assert.equal(indexerEnv({ MALLOC_MMAP_THRESHOLD_: '65536' }).MALLOC_MMAP_THRESHOLD_, '65536');
  const tunables = indexerEnv({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=262144' });
  assert.equal(tunables.MALLOC_MMAP_THRESHOLD_, undefined, 'a tunable the user set wins');
  const base = { PATH: '/bin' };
  indexerEnv(base);
  assert.deepEqual(base, { PATH: '/bin' }, 'the parent environment is not changed');
});

test('indexer env: the forked indexer process starts with it', async (t) => {
  const dir = tempDir(t, 'indexer-env-');
  const entry = path.join(dir, 'report-env.mjs');
  writeFileSync(entry, `process.send({ type: 'ready', threshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? null }, () => process.exit(0));\n`);
  const child = forkLauncher(entry);
  const exited = new Promise<void>((resolve) => child.onExit(() => resolve()));
  const reply = await new Promise<unknown>((resolve) => child.onMessage(resolve));
  await exited;
  const expected = process.env.MALLOC_MMAP_THRESHOLD_ !== undefined || /mmap_threshold/.test(process.env.GLIBC_TUNABLES ?? '')
    ? process.env.MALLOC_MMAP_THRESHOLD_ ?? null
    : String(INDEXER_MMAP_THRESHOLD);
  assert.deepEqual(reply, { type: 'ready', threshold: expected });
});
