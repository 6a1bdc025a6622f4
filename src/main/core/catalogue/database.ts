// Opens the catalogue database with the settings every caller relies on.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { migrate } from './migrations.js';
import { sleepSync } from '../sleep-sync.js';

export const PAGE_SIZE = 65536;
const BUSY_TIMEOUT_MS = 10_000;

/**
 * `journal_mode = WAL` answers SQLITE_BUSY at once, without the busy handler, while another process is creating
 * the same catalogue (two `index` runs started together on a new library): it is tried again until the timeout.
 */
function enableWal(db: Database.Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      sleepSync(20);
    }
  }
}

export function openDatabase(file: string, options: { readonly?: boolean } = {}): Database.Database {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { readonly: options.readonly ?? false });
  // A new catalogue uses 64 KiB pages (SQLite's largest): a 2 KiB vector row (plus its ~70 bytes of ids)
  // packs 31 to a page, leaving 1% unused. 4 KiB pages spill each row onto an overflow page of its own and
  // double the file (2.85 GB at 624k); 16 KiB pages hold 7 and leave 10% unused (1.74 GB against 1.60 GB).
  // (The size can only be chosen before the first table exists; older catalogues keep theirs.)
  if (!options.readonly && (db.pragma('page_count', { simple: true }) as number) === 0) db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // WAL: the indexer process writes while the UI process reads; NORMAL is durable at each checkpoint
  // and loses at most the last transaction on power loss (never corrupts).
  enableWal(db);
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('cache_size = -65536'); // 64 MiB page cache
  if (!options.readonly) migrate(db);
  return db;
}
