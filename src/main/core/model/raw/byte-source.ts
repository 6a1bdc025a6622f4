// Random access to a file's bytes, for parsers that follow offsets (camera RAW containers): from a
// buffer already in memory (the embedding pipeline reads each file once), or from an open file, where
// only the ranges asked for are read. Every read is clamped to the source: asking past the end gives
// fewer bytes (or none), never an exception and never a larger allocation than the file holds.
import { open, type FileHandle } from 'node:fs/promises';

export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes from `offset` (fewer where the source ends first). */
  read(offset: number, length: number): Promise<Buffer>;
}

function clampRange(size: number, offset: number, length: number): [number, number] {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0 || offset >= size) return [0, 0];
  return [offset, Math.min(size, offset + length)];
}

export function bufferSource(bytes: Buffer): ByteSource {
  return {
    size: bytes.length,
    read: async (offset, length) => {
      const [start, end] = clampRange(bytes.length, offset, length);
      return bytes.subarray(start, end);
    },
  };
}

/** A window of another source (ISO-BMFF boxes holding a TIFF whose offsets count from the box's data). */
export function subSource(source: ByteSource, start: number, size: number): ByteSource {
  const [from, to] = clampRange(source.size, start, size);
  return {
    size: to - from,
    read: (offset, length) => {
      const [s, e] = clampRange(to - from, offset, length);
      return e > s ? source.read(from + s, e - s) : Promise.resolve(Buffer.alloc(0));
    },
  };
}

/** Small reads (headers, directory entries) lie close together: they are served from 64 KiB blocks. */
const BLOCK = 64 * 1024;
const CACHED_BLOCKS = 8;

class FileSource implements ByteSource {
  private readonly blocks = new Map<number, Buffer>();
  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    const [start, end] = clampRange(this.size, offset, length);
    if (end <= start) return Buffer.alloc(0);
    const first = Math.floor(start / BLOCK);
    if (first === Math.floor((end - 1) / BLOCK)) {
      const block = await this.block(first);
      return block.subarray(start - first * BLOCK, end - first * BLOCK);
    }
    return this.readExact(start, end - start);
  }

  private async block(index: number): Promise<Buffer> {
    let block = this.blocks.get(index);
    if (!block) {
      block = await this.readExact(index * BLOCK, Math.min(BLOCK, this.size - index * BLOCK));
      if (this.blocks.size >= CACHED_BLOCKS) this.blocks.delete(this.blocks.keys().next().value as number);
      this.blocks.set(index, block);
    }
    return block;
  }

  private async readExact(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) break; // the file shrank meanwhile
      done += bytesRead;
    }
    return buffer.subarray(0, done);
  }
}

/** Runs fn over the file opened read-only, and closes it whatever fn does. */
export async function withFileSource<T>(file: string, fn: (source: ByteSource) => Promise<T>): Promise<T> {
  const handle = await open(file, 'r');
  try {
    return await fn(new FileSource(handle, (await handle.stat()).size));
  } finally {
    await handle.close();
  }
}
