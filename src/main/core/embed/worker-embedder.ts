// A CLIP tower in a worker thread (see embed-worker.ts): the image tower behind the pipeline's
// ImageEmbedder interface, or the text tower for search. Tensors and vectors cross the thread boundary
// by transfer, not copy: the caller must not use a tensor after handing it to embedImages.
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import type { ModelFolder } from '../model/model-folder.js';
import type { EmbeddingRuntime } from '../../../shared/types.js';
import type { ImageTowerRequest } from './image-tower-setup.js';
import type { EmbedWorkerData, EmbedWorkerReply, EmbedWorkerRequest, Tower } from './embed-worker.js';
import type { ImageEmbedder } from './pipeline.js';

const WORKER_ENTRY = new URL('./embed-worker.js', import.meta.url);

export interface WorkerEmbedderOptions {
  /** Which tower the worker loads. Default 'visual'. */
  tower?: Tower;
  /** ONNX Runtime intra-op threads. Default: the number of cores. */
  threads?: number;
  /** Most images per inference run. Default 16. */
  maxBatch?: number;
  /**
   * The image tower's provider, and calibration (image-tower-setup.ts); given, it decides the image tower's
   * threads and batch size, and `threads` / `maxBatch` are ignored.
   */
  image?: ImageTowerRequest;
  /** Progress in words while the tower is set up (a calibration). */
  onStatus?: (message: string) => void;
}

export class WorkerEmbedder implements ImageEmbedder {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    /** The image tower's provider and settings; null for the text tower. */
    readonly runtime: EmbeddingRuntime | null,
  ) {
    worker.on('message', (reply: EmbedWorkerReply) => {
      if (reply.type !== 'result' && reply.type !== 'error') return;
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.type === 'result') waiter?.resolve(reply.vectors);
      else waiter?.reject(new Error(reply.message));
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      for (const w of this.waiting.values()) w.reject(this.failure);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the model worker exited (code ${code})`)));
  }

  /** Starts the worker and loads its tower; rejects if the model cannot be loaded. */
  static async start(folder: ModelFolder, options: WorkerEmbedderOptions = {}): Promise<WorkerEmbedder> {
    const data: EmbedWorkerData = {
      folder,
      tower: options.tower ?? 'visual',
      threads: Math.max(1, options.threads ?? os.availableParallelism()),
      maxBatch: Math.max(1, options.maxBatch ?? 16),
      image: options.image,
    };
    const worker = new Worker(WORKER_ENTRY, { workerData: data });
    let runtime: EmbeddingRuntime | null = null;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (reply: EmbedWorkerReply): void => {
        if (reply.type === 'ready') {
          runtime = reply.runtime;
          done(null);
        } else if (reply.type === 'status') options.onStatus?.(reply.message);
        else if (reply.type === 'init-error') done(new Error(reply.message));
      };
      const onError = (error: Error): void => done(error);
      const onExit = (code: number): void => done(new Error(`the model worker exited (code ${code}) while loading`));
      const done = (error: Error | null): void => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (error) {
          void worker.terminate();
          reject(error);
        } else resolve();
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    return new WorkerEmbedder(worker, runtime);
  }

  embedImages(tensors: Float32Array[]): Promise<Float32Array[]> {
    if (tensors.length === 0) return Promise.resolve([]);
    // Transfer each tensor's buffer unless it is shared with other data (then it is copied).
    const buffers = [...new Set(tensors.map((t) => t.buffer))].filter(
      (b): b is ArrayBuffer => b instanceof ArrayBuffer && tensors.some((t) => t.buffer === b && t.byteLength === b.byteLength));
    return this.request((id) => ({ type: 'embed', id, tensors }), buffers);
  }

  /** Text queries → L2-normalised vectors (a worker started with tower 'textual'). */
  embedTexts(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    return this.request((id) => ({ type: 'embed-texts', id, texts }));
  }

  private request(make: (id: number) => EmbedWorkerRequest, transfer: ArrayBuffer[] = []): Promise<Float32Array[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage(make(id), transfer);
    });
  }

  /** Releases the model and stops the worker. */
  async close(): Promise<void> {
    if (this.failure) return;
    this.failure = new Error('the model worker is closed');
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ type: 'close' } satisfies EmbedWorkerRequest);
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }
}
