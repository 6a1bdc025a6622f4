// Watches the library folders while the app runs, cheaply: one inotify/FSEvents watch per directory (a
// crawl that reads directories only, never stats a file), none per file. Any change in a watched directory
// is collected, and once the folders have been quiet for a while (2 s) the collected paths are handed on in
// one go: the caller rescans and indexes incrementally. A new subdirectory is watched as soon as it is seen.
//
// Watches are a system resource (Linux: fs.inotify.max_user_watches per user, shared with every other program;
// 8,192 by default before Linux 5.11; macOS: open files). Directories the system refuses to watch (ENOSPC, EMFILE) are
// checked instead every fallbackIntervalMs by their modification time, which changes when a file is added,
// removed or renamed in them (not when one is rewritten in place), and `fallback` says so for the status.
import { readFileSync, statSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fdir } from 'fdir';

export interface FolderWatcherOptions {
  /** The library folders to watch (read again on every sync). */
  folders: () => string[];
  /** The folders were quiet for quietMs after changes: these paths changed (files or directories). */
  onChanges: (paths: Set<string>) => void;
  quietMs?: number;
  /** How directories past the watch limit are checked: every this many ms (default 1 min). */
  fallbackIntervalMs?: number;
  /** fs.watch, or a stand-in (tests inject a limit). */
  watchFn?: typeof watch;
}

/** Directories checked by their modification time because the system would not watch them. */
export interface WatchFallbackState {
  dirs: number;
  intervalMs: number;
  reason: string;
}

const FALLBACK_INTERVAL_MS = 60_000;
/** Directories past the limit checked between two turns of the event loop. */
const POLL_SLICE = 500;
const LIMIT_CODES = new Set(['ENOSPC', 'EMFILE', 'ENFILE']);

const HIDDEN_DIRS = new Set(['@eaDir']);

export class FolderWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private changed = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private syncing: Promise<void> = Promise.resolve();
  /** Directories the system would not watch, with their last seen modification time (ms; -1: unreadable). */
  private readonly polled = new Map<string, number>();
  private limitReason: string | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(private readonly options: FolderWatcherOptions) {}

  /** Changed paths seen and not yet handed on (they wait for the folders to be quiet). */
  get waiting(): number {
    return this.changed.size;
  }

  /** Directories watched now. */
  get watchedDirs(): number {
    return this.watchers.size;
  }

  /** Directories past the watch limit and how they are checked instead; null when every one is watched. */
  get fallback(): WatchFallbackState | null {
    if (this.polled.size === 0 || !this.limitReason) return null;
    return { dirs: this.polled.size, intervalMs: this.fallbackIntervalMs, reason: this.limitReason };
  }

  private get fallbackIntervalMs(): number {
    return this.options.fallbackIntervalMs ?? FALLBACK_INTERVAL_MS;
  }

  /** Watches every directory of the library folders (and stops watching folders no longer in the library). */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncOnce()).catch(() => undefined);
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const roots = this.options.folders();
    const seen = new Set<string>();
    for (const root of roots) {
      for (const dir of await crawlDirs(root)) {
        seen.add(dir);
        this.watchDir(dir);
      }
    }
    for (const [dir, watcher] of this.watchers) {
      if (!seen.has(dir)) {
        watcher.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of this.polled.keys()) if (!seen.has(dir)) this.polled.delete(dir);
  }

  private watchDir(dir: string): void {
    if (this.closed || this.watchers.has(dir) || this.polled.has(dir)) return;
    try {
      const watcher = (this.options.watchFn ?? watch)(dir, { persistent: false }, (_event, filename) => {
        this.note(filename ? path.join(dir, filename.toString()) : dir);
      });
      watcher.on('error', (error: NodeJS.ErrnoException) => {
        watcher.close();
        this.watchers.delete(dir);
        if (LIMIT_CODES.has(error.code ?? '')) this.pollInstead(dir, error.code!);
        // Else the directory went away (its removal is noted by its parent's watch).
        else this.note(dir);
      });
      this.watchers.set(dir, watcher);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (LIMIT_CODES.has(code)) this.pollInstead(dir, code);
      // Else vanished or unreadable: the next sync tries again.
    }
  }

  /** The system would not watch dir: check its modification time periodically instead. */
  private pollInstead(dir: string, code: string): void {
    if (this.closed) return;
    this.limitReason ??= limitReason(code);
    this.polled.set(dir, -1);
    void stat(dir).then((info) => {
      if (this.polled.get(dir) === -1) this.polled.set(dir, info.mtimeMs);
    }, () => undefined);
    if (!this.pollTimer) {
      this.pollTimer = setInterval(() => void this.checkPolled(), this.fallbackIntervalMs);
      this.pollTimer.unref();
    }
  }

  /** One pass over the directories past the limit: those whose modification time moved count as changed. */
  private async checkPolled(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      let checked = 0;
      for (const [dir, seen] of this.polled) {
        // Synchronous stats in slices, yielding between them: ~3 µs a directory against ~20 µs for a promise each,
        // and the event loop is held for one slice at most.
        if (++checked % POLL_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
        if (this.closed) return;
        if (!this.polled.has(dir)) continue;
        const info = statIfThere(dir);
        const mtime = info?.mtimeMs ?? -1;
        if (mtime === seen) continue;
        this.polled.set(dir, mtime);
        // Gone: stop checking it (its parent's change covers the removal).
        if (!info) this.polled.delete(dir);
        this.note(dir);
      }
    } finally {
      this.polling = false;
    }
  }

  private note(changedPath: string): void {
    if (this.closed) return;
    // Hidden files (a copy tool's temporary '.name.XXXX') are not photos; the rename to the real name is seen.
    if (path.basename(changedPath).startsWith('.')) return;
    this.changed.add(changedPath);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.options.quietMs ?? 2000);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    const paths = this.changed;
    this.changed = new Set();
    // New subdirectories (a folder copied in) are watched from now on.
    for (const p of paths) {
      if (this.watchers.has(p)) continue;
      // A directory past the limit changed: only its new subdirectories need a look.
      if (this.polled.has(p)) {
        for (const dir of await crawlDirs(p)) this.watchDir(dir);
        continue;
      }
      const info = await stat(p).catch(() => null);
      if (info?.isDirectory()) for (const dir of await crawlDirs(p)) this.watchDir(dir);
    }
    if (!this.closed) this.options.onChanges(paths);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.polled.clear();
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.changed.clear();
  }
}

function statIfThere(dir: string): Stats | null {
  try {
    return statSync(dir);
  } catch {
    return null;
  }
}

/** Why the system refused a watch, for the status: the limit and, on Linux, its value. */
function limitReason(code: string): string {
  if (code !== 'ENOSPC') return "the system's limit on open files is reached";
  let limit = '';
  try {
    limit = ` (fs.inotify.max_user_watches = ${readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim()})`;
  } catch {
    // Not Linux, or not readable: say it without the figure.
  }
  return `the system's watch limit${limit} is reached`;
}

/** The directory and its subdirectories (hidden ones and Synology thumbnail folders skipped); links not followed. */
async function crawlDirs(root: string): Promise<string[]> {
  const dirs = (await new fdir()
    .withFullPaths()
    .onlyDirs()
    .exclude((name) => name.startsWith('.') || HIDDEN_DIRS.has(name))
    .crawl(root)
    .withPromise()
    .catch(() => [])) as string[];
  return dirs.map((d) => (d.length > 1 && d.endsWith(path.sep) ? d.slice(0, -1) : d));
}
