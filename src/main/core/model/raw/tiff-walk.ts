// Walks the image file directories of a TIFF-structured camera RAW (CR2, NEF, ARW, DNG, ORF, RW2, PEF,
// SRW…) and collects what the preview reader needs: the byte ranges that may hold an embedded JPEG, the
// Orientation and Make of IFD0, and whether the file carries sensor data (so that a plain TIFF is left to
// libvips). Hostile files: every offset is clamped to the source, each directory is visited once (loops
// end), at most MAX_IFDS directories and MAX_ENTRIES entries each are read.
import type { ByteSource } from './byte-source.js';
import { makerNotePreviews } from './makernotes.js';
import { TiffReader, type ByteRange } from './tiff-reader.js';

export type { ByteRange } from './tiff-reader.js';

export const MAX_IFDS = 64;

const TAG = {
  newSubfileType: 254, compression: 259, photometric: 262, make: 271, stripOffsets: 273, orientation: 274,
  stripByteCounts: 279, subIfds: 330, jpegOffset: 513, jpegLength: 514, exifIfd: 34665, dngVersion: 50706,
  /** Panasonic RW2: the camera's JPEG, stored whole as the entry's value. */
  panasonicJpgFromRaw: 46,
  makerNote: 37500,
} as const;

/** TIFF compressions meaning JPEG data (old-style and new-style JPEG). */
const JPEG_COMPRESSION = new Set([6, 7]);
/** Photometric interpretations of sensor data: colour filter array, linear raw (DNG). */
const SENSOR_PHOTOMETRIC = new Set([32803, 34892]);
/** Compression codes at and above this are vendor RAW codecs (Sony 32767, Nikon 34713, Pentax 65535…). */
const VENDOR_COMPRESSION = 32767;

export interface TiffFindings {
  /** Byte ranges that a directory says hold JPEG data (not validated yet). */
  candidates: ByteRange[];
  /** IFD0's Orientation (1–8), null when absent or out of range. */
  orientation: number | null;
  make: string | null;
  dng: boolean;
  /** A directory holds sensor data (CFA or linear raw, a vendor codec, or a DNG version), or IFD0 is a
   * camera's reduced-resolution copy: a camera RAW, not a TIFF photo. */
  hasSensorData: boolean;
  /** A range a directory named ended past the end of the file (a truncated copy, or a hostile one). */
  pastEnd: boolean;
}

/** Byte order and magic number of a TIFF-structured file, or null when it is not one. */
export function tiffHeader(head: Buffer): { littleEndian: boolean; magic: number; ifd0: number } | null {
  if (head.length < 8) return null;
  const order = head.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const littleEndian = order === 'II';
  const magic = littleEndian ? head.readUInt16LE(2) : head.readUInt16BE(2);
  // 42: TIFF; 0x4f52 / 0x5352 ("RO"/"RS" read little-endian): Olympus ORF; 0x55: Panasonic RW2 / RWL.
  if (magic !== 42 && magic !== 0x4f52 && magic !== 0x5352 && magic !== 0x55) return null;
  return { littleEndian, magic, ifd0: littleEndian ? head.readUInt32LE(4) : head.readUInt32BE(4) };
}

/** Walks IFD0, its chain (IFD1…), SubIFDs and the EXIF IFD. */
export async function walkTiff(source: ByteSource, header: { littleEndian: boolean; ifd0: number }): Promise<TiffFindings> {
  const reader = new TiffReader(source, header.littleEndian);
  const findings: TiffFindings = { candidates: [], orientation: null, make: null, dng: false, hasSensorData: false, pastEnd: false };
  const visited = new Set<number>();
  const queue: number[] = [header.ifd0];
  while (queue.length > 0 && visited.size < MAX_IFDS) {
    const offset = queue.shift()!;
    if (offset < 8 || offset >= source.size || visited.has(offset)) continue;
    const isIfd0 = visited.size === 0;
    visited.add(offset);
    const dir = await reader.directory(offset);
    if (!dir) continue;
    const { entries } = dir;
    if (isIfd0) {
      const [orientation] = await reader.numbers(entries.get(TAG.orientation));
      findings.orientation = orientation >= 1 && orientation <= 8 ? orientation : null;
      findings.make = await reader.text(entries.get(TAG.make));
      findings.dng = entries.has(TAG.dngVersion);
    }
    const [compression] = await reader.numbers(entries.get(TAG.compression));
    const [photometric] = await reader.numbers(entries.get(TAG.photometric));
    if (findings.dng || SENSOR_PHOTOMETRIC.has(photometric) || compression >= VENDOR_COMPRESSION) findings.hasSensorData = true;
    // A camera's file whose first image is only a reduced copy: the picture is elsewhere (libvips would
    // decode the thumbnail as the photo).
    const [subfileType] = await reader.numbers(entries.get(TAG.newSubfileType));
    if (isIfd0 && findings.make && subfileType & 1) findings.hasSensorData = true;

    const add = (offset: number | undefined, length: number | undefined): void => {
      if (!offset || !length) return;
      if (offset + length > source.size) findings.pastEnd = true;
      else findings.candidates.push({ offset, length });
    };
    const [jpegOffset] = await reader.numbers(entries.get(TAG.jpegOffset));
    const [jpegLength] = await reader.numbers(entries.get(TAG.jpegLength));
    add(jpegOffset, jpegLength);
    if (JPEG_COMPRESSION.has(compression)) {
      const strip = contiguous(await reader.numbers(entries.get(TAG.stripOffsets)), await reader.numbers(entries.get(TAG.stripByteCounts)));
      add(strip?.offset, strip?.length);
    }
    const embedded = entries.get(TAG.panasonicJpgFromRaw);
    if (isIfd0 && embedded && embedded.type === 7) add(embedded.valueAt, embedded.count);
    const makerNote = entries.get(TAG.makerNote);
    if (makerNote) for (const range of await makerNotePreviews(source, makerNote.valueAt, header.littleEndian)) add(range.offset, range.length);

    queue.push(...(await reader.numbers(entries.get(TAG.subIfds))));
    const [exif] = await reader.numbers(entries.get(TAG.exifIfd));
    if (exif) queue.push(exif);
    if (dir.next) queue.push(dir.next);
  }
  return findings;
}

/** Strips that follow one another as one range (a JPEG split into strips); null when they do not. */
function contiguous(offsets: number[], counts: number[]): ByteRange | null {
  if (offsets.length === 0 || offsets.length !== counts.length) return null;
  let end = offsets[0];
  for (let i = 0; i < offsets.length; i++) {
    if (offsets[i] !== end) return null;
    end += counts[i];
  }
  return { offset: offsets[0], length: end - offsets[0] };
}
