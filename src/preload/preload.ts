// The sandboxed preload: exposes exactly the PhotoSearchClient contract to the page, nothing of
// Electron or Node. Each call is one invoke on a single channel; the main process validates it.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS, BRIDGE_NAME, IPC_EVENT, IPC_INVOKE, MEDIA_PROTOCOL, type ApiMethod, type MediaKind, type PhotoSearchClient } from '../shared/api.js';
import type { ApiEvent, PhotoId } from '../shared/types.js';


type Reply = { ok: true; result: unknown } | { ok: false; error: string };

async function invoke(method: ApiMethod, args: unknown[]): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(IPC_INVOKE, method, args)) as Reply;
  if (!reply.ok) throw new Error(reply.error);
  return reply.result ?? undefined;
}

const api = Object.fromEntries(API_METHODS.map((method) => [method, (...args: unknown[]) => invoke(method, args)]));

const client: PhotoSearchClient = {
  ...(api as unknown as PhotoSearchClient),
  onEvent(listener: (event: ApiEvent) => void) {
    const relay = (_event: IpcRendererEvent, payload: ApiEvent) => listener(payload);
    ipcRenderer.on(IPC_EVENT, relay);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, relay);
    };
  },
  mediaUrl(kind: MediaKind, photoId: PhotoId) {
    if ((kind !== 'thumb' && kind !== 'full') || !Number.isSafeInteger(photoId) || photoId <= 0) return 'about:blank';
    return `${MEDIA_PROTOCOL}://${kind}/${photoId}`;
  },
};

contextBridge.exposeInMainWorld(BRIDGE_NAME, client);
