// Hostile and edge inputs through the real indexing pipeline (issue 10): decompression bombs under a memory
// cap, in the indexer process and in thumbnail serving; per-file errors under parallel decodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Library } from '../src/main/core/library.js';
import { loadModelFolder, type ModelFolder } from '../src/main/core/model/model-folder.js';
import { scanFolder } from '../src/main/core/scanner/scanner.js';
import { runIndexing } from '../src/main/core/embed/pipeline.js';
import { INDEXER_ENTRY, IndexerClient, forkLauncherWith, type IndexerLauncher } from '../src/main/core/embed/indexer-client.js';
import { buildTestModel, writeSolidPhoto } from './helpers/test-model.js';
import { tempDir, type CleanupScope } from './helpers/fixtures.js';
import { bombGif, corruptFiles } from './helpers/hostile-images.js';

const GB = 1024 * 1024 * 1024;
const RSS_CAP = 1.5 * GB;
const BOMBS = 8;

interface Setup {
  dir: string;
  photos: string;
  libraryDir: string;
  folder: ModelFolder;
}

async function setup(t: CleanupScope, prefix: string): Promise<Setup> {
  const dir = tempDir(t, prefix);
  const folder = await loadModelFolder(await buildTestModel(path.join(dir, 'model')));
  const photos = path.join(dir, 'photos');
  mkdirSync(photos, { recursive: true });
  return { dir, photos, libraryDir: path.join(dir, 'library'), folder };
}

function openLibrary(t: CleanupScope, s: Setup): Library {
  const library = Library.open(s.libraryDir);
  t.after(() => library.close());
  library.useModel({ id: s.folder.modelId, dim: s.folder.dim, preprocessVersion: s.folder.preprocessVersion }, s.folder.dir);
  return library;
}

/** Forks like the app's launcher, with a preload that writes the process's peak RSS (VmHWM) to a file when it exits. */
function peakRecordingLauncher(dir: string, peakFile: string): IndexerLauncher {
  const probe = path.join(dir, 'peak-probe.mjs');
  writeFileSync(probe, [
    "import { readFileSync, writeFileSync } from 'node:fs';",
    "process.on('exit', () => {",
    "  const kb = Number(/^VmHWM:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);",
    `  writeFileSync(${JSON.stringify(peakFile)}, String(kb * 1024));`,
    '});',
  ].join('\n'));
  return forkLauncherWith(['--import', pathToFileURL(probe).href]);
}

/** Scans the photos into the library, then indexes them in an indexer process whose peak RSS is recorded. */
async function indexRecordingPeak(s: Setup) {
  const library = Library.open(s.libraryDir);
  library.useModel({ id: s.folder.modelId, dim: s.folder.dim, preprocessVersion: s.folder.preprocessVersion }, s.folder.dir);
  await scanFolder(library.catalogue, library.catalogue.addFolder(s.photos));
  library.close();
  const peakFile = path.join(s.dir, 'indexer-peak');
  const client = new IndexerClient({ launcher: peakRecordingLauncher(s.dir, peakFile), entry: INDEXER_ENTRY });
  const summary = await client.start({ libraryDir: s.libraryDir, modelDir: s.folder.dir, batchSize: 16 });
  return { summary, peak: Number(readFileSync(peakFile, 'utf8')) };
}

const linuxOnly = process.platform === 'linux' ? false : 'reads /proc/<pid>/status (Linux)';

