// Worker-thread entry that owns one CLIP tower. onnxruntime-node runs inference synchronously on the
// calling thread; here that thread is this worker, so the caller's event loop stays free: the pipeline
// keeps decoding the next batch (the image tower), and the app's main process keeps answering while a
// query is embedded (the text tower).
import { parentPort, workerData } from 'node:worker_threads';
import { ClipModel } from '../model/clip-model.js';
import type { ModelFolder } from '../model/model-folder.js';

export type Tower = 'visual' | 'textual';

export interface EmbedWorkerData {
  folder: ModelFolder;
  tower: Tower;
  threads: number;
  maxBatch: number;
}

export type EmbedWorkerRequest =
  | { type: 'embed'; id: number; tensors: Float32Array[] }
  | { type: 'embed-texts'; id: number; texts: string[] }
  | { type: 'close' };

export type EmbedWorkerReply =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; vectors: Float32Array[] }
  | { type: 'error'; id: number; message: string };

const port = parentPort;
if (!port) throw new Error('embed-worker must run in a worker thread');
const { folder, tower, threads, maxBatch } = workerData as EmbedWorkerData;

const post = (reply: EmbedWorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

try {
  const model = await ClipModel.load(folder, { threads, maxBatch });
  // Create the session now, so a broken model fails at start, not mid-run.
  await (tower === 'textual' ? model.textualInfo() : model.visualInfo());
  port.on('message', (message: EmbedWorkerRequest) => {
    if (message.type === 'close') {
      void model.release().finally(() => port.close());
      return;
    }
    const work = message.type === 'embed' ? model.embedImages(message.tensors) : model.embedTexts(message.texts);
    work.then(
      (vectors) => post({ type: 'result', id: message.id, vectors }, vectors.map((v) => v.buffer as ArrayBuffer)),
      (error: unknown) => post({ type: 'error', id: message.id, message: (error as Error).message || String(error) }),
    );
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'init-error', message: (error as Error).message || String(error) });
}
