// Indexing: start, pause, resume, cancel; progress, speed, time left; the files that failed and why.
import { useEffect, useState } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { FailedPhoto, IndexingProgress, IndexingState, LibraryStatus } from '../../shared/types.js';
import { formatCount, formatDuration } from '../format.js';
import { notifyError } from '../toast.js';
import { Icon } from './icons.js';
import { ProgressBar } from './ProgressBar.js';

const STATE_LABELS: Record<IndexingState, string> = {
  idle: 'Not running',
  scanning: 'Scanning folders…',
  embedding: 'Indexing photos…',
  paused: 'Paused',
  done: 'Up to date',
  cancelled: 'Cancelled',
  error: 'Stopped by an error',
};

export function isIndexingActive(state: IndexingState | undefined): boolean {
  return state === 'scanning' || state === 'embedding' || state === 'paused';
}

export function indexingLabel(progress: IndexingProgress | null): string {
  if (!progress) return '…';
  return STATE_LABELS[progress.state];
}

interface Props {
  client: PhotoSearchClient;
  progress: IndexingProgress | null;
  status: LibraryStatus | null;
  modelReady: boolean;
}

export function IndexingPanel({ client, progress, status, modelReady }: Props) {
  const [failed, setFailed] = useState<FailedPhoto[]>([]);
  const state = progress?.state ?? 'idle';
  const failedCount = Math.max(progress?.failed ?? 0, status?.failed ?? 0);

  useEffect(() => {
    let live = true;
    client.listFailed(500).then((rows) => live && setFailed(rows), () => undefined);
    return () => {
      live = false;
    };
  }, [client, failedCount, state]);

  const act = (action: () => Promise<void>) => () => void action().catch(notifyError);
  const active = isIndexingActive(state);
  const fraction = progress && progress.total > 0 ? progress.done / progress.total : null;

  return (
    <div className="indexing-panel" data-testid="indexing-panel">
      <div className="indexing-head">
        <span className={`state-dot state-${state}`} aria-hidden="true" />
        <strong data-testid="indexing-state" data-state={state}>{STATE_LABELS[state]}</strong>
      </div>
      <ProgressBar
        value={state === 'scanning' ? null : progress?.done ?? 0}
        max={progress?.total || 1}
        label="Indexing progress"
        testId="indexing-progress"
      />
      <dl className="indexing-stats">
        <div>
          <dt>Done</dt>
          <dd data-testid="indexing-counts">
            {formatCount(progress?.done ?? 0)} / {formatCount(progress?.total ?? 0)}
            {fraction !== null && <span className="muted"> ({(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)}%)</span>}
          </dd>
        </div>
        <div>
          <dt>Speed</dt>
          <dd data-testid="indexing-speed">{progress && progress.photosPerSecond > 0 ? `${progress.photosPerSecond.toFixed(1)} photos/s` : '—'}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd data-testid="indexing-eta">{active ? formatDuration(progress?.etaSeconds ?? null) : '—'}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd>{formatCount(progress?.failed ?? 0)}</dd>
        </div>
      </dl>
      {progress?.message && <p className="muted indexing-message" data-testid="indexing-message">{progress.message}</p>}
      {status && (
        <p className="muted">
          Library: {formatCount(status.photos)} photos, {formatCount(status.embedded)} searchable, {formatCount(status.pending)} waiting
          {status.missing > 0 && `, ${formatCount(status.missing)} missing`}.
        </p>
      )}
      <div className="button-row">
        {!active && (
          <button type="button" className="primary" data-testid="indexing-start" disabled={!modelReady} title={modelReady ? undefined : 'Choose a model first'} onClick={act(() => client.startIndexing())}>
            <Icon name="play" /> {state === 'done' ? 'Re-scan folders' : 'Start indexing'}
          </button>
        )}
        {(state === 'scanning' || state === 'embedding') && (
          <button type="button" data-testid="indexing-pause" onClick={act(() => client.pauseIndexing())}>
            <Icon name="pause" /> Pause
          </button>
        )}
        {state === 'paused' && (
          <button type="button" className="primary" data-testid="indexing-resume" onClick={act(() => client.resumeIndexing())}>
            <Icon name="play" /> Resume
          </button>
        )}
        {active && (
          <button type="button" className="danger-outline" data-testid="indexing-cancel" onClick={act(() => client.cancelIndexing())}>
            <Icon name="stop" /> Cancel
          </button>
        )}
      </div>
      <section className="failed">
        <h3>Problems {failed.length > 0 && <span className="badge">{failed.length >= 500 ? '500+' : failed.length}</span>}</h3>
        {failed.length === 0 ? (
          <p className="muted">No files failed.</p>
        ) : (
          <ul className="failed-list" data-testid="failed-list">
            {failed.map((photo) => (
              <li key={photo.id}>
                <span className="path" dir="auto" title={photo.path}>{photo.path}</span>
                <span className="reason">{photo.status === 'unsupported' ? 'Unsupported: ' : ''}{photo.error}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
