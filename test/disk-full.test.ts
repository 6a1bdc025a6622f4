// A full or nearly full disk: `export` fails cleanly (a clear message, no staging folder left, no abort),
// and space checks ask for the space the work needs, not a fixed 16 MB more (search ran with a 2 MB index
// on a disk with under 19 MB free refused). The small disks are real: a tmpfs mounted in a private mount
// namespace (`unshare -rm`, which needs no root where user namespaces are enabled); skipped elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Library } from '../src/main/core/library.js';
import { spaceNeeded } from '../src/main/core/vector/disk.js';
import { loadModelFolder } from '../src/main/core/model/model-folder.js';
import { buildTestModel } from './helpers/test-model.js';
import { tempDir, unitRows, type CleanupScope } from './helpers/fixtures.js';

const BIN = fileURLToPath(new URL('../../bin/photo-search.js', import.meta.url));

function canMountTmpfs(): boolean {
  if (process.platform !== 'linux') return false;
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; r=$?; rmdir "$d"; exit $r'], { encoding: 'utf8' });
  return probe.status === 0;
}
const noTmpfs = canMountTmpfs() ? false : 'cannot mount a tmpfs in a private mount namespace here (unshare -rm)';

/**
 * Runs `script` (sh) with a tmpfs of `size` mounted at `mnt`, in a mount namespace of its own, so the mount
 * disappears with it. Prints what the disk held afterwards after a "--- disk" line.
 */
function onSmallDisk(mnt: string, size: string, script: string): { status: number | null; stdout: string; stderr: string; disk: string[] } {
  const run = spawnSync('unshare', ['-rm', 'sh', '-c',
    `mount -t tmpfs -o size=${size} tmpfs "${mnt}" || exit 99\n${script}\nstatus=$?\necho '--- disk'\ncd "${mnt}" && find . -mindepth 1 | sort\nexit $status`,
  ], { encoding: 'utf8', timeout: 120_000 });
  const [stdout, disk = ''] = run.stdout.split('--- disk\n');
  return { status: run.status, stdout, stderr: run.stderr, disk: disk.split('\n').filter(Boolean) };
}

const MODEL = { id: 'test-model', dim: 64, preprocessVersion: 'pp-test' };

function libraryWithVectors(t: CleanupScope, rows: number): string {
  const dir = tempDir(t, 'disk-lib-');
  const library = Library.open(dir);
  library.useModel(MODEL, null);
  const paths = Array.from({ length: rows }, (_, i) => `/photos/${String(i).padStart(5, '0')}.jpg`);
  library.catalogue.insertPhotos(paths.map((p) => ({ folderId: null, path: p, size: 1000, mtimeMs: 1 })));
  library.catalogue.importVectors(MODEL, paths.map((p) => library.catalogue.photoIdByPath(p)!), unitRows(rows, MODEL.dim, 7));
  library.close();
  return dir;
}

test('disk: space checks ask for the work plus a margin sized to it', () => {
  assert.ok(spaceNeeded(2e6) < 2.3e6, `a 2 MB index asks for ${spaceNeeded(2e6)} bytes`);
  assert.ok(spaceNeeded(1000) <= 1000 + 256 * 1024);
  assert.equal(spaceNeeded(1e9), 1.05e9);
});

test('disk: export onto a disk too small for it refuses with a clear message and leaves nothing behind', { skip: noTmpfs }, (t) => {
  const lib = libraryWithVectors(t, 2000); // 512 KB of vectors: the .npy fits on the disk, the .npy + faiss.index do not
  const mnt = tempDir(t, 'disk-mnt-');
  const run = onSmallDisk(mnt, '700k', `"${process.execPath}" "${BIN}" export --out "${mnt}/recipe" --library "${lib}"`);
  assert.equal(run.status, 1, `exit status ${run.status} (a signal? ${run.stderr})`);
  assert.match(run.stderr, /photo-search export: not enough disk space in .*recipe to export 2000 vectors: about 1\.\d MB needed, 0\.\d MB free/);
  assert.deepEqual(run.disk, [], 'no staging folder, no partial files, no output folder');
});

test('disk: a disk that fills up during export stops it cleanly: an error, the staging folder removed', { skip: noTmpfs }, (t) => {
  const lib = libraryWithVectors(t, 2000);
  const mnt = tempDir(t, 'disk-mnt-');
  const script = path.join(tempDir(t, 'disk-script-'), 'export.mjs');
  writeFileSync(script, [
    `import { Library } from ${JSON.stringify(new URL('../src/main/core/library.js', import.meta.url).href)};`,
    `import { exportRecipe } from ${JSON.stringify(new URL('../src/main/core/recipe/index.js', import.meta.url).href)};`,
    `const library = Library.open(${JSON.stringify(lib)});`,
    `await exportRecipe(library, { outDir: ${JSON.stringify(`${mnt}/recipe`)}, checkSpace: false, batchSize: 500 })`,
    "  .then(() => console.log('exported'), (e) => console.log(`${e.name}: ${e.message}`));",
    'library.close();',
  ].join('\n'));
  const run = onSmallDisk(mnt, '700k', `"${process.execPath}" "${script}"`);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /RecipeError: the disk holding .*recipe is full: the export was stopped and its partial files removed \(it needs about 1\.\d MB\)/);
  assert.deepEqual(run.disk, []);
});

test('disk: search runs on a disk with a few MB free when its index needs far less', { skip: noTmpfs }, async (t) => {
  const dir = tempDir(t, 'disk-search-');
  const folder = await loadModelFolder(await buildTestModel(path.join(dir, 'model')));
  const lib = path.join(dir, 'library');
  const library = Library.open(lib);
  const model = { id: folder.modelId, dim: folder.dim, preprocessVersion: folder.preprocessVersion };
  library.useModel(model, folder.dir);
  const paths = Array.from({ length: 5000 }, (_, i) => `/photos/${i}.jpg`);
  library.catalogue.insertPhotos(paths.map((p) => ({ folderId: null, path: p, size: 1000, mtimeMs: 1 })));
  library.catalogue.importVectors(model, paths.map((p) => library.catalogue.photoIdByPath(p)!), unitRows(paths.length, folder.dim, 3));
  library.close();
  // The library is copied onto an 8 MB disk; its vector index (5000 × 8 floats: 160 KB) is built and saved there.
  const mnt = tempDir(t, 'disk-mnt-');
  const run = onSmallDisk(mnt, '8m', `cp -r "${lib}" "${mnt}/library" && "${process.execPath}" "${BIN}" search red -k 3 --json --library "${mnt}/library"`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal((JSON.parse(run.stdout) as unknown[]).length, 3);
  assert.ok(run.disk.some((f) => /^\.\/library\/vector-index\/.+\/index-.+\.faiss$/.test(f)), `the index was saved: ${run.disk.join(' ')}`);
});
