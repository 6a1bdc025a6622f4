import { useEffect, useState, useSyncExternalStore } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import { ResultsStore, type ResultsQuery, type ResultsSnapshot } from '../state/results.js';

const NO_RESULTS: ResultsSnapshot = { version: 0, total: null, best: null, ranked: null, tookMs: null, mode: null, error: null, loading: true };
const noop = () => () => undefined;

/**
 * The results of a query. A new query's store replaces the shown one only once its first page has
 * arrived, so typing in the search box never flashes an empty grid.
 */
export function useResults(client: PhotoSearchClient, query: ResultsQuery): { store: ResultsStore | null; snapshot: ResultsSnapshot; pending: boolean } {
  const key = JSON.stringify(query);
  const [shown, setShown] = useState<ResultsStore | null>(null);
  const [pending, setPending] = useState(true);

  useEffect(() => {
    const store = new ResultsStore(client, JSON.parse(key) as ResultsQuery);
    setPending(true);
    let swapped = false;
    const unsubscribe = store.subscribe(() => {
      const snapshot = store.getSnapshot();
      if (swapped || (snapshot.total === null && snapshot.error === null)) return;
      swapped = true;
      setShown(store);
      setPending(false);
    });
    store.start();
    return () => {
      unsubscribe();
      store.dispose();
    };
  }, [client, key]);

  const snapshot = useSyncExternalStore(shown?.subscribe ?? noop, shown?.getSnapshot ?? (() => NO_RESULTS));
  return { store: shown, snapshot, pending };
}
