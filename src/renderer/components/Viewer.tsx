// Full-screen photo viewer: the photo (the thumbnail stands in until the full image arrives),
// previous/next, rating, tags, "find similar" and the photo's metadata. The library opens it on its results;
// the duplicates view on the copies of one group, where "find similar" and filtering by a tag have no place.
import { useEffect, useRef, useState, type CSSProperties } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { PhotoDetail, PhotoSummary } from '../../shared/types.js';
import { fileName, formatBytes, formatDate } from '../format.js';
import { notifyError } from '../toast.js';
import { Icon } from './icons.js';
import { StarRating } from './StarRating.js';
import { TagChip, TagInput } from './TagInput.js';

interface Props {
  client: PhotoSearchClient;
  index: number;
  total: number;
  item: PhotoSummary | undefined;
  onNavigate(index: number): void;
  onClose(): void;
  onRate(photo: PhotoSummary, rating: number): void;
  onAddTag(photo: PhotoSummary, tag: string): void;
  onRemoveTag(photo: PhotoSummary, tag: string): void;
  /** Shows the photos with this tag; without it, tag chips are not links. */
  onFilterTag?(tag: string): void;
  /** Searches for photos like this one; without it, there is no "Find similar" button. */
  onFindSimilar?(photo: PhotoSummary): void;
}

/** Sizes the frame to the photo's aspect ratio (never beyond its natural size), so the thumbnail
 * stand-in and the full image occupy exactly the same box. */
function frameStyle(item: PhotoSummary): CSSProperties {
  if (!item.width || !item.height) return { width: '100%', height: '100%' };
  return { '--ratio': String(item.width / item.height), '--natural-width': `${item.width}px` } as CSSProperties;
}

const FOCUSABLE = 'button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Keeps Tab inside the dialog (it is modal): from the last control back to the first and vice versa. */
function trapTab(event: KeyboardEvent, dialog: HTMLElement): void {
  const focusable = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)];
  if (focusable.length === 0) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  const active = document.activeElement;
  const inside = active instanceof Node && dialog.contains(active) && active !== dialog;
  if (!inside || (event.shiftKey && active === first) || (!event.shiftKey && active === last)) {
    event.preventDefault();
    (event.shiftKey ? last : first).focus();
  }
}

function isTextField(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && (element.tagName === 'INPUT' || element.tagName === 'TEXTAREA' || element.tagName === 'SELECT' || element.isContentEditable);
}

