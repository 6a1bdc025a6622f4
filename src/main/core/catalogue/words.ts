// Hybrid ranking's word matches: which photos a query word names through their file or folder name, a tag, the
// camera or the date taken (else the file's date, as browsing orders them). Only indexed lookups reach the whole library (a tag, by its unique name); the other
// fields are checked on a bounded candidate set (the vector ranking's photos), so a query costs the same at 624k.
import type Database from 'better-sqlite3';
import type { MatchedField, PhotoId } from '../../../shared/types.js';
import { CataloguePart, VISIBLE } from './shared.js';

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
/** Words too common to name anything (they would match half the paths). */
const STOP_WORDS = new Set(['the', 'and', 'with', 'for', 'from', 'photo', 'photos', 'picture', 'image', 'jpg', 'jpeg', 'png', 'heic']);

export interface WordMatch {
  fields: Set<MatchedField>;
  /** How many distinct query words this photo matched. */
  words: number;
}

/** The query words worth matching: 3+ characters (or a digit run), not a stop word, in lower case. */
export function queryWords(query: string): string[] {
  const words = query.toLowerCase().split(/\s+/).map((w) => w.replace(/^[^\p{L}\p{N}_]+|[^\p{L}\p{N}_]+$/gu, ''));
  return [...new Set(words.filter((w) => w.length >= 3 && !STOP_WORDS.has(w)))].slice(0, 8);
}

function likePattern(word: string): string {
  return `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class WordMatcher extends CataloguePart {
  constructor(db: Database.Database) {
    super(db);
  }

  /**
   * Photos matching the words: by tag anywhere in the library (at most `tagLimit` per word, indexed), and by
   * file or folder name, camera and date among `candidates` only.
   */
  match(words: string[], candidates: PhotoId[], tagLimit: number): Map<PhotoId, WordMatch> {
    const out = new Map<PhotoId, WordMatch>();
    const add = (ids: PhotoId[], field: MatchedField, word: string, seen: Map<PhotoId, Set<string>>) => {
      for (const id of ids) {
        let entry = out.get(id);
        if (!entry) out.set(id, (entry = { fields: new Set(), words: 0 }));
        entry.fields.add(field);
        let got = seen.get(id);
        if (!got) seen.set(id, (got = new Set()));
        if (!got.has(word)) {
          got.add(word);
          entry.words++;
        }
      }
    };
    const seen = new Map<PhotoId, Set<string>>();
    const json = JSON.stringify(candidates);
    const inCandidates = `id IN (SELECT value FROM json_each(?)) AND ${VISIBLE}`;
    for (const word of words) {
      add(this.db.prepare(
        `SELECT pt.photo_id FROM tags t JOIN photo_tags pt ON pt.tag_id = t.id JOIN photos ON photos.id = pt.photo_id
         WHERE t.name = ? AND ${VISIBLE} LIMIT ?`,
      ).pluck().all(word, tagLimit) as PhotoId[], 'tag', word, seen);
      if (candidates.length === 0) continue;
      const like = likePattern(word);
      // The name below the library folder (not the folder's own path: "home" or "Pictures" would match all),
      // the word whole (not "cat" in "catalogue").
      const whole = new RegExp(`(^|[^\\p{L}\\p{N}])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^\\p{L}\\p{N}]|$)`, 'u');
      const named = this.db.prepare(
        `SELECT photos.id, photos.path, folders.path FROM photos LEFT JOIN folders ON folders.id = photos.folder_id
         WHERE photos.id IN (SELECT value FROM json_each(?)) AND photos.${VISIBLE} AND photos.path LIKE ? ESCAPE '\\'`,
      ).raw(true).all(json, like) as [PhotoId, string, string | null][];
      add(named.filter(([, file, folder]) => whole.test((folder && file.startsWith(folder) ? file.slice(folder.length) : file).toLowerCase()))
        .map(([id]) => id), 'name', word, seen);
      add(this.db.prepare(
        `SELECT id FROM photos WHERE ${inCandidates} AND (camera_make LIKE ? ESCAPE '\\' OR camera_model LIKE ? ESCAPE '\\')`,
      ).pluck().all(json, like, like) as PhotoId[], 'camera', word, seen);
      const month = MONTHS.findIndex((m) => m === word || (word.length === 3 && m.startsWith(word)));
      if (/^(18|19|20)\d\d$/.test(word)) {
        add(this.db.prepare(
          `SELECT id FROM photos WHERE ${inCandidates} AND strftime('%Y', coalesce(taken_at, mtime_ms) / 1000, 'unixepoch') = ?`,
        ).pluck().all(json, word) as PhotoId[], 'date', word, seen);
      } else if (month !== -1) {
        add(this.db.prepare(
          `SELECT id FROM photos WHERE ${inCandidates} AND strftime('%m', coalesce(taken_at, mtime_ms) / 1000, 'unixepoch') = ?`,
        ).pluck().all(json, String(month + 1).padStart(2, '0')) as PhotoId[], 'date', word, seen);
      }
    }
    return out;
  }

  /** Date taken (else file time) of each photo, for sorting results by date. */
  dates(photoIds: PhotoId[]): Map<PhotoId, number> {
    if (photoIds.length === 0) return new Map();
    const rows = this.db.prepare('SELECT id, coalesce(taken_at, mtime_ms) FROM photos WHERE id IN (SELECT value FROM json_each(?))')
      .raw(true).all(JSON.stringify(photoIds)) as [PhotoId, number][];
    return new Map(rows);
  }
}
