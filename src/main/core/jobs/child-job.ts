// One pattern for long library jobs that run in a child process of their own (a vector index rebuild, a
// duplicate scan): native calls there can block for seconds, and the process serving the UI must not.
// The parent forks an entry module under this Node with JSON arguments; the child reports progress and
// then one result or one error; killing the child cancels it. Both sides of the protocol live here.
import { fork } from 'node:child_process';
import os from 'node:os';

/**
 * A background job's scheduling priority (nice 10): on a 2-core machine a job that keeps both cores busy
 * (ONNX Runtime, FAISS, BLAS threads) otherwise delays the process answering the window by 50–85 ms at a time.
 */
const JOB_NICENESS = 10;

type JobMessage<P, R> =
  | { type: 'progress'; progress: P }
  | { type: 'result'; result: R }
  | { type: 'error'; message: string };

/** Lowers this process's priority to a background job's; threads started afterwards inherit it. */
export function lowerPriority(): void {
  try {
    os.setPriority(JOB_NICENESS);
  } catch {
    // Not permitted here (some sandboxes): the job runs at normal priority.
  }
}

export class JobCancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'JobCancelledError';
  }
}

export interface ChildJob<R> {
  /** Settles with the child's result; rejects with its error, JobCancelledError, or an early exit. */
  readonly result: Promise<R>;
  cancel(): void;
}

/** Runs `entry` (a module that calls serveChildJob) in a child process. */
export function startChildJob<A, P, R>(entry: string, args: A, onProgress?: (progress: P) => void): ChildJob<R> {
  const child = fork(entry, [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  let cancelled = false;
  const result = new Promise<R>((resolve, reject) => {
    let settled: { ok: true; value: R } | { ok: false; error: Error } | null = null;
    child.on('message', (message: JobMessage<P, R>) => {
      if (message?.type === 'progress') onProgress?.(message.progress);
      else if (message?.type === 'result') settled = { ok: true, value: message.result };
      else if (message?.type === 'error') settled = { ok: false, error: new Error(message.message) };
    });
    child.once('error', (error) => reject(error));
    child.once('exit', (code, signal) => {
      if (cancelled) reject(new JobCancelledError());
      else if (settled?.ok) resolve(settled.value);
      else reject(settled?.error ?? new Error(`the job stopped (${signal ?? `exit code ${code}`}) before it finished`));
    });
  });
  return {
    result,
    cancel() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      cancelled = true;
      child.kill();
    },
  };
}

/**
 * The child side: parses the arguments, runs `job`, posts its result (or error) and exits. The parent
 * going away (quit, crash) ends the job: its result would have no one to take it.
 */
export function serveChildJob<A, P, R>(job: (args: A, progress: (progress: P) => void) => Promise<R>): void {
  process.on('disconnect', () => process.exit(0));
  lowerPriority();
  const post = (message: JobMessage<P, R>) => new Promise<void>((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, undefined, () => resolve());
  });
  let args: A;
  try {
    args = JSON.parse(process.argv[2] ?? '') as A;
  } catch {
    void post({ type: 'error', message: 'the job was started without its arguments' }).then(() => process.exit(1));
    return;
  }
  job(args, (progress) => void post({ type: 'progress', progress })).then(
    (result) => post({ type: 'result', result }).then(() => process.exit(0)),
    (error: Error) => post({ type: 'error', message: error.message }).then(() => process.exit(1)),
  );
}
