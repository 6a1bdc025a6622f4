// Camera RAW through its embedded JPEG preview: which JPEG is chosen, the orientation applied, what is
// reported when there is none worth using, and hostile or truncated files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { readMetadata } from '../src/main/core/metadata.js';
import { decodeForEmbedding, ImageDecodeError, renderJpeg, UnsupportedFormatError } from '../src/main/core/model/preprocess.js';
import { bufferSource, withFileSource } from '../src/main/core/model/raw/byte-source.js';
import { jpegSize } from '../src/main/core/model/raw/jpeg-info.js';
import { RawPreviewError, readRawPreview } from '../src/main/core/model/raw/raw-preview.js';
import { tiffHeader, walkTiff } from '../src/main/core/model/raw/tiff-walk.js';
import type { PreprocessCfg } from '../src/main/core/model/model-folder.js';
import { prng, tempDir } from './helpers/fixtures.js';
import { buildCr3, buildRaf, buildTiff, nefLike, quadrantJpeg, RAW_FIXTURES, redCorner, withPreviewAppended, type TiffIfd } from './helpers/raw-files.js';

const CFG: PreprocessCfg = {
  width: 224, height: 224, mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711],
  interpolation: 'bicubic', resizeMode: 'shortest', fillColor: 0,
} as PreprocessCfg;

async function preview(bytes: Buffer) {
  return readRawPreview(bufferSource(bytes));
}

test('raw: the largest embedded JPEG is chosen, little- and big-endian TIFF alike', async () => {
  const large = await quadrantJpeg(640, 480);
  for (const littleEndian of [true, false]) {
    const found = await preview(await nefLike(large, { littleEndian }));
    assert.ok(found);
    assert.equal(found.format, 'nef');
    assert.deepEqual([found.width, found.height], [640, 480], 'the SubIFD preview, not the 160×120 thumbnail');
    assert.deepEqual(await sharp(found.jpeg).metadata().then((m) => [m.width, m.height]), [640, 480]);
  }
});

test('raw: IFD0 strips, IFD1 and SubIFD JPEGs are all candidates; a lossless-JPEG raw strip is not a preview', async () => {
  const medium = await quadrantJpeg(400, 300);
  const small = await quadrantJpeg(160, 120);
  // What a DNG's sensor data looks like: a lossless JPEG (SOF3) frame, larger than any preview.
  const lossless = Buffer.from([0xff, 0xd8, 0xff, 0xc3, 0x00, 0x0b, 0x08, 0x10, 0x00, 0x10, 0x00, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]);
  const sensor = { entries: { 254: [0], 259: [7], 262: [32803], 273: { at: lossless }, 279: [lossless.length] } };
  const cr2 = buildTiff(
    { entries: { 259: [6], 271: 'Canon', 273: { at: medium }, 279: [medium.length] }, next: { entries: { 513: { at: small }, 514: [small.length] }, next: sensor } },
    { extraHeader: Buffer.from('CR\x02\x00\x00\x00\x00\x00', 'latin1') },
  );
  const found = await preview(cr2);
  assert.equal(found?.format, 'cr2');
  assert.deepEqual([found?.width, found?.height], [400, 300]);
  assert.equal(await jpegSize(bufferSource(lossless), 0, lossless.length), 'a JPEG coding libjpeg does not decode (SOF3)');

  const dng = buildTiff({ entries: { 254: [1], 259: [1], 262: [2], 50706: [1, 4, 0, 0], 330: { ifds: [sensor, { entries: { 259: [7], 273: { at: medium }, 279: [medium.length] } }] } } }, { littleEndian: false });
  const fromDng = await preview(dng);
  assert.equal(fromDng?.format, 'dng');
  assert.deepEqual([fromDng?.width, fromDng?.height], [400, 300]);
});

