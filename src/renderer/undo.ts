// Undo as the views show it: what an undone edit was, what the undo put back (and what it could not), the
// key that undoes the newest edit, and the toast key that closes an edit's notice once it is undone.
import { useEffect } from 'react';
import type { PhotoSearchClient } from '../shared/api.js';
import type { EditId, EditRecord, UndoResult } from '../shared/types.js';
import { dismissKeyed, notify, notifyError, type ToastAction } from './toast.js';

export const UNDO_KEY = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘Z' : 'Ctrl+Z';

/** Closes the toast of an edit once that edit is undone. */
export const editKey = (editId: EditId) => `edit:${editId}`;

/** A toast's offer to undo these edits (one change, the newest last), keyed to close once they are undone; none without edits. */
export function undoOffer(editIds: EditId[], undo: (editIds: EditId[]) => unknown): { action?: ToastAction; key?: string } {
  return editIds.length > 0 ? { action: { label: 'Undo', run: () => void undo(editIds) }, key: editKey(editIds[editIds.length - 1]) } : {};
}

/** Wraps user text (a Hebrew tag…) in a bidi isolate so it cannot reorder the sentence around it. */
export const isolate = (text: string) => `\u2068${text}\u2069`;

/** What the notice of a rating or tag edit says once done (the library view adds the count for more than one photo). */
export const ratedLabel = (rating: number) => (rating ? `Rated ${rating}★` : 'Rating cleared');
export const taggedLabel = (tag: string) => `Tagged “${isolate(tag)}”`;
export const untaggedLabel = (tag: string) => `Removed “${isolate(tag)}”`;

export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

function describeEdit(edit: EditRecord): string {
  const names = edit.tags.map((tag) => `“${isolate(tag)}”`).join(', ');
  if (edit.kind === 'rating') return edit.rating ? `rating ${edit.rating}★` : 'clearing ratings';
  if (edit.kind === 'trash') return 'moving to the trash';
  return edit.kind === 'tag' ? `tagging ${names}` : `removing ${names}`;
}

function undoneMessage(results: UndoResult[]): string {
  const restored = results.reduce((n, r) => n + r.restored, 0);
  const skipped = results.reduce((n, r) => n + r.skipped, 0);
  const what = results[results.length - 1].edit;
  if (what.kind === 'trash') return `Undid ${describeEdit(what)}: ${plural(restored, 'photo')} back in the library`;
  return `Undid ${describeEdit(what)}: ${plural(restored, 'photo')} restored`
    + (skipped > 0 ? `; ${plural(skipped, 'was', 'were')} changed again since and kept` : '');
}

/**
 * Undoes these edits (newest first), or else the library's newest edit, and says what came back, with an
 * error toast for files that could not be put back. Returns the results (none: nothing to undo, or it failed).
 */
export async function undoEdits(client: PhotoSearchClient, editIds: EditId[] | null): Promise<UndoResult[]> {
  try {
    const results: UndoResult[] = [];
    if (editIds) for (const id of [...editIds].reverse()) results.push(await client.undoEdit(id));
    else {
      const result = await client.undoLast();
      if (result) results.push(result);
    }
    if (results.length === 0) {
      notify('Nothing to undo');
      return results;
    }
    for (const result of results) dismissKeyed(editKey(result.edit.id));
    notify(undoneMessage(results));
    const notRestored = results.flatMap((r) => r.notRestored ?? []);
    const notice = results.find((r) => r.notice)?.notice;
    if (notice) notify(notice, 'error');
    else if (notRestored.length > 0) {
      notify(`${plural(notRestored.length, 'file')} could not be put back: ${notRestored[0].error}`, 'error');
    }
    return results;
  } catch (error) {
    notifyError(error);
    return [];
  }
}

function isTextField(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && (element.tagName === 'INPUT' || element.tagName === 'TEXTAREA' || element.tagName === 'SELECT' || element.isContentEditable);
}

/** Ctrl+Z (⌘Z) runs `undo`; text fields keep their own undo, and a dialog has the keys. */
export function useUndoShortcut(undo: () => void): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      // Z by its letter, or by its place where the layout has no Latin letters (Hebrew: Ctrl+ז).
      const z = event.key.toLowerCase() === 'z' || (!/^[a-z]$/i.test(event.key) && event.code === 'KeyZ');
      if (event.defaultPrevented || !(event.ctrlKey || event.metaKey) || event.shiftKey || event.altKey || !z) return;
      if (isTextField(event.target) || document.querySelector('.modal')) return;
      event.preventDefault();
      undo();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [undo]);
}
