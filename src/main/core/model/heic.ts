// HEIC/HEIF (HEVC-coded) photos → raw RGBA, with libheif compiled to WebAssembly (heic-decode), because
// sharp's prebuilt libvips has no HEVC decoder. AVIF is HEIF too, but sharp decodes it: it is not routed here.
//
// The decoding runs in worker threads, because libheif-js decodes synchronously (a 12 MP iPhone photo
// takes ~1–1.7 s here) and would otherwise freeze the event loop of whoever asked (the Electron main
// process serving a thumbnail, the indexing pipeline). Workers also bound memory: each WebAssembly heap
// grows to the largest photo decoded (~100 MB for 12 MP) and never shrinks, so an idle worker is ended,
// and a worker that failed on a corrupt file (libheif-js leaks its context then) is replaced.
//
// Orientation: libheif applies the HEIF transformations (irot, imir, clap) while decoding, and the HEIF
// standard makes those, not EXIF, the orientation to display: an iPhone photo carries both irot and
// EXIF Orientation 6 for the same rotation. The pixels returned here are upright and carry no EXIF, so
// no EXIF orientation must be applied to them again.
import { createRequire } from 'node:module';
import { open } from 'node:fs/promises';
import os from 'node:os';
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { MAX_DECODE_BYTES } from './decode-limits.js';

/** Decoded pixels: 8-bit RGBA, interleaved, `width * height * 4` bytes. */
export interface RgbaImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 4;
}

export class HeicDecodeError extends Error {
  override name = 'HeicDecodeError';
  constructor(
    message: string,
    /** libheif understood the file but lacks what it needs (a codec, a feature): not corrupt. */
    readonly unsupported = false,
  ) {
    super(message);
  }
}

/** Largest image decoded, checked before decoding: its RGBA fills one decode's allowance (decode-limits.ts),
 * ~134 MP; the iPhone's largest photos are 48 MP. */
export const MAX_HEIC_PIXELS = Math.floor(MAX_DECODE_BYTES / 4);

// ISO-BMFF brands (ISO/IEC 23008-12): HEVC image / sequence brands, and the generic HEIF ones
// (mif1, msf1) that both HEIC and AVIF files may carry. AVIF is recognised by its own brands.
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs', 'mif1', 'msf1']);
const HEVC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);
/** Enough of a file to read its `ftyp` box. */
export const HEADER_BYTES = 256;

/** The `ftyp` box's major and compatible brands, or null when the bytes do not start with one. */
export function ftypBrands(header: Uint8Array): string[] | null {
  if (header.length < 16) return null;
  const bytes = Buffer.from(header.buffer, header.byteOffset, header.byteLength);
  if (bytes.toString('latin1', 4, 8) !== 'ftyp') return null;
  const size = bytes.readUInt32BE(0);
  if (size < 16) return null;
  const brands = [bytes.toString('latin1', 8, 12)]; // bytes 12–16: minor version
  for (let at = 16; at + 4 <= Math.min(size, bytes.length); at += 4) brands.push(bytes.toString('latin1', at, at + 4));
  return brands;
}

/**
 * Whether the bytes are a HEIF file for libheif (HEVC-coded: HEIC), judged by content, not by name.
 * AVIF (brand avif/avis) is left to sharp unless an HEVC brand is present too.
 */
export function isHeic(header: Uint8Array): boolean {
  const brands = ftypBrands(header);
  if (!brands) return false;
  if (brands.some((b) => HEVC_BRANDS.has(b))) return true;
  return !brands.some((b) => AVIF_BRANDS.has(b)) && brands.some((b) => HEIC_BRANDS.has(b));
}

