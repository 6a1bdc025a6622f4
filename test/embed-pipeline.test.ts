import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fork } from 'node:child_process';
import sharp from 'sharp';
import { Library } from '../src/main/core/library.js';
import { loadModelFolder, type ModelFolder } from '../src/main/core/model/model-folder.js';
import { ClipModel } from '../src/main/core/model/clip-model.js';
import { thumbnailPath } from '../src/main/core/paths.js';
import { scanFolder } from '../src/main/core/scanner/scanner.js';
import { hashFile } from '../src/main/core/scanner/content-hash.js';
import { failureOf, runIndexing, type ImageEmbedder } from '../src/main/core/embed/pipeline.js';
import { ImageDecodeError, UnsupportedFormatError } from '../src/main/core/model/preprocess.js';
import { IndexingControl } from '../src/main/core/embed/control.js';
import { IndexerClient, IndexerExitError, type IndexerLauncher } from '../src/main/core/embed/indexer-client.js';
import type { IndexerEvent } from '../src/main/core/embed/indexer-protocol.js';
import type { IndexingProgress } from '../src/shared/types.js';
import { buildTestModel, COLOURS, normalisedColour, writeSolidPhoto, type Rgb } from './helpers/test-model.js';

interface Fixture {
  dir: string;
  photos: string;
  library: Library;
  folder: ModelFolder;
  colours: Map<string, Rgb>;
}

async function fixture(t: { after: (fn: () => void) => void }, count: number): Promise<Fixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'embed-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const folder = await loadModelFolder(await buildTestModel(path.join(dir, 'model')));
  const photos = path.join(dir, 'photos');
  const colours = new Map<string, Rgb>();
  const palette = Object.values(COLOURS);
  const exts = ['jpg', 'png', 'webp', 'JPEG'];
  for (let i = 0; i < count; i++) {
    const rgb = palette[i % palette.length];
    const file = path.join(photos, `p${String(i).padStart(3, '0')}.${exts[i % exts.length]}`);
    await writeSolidPhoto(file, rgb, { width: 40 + (i % 7) * 30, height: 50 + (i % 5) * 20 });
    colours.set(file, rgb);
  }
  const library = Library.open(path.join(dir, 'library'));
  t.after(() => library.close());
  library.useModel({ id: folder.modelId, dim: folder.dim, preprocessVersion: folder.preprocessVersion }, folder.dir);
  await scanFolder(library.catalogue, library.catalogue.addFolder(photos));
  return { dir, photos, library, folder, colours };
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

