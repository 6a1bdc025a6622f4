// RAW-like files for tests, built from their published layouts: TIFF-structured RAWs (any byte order and
// magic, IFD chains, SubIFDs, EXIF IFD), Fujifilm RAF and Canon CR3, each holding JPEGs made by sharp.
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/** ExifTool's sample RAWs (test/fixtures/raw/README.md), from dist/test/helpers. */
export const RAW_FIXTURES = fileURLToPath(new URL('../../../test/fixtures/raw/', import.meta.url));

/** TIFF field types used here. */
export const SHORT = 3;
export const LONG = 4;
export const UNDEFINED = 7;

export type TiffValue =
  | number[]
  | string
  /** UNDEFINED bytes, stored as the entry's value (Panasonic's JpgFromRaw). */
  | Buffer
  /** A LONG holding where these bytes were placed in the file. */
  | { at: Buffer }
  /** LONGs holding where these directories were placed (SubIFDs, EXIF IFD). */
  | { ifds: TiffIfd[] }
  /** A LONG holding this raw number (an offset pointing anywhere, for hostile files). */
  | { long: number }
  /** RATIONALs (GPS degrees, minutes, seconds), each as thousandths. */
  | { rationals: number[] };

export interface TiffIfd {
  /** Undefined entries are left out. */
  entries: Record<number, TiffValue | undefined>;
  /** The next directory of the chain (IFD0 → IFD1 …); `{ offset }` points anywhere. */
  next?: TiffIfd | { offset: number };
}

export interface TiffOptions {
  littleEndian?: boolean;
  /** 42 for TIFF; 0x55 for RW2; 0x4f52 for ORF. */
  magic?: number;
  /** Bytes after the 8-byte header (CR2: "CR", version, raw IFD offset). */
  extraHeader?: Buffer;
  /** Bytes in place of the 8-byte TIFF header, IFD0 right after them (maker notes: "OLYMPUS\0II\x03\0"). */
  header?: Buffer;
}

function tagsOf(ifd: TiffIfd): number[] {
  return Object.keys(ifd.entries).map(Number).filter((tag) => ifd.entries[tag] !== undefined).sort((a, b) => a - b);
}

/** A TIFF file: the header, every directory (breadth first), then every value that does not fit in 4 bytes. */
export function buildTiff(ifd0: TiffIfd, options: TiffOptions = {}): Buffer {
  const le = options.littleEndian ?? true;
  const extra = options.extraHeader ?? Buffer.alloc(0);
  const ifds: TiffIfd[] = [];
  const collect = (ifd: TiffIfd): void => {
    if (ifds.includes(ifd)) return;
    ifds.push(ifd);
    for (const value of Object.values(ifd.entries)) if (value && typeof value === 'object' && 'ifds' in value) value.ifds.forEach(collect);
    if (ifd.next && !('offset' in ifd.next)) collect(ifd.next);
  };
  collect(ifd0);

  const ifdOffset = new Map<TiffIfd, number>();
  let end = (options.header?.length ?? 8) + extra.length;
  for (const ifd of ifds) {
    ifdOffset.set(ifd, end);
    end += 2 + 12 * tagsOf(ifd).length + 4;
  }
  // Values larger than 4 bytes, and blobs, go after the directories.
  const data: Buffer[] = [];
  const place = (bytes: Buffer): number => {
    const at = end;
    data.push(bytes);
    end += bytes.length + (bytes.length % 2); // word-aligned, as TIFF asks
    if (bytes.length % 2) data.push(Buffer.alloc(1));
    return at;
  };
  const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); if (le) b.writeUInt16LE(n); else b.writeUInt16BE(n); return b; };
  const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); if (le) b.writeUInt32LE(n >>> 0); else b.writeUInt32BE(n >>> 0); return b; };

  const dirs: Buffer[] = [];
  for (const ifd of ifds) {
    const tags = tagsOf(ifd);
    const parts: Buffer[] = [u16(tags.length)];
    for (const tag of tags) {
      const value = ifd.entries[tag]!;
      let type: number;
      let count: number;
      let bytes: Buffer;
      if (typeof value === 'string') {
        type = 2; bytes = Buffer.from(`${value}\0`, 'latin1'); count = bytes.length;
      } else if (Buffer.isBuffer(value)) {
        type = UNDEFINED; bytes = value; count = value.length;
      } else if (Array.isArray(value)) {
        type = value.every((n) => n < 65536) ? SHORT : LONG;
        count = value.length;
        bytes = Buffer.concat(value.map((n) => (type === SHORT ? u16(n) : u32(n))));
      } else if ('at' in value) {
        type = LONG; count = 1; bytes = u32(place(value.at));
      } else if ('long' in value) {
        type = LONG; count = 1; bytes = u32(value.long);
      } else if ('rationals' in value) {
        type = 5; count = value.rationals.length;
        bytes = Buffer.concat(value.rationals.flatMap((n) => [u32(Math.round(n * 1000)), u32(1000)]));
      } else {
        type = LONG; count = value.ifds.length; bytes = Buffer.concat(value.ifds.map((d) => u32(ifdOffset.get(d)!)));
      }
      const field = bytes.length <= 4 ? Buffer.concat([bytes, Buffer.alloc(4 - bytes.length)]) : u32(place(bytes));
      parts.push(u16(tag), u16(type), u32(count), field);
    }
    const next = ifd.next ? ('offset' in ifd.next ? ifd.next.offset : ifdOffset.get(ifd.next)!) : 0;
    parts.push(u32(next));
    dirs.push(Buffer.concat(parts));
  }
  const header = options.header ?? Buffer.concat([Buffer.from(le ? 'II' : 'MM', 'latin1'), u16(options.magic ?? 42), u32(ifdOffset.get(ifd0)!)]);
  return Buffer.concat([header, extra, ...dirs, ...data]);
}

