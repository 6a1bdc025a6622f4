// The kept results of the last duplicate scan: the sets it found, which embedding it got to, and when.
// Derived data, like the vector index: a JSON file in the library folder, written atomically, rebuilt by
// scanning again if it is lost or damaged. An incremental scan's sets are merged into the kept ones.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Library } from '../library.js';
import { UnionFind } from './union-find.js';
import { bySetOrder, summariseSet, type DuplicateReport, type DuplicateSet } from './duplicates.js';

const FORMAT = 'photo-search-duplicates';
const VERSION = 1;

export interface KeptScan {
  modelId: string | null;
  /** Newest embedding id the kept results cover. */
  throughEmbeddingId: number;
  finishedAt: number;
  stats: DuplicateReport['stats'];
  sets: DuplicateSet[];
}

/** The kept scan, or null when there is none or it cannot be read (then the user scans again). */
export function readKeptScan(file: string): KeptScan | null {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as KeptScan & { format?: string; version?: number };
    if (data.format !== FORMAT || data.version !== VERSION || !Array.isArray(data.sets)) return null;
    const sets = data.sets.filter((s) => Array.isArray(s.ids) && s.ids.every((id) => Number.isInteger(id) && id > 0) && (s.kind === 'exact' || s.kind === 'near'));
    return { modelId: data.modelId ?? null, throughEmbeddingId: Number(data.throughEmbeddingId) || 0, finishedAt: Number(data.finishedAt) || 0, stats: data.stats, sets };
  } catch {
    return null;
  }
}

export function writeKeptScan(file: string, scan: KeptScan): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ format: FORMAT, version: VERSION, ...scan }));
  renameSync(tmp, file);
}

/**
 * Sets of the kept scan joined with those an incremental scan found: sets that share a photo become one.
 * A set unchanged by the join keeps its kind and similarity; a joined one is summarised again.
 */
export async function mergeSets(library: Library, modelId: string | null, kept: DuplicateSet[], found: DuplicateSet[]): Promise<DuplicateSet[]> {
  const links = new UnionFind();
  for (const set of [...kept, ...found]) for (const id of set.ids.slice(1)) links.union(set.ids[0], id);
  const known = new Map<string, DuplicateSet>();
  for (const set of [...kept, ...found]) known.set(set.ids.join(','), set);
  const merged: DuplicateSet[] = [];
  for (const ids of links.groups(2)) {
    const sorted = [...ids].sort((a, b) => a - b);
    const same = known.get(sorted.join(','));
    const set = same ?? (await summariseSet(library, sorted, modelId));
    if (set) merged.push(set);
  }
  return merged.sort(bySetOrder);
}
