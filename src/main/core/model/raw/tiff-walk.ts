// Walks the image file directories of a TIFF-structured camera RAW (CR2, NEF, ARW, DNG, ORF, RW2, PEF,
// SRW…) and collects what the preview reader needs: the byte ranges that may hold an embedded JPEG, the
// Orientation and Make of IFD0, and whether the file carries sensor data (so that a plain TIFF is left to
// libvips). Hostile files: every offset is clamped to the source, each directory is visited once (loops
// end), at most MAX_IFDS directories and MAX_ENTRIES entries each are read.
import type { ByteSource } from './byte-source.js';

export const MAX_IFDS = 64;
const MAX_ENTRIES = 1024;
/** Values read from one entry at most (SubIFD lists, strip lists). */
const MAX_VALUES = 256;

const TAG = {
  newSubfileType: 254, compression: 259, photometric: 262, make: 271, stripOffsets: 273, orientation: 274,
  stripByteCounts: 279, subIfds: 330, jpegOffset: 513, jpegLength: 514, exifIfd: 34665, dngVersion: 50706,
  /** Panasonic RW2: the camera's JPEG, stored whole as the entry's value. */
  panasonicJpgFromRaw: 46,
} as const;

/** TIFF compressions meaning JPEG data (old-style and new-style JPEG). */
const JPEG_COMPRESSION = new Set([6, 7]);
/** Photometric interpretations of sensor data: colour filter array, linear raw (DNG). */
const SENSOR_PHOTOMETRIC = new Set([32803, 34892]);
/** Compression codes at and above this are vendor RAW codecs (Sony 32767, Nikon 34713, Pentax 65535…). */
const VENDOR_COMPRESSION = 32767;

const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };

export interface ByteRange {
  offset: number;
  length: number;
}

export interface TiffFindings {
  /** Byte ranges that a directory says hold JPEG data (not validated yet). */
  candidates: ByteRange[];
  /** IFD0's Orientation (1–8), null when absent or out of range. */
  orientation: number | null;
  make: string | null;
  dng: boolean;
  /** A directory holds sensor data (CFA or linear raw, a vendor codec, or a DNG version). */
  hasSensorData: boolean;
  /** A range a directory named ended past the end of the file (a truncated copy, or a hostile one). */
  pastEnd: boolean;
}

interface Entry {
  type: number;
  count: number;
  /** Where the value lies: inside the entry (4 bytes) when it fits, else at the offset it holds. */
  valueAt: number;
}

class TiffReader {
  constructor(
    readonly source: ByteSource,
    readonly littleEndian: boolean,
  ) {}

  u16(b: Buffer, at: number): number {
    return this.littleEndian ? b.readUInt16LE(at) : b.readUInt16BE(at);
  }

  u32(b: Buffer, at: number): number {
    return this.littleEndian ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }

  /** The entries of the directory at `offset` and the offset of the next one (0: none); null if unreadable. */
  async directory(offset: number): Promise<{ entries: Map<number, Entry>; next: number } | null> {
    const countBytes = await this.source.read(offset, 2);
    if (countBytes.length < 2) return null;
    const count = Math.min(this.u16(countBytes, 0), MAX_ENTRIES);
    if (count === 0) return null;
    const raw = await this.source.read(offset + 2, count * 12 + 4);
    const whole = Math.floor(raw.length / 12);
    const entries = new Map<number, Entry>();
    for (let i = 0; i < Math.min(count, whole); i++) {
      const at = i * 12;
      const type = this.u16(raw, at + 2);
      const entryCount = this.u32(raw, at + 4);
      const size = (TYPE_SIZES[type] ?? 0) * entryCount;
      if (size === 0) continue;
      const valueAt = size <= 4 ? offset + 2 + at + 8 : this.u32(raw, at + 8);
      entries.set(this.u16(raw, at), { type, count: entryCount, valueAt });
    }
    const next = raw.length >= count * 12 + 4 && whole >= count ? this.u32(raw, count * 12) : 0;
    return { entries, next };
  }

  /** Unsigned integer values of a BYTE, SHORT, LONG or IFD entry (at most MAX_VALUES). */
  async numbers(entry: Entry | undefined): Promise<number[]> {
    if (!entry || ![1, 3, 4, 13].includes(entry.type)) return [];
    const size = TYPE_SIZES[entry.type];
    const count = Math.min(entry.count, MAX_VALUES);
    const bytes = await this.source.read(entry.valueAt, count * size);
    const out: number[] = [];
    for (let at = 0; at + size <= bytes.length; at += size) {
      out.push(size === 1 ? bytes[at] : size === 2 ? this.u16(bytes, at) : this.u32(bytes, at));
    }
    return out;
  }

  async text(entry: Entry | undefined): Promise<string | null> {
    if (!entry || entry.type !== 2) return null;
    const bytes = await this.source.read(entry.valueAt, Math.min(entry.count, 256));
    const text = bytes.toString('latin1').split('\0')[0].trim();
    return text || null;
  }
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
