// What the catalogue's parts share: the connection, and the SQL fragments and filter clause that several of
// them build their queries from (kept here, in one place, so that "visible" and "passes the filters" mean
// the same thing everywhere).
import type Database from 'better-sqlite3';
import type { SearchFilters } from '../../../shared/types.js';

/** One concern of the catalogue, on the connection every part shares. */
export abstract class CataloguePart {
  constructor(readonly db: Database.Database) {}

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}

/** A photo's rating (0 = none), from the ratings table (migration 4). */
export const RATING = 'coalesce((SELECT r.rating FROM ratings r WHERE r.photo_id = photos.id), 0) AS rating';
/** Photos that exist on disk as far as the catalogue knows; 'missing' ones keep their user data but hide. */
export const VISIBLE = "status != 'missing'";

export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function normaliseTags(names: string[]): string[] {
  // NFC so that the same word typed on different keyboards (e.g. Hebrew with or without composed marks) is one tag.
  const seen = new Set<string>();
  for (const name of names) {
    const clean = name.normalize('NFC').trim().replace(/\s+/g, ' ');
    if (clean.length > 0 && clean.length <= 100) seen.add(clean);
  }
  return [...seen];
}

export function filterClause(filters: SearchFilters): { where: string; params: (string | number)[] } {
  const parts = [VISIBLE];
  const params: (string | number)[] = [];
  if (filters.minRating !== undefined && filters.minRating > 0) {
    parts.push('photos.id IN (SELECT photo_id FROM ratings WHERE rating >= ?)');
    params.push(filters.minRating);
  }
  if (filters.folderId !== undefined) {
    parts.push('folder_id = ?');
    params.push(filters.folderId);
  }
  if (filters.dateFrom !== undefined) {
    parts.push('coalesce(taken_at, mtime_ms) >= ?');
    params.push(filters.dateFrom);
  }
  if (filters.dateTo !== undefined) {
    parts.push('coalesce(taken_at, mtime_ms) <= ?');
    params.push(filters.dateTo);
  }
  if (filters.camera && filters.camera.trim()) {
    parts.push("(coalesce(camera_make, '') || ' ' || coalesce(camera_model, '')) LIKE ? ESCAPE '\\'");
    params.push(`%${likeEscape(filters.camera.trim())}%`);
  }
  for (const tag of normaliseTags(filters.tags ?? [])) {
    // Driven from the tag (photo_tags_tag index), so a rare tag costs its own rows, not a pass over every photo.
    parts.push('photos.id IN (SELECT pt.photo_id FROM photo_tags pt JOIN tags t ON t.id = pt.tag_id WHERE t.name = ?)');
    params.push(tag);
  }
  return { where: parts.join(' AND '), params };
}

/** True when the filters can exclude anything (so vector search must over-fetch and filter). */
export function hasFilters(filters: SearchFilters | undefined): boolean {
  return filterClause(filters ?? {}).params.length > 0;
}
