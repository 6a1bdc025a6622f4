// The embedding pipeline: photos the catalogue lists as not yet embedded with the model are read once
// each (one fs.readFile), and from that buffer come the content hash, the EXIF metadata, the model
// input tensor and the thumbnail. Batches are embedded by the CLIP image tower and each batch's results
// are stored in one transaction, so a kill loses at most the batch in flight and a new run resumes
// where the last stopped (the catalogue pages by id over photos without a vector for this model).
//
// Throughput: decoding runs on libuv threads (sharp, file reads, hashing) and inference on ONNX
// Runtime's threads in a worker thread (onnxruntime-node's run() blocks its calling thread, and each
// decode needs this event loop between its steps); while batch k is inferred, batch k+1 is already
// decoding, so a run costs about max(decode, infer) per batch rather than their sum, less contention
// for the cores.
//
// Failures are per photo: unreadable, truncated, corrupt or non-image files are stored with status
// 'error', formats the decoder lacks (UnsupportedFormatError) with 'unsupported', each with its message;
// the run goes on.
// Failed photos are not retried until the scanner sees the file change.
//
// The model: runIndexing registers it in the catalogue (idempotent) so its vectors can be stored, but
// does not make it the library's current model; choosing the model the app searches with is the
// caller's decision (library.useModel).
import { webcrypto } from 'node:crypto';
import path from 'node:path';
import { mkdir, readFile } from 'node:fs/promises';
import type { EmbedOutcome, ModelRecord, PhotoMetadata, PhotoToEmbed } from '../catalogue/catalogue.js';
import type { Library } from '../library.js';
import { readMetadata } from '../metadata.js';
import type { ModelFolder } from '../model/model-folder.js';
import { decodeForEmbedding, UnsupportedFormatError } from '../model/preprocess.js';
import { thumbnailPath } from '../paths.js';
import { writeFileAtomic } from '../scratch.js';
import { THUMBNAIL_SIZE } from '../service/media.js';
import { acquireWriterLock } from '../writer-lock.js';
import type { EmbeddingRuntime, IndexingProgress, PhotoId, ProviderChoice } from '../../../shared/types.js';
import { DEFAULT_BATCH } from './image-tower-setup.js';
import { providerSetting } from './provider-setting.js';
import { recordIndexingSpeed } from './indexing-speed.js';
import { IndexingControl } from './control.js';
import { WorkerEmbedder } from './worker-embedder.js';

/** What the pipeline needs from a model: batched image embeddings. */
export interface ImageEmbedder {
  embedImages(tensors: Float32Array[]): Promise<Float32Array[]>;
}

export interface RunIndexingOptions {
  library: Library;
  modelFolder: ModelFolder;
  /**
   * An already loaded model (benchmarks and tests reuse one). By default the folder's image tower is
   * loaded in a worker thread (WorkerEmbedder) for the run. Prefer a WorkerEmbedder over a ClipModel
   * used on this thread: its synchronous inference would stall decoding.
   */
  embedder?: ImageEmbedder;
  /** Photos per inference batch and per transaction. Default: calibrated or remembered (below), else 16. */
  batchSize?: number;
  /** ONNX Runtime intra-op threads when the pipeline loads the model. Default: as batchSize, else the number of cores. */
  threads?: number;
  /** Execution provider when the pipeline loads the model. Default: the library's setting (provider-setting.ts). */
  provider?: ProviderChoice;
  /**
   * Where calibrations are remembered (calibration-store.ts): a run that loads the model, given neither threads
   * nor batchSize, measures them once per machine, model and provider. Without it the defaults are used.
   */
  calibrationFile?: string | null;
  /** Photos decoded at once. Default 4 (sharp itself spreads each decode over the cores). */
  decodeConcurrency?: number;
  /** Longest side of the thumbnails written to the library's cache. */
  thumbSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: IndexingProgress) => void;
  control?: IndexingControl;
  /**
   * The library's writer lock is held for this run by the process that started this one (the app's indexer
   * child, whose parent waited for the lock): not taken again here.
   */
  lockHeldByParent?: boolean;
}

export interface IndexingSummary {
  state: 'done' | 'cancelled';
  modelId: string;
  /** Photos that needed embedding when the run started. */
  total: number;
  /** Photos handled by this run: embedded + failed. */
  done: number;
  embedded: number;
  /** Stored with status 'error' or 'unsupported'. */
  failed: number;
  unsupported: number;
  /**
   * Photos decoded but not stored: their row changed while they were in flight (deleted, overwritten, or
   * embedded by another process). An overwritten photo is left pending for the next run.
   */
  skipped: number;
  durationMs: number;
  photosPerSecond: number;
  /** The provider and settings of the image tower the pipeline loaded; null with a caller's embedder. */
  runtime: EmbeddingRuntime | null;
}

