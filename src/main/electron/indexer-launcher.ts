// Indexing (CLIP over hundreds of thousands of photos) runs in an Electron utility process, so the
// main process and the window stay responsive and a crash there cannot take the app down.
import { utilityProcess } from 'electron';
import type { IndexerChild, IndexerLauncher } from '../core/embed/indexer-client.js';
import type { IndexerEvent, IndexerRequest } from '../core/embed/indexer-protocol.js';

export const utilityProcessLauncher: IndexerLauncher = (entryPath: string): IndexerChild => {
  const child = utilityProcess.fork(entryPath, [], { serviceName: 'Photo Search Indexer', stdio: 'inherit' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  return {
    send: (message: IndexerRequest) => {
      if (!exited) child.postMessage(message);
    },
    onMessage: (listener: (message: IndexerEvent) => void) => {
      child.on('message', (message: unknown) => listener(message as IndexerEvent));
    },
    // A utility process reports an exit code only; a crash shows up as a non-zero code.
    onExit: (listener: (code: number | null, signal: string | null) => void) => {
      child.once('exit', (code: number) => listener(code, null));
    },
    kill: () => {
      if (!exited) child.kill();
    },
    get pid() {
      return child.pid;
    },
  };
};
