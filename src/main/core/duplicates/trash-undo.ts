// Undoing a 'trash' edit: each trashed file is put back at its path from the system trash where the platform
// allows it (trash-restore.ts), then, in one catalogue transaction, the photos whose files are back become
// visible again (their rating, tags and vector never left) and the kept copies of a duplicate resolution give
// back the tags and rating they took. A file that cannot be put back (its path taken, the trash emptied) is
// named with the reason and its photo stays missing. Files move first: a kill before the transaction leaves
// the edit in the history, and undoing it again finds those files already back. Copies back from resolving
// duplicates are listed with their kept copy, so their groups can rejoin the duplicate results.
import { stat } from 'node:fs/promises';
import type { EditId, PhotoId, UndoResult } from '../../../shared/types.js';
import type { Library } from '../library.js';
import { systemTrash, type SystemTrash } from './trash-restore.js';

export interface TrashUndone {
  result: UndoResult;
  /** Duplicate groups whose trashed copies are back: the kept copy first, then those copies. */
  groups: PhotoId[][];
}

export async function undoTrashEdit(library: Library, editId: EditId, trash: SystemTrash = systemTrash()): Promise<TrashUndone> {
  const catalogue = library.catalogue;
  const { photos } = catalogue.readTrashEdit(editId);
  const back: PhotoId[] = [];
  const notRestored: { id: PhotoId; path: string; error: string }[] = [];
  for (const trashed of photos) {
    const now = catalogue.getPhoto(trashed.photoId);
    if (!now) {
      notRestored.push({ id: trashed.photoId, path: trashed.path, error: 'no longer in the catalogue' });
      continue;
    }
    const onDisk = await stat(trashed.path).catch(() => null);
    // Never moved (an interrupted trash), or put back (by hand, or by an undo killed before its transaction)
    // and rescanned: restore() then only tidies the trash entry a half-finished restore left.
    if (now.status !== 'missing' && now.path === trashed.path && onDisk) {
      if (trash.canRestore) await trash.restore(trashed.path, trashed.size);
      back.push(trashed.photoId);
      continue;
    }
    if (!trash.canRestore) {
      if (onDisk?.size === trashed.size) back.push(trashed.photoId); // put back by hand
      else notRestored.push({ id: trashed.photoId, path: trashed.path, error: `restore it from the ${trash.name} yourself` });
      continue;
    }
    const outcome = await trash.restore(trashed.path, trashed.size);
    if (outcome.restored) back.push(trashed.photoId);
    else notRestored.push({ id: trashed.photoId, path: trashed.path, error: outcome.error });
  }
  const { edit, visible } = catalogue.undoTrashEdit(editId, back);
  const isBack = new Set(back);
  const groups = new Map<PhotoId, PhotoId[]>();
  for (const photo of photos) {
    if (photo.keptId === null || !isBack.has(photo.photoId)) continue;
    groups.set(photo.keptId, [...(groups.get(photo.keptId) ?? [photo.keptId]), photo.photoId]);
  }
  const result: UndoResult = { edit, restored: visible, skipped: photos.length - visible, notRestored };
  if (!trash.canRestore && notRestored.length > 0) {
    result.notice = `This system does not let apps take files out of the ${trash.name}: restore the files from the ${trash.name} yourself. `
      + 'Back in their folders, they show again with their ratings and tags.';
  }
  return { result, groups: [...groups.values()] };
}
