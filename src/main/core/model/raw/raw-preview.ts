// Camera RAW files through the JPEG previews cameras embed in them: libvips has no RAW decoder, and a
// preview (usually full size or ~1600 px on the long side) is all that CLIP and a thumbnail need.
//
// Recognised by content, not by name: Fujifilm RAF (raf.ts), Canon CR3 (cr3.ts) and
// TIFF-structured RAWs (tiff-walk.ts). A TIFF counts as a RAW only when it carries sensor data (or is a
// CR2, ORF or RW2 by its header), so plain TIFF photos still go to libvips. Of the JPEGs found, each is
// checked (start marker, inside the file, a frame libjpeg decodes) and the largest by pixels is used.
// The RAW's own Orientation (IFD0; CR3: its CMT1 box) replaces whatever EXIF the preview carries; a
// RAF's JPEG keeps its own, which is the camera's.
//
// Reads are bounded: the directories, a few bytes of each candidate's markers, then the chosen JPEG
// (at most MAX_PREVIEW_BYTES), whatever the size of the RAW file.
import { HEADER_BYTES } from '../heic.js';
import { subSource, type ByteSource } from './byte-source.js';
import { isCr3, readCr3 } from './cr3.js';
import { rafJpegRange } from './raf.js';
import { jpegSize, withOrientation, type JpegSize } from './jpeg-info.js';
import { tiffHeader, walkTiff, type ByteRange } from './tiff-walk.js';

/** A preview's shorter side must reach CLIP's input (224 px for ViT-B/32) to be worth embedding. */
export const MIN_PREVIEW_SIDE = 224;
/** Largest embedded JPEG read into memory (a 100 MP camera's full-size preview is ~30 MB). */
export const MAX_PREVIEW_BYTES = 64 * 1024 * 1024;

export interface RawPreview {
  /** The JPEG, ready for sharp: carrying the RAW's orientation as EXIF where the RAW has one. */
  jpeg: Buffer;
  width: number;
  height: number;
  /** Short name of the RAW format (nef, cr2, dng, raf…; raw when the maker is unknown). */
  format: string;
}

/** A RAW file whose embedded preview cannot be used. `truncated`: a directory pointed past the end. */
export class RawPreviewError extends Error {
  override name = 'RawPreviewError';
  constructor(
    readonly format: string,
    message: string,
    readonly truncated = false,
  ) {
    super(message);
  }
}

interface Container {
  format: string;
  candidates: ByteRange[];
  /** EXIF orientation to give the preview; null: keep the preview's own. */
  orientation: number | null;
  pastEnd: boolean;
}

/**
 * The largest usable embedded JPEG of a camera RAW; null when the source is not a RAW this module
 * reads (the caller decodes it as any image). Throws RawPreviewError for a RAW without a usable one.
 */
export async function readRawPreview(source: ByteSource): Promise<RawPreview | null> {
  const head = await source.read(0, HEADER_BYTES);
  const container = (await rafContainer(source, head)) ?? (await cr3Container(source, head)) ?? (await tiffContainer(source, head));
  if (!container) return null;

  let best: (ByteRange & JpegSize) | null = null;
  let largest: JpegSize | null = null;
  let firstProblem: string | null = null;
  for (const range of container.candidates) {
    const size = await jpegSize(source, range.offset, range.length);
    if (typeof size === 'string') {
      firstProblem ??= size;
      continue;
    }
    if (!largest || size.width * size.height > largest.width * largest.height) largest = size;
    if (range.length > MAX_PREVIEW_BYTES || Math.min(size.width, size.height) < MIN_PREVIEW_SIDE) continue;
    if (!best || size.width * size.height > best.width * best.height) best = { ...range, ...size };
  }
  if (!best) {
    const n = container.candidates.length;
    const what = largest ? `largest ${largest.width}×${largest.height}`
      : firstProblem ? `${n === 1 ? 'its embedded image is not' : `none of its ${n} embedded images is`} a JPEG that can be decoded: ${firstProblem}`
      : 'none found';
    const why = container.pastEnd ? '; a preview runs past the end of the file (truncated?)' : '';
    throw new RawPreviewError(container.format, `RAW without a usable embedded preview (${what}${why})`, container.pastEnd);
  }
  const bytes = await source.read(best.offset, best.length);
  if (bytes.length < best.length) throw new RawPreviewError(container.format, 'the RAW file ended while its preview was read (truncated?)', true);
  const jpeg = container.orientation ? withOrientation(bytes, container.orientation) : bytes;
  return { jpeg, width: best.width, height: best.height, format: container.format };
}

async function rafContainer(source: ByteSource, head: Buffer): Promise<Container | null> {
  const range = rafJpegRange(head);
  if (!range) return null;
  const pastEnd = range.offset + range.length > source.size;
  return { format: 'raf', candidates: pastEnd ? [] : [range], orientation: null, pastEnd };
}

async function cr3Container(source: ByteSource, head: Buffer): Promise<Container | null> {
  if (!isCr3(head)) return null;
  const { jpegs, metadata } = await readCr3(source);
  let orientation: number | null = null;
  if (metadata.CMT1) {
    // IFD0 as a TIFF of its own, offsets counted from the box's data
    const ifd0 = subSource(source, metadata.CMT1.offset, metadata.CMT1.length);
    const header = tiffHeader(await ifd0.read(0, 8));
    if (header) orientation = (await walkTiff(ifd0, header)).orientation;
  }
  return { format: 'cr3', candidates: jpegs, orientation, pastEnd: false };
}

/** RAW format names by the maker in IFD0, for TIFF-structured RAWs whose header does not say. */
const FORMAT_BY_MAKE: [RegExp, string][] = [
  [/^nikon/i, 'nef'], [/^sony/i, 'arw'], [/^canon/i, 'cr2'], [/^(pentax|ricoh)/i, 'pef'], [/^samsung/i, 'srw'],
  [/^(olympus|om digital)/i, 'orf'], [/^panasonic|^leica/i, 'rw2'], [/^kodak|^eastman kodak/i, 'dcr'],
  [/^hasselblad/i, '3fr'], [/^phase one/i, 'iiq'], [/^leaf/i, 'mos'], [/^mamiya/i, 'mef'], [/epson/i, 'erf'],
];

async function tiffContainer(source: ByteSource, head: Buffer): Promise<Container | null> {
  const header = tiffHeader(head);
  if (!header) return null;
  const byHeader = header.magic === 0x55 ? 'rw2' : header.magic !== 42 ? 'orf' : head.toString('latin1', 8, 10) === 'CR' ? 'cr2' : null;
  const found = await walkTiff(source, header);
  if (!byHeader && !found.hasSensorData) return null; // a TIFF photo: libvips reads it
  const format = byHeader ?? (found.dng ? 'dng' : FORMAT_BY_MAKE.find(([maker]) => maker.test(found.make ?? ''))?.[1] ?? 'raw');
  return { format, candidates: found.candidates, orientation: found.orientation, pastEnd: found.pastEnd };
}