/** A Fujifilm RAF: its 100-byte header pointing at the JPEG, then the JPEG. */
export function buildRaf(jpeg: Buffer, options: { offset?: number; length?: number } = {}): Buffer {
  const header = Buffer.alloc(160);
  header.write('FUJIFILMCCD-RAW 0201FF383501', 0, 'latin1');
  header.writeUInt32BE(options.offset ?? header.length, 84);
  header.writeUInt32BE(options.length ?? jpeg.length, 88);
  return Buffer.concat([header, jpeg]);
}

function box(type: string, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

function uuidBox(uuid: string, ...content: Buffer[]): Buffer {
  return box('uuid', Buffer.from(uuid, 'hex'), ...content);
}

/**
 * A Canon CR3: ftyp; moov holding Canon's uuid box (CMT1 = IFD0 with the orientation, CMT2 = EXIF tags,
 * CMT4 = GPS tags, each a TIFF of its own; THMB); the PRVW uuid box.
 */
export function buildCr3(options: {
  preview?: Buffer; thumbnail?: Buffer; orientation?: number; exif?: TiffIfd['entries']; gps?: TiffIfd['entries'];
}): Buffer {
  const cmt1 = buildTiff({ entries: { 271: 'Canon', 272: 'Canon EOS R5', 274: options.orientation ? [options.orientation] : undefined } });
  const metadata = [box('CMT1', cmt1)];
  if (options.exif) metadata.push(box('CMT2', buildTiff({ entries: options.exif })));
  if (options.gps) metadata.push(box('CMT4', buildTiff({ entries: options.gps })));
  const thmb = options.thumbnail ? [box('THMB', Buffer.alloc(16), options.thumbnail)] : [];
  const moov = box('moov', uuidBox('85c0b687820f11e08111f4ce462b6a48', ...metadata, ...thmb));
  const prvw = options.preview ? [uuidBox('eaf42b5e1c984b88b9fbb7dc406e4d16', Buffer.alloc(8), box('PRVW', Buffer.alloc(16), options.preview))] : [];
  const ftyp = box('ftyp', Buffer.from('crx \0\0\0\x01crx isom', 'latin1'));
  return Buffer.concat([ftyp, moov, ...prvw, box('mdat', Buffer.alloc(64))]);
}

/**
 * A JPEG whose top-left quadrant is red and the rest blue, so that where the red lands after decoding
 * tells which orientation was applied.
 */
export async function quadrantJpeg(width: number, height: number): Promise<Buffer> {
  const red = await sharp({ create: { width: Math.ceil(width / 2), height: Math.ceil(height / 2), channels: 3, background: '#ff0000' } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: '#0000ff' } })
    .composite([{ input: red, left: 0, top: 0 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** Where the red quadrant lies in decoded RGB: 'top-left', 'top-right', 'bottom-left' or 'bottom-right'. */
export async function redCorner(image: Buffer): Promise<string> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): boolean => data[(y * info.width + x) * 3] > 200 && data[(y * info.width + x) * 3 + 2] < 60;
  const x1 = Math.floor(info.width / 4);
  const x2 = Math.floor((3 * info.width) / 4);
  const y1 = Math.floor(info.height / 4);
  const y2 = Math.floor((3 * info.height) / 4);
  const corners: [string, boolean][] = [['top-left', at(x1, y1)], ['top-right', at(x2, y1)], ['bottom-left', at(x1, y2)], ['bottom-right', at(x2, y2)]];
  const red = corners.filter(([, isRed]) => isRed).map(([name]) => name);
  return red.length === 1 ? red[0] : `unclear (${red.join(', ') || 'none'})`;
}

/** A NEF-like RAW: IFD0 a 160×120 thumbnail pointer, SubIFD0 the large JPEG, SubIFD1 the CFA sensor data. */
export async function nefLike(preview: Buffer, options: TiffOptions & { orientation?: number; thumbnail?: Buffer } = {}): Promise<Buffer> {
  const thumbnail = options.thumbnail ?? (await quadrantJpeg(160, 120));
  const previewIfd: TiffIfd = { entries: { 254: [1], 259: [6], 513: { at: preview }, 514: [preview.length] } };
  const sensor: TiffIfd = { entries: { 254: [0], 256: [16], 257: [16], 259: [34713], 262: [32803], 273: { at: Buffer.alloc(64) }, 279: [64] } };
  const exif: TiffIfd = { entries: { 36867: '2024:05:17 10:11:12' } };
  return buildTiff({
    entries: {
      254: [1], 259: [6], 271: 'NIKON CORPORATION', 272: 'NIKON Z 6', 274: options.orientation ? [options.orientation] : undefined,
      273: { at: thumbnail }, 279: [thumbnail.length], 330: { ifds: [previewIfd, sensor] }, 34665: { ifds: [exif] },
    },
  }, options);
}

/**
 * A real RAW container with a usable preview: `jpeg` appended to the file, and the LONG entries (offset
 * tag, length tag: 513/514, or 273/279 for strips) that held `offset` and `length` pointed at it.
 */
export function withPreviewAppended(
  raw: Buffer, offset: number, length: number, jpeg: Buffer, options: { tags?: [number, number]; littleEndian?: boolean } = {},
): Buffer {
  const le = options.littleEndian ?? true;
  const [offsetTag, lengthTag] = options.tags ?? [513, 514];
  const entry = (tag: number, value: number): Buffer => {
    const b = Buffer.alloc(12);
    if (le) { b.writeUInt16LE(tag, 0); b.writeUInt16LE(LONG, 2); b.writeUInt32LE(1, 4); b.writeUInt32LE(value, 8); }
    else { b.writeUInt16BE(tag, 0); b.writeUInt16BE(LONG, 2); b.writeUInt32BE(1, 4); b.writeUInt32BE(value, 8); }
    return b;
  };
  const out = Buffer.concat([raw, Buffer.alloc(raw.length % 2), jpeg]);
  const at = raw.length + (raw.length % 2);
  for (const [tag, from, to] of [[offsetTag, offset, at], [lengthTag, length, jpeg.length]]) {
    const where = out.indexOf(entry(tag, from));
    if (where < 0 || where >= raw.length) throw new Error(`no tag ${tag} holding ${from} in the RAW`);
    entry(tag, to).copy(out, where);
  }
  return out;
}