test('raw: the RAW\'s orientation is applied exactly as EXIF orientation is to a JPEG, replacing the preview\'s own', async () => {
  const picture = await quadrantJpeg(320, 240);
  for (let orientation = 1; orientation <= 8; orientation++) {
    const expected = await redCorner(await sharp(await sharp(picture).withMetadata({ orientation }).toBuffer()).rotate().toBuffer());
    // The preview says 3 (upside down) itself: the RAW's tag wins.
    const raw = await nefLike(await sharp(picture).withMetadata({ orientation: 3 }).jpeg().toBuffer(), { orientation });
    const thumb = await renderJpeg(raw, 400, 90);
    assert.equal(await redCorner(thumb), expected, `orientation ${orientation}`);
    const { width, height } = await sharp(thumb).metadata();
    assert.deepEqual([width, height], orientation >= 5 ? [240, 320] : [320, 240], `orientation ${orientation}`);
  }
});

test('raw: decoded for embedding through the preview, upright, the format named', async () => {
  // The camera's JPEG says orientation 6 too, so the same bytes decoded as a plain JPEG are the reference.
  const jpeg = await sharp(await quadrantJpeg(640, 480)).withMetadata({ orientation: 6 }).jpeg().toBuffer();
  const decoded = await decodeForEmbedding(await nefLike(jpeg, { orientation: 6 }), CFG, { thumbSize: 320 });
  assert.equal(decoded.format, 'nef');
  assert.deepEqual([decoded.width, decoded.height], [480, 640]);
  assert.deepEqual([decoded.thumbnailWidth, decoded.thumbnailHeight], [240, 320]);
  assert.equal(await redCorner(decoded.thumbnail), 'top-right', 'rotated 90° clockwise');
  const reference = await decodeForEmbedding(jpeg, CFG, { thumbSize: 320 });
  assert.deepEqual(decoded.tensor, reference.tensor);
});

test('raw: Panasonic RW2 (magic 0x55, JPEG as the value of tag 0x2e) and Fujifilm RAF', async () => {
  const jpeg = await quadrantJpeg(600, 400);
  const rw2 = buildTiff({ entries: { 46: jpeg, 271: 'Panasonic', 274: [8] } }, { magic: 0x55 });
  const fromRw2 = await preview(rw2);
  assert.equal(fromRw2?.format, 'rw2');
  assert.equal(await redCorner(await renderJpeg(rw2, 600, 90)), 'bottom-left', 'orientation 8: 90° counter-clockwise');

  // RAF's JPEG is the camera's own, with its EXIF orientation.
  const raf = buildRaf(await sharp(jpeg).withMetadata({ orientation: 3 }).toBuffer());
  const fromRaf = await preview(raf);
  assert.equal(fromRaf?.format, 'raf');
  assert.equal(await redCorner(await renderJpeg(raf, 600, 90)), 'bottom-right');
});

test('raw: previews in maker notes: Olympus ORF (offsets from the maker note) and Pentax PEF (from the file)', async () => {
  const jpeg = await quadrantJpeg(640, 480);
  const sensor = { 262: [32803], 259: [1] };
  // Olympus: the preview sits inside the maker note's own data here, its offset counted from the maker note.
  for (const littleEndian of [true, false]) {
    const settings: TiffIfd = { entries: { 0x100: [1], 0x101: { at: jpeg }, 0x102: [jpeg.length] } };
    const makerNote = buildTiff({ entries: { 0x2020: { ifds: [settings] } } }, { littleEndian, header: Buffer.from(`OLYMPUS\0${littleEndian ? 'II' : 'MM'}\x03\0`, 'latin1') });
    const orf = buildTiff({ entries: { ...sensor, 271: 'OM Digital Solutions', 274: [6], 34665: { ifds: [{ entries: { 37500: makerNote } }] } } }, { magic: 0x4f52 });
    const found = await preview(orf);
    assert.equal(found?.format, 'orf');
    assert.deepEqual([found?.width, found?.height], [640, 480]);
    assert.equal(await redCorner(await renderJpeg(orf, 640, 90)), 'top-right');
  }
  // Pentax: offsets from the file's start, so the maker note is built twice: the second time knowing where the JPEG landed.
  const pef = (start: number): Buffer => {
    const makerNote = buildTiff({ entries: { 0x0003: { long: jpeg.length }, 0x0004: { long: start } } }, { littleEndian: false, header: Buffer.from('AOC\0MM', 'latin1') });
    return buildTiff({ entries: { ...sensor, 271: 'PENTAX', 34665: { ifds: [{ entries: { 37500: makerNote } }] }, 50000: { at: jpeg } } });
  };
  const placed = pef(pef(0).indexOf(jpeg));
  const found = await preview(placed);
  assert.equal(found?.format, 'pef');
  assert.deepEqual([found?.width, found?.height], [640, 480]);
});

