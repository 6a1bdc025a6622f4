// One writer per library (issue 10): a run that writes the catalogue in bulk (indexing) holds the library's
// writer lock, and a second one, in another process, refuses with a message naming the holder instead of
// redoing the same photos. Readers (`serve`, search, status) never take it.
//
// The lock is SQLite's own: an EXCLUSIVE transaction held open on a small side database (library.lock). The
// operating system drops it when its process exits, however it exits (kill -9 included), so it can never be
// left behind; there is no stale lock to detect or break. Who holds it is written beside it (library.lock.json),
// for the refusal's message only.
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { sleepSync } from './sleep-sync.js';

export const LOCK_FILE = 'library.lock';
export const OWNER_FILE = 'library.lock.json';

export interface LockOwner {
  pid: number;
  what: string;
  since: number;
}

export class LibraryBusyError extends Error {
  constructor(
    readonly libraryDir: string,
    readonly owner: LockOwner | null,
  ) {
    super(owner
      ? `another process is already writing this library (${owner.what}, pid ${owner.pid}, since ${new Date(owner.since).toISOString()}): ` +
        `${libraryDir}. Wait for it to finish or stop it; its work is kept.`
      : `another process is already writing this library: ${libraryDir}. Wait for it to finish or stop it; its work is kept.`);
    this.name = 'LibraryBusyError';
  }
}

export interface WriterLock {
  release(): void;
}

/** Locks held by this process, by library dir: nested holders in one process share one lock. */
const held = new Map<string, { db: Database.Database; count: number }>();

/** Takes the library's writer lock, or throws LibraryBusyError at once when another process holds it. */
export function acquireWriterLock(libraryDir: string, what: string): WriterLock {
  const dir = path.resolve(libraryDir);
  let entry = held.get(dir);
  if (!entry) {
    mkdirSync(dir, { recursive: true });
    const db = new Database(path.join(dir, LOCK_FILE), { timeout: 0 });
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new LibraryBusyError(dir, ownerOfTakenLock(dir));
      throw error;
    }
    try {
      writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid, what, since: Date.now() } satisfies LockOwner));
    } catch {
      // informational only
    }
    entry = { db, count: 0 };
    held.set(dir, entry);
  }
  entry.count++;
  let released = false;
  const taken = entry;
  return {
    release(): void {
      if (released) return;
      released = true;
      if (--taken.count > 0) return;
      held.delete(dir);
      try {
        taken.db.exec('ROLLBACK');
      } finally {
        taken.db.close();
      }
      // After the lock is free: while it is held, its name is there for a refusal to show.
      if (readOwner(dir)?.pid === process.pid) rmSync(path.join(dir, OWNER_FILE), { force: true });
    },
  };
}

export const LOCK_RETRY_MS = 2000;

/**
 * Takes the writer lock, waiting for it while another process holds it (the lock has no queue: it is tried
 * again every retryMs). onBusy hears about each refusal, naming the holder. Rejects when the signal aborts.
 */
export async function waitForWriterLock(
  libraryDir: string,
  what: string,
  options: { signal?: AbortSignal; retryMs?: number; onBusy?: (busy: LibraryBusyError) => void } = {},
): Promise<WriterLock> {
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      return acquireWriterLock(libraryDir, what);
    } catch (error) {
      if (!(error instanceof LibraryBusyError)) throw error;
      options.onBusy?.(error);
    }
    await delay(options.retryMs ?? LOCK_RETRY_MS, undefined, { signal: options.signal });
  }
}

/** "photo-search index, pid 123": who holds the lock, in a few words. */
export function describeOwner(owner: LockOwner | null): string {
  return owner ? `${owner.what}, pid ${owner.pid}` : 'another process';
}

/** The holder writes its name just after taking the lock: a refusal in between waits a moment for it. */
function ownerOfTakenLock(dir: string): LockOwner | null {
  const deadline = Date.now() + OWNER_WAIT_MS;
  for (;;) {
    const owner = readOwner(dir);
    if (owner || Date.now() > deadline) return owner;
    sleepSync(10);
  }
}

const OWNER_WAIT_MS = 200;

function readOwner(dir: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as LockOwner;
    return Number.isInteger(owner.pid) ? owner : null;
  } catch {
    return null;
  }
}
