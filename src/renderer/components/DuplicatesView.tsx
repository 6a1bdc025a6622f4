// Duplicates: groups of exact copies and near-identical photos, the suggested keeper highlighted,
// the others ticked for the system trash (after a confirmation; nothing is ever deleted outright). Its notice
// offers Undo, as Ctrl+Z does: the files come back from the trash and the kept copies give back what they took.
// The scan runs in the background (progress, cancel) and its results are kept: the view shows the last
// results at once, a page of groups at a time, and photos added since are checked by a quicker scan.
// A card's thumbnail opens the photo viewer on the copies of its group, to compare them full size; ratings
// and tags edited there show on the cards.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { DuplicateChoice, DuplicateGroup, DuplicateScanStatus, EditId, PhotoDetail, PhotoId } from '../../shared/types.js';
import { fileName, formatBytes, formatCount, formatDate } from '../format.js';
import { notify, notifyError } from '../toast.js';
import { undoEdits, undoOffer, useUndoShortcut } from '../undo.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { CopiesViewer } from './CopiesViewer.js';
import { Icon } from './icons.js';

interface Props {
  client: PhotoSearchClient;
  /** Photos were trashed or brought back, or ratings and tags changed: the library's results are stale. */
  onLibraryChanged(): void;
}

/** Groups fetched per page. */
const PAGE = 50;
/** The most groups one getDuplicates call returns. */
const MAX_PAGE = 500;

function focusCard(photoId: PhotoId): void {
  (document.querySelector(`[data-testid="duplicate-open"][data-photo-id="${photoId}"]`) as HTMLElement | null)?.focus();
}

/** The groups with one photo changed (a rating or tag edit). */
function patchPhoto(groups: DuplicateGroup[], photoId: PhotoId, change: (photo: PhotoDetail) => PhotoDetail): DuplicateGroup[] {
  return groups.map((group) =>
    group.photos.some((p) => p.id === photoId) ? { ...group, photos: group.photos.map((p) => (p.id === photoId ? change(p) : p)) } : group);
}

/**
 * Only exact copies start ticked: they are the same bytes, so nothing is lost. Near duplicates can
 * differ in what matters (an edit, a crop, the orientation flag): the user ticks those after a look.
 */
function defaultChoice(groups: DuplicateGroup[]): Set<PhotoId> {
  const chosen = new Set<PhotoId>();
  for (const group of groups) {
    if (group.kind !== 'exact') continue;
    for (const photo of group.photos) if (photo.id !== group.keepId) chosen.add(photo.id);
  }
  return chosen;
}

const STAGE_LABEL: Record<NonNullable<DuplicateScanStatus['stage']>, string> = {
  vectors: 'Comparing photos',
  hashing: 'Confirming look-alikes',
  grouping: 'Grouping',
};

