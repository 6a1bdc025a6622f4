// Picks the client for where the page runs: Electron's preload bridge, else the local web server.
import { BRIDGE_NAME, type PhotoSearchClient } from '../../shared/api.js';
import { createWebClient, tokenFromLocation } from './web-client.js';

export type ClientKind = 'desktop' | 'web';

export interface AppClient {
  client: PhotoSearchClient;
  kind: ClientKind;
}

export function createClient(): AppClient {
  const bridge = (window as unknown as Record<string, PhotoSearchClient | undefined>)[BRIDGE_NAME];
  if (bridge) return { client: bridge, kind: 'desktop' };
  let storage: Storage | null = null;
  try {
    storage = window.sessionStorage;
  } catch {
    /* storage may be disabled */
  }
  const token = tokenFromLocation(window.location, storage);
  return { client: createWebClient(window.location.origin, token), kind: 'web' };
}