test('pipeline: embeds every photo, writes thumbnails and metadata, records broken files and goes on', async (t) => {
  const f = await fixture(t, 14);
  // A photo with EXIF, a truncated JPEG, a text file named .jpg, a broken HEIC, an empty file.
  const exifPhoto = path.join(f.photos, 'with-exif.jpg');
  writeFileSync(exifPhoto, await sharp({ create: { width: 60, height: 40, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .jpeg().withExif({ IFD0: { Make: 'Acme', Model: 'One' }, IFD2: { DateTimeOriginal: '2019:07:14 18:30:00' } }).toBuffer());
  f.colours.set(exifPhoto, [255, 0, 0]);
  const noisy = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .jpeg().toBuffer();
  writeFileSync(path.join(f.photos, 'truncated.jpg'), noisy.subarray(0, Math.floor(noisy.length / 2)));
  writeFileSync(path.join(f.photos, 'not-an-image.jpg'), 'Dear diary, today I saved a text file as .jpg\n');
  const heic = Buffer.alloc(64);
  heic.writeUInt32BE(24, 0);
  heic.write('ftypheic', 4, 'latin1');
  writeFileSync(path.join(f.photos, 'phone.HEIC'), heic);
  writeFileSync(path.join(f.photos, 'empty.png'), '');
  await scanFolder(f.library.catalogue, f.library.catalogue.addFolder(f.photos));

  const events: IndexingProgress[] = [];
  const summary = await runIndexing({ library: f.library, modelFolder: f.folder, batchSize: 4, threads: 1, onProgress: (p) => events.push(p) });
  assert.equal(summary.state, 'done');
  assert.equal(summary.total, 19);
  assert.equal(summary.embedded, 15);
  assert.equal(summary.failed, 4);
  assert.equal(summary.unsupported, 0);
  assert.equal(events[0].state, 'embedding');
  assert.equal(events[0].done, 0);
  const last = events.at(-1)!;
  assert.deepEqual([last.state, last.done, last.total, last.failed], ['done', 19, 19, 4]);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].done >= events[i - 1].done, 'progress never goes back');

  const catalogue = f.library.catalogue;
  for (const [file, rgb] of f.colours) {
    const id = catalogue.photoIdByPath(file)!;
    const photo = catalogue.getPhoto(id)!;
    assert.equal(photo.status, 'ok', file);
    assert.equal(photo.contentHash, await hashFile(file), 'the content hash is the sha256 of the file');
    assert.ok(photo.width! > 0 && photo.height! > 0);
    const vector = catalogue.getVector(id, f.folder.modelId)!;
    assert.equal(vector.length, f.folder.dim);
    assert.ok(cosine(vector, normalisedColour(rgb)) > 0.99, `${path.basename(file)} embeds as its colour`);
    const thumb = thumbnailPath(f.library.paths, id);
    assert.ok(existsSync(thumb), `thumbnail of ${file}`);
    const meta = await sharp(readFileSync(thumb)).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.equal(Math.max(meta.width, meta.height), Math.max(photo.width!, photo.height!), 'small photos are not enlarged');
  }
  const exif = catalogue.getPhoto(catalogue.photoIdByPath(exifPhoto)!)!;
  assert.deepEqual([exif.cameraMake, exif.cameraModel, exif.takenAt], ['Acme', 'One', Date.UTC(2019, 6, 14, 18, 30)]);

  const failed = new Map(catalogue.listFailed(100).map((p) => [path.basename(p.path), p]));
  assert.equal(failed.size, 4);
  assert.equal(failed.get('truncated.jpg')!.status, 'error');
  // libvips usually says the file is truncated, but under concurrent decodes its message can come back
  // as "Unknown error" (its error buffer is shared), so only the failure itself is asserted.
  assert.match(failed.get('truncated.jpg')!.error, /cannot decode/i);
  assert.equal(failed.get('not-an-image.jpg')!.status, 'error');
  assert.match(failed.get('not-an-image.jpg')!.error, /unsupported image format|cannot decode/i);
  assert.equal(failed.get('phone.HEIC')!.status, 'error');
  assert.match(failed.get('phone.HEIC')!.error, /cannot decode/);
  assert.equal(failed.get('empty.png')!.status, 'error');
  assert.equal(catalogue.getPhoto(catalogue.photoIdByPath(path.join(f.photos, 'truncated.jpg'))!)!.contentHash,
    await hashFile(path.join(f.photos, 'truncated.jpg')), 'failed photos keep their content hash too');

  // A second run finds nothing to do.
  const again = await runIndexing({ library: f.library, modelFolder: f.folder, threads: 1 });
  assert.deepEqual([again.total, again.done, again.embedded], [0, 0, 0]);
  assert.equal(catalogue.countEmbeddings(f.folder.modelId), 15);
});

test('pipeline: pause holds between batches, resume goes on, cancel stops and a new run resumes', async (t) => {
  const f = await fixture(t, 30);
  const model = await ClipModel.load(f.folder, { threads: 1 });
  t.after(() => model.release());
  // Slow the model down so the test controls the timing, not the machine.
  const slow: ImageEmbedder = { embedImages: async (x) => (await new Promise((r) => setTimeout(r, 25)), model.embedImages(x)) };
  const control = new IndexingControl();
  const events: IndexingProgress[] = [];
  let pausedAt = -1;
  const run = runIndexing({
    library: f.library, modelFolder: f.folder, embedder: slow, batchSize: 2, control,
    onProgress: (p) => {
      events.push(p);
      if (p.state === 'embedding' && p.done === 4 && pausedAt < 0) {
        control.pause();
        pausedAt = p.done;
      }
    },
  });
  // Wait until paused, check nothing moves, then resume.
  while (!events.some((e) => e.state === 'paused')) await new Promise((r) => setTimeout(r, 10));
  const doneWhenPaused = events.at(-1)!.done;
  assert.equal(doneWhenPaused, 4, 'pause takes effect after the batch in flight');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(events.at(-1)!.state, 'paused');
  assert.equal(f.library.catalogue.countEmbeddings(f.folder.modelId), 4, 'nothing is embedded while paused');
  control.resume();
  while (events.at(-1)!.done < 12) await new Promise((r) => setTimeout(r, 5));
  control.cancel();
  const summary = await run;
  assert.equal(summary.state, 'cancelled');
  assert.ok(summary.embedded >= 12 && summary.embedded < 30, `cancelled after ${summary.embedded}`);
  assert.equal(events.at(-1)!.state, 'cancelled');
  assert.equal(f.library.catalogue.countEmbeddings(f.folder.modelId), summary.embedded, 'every handled batch is stored');
  const stateSequence = events.map((e) => e.state).filter((s, i, all) => s !== all[i - 1]);
  assert.deepEqual(stateSequence, ['embedding', 'paused', 'embedding', 'cancelled']);

  // Cancelling through an AbortSignal before the start stores nothing.
  const aborted = new AbortController();
  aborted.abort();
  const none = await runIndexing({ library: f.library, modelFolder: f.folder, embedder: model, signal: aborted.signal });
  assert.deepEqual([none.state, none.done], ['cancelled', 0]);

  // A new run picks up exactly the rest.
  const rest = await runIndexing({ library: f.library, modelFolder: f.folder, embedder: model, batchSize: 8 });
  assert.equal(rest.state, 'done');
  assert.equal(rest.total, 30 - summary.embedded);
  assert.equal(rest.embedded, 30 - summary.embedded);
  assert.equal(f.library.catalogue.countEmbeddings(f.folder.modelId), 30);
});

test('indexer process: runs in a forked child, relays progress, obeys pause/resume, reports a killed child', async (t) => {
  const f = await fixture(t, 12);
  const libraryDir = f.library.paths.dir;
  const client = new IndexerClient();
  const events: IndexingProgress[] = [];
  client.on('progress', (p) => events.push(p));
  const summary = await client.start({ libraryDir, modelDir: f.folder.dir, batchSize: 4, threads: 1 });
  assert.equal(summary.state, 'done');
  assert.equal(summary.embedded, 12);
  assert.equal(summary.modelId, f.folder.modelId);
  assert.equal(events.at(-1)!.state, 'done');
  assert.ok(!client.running);
  assert.equal(f.library.catalogue.countEmbeddings(f.folder.modelId), 12);

  // A start request the child cannot honour (no model there) comes back as an error, not a hang.
  await assert.rejects(client.start({ libraryDir, modelDir: path.join(f.dir, 'no-model') }), /does not exist|not a folder/);
  assert.equal(client.progress!.state, 'error');

  // A child killed from outside: state 'error' with the signal.
  for (let i = 0; i < 6; i++) await writeSolidPhoto(path.join(f.photos, `more-${i}.jpg`), [10 * i, 20, 30]);
  await scanFolder(f.library.catalogue, f.library.catalogue.listFolders()[0]);
  const dying = new IndexerClient();
  const run = dying.start({ libraryDir, modelDir: f.folder.dir, batchSize: 1, threads: 1 });
  dying.pause(); // arrives right after 'start': the child holds after its first batch
  while (dying.progress?.state !== 'paused') await new Promise((r) => setTimeout(r, 10));
  dying.kill('SIGKILL');
  await assert.rejects(run, (error: unknown) => error instanceof IndexerExitError && error.signal === 'SIGKILL');
  assert.equal(dying.progress!.state, 'error');
  assert.match(dying.progress!.message!, /SIGKILL/);

  // Pause / resume across the process boundary, then the rest gets done.
  const resumed = new IndexerClient();
  const states: string[] = [];
  resumed.on('progress', (p) => states.push(p.state));
  const second = resumed.start({ libraryDir, modelDir: f.folder.dir, batchSize: 1, threads: 1 });
  resumed.pause();
  while (resumed.progress?.state !== 'paused') await new Promise((r) => setTimeout(r, 10));
  resumed.resume();
  const done = await second;
  assert.equal(done.state, 'done');
  assert.ok(states.includes('paused'));
  assert.equal(f.library.catalogue.countEmbeddings(f.folder.modelId), 18);
});

test('pipeline: a model that cannot load fails the run cleanly, with state error and nothing stored', async (t) => {
  const f = await fixture(t, 3);
  writeFileSync(path.join(f.folder.dir, 'visual/model.onnx'), 'this is not an onnx model');
  const events: IndexingProgress[] = [];
  await assert.rejects(runIndexing({ library: f.library, modelFolder: f.folder, threads: 1, onProgress: (p) => events.push(p) }), /cannot load the visual model/);
  assert.equal(events.at(-1)!.state, 'error');
  assert.match(events.at(-1)!.message!, /visual model/);
  assert.equal(f.library.catalogue.countEmbeddings(f.folder.modelId), 0);
  assert.equal(f.library.catalogue.statusCounts(f.folder.modelId).pending, 3, 'photos stay pending for the next run');
});

test('pipeline: formats the decoder lacks are recorded as unsupported, other failures as errors', () => {
  const unsupported = failureOf(new UnsupportedFormatError('heif', 'x.heif: no decoder for this coding'));
  assert.equal(unsupported.status, 'unsupported');
  assert.match(unsupported.error, /x\.heif: no decoder for this coding/);
  assert.deepEqual(failureOf(new ImageDecodeError('cannot decode x.jpg: premature end')), { status: 'error', error: 'cannot decode x.jpg: premature end' });
  assert.equal(failureOf('weird').status, 'error');
});

const sharedHeic = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/photos/exif-samples/heic/IMG_5195.HEIC');
test('pipeline: a real iPhone HEIC is embedded with its EXIF', { skip: existsSync(sharedHeic) ? false : `${sharedHeic} is missing` }, async (t) => {
  const f = await fixture(t, 1);
  const file = path.join(f.photos, 'iphone.HEIC');
  writeFileSync(file, readFileSync(sharedHeic));
  await scanFolder(f.library.catalogue, f.library.catalogue.listFolders()[0]);
  const summary = await runIndexing({ library: f.library, modelFolder: f.folder, threads: 1 });
  assert.deepEqual([summary.embedded, summary.failed], [2, 0]);
  const photo = f.library.catalogue.getPhoto(f.library.catalogue.photoIdByPath(file)!)!;
  assert.equal(photo.status, 'ok');
  assert.equal(photo.format, 'heic');
  assert.equal(photo.cameraModel, 'iPhone 11 Pro Max');
  assert.ok(existsSync(thumbnailPath(f.library.paths, photo.id)));
});

test('indexer process: works through an injected launcher speaking the utilityProcess parentPort API', async (t) => {
  const f = await fixture(t, 5);
  // Stand-in for Electron's utilityProcess: the child sees process.parentPort ({data} events, postMessage).
  const shim = path.join(f.dir, 'utility-shim.mjs');
  writeFileSync(shim, `
    import { EventEmitter } from 'node:events';
    const port = new EventEmitter();
    port.postMessage = (message) => process.send({ viaParentPort: true, message });
    process.on('message', (data) => port.emit('message', { data }));
    process.parentPort = port;
    await import(process.argv[2]);
  `);
  let launched = 0;
  const launcher: IndexerLauncher = (entry) => {
    launched++;
    const child = fork(shim, [pathToFileURL(entry).href], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    return {
      send: (m) => child.send(m),
      onMessage: (listener) => child.on('message', (m) => {
        const wrapped = m as { viaParentPort?: boolean; message: IndexerEvent };
        assert.ok(wrapped.viaParentPort, 'the child answered through parentPort');
        listener(wrapped.message);
      }),
      onExit: (listener) => child.once('exit', (code) => listener(code, null)), // utilityProcess reports a code only
      kill: () => child.kill(),
      pid: child.pid,
    };
  };
  const client = new IndexerClient({ launcher });
  const summary = await client.start({ libraryDir: f.library.paths.dir, modelDir: f.folder.dir, threads: 1 });
  assert.equal(launched, 1);
  assert.deepEqual([summary.state, summary.embedded], ['done', 5]);
  assert.equal(client.progress!.state, 'done');
});
