// Indexing: start, pause, resume, cancel; progress, speed, time left; the files that failed and why.
import { useEffect, useState, type ReactNode } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { FailedPhoto, IndexingProgress, IndexingState, LibraryStatus } from '../../shared/types.js';
import { formatCount, formatDuration } from '../format.js';
import { notifyError } from '../toast.js';
import { Icon, type IconName } from './icons.js';
import { ProgressBar } from './ProgressBar.js';
import { describeRuntime } from '../../shared/embedding-runtime.js';

const STATE_LABELS: Record<IndexingState, string> = {
  idle: 'Not running',
  waiting: 'Waiting for another process…',
  scanning: 'Scanning folders…',
  embedding: 'Indexing photos…',
  paused: 'Paused',
  done: 'Up to date',
  cancelled: 'Cancelled',
  error: 'Stopped by an error',
};

export function isIndexingActive(state: IndexingState | undefined): boolean {
  return state === 'waiting' || state === 'scanning' || state === 'embedding' || state === 'paused';
}

export function indexingLabel(progress: IndexingProgress | null): string {
  if (!progress) return '…';
  return STATE_LABELS[progress.state];
}

/**
 * What still waits to be indexed, in words ('' when nothing does): photos to embed, folders not yet
 * scanned, changes seen on disk. "Indexed" and "Up to date" show only when this is ''.
 */
export function waitingWork(status: LibraryStatus | null): string {
  if (!status) return '';
  if (status.pending > 0) return `${formatCount(status.pending)} photo${status.pending === 1 ? '' : 's'} waiting to be indexed`;
  if (status.foldersNotScanned > 0) return `${formatCount(status.foldersNotScanned)} folder${status.foldersNotScanned === 1 ? '' : 's'} not scanned yet`;
  if (status.changesWaiting > 0 || status.runQueued) return 'Changes waiting to be indexed';
  return '';
}

interface Props {
  client: PhotoSearchClient;
  progress: IndexingProgress | null;
  status: LibraryStatus | null;
  modelReady: boolean;
}

type Action = 'start' | 'pause' | 'resume' | 'cancel';
const PENDING_LABELS: Record<Action, string> = { start: 'Starting…', pause: 'Pausing…', resume: 'Resuming…', cancel: 'Cancelling…' };

