// photo-search serve: the app in a browser, on 127.0.0.1 only, behind a per-run access token.
import path from 'node:path';
import { libraryDirFrom, parseCommandArgs, UsageError } from '../args.js';
import { packageRoot } from '../../core/paths.js';
import { LibraryService } from '../../core/service/library-service.js';
import { startWebServer } from '../../core/server/web-server.js';

export const usage = 'serve [--library DIR] [--port N] [--models DIR]   open the app in a browser (prints its URL, token included)';

function portFrom(value: unknown): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer 0-65535, got ${String(value)}`);
  return port;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { port: { type: 'string' }, models: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  const port = portFrom(values.port);
  const libraryDir = libraryDirFrom(values.library);
  const modelsDir = typeof values.models === 'string' && values.models ? path.resolve(values.models) : undefined;

  const service = await LibraryService.open({ libraryDir, modelsDir, watch: true, lockOwner: 'photo-search serve' });
  let server;
  try {
    server = await startWebServer({ api: service, port, rendererDir: path.join(packageRoot, 'dist', 'renderer') });
  } catch (error) {
    service.close();
    throw error;
  }
  // The URL is the first line on purpose: scripts and tests read it.
  process.stdout.write(`${server.url}\n`);
  console.log(`photo-search: serving ${libraryDir} (Ctrl+C to stop)`);
  const signal = await untilSignal();
  console.log(`photo-search: ${signal}, stopping`);
  await server.close();
  await service.close();
  return 0;
}
