// Bounded decoding: what one decode may cost in memory, and how much all the decodes of a process may
// hold at once, whatever the file claims to be.
//
// A file's size says nothing about its decoded size: a 174 KB single-colour GIF of 16000×16000 pixels
// decodes to a 1 GB frame (libvips' GIF loader materialises whole frames), so 8 of them decoded together
// took the indexer to 5.2 GB, and 8 thumbnail requests did the same to `serve`. Every decode therefore
// reads the header first (sharp's metadata(): no pixels), estimates the memory its decode will hold
// (decodeMemoryEstimate), refuses one over MAX_DECODE_BYTES with a clear message, and reserves the
// estimate from the process's DecodeBudget until it is done, so large decodes take turns instead of
// stacking up. Formats that libvips streams (baseline JPEG with shrink-on-load, non-interlaced PNG) cost
// a band of rows whatever their height, and WebP is decoded already scaled down; formats decoded whole
// (GIF, TIFF, HEIF/AVIF, HEIC, interlaced PNG, progressive JPEG's coefficients) are what the cap is about.
// The per-format costs were measured (peak RSS of one decode for embedding and for a thumbnail).

/** Longest a single decode may hold, bytes. A 100 MP HEIF (RGBA) or a 200 MP progressive JPEG fit. */
export const MAX_DECODE_BYTES = 512 * 1024 * 1024;

/** What all the decodes of one process may hold at once (estimates), bytes. */
export const DECODE_MEMORY_BUDGET = 768 * 1024 * 1024;

/** sharp's limitInputPixels for every decode: its own default, stated so the hard stop is ours. */
export const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

/** What a header says about an image: sharp's metadata() fields that decide what a decode costs. */
export interface ImageHeader {
  format: string;
  width: number;
  height: number;
  /** Channels as stored (default 4, the worst case). */
  channels?: number;
  /** sharp's depth name: 'uchar', 'ushort', … (default 8 bits). */
  depth?: string;
  /** JPEG: progressive; PNG: Adam7 interlaced. */
  isProgressive?: boolean;
  /** JPEG: '4:2:0', '4:4:4', … */
  chromaSubsampling?: string;
}

/** Formats libvips can decode a little at a time (when not progressive/interlaced). */
const STREAMED = new Set(['jpeg', 'png']);
/**
 * Rows a streamed decode is assumed to hold: libvips works in strips, and shrinking a wide image holds a
 * band of them per thread (measured: a 16000×16000 PNG shrunk for embedding held ~90 MB, ~1,900 rows; a
 * 12000×12000 baseline JPEG, shrunk on load, ~10 MB).
 */
const STREAMED_ROWS = 2048;
/** Measured: libvips' GIF loader held ~4.2–4.5 bytes a pixel (16000×16000: 1.06 GB; 9000×9000: 360 MB). */
const GIF_BYTES_PER_PIXEL = 5;
/** Measured: WebP is decoded already scaled down (libwebp's scaled decoding): a 16383×16383 lossless one
 * held 131 MB (0.5 byte a pixel), a lossy one 6 MB. Twice the lossless figure. */
const WEBP_BYTES_PER_PIXEL = 1;

function bytesPerSample(depth: string | undefined): number {
  return depth === 'ushort' || depth === 'short' ? 2 : depth === 'float' || depth === 'uint' || depth === 'int' ? 4 : depth === 'double' ? 8 : 1;
}

/** Upper estimate of the memory a full-resolution decode of this image holds, bytes. */
export function decodeMemoryEstimate(header: ImageHeader): number {
  const { width, height } = header;
  const pixels = width * height;
  const channels = Math.max(1, header.channels ?? 4);
  const sample = bytesPerSample(header.depth);
  if (header.format === 'jpeg') {
    if (!header.isProgressive) return width * Math.min(height, STREAMED_ROWS) * channels * sample;
    // libjpeg keeps every DCT coefficient (2 bytes) of a progressive image until the last scan.
    const chroma = header.chromaSubsampling?.startsWith('4:2:0') ? 0.25 : header.chromaSubsampling?.startsWith('4:2:2') ? 0.5 : 1;
    return Math.ceil(pixels * 2 * (channels >= 3 ? 1 + (channels - 1) * chroma : channels));
  }
  if (STREAMED.has(header.format) && !header.isProgressive) return width * Math.min(height, STREAMED_ROWS) * channels * sample;
  if (header.format === 'gif') return pixels * GIF_BYTES_PER_PIXEL;
  if (header.format === 'webp') return pixels * WEBP_BYTES_PER_PIXEL;
  // Decoded whole (TIFF, HEIF/AVIF, interlaced PNG, anything else): the image itself, in RGBA when
  // libvips or libheif expand it. (A 10000×10000 strip TIFF held less: 55 MB; this is the upper bound.)
  return pixels * Math.max(4, channels) * sample;
}

/** Raised when an image would cost more memory to decode than one decode may hold. */
export class ImageTooLargeError extends Error {
  override name = 'ImageTooLargeError';
  constructor(
    readonly header: ImageHeader,
    readonly estimatedBytes: number,
    readonly limitBytes: number,
  ) {
    super(
      `the image is too large to decode safely (${header.width}×${header.height} ${header.format.toUpperCase()}, ` +
        `${megapixels(header.width * header.height)} MP, would need about ${mb(estimatedBytes)} MB of memory; the limit is ${mb(limitBytes)} MB)`,
    );
  }
}

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(0);
}

function megapixels(pixels: number): string {
  const mp = pixels / 1e6;
  return mp >= 10 ? mp.toFixed(0) : mp.toFixed(1);
}

/** Throws ImageTooLargeError when the image's decode would exceed `limit`; returns the estimate. */
export function checkDecodeSize(header: ImageHeader, limit = MAX_DECODE_BYTES): number {
  const estimate = decodeMemoryEstimate(header);
  if (estimate > limit || header.width * header.height > MAX_INPUT_PIXELS) throw new ImageTooLargeError(header, estimate, limit);
  return estimate;
}

/**
 * Memory held by a process's decodes, by estimate: a decode waits until its estimate fits beside the
 * others' (first come, first served), so large files decode one or two at a time. Small ones (nearly every
 * photo) fit at once, unless a large one is waiting ahead of them. An estimate above the whole budget is
 * clamped to it (it runs alone).
 */
export class DecodeBudget {
  private used = 0;
  private readonly waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Waits for room for `bytes`, then holds them until the returned release is called (once). */
  async reserve(bytes: number): Promise<() => void> {
    const amount = Math.min(Math.max(0, Math.ceil(bytes)), this.limit);
    if (this.waiting.length === 0 && this.used + amount <= this.limit) this.used += amount;
    else await new Promise<void>((grant) => this.waiting.push({ bytes: amount, grant }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= amount;
      this.admit();
    };
  }

  /** Runs fn while holding `bytes` of the budget. */
  async run<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    const release = await this.reserve(bytes);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0].bytes <= this.limit) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.grant();
    }
  }
}

/** The budget every decode of this process draws from. */
export const decodeBudget = new DecodeBudget(DECODE_MEMORY_BUDGET);
