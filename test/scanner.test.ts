import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, renameSync, symlinkSync, unlinkSync, writeFileSync, copyFileSync, statSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Library } from '../src/main/core/library.js';
import { FolderUnavailableError, scanFolder, scanLibrary } from '../src/main/core/scanner/scanner.js';
import { hashBuffer, hashFile } from '../src/main/core/scanner/content-hash.js';
import { classifyFile, extensionOf } from '../src/main/core/scanner/formats.js';
import type { PhotoMetadata } from '../src/main/core/catalogue/catalogue.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'scan-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let seed = 1;
async function writeJpeg(file: string, size = 16): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  seed++;
  const bytes = await sharp({ create: { width: size, height: size, channels: 3, background: { r: (seed * 37) % 256, g: (seed * 91) % 256, b: seed % 256 } } })
    .jpeg().toBuffer();
  writeFileSync(file, bytes);
}

const META: PhotoMetadata = {
  width: 16, height: 16, format: 'jpeg', contentHash: null, takenAt: null, cameraMake: null, cameraModel: null,
  lens: null, gpsLat: null, gpsLon: null, orientation: null,
};
const MODEL = { id: 'test-model', dim: 4, preprocessVersion: 'pp-test' };

/** Stands in for the embedding pipeline: a vector, status ok and the file's content hash. */
async function fakeEmbed(library: Library, photoId: number, file: string): Promise<Float32Array> {
  library.catalogue.registerModel(MODEL);
  const vector = Float32Array.from([photoId, 1, 2, 3]);
  library.catalogue.saveEmbedBatch(MODEL, [{ photoId, ok: true, vector, metadata: { ...META, contentHash: await hashFile(file) } }]);
  return vector;
}

test('formats: extensions are case-insensitive and classified', () => {
  assert.equal(extensionOf('/a/b/IMG_1.JPG'), 'jpg');
  assert.equal(extensionOf('/a.b/noext'), '');
  assert.equal(extensionOf('.hidden'), '');
  assert.equal(classifyFile('x.JPeG'), 'photo');
  assert.equal(classifyFile('x.HEIC'), 'photo');
  assert.equal(classifyFile('x.tif'), 'photo');
  assert.equal(classifyFile('x.CR2'), 'photo'); // read through its embedded preview
  assert.equal(classifyFile('x.dng'), 'photo');
  assert.equal(classifyFile('x.X3F'), 'raw');
  assert.equal(classifyFile('x.MOV'), 'video');
  assert.equal(classifyFile('x.bmp'), 'unsupported-image');
  assert.equal(classifyFile('x.xmp'), 'other');
});

test('content hash: streamed file hash equals the buffer hash', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'a.bin');
  const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
  writeFileSync(file, bytes);
  assert.equal(await hashFile(file), hashBuffer(bytes));
  assert.match(hashBuffer(bytes), /^[0-9a-f]{64}$/);
});