export function IndexingPanel({ client, progress, status, modelReady }: Props) {
  const [failed, setFailed] = useState<FailedPhoto[]>([]);
  /** The button just pressed, until the indexer's state answers it (pausing waits for the batch in hand). */
  const [pending, setPending] = useState<Action | null>(null);
  const state = progress?.state ?? 'idle';
  const failedCount = Math.max(progress?.failed ?? 0, status?.failed ?? 0);

  useEffect(() => {
    let live = true;
    client.listFailed(500).then((rows) => live && setFailed(rows), () => undefined);
    return () => {
      live = false;
    };
  }, [client, failedCount, state]);

  useEffect(() => setPending(null), [state]);

  const act = (action: Action, call: () => Promise<void>) => () => {
    setPending(action);
    call().then(
      // Pause and cancel take effect after the batch in hand: keep saying so until the state changes.
      () => action !== 'pause' && action !== 'cancel' && setPending(null),
      (error) => {
        setPending(null);
        notifyError(error);
      },
    );
  };
  const calls: Record<Action, () => Promise<void>> = {
    start: () => client.startIndexing(),
    pause: () => client.pauseIndexing(),
    resume: () => client.resumeIndexing(),
    cancel: () => client.cancelIndexing(),
  };
  const active = isIndexingActive(state);
  /** Nothing has run since the app started: the library's own counts say more than an empty run. */
  const neverRan = state === 'idle';
  const fraction = progress && progress.total > 0 ? progress.done / progress.total : null;
  const waitingText = waitingWork(status);
  const waiting = waitingText ? 1 : 0;
  const heading = neverRan
    ? waitingText || (status && status.photos > 0 ? 'Up to date' : 'Not indexed yet')
    : state === 'done' && waitingText ? waitingText : STATE_LABELS[state];
  // The first batch (model start-up, big HEIC decodes) can take a while before done moves off 0.
  const starting = state === 'waiting' || state === 'scanning' || (state === 'embedding' && (progress?.done ?? 0) === 0);
  const button = (action: Action, label: ReactNode, props: { className?: string; testId: string; icon: IconName }) => (
    <button type="button" className={props.className} data-testid={props.testId} disabled={pending === action} onClick={act(action, calls[action])}>
      <Icon name={props.icon} /> {pending === action ? PENDING_LABELS[action] : label}
    </button>
  );

  return (
    <div className="indexing-panel" data-testid="indexing-panel">
      <div className="indexing-head">
        <span className={`state-dot state-${neverRan ? (waiting > 0 ? 'idle' : 'done') : state}`} aria-hidden="true" />
        <strong data-testid="indexing-state" data-state={state}>{heading}</strong>
      </div>
      {!neverRan && (
        <>
          <ProgressBar value={starting && active ? null : progress?.done ?? 0} max={progress?.total || 1} label="Indexing progress" testId="indexing-progress" />
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
              <dd data-testid="indexing-eta">{active && !starting ? formatDuration(progress?.etaSeconds ?? null) : '—'}</dd>
            </div>
            <div>
              <dt>Failed in this run</dt>
              <dd>{formatCount(progress?.failed ?? 0)}</dd>
            </div>
          </dl>
        </>
      )}
      {(progress?.message || (starting && active)) && (
        <p className="muted indexing-message" data-testid="indexing-message">
          {progress?.message || (state === 'scanning' ? 'Looking for new and changed photos…' : 'Preparing the first photos…')}
        </p>
      )}
      {progress?.runtime && (
        <p className="muted" data-testid="indexing-runtime" data-provider={progress.runtime.provider}>{describeRuntime(progress.runtime)}.</p>
      )}
      {status && (
        <p className="muted" data-testid="library-counts">
          Library: {formatCount(status.photos)} photos, {formatCount(status.searchEmbedded ?? status.embedded)} searchable, {formatCount(status.pending)} waiting
          {status.missing > 0 && `, ${formatCount(status.missing)} missing`}.
        </p>
      )}
      {status?.searchModelId && (
        <p className="muted" data-testid="search-model">
          Search uses {status.searchModelId} until {status.modelId} has embedded every photo ({formatCount(status.embedded)} done).
        </p>
      )}
      {status?.watchFallback && (
        <p className="muted" data-testid="watch-fallback">
          {formatCount(status.watchFallback.dirs)} folder{status.watchFallback.dirs === 1 ? '' : 's'} checked every{' '}
          {formatDuration(Math.round(status.watchFallback.intervalMs / 1000))} instead of watched: {status.watchFallback.reason}.
        </p>
      )}
      <div className="button-row">
        {!active && (
          <button
            type="button"
            className="primary"
            data-testid="indexing-start"
            disabled={!modelReady || pending === 'start'}
            title={modelReady ? 'Scan the folders for new, changed and removed photos, then index the new ones' : 'Choose a model first'}
            onClick={act('start', calls.start)}
          >
            <Icon name="play" /> {pending === 'start' ? PENDING_LABELS.start : waiting > 0 || !status?.photos ? 'Start indexing' : 'Re-scan folders'}
          </button>
        )}
        {(state === 'scanning' || state === 'embedding') && button('pause', 'Pause', { testId: 'indexing-pause', icon: 'pause' })}
        {state === 'paused' && button('resume', 'Resume', { className: 'primary', testId: 'indexing-resume', icon: 'play' })}
        {active && button('cancel', 'Cancel', { className: 'danger-outline', testId: 'indexing-cancel', icon: 'stop' })}
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
