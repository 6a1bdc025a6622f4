// The app shell: search, filters, the library grid or the duplicates view, indexing and settings drawers.
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { IndexingProgress, LibraryStatus, ModelStatus, PhotoId, ResultScope, ResultSort, SearchFilters } from '../shared/types.js';
import type { AppClient } from './api/client.js';
import { connectionStore, STALE_TOKEN_MESSAGE } from './api/web-client.js';
import { DuplicatesView } from './components/DuplicatesView.js';
import { FilterBar, hasFilters } from './components/FilterBar.js';
import { Icon } from './components/icons.js';
import { IndexingPanel, indexingLabel, isIndexingActive, waitingWork } from './components/IndexingPanel.js';
import { LibraryView } from './components/LibraryView.js';
import { FoldersSection, ModelSection, ProviderSection } from './components/LibrarySettings.js';
import { Setup } from './components/Setup.js';
import { fileName, formatCount } from './format.js';
import { useResults } from './hooks/useResults.js';
import type { ResultsQuery } from './state/results.js';
import { dismiss, notify, notifyError, toastStore } from './toast.js';

const SEARCH_DEBOUNCE_MS = 300;
const REFRESH_THROTTLE_MS = 1500;
/** While indexing runs, the library view and the counts follow along this often. */
const INDEXING_REFRESH_MS = 5000;
const THUMB_SIZE_KEY = 'photo-search.thumb-size';
const SORT_KEY = 'photo-search.sort';

type View = 'library' | 'duplicates';
type Drawer = 'indexing' | 'settings' | null;

function storedThumbSize(): number {
  try {
    const value = Number(window.localStorage.getItem(THUMB_SIZE_KEY));
    return value >= 100 && value <= 360 ? value : 180;
  } catch {
    return 180;
  }
}