test('raw: Canon CR3 uses the PRVW preview over the THMB thumbnail, turned by CMT1\'s orientation', async () => {
  const cr3 = buildCr3({ preview: await quadrantJpeg(540, 360), thumbnail: await quadrantJpeg(160, 120), orientation: 6 });
  const found = await preview(cr3);
  assert.equal(found?.format, 'cr3');
  assert.deepEqual([found?.width, found?.height], [540, 360]);
  const decoded = await decodeForEmbedding(cr3, CFG);
  assert.deepEqual([decoded.width, decoded.height], [360, 540]);
  assert.equal(await redCorner(decoded.thumbnail), 'top-right');
});

test('raw: a RAW whose only preview is too small for CLIP is reported with its size', async () => {
  const raw = await nefLike(await quadrantJpeg(200, 150));
  await assert.rejects(preview(raw), (err: Error) => err instanceof RawPreviewError && err.message === 'RAW without a usable embedded preview (largest 200×150)');
  await assert.rejects(decodeForEmbedding(raw, CFG), (err: Error) =>
    err instanceof UnsupportedFormatError && err.format === 'nef' && /image buffer: RAW without a usable embedded preview \(largest 200×150\)/.test(err.message));
  const none = buildTiff({ entries: { 262: [32803], 271: 'SONY' } });
  await assert.rejects(preview(none), /^RawPreviewError: RAW without a usable embedded preview \(none found\)$/);
});

test('raw: plain TIFF and JPEG files are not RAWs and keep their own decoders', async () => {
  const tiff = await sharp(await quadrantJpeg(64, 48)).tiff().toBuffer();
  assert.equal(await preview(tiff), null);
  assert.equal((await decodeForEmbedding(tiff, CFG)).format, 'tiff');
  assert.equal(await preview(await quadrantJpeg(64, 48)), null);
  // A camera's TIFF whose IFD0 is only a reduced copy is a RAW, even with no sensor data tag seen.
  const jpeg = await quadrantJpeg(640, 480);
  const kodak = buildTiff({ entries: { 254: [1], 259: [1], 262: [2], 271: 'EASTMAN KODAK COMPANY' }, next: { entries: { 513: { at: jpeg }, 514: [jpeg.length] } } });
  assert.equal((await preview(kodak))?.format, 'dcr');
});

