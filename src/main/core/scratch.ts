// Scratch files of a library: what a process writes before renaming it into place, or works in and
// removes when done. A killed process leaves them behind (a vector build's spool is ~1.2 GB at 600k
// photos), so opening a library removes those whose process is gone.
//
// Ownership is by process id: scratch names carry the pid of the process that made them
// (`vector-build-<pid>-XXXXXX`, `<name>.<pid>.tmp`), and an entry is stale when no process with that pid
// is alive. A live pid keeps its entries, even if the pid was reused (they go at a later open). Names
// without a pid (older versions, fixed-name temp files) are stale once untouched for STALE_UNOWNED_MS.
//
// Cache files (thumbnails, viewer conversions) are written under `<library>/tmp` and renamed into place,
// so finding their leftovers costs one directory listing, not one per cache subfolder (256 of them).
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LibraryPaths } from './paths.js';

/** Entries without an owner's pid are stale when untouched for this long. */
export const STALE_UNOWNED_MS = 60 * 60 * 1000;

/** Where a library's cache files are written before being renamed into place. */
export function scratchDir(paths: LibraryPaths): string {
  return path.join(paths.dir, 'tmp');
}

/** Whether a process with this id exists (EPERM: it does, another user's). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Writes a cache file atomically: into the library's scratch folder under a name carrying this process's
 * pid, then renamed over `target` (readers see the old file or the new one, never a partial one).
 */
export async function writeFileAtomic(paths: LibraryPaths, target: string, bytes: Uint8Array): Promise<void> {
  const dir = scratchDir(paths);
  const partial = path.join(dir, `${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(partial, bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dir, { recursive: true });
    await writeFile(partial, bytes);
  }
  try {
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    // The cache folder is on another file system (a symlink): write beside the target instead.
    const beside = `${target}.${process.pid}.tmp`;
    await writeFile(beside, bytes);
    await rename(beside, target);
  }
}

/** The pid a scratch name carries, or null: `vector-build-<pid>-…`, `vector-nprobe-<pid>-…`, `….<pid>[.<hex>].tmp`. */
export function ownerPid(name: string): number | null {
  const dir = /^vector-(?:build|nprobe)-(\d+)-/.exec(name);
  if (dir) return Number(dir[1]);
  const file = /\.(\d+)(?:\.[0-9a-f]+)?\.tmp$/.exec(name);
  return file ? Number(file[1]) : null;
}

function isScratchName(name: string): boolean {
  return /^vector-(?:build|nprobe)-/.test(name) || name.endsWith('.tmp');
}

export interface ScratchCleanup {
  /** Paths removed. */
  removed: string[];
  bytes: number;
}

/** Removes the stale scratch of a library (see the top of this file). Never throws. */
export function cleanStaleScratch(paths: LibraryPaths, now = Date.now()): ScratchCleanup {
  const result: ScratchCleanup = { removed: [], bytes: 0 };
  const sweep = (dir: string, accept: (name: string) => boolean): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!accept(name)) continue;
      const full = path.join(dir, name);
      const pid = ownerPid(name);
      if (pid !== null ? isProcessAlive(pid) : !isUntouched(full, now)) continue;
      const bytes = sizeOf(full);
      try {
        rmSync(full, { recursive: true, force: true });
        result.removed.push(full);
        result.bytes += bytes;
      } catch {
        /* in use or not ours to remove: left for a later open */
      }
    }
  };
  sweep(paths.dir, isScratchName);
  sweep(scratchDir(paths), () => true);
  let models: string[] = [];
  try {
    models = readdirSync(paths.vectorIndex);
  } catch {
    /* no index yet */
  }
  for (const model of models) sweep(path.join(paths.vectorIndex, model), (name) => name.endsWith('.tmp'));
  return result;
}

/** Whether nothing in `target` (itself or anything under it: a build writes its spool a level down) changed lately. */
function isUntouched(target: string, now: number): boolean {
  try {
    const info = statSync(target);
    if (now - info.mtimeMs < STALE_UNOWNED_MS) return false;
    if (!info.isDirectory()) return true;
    return readdirSync(target).every((name) => isUntouched(path.join(target, name), now));
  } catch {
    return false;
  }
}

/** Bytes under a path (files only, not following links). */
function sizeOf(target: string): number {
  try {
    const info = statSync(target);
    if (!info.isDirectory()) return info.size;
    return readdirSync(target).reduce((sum, name) => sum + sizeOf(path.join(target, name)), 0);
  } catch {
    return 0;
  }
}
