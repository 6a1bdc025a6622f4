// The one IPC entry point: every call is checked to come from our own page's main frame, its method
// and arguments are validated (zod schemas shared with web mode), and only then is it relayed.
import { ipcMain, type WebFrameMain } from 'electron';
import { IPC_INVOKE, type ApiMethod } from '../../shared/api.js';
import { parseApiCall } from '../../shared/api-schema.js';
import { isAppPageUrl } from '../../shared/app-url.js';

type Reply = { ok: true; result: unknown } | { ok: false; error: string };

/** Only the top frame of a page served from our app scheme and host may call the API. */
export function isTrustedSender(frame: WebFrameMain | null): boolean {
  return !!frame && frame.parent === null && isAppPageUrl(frame.url);
}

export type Dispatch = (method: ApiMethod, args: unknown[]) => Promise<unknown>;

export function registerApiHandlers(dispatch: Dispatch): () => void {
  ipcMain.handle(IPC_INVOKE, async (event, method: unknown, args: unknown): Promise<Reply> => {
    if (!isTrustedSender(event.senderFrame)) return { ok: false, error: 'refused: the caller is not the app page' };
    let call: ReturnType<typeof parseApiCall>;
    try {
      call = parseApiCall(method, args);
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
    try {
      return { ok: true, result: (await dispatch(call.method, call.args)) ?? null };
    } catch (error) {
      return { ok: false, error: (error as Error)?.message ?? String(error) };
    }
  });
  return () => ipcMain.removeHandler(IPC_INVOKE);
}
