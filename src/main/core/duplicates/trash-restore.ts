// Taking a file back out of the system trash, where the platform allows it. On Linux both the `trash` package
// and Electron's shell.trashItem use the freedesktop trash: the home trash ($XDG_DATA_HOME/Trash, by default
// ~/.local/share/Trash), or `.Trash/$uid` or `.Trash-$uid` at the top of another volume; each holds the file in
// files/NAME and where it came from in info/NAME.trashinfo (Path=, URI-escaped, absolute or relative to the
// volume's top; DeletionDate=). macOS's Trash and Windows' Recycle Bin give apps no reliable way back, so
// there the user restores the files, and the caller says so.
import { constants } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export type RestoreOutcome = { restored: true } | { restored: false; error: string };

export interface SystemTrash {
  /** What the user calls it: "Trash" or "Recycle Bin". */
  name: string;
  /** Whether files can be put back from it here. */
  canRestore: boolean;
  /** Puts back the file trashed from `original` (of `size` bytes); refuses if something now lies there. */
  restore(original: string, size: number): Promise<RestoreOutcome>;
}

/** The system trash of this platform. Each call reads the trash afresh (an undo takes one for its files). */
export function systemTrash(platform: NodeJS.Platform = process.platform): SystemTrash {
  if (platform === 'linux') {
    const entries = trashEntries();
    return { name: 'Trash', canRestore: true, restore: (original, size) => restoreFromFreedesktopTrash(original, size, entries) };
  }
  const name = platform === 'win32' ? 'Recycle Bin' : 'Trash';
  return { name, canRestore: false, restore: async () => ({ restored: false, error: `restore it from the ${name} yourself` }) };
}

interface TrashEntry {
  file: string;
  info: string;
  deletedAt: string;
}

async function restoreFromFreedesktopTrash(original: string, size: number, entries: TrashEntries): Promise<RestoreOutcome> {
  const there = await stat(original).catch(() => null);
  const candidates = await entries.from(original);
  if (there) {
    // The same file (a kill between linking it back and unlinking the trash's name): finish the restore.
    const same = await findAsync(candidates, async (c) => sameFile(await lstat(c.file).catch(() => null), there));
    if (same) {
      await removeEntry(same);
      await removeOrphans(candidates);
      return { restored: true };
    }
    // Put back by hand already (nothing of its size is left in the trash).
    if (there.size === size && !(await findAsync(candidates, async (c) => (await lstat(c.file).catch(() => null))?.size === size))) {
      return { restored: true };
    }
    return { restored: false, error: `another file now lies at ${original}; the trashed one was left in the Trash` };
  }
  const sized = await filterAsync(candidates, async (c) => (await lstat(c.file).catch(() => null))?.size === size);
  if (sized.length === 0) {
    return {
      restored: false,
      error: candidates.length > 0
        ? `the Trash holds a different file from ${original} (not ${size} bytes); it was left there`
        : `${original} is no longer in the Trash (emptied, or restored by hand)`,
    };
  }
  const newest = sized.sort((a, b) => b.deletedAt.localeCompare(a.deletedAt))[0];
  try {
    await mkdir(path.dirname(original), { recursive: true });
    await moveWithoutReplacing(newest.file, original);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return { restored: false, error: `another file now lies at ${original}; the trashed one was left in the Trash` };
    }
    return { restored: false, error: `could not put back ${original}: ${(error as Error).message}` };
  }
  await unlink(newest.info).catch(() => undefined);
  await removeOrphans(candidates);
  return { restored: true };
}

/** Removes entries whose file is gone (a trash killed between writing the .trashinfo and moving the file). */
async function removeOrphans(entries: TrashEntry[]): Promise<void> {
  for (const entry of entries) {
    if (!(await lstat(entry.file).catch(() => null))) await unlink(entry.info).catch(() => undefined);
  }
}

interface TrashEntries {
  /** The trash entries whose recorded origin is `original`, from every trash it could have gone to. */
  from(original: string): Promise<TrashEntry[]>;
}

/**
 * The entries of each trash folder by the path they came from, each folder read once (an undo of many photos
 * would otherwise read every .trashinfo once per photo). Entries used up meanwhile stay listed: their files
 * are gone, which every use checks.
 */
