// The one IPC entry point: every call is checked to come from our own page's main frame, its method
// and arguments are validated (zod schemas shared with web mode), and only then reaches the library.
import { ipcMain, type WebFrameMain } from 'electron';
import { IPC_INVOKE, type PhotoSearchApi } from '../../shared/api.js';
import { parseApiCall } from '../../shared/api-schema.js';
import { APP_ORIGIN } from './protocol.js';

type Reply = { ok: true; result: unknown } | { ok: false; error: string };

/** Only the top frame of a page served from our app origin may call the API. */
export function isTrustedSender(frame: WebFrameMain | null): boolean {
  if (!frame || frame.parent !== null) return false;
  try {
    return new URL(frame.url).origin === APP_ORIGIN;
  } catch {
    return false;
  }
}

export function registerApiHandlers(api: PhotoSearchApi): () => void {
  ipcMain.handle(IPC_INVOKE, async (event, method: unknown, args: unknown): Promise<Reply> => {
    if (!isTrustedSender(event.senderFrame)) return { ok: false, error: 'refused: the caller is not the app page' };
    let call: ReturnType<typeof parseApiCall>;
    try {
      call = parseApiCall(method, args);
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
    try {
      const fn = api[call.method] as (...a: unknown[]) => Promise<unknown>;
      return { ok: true, result: (await fn.apply(api, call.args)) ?? null };
    } catch (error) {
      return { ok: false, error: (error as Error)?.message ?? String(error) };
    }
  });
  return () => ipcMain.removeHandler(IPC_INVOKE);
}
