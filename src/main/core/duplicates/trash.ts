// Removing copies: files go to the system trash (never deleted), then their rows are marked missing so
// they leave search and browsing while ratings and tags survive should the file be put back.
import { access } from 'node:fs/promises';
import trash from 'trash';
import type { PhotoId, TrashResult } from '../../../shared/types.js';
import type { Library } from '../library.js';

export interface TrashOptions {
  /** How a file goes to the trash. Default: the `trash` package; Electron may pass shell.trashItem. */
  moveToTrash?: (file: string) => Promise<void>;
}

export async function trashPhotos(library: Library, photoIds: PhotoId[], options: TrashOptions = {}): Promise<TrashResult> {
  const moveToTrash = options.moveToTrash ?? ((file: string) => trash(file, { glob: false }));
  const catalogue = library.catalogue;
  const trashed: PhotoId[] = [];
  const failed: { id: PhotoId; error: string }[] = [];
  for (const id of [...new Set(photoIds)]) {
    const photo = catalogue.getPhoto(id);
    if (!photo) {
      failed.push({ id, error: 'no such photo in the catalogue' });
      continue;
    }
    if (photo.status === 'missing') {
      failed.push({ id, error: 'already missing from disk' });
      continue;
    }
    // The trash package ignores paths that do not exist; say so instead of reporting success.
    if (!(await exists(photo.path))) {
      catalogue.markMissing([id]);
      failed.push({ id, error: `file not found: ${photo.path} (marked missing)` });
      continue;
    }
    try {
      await moveToTrash(photo.path);
    } catch (error) {
      failed.push({ id, error: `could not move ${photo.path} to the trash: ${(error as Error).message}` });
      continue;
    }
    if (await exists(photo.path)) {
      failed.push({ id, error: `${photo.path} is still there after moving it to the trash` });
      continue;
    }
    trashed.push(id);
    catalogue.markMissing([id]); // at once, so an interrupted run leaves the catalogue true to the disk
  }
  return { trashed, failed };
}

function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