function trashEntries(): TrashEntries {
  const byDir = new Map<string, Promise<Map<string, TrashEntry[]>>>();
  const read = async (dir: string, top: string): Promise<Map<string, TrashEntry[]>> => {
    const byOrigin = new Map<string, TrashEntry[]>();
    const infoDir = path.join(dir, 'info');
    for (const name of await readdir(infoDir).catch(() => [] as string[])) {
      if (!name.endsWith('.trashinfo')) continue;
      const info = path.join(infoDir, name);
      const parsed = parseTrashInfo(await readFile(info, 'utf8').catch(() => ''));
      if (!parsed) continue;
      const from = path.resolve(path.isAbsolute(parsed.path) ? parsed.path : path.join(top, parsed.path));
      const entry = { file: path.join(dir, 'files', name.slice(0, -'.trashinfo'.length)), info, deletedAt: parsed.deletedAt };
      byOrigin.set(from, [...(byOrigin.get(from) ?? []), entry]);
    }
    return byOrigin;
  };
  return {
    async from(original) {
      const found: TrashEntry[] = [];
      for (const { dir, top } of await trashDirsFor(original)) {
        if (!byDir.has(dir)) byDir.set(dir, read(dir, top));
        found.push(...((await byDir.get(dir)!).get(path.resolve(original)) ?? []));
      }
      return found;
    },
  };
}

/** The home trash, and those at the top of the volume the file lived on. */
async function trashDirsFor(original: string): Promise<{ dir: string; top: string }[]> {
  const dataHome = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  const dirs = [{ dir: path.join(dataHome, 'Trash'), top: '/' }];
  const top = await volumeTop(path.dirname(original));
  if (top) {
    const uid = process.getuid?.() ?? 0;
    dirs.push({ dir: path.join(top, '.Trash', String(uid)), top }, { dir: path.join(top, `.Trash-${uid}`), top });
  }
  return dirs;
}

/** The topmost existing folder above `dir` on the same device (the volume's mount point). */
async function volumeTop(dir: string): Promise<string | null> {
  let at = path.resolve(dir);
  let info = await stat(at).catch(() => null);
  while (!info && path.dirname(at) !== at) {
    at = path.dirname(at);
    info = await stat(at).catch(() => null);
  }
  if (!info) return null;
  for (;;) {
    const parent = path.dirname(at);
    if (parent === at) return at;
    const above = await stat(parent).catch(() => null);
    if (!above || above.dev !== info.dev) return at;
    at = parent;
  }
}

export function parseTrashInfo(text: string): { path: string; deletedAt: string } | null {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '[Trash Info]') return null;
  const value = (key: string) => lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1).trim();
  const escaped = value('Path');
  if (!escaped) return null;
  try {
    return { path: decodeURIComponent(escaped), deletedAt: value('DeletionDate') ?? '' };
  } catch {
    return null; // a malformed escape: not an entry we can match
  }
}

/**
 * Moves `from` to `to` only if nothing lies at `to` (a rename would replace it): a hard link, then the old name
 * removed; across volumes, a copy under a temporary name beside `to`, linked into place, then both removed.
 */
async function moveWithoutReplacing(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP')) throw error;
    const temp = path.join(path.dirname(to), `.${path.basename(to)}.${process.pid}.${randomBytes(4).toString('hex')}.restoring`);
    await copyFile(from, temp, constants.COPYFILE_EXCL);
    try {
      await link(temp, to);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }
  await unlink(from);
}

async function removeEntry(entry: TrashEntry): Promise<void> {
  await unlink(entry.file).catch(() => undefined);
  await unlink(entry.info).catch(() => undefined);
}

function sameFile(a: { dev: number; ino: number } | null, b: { dev: number; ino: number }): boolean {
  return !!a && a.dev === b.dev && a.ino === b.ino;
}

async function findAsync<T>(items: T[], test: (item: T) => Promise<boolean>): Promise<T | undefined> {
  for (const item of items) if (await test(item)) return item;
  return undefined;
}

async function filterAsync<T>(items: T[], test: (item: T) => Promise<boolean>): Promise<T[]> {
  const out: T[] = [];
  for (const item of items) if (await test(item)) out.push(item);
  return out;
}
