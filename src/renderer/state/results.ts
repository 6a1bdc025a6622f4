// A paged, sparse view of one query's results. The grid asks for the rows it shows; pages are fetched
// on demand (newest request first, at most two at a time) and old pages are dropped past a budget, so
// 624,000 results cost the memory of the few thousand around the viewport.
import type { PhotoSearchClient } from '../../shared/api.js';
import type { PhotoId, PhotoSummary, ResultScope, ResultSort, SearchFilters, SearchResponse } from '../../shared/types.js';

/** sort and scope apply to text and similar results (browsing is always newest first). */
export type ResultsQuery =
  | { kind: 'search'; query: string; filters: SearchFilters; sort?: ResultSort; scope?: ResultScope }
  | { kind: 'similar'; photoId: PhotoId; filters: SearchFilters; sort?: ResultSort; scope?: ResultScope };

export const PAGE_SIZE = 200;
const MAX_CACHED_PAGES = 150;
const MAX_PARALLEL_FETCHES = 2;

export interface ResultsSnapshot {
  version: number;
  total: number | null;
  /** Text and similar: the best matches (the relevance cutoff) and every ranked photo. */
  best: number | null;
  ranked: number | null;
  tookMs: number | null;
  mode: SearchResponse['mode'] | null;
  /** How the query was read, when the user should know (another text model read it, or none can). */
  notice?: SearchResponse['notice'];
  error: string | null;
  loading: boolean;
}

export class ResultsStore {
  private readonly pages = new Map<number, PhotoSummary[]>();
  private readonly inFlight = new Set<number>();
  /** Pages still shown but out of date (after a refresh): fetched again when next in view. */
  private readonly stale = new Set<number>();
  private lastRequest: [number, number, number] = [0, 0, 0];
  private wanted: number[] = [];
  private listeners = new Set<() => void>();
  private snapshot: ResultsSnapshot = { version: 0, total: null, best: null, ranked: null, tookMs: null, mode: null, error: null, loading: true };
  private disposed = false;

