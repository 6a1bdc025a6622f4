// Numbered schema migrations (as Signal Desktop does): each runs once, in order, inside a transaction,
// and PRAGMA user_version records the last one applied. Never edit a shipped migration; add a new one.
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

/** Fills the counter tables of migration 2 from scratch. */
export const COUNT_ALL = `
      INSERT INTO photo_counts SELECT coalesce(folder_id, 0), status, count(*) FROM photos GROUP BY 1, 2;
      INSERT INTO embedding_counts SELECT e.model_id, p.status, count(*) FROM embeddings e JOIN photos p ON p.id = e.photo_id GROUP BY 1, 2;
`;

/** Keep the counters of migration 2 exact on every write; bulk writers drop them and count again (Catalogue.bulkTransaction). */
export const COUNTER_TRIGGERS = `

      CREATE TRIGGER photos_counted_insert AFTER INSERT ON photos BEGIN
        INSERT INTO photo_counts VALUES (coalesce(NEW.folder_id, 0), NEW.status, 1)
          ON CONFLICT (folder_id, status) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER photos_counted_move AFTER UPDATE OF folder_id, status ON photos
        WHEN coalesce(OLD.folder_id, 0) != coalesce(NEW.folder_id, 0) OR OLD.status != NEW.status BEGIN
        UPDATE photo_counts SET n = n - 1 WHERE folder_id = coalesce(OLD.folder_id, 0) AND status = OLD.status;
        INSERT INTO photo_counts VALUES (coalesce(NEW.folder_id, 0), NEW.status, 1)
          ON CONFLICT (folder_id, status) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER photos_counted_status AFTER UPDATE OF status ON photos WHEN OLD.status != NEW.status BEGIN
        UPDATE embedding_counts SET n = n - 1
          WHERE status = OLD.status AND model_id IN (SELECT model_id FROM embeddings WHERE photo_id = NEW.id);
        INSERT INTO embedding_counts SELECT model_id, NEW.status, 1 FROM embeddings WHERE photo_id = NEW.id
          ON CONFLICT (model_id, status) DO UPDATE SET n = n + 1;
      END;
      -- A deleted photo takes its vectors with it (ON DELETE CASCADE): they are uncounted here, while the
      -- photo row still exists, and the embeddings trigger below skips rows whose photo is gone.
      CREATE TRIGGER photos_counted_delete BEFORE DELETE ON photos BEGIN
        UPDATE photo_counts SET n = n - 1 WHERE folder_id = coalesce(OLD.folder_id, 0) AND status = OLD.status;
        UPDATE embedding_counts SET n = n - 1
          WHERE status = OLD.status AND model_id IN (SELECT model_id FROM embeddings WHERE photo_id = OLD.id);
      END;
      CREATE TRIGGER embeddings_counted_insert AFTER INSERT ON embeddings BEGIN
        INSERT INTO embedding_counts SELECT NEW.model_id, status, 1 FROM photos WHERE id = NEW.photo_id
          ON CONFLICT (model_id, status) DO UPDATE SET n = n + 1;
      END;
      CREATE TRIGGER embeddings_counted_delete AFTER DELETE ON embeddings BEGIN
        UPDATE embedding_counts SET n = n - 1
          WHERE model_id = OLD.model_id AND status = (SELECT status FROM photos WHERE id = OLD.photo_id);
      END;
`;

