// The window's side of the library host: starts it (child_process.fork under a Node runtime), relays calls
// and media lookups to it, passes its events on, and restarts it when it dies. Plain Node, no Electron, so
// tests drive it exactly as the main process does.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { MediaKind } from '../../shared/api.js';
import type { ApiEvent, HostState } from '../../shared/types.js';
import { isHostToMain, type HostToMain, type MainToHost } from './host-protocol.js';

export interface HostClientOptions {
  /** The Node binary that runs the host. */
  nodePath: string;
  /** library-host.js */
  entry: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** More crashes than this within restartWindowMs and the client gives up (state 'failed'). */
  maxRestarts?: number;
  restartWindowMs?: number;
  restartDelayMs?: number;
}

export interface MediaFile {
  path: string;
  contentType: string;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface ClientEvents {
  /** An event of the library (indexing progress, model status…) or of the host itself. */
  event: [ApiEvent];
}

export class HostStoppedError extends Error {
  override name = 'HostStoppedError';
}

export class LibraryHostClient extends EventEmitter<ClientEvents> {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private ready: Promise<void> = Promise.resolve();
  private markReady: (() => void) | null = null;
  private failReady: ((error: Error) => void) | null = null;
  private crashes: number[] = [];
  private closing = false;
  private state: HostState = 'starting';
  private lastMessage = '';
  libraryDir: string | null = null;

  constructor(private readonly options: HostClientOptions) {
    super();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get hostState(): { state: HostState; message: string } {
    return { state: this.state, message: this.lastMessage };
  }

  /** Starts the host; resolves once it has opened the library, rejects if it cannot. */
  start(): Promise<void> {
    this.spawn();
    return this.ready;
  }

  call(method: string, args: unknown[]): Promise<unknown> {
    return this.request((id) => ({ type: 'call', id, method, args }));
  }

  media(kind: MediaKind, photoId: number): Promise<MediaFile | null> {
    return this.request((id) => ({ type: 'media', id, kind, photoId })) as Promise<MediaFile | null>;
  }

  /** Asks the host to close the library (stopping any indexing) and waits for it to exit; kills it after the timeout. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'close' } satisfies MainToHost);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    if ((await Promise.race([exited, late])) === 'late') {
      child.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  }

  private async request(build: (id: number) => MainToHost): Promise<unknown> {
    if (this.state === 'failed') throw new HostStoppedError(`the library process is not running: ${this.lastMessage}`);
    await this.ready;
    const child = this.child;
    if (!child?.connected) throw new HostStoppedError('the library process is not running');
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send(build(id));
    });
  }

  private spawn(): void {
    // Calls wait for the next 'ready'; one promise spans every restart until a host answers.
    if (!this.markReady) {
      this.ready = new Promise<void>((resolve, reject) => {
        this.markReady = resolve;
        this.failReady = reject;
      });
      // A caller may never await `ready` (no call made while the host restarts): don't let that reject loudly.
      this.ready.catch(() => undefined);
    }
    const child = fork(this.options.entry, this.options.args, {
      execPath: this.options.nodePath,
      execArgv: [],
      // Electron's main sets this for its own children; the host is a plain Node program.
      env: { ...(this.options.env ?? process.env), ELECTRON_RUN_AS_NODE: undefined },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    let fatal: string | null = null;
    child.on('message', (message: unknown) => {
      if (!isHostToMain(message)) return;
      if (message.type === 'fatal') fatal = message.message;
      else this.onMessage(message);
    });
    let spawned = false;
    child.once('spawn', () => {
      spawned = true;
    });
    child.on('error', (error) => {
      // Once started, an error is a message sent to a host that has just died (EPIPE): its exit says why, and
      // it is restarted like any crash. Only a host that never started is beyond a restart.
      if (!spawned) fatal ??= `cannot start the library process with ${this.options.nodePath}: ${error.message}`;
    });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      const why = fatal ?? (signal ? `it was stopped by ${signal}` : `it exited with code ${code}`);
      for (const [, pending] of this.pending) pending.reject(new HostStoppedError(`the library process stopped (${why}); try again`));
      this.pending.clear();
      if (this.closing) return;
      this.onCrash(why, fatal !== null);
    });
  }

  private onMessage(message: Exclude<HostToMain, { type: 'fatal' }>): void {
    if (message.type === 'ready') {
      this.libraryDir = message.libraryDir;
      const recovered = this.state === 'restarting';
      this.setState('ready', recovered ? 'The library process was restarted' : '');
      this.markReady?.();
      this.markReady = this.failReady = null;
      if (recovered) this.emit('event', { type: 'library-changed' });
    } else if (message.type === 'reply') {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(new Error(message.error));
    } else if (message.type === 'event') {
      this.emit('event', message.event);
    }
  }

  private onCrash(why: string, fatal: boolean): void {
    const now = Date.now();
    const window = this.options.restartWindowMs ?? 60_000;
    this.crashes = [...this.crashes.filter((t) => now - t < window), now];
    if (fatal || this.crashes.length > (this.options.maxRestarts ?? 3)) {
      const message = fatal ? why : `The library process keeps stopping (${why})`;
      this.setState('failed', message);
      this.failReady?.(new HostStoppedError(message));
      this.markReady = this.failReady = null;
      return;
    }
    this.setState('restarting', `The library process stopped (${why}); restarting it`);
    setTimeout(() => {
      if (!this.closing) this.spawn();
    }, this.options.restartDelayMs ?? 300);
  }

  private setState(state: HostState, message: string): void {
    this.state = state;
    this.lastMessage = message;
    this.emit('event', { type: 'host', state, message });
  }
}