export function DuplicatesView({ client, onLibraryChanged }: Props) {
  const [scan, setScan] = useState<DuplicateScanStatus | null>(null);
  const [groups, setGroups] = useState<DuplicateGroup[] | null>(null);
  const [total, setTotal] = useState(0);
  const [chosen, setChosen] = useState<Set<PhotoId>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  /** The copy open in the viewer. */
  const [viewing, setViewing] = useState<PhotoId | null>(null);
  const loadedGroups = useRef(0);
  loadedGroups.current = groups?.length ?? 0;

  const load = useCallback(async () => {
    try {
      const page = await client.getDuplicates(0, PAGE);
      setScan(page.scan);
      setGroups(page.scan.state === 'never' ? null : page.groups);
      setTotal(page.total);
      setChosen(defaultChoice(page.groups));
    } catch (error) {
      notifyError(error);
    }
  }, [client]);

  useEffect(() => {
    void load();
    let previous: DuplicateScanStatus['state'] | null = null;
    return client.onEvent((event) => {
      if (event.type !== 'duplicates') return;
      setScan(event.scan);
      // A scan that just finished: show its results.
      if (previous === 'running' && event.scan.state === 'done') void load();
      if (previous === 'running' && event.scan.state === 'failed') notify(`The duplicate scan failed: ${event.scan.error ?? 'unknown error'}`, 'error');
      previous = event.scan.state;
    });
  }, [client, load]);

  async function start() {
    try {
      setScan(await client.startDuplicateScan());
    } catch (error) {
      notifyError(error);
    }
  }

  async function cancel() {
    try {
      setScan(await client.cancelDuplicateScan());
    } catch (error) {
      notifyError(error);
    }
  }

  async function more() {
    if (!groups) return;
    setLoadingMore(true);
    try {
      const page = await client.getDuplicates(groups.length, PAGE);
      setGroups([...groups, ...page.groups]);
      setTotal(page.total);
      setChosen((current) => new Set([...current, ...defaultChoice(page.groups)]));
    } catch (error) {
      notifyError(error);
    } finally {
      setLoadingMore(false);
    }
  }

  /** Per group, the copy that stays and the ticked others: never the kept one, so every group keeps a copy. */
  function choices(): DuplicateChoice[] {
    return (groups ?? [])
      .map((group) => ({ keepId: group.keepId, trashIds: group.photos.map((p) => p.id).filter((id) => id !== group.keepId && chosen.has(id)) }))
      .filter((choice) => choice.trashIds.length > 0);
  }

  function keepInstead(group: DuplicateGroup, photoId: PhotoId) {
    setGroups((current) => (current ?? []).map((g) => (g === group ? { ...g, keepId: photoId } : g)));
    setChosen((current) => {
      const next = new Set(current);
      next.delete(photoId);
      return next;
    });
  }

  async function dismiss(group: DuplicateGroup) {
    try {
      await client.dismissDuplicates(group.photos.map((p) => p.id));
      setGroups((current) => (current ?? []).filter((g) => g !== group));
      setTotal((n) => Math.max(0, n - 1));
      setChosen((current) => new Set([...current].filter((id) => !group.photos.some((p) => p.id === id))));
      notify('Marked as not duplicates: this group will not be shown again');
    } catch (error) {
      notifyError(error);
    }
  }

  async function trash() {
    setConfirming(false);
    try {
      const result = await client.resolveDuplicates(choices());
      const gone = new Set(result.trashed);
      setGroups((current) =>
        (current ?? [])
          .map((group) => ({ ...group, photos: group.photos.filter((photo) => !gone.has(photo.id)) }))
          .filter((group) => group.photos.length > 1),
      );
      setChosen((current) => new Set([...current].filter((id) => !gone.has(id))));
      const { editId } = result;
      notify(`Moved ${formatCount(result.trashed.length)} photo${result.trashed.length === 1 ? '' : 's'} to the trash`, 'info',
        undoOffer(editId === null ? [] : [editId], undo));
      if (result.failed.length) notify(`${result.failed.length} could not be moved: ${result.failed[0].error}`, 'error');
      onLibraryChanged();
    } catch (error) {
      notifyError(error);
    }
  }

  /**
   * Re-reads the ratings and tags of the copies shown, keeping the groups as they are on the page (loaded
   * pages, chosen copies to keep, ticks): an undone rating or tag edit changes nothing else.
   */
  const refreshCuration = useCallback(async () => {
    const fresh = new Map<PhotoId, PhotoDetail>();
    try {
      for (let offset = 0; offset < loadedGroups.current; offset += MAX_PAGE) {
        const page = await client.getDuplicates(offset, Math.min(MAX_PAGE, loadedGroups.current - offset));
        for (const group of page.groups) for (const photo of group.photos) fresh.set(photo.id, photo);
      }
    } catch (error) {
      notifyError(error);
      return;
    }
    setGroups((current) => current && current.map((group) => ({
      ...group,
      photos: group.photos.map((photo) => {
        const now = fresh.get(photo.id);
        return now ? { ...photo, rating: now.rating, tags: now.tags } : photo;
      }),
    })));
  }, [client]);

  /**
   * Undoes these edits (else the newest edit). A trash: files back, kept copies' merged tags and rating taken
   * back, groups reloaded. A rating or tag edit (made in the viewer or in the library): the cards re-read.
   */
  const undo = useCallback(async (editIds: EditId[] | null) => {
    const results = await undoEdits(client, editIds);
    if (results.length === 0) return;
    onLibraryChanged();
    if (results.some((result) => result.edit.kind === 'trash')) await load();
    else await refreshCuration();
  }, [client, load, refreshCuration, onLibraryChanged]);
  useUndoShortcut(useCallback(() => void undo(null), [undo]));

  const toggle = (id: PhotoId) =>
    setChosen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const running = scan?.state === 'running';
  const startLabel = running ? 'Scanning…' : scan?.state === 'never' || !scan ? 'Find duplicates' : scan.unchecked > 0 ? `Check ${formatCount(scan.unchecked)} new photos` : 'Scan again';
  const keepIds = new Set(groups?.map((g) => g.keepId));
  const wasted = groups ? groups.flatMap((g) => g.photos).filter((p) => chosen.has(p.id) && !keepIds.has(p.id)).reduce((sum, p) => sum + p.size, 0) : 0;
  const toTrash = choices().reduce((n, c) => n + c.trashIds.length, 0);
  const viewedGroup = viewing === null ? undefined : groups?.find((group) => group.photos.some((photo) => photo.id === viewing));
  // The copy left the groups (a trash undone elsewhere reloaded them without it): the viewer closes.
  useEffect(() => {
    if (viewing !== null && groups && !viewedGroup) setViewing(null);
  }, [viewing, groups, viewedGroup]);

  return (
    <div className="duplicates" data-testid="duplicates-view">
      <div className="duplicates-head">
        <div>
          <h2>Duplicates</h2>
          <p className="muted">
            Exact copies (same bytes) and near duplicates (nearly the same picture). The copy to keep — the largest, then the oldest — is
            highlighted; extra exact copies are ticked for the trash, near duplicates only when you tick them.
          </p>
        </div>
        <div className="button-row">
          <button type="button" onClick={() => void start()} disabled={running || !scan} data-testid="find-duplicates">
            <Icon name="copies" /> {startLabel}
          </button>
          {running && (
            <button type="button" onClick={() => void cancel()} data-testid="cancel-duplicates">
              Cancel
            </button>
          )}
          {groups && groups.length > 0 && (
            <button type="button" className="danger" disabled={toTrash === 0} onClick={() => setConfirming(true)} data-testid="trash-duplicates">
              <Icon name="trash" /> {toTrash === 0 ? 'Move to trash' : `Move ${formatCount(toTrash)} to trash`} {wasted > 0 && <span className="muted-inverse">({formatBytes(wasted)})</span>}
            </button>
          )}
        </div>
      </div>
      {running && scan && (
        <div className="scan-progress" role="status" data-testid="duplicates-progress">
          <p>
            {scan.stage ? STAGE_LABEL[scan.stage] : 'Starting'}
            {scan.incremental ? ' (new photos only)' : ''}
            {scan.total > 0 ? ` · ${formatCount(scan.done)} of ${formatCount(scan.total)}` : '…'}
          </p>
          <div className={`progress${scan.total > 0 ? '' : ' indeterminate'}`} role="progressbar" aria-valuemin={0} aria-valuemax={scan.total} aria-valuenow={scan.done}>
            <div className="progress-fill" style={scan.total > 0 ? { width: `${(100 * scan.done) / scan.total}%` } : undefined} />
          </div>
          <p className="muted small">It runs in the background: browse and search meanwhile, or come back later.</p>
        </div>
      )}
      {scan?.state === 'failed' && <p className="empty-note error" role="alert">The last scan failed: {scan.error}</p>}
      {scan?.state === 'cancelled' && <p className="muted small" data-testid="duplicates-cancelled">Scan cancelled. The results below are from the last finished scan.</p>}
      {scan && scan.finishedAt !== null && (
        <p className="muted small" data-testid="duplicates-summary">
          {formatCount(total)} group{total === 1 ? '' : 's'}, {formatCount(scan.removable)} extra cop{scan.removable === 1 ? 'y' : 'ies'} · checked {formatDate(scan.finishedAt, true)}
          {scan.unchecked > 0 ? ` · ${formatCount(scan.unchecked)} photos added since are not checked yet` : ''}
        </p>
      )}
      {!running && scan?.state === 'never' && (
        <p className="empty-note" data-testid="duplicates-intro">Nothing checked yet. “Find duplicates” compares every indexed photo in the background; nothing is moved until you confirm.</p>
      )}
      {groups && groups.length === 0 && !running && <p className="empty-note" data-testid="no-duplicates">No duplicates found.</p>}
      {groups?.map((group) => (
        <section key={`${group.kind}-${group.keepId}`} className="dup-group" data-testid="duplicate-group" data-kind={group.kind}>
          <h3>
            <span className={`badge ${group.kind}`}>{group.kind === 'exact' ? 'Exact copies' : 'Near duplicates'}</span>
            <span className="muted">
              {group.photos.length} photos{group.kind === 'near' ? ` · ${(group.similarity * 100).toFixed(1)}% similar` : ''}
            </span>
            <button type="button" className="link-button" onClick={() => void dismiss(group)} data-testid="not-duplicates">
              Not duplicates
            </button>
          </h3>
          <div className="dup-photos">
            {group.photos.map((photo) => {
              const keep = photo.id === group.keepId;
              const marked = chosen.has(photo.id);
              return (
                <figure key={photo.id} className={`dup-card${keep ? ' keep' : ''}${marked ? ' marked' : ''}`} data-testid="duplicate-photo" data-photo-id={photo.id} data-keep={keep}>
                  <div className="dup-thumb">
                    <button
                      type="button"
                      className="dup-open"
                      aria-label={`Open ${fileName(photo.path)} in the viewer`}
                      data-testid="duplicate-open"
                      data-photo-id={photo.id}
                      onClick={() => setViewing(photo.id)}
                    >
                      <img src={client.mediaUrl('thumb', photo.id)} alt="" decoding="async" draggable={false} />
                    </button>
                    {keep && <span className="keep-badge"><Icon name="check" size={14} /> Keep</span>}
                  </div>
                  <figcaption>
                    <span className="path" dir="auto" title={photo.path}>{fileName(photo.path)}</span>
                    <span className="muted small path" dir="auto" title={photo.path}>{photo.path}</span>
                    <span className="muted small">
                      {photo.width && photo.height ? `${photo.width}×${photo.height} · ` : ''}{formatBytes(photo.size)} · {formatDate(photo.takenAt ?? photo.mtimeMs, false)}
                    </span>
                    {(photo.rating > 0 || photo.tags.length > 0) && (
                      <span className="small dup-curation" data-testid="duplicate-curation">
                        {photo.rating > 0 && <span aria-label={`${photo.rating} stars`}>{'★'.repeat(photo.rating)}</span>}
                        {photo.tags.map((tag) => <span key={tag} className="tag-chip" dir="auto">{tag}</span>)}
                      </span>
                    )}
                    {keep ? (
                      <span className="muted small">Stays, with the tags and best rating of the copies you remove</span>
                    ) : (
                      <span className="dup-actions">
                        <label className="check">
                          <input type="checkbox" checked={marked} onChange={() => toggle(photo.id)} aria-label={`Move ${fileName(photo.path)} to trash`} />
                          Move to trash
                        </label>
                        <button type="button" className="link-button" onClick={() => keepInstead(group, photo.id)} data-testid="keep-instead">
                          Keep this one
                        </button>
                      </span>
                    )}
                  </figcaption>
                </figure>
              );
            })}
          </div>
        </section>
      ))}
      {groups && groups.length < total && (
        <div className="button-row center">
          <button type="button" onClick={() => void more()} disabled={loadingMore} data-testid="more-duplicates">
            {loadingMore ? 'Loading…' : `Show more (${formatCount(total - groups.length)} more groups)`}
          </button>
        </div>
      )}
      {viewedGroup && viewing !== null && (
        <CopiesViewer
          client={client}
          copies={viewedGroup.photos}
          photoId={viewing}
          onShow={setViewing}
          onClose={() => {
            setViewing(null);
            focusCard(viewing);
          }}
          onEdited={(photoId, change) => {
            setGroups((current) => current && patchPhoto(current, photoId, change));
            onLibraryChanged();
          }}
          onUndo={(editIds) => void undo(editIds)}
        />
      )}
      {confirming && (
        <ConfirmDialog
          title="Move to trash?"
          message={`${formatCount(toTrash)} photo${toTrash === 1 ? '' : 's'} (${formatBytes(wasted)}) will be moved to the system trash; one copy of each group stays and takes their tags and highest rating. You can restore them from the trash.`}
          confirmLabel="Move to trash"
          danger
          onConfirm={() => void trash()}
          onCancel={() => setConfirming(false)}
        />
      )}
    </div>
  );
}
