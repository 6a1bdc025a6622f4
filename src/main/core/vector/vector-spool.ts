// Build-time staging of vectors on disk. A build streams batches from the catalogue once; the spool
// writes them (already unit-length) into segment files that are each a valid FAISS IndexFlatIP file.
// That gives, without holding the library in memory and without faiss-node's slow number[] path:
//  - the final index when the library is small (read the segment, merge the others),
//  - exact ground truth for calibrating an IVF index's nprobe (search each segment, merge the top-k),
//  - a second pass over the vectors to add them to an IVF index once it is trained on a sample
//    taken uniformly over the whole stream (the reservoir below), not on whatever came first.
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { FLAT_PREAMBLE_BYTES, flatPreamble } from './faiss-file.js';

export interface SpoolSegment {
  path: string;
  startRow: number;
  rows: number;
}

export class VectorSpool {
  readonly segments: SpoolSegment[] = [];
  private fd: number | null = null;
  private rows = 0;

  constructor(
    private readonly dir: string,
    readonly dim: number,
    /** Rows per segment file: bounds the memory of one exact-search step (rows × dim × 4 bytes). */
    readonly segmentRows = 65536,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  get size(): number {
    return this.rows;
  }

  /** Appends unit-length rows (count × dim floats). */
  append(vectors: Float32Array): void {
    const count = vectors.length / this.dim;
    let done = 0;
    while (done < count) {
      let segment = this.segments[this.segments.length - 1];
      if (!segment || segment.rows === this.segmentRows) segment = this.openSegment();
      const take = Math.min(count - done, this.segmentRows - segment.rows);
      const part = vectors.subarray(done * this.dim, (done + take) * this.dim);
      writeSync(this.fd!, new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
      segment.rows += take;
      this.rows += take;
      done += take;
    }
  }

  /** Writes the final row counts into the segment headers. The spool stays readable. */
  finish(): void {
    this.closeSegment();
  }

  /** Reads the rows back in order, `chunkRows` at a time (the yielded array is reused). */
  *chunks(chunkRows: number): Generator<{ startRow: number; vectors: Float32Array }> {
    const buffer = new Float32Array(chunkRows * this.dim);
    const bytes = new Uint8Array(buffer.buffer);
    for (const segment of this.segments) {
      const fd = openSync(segment.path, 'r');
      try {
        for (let row = 0; row < segment.rows; row += chunkRows) {
          const take = Math.min(chunkRows, segment.rows - row);
          const byteCount = take * this.dim * 4;
          let got = 0;
          while (got < byteCount) {
            const n = readSync(fd, bytes, got, byteCount - got, FLAT_PREAMBLE_BYTES + row * this.dim * 4 + got);
            if (n === 0) throw new Error(`spool segment ${segment.path} is truncated`);
            got += n;
          }
          yield { startRow: segment.startRow + row, vectors: buffer.subarray(0, take * this.dim) };
        }
      } finally {
        closeSync(fd);
      }
    }
  }

  remove(): void {
    this.closeSegment();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private openSegment(): SpoolSegment {
    this.closeSegment();
    const segment = { path: path.join(this.dir, `segment-${this.segments.length}.faiss`), startRow: this.rows, rows: 0 };
    this.fd = openSync(segment.path, 'w');
    writeSync(this.fd, flatPreamble(this.dim, 0));
    this.segments.push(segment);
    return segment;
  }

  private closeSegment(): void {
    if (this.fd === null) return;
    const segment = this.segments[this.segments.length - 1];
    writeSync(this.fd, flatPreamble(this.dim, segment.rows), 0, FLAT_PREAMBLE_BYTES, 0);
    closeSync(this.fd);
    this.fd = null;
  }
}

/** Uniform sample of up to `capacity` rows from a stream (Vitter's algorithm R), deterministic. */
export class ReservoirSample {
  private vectors: Float32Array;
  private seen = 0;
  private state: number;

  constructor(
    readonly capacity: number,
    readonly dim: number,
    seed = 0x5eed,
  ) {
    // Grows on demand: a small library should not pay for the largest training sample.
    this.vectors = new Float32Array(Math.min(capacity, 1024) * dim);
    this.state = seed >>> 0;
  }

  get size(): number {
    return Math.min(this.seen, this.capacity);
  }

  /** The sampled rows, size × dim. */
  rows(): Float32Array {
    return this.vectors.subarray(0, this.size * this.dim);
  }

  offer(vectors: Float32Array): void {
    const count = vectors.length / this.dim;
    for (let r = 0; r < count; r++) {
      const slot = this.seen < this.capacity ? this.seen : Math.floor(this.random() * (this.seen + 1));
      if (slot < this.capacity) {
        if ((slot + 1) * this.dim > this.vectors.length) this.grow();
        this.vectors.set(vectors.subarray(r * this.dim, (r + 1) * this.dim), slot * this.dim);
      }
      this.seen++;
    }
  }

  /** mulberry32 in [0, 1). */
  random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  private grow(): void {
    const next = new Float32Array(Math.min(this.capacity, (this.vectors.length / this.dim) * 2) * this.dim);
    next.set(this.vectors);
    this.vectors = next;
  }
}
