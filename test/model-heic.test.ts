// HEIC/HEIF photos: detected by content, decoded by libheif (heic.ts) and then processed like any photo,
// upright, for the CLIP input, thumbnails, the full view, and perceptual hashes. AVIF stays with sharp.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import exifr from 'exifr';
import sharp from 'sharp';
import { hammingDistance, perceptualSignature, dot } from '../src/main/core/duplicates/perceptual.js';
import { Library } from '../src/main/core/library.js';
import { decodeHeic, ftypBrands, isHeic, isHeicFile } from '../src/main/core/model/heic.js';
import type { PreprocessCfg } from '../src/main/core/model/model-folder.js';
import { ImageDecodeError, decodeForEmbedding, openImage } from '../src/main/core/model/preprocess.js';
import { scanFolder } from '../src/main/core/scanner/scanner.js';
import { MediaResolver } from '../src/main/core/service/media.js';
import { TEST_MEAN, TEST_STD } from './helpers/test-model.js';

const SAMPLES = fileURLToPath(new URL('../../../shared/data/photos/exif-samples/heic', import.meta.url));
const IPHONE = join(SAMPLES, 'mobile/iphone_13_pro_max.HEIC');
const SMALL = join(SAMPLES, 'samplefilehub.heif');
const missing = (file: string) => (existsSync(file) ? false : `${file} is absent (../shared not available)`);

const CFG: PreprocessCfg = {
  width: 224, height: 224, mean: TEST_MEAN, std: TEST_STD, interpolation: 'bicubic', resizeMode: 'shortest', fillColor: 0,
};

function sampleFiles(): string[] {
  if (!existsSync(SAMPLES)) return [];
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : /\.(heic|heif)$/i.test(e.name) ? [join(dir, e.name)] : []);
  return walk(SAMPLES).sort();
}

/** An ISO-BMFF `ftyp` box followed by filler. */
function ftyp(major: string, ...compatible: string[]): Buffer {
  const size = 16 + 4 * compatible.length;
  const box = Buffer.alloc(size + 32);
  box.writeUInt32BE(size, 0);
  box.write(`ftyp${major}`, 4, 'latin1');
  compatible.forEach((brand, i) => box.write(brand, 16 + 4 * i, 'latin1'));
  return box;
}

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'model-heic-'));
});
after(async () => rm(tmp, { recursive: true, force: true }));

