// Serves photo bytes to the UI (Electron protocol and web mode alike). Only catalogued photos are served,
// addressed by id, and only when the file's real path lies inside a library folder: no traversal, no
// symlink escape, whatever the request looked like. Every answer is a file on disk (the photo itself or a
// cached conversion), so the Electron main process streams it and no image bytes cross a process boundary.
import { mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Library } from '../library.js';
import { isHeicFile } from '../model/heic.js';
import { renderJpeg } from '../model/preprocess.js';
import { isInside, thumbnailPath, viewCachePath, type LibraryPaths } from '../paths.js';
import { writeFileAtomic } from '../scratch.js';
import type { MediaKind } from '../../../shared/api.js';

export interface MediaResponse {
  /** The file to send: the photo itself, or a thumbnail or conversion in the library's caches. */
  path: string;
  contentType: string;
}

export const THUMBNAIL_SIZE = 320;
const FULL_VIEW_MAX = 4096;

/** Formats every browser shows as they are; anything else (TIFF, HEIC…) is converted to JPEG. */
const BROWSER_SAFE: Record<string, string> = {
  jpeg: 'image/jpeg', jpg: 'image/jpeg', mpo: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif',
};

export class MediaResolver {
  constructor(private readonly library: Library) {}

  /** The real path of a catalogued photo if it lies inside a library folder, else null. */
  async safePath(photoId: number): Promise<string | null> {
    return (await this.locate(photoId))?.file ?? null;
  }

  async resolve(kind: MediaKind, photoId: number): Promise<MediaResponse | null> {
    const found = await this.locate(photoId);
    if (!found) return null;
    return kind === 'thumb' ? this.thumbnail(photoId, found.file) : this.full(photoId, found.file, found.format);
  }

  /** Runs on every thumbnail request: one indexed row lookup, the folder paths and a few realpath calls. */
  private async locate(photoId: number): Promise<{ file: string; format: string | null } | null> {
    const photo = this.library.catalogue.photoFile(photoId);
    if (!photo || photo.status === 'missing') return null;
    const file = await realpath(photo.path).catch(() => null);
    if (!file) return null;
    for (const folder of this.library.catalogue.folderPaths()) {
      const root = await realpath(folder).catch(() => null);
      if (root && isInside(file, root)) return { file, format: photo.format };
    }
    return null;
  }

  private async thumbnail(photoId: number, file: string): Promise<MediaResponse | null> {
    const cached = thumbnailPath(this.library.paths, photoId);
    // The pipeline writes thumbnails as it embeds; a photo not embedded yet gets one now.
    if (await isFile(cached)) return { path: cached, contentType: 'image/jpeg' };
    const made = await convert(this.library.paths, file, cached, THUMBNAIL_SIZE, 80);
    return made ? { path: cached, contentType: 'image/jpeg' } : null;
  }

  private async full(photoId: number, file: string, known: string | null): Promise<MediaResponse | null> {
    // The catalogue knows the format once a photo is embedded; before that, HEIC is told by content (an
    // iPhone photo renamed .jpg is still HEIC), anything else by extension.
    const format = known ?? ((await isHeicFile(file)) ? 'heic' : path.extname(file).slice(1).toLowerCase());
    const type = BROWSER_SAFE[format];
    // Browsers apply EXIF orientation to <img> themselves, so safe formats go out untouched.
    if (type) return { path: file, contentType: type };
    // Other formats (TIFF, HEIC…) are converted once to a JPEG that stays valid while the photo is older.
    const view = viewCachePath(this.library.paths, photoId);
    const [viewInfo, fileInfo] = await Promise.all([stat(view).catch(() => null), stat(file).catch(() => null)]);
    if (viewInfo?.isFile() && fileInfo && viewInfo.mtimeMs >= fileInfo.mtimeMs) return { path: view, contentType: 'image/jpeg' };
    return (await convert(this.library.paths, file, view, FULL_VIEW_MAX, 90)) ? { path: view, contentType: 'image/jpeg' } : null;
  }
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}

/** Decodes, orients and shrinks a photo into a JPEG at `target` (written in the library's scratch folder, then renamed). */
async function convert(paths: LibraryPaths, file: string, target: string, maxSide: number, quality: number): Promise<boolean> {
  try {
    // Bounded: an image too large to decode safely gets no thumbnail (null: not found) rather than a
    // gigabyte of memory, and large decodes take turns (decode-limits.ts).
    const body = await renderJpeg(file, maxSide, quality);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFileAtomic(paths, target, body);
    return true;
  } catch {
    return false;
  }
}
