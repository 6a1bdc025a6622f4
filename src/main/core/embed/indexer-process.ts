// Entry of the background indexer process. It runs one indexing pass per process: the child posts
// {type:'ready'} once it listens, the parent sends {type:'start'}, then optionally pause / resume /
// cancel; the child posts progress and finally {type:'done'} or {type:'error'}, then exits. Works when forked by Node (process.send and
// process.on('message')) and when started by Electron's utilityProcess (process.parentPort).
import path from 'node:path';
import { Library } from '../library.js';
import { loadModelFolder } from '../model/model-folder.js';
import { IndexingControl } from './control.js';
import { isIndexerRequest, type IndexerEvent, type IndexerRequest, type IndexerStartRequest } from './indexer-protocol.js';
import { runIndexing } from './pipeline.js';
import { defaultCalibrationFile } from './calibration-store.js';
import { lowerPriority } from '../jobs/child-job.js';

// Background work: the library host answering the window keeps precedence for the cores.
lowerPriority();

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

interface Channel {
  post(message: IndexerEvent): Promise<void>;
  onMessage(listener: (message: unknown) => void): void;
}

function parentChannel(): Channel | null {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      // postMessage has no delivery callback: give the last message a moment before the process exits.
      post: (message) => new Promise((resolve) => {
        parentPort.postMessage(message);
        if (message.type === 'done' || message.type === 'error') setTimeout(resolve, 100);
        else resolve();
      }),
      onMessage: (listener) => parentPort.on('message', (event) => listener(event.data)),
    };
  }
  if (process.send) {
    return {
      post: (message) => new Promise((resolve) => {
        if (!process.connected) return resolve();
        process.send!(message, undefined, undefined, () => resolve());
      }),
      onMessage: (listener) => process.on('message', listener),
    };
  }
  return null;
}

const channel = parentChannel();
if (!channel) {
  console.error('indexer-process: start me with child_process.fork or Electron utilityProcess, not directly');
  process.exit(2);
}

/** SQLite page cache of the indexer's catalogue connection, KiB. */
const INDEXER_PAGE_CACHE_KIB = 8192;

const control = new IndexingControl();
let started = false;

channel.onMessage((message) => {
  if (!isIndexerRequest(message)) {
    void channel.post({ type: 'error', message: `indexer: unexpected message ${JSON.stringify(message)?.slice(0, 200)}` });
    return;
  }
  handle(message);
});
// Forked by Node: if the parent goes away, stop after the batch in flight instead of running orphaned.
process.on('disconnect', () => control.cancel());
void channel.post({ type: 'ready' });

function handle(message: IndexerRequest): void {
  switch (message.type) {
    case 'pause': control.pause(); break;
    case 'resume': control.resume(); break;
    case 'cancel': control.cancel(); break;
    case 'start':
      if (started) {
        void channel!.post({ type: 'error', message: 'indexer: already started (one run per process)' });
        return;
      }
      started = true;
      void run(message).then((code) => process.exit(code));
  }
}

async function run(request: IndexerStartRequest): Promise<number> {
  let library: Library | null = null;
  try {
    library = Library.open(request.libraryDir);
    // This connection writes each photo's row and vector once and reads only the next batch to embed, so a
    // page cache the size of the UI's (64 MiB) would only fill with pages it never reads again: ~3 KB more
    // RSS per photo until it is full (~25k photos at 512-d). A small one keeps the indexer's memory flat.
    library.catalogue.db.pragma(`cache_size = -${INDEXER_PAGE_CACHE_KIB}`);
    const current = library.currentModel;
    const modelId = request.modelId
      ?? (current?.dir && path.resolve(current.dir) === path.resolve(request.modelDir) ? current.id : undefined);
    const modelFolder = await loadModelFolder(request.modelDir, modelId);
    const summary = await runIndexing({
      library, modelFolder, control, batchSize: request.batchSize, threads: request.threads, lockHeldByParent: request.parentHoldsLock,
      onProgress: (progress) => void channel!.post({ type: 'progress', progress }),
      // The library's provider setting; threads and batch size measured once per machine (calibration-store.ts).
      calibrationFile: defaultCalibrationFile(),
    });
    library.close();
    library = null;
    await channel!.post({ type: 'done', summary });
    return 0;
  } catch (error) {
    library?.close();
    await channel!.post({ type: 'error', message: (error as Error).message || String(error) });
    return 1;
  }
}
