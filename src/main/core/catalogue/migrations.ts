// Numbered schema migrations (as Signal Desktop does): each runs once, in order, inside a transaction,
// and PRAGMA user_version records the last one applied. Never edit a shipped migration; add a new one.
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'catalogue',
    up: `
      CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added_at INTEGER NOT NULL
      );
      CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        folder_id INTEGER REFERENCES folders(id) ON DELETE SET NULL,
        path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL DEFAULT 0,
        mtime_ms INTEGER NOT NULL DEFAULT 0,
        width INTEGER,
        height INTEGER,
        format TEXT,
        content_hash TEXT,
        taken_at INTEGER,
        camera_make TEXT,
        camera_model TEXT,
        lens TEXT,
        gps_lat REAL,
        gps_lon REAL,
        orientation INTEGER,
        status TEXT NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'ok', 'error', 'unsupported', 'missing')),
        last_error TEXT,
        metadata_read INTEGER NOT NULL DEFAULT 0,
        added_at INTEGER NOT NULL,
        rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5)
      );
      CREATE INDEX photos_folder ON photos(folder_id);
      CREATE INDEX photos_status ON photos(status);
      CREATE INDEX photos_size ON photos(size);
      CREATE INDEX photos_hash ON photos(content_hash);
      CREATE INDEX photos_browse ON photos(coalesce(taken_at, mtime_ms) DESC, id DESC);
      CREATE INDEX photos_rating ON photos(rating);

      CREATE TABLE models (
        id TEXT PRIMARY KEY,
        dim INTEGER NOT NULL,
        preprocess_version TEXT NOT NULL,
        added_at INTEGER NOT NULL
      );
      -- One vector per (photo, model); AUTOINCREMENT so ids only grow: the vector index uses the highest
      -- id it has seen to find what is new since it was saved.
      CREATE TABLE embeddings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id TEXT NOT NULL REFERENCES models(id),
        preprocess_version TEXT NOT NULL,
        vector BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (photo_id, model_id)
      );
      CREATE INDEX embeddings_model ON embeddings(model_id, id);

      CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE
      );
      CREATE TABLE photo_tags (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        PRIMARY KEY (photo_id, tag_id)
      ) WITHOUT ROWID;
      CREATE INDEX photo_tags_tag ON photo_tags(tag_id, photo_id);

      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
];

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations[migrations.length - 1].version;
  if (current > latest) {
    throw new Error(`catalogue schema version ${current} is newer than this app understands (${latest}); update the app`);
  }
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.up);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
  return latest;
}
