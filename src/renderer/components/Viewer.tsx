// Full-screen photo viewer: the photo (the thumbnail stands in until the full image arrives),
// previous/next, rating, tags, "find similar" and the photo's metadata.
import { useEffect, useRef, useState, type CSSProperties, type KeyboardEvent } from 'react';
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
  onFilterTag(tag: string): void;
  onFindSimilar(photo: PhotoSummary): void;
}

/** Sizes the frame to the photo's aspect ratio (never beyond its natural size), so the thumbnail
 * stand-in and the full image occupy exactly the same box. */
function frameStyle(item: PhotoSummary): CSSProperties {
  if (!item.width || !item.height) return { width: '100%', height: '100%' };
  return { '--ratio': String(item.width / item.height), '--natural-width': `${item.width}px` } as CSSProperties;
}

export function Viewer({ client, index, total, item, onNavigate, onClose, onRate, onAddTag, onRemoveTag, onFilterTag, onFindSimilar }: Props) {
  const [detail, setDetail] = useState<PhotoDetail | null>(null);
  const [fullLoaded, setFullLoaded] = useState<number | null>(null);
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

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const target = event.target as HTMLElement;
    if (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA') return;
    if (event.key === 'Escape') {
      event.preventDefault();
      onClose();
    } else if (event.key === 'ArrowLeft' && hasPrevious) {
      event.preventDefault();
      onNavigate(index - 1);
    } else if (event.key === 'ArrowRight' && hasNext) {
      event.preventDefault();
      onNavigate(index + 1);
    } else if (/^[0-5]$/.test(event.key) && item && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      onRate(item, Number(event.key));
    }
  }

  const name = item ? fileName(item.path) : '';
  const camera = shown ? [shown.cameraMake, shown.cameraModel].filter(Boolean).join(' ') : '';
  return (
    <div className="viewer" role="dialog" aria-modal="true" aria-label={`Photo viewer: ${name}`} data-testid="viewer" tabIndex={-1} ref={dialogRef} onKeyDown={onKeyDown}>
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
              <img className={fullLoaded === item.id ? 'viewer-thumb hidden' : 'viewer-thumb'} src={client.mediaUrl('thumb', item.id)} alt="" aria-hidden="true" draggable={false} />
              <img
                className={fullLoaded === item.id ? 'viewer-image loaded' : 'viewer-image'}
                src={client.mediaUrl('full', item.id)}
                alt={name}
                data-testid="viewer-image"
                data-photo-id={item.id}
                draggable={false}
                onLoad={() => setFullLoaded(item.id)}
              />
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
                  <TagChip key={tag} name={tag} testId="viewer-tag" onClick={() => onFilterTag(tag)} onRemove={() => onRemoveTag(item, tag)} />
                ))}
              </div>
              <TagInput client={client} label="Add a tag" placeholder="Add a tag…" testId="viewer-tag-input" exclude={item.tags} onAdd={(tag) => onAddTag(item, tag)} />
            </section>
            <button type="button" className="wide" data-testid="find-similar" onClick={() => onFindSimilar(item)}>
              <Icon name="similar" /> Find similar photos
            </button>
          </>
        )}
        <section className="info-section">
          <h3>Details</h3>
          <dl className="meta" data-testid="viewer-metadata">
            <dt>Date</dt>
            <dd>{formatDate(shown?.takenAt ?? item?.takenAt ?? null)}</dd>
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
