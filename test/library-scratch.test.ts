// Scratch left by killed processes (vector build spools, partial cache files) is removed when a library
// opens; scratch of processes still running is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Library } from '../src/main/core/library.js';
import { libraryPaths, thumbnailPath } from '../src/main/core/paths.js';
import { cleanStaleScratch, ownerPid, scratchDir, STALE_UNOWNED_MS, writeFileAtomic } from '../src/main/core/scratch.js';
import { tempDir } from './helpers/fixtures.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const run = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(run.stdout);
}

test('scratch: names carry their owner\'s pid', () => {
  assert.equal(ownerPid('vector-build-4242-AbC123'), 4242);
  assert.equal(ownerPid('vector-nprobe-17-x1y2z3'), 17);
  assert.equal(ownerPid('123.jpg.999.0a1b2c3d.tmp'), 999);
  assert.equal(ownerPid('duplicates.json.31337.tmp'), 31337);
  assert.equal(ownerPid('vector-build-AbC123'), null, 'older versions named them without a pid');
  assert.equal(ownerPid('manifest.json.tmp'), null);
});

test('scratch: opening a library removes what dead processes left and keeps what live ones are using', async (t) => {
  const dir = tempDir(t, 'scratch-lib-');
  Library.open(dir).close();
  const paths = libraryPaths(dir);
  const dead = deadPid();
  const old = (Date.now() - STALE_UNOWNED_MS - 60_000) / 1000;
  const made = (p: string, kind: 'dir' | 'file', mtime?: number): string => {
    if (kind === 'dir') {
      mkdirSync(path.join(p, 'spool'), { recursive: true });
      writeFileSync(path.join(p, 'spool', 'segment-0.faiss'), Buffer.alloc(64 * 1024));
    } else {
      mkdirSync(path.dirname(p), { recursive: true });
      writeFileSync(p, Buffer.alloc(1000));
    }
    if (mtime) {
      if (kind === 'dir') for (const inner of [path.join(p, 'spool', 'segment-0.faiss'), path.join(p, 'spool')]) utimesSync(inner, mtime, mtime);
      utimesSync(p, mtime, mtime);
    }
    return p;
  };
  const stale = [
    made(path.join(dir, `vector-build-${dead}-Qw3rTy`), 'dir'),
    made(path.join(dir, `vector-nprobe-${dead}-Qw3rTy`), 'dir'),
    made(path.join(dir, 'vector-build-OldOne'), 'dir', old),
    made(path.join(dir, `duplicates.json.${dead}.tmp`), 'file'),
    made(path.join(scratchDir(paths), `17.jpg.${dead}.0a1b2c3d.tmp`), 'file'),
    made(path.join(paths.vectorIndex, 'some-model', 'manifest.json.tmp'), 'file', old),
  ];
  const kept = [
    made(path.join(dir, `vector-build-${process.pid}-AsDfGh`), 'dir'),
    made(path.join(dir, 'vector-build-NewOne'), 'dir'), // no pid, but touched just now
    made(path.join(dir, 'vector-build-Running'), 'dir'), // no pid, made long ago, but its spool was written just now
    made(path.join(scratchDir(paths), `18.jpg.${process.pid}.0a1b2c3d.tmp`), 'file'),
    made(path.join(paths.vectorIndex, 'some-model', 'manifest.json.tmp'.replace('manifest', 'fresh')), 'file'),
    made(path.join(dir, 'notes.txt'), 'file', old), // not scratch
  ];

  const running = path.join(dir, 'vector-build-Running');
  utimesSync(running, old, old);
  const library = Library.open(dir);
  library.close();
  assert.deepEqual(stale.filter((p) => existsSync(p)), [], 'stale scratch removed');
  assert.deepEqual(kept.filter((p) => !existsSync(p)), [], 'scratch in use kept');
  assert.deepEqual([...library.staleScratch.removed].sort(), [...stale].sort());
  assert.ok(library.staleScratch.bytes >= 2 * 64 * 1024);
  assert.deepEqual(cleanStaleScratch(paths).removed, [], 'nothing left to remove');
});

test('scratch: a vector build killed with SIGKILL leaves its spool, and the next open removes it', async (t) => {
  const dir = tempDir(t, 'scratch-kill-');
  Library.open(dir).close();
  const childScript = [
    `import { buildIndexParts } from ${JSON.stringify(new URL('../src/main/core/vector/build-index.js', import.meta.url).href)};`,
    'async function* source() {',
    '  for (let i = 0; i < 4; i++) {',
    '    const vectors = new Float32Array(2048 * 64).map((_, j) => ((j * 7919 + i) % 97) / 97 + 0.01);',
    '    yield { photoIds: Uint32Array.from({ length: 2048 }, (_, j) => i * 2048 + j + 1), vectors };',
    '  }',
    "  process.send('spooled');",
    '  await new Promise(() => setInterval(() => {}, 1000));', // a long build: killed here
    '}',
    `await buildIndexParts(source(), { modelId: 'm', dim: 64, workDir: ${JSON.stringify(dir)} });`,
  ].join('\n');
  const entry = path.join(dir, '..', `${path.basename(dir)}-child.mjs`);
  writeFileSync(entry, childScript);
  t.after(() => spawnSync('rm', ['-f', entry]));
  const child = fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the build exited early (${code})`)));
  });
  const scratch = readdirSync(dir).filter((n) => n.startsWith('vector-build-'));
  assert.deepEqual(scratch.map(ownerPid), [child.pid], 'the build works in a folder named with its pid');
  // While it runs, opening the library leaves its scratch alone.
  Library.open(dir).close();
  assert.ok(existsSync(path.join(dir, scratch[0])));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(existsSync(path.join(dir, scratch[0])), 'a killed build leaves its scratch');
  const library = Library.open(dir);
  library.close();
  assert.ok(!existsSync(path.join(dir, scratch[0])), 'opening the library removed it');
  assert.ok(library.staleScratch.bytes >= 4 * 2048 * 64 * 4, `${library.staleScratch.bytes} bytes freed`);
});

test('scratch: cache files are written through the scratch folder, atomically', async (t) => {
  const dir = tempDir(t, 'scratch-write-');
  const paths = libraryPaths(dir);
  const target = thumbnailPath(paths, 77);
  mkdirSync(path.dirname(target), { recursive: true });
  await writeFileAtomic(paths, target, Buffer.from('jpeg bytes'));
  assert.ok(existsSync(target));
  assert.deepEqual(readdirSync(scratchDir(paths)), [], 'nothing left behind');
  assert.deepEqual(readdirSync(path.dirname(target)), ['77.jpg']);
});