/** Reads just enough of a file to tell whether it is HEIC. False when it cannot be read. */
export async function isHeicFile(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
    return isHeic(buffer.subarray(0, bytesRead));
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/**
 * Checks the top-level boxes: a file cut short (still being copied or synced) would otherwise decode
 * "successfully", libheif filling the missing tiles with flat colour.
 */
function checkComplete(bytes: Buffer): void {
  let at = 0;
  while (at < bytes.length) {
    if (at + 8 > bytes.length) throw new HeicDecodeError('the file is truncated (it ends inside a box header)');
    let size = bytes.readUInt32BE(at);
    if (size === 1) {
      if (at + 16 > bytes.length) throw new HeicDecodeError('the file is truncated (it ends inside a box header)');
      size = Number(bytes.readBigUInt64BE(at + 8));
    } else if (size === 0) {
      return; // the last box runs to the end of the file
    }
    if (size < 8) throw new HeicDecodeError(`the file is corrupt (a box of ${size} bytes at offset ${at})`);
    if (at + size > bytes.length) {
      const type = bytes.toString('latin1', at + 4, at + 8).replace(/[^\x20-\x7e]/g, '?');
      throw new HeicDecodeError(`the file is truncated ('${type}' box needs ${at + size} bytes, the file has ${bytes.length})`);
    }
    at += size;
  }
}

// ---------------------------------------------------------------------------------------------------
// Main-thread side: a small pool of decoder workers, one job per worker at a time.

const WORKER_ROLE = 'photo-search:heic-decoder';
const IDLE_MS = 15_000;

type Request = { bytes: Uint8Array };
type Reply =
  | { ok: true; width: number; height: number; data: Uint8ClampedArray }
  | { ok: false; message: string; unsupported: boolean };

interface Job {
  bytes: Uint8Array;
  resolve: (image: RgbaImage) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  idleTimer: NodeJS.Timeout | null;
}

const slots: Slot[] = [];
const queue: Job[] = [];
/** At most 4 workers (the embedding pipeline decodes 4 photos at a time), leaving a core to the rest. */
let maxWorkers = Math.max(1, Math.min(4, os.availableParallelism() - 1));

/** Changes how many photos are decoded in parallel (each worker holds up to ~100 MB per 12 MP). */
export function setHeicDecoderThreads(threads: number): void {
  maxWorkers = Math.max(1, Math.floor(threads));
}

/**
 * Decodes the primary image of a HEIC/HEIF file to upright 8-bit RGBA (HEIF transformations
 * applied; see the top of this file). Throws HeicDecodeError for truncated, corrupt or oversized files.
 */
export function decodeHeic(bytes: Uint8Array): Promise<RgbaImage> {
  try {
    checkComplete(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    return Promise.reject(error as Error);
  }
  return new Promise((resolve, reject) => {
    queue.push({ bytes, resolve, reject });
    dispatch();
  });
}

function dispatch(): void {
  while (queue.length > 0) {
    let slot = slots.find((s) => s.job === null);
    if (!slot) {
      if (slots.length >= maxWorkers) return;
      slot = startWorker();
    }
    const job = queue.shift()!;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    slot.job = job;
    slot.worker.ref(); // a pending decode keeps the process alive
    const request: Request = { bytes: job.bytes }; // copied (not transferred): the caller keeps its bytes
    slot.worker.postMessage(request);
  }
}

function startWorker(): Slot {
  const worker = new Worker(new URL(import.meta.url), { workerData: WORKER_ROLE });
  const slot: Slot = { worker, job: null, idleTimer: null };
  const failed = (error: Error): void => {
    retire(slot);
    slot.job?.reject(new HeicDecodeError(`the HEIC decoder failed: ${error.message}`));
    slot.job = null;
    dispatch();
  };
  worker.on('message', (reply: Reply) => {
    const job = slot.job;
    slot.job = null;
    if (reply.ok) {
      const { width, height, data } = reply;
      job?.resolve({ data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 4 });
      worker.unref();
      slot.idleTimer = setTimeout(() => retire(slot), IDLE_MS).unref();
    } else {
      job?.reject(new HeicDecodeError(reply.message, reply.unsupported));
      retire(slot); // a fresh heap for the next file
    }
    dispatch();
  });
  worker.on('error', failed);
  worker.on('exit', (code) => {
    if (slots.includes(slot)) failed(new Error(`the worker exited (code ${code})`));
  });
  slots.push(slot);
  return slot;
}

function retire(slot: Slot): void {
  const at = slots.indexOf(slot);
  if (at < 0) return;
  slots.splice(at, 1);
  if (slot.idleTimer) clearTimeout(slot.idleTimer);
  void slot.worker.terminate();
}

// ---------------------------------------------------------------------------------------------------
// Worker side.

interface HeicDecodeImage {
  width: number;
  height: number;
  decode(): Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
}
interface HeicDecodeModule {
  all(input: { buffer: Uint8Array }): Promise<HeicDecodeImage[] & { dispose(): void }>;
}

/** heic-decode accepts only these major brands; libheif itself also reads the compatible ones. */
const DECODABLE_MAJOR_BRANDS = new Set(['mif1', 'msf1', 'heic', 'heix', 'hevc', 'hevx']);

function serveDecodes(port: MessagePort): void {
  const heicDecode = createRequire(import.meta.url)('heic-decode') as HeicDecodeModule;
  // libheif-js reports why it failed only through console.log: keep those lines for the error message.
  const log: string[] = [];
  console.log = (...args: unknown[]) => {
    log.push(args.map((a) => (typeof a === 'string' ? a : ((a as { message?: unknown })?.message ?? ''))).filter(Boolean).join(' '));
  };
  port.on('message', async ({ bytes }: Request) => {
    log.length = 0;
    try {
      const major = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('latin1', 8, 12);
      if (!DECODABLE_MAJOR_BRANDS.has(major)) bytes.set(Buffer.from('mif1', 'latin1'), 8); // our own copy
      const images = await heicDecode.all({ buffer: bytes });
      try {
        // libheif lists the top-level images (thumbnails, depth and alpha maps are not among them); photos have one.
        const image = images[0];
        if (image.width * image.height > MAX_HEIC_PIXELS) {
          throw new HeicDecodeError(`the image is too large to decode safely (${image.width}×${image.height} pixels; the limit is ${(MAX_HEIC_PIXELS / 1e6).toFixed(0)} MP)`);
        }
        const { width, height, data } = await image.decode();
        const reply: Reply = { ok: true, width, height, data };
        port.postMessage(reply, [data.buffer as ArrayBuffer]);
      } finally {
        images.dispose();
      }
    } catch (error) {
      const detail = log
        .map((line) => line.replace(/^Could not parse HEIF file /, '').replace(/^Decoding image failed /, 'decoding failed: ').trim())
        .filter(Boolean)
        .join('; ');
      const message = detail || (error as Error).message || String(error);
      const unsupported = /unsupported (feature|codec|filetype)|no decoding plugin|not supported/i.test(detail);
      const reply: Reply = { ok: false, message, unsupported };
      port.postMessage(reply);
    }
  });
}

if (!isMainThread && workerData === WORKER_ROLE && parentPort) serveDecodes(parentPort);
