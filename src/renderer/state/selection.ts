// Multi-selection over a result list that may hold 624,000 photos: either an explicit set of ids, or
// "everything except these" (Ctrl+A), which is resolved into ids only when an action needs them.
import type { PhotoId } from '../../shared/types.js';

export type Selection =
  | { kind: 'ids'; ids: ReadonlySet<PhotoId> }
  | { kind: 'all'; except: ReadonlySet<PhotoId> };

export const EMPTY_SELECTION: Selection = { kind: 'ids', ids: new Set() };

export function isSelected(selection: Selection, id: PhotoId): boolean {
  return selection.kind === 'ids' ? selection.ids.has(id) : !selection.except.has(id);
}

export function selectionCount(selection: Selection, total: number): number {
  return selection.kind === 'ids' ? selection.ids.size : Math.max(0, total - selection.except.size);
}

export function selectOnly(id: PhotoId): Selection {
  return { kind: 'ids', ids: new Set([id]) };
}

export function toggle(selection: Selection, id: PhotoId): Selection {
  if (selection.kind === 'ids') {
    const ids = new Set(selection.ids);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    return { kind: 'ids', ids };
  }
  const except = new Set(selection.except);
  if (except.has(id)) except.delete(id);
  else except.add(id);
  return { kind: 'all', except };
}

export function addAll(selection: Selection, ids: Iterable<PhotoId>): Selection {
  if (selection.kind === 'all') {
    const except = new Set(selection.except);
    for (const id of ids) except.delete(id);
    return { kind: 'all', except };
  }
  const next = new Set(selection.ids);
  for (const id of ids) next.add(id);
  return { kind: 'ids', ids: next };
}

export function selectAll(): Selection {
  return { kind: 'all', except: new Set() };
}
