// The contract between the Electron main process and the library host (a plain Node process that owns
// the catalogue, the vector index, the models, thumbnails and indexing). Messages travel over the
// child-process IPC channel as JSON, so the two sides may run different Node versions (Electron's and
// the system's). Pure types and guards only: the Electron glue may import this file and nothing else
// of the host.
import type { MediaKind } from '../../shared/api.js';
import type { ApiEvent } from '../../shared/types.js';

export type MainToHost =
  | { type: 'call'; id: number; method: string; args: unknown[] }
  | { type: 'media'; id: number; kind: MediaKind; photoId: number }
  | { type: 'close' };

export type HostToMain =
  | { type: 'ready'; libraryDir: string; pid: number }
  /** The library could not be opened; the host exits after sending this. */
  | { type: 'fatal'; message: string }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string }
  | { type: 'event'; event: ApiEvent }
  | { type: 'closed' };

/** Arguments the main process passes on the host's command line. */
export interface HostOptions {
  libraryDir?: string;
  modelsDir?: string;
}

export function hostArgs(options: HostOptions): string[] {
  const args: string[] = [];
  if (options.libraryDir) args.push('--library', options.libraryDir);
  if (options.modelsDir) args.push('--models', options.modelsDir);
  return args;
}

export function isHostToMain(value: unknown): value is HostToMain {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'ready' || type === 'fatal' || type === 'reply' || type === 'event' || type === 'closed';
}

export function isMainToHost(value: unknown): value is MainToHost {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as { type?: unknown; id?: unknown };
  if (message.type === 'close') return true;
  return (message.type === 'call' || message.type === 'media') && Number.isSafeInteger(message.id);
}