  constructor(private readonly client: PhotoSearchClient, readonly query: ResultsQuery) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): ResultsSnapshot => this.snapshot;

  private update(patch: Partial<ResultsSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch, version: this.snapshot.version + 1 };
    for (const listener of [...this.listeners]) listener();
  }

  /** Starts the first page: it tells the total. */
  start(): void {
    this.request(0, 0);
  }

  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
  }

  getItem(index: number): PhotoSummary | undefined {
    return this.pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** The index of a photo among loaded pages, or -1. */
  indexOf(photoId: PhotoId): number {
    for (const [page, items] of this.pages) {
      const at = items.findIndex((item) => item.id === photoId);
      if (at !== -1) return page * PAGE_SIZE + at;
    }
    return -1;
  }

  /**
   * Asks for the pages covering [start, end] (inclusive), then those within `lookahead` items either
   * side; the latest call replaces the queue (pages scrolled past are no longer wanted).
   */
  request(start: number, end: number, lookahead = 0): void {
    if (this.disposed) return;
    this.lastRequest = [start, end, lookahead];
    const total = this.snapshot.total;
    const lastPage = total === null ? Math.floor(start / PAGE_SIZE) : Math.max(0, Math.ceil(total / PAGE_SIZE) - 1);
    const pageOf = (index: number) => Math.min(lastPage, Math.max(0, Math.floor(index / PAGE_SIZE)));
    const wanted: number[] = [];
    const want = (page: number) => {
      if ((!this.pages.has(page) || this.stale.has(page)) && !this.inFlight.has(page) && !wanted.includes(page)) wanted.push(page);
    };
    for (let page = pageOf(start); page <= pageOf(end); page++) want(page);
    if (lookahead > 0) {
      for (let page = pageOf(end); page <= pageOf(end + lookahead); page++) want(page);
      for (let page = pageOf(start); page >= pageOf(start - lookahead); page--) want(page);
    }
    this.wanted = wanted;
    this.pump();
  }

  /** Loads every page in [start, end] and returns the items (for range selection, bulk actions). */
  async load(start: number, end: number): Promise<PhotoSummary[]> {
    const out: PhotoSummary[] = [];
    for (let page = Math.floor(start / PAGE_SIZE); page <= Math.floor(end / PAGE_SIZE); page++) {
      const items = this.pages.get(page) ?? (await this.fetchPage(page, false));
      for (let i = 0; i < items.length; i++) {
        const index = page * PAGE_SIZE + i;
        if (index >= start && index <= end) out.push(items[i]);
      }
    }
    return out;
  }

  /** Every photo id in the results, page by page (bulk actions on "select all"). */
  async *allIds(chunk = 1000): AsyncGenerator<PhotoId[]> {
    for (let offset = 0; ; offset += chunk) {
      const response = await this.fetch(offset, chunk);
      if (response.items.length === 0) return;
      yield response.items.map((item) => item.id);
      if (response.items.length < chunk || offset + chunk >= response.total) return;
    }
  }

  /**
   * Reloads what is on screen, keeping the old items until the new ones arrive; the other cached
   * pages are marked stale and fetched again only when scrolled back into view.
   */
  refresh(): void {
    if (this.disposed) return;
    for (const page of this.pages.keys()) this.stale.add(page);
    const [start, end, lookahead] = this.lastRequest;
    this.request(start, end, lookahead);
    if (this.pages.size === 0 && this.wanted.length === 0 && !this.inFlight.has(0)) {
      this.wanted.push(0);
      this.pump();
    }
  }

  /** Applies a local change (rating, tags) to loaded items without a round trip. */
  patch(matches: (item: PhotoSummary) => boolean, change: (item: PhotoSummary) => PhotoSummary): void {
    let touched = false;
    for (const [page, items] of this.pages) {
      if (items.some(matches)) {
        this.pages.set(page, items.map((item) => (matches(item) ? change(item) : item)));
        touched = true;
      }
    }
    if (touched) this.update({});
  }

  /** Removes photos (trashed) from loaded pages; the next refresh makes paging exact again. */
  remove(ids: ReadonlySet<PhotoId>): void {
    for (const [page, items] of this.pages) this.pages.set(page, items.filter((item) => !ids.has(item.id)));
    this.update({ total: this.snapshot.total === null ? null : Math.max(0, this.snapshot.total - ids.size) });
    this.refresh();
  }

  private pump(): void {
    while (this.inFlight.size < MAX_PARALLEL_FETCHES && this.wanted.length > 0) {
      const page = this.wanted.shift()!;
      if (this.inFlight.has(page)) continue;
      void this.fetchPage(page, true).catch(() => undefined);
    }
  }

  private fetch(offset: number, limit: number): Promise<SearchResponse> {
    const filters = Object.keys(this.query.filters).length ? this.query.filters : undefined;
    const { sort, scope } = this.query;
    const ranking = { ...(sort ? { sort } : {}), ...(scope ? { scope } : {}) };
    return this.query.kind === 'search'
      ? this.client.search({ query: this.query.query.trim(), filters, offset, limit, ...(this.query.query.trim() ? ranking : {}) })
      : this.client.findSimilar({ photoId: this.query.photoId, filters, offset, limit, ...ranking });
  }

  private async fetchPage(page: number, queued: boolean): Promise<PhotoSummary[]> {
    this.inFlight.add(page);
    try {
      const response = await this.fetch(page * PAGE_SIZE, PAGE_SIZE);
      if (this.disposed) return response.items;
      this.pages.set(page, response.items);
      this.stale.delete(page);
      this.evict(page);
      this.update({ total: response.total, best: response.best ?? null, ranked: response.ranked ?? null, tookMs: page === 0 || this.snapshot.tookMs === null ? response.tookMs : this.snapshot.tookMs, mode: response.mode, ...(page === 0 ? { notice: response.notice } : {}), error: null, loading: false });
      return response.items;
    } catch (error) {
      if (!this.disposed) this.update({ error: (error as Error).message, loading: false });
      throw error;
    } finally {
      this.inFlight.delete(page);
      if (queued && !this.disposed) this.pump();
    }
  }

  /** Drops the pages farthest from the one just loaded once over budget. */
  private evict(near: number): void {
    if (this.pages.size <= MAX_CACHED_PAGES) return;
    const byDistance = [...this.pages.keys()].sort((a, b) => Math.abs(b - near) - Math.abs(a - near));
    for (const page of byDistance.slice(0, this.pages.size - MAX_CACHED_PAGES)) {
      this.pages.delete(page);
      this.stale.delete(page);
    }
  }
}
