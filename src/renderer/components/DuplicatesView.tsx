// Duplicates: groups of exact copies and near-identical photos, the suggested keeper highlighted,
// the others ticked for the system trash (after a confirmation; nothing is ever deleted outright).
import { useState } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { DuplicateGroup, PhotoId } from '../../shared/types.js';
import { fileName, formatBytes, formatCount, formatDate } from '../format.js';
import { notify, notifyError } from '../toast.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { Icon } from './icons.js';

interface Props {
  client: PhotoSearchClient;
  onTrashed(): void;
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

/** Exact copies first (certain), then near duplicates, most similar first. */
function byCertainty(groups: DuplicateGroup[]): DuplicateGroup[] {
  return [...groups].sort((a, b) => (a.kind === b.kind ? b.similarity - a.similarity : a.kind === 'exact' ? -1 : 1));
}

export function DuplicatesView({ client, onTrashed }: Props) {
  const [groups, setGroups] = useState<DuplicateGroup[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [chosen, setChosen] = useState<Set<PhotoId>>(new Set());
  const [confirming, setConfirming] = useState(false);

  async function find() {
    setLoading(true);
    try {
      const found = byCertainty(await client.findDuplicates());
      setGroups(found);
      setChosen(defaultChoice(found));
    } catch (error) {
      notifyError(error);
    } finally {
      setLoading(false);
    }
  }

  async function trash() {
    setConfirming(false);
    const ids = [...chosen];
    try {
      const result = await client.trashPhotos(ids);
      const gone = new Set(result.trashed);
      setGroups((current) =>
        (current ?? [])
          .map((group) => ({ ...group, photos: group.photos.filter((photo) => !gone.has(photo.id)) }))
          .filter((group) => group.photos.length > 1),
      );
      setChosen((current) => new Set([...current].filter((id) => !gone.has(id))));
      notify(`Moved ${formatCount(result.trashed.length)} photo${result.trashed.length === 1 ? '' : 's'} to the trash`);
      if (result.failed.length) notify(`${result.failed.length} could not be moved: ${result.failed[0].error}`, 'error');
      onTrashed();
    } catch (error) {
      notifyError(error);
    }
  }

  const toggle = (id: PhotoId) =>
    setChosen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const wasted = groups ? groups.flatMap((g) => g.photos).filter((p) => chosen.has(p.id)).reduce((sum, p) => sum + p.size, 0) : 0;

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
          <button type="button" onClick={() => void find()} disabled={loading} data-testid="find-duplicates">
            <Icon name="copies" /> {loading ? 'Looking…' : groups ? 'Look again' : 'Find duplicates'}
          </button>
          {groups && groups.length > 0 && (
            <button type="button" className="danger" disabled={chosen.size === 0} onClick={() => setConfirming(true)} data-testid="trash-duplicates">
              <Icon name="trash" /> {chosen.size === 0 ? 'Move to trash' : `Move ${formatCount(chosen.size)} to trash`} {wasted > 0 && <span className="muted-inverse">({formatBytes(wasted)})</span>}
            </button>
          )}
        </div>
      </div>
      {loading && !groups && (
        <div className="empty-note" role="status">
          <div className="spinner" aria-hidden="true" />
          <p>Comparing photos… on a large library this takes a while.</p>
        </div>
      )}
      {!loading && !groups && (
        <p className="empty-note" data-testid="duplicates-intro">Nothing checked yet. “Find duplicates” compares every indexed photo; nothing is moved until you confirm.</p>
      )}
      {groups && groups.length === 0 && <p className="empty-note" data-testid="no-duplicates">No duplicates found.</p>}
      {groups?.map((group) => (
        <section key={`${group.kind}-${group.keepId}`} className="dup-group" data-testid="duplicate-group" data-kind={group.kind}>
          <h3>
            <span className={`badge ${group.kind}`}>{group.kind === 'exact' ? 'Exact copies' : 'Near duplicates'}</span>
            <span className="muted">
              {group.photos.length} photos{group.kind === 'near' ? ` · ${(group.similarity * 100).toFixed(1)}% similar` : ''}
            </span>
          </h3>
          <div className="dup-photos">
            {group.photos.map((photo) => {
              const keep = photo.id === group.keepId;
              const marked = chosen.has(photo.id);
              return (
                <figure key={photo.id} className={`dup-card${keep ? ' keep' : ''}${marked ? ' marked' : ''}`} data-testid="duplicate-photo" data-photo-id={photo.id} data-keep={keep}>
                  <div className="dup-thumb">
                    <img src={client.mediaUrl('thumb', photo.id)} alt={fileName(photo.path)} decoding="async" draggable={false} />
                    {keep && <span className="keep-badge"><Icon name="check" size={14} /> Keep</span>}
                  </div>
                  <figcaption>
                    <span className="path" dir="auto" title={photo.path}>{fileName(photo.path)}</span>
                    <span className="muted small path" dir="auto" title={photo.path}>{photo.path}</span>
                    <span className="muted small">
                      {photo.width && photo.height ? `${photo.width}×${photo.height} · ` : ''}{formatBytes(photo.size)} · {formatDate(photo.takenAt ?? photo.mtimeMs, false)}
                    </span>
                    <label className="check">
                      <input type="checkbox" checked={marked} onChange={() => toggle(photo.id)} aria-label={`Move ${fileName(photo.path)} to trash`} />
                      Move to trash
                    </label>
                  </figcaption>
                </figure>
              );
            })}
          </div>
        </section>
      ))}
      {confirming && (
        <ConfirmDialog
          title="Move to trash?"
          message={`${formatCount(chosen.size)} photo${chosen.size === 1 ? '' : 's'} (${formatBytes(wasted)}) will be moved to the system trash. You can restore them from there.`}
          confirmLabel="Move to trash"
          danger
          onConfirm={() => void trash()}
          onCancel={() => setConfirming(false)}
        />
      )}
    </div>
  );
}
