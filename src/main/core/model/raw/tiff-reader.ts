// Reads TIFF image file directories (IFDs) and their values in either byte order, every offset
// clamped to the source (see byte-source.ts) and every count capped.
import type { ByteSource } from './byte-source.js';

const MAX_ENTRIES = 1024;
/** Values read from one entry at most (SubIFD lists, strip lists). */
const MAX_VALUES = 256;

const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };

export interface ByteRange {
  offset: number;
  length: number;
}

export interface Entry {
  type: number;
  count: number;
  /** Where the value lies: inside the entry (4 bytes) when it fits, else at the offset it holds. */
  valueAt: number;
}

export class TiffReader {
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

