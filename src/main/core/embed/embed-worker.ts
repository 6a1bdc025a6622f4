// Worker-thread entry that owns the CLIP image tower. onnxruntime-node runs inference synchronously
// on the calling thread; here that thread is this worker, so the pipeline's event loop stays free to
// keep decoding the next batch (each decode is a chain of file, sharp and hashing steps that each need
// the event loop between them).
import { parentPort, workerData } from 'node:worker_threads';
import { ClipModel } from '../model/clip-model.js';
import type { ModelFolder } from '../model/model-folder.js';

export interface EmbedWorkerData {
  folder: ModelFolder;
  threads: number;
  maxBatch: number;
}

export type EmbedWorkerRequest = { type: 'embed'; id: number; tensors: Float32Array[] } | { type: 'close' };

export type EmbedWorkerReply =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; vectors: Float32Array[] }
  | { type: 'error'; id: number; message: string };

const port = parentPort;
if (!port) throw new Error('embed-worker must run in a worker thread');
const { folder, threads, maxBatch } = workerData as EmbedWorkerData;

const post = (reply: EmbedWorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

try {
  const model = await ClipModel.load(folder, { threads, maxBatch });
  await model.visualInfo(); // creates the session now, so a broken model fails at start, not mid-run
  port.on('message', (message: EmbedWorkerRequest) => {
    if (message.type === 'close') {
      void model.release().finally(() => port.close());
      return;
    }
    model.embedImages(message.tensors).then(
      (vectors) => post({ type: 'result', id: message.id, vectors }, vectors.map((v) => v.buffer as ArrayBuffer)),
      (error: unknown) => post({ type: 'error', id: message.id, message: (error as Error).message || String(error) }),
    );
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'init-error', message: (error as Error).message || String(error) });
}
