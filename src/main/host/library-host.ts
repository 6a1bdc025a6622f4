// Entry of the library host: the plain Node process behind the desktop app's window. It owns everything
// that touches the library (catalogue SQL, FAISS, the text tower, thumbnails, scanning, duplicates and the
// indexer it forks), so a long call or a native abort here never freezes or kills the window, and no native
// addon or image decoder ever loads in an Electron process. Started by the main process with
// child_process.fork under a Node runtime (see docs/ARCHITECTURE.md); speaks host-protocol.ts.
import { parseArgs } from 'node:util';
import path from 'node:path';
import { parseApiCall } from '../../shared/api-schema.js';
import { defaultLibraryDir } from '../core/paths.js';
import { LibraryService } from '../core/service/library-service.js';
import { isMainToHost, type HostToMain, type MainToHost } from './host-protocol.js';

function post(message: HostToMain): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

function errorMessage(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}

async function handle(service: LibraryService, message: Exclude<MainToHost, { type: 'close' }>): Promise<void> {
  try {
    if (message.type === 'media') {
      const media = await service.resolveMedia(message.kind, message.photoId);
      await post({ type: 'reply', id: message.id, ok: true, result: media });
      return;
    }
    // The main process validated the call already; validating again keeps this process safe on its own.
    const call = parseApiCall(message.method, message.args);
    const fn = service[call.method] as (...args: unknown[]) => Promise<unknown>;
    const result = await fn.apply(service, call.args);
    await post({ type: 'reply', id: message.id, ok: true, result: result ?? null });
  } catch (error) {
    await post({ type: 'reply', id: message.id, ok: false, error: errorMessage(error) });
  }
}

async function main(): Promise<void> {
  if (!process.send) {
    console.error('library-host: start me with child_process.fork from the app, not directly');
    process.exit(2);
  }
  const { values } = parseArgs({ options: { library: { type: 'string' }, models: { type: 'string' } }, strict: true });
  const libraryDir = values.library ? path.resolve(values.library) : defaultLibraryDir();

  let service: LibraryService;
  try {
    // The window owns folder pickers (dialog) and menus; everything else the service does itself, trash included.
    service = await LibraryService.open({ libraryDir, modelsDir: values.models ? path.resolve(values.models) : undefined, watch: true, lockOwner: 'Photo Search app' });
  } catch (error) {
    await post({ type: 'fatal', message: `cannot open the library at ${libraryDir}: ${errorMessage(error)}` });
    process.exit(1);
  }

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= service.close().catch((error) => console.error('library-host: closing:', errorMessage(error)));
    return closing;
  };

  service.onEvent((event) => void post({ type: 'event', event }));
  process.on('message', (message: unknown) => {
    if (!isMainToHost(message)) return;
    if (message.type === 'close') {
      void close().then(() => post({ type: 'closed' })).finally(() => process.exit(0));
      return;
    }
    if (closing) {
      void post({ type: 'reply', id: message.id, ok: false, error: 'the library is closing' });
      return;
    }
    void handle(service, message);
  });
  // The window's process is gone (crash or kill): close the catalogue cleanly and stop the indexer too.
  process.on('disconnect', () => void close().finally(() => process.exit(0)));
  await post({ type: 'ready', libraryDir: service.library.paths.dir, pid: process.pid });
}


void main();