export function App({ appClient }: { appClient: AppClient }) {
  const { client, kind } = appClient;
  const [status, setStatus] = useState<LibraryStatus | null>(null);
  const [model, setModel] = useState<ModelStatus | null>(null);
  const [progress, setProgress] = useState<IndexingProgress | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  /** The desktop app's library process stopped (restarting, or given up on): shown until it is back. */
  const [hostProblem, setHostProblem] = useState<string | null>(null);
  const [view, setView] = useState<View>('library');
  const [drawer, setDrawer] = useState<Drawer>(null);
  /** Decided once, when status and model are first known: first run until the user finishes setup. */
  const [firstRun, setFirstRun] = useState<boolean | null>(null);
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const [filters, setFilters] = useState<SearchFilters>({});
  const [similar, setSimilar] = useState<{ photoId: PhotoId; name: string } | null>(null);
  const [thumbSize, setThumbSize] = useState(storedThumbSize);
  /** Text and similar results: best first or newest first (kept across queries), best matches or all ranked. */
  const [sort, setSort] = useState<ResultSort>(() => {
    try {
      return window.localStorage.getItem(SORT_KEY) === 'date' ? 'date' : 'relevance';
    } catch {
      return 'relevance';
    }
  });
  const [scope, setScope] = useState<ResultScope>('best');
  const searchRef = useRef<HTMLInputElement>(null);

  const refreshStatus = useCallback(() => {
    client.getStatus().then((next) => {
      setStatus(next);
      setLoadError(null);
    }, (error) => setLoadError((error as Error).message));
  }, [client]);

  useEffect(() => {
    refreshStatus();
    client.getModelStatus().then(setModel, (error) => setModel({ state: 'error', modelId: null, dir: null, error: (error as Error).message }));
    client.getIndexingProgress().then(setProgress, notifyError);
  }, [client, refreshStatus]);

  // Typing searches after a pause; Enter searches at once.
  // Typing over "similar to…" replaces it only when the typed query runs, so the grid does not flash
  // the whole library in between.
  useEffect(() => {
    if (text.trim() === query.trim()) return;
    const timer = setTimeout(() => {
      setQuery(text);
      setSimilar(null);
    }, SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, query]);

  // A new query starts from its best matches.
  useEffect(() => setScope('best'), [similar, query, filters]);
  const ranking = similar !== null || query.trim() !== '';
  const resultsQuery: ResultsQuery = useMemo(
    () => (similar ? { kind: 'similar', photoId: similar.photoId, filters, sort, scope }
      : ranking ? { kind: 'search', query: query.trim(), filters, sort, scope }
      : { kind: 'search', query: '', filters }),
    [similar, query, filters, sort, scope, ranking],
  );
  const { store, snapshot, pending } = useResults(client, resultsQuery);

  // Pushed events: progress, model downloads, and library changes (throttled reloads).
  const storeRef = useRef(store);
  storeRef.current = store;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    let browseOnly = true;
    const reload = () => {
      timer = null;
      last = Date.now();
      refreshStatus();
      const current = storeRef.current;
      // While indexing, only browsing follows along; a ranked search is not reshuffled under the user.
      if (current && (!browseOnly || (current.query.kind === 'search' && !current.query.query))) current.refresh();
      browseOnly = true;
    };
    const schedule = (minIntervalMs: number, everything: boolean) => {
      if (everything) browseOnly = false;
      if (!timer) timer = setTimeout(reload, Math.max(0, last + minIntervalMs - Date.now()));
    };
    let wasActive = false;
    const unsubscribe = client.onEvent((event) => {
      if (event.type === 'indexing') {
        setProgress(event.progress);
        const active = isIndexingActive(event.progress.state);
        if (active) schedule(INDEXING_REFRESH_MS, false);
        else if (wasActive) {
          // The run just ended: its last batch is not in the counts of the last throttled refresh.
          if (timer) clearTimeout(timer);
          reload();
        }
        wasActive = active;
      } else if (event.type === 'model') setModel(event.status);
      else if (event.type === 'library-changed') schedule(event.writing ? INDEXING_REFRESH_MS : REFRESH_THROTTLE_MS, !event.writing);
      else if (event.type === 'host') {
        if (event.state === 'ready') {
          setHostProblem(null);
          setLoadError(null);
          // The first start says nothing; a restart after the host stopped says so.
          if (event.message) notify(event.message);
          void client.getIndexingProgress().then(setProgress, () => undefined);
          void client.getModelStatus().then(setModel, () => undefined);
          schedule(0, true);
        } else if (event.state === 'restarting' || event.state === 'failed') {
          setHostProblem(event.state === 'failed' ? `${event.message}. Restart Photo Search to try again.` : `${event.message}…`);
        }
      }
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [client, refreshStatus]);

  // "/" or Ctrl+K focuses the search box from anywhere but a text field.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      const typing = target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT';
      const dialogOpen = !!document.querySelector('.viewer, .modal');
      if (!dialogOpen && ((event.key === '/' && !typing) || ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'k'))) {
        event.preventDefault();
        searchRef.current?.focus();
        searchRef.current?.select();
      } else if (event.key === 'Escape' && drawer && !dialogOpen) {
        setDrawer(null);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [drawer]);

  useEffect(() => {
    if (firstRun === null && status && model) setFirstRun(status.folders.length === 0 || model.state !== 'ready');
  }, [firstRun, status, model]);

  const toasts = useSyncExternalStore(toastStore.subscribe, toastStore.getSnapshot);
  const connection = useSyncExternalStore(connectionStore.subscribe, connectionStore.getSnapshot);
  const connectionProblem = kind !== 'web' ? hostProblem
    : connection === 'lost' ? 'Lost the connection to the photo-search server. Is it still running? This page reconnects by itself.'
    : connection === 'refused' ? STALE_TOKEN_MESSAGE
    : null;

  // Back after the server was away: what is on screen may be out of date.
  const wasLost = useRef(false);
  useEffect(() => {
    if (connection === 'lost' || connection === 'refused') wasLost.current = true;
    else if (connection === 'open' && wasLost.current) {
      wasLost.current = false;
      refreshStatus();
      client.getIndexingProgress().then(setProgress, () => undefined);
      storeRef.current?.refresh();
    }
  }, [connection, client, refreshStatus]);

  // A page of results that fails while others are on screen would otherwise leave blank cells silently
  // (an empty result list shows its error in the grid instead).
  const lastError = useRef<string | null>(null);
  useEffect(() => {
    if (snapshot.error && snapshot.error !== lastError.current && (snapshot.total ?? 0) > 0) notify(`Could not load photos: ${snapshot.error}`, 'error');
    lastError.current = snapshot.error;
  }, [snapshot.error, snapshot.total]);

  if (!status || firstRun === null) {
    return (
      <div className="boot" data-testid="boot">
        {loadError ? <p className="error-text" role="alert">Cannot open the library: {loadError}</p> : <div className="spinner" aria-label="Loading" />}
      </div>
    );
  }

  const modelReady = model?.state === 'ready';
  const needsSetup = status.folders.length === 0 || firstRun === true;
  if (needsSetup) {
    return (
      <>
        <Setup
          client={client}
          kind={kind}
          status={status}
          model={model}
          progress={progress}
          onStatusChanged={refreshStatus}
          onModelChanged={setModel}
          onDone={() => {
            setFirstRun(false);
            refreshStatus();
          }}
        />
        <Toasts toasts={toasts} problem={connectionProblem} problemTestId={kind === 'web' ? 'connection-lost' : 'host-problem'} />
      </>
    );
  }

  const active = isIndexingActive(progress?.state);
  const percent = progress && progress.total > 0 ? Math.floor((progress.done / progress.total) * 100) : null;
  const filtered = hasFilters(filters);
  const emptyMessage = status.photos === 0
    ? 'No photos yet. Start indexing to scan your folders.'
    : filtered ? 'No photos match these filters.' : similar || query.trim() ? 'No photos match.' : 'No photos to show yet.';
  const emptyAction = status.photos === 0
    ? { label: 'Open indexing', onClick: () => setDrawer('indexing') }
    : filtered ? { label: 'Clear filters', onClick: () => setFilters({}) }
    : similar || query.trim() ? { label: 'Show all photos', onClick: () => { setSimilar(null); setText(''); setQuery(''); } }
    : undefined;
  const indexNewFolder = () => {
    if (!modelReady) return;
    if (active) {
      notify('Indexing is already running: re-scan when it finishes to add the new folder’s photos.');
      return;
    }
    client.startIndexing().then(() => notify('Indexing the new folder…'), notifyError);
  };
  const setTagFilter = (tag: string) => {
    setView('library');
    setFilters((current) => ((current.tags ?? []).includes(tag) ? current : { ...current, tags: [...(current.tags ?? []), tag] }));
  };

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <div className="logo" aria-hidden="true"><Icon name="search" size={18} /></div>
          <span>Photo Search</span>
        </div>
        <form
          className="search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setSimilar(null);
            setQuery(text);
            setView('library');
          }}
        >
          <Icon name="search" />
          {similar && (
            <span className="chip similar-chip" data-testid="similar-chip">
              <span className="chip-label" dir="auto">Similar to {similar.name}</span>
              <button type="button" className="chip-remove" aria-label="Stop showing similar photos" onClick={() => setSimilar(null)}>×</button>
            </span>
          )}
          <input
            ref={searchRef}
            type="search"
            dir="auto"
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setView('library');
            }}
            placeholder={modelReady ? 'Describe a photo… (e.g. “dog on a beach at sunset”)' : 'Search needs the model — browse meanwhile'}
            aria-label="Search photos"
            data-testid="search-input"
            spellCheck={false}
            autoComplete="off"
          />
          {pending && snapshot.total !== null && <span className="spinner small" aria-label="Searching" />}
        </form>
        <div className="result-meta" data-testid="result-count" aria-live="polite" data-total={snapshot.total ?? ''} data-best={snapshot.best ?? ''} data-ranked={snapshot.ranked ?? ''}>
          {snapshot.total !== null && (
            <>
              <strong>{formatCount(snapshot.total)}</strong> {snapshot.mode === 'browse' ? (snapshot.total === 1 ? 'photo' : 'photos')
                : snapshot.best !== null && snapshot.total === snapshot.best && store?.query.scope !== 'all' ? (snapshot.total === 1 ? 'best match' : 'best matches')
                : snapshot.total === 1 ? 'match' : 'matches'}
              {snapshot.tookMs !== null && <span className="muted"> · {snapshot.tookMs < 10 ? snapshot.tookMs.toFixed(1) : Math.round(snapshot.tookMs)} ms</span>}
            </>
          )}
        </div>
        <nav className="tabs" aria-label="Views">
          <button type="button" className={view === 'library' ? 'tab active' : 'tab'} aria-current={view === 'library' ? 'page' : undefined} onClick={() => setView('library')} data-testid="tab-library">
            <Icon name="photos" /> Library
          </button>
          <button type="button" className={view === 'duplicates' ? 'tab active' : 'tab'} aria-current={view === 'duplicates' ? 'page' : undefined} onClick={() => setView('duplicates')} data-testid="tab-duplicates">
            <Icon name="copies" /> Duplicates
          </button>
        </nav>
        <button
          type="button"
          className={`indexing-pill${active ? ' active' : ''}`}
          onClick={() => setDrawer(drawer === 'indexing' ? null : 'indexing')}
          aria-label={`Indexing: ${indexingLabel(progress)}${active && percent !== null ? ` ${percent}%` : ''}`}
          aria-expanded={drawer === 'indexing'}
          data-testid="indexing-pill"
          data-state={progress?.state ?? 'idle'}
        >
          <span className={`state-dot state-${progress?.state ?? 'idle'}`} aria-hidden="true" />
          {active ? `${indexingLabel(progress)} ${percent !== null ? `${percent}%` : ''}` : status.pending > 0 ? `${formatCount(status.pending)} to index` : waitingWork(status) ? 'Changes to index' : 'Indexed'}
          {active && percent !== null && <span className="pill-bar" style={{ width: `${percent}%` }} aria-hidden="true" />}
        </button>
        <button type="button" className="icon-button" aria-label="Library settings" aria-expanded={drawer === 'settings'} onClick={() => setDrawer(drawer === 'settings' ? null : 'settings')} data-testid="open-settings">
          <Icon name="settings" size={20} />
        </button>
      </header>

      {view === 'library' && (
        <div className="toolbar">
          <FilterBar client={client} filters={filters} folders={status.folders} onChange={setFilters} />
          {ranking && snapshot.mode !== 'browse' && snapshot.best !== null && snapshot.ranked !== null && snapshot.ranked > snapshot.best && (
            scope === 'best' ? (
              <button type="button" className="more-results" data-testid="show-more" onClick={() => setScope('all')}
                title="Photos below the relevance cutoff, ranked by similarity">
                More results ({formatCount(snapshot.ranked - snapshot.best)})
              </button>
            ) : (
              <button type="button" className="more-results" data-testid="show-best" onClick={() => setScope('best')}>
                Best matches only ({formatCount(snapshot.best)})
              </button>
            )
          )}
          {ranking && (
            <label className="sort" title="Order of the results">
              <span>Sort</span>
              <select
                value={sort}
                aria-label="Sort results"
                data-testid="sort-select"
                onChange={(e) => {
                  const next: ResultSort = e.target.value === 'date' ? 'date' : 'relevance';
                  setSort(next);
                  try {
                    window.localStorage.setItem(SORT_KEY, next);
                  } catch {
                    /* not persisted */
                  }
                }}
              >
                <option value="relevance">Relevance</option>
                <option value="date">Newest first</option>
              </select>
            </label>
          )}
          <label className="zoom" title="Thumbnail size">
            <Icon name="photos" size={14} />
            <input
              type="range"
              min={100}
              max={360}
              step={10}
              value={thumbSize}
              aria-label="Thumbnail size"
              onChange={(e) => {
                const size = Number(e.target.value);
                setThumbSize(size);
                try {
                  window.localStorage.setItem(THUMB_SIZE_KEY, String(size));
                } catch {
                  /* not persisted */
                }
              }}
            />
          </label>
        </div>
      )}

      <main className="content">
        {view === 'library' && store && (
          <LibraryView
            key={JSON.stringify(store.query)}
            client={client}
            store={store}
            snapshot={snapshot}
            thumbSize={thumbSize}
            emptyMessage={emptyMessage}
            emptyAction={emptyAction}
            filtersDependOnEdits={filters.minRating !== undefined || (filters.tags?.length ?? 0) > 0}
            onFilterTag={setTagFilter}
            onFindSimilar={(photo) => {
              setText('');
              setQuery('');
              setSimilar({ photoId: photo.id, name: fileName(photo.path) });
            }}
          />
        )}
        {view === 'library' && !store && <div className="boot"><div className="spinner" aria-label="Loading" /></div>}
        {view === 'duplicates' && <DuplicatesView client={client} onLibraryChanged={() => { refreshStatus(); store?.refresh(); }} />}
      </main>

      {drawer && (
        <aside className="drawer" aria-label={drawer === 'indexing' ? 'Indexing' : 'Library settings'} data-testid={`drawer-${drawer}`}>
          <div className="drawer-head">
            <h2>{drawer === 'indexing' ? 'Indexing' : 'Library'}</h2>
            <button type="button" className="icon-button" aria-label="Close panel" onClick={() => setDrawer(null)} data-testid="drawer-close">
              <Icon name="close" />
            </button>
          </div>
          {drawer === 'indexing' ? (
            <IndexingPanel client={client} progress={progress} status={status} modelReady={modelReady} />
          ) : (
            <div className="drawer-body">
              <FoldersSection client={client} kind={kind} folders={status.folders} onChanged={refreshStatus} onAdded={indexNewFolder} />
              <ModelSection client={client} kind={kind} model={model} onChanged={setModel} />
              <ProviderSection client={client} />
            </div>
          )}
        </aside>
      )}
      <Toasts toasts={toasts} problem={connectionProblem} problemTestId={kind === 'web' ? 'connection-lost' : 'host-problem'} />
    </div>
  );
}

function Toasts({ toasts, problem, problemTestId = 'connection-lost' }: { toasts: ReturnType<typeof toastStore.getSnapshot>; problem: string | null; problemTestId?: string }) {
  return (
    <div className="toasts" aria-live="polite">
      {problem && (
        <div className="toast error" role="alert" data-testid={problemTestId}>
          <span>{problem}</span>
        </div>
      )}
      {toasts.map((toast) => (
        <div key={toast.id} className={`toast ${toast.kind}`} role={toast.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
          <span>{toast.message}</span>
          {toast.action && (
            <button
              type="button"
              className="toast-action"
              data-testid="toast-action"
              onClick={() => {
                dismiss(toast.id);
                toast.action?.run();
              }}
            >
              {toast.action.label}
            </button>
          )}
          <button type="button" className="chip-remove" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