test('scanner: new files, unsupported formats, rescans, changes and deletions', async (t) => {
  const dir = tempDir(t);
  const photos = path.join(dir, 'photos');
  await writeJpeg(path.join(photos, 'a.jpg'));
  await writeJpeg(path.join(photos, 'B.JPG'));
  await writeJpeg(path.join(photos, 'sub', 'c.jpeg'));
  await writeJpeg(path.join(photos, 'sub', 'deeper', 'd.JPEG'));
  writeFileSync(path.join(photos, 'e.png'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } }).png().toBuffer());
  writeFileSync(path.join(photos, 'f.heic'), 'registered, decoded (or reported unsupported) later');
  for (const name of ['raw1.X3F', 'raw2.mrw', 'raw3.MRW', 'raw4.crw', 'clip.MP4', 'clip.mov', 'scan.bmp']) writeFileSync(path.join(photos, name), 'x');
  writeFileSync(path.join(photos, 'notes.txt'), 'x');
  writeFileSync(path.join(photos, 'a.jpg.xmp'), 'x');
  writeFileSync(path.join(photos, '._a.jpg'), 'AppleDouble');
  await writeJpeg(path.join(photos, '.thumbnails', 'hidden.jpg'));
  await writeJpeg(path.join(photos, '@eaDir', 'synology.jpg'));

  const library = Library.open(path.join(dir, 'lib'));
  t.after(() => library.close());
  const folder = library.catalogue.addFolder(photos);
  const progress: string[] = [];
  const first = await scanFolder(library.catalogue, folder, { onProgress: (p) => progress.push(p.phase) });
  assert.equal(first.added, 6);
  assert.deepEqual(first.unsupported, { x3f: 1, mrw: 2, crw: 1, mp4: 1, mov: 1, bmp: 1 });
  assert.equal(first.ignored, 3); // notes.txt, a.jpg.xmp, ._a.jpg
  assert.equal(first.changed + first.missing + first.moved + first.restored + first.unchanged, 0);
  assert.equal(progress[0], 'crawling');
  assert.equal(progress.at(-1), 'done');
  assert.equal(library.catalogue.getFolder(folder.id)!.photoCount, 6);
  const aId = library.catalogue.photoIdByPath(path.join(photos, 'a.jpg'))!;
  const a = library.catalogue.getPhoto(aId)!;
  assert.equal(a.status, 'pending');
  assert.equal(a.folderId, folder.id);
  assert.equal(a.size, statSync(path.join(photos, 'a.jpg')).size);
  assert.equal(library.catalogue.photoIdByPath(path.join(photos, '.thumbnails', 'hidden.jpg')), null);

  const again = await scanFolder(library.catalogue, folder);
  assert.deepEqual([again.added, again.changed, again.missing, again.unchanged], [0, 0, 0, 6]);

  // Change one file (new bytes, new size), delete another.
  await fakeEmbed(library, aId, path.join(photos, 'a.jpg'));
  library.catalogue.setRating([aId], 4);
  await writeJpeg(path.join(photos, 'a.jpg'), 40);
  unlinkSync(path.join(photos, 'sub', 'c.jpeg'));
  const third = await scanFolder(library.catalogue, folder);
  assert.deepEqual([third.added, third.changed, third.missing, third.unchanged], [0, 1, 1, 4]);
  const changed = library.catalogue.getPhoto(aId)!;
  assert.equal(changed.status, 'pending');
  assert.equal(changed.rating, 4, 'a changed file keeps its rating');
  assert.equal(library.catalogue.getVector(aId, MODEL.id), null, 'a changed file loses its stale vector');
  const cId = library.catalogue.photoIdByPath(path.join(photos, 'sub', 'c.jpeg'))!;
  assert.equal(library.catalogue.getPhoto(cId)!.status, 'missing');

  // A touched file (same size, new mtime) counts as changed too.
  const bPath = path.join(photos, 'B.JPG');
  utimesSync(bPath, new Date(), new Date(Date.now() + 5000));
  const fourth = await scanFolder(library.catalogue, folder);
  assert.deepEqual([fourth.changed, fourth.missing, fourth.unchanged], [1, 0, 4]);
});

