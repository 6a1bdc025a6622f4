// Web mode's client: each API call is a POST to the local server, events arrive over Server-Sent
// Events, photos are plain URLs. The access token comes from the URL the page was opened with.
import { API_METHODS, type ApiMethod, type MediaKind, type PhotoSearchApi, type PhotoSearchClient } from '../../shared/api.js';
import type { ApiEvent, PhotoId } from '../../shared/types.js';

export const TOKEN_HEADER = 'x-photo-search-token';
const TOKEN_STORAGE_KEY = 'photo-search-token';

/**
 * Whether the event stream to the server is up (web mode only). The browser reconnects by itself; the
 * app shows a banner meanwhile and reloads what it shows once the server is back.
 */
export type ConnectionState = 'connecting' | 'open' | 'lost' | 'refused';
let connection: ConnectionState = 'connecting';
const connectionListeners = new Set<() => void>();
function setConnection(state: ConnectionState): void {
  if (state === connection) return;
  connection = state;
  for (const listener of [...connectionListeners]) listener();
}
export const connectionStore = {
  subscribe(listener: () => void): () => void {
    connectionListeners.add(listener);
    return () => connectionListeners.delete(listener);
  },
  getSnapshot: (): ConnectionState => connection,
};

export const STALE_TOKEN_MESSAGE = 'This page’s access token is not valid for the running server (was it restarted?). Open the address photo-search serve printed.';

export class ApiCallError extends Error {
  constructor(readonly method: string, message: string, readonly status: number) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** The token from ?token=… (kept for this tab so that a reload of a bare URL still works). */
export function tokenFromLocation(location: Location, storage: Storage | null): string {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) {
    storage?.setItem(TOKEN_STORAGE_KEY, fromUrl);
    return fromUrl;
  }
  return storage?.getItem(TOKEN_STORAGE_KEY) ?? '';
}


export function createWebClient(baseUrl: string, token: string): PhotoSearchClient {
  const base = baseUrl.replace(/\/$/, '');

  async function call(method: ApiMethod, args: unknown[]): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${base}/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TOKEN_HEADER]: token },
        body: JSON.stringify(args),
        cache: 'no-store',
      });
    } catch {
      throw new ApiCallError(method, 'The photo-search server cannot be reached. Is it still running?', 0);
    }
    let payload: { ok: boolean; result?: unknown; error?: string };
    try {
      payload = await response.json();
    } catch {
      throw new ApiCallError(method, `Unexpected answer from the server (HTTP ${response.status})`, response.status);
    }
    if (!payload.ok) {
      // Each run of `photo-search serve` has its own token: a page left open across a restart holds a stale one.
      if (response.status === 401 || response.status === 403) throw new ApiCallError(method, STALE_TOKEN_MESSAGE, response.status);
      throw new ApiCallError(method, payload.error ?? `HTTP ${response.status}`, response.status);
    }
    return payload.result ?? undefined;
  }

  const listeners = new Set<(event: ApiEvent) => void>();
  let source: EventSource | null = null;
  function connectEvents(): void {
    if (source) return;
    source = new EventSource(`${base}/api/events?token=${encodeURIComponent(token)}`);
    source.onmessage = (message) => {
      let event: ApiEvent;
      try {
        event = JSON.parse(message.data) as ApiEvent;
      } catch {
        return;
      }
      for (const listener of [...listeners]) listener(event);
    };
    source.onopen = () => setConnection('open');
    // EventSource reconnects by itself after a network error (unless the server answered with an error
    // status, a wrong token: then it gives up and readyState is CLOSED).
    source.onerror = () => setConnection(source?.readyState === EventSource.CLOSED ? 'refused' : 'lost');
  }

  const api = Object.fromEntries(API_METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)])) as unknown as PhotoSearchApi;
  return {
    ...api,
    onEvent(listener) {
      listeners.add(listener);
      connectEvents();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && source) {
          source.close();
          source = null;
        }
      };
    },
    mediaUrl(kind: MediaKind, photoId: PhotoId) {
      return `${base}/media/${kind}/${photoId}?token=${encodeURIComponent(token)}`;
    },
  };
}
