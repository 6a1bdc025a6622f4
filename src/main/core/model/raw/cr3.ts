// Canon CR3 (ISO-BMFF, brand "crx "): where its embedded JPEGs and its EXIF lie. The preview (PRVW,
// ~1620×1080) sits in a top-level uuid box, the thumbnail (THMB, 160×120) and the metadata (CMT1: IFD0,
// CMT2: the EXIF IFD, CMT4: GPS, each a TIFF of its own) in a uuid box inside moov. Box sizes are
// checked against their parent, and at most MAX_BOXES are read per level.
import { ftypBrands } from '../heic.js';
import type { ByteSource } from './byte-source.js';
import type { ByteRange } from './tiff-walk.js';

const PREVIEW_UUID = 'eaf42b5e1c984b88b9fbb7dc406e4d16';
const MOOV_UUID = '85c0b687820f11e08111f4ce462b6a48';
const MAX_BOXES = 64;

export type Cr3MetadataBox = 'CMT1' | 'CMT2' | 'CMT4';

export interface Cr3Contents {
  /** The JPEGs of the PRVW and THMB boxes (not validated yet). */
  jpegs: ByteRange[];
  /** The data of each metadata box found. */
  metadata: Partial<Record<Cr3MetadataBox, ByteRange>>;
}

export function isCr3(head: Buffer): boolean {
  return ftypBrands(head)?.includes('crx ') ?? false;
}

interface Box {
  type: string;
  /** Where the box's data starts (after its size, type and, for uuid boxes, the 16-byte uuid). */
  start: number;
  end: number;
  uuid?: string;
}

async function boxes(source: ByteSource, from: number, to: number): Promise<Box[]> {
  const out: Box[] = [];
  let at = from;
  while (at + 8 <= to && out.length < MAX_BOXES) {
    const head = await source.read(at, 32);
    if (head.length < 8) break;
    let size = head.readUInt32BE(0);
    let headerSize = 8;
    if (size === 1) {
      if (head.length < 16) break;
      size = Number(head.readBigUInt64BE(8));
      headerSize = 16;
    } else if (size === 0) size = to - at; // to the end of the parent
    if (size < headerSize || at + size > to) break;
    const type = head.toString('latin1', 4, 8);
    const uuid = type === 'uuid' && head.length >= headerSize + 16 ? head.toString('hex', headerSize, headerSize + 16) : undefined;
    out.push({ type, start: at + headerSize + (uuid ? 16 : 0), end: at + size, uuid });
    at += size;
  }
  return out;
}

/** A box's JPEG: from its first start marker (within the box's first 64 bytes) to the box's end. */
async function jpegInBox(source: ByteSource, box: Box): Promise<ByteRange | null> {
  const head = await source.read(box.start, 64);
  for (let i = 0; i + 1 < head.length; i++) {
    if (head[i] === 0xff && head[i + 1] === 0xd8) return { offset: box.start + i, length: box.end - box.start - i };
  }
  return null;
}

export async function readCr3(source: ByteSource): Promise<Cr3Contents> {
  const contents: Cr3Contents = { jpegs: [], metadata: {} };
  for (const top of await boxes(source, 0, source.size)) {
    if (top.type === 'uuid' && top.uuid === PREVIEW_UUID) {
      // 8 bytes after the uuid, then the PRVW box
      for (const box of await boxes(source, top.start + 8, top.end)) {
        const range = box.type === 'PRVW' ? await jpegInBox(source, box) : null;
        if (range) contents.jpegs.push(range);
      }
    }
    if (top.type !== 'moov') continue;
    for (const inner of await boxes(source, top.start, top.end)) {
      if (inner.type !== 'uuid' || inner.uuid !== MOOV_UUID) continue;
      for (const box of await boxes(source, inner.start, inner.end)) {
        if (box.type === 'THMB') {
          const range = await jpegInBox(source, box);
          if (range) contents.jpegs.push(range);
        } else if (box.type === 'CMT1' || box.type === 'CMT2' || box.type === 'CMT4') {
          contents.metadata[box.type] = { offset: box.start, length: box.end - box.start };
        }
      }
    }
  }
  return contents;
}