test('scanner: a renamed or moved file keeps its id, vector, rating and tags; a returning file is restored', async (t) => {
  const dir = tempDir(t);
  const photos = path.join(dir, 'photos');
  const oldPath = path.join(photos, '2019', 'beach.jpg');
  const twinA = path.join(photos, 'twin-a.jpg');
  await writeJpeg(oldPath, 24);
  await writeJpeg(twinA, 24);
  const library = Library.open(path.join(dir, 'lib'));
  t.after(() => library.close());
  const folder = library.catalogue.addFolder(photos);
  await scanFolder(library.catalogue, folder);
  const id = library.catalogue.photoIdByPath(oldPath)!;
  const vector = await fakeEmbed(library, id, oldPath);
  library.catalogue.setRating([id], 5);
  library.catalogue.addTags([id], ['holiday', 'sea']);
  const twinId = library.catalogue.photoIdByPath(twinA)!;
  await fakeEmbed(library, twinId, twinA);

  // Rename into another subfolder (rename keeps mtime; the scan must not rely on it).
  const newPath = path.join(photos, 'best of', 'beach (1).jpg');
  mkdirSync(path.dirname(newPath), { recursive: true });
  renameSync(oldPath, newPath);
  const result = await scanFolder(library.catalogue, folder);
  assert.deepEqual([result.moved, result.added, result.missing], [1, 0, 0]);
  assert.equal(library.catalogue.photoIdByPath(newPath), id);
  assert.equal(library.catalogue.photoIdByPath(oldPath), null);
  const moved = library.catalogue.getPhoto(id)!;
  assert.equal(moved.path, newPath);
  assert.equal(moved.status, 'ok');
  assert.equal(moved.rating, 5);
  assert.deepEqual(moved.tags, ['holiday', 'sea']);
  assert.deepEqual(library.catalogue.getVector(id, MODEL.id), vector);
  assert.equal(library.catalogue.statusCounts(MODEL.id).photos, 2);

  // A new file of the same size but other bytes is not taken for the missing one.
  const twinPath = path.join(photos, 'twin-b.jpg');
  renameSync(twinA, path.join(dir, 'parked.jpg'));
  const other = await sharp({ create: { width: 24, height: 24, channels: 3, background: '#010203' } }).jpeg().toBuffer();
  const sizeOfTwin = statSync(path.join(dir, 'parked.jpg')).size;
  writeFileSync(twinPath, Buffer.concat([other, Buffer.alloc(Math.max(0, sizeOfTwin - other.length))]).subarray(0, sizeOfTwin));
  const second = await scanFolder(library.catalogue, folder);
  assert.deepEqual([second.moved, second.added, second.missing], [0, 1, 1]);
  assert.equal(library.catalogue.getPhoto(twinId)!.status, 'missing');

  // The missing file comes back, unchanged, at its old path: restored with its vector.
  const parked = path.join(dir, 'parked.jpg');
  const { atime, mtime } = statSync(parked);
  copyFileSync(parked, twinA);
  utimesSync(twinA, atime, mtime);
  const third = await scanFolder(library.catalogue, folder);
  assert.equal(third.restored, 1);
  assert.equal(library.catalogue.getPhoto(twinId)!.status, 'ok');
});

test('scanner: photo moved between library folders is recognised by scanLibrary', async (t) => {
  const dir = tempDir(t);
  const first = path.join(dir, 'a-first');
  const second = path.join(dir, 'b-second');
  await writeJpeg(path.join(second, 'x.jpg'), 20);
  mkdirSync(first, { recursive: true });
  const library = Library.open(path.join(dir, 'lib'));
  t.after(() => library.close());
  library.catalogue.addFolder(first);
  library.catalogue.addFolder(second);
  await scanLibrary(library.catalogue);
  const id = library.catalogue.photoIdByPath(path.join(second, 'x.jpg'))!;
  await fakeEmbed(library, id, path.join(second, 'x.jpg'));
  library.catalogue.addTags([id], ['kept']);
  // Folder 'a-first' is scanned before 'b-second', i.e. before the old path is known to be missing.
  renameSync(path.join(second, 'x.jpg'), path.join(first, 'x.jpg'));
  const result = await scanLibrary(library.catalogue);
  assert.deepEqual(result.errors, []);
  const [a, b] = result.folders;
  assert.deepEqual([a.moved, a.added, b.missing], [1, 0, 0]);
  const photo = library.catalogue.getPhoto(id)!;
  assert.equal(photo.path, path.join(first, 'x.jpg'));
  assert.equal(photo.folderId, a.folderId);
  assert.deepEqual(photo.tags, ['kept']);
});

