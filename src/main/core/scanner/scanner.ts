// Registers the photos of library folders in the catalogue and keeps it in step with the disk.
// A scan crawls a folder (fdir), stats the photo files in bounded parallel batches, and diffs them
// against what the catalogue knows under that path: new files are inserted, changed ones (size or
// mtime) marked for re-embedding, vanished ones marked missing (keeping their rating, tags and vectors),
// missing ones found again restored, and a new file with the same bytes as a missing photo is taken
// for that photo moved or renamed. Every write is batched in a transaction; nothing is read or written
// per file outside one, so a 624k-photo folder costs a crawl, one stat per file and a few hundred
// transactions.
//
// Symbolic links: a link to a file is registered (under the link's path) only when its target lies
// inside the folder; links to directories are never followed (inside the folder their photos are
// already registered at their real path, outside it they are not the user's chosen folder, and never
// following them also rules out cycles). Skipped links are counted in the result.
// Hidden files and folders (name starting with '.') and Synology '@eaDir' thumbnail folders are skipped.
import * as nativeFs from 'node:fs';
import { statSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { fdir } from 'fdir';
import type { Catalogue, KnownFile, NewPhoto } from '../catalogue/catalogue.js';
import type { LibraryFolder, PhotoId } from '../../../shared/types.js';
import { hashFile } from './content-hash.js';
import { classifyFile, extensionOf } from './formats.js';
import { isInside } from '../paths.js';

export interface ScanProgress {
  folderId: number;
  folder: string;
  /** 'moves' comes after every folder's 'done': new files that may be moved photos are hashed. */
  phase: 'crawling' | 'registering' | 'done' | 'moves';
  /** Photo files found by the crawl (known once crawling ends); in 'moves', files to hash. */
  found: number;
  /** Photo files compared with the catalogue so far; in 'moves', files hashed. */
  processed: number;
}

export interface ScanOptions {
  onProgress?: (progress: ScanProgress) => void;
  /** Aborting rejects the scan with the signal's reason; batches already registered stay, nothing is marked missing. */
  signal?: AbortSignal;
  /** Files stat'ed and diffed per batch (and per transaction). */
  batchSize?: number;
  /** stat calls in flight at once when storage turns out slow (they run on libuv's thread pool). */
  statConcurrency?: number;
  /** scanLibrary: scan only these library folders (the ones a watcher saw change); default every folder. */
  folderIds?: ReadonlySet<number>;
}

export interface ScanResult {
  folderId: number;
  folder: string;
  added: number;
  changed: number;
  missing: number;
  moved: number;
  restored: number;
  unchanged: number;
  /** Media files seen but not registered, by lower-case extension: video, BMP/PSD/SVG…, RAW without a preview reader (X3F, MRW…). */
  unsupported: Record<string, number>;
  /** Other files (sidecars, documents, hidden files) that are not photos at all. */
  ignored: number;
  /** Links not followed: to directories, to files outside the folder, or broken. */
  skippedSymlinks: number;
  /** Photo files that could not be stat'ed (permissions, vanished during the scan, undecodable names). */
  unreadable: number;
  durationMs: number;
}

export interface LibraryScanResult {
  folders: ScanResult[];
  /** Folders that could not be scanned (e.g. an unplugged drive); their photos were left as they were. */
  errors: { folderId: number; folder: string; error: string }[];
}

/** The folder itself is not there or not a directory: nothing is marked missing. */
export class FolderUnavailableError extends Error {
  override name = 'FolderUnavailableError';
}

const DEFAULT_BATCH = 2000;
const DEFAULT_STAT_CONCURRENCY = 32;
/** Average stat time above which storage counts as slow (local disks: ~5 µs cached, ~25 µs cold). */
const SLOW_STAT_MS = 0.2;
const HIDDEN_DIRS = new Set(['@eaDir', '$RECYCLE.BIN', 'System Volume Information']);

interface FoundFile {
  path: string;
  size: number;
  mtimeMs: number;
}

interface NewFile extends FoundFile {
  folderId: number;
}

interface FolderPass {
  result: ScanResult;
  /** Files registered as new in this scan: candidates for moves of photos missing elsewhere. */
  newFiles: NewFile[];
  /** Photos this scan marked missing. */
  gone: Set<PhotoId>;
}

/** Scans one library folder and returns what changed. Throws FolderUnavailableError if it is not reachable. */
export async function scanFolder(catalogue: Catalogue, folder: LibraryFolder, options: ScanOptions = {}): Promise<ScanResult> {
  const pass = await scanFolderPass(catalogue, folder, options);
  await applyMoves(catalogue, [pass], options);
  return pass.result;
}

/**
 * Scans every library folder, then looks for moves once over all of them, so a photo moved from one
 * folder to another is recognised whatever order the folders are scanned in.
 */
export async function scanLibrary(catalogue: Catalogue, options: ScanOptions = {}): Promise<LibraryScanResult> {
  const out: LibraryScanResult = { folders: [], errors: [] };
  const passes: FolderPass[] = [];
  for (const folder of catalogue.listFolders()) {
    if (options.folderIds && !options.folderIds.has(folder.id)) continue;
    options.signal?.throwIfAborted();
    try {
      passes.push(await scanFolderPass(catalogue, folder, options));
    } catch (error) {
      if (!(error instanceof FolderUnavailableError)) throw error;
      out.errors.push({ folderId: folder.id, folder: folder.path, error: error.message });
    }
  }
  await applyMoves(catalogue, passes, options);
  out.folders = passes.map((p) => p.result);
  return out;
}

/** Finds moves among the passes' new files and corrects their counts: a move is neither added nor missing. */
async function applyMoves(catalogue: Catalogue, passes: FolderPass[], options: ScanOptions): Promise<void> {
  const byFolder = new Map(passes.map((p) => [p.result.folderId, p]));
  const onMove = (file: NewFile, photoId: PhotoId): void => {
    const into = byFolder.get(file.folderId)!.result;
    into.moved++;
    into.added--;
    const from = passes.find((p) => p.gone.has(photoId));
    if (from) from.result.missing--;
  };
  const onHashed = (file: NewFile, hashed: number, toHash: number): void => {
    const { folderId, folder } = byFolder.get(file.folderId)!.result;
    options.onProgress?.({ folderId, folder, phase: 'moves', found: toHash, processed: hashed });
  };
  await findMoves(catalogue, passes.flatMap((p) => p.newFiles), options.signal, onMove, onHashed);
}

async function scanFolderPass(catalogue: Catalogue, folder: LibraryFolder, options: ScanOptions): Promise<FolderPass> {
  const started = performance.now();
  const root = path.resolve(folder.path);
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const concurrency = options.statConcurrency ?? DEFAULT_STAT_CONCURRENCY;
  const result: ScanResult = {
    folderId: folder.id, folder: root, added: 0, changed: 0, missing: 0, moved: 0, restored: 0, unchanged: 0,
    unsupported: {}, ignored: 0, skippedSymlinks: 0, unreadable: 0, durationMs: 0,
  };
  const report = (phase: ScanProgress['phase'], found: number, processed: number): void =>
    options.onProgress?.({ folderId: folder.id, folder: root, phase, found, processed });

  let realRoot: string;
  try {
    realRoot = await realpath(root);
    if (!(await stat(realRoot)).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new FolderUnavailableError(`library folder ${root} is not available: ${(error as Error).message}`);
  }

  // Library folders nested inside this one are scanned on their own; leave their files to them.
  const nested = catalogue.listFolders().map((f) => path.resolve(f.path)).filter((p) => p !== root && isInside(p, root));

  report('crawling', 0, 0);
  const crawl = await crawlFolder(root, nested, result, options.signal);
  const found = crawl.photos.length + crawl.symlinks.length;
  report('registering', found, 0);

  const known = catalogue.knownFilesUnder(root.endsWith(path.sep) ? root : root + path.sep);
  if (nested.length > 0) for (const p of known.keys()) if (nested.some((n) => isInside(p, n))) known.delete(p);

  const newFiles: NewFile[] = [];
  let processed = 0;
  const handleBatch = (files: FoundFile[]): void => {
    const inserts: NewPhoto[] = [];
    const changes: { id: PhotoId; size: number; mtimeMs: number; folderId: number | null }[] = [];
    const restores: KnownFile[] = [];
    for (const file of files) {
      const before = known.get(file.path);
      if (!before) {
        inserts.push({ folderId: folder.id, path: file.path, size: file.size, mtimeMs: file.mtimeMs });
        newFiles.push({ ...file, folderId: folder.id });
        continue;
      }
      known.delete(file.path);
      const same = before.size === file.size && before.mtimeMs === Math.round(file.mtimeMs);
      if (!same) changes.push({ id: before.id, size: file.size, mtimeMs: file.mtimeMs, folderId: folder.id });
      else if (before.status === 'missing') restores.push(before);
      else result.unchanged++;
    }
    const withVectors = catalogue.photosWithVectors(restores.map((r) => r.id));
    catalogue.transaction(() => {
      if (inserts.length > 0) result.added += catalogue.insertPhotos(inserts);
      if (changes.length > 0) catalogue.markChanged(changes);
      if (restores.length > 0) {
        catalogue.markRestored(restores.map((r) => ({ id: r.id, folderId: folder.id, hadVector: withVectors.has(r.id) })));
      }
    });
    result.changed += changes.length;
    result.restored += restores.length;
  };

  const stater = new Stater(concurrency);
  for (let at = 0; at < crawl.photos.length; at += batchSize) {
    options.signal?.throwIfAborted();
    if (at > 0) await new Promise((resolve) => setImmediate(resolve)); // let the event loop breathe between batches
    const files = await stater.statFiles(crawl.photos.slice(at, at + batchSize), result);
    handleBatch(files);
    processed = Math.min(at + batchSize, crawl.photos.length);
    report('registering', found, processed);
  }
  if (crawl.symlinks.length > 0) {
    handleBatch(await resolveSymlinks(crawl.symlinks, realRoot, result));
    processed += crawl.symlinks.length;
    report('registering', found, processed);
  }

  // Whatever the catalogue knew under this folder and the crawl did not see is gone from the disk.
  const gone = [...known.values()].filter((k) => k.status !== 'missing').map((k) => k.id);
  for (let at = 0; at < gone.length; at += 10_000) catalogue.markMissing(gone.slice(at, at + 10_000));
  result.missing = gone.length;

  result.durationMs = performance.now() - started;
  report('done', found, processed);
  return { result, newFiles, gone: new Set(gone) };
}

interface Crawl {
  photos: string[];
  /** Symbolic links with a photo extension, to resolve and check. */
  symlinks: string[];
}

async function crawlFolder(root: string, nested: string[], result: ScanResult, signal: AbortSignal | undefined): Promise<Crawl> {
  // fdir reports links (to files and to directories alike) as files without following them. Our readdir
  // wrapper remembers which entries are links so the filter can set them aside.
  const links = new Set<string>();
  const readdir = ((dir: string, opts: object, callback: (e: NodeJS.ErrnoException | null, entries: nativeFs.Dirent[]) => void) =>
    nativeFs.readdir(dir, opts as { withFileTypes: true }, (error, entries) => {
      for (const entry of entries ?? []) if (entry.isSymbolicLink()) links.add(path.join(dir, entry.name));
      callback(error, entries);
    })) as unknown as typeof nativeFs.readdir;
  const nestedDirs = new Set(nested);
  const photos: string[] = [];
  const symlinks: string[] = [];

  let builder = new fdir({ fs: { ...nativeFs, readdir } })
    .withFullPaths()
    .exclude((name, dirPath) => name.startsWith('.') || HIDDEN_DIRS.has(name) || nestedDirs.has(trimSep(dirPath)))
    .filter((file, isDirectory) => {
      if (isDirectory) return false;
      const name = path.basename(file);
      const kind = classifyFile(name);
      if (links.has(file)) {
        if (kind === 'photo' && !name.startsWith('.')) symlinks.push(file);
        else result.skippedSymlinks++;
      } else if (name.startsWith('.')) {
        result.ignored++; // includes macOS '._name.jpg' resource forks, which are not images
      } else if (kind === 'photo') {
        photos.push(file);
      } else if (kind === 'other') {
        result.ignored++;
      } else {
        const ext = extensionOf(name);
        result.unsupported[ext] = (result.unsupported[ext] ?? 0) + 1;
      }
      return false; // collected above; fdir need not build its own array
    });
  if (signal) builder = builder.withAbortSignal(signal);
  await builder.crawl(root).withPromise();
  signal?.throwIfAborted();
  return { photos, symlinks };
}

/**
 * stat()s a batch of files; files that vanished or cannot be read are counted and dropped. Synchronous
 * stat is several times faster than the thread-pool version on local disks (cached or not), so a batch
 * is stat'ed synchronously (a few ms of event loop); when a batch shows slow storage (a network share),
 * the rest of the scan switches to parallel asynchronous stats, where latency overlaps.
 */
class Stater {
  private parallel = false;
  constructor(private readonly concurrency: number) {}

  async statFiles(files: string[], result: ScanResult): Promise<FoundFile[]> {
    const started = performance.now();
    const out = this.parallel ? await this.statParallel(files, result) : this.statSerial(files, result);
    if (!this.parallel && files.length >= 100 && (performance.now() - started) / files.length > SLOW_STAT_MS) this.parallel = true;
    return out;
  }

  private statSerial(files: string[], result: ScanResult): FoundFile[] {
    const out: FoundFile[] = [];
    for (const file of files) {
      try {
        const s = statSync(file);
        if (s.isFile()) out.push({ path: file, size: s.size, mtimeMs: s.mtimeMs });
        else result.ignored++;
      } catch {
        result.unreadable++;
      }
    }
    return out;
  }

  private async statParallel(files: string[], result: ScanResult): Promise<FoundFile[]> {
    const out: (FoundFile | null)[] = new Array(files.length).fill(null);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < files.length) {
        const i = next++;
        try {
          const s = await stat(files[i]);
          if (s.isFile()) out[i] = { path: files[i], size: s.size, mtimeMs: s.mtimeMs };
          else result.ignored++;
        } catch {
          result.unreadable++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, files.length) }, worker));
    return out.filter((f): f is FoundFile => f !== null);
  }
}

