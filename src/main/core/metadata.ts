// EXIF metadata of a photo, read with exifr from bytes already in memory (the embedding pipeline reads
// each file once). Broken or absent EXIF never throws: every field is then null.
//
// Dates: EXIF DateTimeOriginal is the camera's wall-clock time with no time zone (OffsetTimeOriginal is
// rare and often wrong). takenAt stores that wall-clock time as if it were UTC ("floating" local time):
// Date.UTC(year, month, day, hour, minute, second). A photo taken at 16:28 on holiday therefore reads
// 16:28 wherever the library is opened, and sorting and date filters compare what the user remembers.
// Display it with timeZone 'UTC' (new Date(takenAt).toLocaleString(undefined, { timeZone: 'UTC' })).
// It is not an instant: compared with file times (real UTC instants) it can be off by the photo's UTC
// offset, which only matters for photos without EXIF, whose browse order falls back to mtime.
//
// Camera RAW: exifr walks TIFF-structured RAWs (CR2, NEF, ARW, DNG, ORF, RW2…) itself. Fujifilm RAF keeps
// its EXIF in the embedded JPEG and Canon CR3 in CMT boxes, each a TIFF whose tags exifr reads by number
// (it names them as IFD0 tags): those blocks are found by model/raw/raw-exif.ts.
import exifr from 'exifr';
import { bufferSource } from './model/raw/byte-source.js';
import { rawExifBlocks, type RawExifBlocks } from './model/raw/raw-exif.js';
import type { PhotoDetail } from '../../shared/types.js';

/**
 * The EXIF fields of a photo as the UI sees them (PhotoDetail is their one declaration). takenAt is the
 * wall-clock time encoded as if UTC (see above); orientation is EXIF's 1–8; every field is null when unknown.
 */
export type ExifMetadata = Pick<PhotoDetail, 'takenAt' | 'cameraMake' | 'cameraModel' | 'lens' | 'gpsLat' | 'gpsLon' | 'orientation'>;

export const EMPTY_METADATA: Readonly<ExifMetadata> = Object.freeze({
  takenAt: null, cameraMake: null, cameraModel: null, lens: null, gpsLat: null, gpsLon: null, orientation: null,
});

const PICK = [
  'DateTimeOriginal', 'SubSecTimeOriginal', 'CreateDate', 'SubSecTimeDigitized',
  'Make', 'Model', 'LensModel', 'Orientation',
  'GPSLatitude', 'GPSLatitudeRef', 'GPSLongitude', 'GPSLongitudeRef',
];

const OPTIONS = {
  tiff: true, exif: true, gps: true, ifd1: false, interop: false, makerNote: false, userComment: false,
  xmp: false, icc: false, iptc: false, jfif: false, ihdr: false,
  translateKeys: true, translateValues: false, reviveValues: false, sanitize: true, mergeOutput: true,
  silentErrors: true, pick: PICK,
};

/** Reads date, camera, lens, GPS and orientation. Never throws; unknown fields are null. */
export async function readMetadata(bytes: Uint8Array): Promise<ExifMetadata> {
  let raw: Record<string, unknown> | undefined;
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const blocks = await rawExifBlocks(bufferSource(buffer));
    raw = blocks ? await parseRawBlocks(blocks) : ((await exifr.parse(buffer, OPTIONS)) as Record<string, unknown> | undefined);
  } catch {
    return { ...EMPTY_METADATA }; // not a format exifr knows, or EXIF too broken to walk
  }
  if (!raw || typeof raw !== 'object') return { ...EMPTY_METADATA };
  try {
    const gps = gpsOf(raw);
    return {
      takenAt: parseExifDate(raw.DateTimeOriginal, raw.SubSecTimeOriginal) ?? parseExifDate(raw.CreateDate, raw.SubSecTimeDigitized),
      cameraMake: cleanText(raw.Make),
      cameraModel: cleanText(raw.Model),
      lens: cleanText(raw.LensModel),
      gpsLat: gps?.lat ?? null,
      gpsLon: gps?.lon ?? null,
      orientation: typeof raw.Orientation === 'number' && Number.isInteger(raw.Orientation) && raw.Orientation >= 1 && raw.Orientation <= 8
        ? raw.Orientation : null,
    };
  } catch {
    return { ...EMPTY_METADATA };
  }
}

/** CR3's CMT boxes: the tags read from each, by number, under the names exifr gives them elsewhere. */
const CR3_TAGS: Record<string, Record<number, string>> = {
  CMT1: { 271: 'Make', 272: 'Model', 274: 'Orientation' },
  CMT2: { 36867: 'DateTimeOriginal', 37521: 'SubSecTimeOriginal', 36868: 'CreateDate', 37522: 'SubSecTimeDigitized', 42036: 'LensModel' },
  CMT4: { 1: 'GPSLatitudeRef', 2: 'GPSLatitude', 3: 'GPSLongitudeRef', 4: 'GPSLongitude' },
};

async function parseRawBlocks(blocks: RawExifBlocks): Promise<Record<string, unknown> | undefined> {
  if ('jpeg' in blocks) return (await exifr.parse(blocks.jpeg, OPTIONS)) as Record<string, unknown> | undefined;
  const out: Record<string, unknown> = {};
  for (const [box, names] of Object.entries(CR3_TAGS)) {
    const bytes = blocks.cr3[box as keyof typeof blocks.cr3];
    if (!bytes) continue;
    const tags = (await exifr.parse(bytes, { ...OPTIONS, exif: false, gps: false, translateKeys: false, pick: undefined })) as
      Record<number, unknown> | undefined;
    for (const [tag, name] of Object.entries(names)) if (tags?.[Number(tag)] !== undefined) out[name] = tags[Number(tag)];
  }
  return out;
}

const EXIF_DATE = /^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/;

/** "YYYY:MM:DD HH:MM:SS" (plus optional sub-seconds) as wall-clock time encoded as UTC ms; null if invalid. */
export function parseExifDate(value: unknown, subSeconds?: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = EXIF_DATE.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  if (year < 1826 || year > 2200 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return null; // "0000:00:00 00:00:00" and other placeholders cameras write when their clock is unset
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null; // 31 February and the like
  const sub = typeof subSeconds === 'string' || typeof subSeconds === 'number' ? String(subSeconds).trim() : '';
  return /^\d{1,9}$/.test(sub) ? ms + Math.floor(Number(`0.${sub}`) * 1000) : ms;
}

function cleanText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  // Some cameras pad with NULs or write garbage after one ("ION230\0F").
  const text = value.split('\0')[0].replace(/\s+/g, ' ').trim();
  return text.length > 0 && text.length <= 200 ? text : null;
}

function gpsOf(raw: Record<string, unknown>): { lat: number; lon: number } | null {
  const lat = toDegrees(raw.GPSLatitude, raw.GPSLatitudeRef, 'S');
  const lon = toDegrees(raw.GPSLongitude, raw.GPSLongitudeRef, 'W');
  if (lat === null || lon === null) return null;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  if (lat === 0 && lon === 0) return null; // what cameras write without a fix
  return { lat, lon };
}

function toDegrees(value: unknown, ref: unknown, negativeRef: string): number | null {
  let degrees: number;
  if (typeof value === 'number') degrees = value;
  else if (Array.isArray(value) && value.length >= 1 && value.length <= 3 && value.every((v) => typeof v === 'number')) {
    const [d, m = 0, s = 0] = value as number[];
    degrees = d + m / 60 + s / 3600;
  } else return null;
  if (!Number.isFinite(degrees)) return null;
  return typeof ref === 'string' && ref.trim().toUpperCase().startsWith(negativeRef) ? -degrees : degrees;
}