test('HEIC is recognised by its ftyp brands, AVIF and other files are not', () => {
  assert.deepEqual(ftypBrands(ftyp('heic', 'mif1', 'heic')), ['heic', 'mif1', 'heic']);
  const cases: [string, Buffer, boolean][] = [
    ['iPhone', ftyp('heic', 'mif1', 'MiHE', 'MiPr', 'miaf', 'MiHB', 'heic'), true],
    ['heix (10-bit)', ftyp('heix', 'mif1'), true],
    ['generic HEIF with HEVC', ftyp('mif1', 'heic'), true],
    ['generic HEIF only', ftyp('mif1', 'miaf'), true],
    ['HEVC sequence', ftyp('hevc', 'msf1'), true],
    ['unknown major, heic compatible', ftyp('MiHE', 'heic'), true],
    ['AVIF', ftyp('avif', 'mif1', 'miaf', 'MA1B'), false],
    ['AVIF under mif1', ftyp('mif1', 'avif', 'miaf'), false],
    ['AVIF sequence', ftyp('avis', 'msf1'), false],
    ['MP4 video', ftyp('isom', 'iso2', 'mp41'), false],
    ['JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1]), false],
    ['too short', Buffer.from('\0\0\0\x18ftyphe', 'latin1'), false],
  ];
  for (const [name, bytes, expected] of cases) assert.equal(isHeic(bytes), expected, name);
});

test('each HEIC/HEIF sample decodes upright to a tensor and a thumbnail', { skip: missing(SAMPLES) }, async (t) => {
  const files = sampleFiles();
  assert.ok(files.length >= 5, `expected the 5 samples, found ${files.length}`);
  let rotatedByExif = 0;
  for (const file of files) {
    const name = file.slice(SAMPLES.length + 1);
    assert.ok(await isHeicFile(file), `${name} is detected as HEIC`);
    const started = performance.now();
    const decoded = await decodeForEmbedding(file, CFG);
    const ms = performance.now() - started;

    assert.equal(decoded.format, 'heic', name);
    assert.equal(decoded.tensor.length, 3 * 224 * 224, name);
    let min = Infinity;
    let max = -Infinity;
    for (const v of decoded.tensor) {
      assert.ok(Number.isFinite(v), `${name}: finite tensor`);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.ok(max - min > 1, `${name}: the tensor holds a picture (range ${min}..${max})`);

    // Plausible size, and the same as libvips' own HEIF header reader reports (it applies irot/imir too).
    assert.ok(decoded.width >= 100 && decoded.width <= 10000 && decoded.height >= 100 && decoded.height <= 10000, name);
    const header = await sharp(file).metadata();
    assert.deepEqual([decoded.width, decoded.height], [header.width, header.height], `${name}: size as declared`);

    // Rotated exactly once: where EXIF declares an orientation and the sensor size, the photo has the
    // displayed size (EXIF orientation ≥ 5 swaps the sides); applying EXIF after libheif would swap them back.
    const exif = await exifr.parse(file, { pick: ['Orientation', 'ExifImageWidth', 'ExifImageHeight'], translateValues: false });
    if (exif?.Orientation && exif.ExifImageWidth && exif.ExifImageHeight) {
      const swap = exif.Orientation >= 5;
      const expected = swap ? [exif.ExifImageHeight, exif.ExifImageWidth] : [exif.ExifImageWidth, exif.ExifImageHeight];
      assert.deepEqual([decoded.width, decoded.height], expected, `${name}: EXIF orientation ${exif.Orientation} is applied once`);
      if (swap) rotatedByExif++;
    }

    // The thumbnail: a JPEG of the photo's shape, longest side 320.
    const thumb = await sharp(decoded.thumbnail).metadata();
    assert.equal(thumb.format, 'jpeg', name);
    assert.deepEqual([thumb.width, thumb.height], [decoded.thumbnailWidth, decoded.thumbnailHeight], name);
    assert.equal(Math.max(thumb.width, thumb.height), 320, name);
    assert.equal(thumb.width > thumb.height, decoded.width > decoded.height, `${name}: thumbnail orientation`);
    t.diagnostic(`${name}: ${decoded.width}x${decoded.height}, decodeForEmbedding ${ms.toFixed(0)} ms`);
  }
  // iphone_13_pro_max.HEIC: stored 4032x3024 with irot and EXIF Orientation 6 for the same rotation.
  assert.ok(rotatedByExif >= 1, 'a portrait sample stored landscape was checked');
});

test('openImage hands sharp upright raw pixels for HEIC, from a path or a buffer', { skip: missing(SMALL) }, async () => {
  for (const input of [SMALL, await readFile(SMALL)]) {
    const meta = await (await openImage(input)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['raw', 640, 426, 4]);
  }
  const jpeg = await (await openImage(SMALL, { failOn: 'none' })).rotate().resize(100).jpeg().toBuffer();
  const meta = await sharp(jpeg).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 100, 67]);
});

test('perceptual signatures of a HEIC match those of the same picture as JPEG', { skip: missing(SMALL) }, async () => {
  const heic = await perceptualSignature(SMALL);
  const { data, width, height } = await decodeHeic(await readFile(SMALL));
  const jpeg = await sharp(data, { raw: { width, height, channels: 4 } }).jpeg({ quality: 85 }).toBuffer();
  const fromJpeg = await perceptualSignature(jpeg);
  assert.ok(hammingDistance(heic.hash, fromJpeg.hash) <= 4, `dHash distance ${hammingDistance(heic.hash, fromJpeg.hash)}`);
  assert.ok(dot(heic.vector, fromJpeg.vector) > 0.99);
});

