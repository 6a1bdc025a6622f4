// What the app needs to know of a JPEG embedded in another file, read from its markers alone: its pixel
// size (the SOF segment), and a copy of it carrying a given EXIF orientation.
import type { ByteSource } from './byte-source.js';

/** Segments walked before giving up on finding the frame header. */
const MAX_SEGMENTS = 256;

export interface JpegSize {
  width: number;
  height: number;
}

/**
 * The frame size of the JPEG lying at [offset, offset + length) of the source, or why it is not one
 * libjpeg decodes. Only Huffman-coded baseline, extended and progressive frames count: a RAW's lossless
 * JPEG (SOF3, the sensor data of CR2 and DNG) and arithmetic or hierarchical frames are not previews.
 */
export async function jpegSize(source: ByteSource, offset: number, length: number): Promise<JpegSize | string> {
  const end = offset + length;
  const soi = await source.read(offset, 2);
  if (soi.length < 2 || soi[0] !== 0xff || soi[1] !== 0xd8) return 'no JPEG start marker';
  let at = offset + 2;
  for (let n = 0; n < MAX_SEGMENTS && at + 4 <= end; n++) {
    const head = await source.read(at, 4);
    if (head.length < 4 || head[0] !== 0xff) return 'broken JPEG markers';
    const marker = head[1];
    if (marker === 0xff) { at += 1; continue; } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; } // no length
    if (marker === 0xda || marker === 0xd9) return 'no JPEG frame header';
    const segmentLength = head.readUInt16BE(2);
    if (segmentLength < 2) return 'broken JPEG markers';
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (marker > 0xc2) return `a JPEG coding libjpeg does not decode (SOF${marker - 0xc0})`;
      const sof = await source.read(at + 4, 6);
      if (sof.length < 6) return 'broken JPEG markers';
      const height = sof.readUInt16BE(1);
      const width = sof.readUInt16BE(3);
      const components = sof[5];
      if (!width || !height) return 'a JPEG without its size';
      if (components !== 1 && components !== 3) return `a JPEG of ${components} components`;
      return { width, height };
    }
    at += 2 + segmentLength;
  }
  return 'no JPEG frame header';
}

/** An EXIF APP1 segment holding only IFD0 with one Orientation entry (little-endian TIFF). */
function orientationSegment(orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4); // IFD0 offset
  tiff.writeUInt16LE(1, 8); // one entry
  tiff.writeUInt16LE(274, 10); // Orientation
  tiff.writeUInt16LE(3, 12); // SHORT
  tiff.writeUInt32LE(1, 14);
  tiff.writeUInt16LE(orientation, 18);
  tiff.writeUInt32LE(0, 22); // no next IFD
  const header = Buffer.alloc(10);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(2 + 6 + tiff.length, 2);
  header.write('Exif\0\0', 4, 'latin1');
  return Buffer.concat([header, tiff]);
}

/**
 * The JPEG with its own EXIF segments replaced by one saying `orientation` (EXIF's 1–8), so decoders
 * that apply EXIF orientation turn it as the RAW it came from says. The entropy-coded data is copied
 * untouched. Returns the JPEG unchanged when its markers cannot be followed.
 */
export function withOrientation(jpeg: Buffer, orientation: number): Buffer {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return jpeg;
  const kept: Buffer[] = [jpeg.subarray(0, 2), orientationSegment(orientation)];
  let at = 2;
  for (let n = 0; n < MAX_SEGMENTS && at + 4 <= jpeg.length; n++) {
    if (jpeg[at] !== 0xff) return jpeg;
    const marker = jpeg[at + 1];
    if (marker === 0xda || marker === 0xd9 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0xff) break;
    const next = at + 2 + jpeg.readUInt16BE(at + 2);
    if (next > jpeg.length) return jpeg;
    const isExif = marker === 0xe1 && jpeg.toString('latin1', at + 4, at + 10) === 'Exif\0\0';
    if (!isExif) kept.push(jpeg.subarray(at, next));
    at = next;
  }
  kept.push(jpeg.subarray(at));
  return Buffer.concat(kept);
}
