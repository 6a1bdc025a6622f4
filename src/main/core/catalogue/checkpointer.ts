// Moves SQLite's WAL checkpoints off the thread that answers the UI. With the default auto-checkpoint, the
// commit that pushes the WAL past 1,000 pages copies them into the database file before it returns: a
// rating on 10,000 photos took 170 ms, of which about 100 ms was that copy. The serving connection turns
// auto-checkpoints off and this worker thread, with its own connection, checkpoints every few seconds
// (PASSIVE: it never waits for or blocks readers and writers).
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const INTERVAL_MS = 2000;

export interface Checkpointer {
  stop(): Promise<void>;
}

/** Starts checkpointing `file` from a worker thread. */
export function startCheckpointer(file: string, intervalMs = INTERVAL_MS): Checkpointer {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { file, intervalMs } });
  worker.on('error', (error) => console.error(`catalogue checkpoints stopped: ${error.message}`));
  return {
    async stop() {
      worker.postMessage('stop');
      await new Promise<void>((resolve) => {
        // A worker that does not stop within 5 s is terminated; its 'exit' settles this either way.
        const timer = setTimeout(() => void worker.terminate(), 5000);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

if (!isMainThread && (workerData as { file?: string } | null)?.file) {
  const { file, intervalMs } = workerData as { file: string; intervalMs: number };
  const db = new Database(file);
  db.pragma('busy_timeout = 1000');
  const checkpoint = () => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or locked: the next round tries again.
    }
  };
  const timer = setInterval(checkpoint, intervalMs);
  parentPort!.on('message', () => {
    clearInterval(timer);
    checkpoint();
    db.close();
    process.exit(0);
  });
}
