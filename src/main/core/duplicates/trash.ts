// Removing copies: files go to the system trash (never deleted), then their rows are marked missing so
// they leave search and browsing while ratings and tags survive should the file be put back. Each call is
// one 'trash' edit in the undo history (see catalogue/trash-edits.ts), journaled before any file moves.
import { access } from 'node:fs/promises';
import trash from 'trash';
import type { PhotoId, TrashResult } from '../../../shared/types.js';
import type { MergeChoice, TrashedPhoto } from '../catalogue/catalogue.js';
import type { Library } from '../library.js';

export interface TrashOptions {
  /** How a file goes to the trash. Default: the `trash` package; Electron may pass shell.trashItem. */
  moveToTrash?: (file: string) => Promise<void>;
  /** Resolved duplicate groups: each kept copy takes the others' tags and highest rating, in the same edit. */
  merges?: MergeChoice[];
}

export async function trashPhotos(library: Library, photoIds: PhotoId[], options: TrashOptions = {}): Promise<TrashResult> {
  const moveToTrash = options.moveToTrash ?? ((file: string) => trash(file, { glob: false }));
  const catalogue = library.catalogue;
  const toTrash: TrashedPhoto[] = [];
  const keptFor = new Map((options.merges ?? []).flatMap((m) => m.fromIds.map((id) => [id, m.keepId] as const)));
  const trashed: PhotoId[] = [];
  const failed: { id: PhotoId; error: string }[] = [];
  const order = [...new Set(photoIds)];
  for (const id of order) {
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
    toTrash.push({ photoId: id, path: photo.path, size: photo.size, status: photo.status, keptId: keptFor.get(id) ?? null });
  }
  const editId = catalogue.openTrashEdit(toTrash, options.merges ?? []);
  for (const photo of toTrash) {
    const error = await moveOne(photo.path, moveToTrash);
    if (error) {
      catalogue.photoNotTrashed(editId, photo.photoId);
      failed.push({ id: photo.photoId, error });
      continue;
    }
    trashed.push(photo.photoId);
    catalogue.photoTrashed(editId, photo.photoId); // at once, so an interrupted run leaves the catalogue true to the disk
  }
  const asked = new Map(order.map((id, i) => [id, i]));
  failed.sort((x, y) => asked.get(x.id)! - asked.get(y.id)!); // as asked, not as checked
  return { trashed, failed, editId: catalogue.closeTrashEdit(editId) };
}

/** Moves one file to the trash; the reason when it did not go. */
async function moveOne(file: string, moveToTrash: (file: string) => Promise<void>): Promise<string | null> {
  try {
    await moveToTrash(file);
  } catch (error) {
    return `could not move ${file} to the trash: ${(error as Error).message}`;
  }
  return (await exists(file)) ? `${file} is still there after moving it to the trash` : null;
}

export function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
