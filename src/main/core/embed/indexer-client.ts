// Runs indexing in a background process and relays its progress. The process is started through a
// launcher: by default child_process.fork of indexer-process.js under the same plain Node (the desktop app's
// library host is plain Node too, so no Electron process ever decodes images). If the process dies without
// saying it is done (crash, kill, out of memory), the client reports state 'error' with the exit code or
// signal and rejects the run.
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { IndexingProgress } from '../../../shared/types.js';
import type { IndexerEvent, IndexerRequest, IndexerStartRequest } from './indexer-protocol.js';
import type { IndexingSummary } from './pipeline.js';

/** A started indexer process, whatever started it. */
export interface IndexerChild {
  send(message: IndexerRequest): void;
  onMessage(listener: (message: IndexerEvent) => void): void;
  /** Called once when the process ends; signal is null where the platform reports none. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(signal?: NodeJS.Signals): void;
  readonly pid?: number;
}

export type IndexerLauncher = (entryPath: string) => IndexerChild;

/** The compiled indexer-process.js beside this file. */
export const INDEXER_ENTRY = fileURLToPath(new URL('./indexer-process.js', import.meta.url));

/**
 * The indexer's environment: the parent's, plus a fixed glibc mmap threshold of 1 MiB unless the user set
 * one. By default glibc raises the threshold each time an mmapped block is freed, up to 32 MiB; the model
 * worker frees a 9.6 MB batch input (16 photos × 3×224×224 floats) every batch, so soon every buffer the
 * indexer churns through (that batch, the 600 KB tensor per photo made on the main thread and freed in the
 * worker, libvips images) came from malloc's heaps, which fragmented: the indexer's RSS grew ~100 MiB over
 * its first ~8,000 photos (bench/indexer-soak.ts, docs/BENCHMARKS.md section 6). With the threshold fixed, the
 * batch input is an mmap returned to the system when freed and RSS stays flat. (128 KiB, glibc's starting
 * value, is flat too but costs ~10% more CPU per decoded photo in page faults; 1 MiB costs ~4%.)
 * Other C libraries ignore the variable.
 */
export function indexerEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const userChose = base.MALLOC_MMAP_THRESHOLD_ !== undefined || /mmap_threshold/.test(base.GLIBC_TUNABLES ?? '');
  return userChose ? { ...base } : { ...base, MALLOC_MMAP_THRESHOLD_: String(INDEXER_MMAP_THRESHOLD) };
}

/** glibc's mmap threshold in the indexer process, bytes (see indexerEnv). */
export const INDEXER_MMAP_THRESHOLD = 1024 * 1024;

/** Plain Node: child_process.fork, with extra Node options for the child (tests load a probe with --import). */
export function forkLauncherWith(execArgv: string[]): IndexerLauncher {
  return (entryPath) => forkIndexer(entryPath, execArgv);
}

/** Plain Node: child_process.fork. */
export const forkLauncher: IndexerLauncher = forkLauncherWith([]);

function forkIndexer(entryPath: string, execArgv: string[]): ReturnType<IndexerLauncher> {
  const child = fork(entryPath, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv, serialization: 'advanced', env: indexerEnv(),
  });
  return {
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', (message) => listener(message as IndexerEvent)),
    onExit: (listener) => child.once('exit', (code, signal) => listener(code, signal)),
    kill: (signal) => child.kill(signal),
    get pid() {
      return child.pid;
    },
  };
}

export class IndexerExitError extends Error {
  override name = 'IndexerExitError';
  constructor(
    readonly code: number | null,
    readonly signal: string | null,
  ) {
    super(signal ? `the indexer process was killed by ${signal}` : `the indexer process exited with code ${code} before finishing`);
  }
}

interface ClientEvents {
  progress: [IndexingProgress];
  done: [IndexingSummary];
  error: [Error];
}

export interface IndexerClientOptions {
  launcher?: IndexerLauncher;
  entry?: string;
}

export class IndexerClient extends EventEmitter<ClientEvents> {
  private readonly launcher: IndexerLauncher;
  private readonly entry: string;
  private child: IndexerChild | null = null;
  private lastProgress: IndexingProgress | null = null;
  private exited: Promise<void> = Promise.resolve();
  private ready = false;
  private queued: IndexerRequest[] = [];

  constructor(options: IndexerClientOptions = {}) {
    super();
    this.launcher = options.launcher ?? forkLauncher;
    this.entry = options.entry ?? INDEXER_ENTRY;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get progress(): IndexingProgress | null {
    return this.lastProgress;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Starts a run in a new process; resolves with its summary (also when cancelled), rejects if the
   * process reports an error or dies. Only one run at a time.
   */
  start(request: Omit<IndexerStartRequest, 'type'>): Promise<IndexingSummary> {
    if (this.child) return Promise.reject(new Error('indexing is already running'));
    const child = this.launcher(this.entry);
    this.child = child;
    this.lastProgress = null;
    this.ready = false;
    this.queued = [];
    let resolveExit!: () => void;
    this.exited = new Promise((resolve) => (resolveExit = resolve));
    // Settled when the process has exited, so the client can start the next run as soon as this resolves.
    return new Promise<IndexingSummary>((resolve, reject) => {
      let summary: IndexingSummary | null = null;
      let failure: Error | null = null;
      const fail = (error: Error): void => {
        if (failure || summary) return;
        failure = error;
        if (this.lastProgress?.state !== 'error') {
          this.setProgress({
            ...(this.lastProgress ?? { done: 0, total: 0, failed: 0, photosPerSecond: 0, etaSeconds: null }),
            state: 'error', message: error.message,
          });
        }
        if (this.listenerCount('error') > 0) this.emit('error', error);
      };
      child.onMessage((message) => {
        if (failure || summary) return;
        if (message.type === 'ready') {
          this.ready = true;
          child.send({ type: 'start', ...request });
          for (const m of this.queued.splice(0)) child.send(m);
        } else if (message.type === 'progress') this.setProgress(message.progress);
        else if (message.type === 'done') {
          summary = message.summary;
          this.emit('done', summary);
        } else if (message.type === 'error') fail(new Error(message.message));
      });
      child.onExit((code, signal) => {
        if (this.child === child) this.child = null;
        resolveExit();
        fail(new IndexerExitError(code, signal));
        if (summary) resolve(summary);
        else reject(failure!);
      });
    });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  cancel(): void {
    this.send({ type: 'cancel' });
  }

  /** Requests made before the child is ready wait for it (they follow the start request). */
  private send(message: IndexerRequest): void {
    if (!this.child) return;
    if (this.ready) this.child.send(message);
    else this.queued.push(message);
  }

  /** Kills the process at once (the batch in flight is lost; everything stored before it stays). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  /** Cancels, waits for the process to end, and kills it if it has not within the timeout. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.child) return;
    this.cancel();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const ended = await Promise.race([this.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (ended) {
      this.kill('SIGKILL');
      await this.exited;
    }
  }

  private setProgress(progress: IndexingProgress): void {
    this.lastProgress = progress;
    this.emit('progress', progress);
  }
}