test('hostile: 8 decompression-bomb GIFs in the indexer process stay under 1.5 GB of RSS, are recorded as errors, the run goes on', { skip: linuxOnly }, async (t) => {
  const s = await setup(t, 'hostile-bombs-');
  const bomb = bombGif(16000, 16000);
  for (let i = 0; i < BOMBS; i++) writeFileSync(path.join(s.photos, `bomb-${i}.gif`), bomb);
  for (let i = 0; i < 6; i++) await writeSolidPhoto(path.join(s.photos, `fine-${i}.jpg`), [i * 40, 100, 200 - i * 30], { width: 120, height: 90 });

  const { summary, peak } = await indexRecordingPeak(s);
  t.diagnostic(`indexer peak RSS ${(peak / 1e6).toFixed(0)} MB for ${BOMBS} bombs of ${bomb.length} bytes`);
  assert.ok(peak > 0 && peak < RSS_CAP, `the indexer's peak RSS was ${(peak / 1e6).toFixed(0)} MB`);
  assert.equal(summary.state, 'done');
  assert.equal(summary.embedded, 6, 'the other photos are embedded');
  assert.equal(summary.failed, BOMBS);

  const library = openLibrary(t, s);
  const failed = library.catalogue.listFailed(100);
  assert.equal(failed.length, BOMBS);
  for (const f of failed) {
    assert.match(path.basename(f.path), /^bomb-\d\.gif$/);
    assert.equal(f.status, 'error');
    assert.match(f.error, /too large to decode safely \(16000×16000 GIF, 256 MP, would need about \d+ MB of memory; the limit is 512 MB\)/);
  }

  // Thumbnails asked for all of them at once, as a grid would, in a process of their own (as `serve` is).
  const ids = failed.map((f) => f.id);
  const script = [
    `import { Library } from ${JSON.stringify(new URL('../src/main/core/library.js', import.meta.url).href)};`,
    `import { MediaResolver } from ${JSON.stringify(new URL('../src/main/core/service/media.js', import.meta.url).href)};`,
    "import { readFileSync } from 'node:fs';",
    `const library = Library.open(${JSON.stringify(s.libraryDir)});`,
    'const media = new MediaResolver(library);',
    `const answers = await Promise.all(${JSON.stringify(ids)}.flatMap((id) => [media.resolve('thumb', id), media.resolve('thumb', id)]));`,
    "const peak = Number(/^VmHWM:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;",
    'library.close();',
    'console.log(JSON.stringify({ peak, answers }));',
  ].join('\n');
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const { peak: servePeak, answers } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { peak: number; answers: unknown[] };
  t.diagnostic(`thumbnail server peak RSS ${(servePeak / 1e6).toFixed(0)} MB for ${answers.length} requests`);
  assert.ok(servePeak < RSS_CAP, `serving their thumbnails peaked at ${(servePeak / 1e6).toFixed(0)} MB`);
  assert.deepEqual(answers, answers.map(() => null), 'no thumbnail for an image too large to decode (a 404, not a crash)');
});

test('hostile: 8 large but decodable GIFs (100 MP, ~450 MB each to decode) are embedded one at a time, under 1.5 GB of RSS', { skip: linuxOnly }, async (t) => {
  const s = await setup(t, 'hostile-large-');
  for (let i = 0; i < BOMBS; i++) writeFileSync(path.join(s.photos, `large-${i}.gif`), bombGif(10000, 10000, [20 * i, 90, 160]));
  const { summary, peak } = await indexRecordingPeak(s);
  t.diagnostic(`indexer peak RSS ${(peak / 1e6).toFixed(0)} MB for ${BOMBS} GIFs of 10000×10000`);
  assert.equal(summary.embedded, BOMBS, 'all embedded');
  assert.ok(peak < RSS_CAP, `the indexer's peak RSS was ${(peak / 1e6).toFixed(0)} MB (4 at once would hold ~1.8 GB)`);
});

test('hostile: recorded errors are each file\'s own when many corrupt files decode in parallel', async (t) => {
  const s = await setup(t, 'hostile-errors-');
  const kinds = await corruptFiles();
  const expected = new Map<string, RegExp>();
  for (let i = 0; i < 60; i++) {
    const kind = kinds[i % kinds.length];
    const name = `${String(i).padStart(2, '0')}-${kind.name}`;
    writeFileSync(path.join(s.photos, name), kind.bytes);
    expected.set(name, kind.error);
  }
  for (let i = 0; i < 20; i++) await writeSolidPhoto(path.join(s.photos, `fine-${i}.png`), [10 * i, 50, 90], { width: 200, height: 150 });
  const library = openLibrary(t, s);
  await scanFolder(library.catalogue, library.catalogue.addFolder(s.photos));
  const summary = await runIndexing({ library, modelFolder: s.folder, batchSize: 40, decodeConcurrency: 12 });
  assert.equal(summary.embedded, 20);
  assert.equal(summary.failed, 60);
  const wrong = library.catalogue.listFailed(100).filter((f) => !expected.get(path.basename(f.path))!.test(f.error));
  assert.deepEqual(wrong.map((f) => `${path.basename(f.path)}: ${f.error}`), [], 'each error describes its own file');
});
