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

/** Plain Node: child_process.fork. */
export const forkLauncher: IndexerLauncher = (entryPath) => {
  const child = fork(entryPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [], serialization: 'advanced' });
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
};

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