test('scanner: symlinks leading outside the folder are not followed', async (t) => {
  const dir = tempDir(t);
  const photos = path.join(dir, 'photos');
  const outside = path.join(dir, 'private');
  await writeJpeg(path.join(photos, 'inside.jpg'));
  await writeJpeg(path.join(outside, 'secret.jpg'));
  await writeJpeg(path.join(outside, 'album', 'secret2.jpg'));
  symlinkSync(path.join(outside, 'secret.jpg'), path.join(photos, 'link-to-secret.jpg'));
  symlinkSync(outside, path.join(photos, 'link-to-private-dir'));
  symlinkSync(path.join(outside, 'album'), path.join(photos, 'album.jpg')); // a directory link named like a photo
  symlinkSync(path.join(photos, 'inside.jpg'), path.join(photos, 'alias.jpg')); // stays inside: registered
  symlinkSync(path.join(dir, 'nowhere.jpg'), path.join(photos, 'broken.jpg'));
  symlinkSync(photos, path.join(photos, 'loop')); // a cycle, never followed
  const library = Library.open(path.join(dir, 'lib'));
  t.after(() => library.close());
  const folder = library.catalogue.addFolder(photos);
  const result = await scanFolder(library.catalogue, folder);
  assert.equal(result.added, 2);
  assert.equal(result.skippedSymlinks, 5);
  const paths = library.catalogue.browse({}, 0, 100).items.map((p) => p.path).sort();
  assert.deepEqual(paths, [path.join(photos, 'alias.jpg'), path.join(photos, 'inside.jpg')]);
});

test('scanner: non-ASCII file names are registered exactly and stay unchanged on rescan', async (t) => {
  const dir = tempDir(t);
  const photos = path.join(dir, 'фотографии');
  const names = ['café.JPG', 'שלום עולם.jpg', '日本の夏.png', 'emoji 🎉.webp', path.join('Ünïcödé dir', 'naïve.jpeg')];
  for (const name of names) {
    const file = path.join(photos, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, await sharp({ create: { width: 8, height: 8, channels: 3, background: '#abcdef' } }).jpeg().toBuffer());
  }
  const library = Library.open(path.join(dir, 'lib'));
  t.after(() => library.close());
  const folder = library.catalogue.addFolder(photos);
  const result = await scanFolder(library.catalogue, folder);
  assert.equal(result.added, names.length);
  assert.equal(result.unreadable, 0);
  for (const name of names) assert.notEqual(library.catalogue.photoIdByPath(path.join(photos, name)), null, name);
  const again = await scanFolder(library.catalogue, folder);
  assert.deepEqual([again.added, again.unchanged, again.missing], [0, names.length, 0]);
});

test('scanner: an unavailable folder is an error and nothing is marked missing', async (t) => {
  const dir = tempDir(t);
  const photos = path.join(dir, 'usb-drive');
  await writeJpeg(path.join(photos, 'a.jpg'));
  const library = Library.open(path.join(dir, 'lib'));
  t.after(() => library.close());
  const folder = library.catalogue.addFolder(photos);
  await scanFolder(library.catalogue, folder);
  renameSync(photos, path.join(dir, 'unplugged'));
  await assert.rejects(scanFolder(library.catalogue, folder), FolderUnavailableError);
  const result = await scanLibrary(library.catalogue);
  assert.equal(result.errors.length, 1);
  assert.match(result.errors[0].error, /not available/);
  assert.equal(library.catalogue.statusCounts(null).missing, 0);
});

test('scanner: nested library folders are left to their own scan', async (t) => {
  const dir = tempDir(t);
  const outer = path.join(dir, 'outer');
  const inner = path.join(outer, 'inner');
  await writeJpeg(path.join(outer, 'o.jpg'));
  await writeJpeg(path.join(inner, 'i.jpg'));
  const library = Library.open(path.join(dir, 'lib'));
  t.after(() => library.close());
  library.catalogue.addFolder(outer);
  library.catalogue.addFolder(inner);
  const result = await scanLibrary(library.catalogue);
  const byPath = new Map(result.folders.map((f) => [f.folder, f]));
  assert.equal(byPath.get(outer)!.added, 1);
  assert.equal(byPath.get(inner)!.added, 1);
  const again = await scanLibrary(library.catalogue);
  for (const f of again.folders) assert.deepEqual([f.added, f.missing, f.unchanged], [0, 0, 1]);
});
