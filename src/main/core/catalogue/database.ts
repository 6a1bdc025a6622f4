// Opens the catalogue database with the settings every caller relies on.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrate } from './migrations.js';

export function openDatabase(file: string, options: { readonly?: boolean } = {}): Database.Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { readonly: options.readonly ?? false });
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
