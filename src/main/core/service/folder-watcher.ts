// Watches the library folders while the app runs, cheaply: one inotify/FSEvents watch per directory (a
// crawl that reads directories only, never stats a file), none per file. Any change in a watched directory
// is collected, and once the folders have been quiet for a while (2 s) the collected paths are handed on in
// one go: the caller rescans and indexes incrementally. A new subdirectory is watched as soon as it is seen.
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fdir } from 'fdir';

export interface FolderWatcherOptions {
  /** The library folders to watch (read again on every sync). */
  folders: () => string[];
  /** The folders were quiet for quietMs after changes: these paths changed (files or directories). */
  onChanges: (paths: Set<string>) => void;
  quietMs?: number;
}

const HIDDEN_DIRS = new Set(['@eaDir']);

export class FolderWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private changed = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly options: FolderWatcherOptions) {}

  /** Changed paths seen and not yet handed on (they wait for the folders to be quiet). */
  get waiting(): number {
    return this.changed.size;
  }

  /** Directories watched now. */
  get watchedDirs(): number {
    return this.watchers.size;
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
  }

  private watchDir(dir: string): void {
    if (this.closed || this.watchers.has(dir)) return;
    try {
      const watcher = watch(dir, { persistent: false }, (_event, filename) => {
        this.note(filename ? path.join(dir, filename.toString()) : dir);
      });
      watcher.on('error', () => {
        // The directory went away (its removal is noted by its parent's watch).
        watcher.close();
        this.watchers.delete(dir);
        this.note(dir);
      });
      this.watchers.set(dir, watcher);
    } catch {
      // Vanished or unreadable: the next sync tries again.
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
      const info = await stat(p).catch(() => null);
      if (info?.isDirectory()) for (const dir of await crawlDirs(p)) this.watchDir(dir);
    }
    if (!this.closed) this.options.onChanges(paths);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.changed.clear();
  }
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
