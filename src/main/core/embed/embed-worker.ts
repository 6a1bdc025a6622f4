// Worker-thread entry that owns one CLIP tower. onnxruntime-node runs inference synchronously on the
// calling thread; here that thread is this worker, so the caller's event loop stays free: the pipeline
// keeps decoding the next batch (the image tower), and the app's main process keeps answering while a
// query is embedded (the text tower).
import { parentPort, workerData } from 'node:worker_threads';
import { ClipModel } from '../model/clip-model.js';
import type { ModelFolder } from '../model/model-folder.js';
import type { EmbeddingRuntime } from '../../../shared/types.js';
import { prepareImageTower, type ImageTowerRequest } from './image-tower-setup.js';

export type Tower = 'visual' | 'textual';

export interface EmbedWorkerData {
  folder: ModelFolder;
  tower: Tower;
  /** The text tower's threads and batch cap. */
  threads: number;
  maxBatch: number;
  /** The image tower's provider and settings (image-tower-setup.ts). */
  image?: ImageTowerRequest;
}

export type EmbedWorkerRequest =
  | { type: 'embed'; id: number; tensors: Float32Array[] }
  | { type: 'embed-texts'; id: number; texts: string[] }
  | { type: 'close' };

export type EmbedWorkerReply =
  | { type: 'ready'; runtime: EmbeddingRuntime | null }
  | { type: 'status'; message: string }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; vectors: Float32Array[] }
  | { type: 'error'; id: number; message: string };

const port = parentPort;
if (!port) throw new Error('embed-worker must run in a worker thread');
const { folder, tower, threads, maxBatch, image } = workerData as EmbedWorkerData;

const post = (reply: EmbedWorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

try {
  // Create the session now, so a broken model fails at start, not mid-run.
  let model: ClipModel;
  let runtime: EmbeddingRuntime | null = null;
  if (tower === 'textual') {
    model = await ClipModel.load(folder, { threads, maxBatch });
    await model.textualInfo();
  } else {
    const onStatus = (message: string): void => post({ type: 'status', message });
    ({ model, runtime } = await prepareImageTower(folder, image ?? { provider: 'cpu', threads, batchSize: maxBatch }, { onStatus }));
  }
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
  post({ type: 'ready', runtime });
} catch (error) {
  post({ type: 'init-error', message: (error as Error).message || String(error) });
}
