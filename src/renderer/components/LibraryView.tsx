// The library: the result grid with its selection, the bulk actions bar and the viewer.
//
// Rating and tag edits: the library records each in its undo history (the truth lives there, so Ctrl+Z also
// undoes edits from before a restart); here, an edit of more than CONFIRM_ABOVE photos asks first, naming the
// count, and each edit's toast offers Undo. Ctrl+Z undoes the newest edit, outside text fields.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { EditId, EditResult, PhotoId, PhotoSummary } from '../../shared/types.js';
import type { ResultsSnapshot, ResultsStore } from '../state/results.js';
import {
  addAll, EMPTY_SELECTION, selectAll, selectionCount, selectOnly, toggle, type Selection,
} from '../state/selection.js';
import { notify, notifyError } from '../toast.js';
import { isolate, plural, ratedLabel, taggedLabel, undoEdits, UNDO_KEY, undoOffer, untaggedLabel, useUndoShortcut } from '../undo.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { Icon } from './icons.js';
import { PhotoGrid, type EmptyAction, type GridClick } from './PhotoGrid.js';
import { SearchNoticeBanner } from './SearchNoticeBanner.js';
import { StarRating } from './StarRating.js';
import { TagInput } from './TagInput.js';
import { Viewer } from './Viewer.js';

function focusGrid(): void {
  (document.querySelector('[data-testid="photo-grid"]') as HTMLElement | null)?.focus();
}

/** Bulk calls carry at most this many ids (the API accepts up to 1M; smaller calls keep the UI lively). */
const BULK_CHUNK = 50_000;

/** Edits of more photos than this ask first. */
export const CONFIRM_ABOVE = 50;

interface Question {
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
}

/** One kind of edit, as the view applies it to a list of photos. */
interface EditSpec {
  /** What the toast says once done ("Rated 2★"). */
  label: string;
  /** The question for more than CONFIRM_ABOVE photos, given their count written out. */
  question(count: string): Question;
  /** What the toast says when no photo needed the change. */
  unchanged: string;
  call(chunk: PhotoId[], partOf: EditId | null): Promise<EditResult>;
  change(item: PhotoSummary): PhotoSummary;
}

interface Props {
  client: PhotoSearchClient;
  store: ResultsStore;
  snapshot: ResultsSnapshot;
  thumbSize: number;
  emptyMessage: string;
  /** A way out of an empty result (clear the filters…). */
  emptyAction?: EmptyAction;
  /** Whether a change to these tags/ratings can change which photos match (then the results reload). */
  filtersDependOnEdits: boolean;
  onFilterTag(tag: string): void;
  onFindSimilar(photo: PhotoSummary): void;
}