export function Viewer({ client, index, total, item, onNavigate, onClose, onRate, onAddTag, onRemoveTag, onFilterTag, onFindSimilar }: Props) {
  const [detail, setDetail] = useState<PhotoDetail | null>(null);
  const [fullLoaded, setFullLoaded] = useState<number | null>(null);
  const [fullFailed, setFullFailed] = useState<number | null>(null);
  const dialogRef = useRef<HTMLDivElement>(null);
  const photoId = item?.id;

  useEffect(() => {
    dialogRef.current?.focus();
  }, []);

  useEffect(() => {
    if (photoId === undefined) return;
    let live = true;
    client.getPhoto(photoId).then((d) => live && setDetail(d), (error) => live && notifyError(error));
    return () => {
      live = false;
    };
    // Ratings and tags change the summary: refetch so the panel stays true.
  }, [client, photoId, item?.rating, item?.tags.join('\u0000')]);

  const shown = detail && detail.id === photoId ? detail : null;
  const hasPrevious = index > 0;
  const hasNext = index < total - 1;

  // Keys are heard on the window, not on the dialog: focus can fall to <body> (a Previous button that
  // just became disabled, a tag field that was blurred) and the viewer must still answer Escape and arrows.
  const latest = useRef({ index, item, hasPrevious, hasNext, onNavigate, onClose, onRate });
  latest.current = { index, item, hasPrevious, hasNext, onNavigate, onClose, onRate };
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      const dialog = dialogRef.current;
      if (!dialog || event.defaultPrevented || document.querySelector('.modal')) return;
      const current = latest.current;
      if (event.key === 'Tab') return trapTab(event, dialog);
      if (isTextField(event.target)) return;
      const plain = !event.ctrlKey && !event.metaKey && !event.altKey;
      if (event.key === 'Escape') {
        event.preventDefault();
        current.onClose();
      } else if (event.key === 'ArrowLeft' && plain) {
        event.preventDefault();
        if (current.hasPrevious) current.onNavigate(current.index - 1);
      } else if (event.key === 'ArrowRight' && plain) {
        event.preventDefault();
        if (current.hasNext) current.onNavigate(current.index + 1);
      } else if (/^[0-5]$/.test(event.key) && current.item && plain) {
        event.preventDefault();
        current.onRate(current.item, Number(event.key));
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);

  // A Previous/Next button that becomes disabled drops focus to <body>: give it back to the dialog.
  useEffect(() => {
    const active = document.activeElement;
    if (!active || active === document.body || (active as HTMLButtonElement).disabled) dialogRef.current?.focus();
  }, [index]);

  const name = item ? fileName(item.path) : '';
  const camera = shown ? [shown.cameraMake, shown.cameraModel].filter(Boolean).join(' ') : '';
  const takenAt = shown?.takenAt ?? item?.takenAt ?? null;
  const loaded = item !== undefined && fullLoaded === item.id;
  const failed = item !== undefined && fullFailed === item.id;
  return (
    <div className="viewer" role="dialog" aria-modal="true" aria-label={`Photo viewer: ${name}`} data-testid="viewer" tabIndex={-1} ref={dialogRef}>
      <div className="viewer-stage">
        <div className="viewer-topbar">
          <span className="viewer-counter" data-testid="viewer-counter">{(index + 1).toLocaleString()} / {total.toLocaleString()}</span>
          <span className="viewer-title" dir="auto" title={item?.path}>{name}</span>
          <button type="button" className="icon-button" aria-label="Close viewer" data-testid="viewer-close" onClick={onClose}>
            <Icon name="close" size={20} />
          </button>
        </div>
        <div className="viewer-image-wrap">
          {item ? (
            <div className="viewer-frame" key={item.id} style={frameStyle(item)}>
              <img className={`viewer-thumb${loaded ? ' hidden' : ''}${failed ? ' fallback' : ''}`} src={client.mediaUrl('thumb', item.id)} alt="" aria-hidden="true" draggable={false} />
              {!failed && (
                <img
                  className={loaded ? 'viewer-image loaded' : 'viewer-image'}
                  src={client.mediaUrl('full', item.id)}
                  alt={name}
                  data-testid="viewer-image"
                  data-photo-id={item.id}
                  draggable={false}
                  onLoad={() => setFullLoaded(item.id)}
                  onError={() => setFullFailed(item.id)}
                />
              )}
              {!loaded && !failed && <div className="viewer-loading" aria-hidden="true"><div className="spinner" /></div>}
              {failed && (
                <p className="viewer-note" role="status" data-testid="viewer-full-failed">
                  {item.status === 'error' || item.status === 'unsupported' ? 'This file could not be read.' : 'The full-size photo could not be loaded; showing a preview.'}
                </p>
              )}
            </div>
          ) : (
            <div className="spinner" aria-label="Loading" />
          )}
        </div>
        <button type="button" className="viewer-nav previous" aria-label="Previous photo" data-testid="viewer-previous" disabled={!hasPrevious} onClick={() => onNavigate(index - 1)}>
          <Icon name="left" size={28} />
        </button>
        <button type="button" className="viewer-nav next" aria-label="Next photo" data-testid="viewer-next" disabled={!hasNext} onClick={() => onNavigate(index + 1)}>
          <Icon name="right" size={28} />
        </button>
      </div>
      <aside className="viewer-info" aria-label="Photo details" data-testid="viewer-info">
        <h2 dir="auto" title={item?.path}>{name || 'Loading…'}</h2>
        {item && (
          <>
            <StarRating value={item.rating} onChange={(rating) => onRate(item, rating)} label="Rating" size={22} testId="viewer-rating" />
            <section className="info-section">
              <h3>Tags</h3>
              <div className="chips" data-testid="viewer-tags">
                {item.tags.length === 0 && <span className="muted">No tags yet</span>}
                {item.tags.map((tag) => (
                  <TagChip key={tag} name={tag} testId="viewer-tag" onClick={onFilterTag && (() => onFilterTag(tag))} onRemove={() => onRemoveTag(item, tag)} />
                ))}
              </div>
              <TagInput client={client} label="Add a tag" placeholder="Add a tag…" testId="viewer-tag-input" exclude={item.tags} onAdd={(tag) => onAddTag(item, tag)} />
            </section>
            {onFindSimilar && (
              <button type="button" className="wide" data-testid="find-similar" onClick={() => onFindSimilar(item)}>
                <Icon name="similar" /> Find similar photos
              </button>
            )}
          </>
        )}
        <section className="info-section">
          <h3>Details</h3>
          <dl className="meta" data-testid="viewer-metadata">
            <dt>Date</dt>
            <dd data-testid="viewer-date">
              {takenAt !== null ? formatDate(takenAt) : shown ? <>{formatDate(shown.mtimeMs)} <span className="muted">(file date)</span></> : '—'}
            </dd>
            <dt>Camera</dt>
            <dd>{camera || '—'}</dd>
            <dt>Lens</dt>
            <dd>{shown?.lens || '—'}</dd>
            <dt>Dimensions</dt>
            <dd>{item?.width && item.height ? `${item.width} × ${item.height}` : '—'}</dd>
            <dt>Size</dt>
            <dd>{shown ? formatBytes(shown.size) : '—'}</dd>
            <dt>Format</dt>
            <dd>{shown?.format?.toUpperCase() || '—'}</dd>
            <dt>GPS</dt>
            <dd>{shown && shown.gpsLat !== null && shown.gpsLon !== null ? `${shown.gpsLat.toFixed(5)}, ${shown.gpsLon.toFixed(5)}` : '—'}</dd>
            <dt>Path</dt>
            <dd className="path" dir="auto">{item?.path ?? '—'}</dd>
            {shown?.lastError && (
              <>
                <dt>Problem</dt>
                <dd className="error-text">{shown.lastError}</dd>
              </>
            )}
          </dl>
        </section>
      </aside>
    </div>
  );
}