test('truncated or corrupt HEIC gives a clear ImageDecodeError, and decoding goes on', async (t) => {
  const cases: [string, Buffer, RegExp][] = [
    // the 'heic' brand and nothing else: libheif finds no image
    ['header only', ftyp('heic', 'mif1', 'heic').subarray(0, 24), /cannot decode image buffer: invalid input/i],
    ['no meta box', Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic'), Buffer.alloc(64)]), /cannot decode image buffer: .*meta/i],
  ];
  if (existsSync(IPHONE)) {
    const photo = readFileSync(IPHONE);
    cases.push(['half an iPhone photo', photo.subarray(0, photo.length >> 1), /cannot decode image buffer: the file is truncated/]);
    cases.push(['cut inside the header', photo.subarray(0, 2000), /cannot decode image buffer: the file is truncated/]);
  }
  if (existsSync(SMALL)) {
    // intact boxes, but the coded picture replaced with garbage
    const photo = Buffer.from(readFileSync(SMALL));
    const mdat = photo.indexOf('mdat', 0, 'latin1');
    photo.fill(7, mdat + 4);
    cases.push(['garbage picture data', photo, /cannot decode image buffer: decoding failed/]);
  } else {
    t.diagnostic(`${SMALL} absent: the real-file cases were skipped`);
  }
  for (const [name, bytes, message] of cases) {
    for (const run of [() => decodeForEmbedding(bytes, CFG), () => openImage(bytes)]) {
      await assert.rejects(run(), (err: Error) => {
        assert.ok(err instanceof ImageDecodeError, `${name}: ${err.name}: ${err.message}`);
        assert.match(err.message, message, name);
        return true;
      });
    }
  }
  // a truncated file on disk names the file
  const file = join(tmp, 'cut.HEIC');
  await writeFile(file, cases[cases.length - 1][1].subarray(0, 1000));
  await assert.rejects(decodeForEmbedding(file, CFG), /cannot decode cut\.HEIC: /);
  if (existsSync(SMALL)) {
    const decoded = await decodeForEmbedding(SMALL, CFG); // the failed decoders were replaced
    assert.equal(decoded.width, 640);
  }
});

test('AVIF still goes to sharp', async () => {
  const avif = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 40 } } }).avif().toBuffer();
  assert.equal(isHeic(avif), false);
  const decoded = await decodeForEmbedding(avif, CFG);
  assert.equal(decoded.format, 'heif'); // sharp's name for AVIF
  assert.deepEqual([decoded.width, decoded.height], [64, 48]);
  const meta = await (await openImage(avif)).metadata();
  assert.deepEqual([meta.format, meta.compression], ['heif', 'av1']);
});

test('the UI gets a JPEG full view and a thumbnail of a HEIC, even one named .jpg', { skip: missing(IPHONE) }, async () => {
  const photos = join(tmp, 'photos');
  await mkdir(photos, { recursive: true });
  await copyFile(IPHONE, join(photos, 'iphone.HEIC'));
  await copyFile(IPHONE, join(photos, 'renamed.jpg'));
  const library = Library.open(join(tmp, 'library'));
  try {
    await scanFolder(library.catalogue, library.catalogue.addFolder(photos));
    const media = new MediaResolver(library);
    for (const name of ['iphone.HEIC', 'renamed.jpg']) {
      const id = library.catalogue.photoIdByPath(join(photos, name));
      assert.ok(id !== null, name);
      const full = await media.resolve('full', id);
      assert.ok(full && full.path !== join(photos, name), `${name}: converted, not served as is`);
      assert.equal(full.contentType, 'image/jpeg');
      const fullMeta = await sharp(full.path).metadata();
      assert.deepEqual([fullMeta.format, fullMeta.width, fullMeta.height], ['jpeg', 3024, 4032], name);
      if (name !== 'iphone.HEIC') continue; // one thumbnail is enough (each costs a full decode)
      const thumb = await media.resolve('thumb', id);
      assert.ok(thumb, name);
      const thumbMeta = await sharp(thumb.path).metadata();
      assert.deepEqual([thumbMeta.format, thumbMeta.width, thumbMeta.height], ['jpeg', 240, 320], name);
    }
  } finally {
    library.close();
  }
});
