// Issue 10: two processes saving the vector index into one directory (the app and the CLI on one library).
// Before, the manifest's temp name was fixed (one writer renamed the other's half-written file, or found it
// gone) and each save deleted every generation but its own, so the manifest could name files another save
// had just removed. Now: unique temp names, and only generations no process can be using are removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readManifest, removeStaleGenerations } from '../src/main/core/vector/index-store.js';
import { VectorIndex } from '../src/main/core/vector/vector-index.js';
import { runNode, tempDir, unitRows } from './helpers/fixtures.js';

const vectorIndexModule = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/main/core/vector/vector-index.js')).href;

/** Saves an index `saves` times into `dir`, loading what the manifest names after each save; prints the failures. */
function saverProcess(dir: string, seed: number, saves: number, startAt: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    const { VectorIndex } = await import(${JSON.stringify(vectorIndexModule)});
    const dim = 8, rows = 200;
    const index = VectorIndex.create({ modelId: 'race-model', dim });
    const vectors = new Float32Array(rows * dim).map((_, i) => Math.sin(i * ${seed}));
    index.add(Uint32Array.from({ length: rows }, (_, i) => ${seed} * 1000 + i), vectors, { lastEmbeddingId: rows });
    while (Date.now() < ${startAt}) { /* start together */ }
    const failures = [];
    for (let i = 0; i < ${saves}; i++) {
      try {
        index.save(${JSON.stringify(dir)});
        VectorIndex.load(${JSON.stringify(dir)}, { modelId: 'race-model', dim });
      } catch (error) {
        failures.push(error.message);
      }
    }
    console.log(JSON.stringify(failures));
  `;
  return runNode(['--input-type=module', '-e', script]);
}

test('two processes saving one index at once: the manifest always names files that exist', async (t) => {
  const dir = path.join(tempDir(t, 'vector-store-race-'), 'vector-index');
  const startAt = Date.now() + 1500;
  const results = await Promise.all([saverProcess(dir, 1, 150, startAt), saverProcess(dir, 2, 150, startAt)]);
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    const failures = JSON.parse(r.stdout.trim()) as string[];
    assert.deepEqual(failures.slice(0, 3), [], `${failures.length} saves or loads failed`);
  }
  const manifest = readManifest(dir);
  const index = VectorIndex.load(dir, { modelId: 'race-model', dim: 8 });
  assert.equal(index.size, 200);
  assert.equal(manifest.rows, 200);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left behind');
});

test('old generations are removed once no process can be using them; the current one never', (t) => {
  const dir = path.join(tempDir(t, 'vector-store-gc-'), 'vector-index');
  const index = VectorIndex.create({ modelId: 'gc-model', dim: 4 });
  index.add(Uint32Array.from([1, 2, 3]), unitRows(3, 4, 5), { lastEmbeddingId: 3 });
  const first = index.save(dir);
  const second = index.save(dir);
  const names = (m: typeof first) => Object.values(m.files).map((f) => f.name);
  const onDisk = () => new Set(readdirSync(dir));
  // The replaced generation stays for the grace period (a reader may have read the old manifest).
  for (const name of names(first)) assert.ok(onDisk().has(name), `${name} kept within the grace period`);
  // Once it is older than the grace period, the next clean-up removes it, and only it.
  const old = new Date(Date.now() - 10 * 60_000);
  for (const name of [...names(first), ...names(second)]) utimesSync(path.join(dir, name), old, old);
  removeStaleGenerations(dir);
  for (const name of names(first)) assert.ok(!onDisk().has(name), `${name} removed`);
  for (const name of names(second)) assert.ok(onDisk().has(name), `${name} (current) kept`);
  assert.equal(VectorIndex.load(dir).size, 3);
});
