// Where things live on disk. One library directory holds the catalogue, the thumbnail cache and the
// vector index; models live in a models directory shared by libraries.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder holding package.json), from dist/src/main/core/paths.js or src/main/core/paths.ts. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), fileURLToPath(import.meta.url).includes(`${path.sep}dist${path.sep}`) ? '../../../..' : '../../..');

/** Per-user data directory, following each platform's convention. PHOTO_SEARCH_HOME overrides it. */
export function appDataDir(): string {
  if (process.env.PHOTO_SEARCH_HOME) return path.resolve(process.env.PHOTO_SEARCH_HOME);
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'photo-search');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'photo-search');
  return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'photo-search');
}

export function defaultLibraryDir(): string {
  return process.env.PHOTO_SEARCH_LIBRARY ? path.resolve(process.env.PHOTO_SEARCH_LIBRARY) : path.join(appDataDir(), 'library');
}

/** Downloaded models: PHOTO_SEARCH_MODELS_DIR, else the app's `models` folder beside its data. */
export function defaultModelsDir(): string {
  return process.env.PHOTO_SEARCH_MODELS_DIR ? path.resolve(process.env.PHOTO_SEARCH_MODELS_DIR) : path.join(appDataDir(), 'models');
}

export interface LibraryPaths {
  dir: string;
  catalogue: string;
  thumbnails: string;
  vectorIndex: string;
  /** JPEG conversions of photos browsers cannot show (TIFF, HEIC…), for the viewer. */
  views: string;
  /** The last duplicate scan's groups (duplicates/scan-store.ts). */
  duplicates: string;
}

export function libraryPaths(dir: string): LibraryPaths {
  const root = path.resolve(dir);
  return {
    dir: root,
    catalogue: path.join(root, 'catalogue.sqlite'),
    thumbnails: path.join(root, 'thumbnails'),
    vectorIndex: path.join(root, 'vector-index'),
    views: path.join(root, 'views'),
    duplicates: path.join(root, 'duplicates.json'),
  };
}

export { isInside } from './inside.js';

/** Thumbnail cache file of a photo, spread over 256 subfolders so no folder holds 624k files. */
export function thumbnailPath(paths: LibraryPaths, photoId: number): string {
  return path.join(paths.thumbnails, (photoId & 0xff).toString(16).padStart(2, '0'), `${photoId}.jpg`);
}

/** Viewer-sized JPEG of a photo whose format browsers cannot show, spread over subfolders as thumbnails are. */
export function viewCachePath(paths: LibraryPaths, photoId: number): string {
  return path.join(paths.views, (photoId & 0xff).toString(16).padStart(2, '0'), `${photoId}.jpg`);
}