const DEFAULT_DECODE_CONCURRENCY = 4;
const RATE_WINDOW_MS = 20_000;

interface Decoded {
  photo: PhotoToEmbed;
  /** Set when the photo decoded: the model input. */
  tensor?: Float32Array;
  metadata: PhotoMetadata;
  failure?: { status: 'error' | 'unsupported'; error: string };
}

export async function runIndexing(options: RunIndexingOptions): Promise<IndexingSummary> {
  const { library } = options;
  // One indexer per library: a second one, in another process, refuses (LibraryBusyError naming the first)
  // rather than embedding the same photos again.
  const lock = options.lockHeldByParent ? null : acquireWriterLock(library.paths.dir, 'indexing');
  try {
    return await indexWhileLocked(options);
  } finally {
    lock?.release();
  }
}

async function indexWhileLocked(options: RunIndexingOptions): Promise<IndexingSummary> {
  const { library, modelFolder } = options;
  const catalogue = library.catalogue;
  const control = options.control ?? new IndexingControl();
  let batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
  let runtime: EmbeddingRuntime | null = null;
  const decodeConcurrency = Math.max(1, options.decodeConcurrency ?? DEFAULT_DECODE_CONCURRENCY);
  const thumbSize = options.thumbSize ?? THUMBNAIL_SIZE;
  const onAbort = (): void => control.cancel();
  options.signal?.addEventListener('abort', onAbort);
  if (options.signal?.aborted) control.cancel();

  const model: ModelRecord = { id: modelFolder.modelId, dim: modelFolder.dim, preprocessVersion: modelFolder.preprocessVersion };
  catalogue.registerModel(model);
  const started = performance.now();
  let total = catalogue.countToEmbed(model.id);
  let embedded = 0;
  let failed = 0;
  let unsupported = 0;
  let skipped = 0;
  const rate = new RateWindow(RATE_WINDOW_MS);
  const emit = (state: IndexingProgress['state'], message?: string): void => {
    const done = embedded + failed;
    total = Math.max(total, done);
    const perSecond = rate.perSecond(done);
    options.onProgress?.({
      state, done, total, failed,
      photosPerSecond: Math.round(perSecond * 10) / 10,
      etaSeconds: perSecond > 0 ? Math.round((total - done) / perSecond) : null,
      ...(message ? { message } : {}),
      ...(runtime ? { runtime } : {}),
    });
  };

  const thumbnails = new ThumbnailWriter(library, thumbSize);
  let afterId: PhotoId = 0;
  const startNextBatch = (): Promise<Decoded[]> | null => {
    if (control.cancelled) return null;
    const photos = catalogue.photosToEmbed(model.id, afterId, batchSize);
    if (photos.length === 0) return null;
    afterId = photos[photos.length - 1].id;
    return decodeBatch(photos, modelFolder, thumbnails, decodeConcurrency);
  };

  emit('embedding');
  let pending: Promise<Decoded[]> | null = null;
  let ownModel: WorkerEmbedder | null = null;
  try {
    if (!options.embedder) {
      ownModel = await WorkerEmbedder.start(modelFolder, {
        image: {
          provider: options.provider ?? providerSetting(catalogue), threads: options.threads, batchSize: options.batchSize,
          calibrationFile: options.calibrationFile,
        },
        onStatus: (message) => emit('embedding', message),
      });
      runtime = ownModel.runtime;
      if (runtime) batchSize = runtime.batchSize;
      emit('embedding');
    }
    const embedder: ImageEmbedder = options.embedder ?? ownModel!;
    rate.reset(0);
    pending = startNextBatch();
    while (pending) {
      const batch = await pending;
      pending = null;
      if (control.cancelled) break;
      const ok = batch.filter((d) => d.tensor);
      // Hand this batch to the model first, then start decoding the next one while it is inferred.
      const inference = ok.length > 0 ? embedder.embedImages(ok.map((d) => d.tensor!)) : Promise.resolve([]);
      pending = startNextBatch();
      const vectors = await inference;
      if (vectors.length !== ok.length) throw new Error(`the model returned ${vectors.length} vectors for ${ok.length} images`);
      const outcomes: EmbedOutcome[] = batch.map((d): EmbedOutcome => {
        const read = { size: d.photo.size, mtimeMs: d.photo.mtimeMs, status: d.photo.status };
        if (d.failure) return { photoId: d.photo.id, ok: false, ...d.failure, metadata: d.metadata, read };
        return { photoId: d.photo.id, ok: true, vector: vectors[ok.indexOf(d)], metadata: d.metadata, read };
      });
      // Stored only where the photo row is still what was read (another process may have seen the file go or change).
      const saved = catalogue.saveEmbedBatch(model, outcomes);
      const notStored = new Set(saved.skipped);
      skipped += notStored.size;
      for (const d of batch) {
        if (notStored.has(d.photo.id)) continue;
        if (!d.failure) embedded++;
        else {
          failed++;
          if (d.failure.status === 'unsupported') unsupported++;
        }
      }
      emit('embedding');
      if (control.paused) {
        emit('paused');
        await control.untilRunnable();
        rate.reset(embedded + failed); // the pause is not slowness
        if (!control.cancelled) emit('embedding');
      }
      if (control.cancelled) break;
    }
  } catch (error) {
    emit('error', (error as Error).message);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    // A batch still decoding when the run stops is dropped, but let it finish writing its thumbnails.
    await pending?.catch(() => undefined);
    await ownModel?.close();
  }

  const state = control.cancelled ? 'cancelled' : 'done';
  const durationMs = performance.now() - started;
  recordIndexingSpeed(catalogue, model.id, embedded, durationMs); // before 'done': a switch estimated then sees it
  emit(state);
  return {
    state, modelId: model.id, total, done: embedded + failed, embedded, failed, unsupported, skipped, durationMs,
    photosPerSecond: ((embedded + failed) * 1000) / Math.max(1, durationMs), runtime,
  };
}