test('raw: hostile files: a preview past the end, directory loops, files cut short, random damage', async () => {
  const jpeg = await quadrantJpeg(640, 480);
  // The preview's length runs past the end: truncated, an error to retry when the file changes.
  const pastEnd = buildTiff({ entries: { 262: [32803], 513: { at: jpeg }, 514: [jpeg.length + 100_000] } });
  await assert.rejects(preview(pastEnd), (err: Error) => err instanceof RawPreviewError && err.truncated && /past the end of the file/.test(err.message));
  await assert.rejects(decodeForEmbedding(pastEnd, CFG), ImageDecodeError);
  // An offset far outside the file.
  const farAway = buildTiff({ entries: { 262: [32803], 513: { long: 0xfffffff0 }, 514: [1000] } });
  await assert.rejects(preview(farAway), /past the end/);

  // Loops: IFD0's chain points back to itself, a SubIFD points to IFD0; each directory is read once.
  const ifd0: TiffIfd = { entries: { 262: [32803], 513: { at: jpeg }, 514: [jpeg.length], 330: { long: 8 } }, next: { offset: 8 } };
  const looped = buildTiff(ifd0);
  assert.equal((await preview(looped))?.width, 640);
  const header = tiffHeader(looped)!;
  const walked = await walkTiff(bufferSource(looped), header);
  assert.equal(walked.candidates.length, 1, 'IFD0 read once');

  // Cut short anywhere, and bytes damaged at random: only RawPreviewError, null or a preview, never a crash or a hang.
  const wholes = [await nefLike(jpeg), buildCr3({ preview: jpeg, thumbnail: await quadrantJpeg(160, 120), orientation: 6 }), buildRaf(jpeg)];
  const random = prng(12);
  const outcomes = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const whole = wholes[i % wholes.length];
    const bytes = Buffer.from(i < 200 ? whole.subarray(0, Math.floor(random() * whole.length)) : whole);
    if (i >= 200) for (let k = 0; k < 1 + (i % 8); k++) bytes[Math.floor(random() * Math.min(bytes.length, 600))] = Math.floor(random() * 256);
    try {
      const found = await preview(bytes);
      outcomes.add(found ? 'preview' : 'not a raw');
    } catch (err) {
      assert.ok(err instanceof RawPreviewError, `only RawPreviewError: ${(err as Error).stack}`);
      outcomes.add('reported');
    }
  }
  assert.ok(outcomes.has('reported') && outcomes.has('preview'), [...outcomes].join());
});

test('raw: read from a file a piece at a time, as from a buffer', async (t) => {
  const dir = tempDir(t, 'raw-file-');
  const file = path.join(dir, 'a.nef');
  // The preview lies after 1 MB of other data, past the first blocks read.
  const padding = Buffer.alloc(1024 * 1024, 0x55);
  const jpeg = await quadrantJpeg(640, 480);
  const good = buildTiff({ entries: { 262: [32803], 271: 'NIKON', 330: { ifds: [
    { entries: { 259: [1], 273: { at: padding }, 279: [padding.length] } },
    { entries: { 259: [6], 513: { at: jpeg }, 514: [jpeg.length] } },
  ] } } });
  writeFileSync(file, good);
  const fromFile = await withFileSource(file, readRawPreview);
  const fromBuffer = await readRawPreview(bufferSource(good));
  assert.ok(fromFile && fromBuffer);
  assert.deepEqual(fromFile.jpeg, fromBuffer.jpeg);
  assert.equal(await redCorner(await renderJpeg(file, 320, 90)), 'top-left');
});

test('raw: EXIF from the RAW itself: date, camera and GPS of a TIFF-structured RAW and of a CR3', async () => {
  const gps: TiffIfd = { entries: { 1: 'N', 2: { rationals: [48, 51, 29.5] }, 3: 'W', 4: { rationals: [2, 17, 40.2] } } };
  const nef = buildTiff({ entries: { 262: [32803], 271: 'NIKON CORPORATION', 272: 'NIKON Z 6', 274: [8], 34665: { ifds: [{ entries: { 36867: '2024:05:17 10:11:12' } }] }, 34853: { ifds: [gps] } } });
  const meta = await readMetadata(nef);
  assert.deepEqual([meta.cameraMake, meta.cameraModel, meta.orientation], ['NIKON CORPORATION', 'NIKON Z 6', 8]);
  assert.equal(new Date(meta.takenAt!).toISOString(), '2024-05-17T10:11:12.000Z');
  assert.ok(Math.abs(meta.gpsLat! - (48 + 51 / 60 + 29.5 / 3600)) < 1e-6 && Math.abs(meta.gpsLon! + (2 + 17 / 60 + 40.2 / 3600)) < 1e-6, `${meta.gpsLat}, ${meta.gpsLon}`);

  const cr3 = buildCr3({ preview: await quadrantJpeg(540, 360), orientation: 3, exif: { 36867: '2023:12:24 18:00:01' }, gps: gps.entries });
  const fromCr3 = await readMetadata(cr3);
  assert.deepEqual([fromCr3.cameraMake, fromCr3.cameraModel, fromCr3.orientation], ['Canon', 'Canon EOS R5', 3]);
  assert.equal(new Date(fromCr3.takenAt!).toISOString(), '2023-12-24T18:00:01.000Z');
  assert.ok(Math.abs(fromCr3.gpsLat! - meta.gpsLat!) < 1e-9 && Math.abs(fromCr3.gpsLon! - meta.gpsLon!) < 1e-9);
});