/** Keeps links to regular files whose real path lies inside the folder; the rest are skipped. */
async function resolveSymlinks(links: string[], realRoot: string, result: ScanResult): Promise<FoundFile[]> {
  const kept: FoundFile[] = [];
  for (const link of links) {
    try {
      const target = await realpath(link);
      const s = await stat(target);
      if (s.isFile() && isInside(target, realRoot)) kept.push({ path: link, size: s.size, mtimeMs: s.mtimeMs });
      else result.skippedSymlinks++;
    } catch {
      result.skippedSymlinks++; // broken link
    }
  }
  return kept;
}

/**
 * A new file whose size equals a missing photo's is hashed; if its bytes are that photo's (the content
 * hash stored when it was embedded), the photo's row moves to the new path, keeping its vectors, rating
 * and tags, and the row just registered for the new path is dropped. Photos never embedded have no hash
 * and cannot be recognised: they simply stay missing while the new file is indexed afresh.
 */
async function findMoves(catalogue: Catalogue, newFiles: NewFile[], signal: AbortSignal | undefined,
  onMove: (file: NewFile, photoId: PhotoId) => void, onHashed: (file: NewFile, hashed: number, toHash: number) => void): Promise<void> {
  if (newFiles.length === 0) return;
  // Missing photos with a known hash, by size then by hash; each can be claimed by one new file.
  const bySize = new Map<number, { unclaimed: number; byHash: Map<string, { ids: PhotoId[]; next: number }> }>();
  for (const [size, list] of catalogue.missingWithSizes(newFiles.map((f) => f.size))) {
    const byHash = new Map<string, { ids: PhotoId[]; next: number }>();
    for (const c of list) {
      if (c.contentHash === null) continue;
      const group = byHash.get(c.contentHash);
      if (group) group.ids.push(c.id);
      else byHash.set(c.contentHash, { ids: [c.id], next: 0 });
    }
    if (byHash.size > 0) bySize.set(size, { unclaimed: list.filter((c) => c.contentHash !== null).length, byHash });
  }
  if (bySize.size === 0) return;
  const toHash = newFiles.filter((f) => bySize.has(f.size));
  let pending: { file: NewFile; photoId: PhotoId }[] = [];
  const flush = (): void => {
    catalogue.transaction(() => {
      for (const m of pending) catalogue.movePhoto(m.photoId, m.file.path, m.file.folderId, m.file.size, m.file.mtimeMs);
    });
    pending = [];
  };
  let hashed = 0;
  for (const file of toHash) {
    signal?.throwIfAborted();
    const sameSize = bySize.get(file.size)!;
    if (sameSize.unclaimed === 0) continue; // every candidate of this size was claimed by earlier files
    let hash: string | null = null;
    try {
      hash = await hashFile(file.path);
    } catch {
      // unreadable now: it stays registered as a new file and the pipeline will report it
    }
    if (++hashed % 100 === 0 || hashed === toHash.length) onHashed(file, hashed, toHash.length);
    const group = hash === null ? undefined : sameSize.byHash.get(hash);
    if (!group || group.next >= group.ids.length) continue;
    const photoId = group.ids[group.next++];
    sameSize.unclaimed--;
    pending.push({ file, photoId });
    onMove(file, photoId);
    if (pending.length >= 1000) flush();
  }
  if (pending.length > 0) flush();
}

function trimSep(dir: string): string {
  return dir.length > 1 && (dir.endsWith('/') || dir.endsWith(path.sep)) ? dir.slice(0, -1) : dir;
}