export const COUNTER_TRIGGER_NAMES = [...COUNTER_TRIGGERS.matchAll(/CREATE TRIGGER (\w+)/g)].map((m) => m[1]);

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
  {
    version: 2,
    name: 'counters',
    // The status bar and the folder list read these instead of counting 624k rows on every poll. Triggers keep
    // them exact inside each writing transaction. folder_id 0 stands for "no folder".
    up: `
      CREATE TABLE photo_counts (
        folder_id INTEGER NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (folder_id, status)
      ) WITHOUT ROWID;
      -- Vectors per model, by the status of their photo (a missing photo keeps its vector but is not searchable).
      CREATE TABLE embedding_counts (
        model_id TEXT NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (model_id, status)
      ) WITHOUT ROWID;
${COUNT_ALL}
${COUNTER_TRIGGERS}
    `,
  },
  {
    version: 3,
    name: 'folder browse order',
    // Browsing one folder newest first walks this index instead of sorting the folder's rows (74 ms at 624k in
    // one folder). It also serves every lookup photos_folder served.
    up: `
      CREATE INDEX photos_folder_browse ON photos(folder_id, coalesce(taken_at, mtime_ms) DESC, id DESC);
      DROP INDEX photos_folder;
    `,
  },
  {
    version: 4,
    name: 'ratings table',
    // Ratings move out of the wide photos rows into a narrow table of rated photos only: rating 10,000
    // scattered photos rewrote ~10,000 photo pages (170–200 ms at 624k); here it touches a few dozen.
    up: `
      CREATE TABLE ratings (
        photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5)
      );
      INSERT INTO ratings SELECT id, rating FROM photos WHERE rating > 0;
      CREATE INDEX ratings_rating ON ratings(rating, photo_id);
      DROP INDEX photos_rating;
      ALTER TABLE photos DROP COLUMN rating;
    `,
  },
  {
    version: 5,
    name: 'partial status indexes',
    // Counts come from counters (migration 2), so the two whole-table indexes on status and size served only
    // the failed-photos list and the search for moved files, which look at failed or missing photos alone:
    // partial indexes hold just those rows (17 MB less at 624k, and nothing to update for healthy photos).
    up: `
      DROP INDEX photos_status;
      DROP INDEX photos_size;
      CREATE INDEX photos_failed ON photos(id) WHERE status IN ('error', 'unsupported');
      CREATE INDEX photos_missing_size ON photos(size) WHERE status = 'missing';
    `,
  },
  {
    version: 6,
    name: 'dismissed duplicates',
    // Pairs of photos the user said are not duplicates (a < b): user data, so it lives here and not in the
    // duplicate scan's results file, and later scans never link such a pair again.
    up: `
      CREATE TABLE dismissed_pairs (
        a INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        b INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        PRIMARY KEY (a, b),
        CHECK (a < b)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: 'undo journal',
    // The last edits to ratings and tags, each with exactly what it replaced, so any of them can be undone
    // (also after a restart). A rating edit keeps the previous rating of each photo it changed (0: unrated);
    // a tag edit keeps the photo–tag links it added, an untag edit those it removed (the tag as an index into
    // the edit's list of names: a removed tag may have no row of its own any more). Only what changed is kept,
    // so the journal of an edit costs one INSERT … SELECT beside the edit itself. AUTOINCREMENT: an undone or
    // forgotten edit's id is never given to a new one, so an old Undo button cannot undo someone else's edit.
    up: `
      CREATE TABLE edits (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('rating', 'tag', 'untag')),
        rating INTEGER CHECK (rating BETWEEN 0 AND 5),
        tags TEXT NOT NULL DEFAULT '[]',
        changed INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE edit_ratings (
        edit_id INTEGER NOT NULL,
        photo_id INTEGER NOT NULL,
        previous INTEGER NOT NULL CHECK (previous BETWEEN 0 AND 5),
        PRIMARY KEY (edit_id, photo_id)
      ) WITHOUT ROWID;
      CREATE TABLE edit_tags (
        edit_id INTEGER NOT NULL,
        tag INTEGER NOT NULL,
        photo_id INTEGER NOT NULL,
        PRIMARY KEY (edit_id, tag, photo_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: 'browse indexes of visible photos',
    // Every browse and filter query asks for visible photos (status != 'missing'). With the status only in the
    // table, a date range checked it row by row: 31,200 photos of one year took ~200 ms of random page reads
    // at 624k, for its count and again for its ids. Partial indexes over visible photos answer from the index.
    up: `
      DROP INDEX photos_browse;
      DROP INDEX photos_folder_browse;
      CREATE INDEX photos_browse ON photos(coalesce(taken_at, mtime_ms) DESC, id DESC) WHERE status != 'missing';
      CREATE INDEX photos_folder_browse ON photos(folder_id, coalesce(taken_at, mtime_ms) DESC, id DESC) WHERE status != 'missing';
    `,
  },
  {
    version: 10,
    name: 'undo of trash',
    // Trashing (and resolving duplicates) joins the undo history as 'trash' edits: each photo it trashes, with
    // its path, size and status before (and the copy kept in its duplicate group), recorded before its file is
    // moved (a row whose file never moved is simply found at its path by undo); and the rating each kept copy
    // took from its copies, with the rating it had (the tags it took are edit_tags rows, as for a 'tag' edit).
    // The edits table is rebuilt for the new kind, keeping its ids and its AUTOINCREMENT counter.
    up: `
      CREATE TEMP TABLE edits_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'edits';
      CREATE TABLE edits_v10 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('rating', 'tag', 'untag', 'trash')),
        rating INTEGER CHECK (rating BETWEEN 0 AND 5),
        tags TEXT NOT NULL DEFAULT '[]',
        changed INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      INSERT INTO edits_v10(id, kind, rating, tags, changed, created_at) SELECT id, kind, rating, tags, changed, created_at FROM edits;
      DROP TABLE edits;
      ALTER TABLE edits_v10 RENAME TO edits;
      DELETE FROM sqlite_sequence WHERE name = 'edits';
      INSERT INTO sqlite_sequence(name, seq) SELECT 'edits', seq FROM temp.edits_sequence;
      DROP TABLE temp.edits_sequence;
      CREATE TABLE edit_trash (
        edit_id INTEGER NOT NULL,
        photo_id INTEGER NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        status TEXT NOT NULL,
        kept_id INTEGER,
        PRIMARY KEY (edit_id, photo_id)
      ) WITHOUT ROWID;
      CREATE TABLE edit_merged_ratings (
        edit_id INTEGER NOT NULL,
        photo_id INTEGER NOT NULL,
        previous INTEGER NOT NULL CHECK (previous BETWEEN 0 AND 5),
        merged INTEGER NOT NULL CHECK (merged BETWEEN 1 AND 5),
        PRIMARY KEY (edit_id, photo_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 11, // (no 9: it was never shipped)
    name: 'models identified by content',
    // A model was its folder's name: the same weights through another folder re-embedded everything, and a
    // changed preprocessing updated the model's version in place, leaving older vectors mixed with new ones. Now
    // a model record is an image tower's content (content_hash) plus a preprocessing (resolveModel), and `dir`
    // remembers where its files were, so search can keep using an earlier model while a new one embeds. Vectors
    // already mixed are dropped here, to be embedded again (imported ones of unknown preprocessing stay).
    up: `
      ALTER TABLE models ADD COLUMN content_hash TEXT;
      ALTER TABLE models ADD COLUMN dir TEXT;
      CREATE INDEX models_content ON models(content_hash, preprocess_version);
      DELETE FROM embeddings WHERE id IN (
        SELECT e.id FROM embeddings e JOIN models m ON m.id = e.model_id
        WHERE e.preprocess_version != m.preprocess_version AND e.preprocess_version != 'imported-unknown'
      );
    `,
  },
];

/**
 * Brings the catalogue to the latest schema. The version is read again inside a BEGIN IMMEDIATE transaction
 * (the write lock is taken before the read), so two processes opening an old catalogue at once never both
 * apply a migration: the second waits (busy_timeout), then sees the new version and has nothing to do.
 */
export function migrate(db: Database.Database): number {
  const latest = migrations[migrations.length - 1].version;
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  const tooNew = (current: number): Error =>
    new Error(`catalogue schema version ${current} is newer than this app understands (${latest}); update the app`);
  // Up to date: nothing to write, so no write lock (versions only ever go up).
  const seen = version();
  if (seen > latest) throw tooNew(seen);
  if (seen === latest) return latest;
  db.transaction(() => {
    const current = version();
    if (current > latest) throw tooNew(current);
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      db.exec(migration.up);
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
  return latest;
}