// ExifTool's sample RAWs (test/fixtures/raw/README.md): real containers whose image data are placeholders.
test('raw: real RAW containers: previews located where ExifTool finds them, placeholders reported, EXIF read', async () => {
  const read = (name: string): Buffer => readFileSync(path.join(RAW_FIXTURES, name));
  const ranges = async (name: string) => {
    const bytes = read(name);
    return (await walkTiff(bufferSource(bytes), tiffHeader(bytes)!)).candidates;
  };
  // Offsets and lengths as `exiftool -v2` prints them.
  assert.ok((await ranges('Nikon.nef')).some((r) => r.offset === 1120 && r.length === 29), 'NEF SubIFD JpgFromRaw');
  assert.ok((await ranges('CanonRaw.cr2')).some((r) => r.offset === 8680 && r.length === 26), 'CR2 IFD0 preview strip');
  const dng = await ranges('DNG.dng');
  assert.ok(dng.some((r) => r.offset === 12780 && r.length === 26) && dng.some((r) => r.offset === 13070 && r.length === 29), 'DNG SubIFD previews');

  // The same containers with a real JPEG where their placeholder was: found through the real structure.
  const jpeg = await quadrantJpeg(640, 480);
  const patched: [string, Buffer][] = [
    ['nef', withPreviewAppended(read('Nikon.nef'), 1120, 29, jpeg)],
    ['cr2', withPreviewAppended(read('CanonRaw.cr2'), 8680, 26, jpeg, { tags: [273, 279] })],
    ['dng', withPreviewAppended(read('DNG.dng'), 13070, 29, jpeg, { tags: [273, 279], littleEndian: false })],
  ];
  for (const [format, bytes] of patched) {
    const found = await preview(bytes);
    assert.deepEqual([found?.format, found?.width, found?.height], [format, 640, 480], format);
  }

  const expected: Record<string, [string, RegExp, string, string]> = {
    'Nikon.nef': ['nef', /not a JPEG that can be decoded: no JPEG start marker/, 'NIKON D70', '2004-06-09T16:02:35'],
    'CanonRaw.cr2': ['cr2', /none of its 4 embedded images is a JPEG/, 'Canon EOS 350D DIGITAL', '2005-08-03T18:59:18'],
    'DNG.dng': ['dng', /none of its 2 embedded images is a JPEG/, 'Canon EOS 350D DIGITAL', '2005-08-03T18:59:18'],
    'Panasonic.rw2': ['rw2', /\(largest 8×8\)/, 'DMC-LX3', '2008-08-06T15:21:56'],
    'FujiFilm.raf': ['raf', /\(largest 8×8\)/, 'FinePix S5Pro', '2007-05-22T13:58:30'],
    'CanonRaw.cr3': ['cr3', /\(none found\)/, 'Canon EOS M50', '2018-02-21T12:08:56'],
  };
  for (const [name, [format, reason, model, taken]] of Object.entries(expected)) {
    await assert.rejects(withFileSource(path.join(RAW_FIXTURES, name), readRawPreview), (err: Error) =>
      err instanceof RawPreviewError && err.format === format && reason.test(err.message), name);
    const meta = await readMetadata(read(name));
    assert.equal(meta.cameraModel, model, name);
    assert.equal(new Date(meta.takenAt!).toISOString().slice(0, 19), taken, name);
    assert.equal(meta.orientation, 1, name);
  }
});
