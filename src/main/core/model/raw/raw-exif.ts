// Where a RAW's EXIF lies when it is not a TIFF structure that exifr walks by itself: Fujifilm RAF
// keeps it in its embedded JPEG, Canon CR3 in its CMT boxes (each a small TIFF). Reads are bounded.
import { HEADER_BYTES } from '../heic.js';
import type { ByteSource } from './byte-source.js';
import { isCr3, readCr3, type Cr3MetadataBox } from './cr3.js';
import { rafJpegRange } from './raf.js';

/** EXIF lives in a JPEG's APP1 segment, at most 64 KiB, near its start. */
const JPEG_HEAD_BYTES = 128 * 1024;
const MAX_BOX_BYTES = 1024 * 1024;

export type RawExifBlocks = { jpeg: Buffer } | { cr3: Partial<Record<Cr3MetadataBox, Buffer>> };

/** The blocks holding a RAF's or CR3's EXIF; null for any other file. */
export async function rawExifBlocks(source: ByteSource): Promise<RawExifBlocks | null> {
  const head = await source.read(0, HEADER_BYTES);
  const raf = rafJpegRange(head);
  if (raf) return { jpeg: await source.read(raf.offset, Math.min(raf.length, JPEG_HEAD_BYTES)) };
  if (!isCr3(head)) return null;
  const cr3: Partial<Record<Cr3MetadataBox, Buffer>> = {};
  for (const [box, range] of Object.entries((await readCr3(source)).metadata)) {
    cr3[box as Cr3MetadataBox] = await source.read(range.offset, Math.min(range.length, MAX_BOX_BYTES));
  }
  return { cr3 };
}