/** Reads, hashes, reads EXIF from and decodes a batch, a few photos at a time. Never rejects. */
async function decodeBatch(photos: PhotoToEmbed[], folder: ModelFolder, thumbnails: ThumbnailWriter, concurrency: number): Promise<Decoded[]> {
  const out: Decoded[] = new Array(photos.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < photos.length) {
      const i = next++;
      out[i] = await decodeOne(photos[i], folder, thumbnails);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, photos.length) }, worker));
  return out;
}

async function decodeOne(photo: PhotoToEmbed, folder: ModelFolder, thumbnails: ThumbnailWriter): Promise<Decoded> {
  const metadata: PhotoMetadata = {
    width: null, height: null, format: null, contentHash: null, takenAt: null, cameraMake: null,
    cameraModel: null, lens: null, gpsLat: null, gpsLon: null, orientation: null,
  };
  let bytes: Buffer;
  try {
    bytes = await readFile(photo.path);
  } catch (error) {
    return { photo, metadata, failure: { status: 'error', error: `cannot read the file: ${(error as Error).message}` } };
  }
  try {
    const [hash, exif, decoded] = await Promise.all([
      sha256Hex(bytes),
      readMetadata(bytes),
      decodeForEmbedding(bytes, folder.preprocessCfg, { thumbSize: thumbnails.size }).then(
        (d) => d,
        (error: unknown) => error as Error,
      ),
    ]);
    metadata.contentHash = hash;
    if (decoded instanceof Error) {
      if (decoded instanceof UnsupportedFormatError) metadata.format = decoded.format;
      return { photo, metadata, failure: failureOf(decoded) };
    }
    Object.assign(metadata, exif, { width: decoded.width, height: decoded.height, format: decoded.format });
    await thumbnails.write(photo.id, decoded.thumbnail).catch(() => undefined); // the UI makes missing ones on demand
    return { photo, tensor: decoded.tensor, metadata };
  } catch (error) {
    return { photo, metadata, failure: { status: 'error', error: (error as Error).message || String(error) } };
  }
}

/** How a decoding failure is recorded: formats the decoder lacks are 'unsupported', anything else an 'error'. */
export function failureOf(error: unknown): { status: 'error' | 'unsupported'; error: string } {
  const message = (error as Error)?.message || String(error);
  return { status: error instanceof UnsupportedFormatError ? 'unsupported' : 'error', error: message };
}

/** sha256 of the bytes, hex; computed on libuv's thread pool so the event loop stays free. Same value as hashFile(). */
async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}

/** Writes thumbnails into the library's cache atomically (the UI may be reading them). */
class ThumbnailWriter {
  private readonly madeDirs = new Set<string>();
  constructor(
    private readonly library: Library,
    readonly size: number,
  ) {}

  async write(photoId: PhotoId, bytes: Buffer): Promise<void> {
    const file = thumbnailPath(this.library.paths, photoId);
    const dir = path.dirname(file);
    if (!this.madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    await writeFileAtomic(this.library.paths, file, bytes);
  }
}

/** Photos per second over a recent window, so the estimate follows the current pace. */
class RateWindow {
  private samples: { t: number; done: number }[] = [];
  constructor(private readonly windowMs: number) {}

  reset(done: number): void {
    this.samples = [{ t: performance.now(), done }];
  }

  perSecond(done: number): number {
    const now = performance.now();
    this.samples.push({ t: now, done });
    while (this.samples.length > 2 && now - this.samples[1].t >= this.windowMs) this.samples.shift();
    const first = this.samples[0];
    const seconds = (now - first.t) / 1000;
    return seconds > 0.05 ? (done - first.done) / seconds : 0;
  }
}
