import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parseExifDate, readMetadata } from '../src/main/core/metadata.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const samples = path.resolve(repoRoot, '../shared/data/photos/exif-samples');
const skip = existsSync(samples) ? false : `${samples} is missing (../shared not present)`;
const sample = (rel: string): Buffer => readFileSync(path.join(samples, rel));

test('parseExifDate: wall-clock time encoded as UTC, placeholders rejected', () => {
  assert.equal(parseExifDate('2008:10:22 16:28:39'), Date.UTC(2008, 9, 22, 16, 28, 39));
  assert.equal(parseExifDate('2008:10:22 16:28:39', '25'), Date.UTC(2008, 9, 22, 16, 28, 39, 250));
  assert.equal(parseExifDate('2008-10-22T16:28'), Date.UTC(2008, 9, 22, 16, 28, 0));
  assert.equal(parseExifDate('0000:00:00 00:00:00'), null);
  assert.equal(parseExifDate('2021:02:31 10:00:00'), null);
  assert.equal(parseExifDate('    :  :     :  :  '), null);
  assert.equal(parseExifDate(undefined), null);
  assert.equal(parseExifDate(1234), null);
});

test('readMetadata: values written by sharp, independent of the process time zone', async () => {
  const bytes = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .jpeg()
    .withExif({ IFD0: { Make: 'TestCam  ', Model: 'Model\0junk', Orientation: '6' }, IFD2: { DateTimeOriginal: '2020:01:02 03:04:05' } })
    .toBuffer();
  const meta = await readMetadata(bytes);
  assert.equal(meta.cameraMake, 'TestCam');
  assert.equal(meta.cameraModel, 'Model');
  assert.equal(meta.takenAt, Date.UTC(2020, 0, 2, 3, 4, 5));
  assert.equal(meta.gpsLat, null);
});

test('readMetadata: never throws, returns nulls for non-images and images without EXIF', async () => {
  for (const bytes of [Buffer.alloc(0), Buffer.from('not an image at all'), Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x10, 0x45, 0x78])]) {
    const meta = await readMetadata(bytes);
    assert.deepEqual(Object.values(meta), [null, null, null, null, null, null, null]);
  }
  const webp = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).webp().toBuffer();
  assert.equal((await readMetadata(webp)).takenAt, null);
});

test('readMetadata: camera samples (GPS, models, lens, orientation)', { skip }, async () => {
  const gps = await readMetadata(sample('jpg/gps/DSCN0010.jpg'));
  assert.equal(gps.cameraMake, 'NIKON');
  assert.equal(gps.cameraModel, 'COOLPIX P6000');
  assert.equal(gps.takenAt, Date.UTC(2008, 9, 22, 16, 28, 39));
  assert.ok(Math.abs(gps.gpsLat! - 43.467448) < 1e-5, `lat ${gps.gpsLat}`);
  assert.ok(Math.abs(gps.gpsLon! - 11.885127) < 1e-5, `lon ${gps.gpsLon}`);
  assert.equal(gps.orientation, 1);

  const canon = await readMetadata(sample('jpg/Canon_40D.jpg'));
  assert.equal(canon.cameraModel, 'Canon EOS 40D');
  assert.equal(canon.takenAt, Date.UTC(2008, 4, 30, 15, 56, 1));
  assert.equal(canon.gpsLat, null);

  // Southern / western hemispheres come out negative.
  const kodak = await readMetadata(sample('jpg/Kodak_CX7530.jpg'));
  assert.ok(kodak.gpsLat! < 0 && kodak.gpsLon! > 0);
  const iphone = await readMetadata(sample('jpg/hdr/iphone_hdr_YES.jpg'));
  assert.ok(iphone.gpsLat! > 40 && iphone.gpsLon! < 0);
  assert.equal(iphone.lens, 'iPhone 6 back camera 4.15mm f/2.2');

  assert.equal((await readMetadata(sample('jpg/orientation/landscape_6.jpg'))).orientation, 6);
  assert.equal((await readMetadata(sample('jpg/WWL_(Polaroid)_ION230.jpg'))).cameraModel, 'ION230');
  const heic = await readMetadata(sample('heic/IMG_5195.HEIC'));
  assert.equal(heic.cameraModel, 'iPhone 11 Pro Max');
  assert.equal(heic.takenAt, Date.UTC(2021, 3, 11, 15, 47, 53, 54)); // SubSecTimeOriginal "054"
});

test('readMetadata: broken EXIF files do not throw', { skip }, async () => {
  const invalid = path.join(samples, 'jpg/invalid');
  const files = readdirSync(invalid).filter((f) => /\.jpe?g$/i.test(f));
  assert.ok(files.length >= 5);
  for (const rel of [...files.map((f) => `jpg/invalid/${f}`), 'jpg/corrupted.jpg', 'jpg/tests/30-type_error.jpg', 'jpg/tests/36-memory_error.jpg', 'jpg/tests/87_OSError.jpg']) {
    const bytes = sample(rel);
    const meta = await readMetadata(bytes);
    assert.equal(typeof meta, 'object', rel);
    // Truncated copies of a broken file must not throw either.
    await readMetadata(bytes.subarray(0, Math.floor(bytes.length / 3)));
  }
});
