// Opens the catalogue database with the settings every caller relies on.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { migrate } from './migrations.js';

export function openDatabase(file: string, options: { readonly?: boolean } = {}): Database.Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { readonly: options.readonly ?? false, nativeBinding: electronBinding() });
  // WAL: the indexer process writes while the UI process reads; NORMAL is durable at each checkpoint
  // and loses at most the last transaction on power loss (never corrupts).
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -65536'); // 64 MiB page cache
  if (!options.readonly) migrate(db);
  return db;
}

/**
 * Inside Electron (run from a source checkout), the better-sqlite3 build made for Electron's ABI by
 * scripts/start-electron.mjs; undefined elsewhere (plain Node, or a packaged app whose modules
 * electron-builder already rebuilt), which means better-sqlite3's default binary.
 */
function electronBinding(): string | undefined {
  const electron = process.versions.electron;
  if (!electron) return undefined;
  const require = createRequire(import.meta.url);
  const candidate = path.join(path.dirname(require.resolve('better-sqlite3/package.json')), 'build-electron', electron, 'better_sqlite3.node');
  return existsSync(candidate) ? candidate : undefined;
}