export function LibraryView({ client, store, snapshot, thumbSize, emptyMessage, emptyAction, filtersDependOnEdits, onFilterTag, onFindSimilar }: Props) {
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [focusIndex, setFocusIndex] = useState(-1);
  const [viewerIndex, setViewerIndex] = useState<number | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [question, setQuestion] = useState<(Question & { answer(ok: boolean): void }) | null>(null);
  const anchor = useRef(0);
  const total = snapshot.total ?? 0;

  // A new query starts with nothing selected.
  useEffect(() => {
    setSelection(EMPTY_SELECTION);
    setFocusIndex(-1);
    setViewerIndex(null);
    anchor.current = 0;
  }, [store]);

  // Callbacks read the latest state through a ref so the memoised grid cells keep stable props.
  const latest = useRef({ selection, store, focusIndex, total });
  latest.current = { selection, store, focusIndex, total };

  const selectRange = useCallback(async (from: number, to: number, keep: boolean) => {
    const [start, end] = from <= to ? [from, to] : [to, from];
    try {
      const items = await latest.current.store.load(start, end);
      const ids = items.map((item) => item.id);
      setSelection((current) => (keep ? addAll(current, ids) : { kind: 'ids', ids: new Set(ids) }));
    } catch (error) {
      notifyError(error);
    }
  }, []);

  const onClick = useCallback((click: GridClick) => {
    setFocusIndex(click.index);
    if (click.range) {
      void selectRange(anchor.current, click.index, click.toggle);
      return;
    }
    anchor.current = click.index;
    if (!click.item) return;
    const id = click.item.id;
    setSelection((current) => (click.toggle ? toggle(current, id) : selectOnly(id)));
  }, [selectRange]);

  const onMove = useCallback((index: number, extend: boolean) => {
    setFocusIndex(index);
    if (extend) {
      void selectRange(anchor.current, index, false);
      return;
    }
    anchor.current = index;
    const item = latest.current.store.getItem(index);
    if (item) setSelection(selectOnly(item.id));
    else void latest.current.store.load(index, index).then(([loaded]) => loaded && setSelection(selectOnly(loaded.id)));
  }, [selectRange]);

  const onToggle = useCallback((index: number) => {
    const item = latest.current.store.getItem(index);
    if (item) setSelection((current) => toggle(current, item.id));
  }, []);

  const onOpen = useCallback((index: number) => {
    setFocusIndex(index);
    setViewerIndex(index);
  }, []);

  /** The ids an action applies to: the selection, or else the focused photo. */
  async function targetIds(): Promise<PhotoId[]> {
    const { selection: current, store: results, focusIndex: focus } = latest.current;
    if (current.kind === 'ids') {
      if (current.ids.size > 0) return [...current.ids];
      const focused = focus >= 0 ? results.getItem(focus) : undefined;
      return focused ? [focused.id] : [];
    }
    const ids: PhotoId[] = [];
    for await (const chunk of results.allIds()) for (const id of chunk) if (!current.except.has(id)) ids.push(id);
    return ids;
  }

  function ask(q: Question): Promise<boolean> {
    return new Promise((resolve) => setQuestion({ ...q, answer: (ok) => {
      setQuestion(null);
      resolve(ok);
    } }));
  }

  const busyRef = useRef<string | null>(null);
  busyRef.current = busy;

  /** Undoes these edits (newest first), or else the library's newest edit, and shows the photos as they are now. */
  const undo = useCallback(async (editIds: EditId[] | null) => {
    if (busyRef.current) {
      notify(`Wait until “${busyRef.current}” is done, then undo.`);
      return;
    }
    if ((await undoEdits(client, editIds)).length > 0) latest.current.store.refresh();
  }, [client]);

  async function applyEdit(spec: EditSpec, ids: PhotoId[]) {
    if (ids.length === 0) return;
    if (ids.length > CONFIRM_ABOVE && !(await ask(spec.question(ids.length.toLocaleString())))) return;
    setBusy(spec.label);
    // A large selection goes in chunks, each joining the edit the first one recorded: one undo for all.
    const editIds: EditId[] = [];
    try {
      for (let i = 0; i < ids.length; i += BULK_CHUNK) {
        const result = await spec.call(ids.slice(i, i + BULK_CHUNK), editIds[editIds.length - 1] ?? null);
        if (result.editId !== null && !editIds.includes(result.editId)) editIds.push(result.editId);
      }
      const set = new Set(ids);
      store.patch((item) => set.has(item.id), spec.change);
      if (filtersDependOnEdits) store.refresh();
      if (editIds.length > 0) notify(ids.length > 1 ? `${spec.label}: ${plural(ids.length, 'photo')}` : spec.label, 'info', undoOffer(editIds, undo));
      else if (ids.length > 1) notify(spec.unchanged);
    } catch (error) {
      // Chunks done before the failure stay done (and undoable); show the truth.
      store.refresh();
      notify(error instanceof Error ? error.message : String(error), 'error', undoOffer(editIds, undo));
    } finally {
      setBusy(null);
    }
  }

  async function rate(ids: PhotoId[], rating: number) {
    await applyEdit({
      label: ratedLabel(rating),
      question: (count) => (rating
        ? { title: `Rate ${count} photos ${rating}★?`, message: `Each of the ${count} selected photos gets ${rating}★, replacing the rating it has. ${UNDO_KEY} undoes this.`, confirmLabel: `Rate ${count} photos` }
        : { title: `Clear the rating of ${count} photos?`, message: `The ${count} selected photos lose their ratings. ${UNDO_KEY} undoes this.`, confirmLabel: `Clear ${count} ratings`, danger: true }),
      unchanged: rating ? `All ${plural(ids.length, 'photo')} had ${rating}★ already` : `None of the ${plural(ids.length, 'photo')} had a rating`,
      call: (chunk, partOf) => client.setRating(chunk, rating, partOf),
      change: (item) => ({ ...item, rating }),
    }, ids);
  }
  async function addTag(ids: PhotoId[], tag: string) {
    const name = `“${isolate(tag)}”`;
    await applyEdit({
      label: taggedLabel(tag),
      question: (count) => ({ title: `Tag ${count} photos ${name}?`, message: `${name} is added to each of the ${count} selected photos that lacks it. ${UNDO_KEY} undoes this.`, confirmLabel: `Tag ${count} photos` }),
      unchanged: `All ${plural(ids.length, 'photo')} had ${name} already`,
      call: (chunk, partOf) => client.addTags(chunk, [tag], partOf),
      change: (item) => (item.tags.includes(tag) ? item : { ...item, tags: [...item.tags, tag] }),
    }, ids);
  }
  async function removeTag(ids: PhotoId[], tag: string) {
    const name = `“${isolate(tag)}”`;
    await applyEdit({
      label: untaggedLabel(tag),
      question: (count) => ({ title: `Remove ${name} from ${count} photos?`, message: `${name} is removed from each of the ${count} selected photos that has it. ${UNDO_KEY} undoes this.`, confirmLabel: `Remove from ${count} photos`, danger: true }),
      unchanged: `None of the ${plural(ids.length, 'photo')} had ${name}`,
      call: (chunk, partOf) => client.removeTags(chunk, [tag], partOf),
      change: (item) => ({ ...item, tags: item.tags.filter((t) => t !== tag) }),
    }, ids);
  }

  // Ctrl+Z (⌘Z) undoes the library's newest edit (a trash included).
  useUndoShortcut(useCallback(() => void undo(null), [undo]));

  const rateSelection = useCallback((rating: number) => {
    void targetIds().then((ids) => rate(ids, rating));
  }, [client, store, filtersDependOnEdits]);

  const count = selectionCount(selection, total);
  const viewerItem = viewerIndex === null ? undefined : store.getItem(viewerIndex);
  useEffect(() => {
    if (viewerIndex !== null && !viewerItem) store.request(viewerIndex, viewerIndex);
  }, [store, viewerIndex, viewerItem]);

  // The rating shown for the selection: shared by all loaded selected photos, else none.
  const selectedRatings = new Set<number>();
  if (count > 0 && selection.kind === 'ids') {
    for (const id of selection.ids) {
      const index = store.indexOf(id);
      const item = index >= 0 ? store.getItem(index) : undefined;
      if (item) selectedRatings.add(item.rating);
      if (selectedRatings.size > 1) break;
    }
  }
  const commonRating = selectedRatings.size === 1 ? [...selectedRatings][0] : 0;

  return (
    <div className="library-view">
      {snapshot.notice && <SearchNoticeBanner client={client} notice={snapshot.notice} />}
      {count > 0 && (
        <div className="selection-bar" role="toolbar" aria-label="Selection actions" data-testid="selection-bar">
          <span className="selection-count" data-testid="selection-count">{count.toLocaleString()} selected</span>
          <StarRating
            value={commonRating}
            label="Rate selected photos"
            onChange={(rating) => {
              rateSelection(rating);
              focusGrid(); // so arrows and 0–5 keep working after a click on a star
            }}
            testId="selection-rating"
            disabled={busy !== null}
          />
          <TagInput client={client} label="Tag selected photos" placeholder="Add tag to selection…" testId="selection-tag-input" onAdd={(tag) => void targetIds().then((ids) => addTag(ids, tag))} />
          <TagInput client={client} label="Remove a tag from selected photos" placeholder="Remove tag…" testId="selection-untag-input" onAdd={(tag) => void targetIds().then((ids) => removeTag(ids, tag))} />
          {count === 1 && selection.kind === 'ids' && (
            <button
              type="button"
              onClick={() => {
                const id = [...selection.ids][0];
                const index = store.indexOf(id);
                const item = index >= 0 ? store.getItem(index) : undefined;
                if (item) onFindSimilar(item);
              }}
            >
              <Icon name="similar" /> Similar
            </button>
          )}
          {busy && <span className="muted" role="status">{busy}…</span>}
          <span className="spacer" />
          <button type="button" onClick={() => setSelection(selectAll())} disabled={selection.kind === 'all' && selection.except.size === 0}>Select all</button>
          <button type="button" onClick={() => setSelection(EMPTY_SELECTION)} data-testid="clear-selection">Clear</button>
        </div>
      )}
      <PhotoGrid
        client={client}
        store={store}
        snapshot={snapshot}
        selection={selection}
        focusIndex={focusIndex}
        thumbSize={thumbSize}
        emptyMessage={emptyMessage}
        emptyAction={emptyAction}
        onClick={onClick}
        onOpen={onOpen}
        onMove={onMove}
        onToggle={onToggle}
        onSelectAll={() => setSelection(selectAll())}
        onClearSelection={() => setSelection(EMPTY_SELECTION)}
        onRate={rateSelection}
      />
      {viewerIndex !== null && (
        <Viewer
          client={client}
          index={viewerIndex}
          total={total}
          item={viewerItem}
          onNavigate={(index) => {
            setViewerIndex(index);
            setFocusIndex(index);
            const item = store.getItem(index);
            if (item) setSelection(selectOnly(item.id));
          }}
          onClose={() => {
            setViewerIndex(null);
            focusGrid();
          }}
          onRate={(photo, rating) => void rate([photo.id], rating)}
          onAddTag={(photo, tag) => void addTag([photo.id], tag)}
          onRemoveTag={(photo, tag) => void removeTag([photo.id], tag)}
          onFilterTag={(tag) => {
            setViewerIndex(null);
            onFilterTag(tag);
          }}
          onFindSimilar={(photo) => {
            setViewerIndex(null);
            onFindSimilar(photo);
          }}
        />
      )}
      {question && (
        <ConfirmDialog
          title={question.title}
          message={question.message}
          confirmLabel={question.confirmLabel}
          danger={question.danger}
          onConfirm={() => question.answer(true)}
          onCancel={() => question.answer(false)}
        />
      )}
    </div>
  );
}
