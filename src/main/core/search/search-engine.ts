// Search: text → CLIP text vector → nearest photos in the vector index → filters → a page of summaries.
// Also "similar to this photo" and plain browsing. The ranked list of the last query is kept so that
// scrolling through pages costs no new vector search.
import type {
  MatchedField, PhotoId, PhotoSummary, ResultScope, ResultSort, SearchFilters, SearchRequest, SearchResponse, SimilarRequest,
} from '../../../shared/types.js';
import { Catalogue } from '../catalogue/catalogue.js';
import type { Library } from '../library.js';
import type { ModelFolder } from '../model/model-folder.js';
import { WorkerEmbedder } from '../embed/worker-embedder.js';
import { openVectorStore, type ScoredPhoto, type VectorStore } from './vector-store.js';
import { bruteForceTopK } from '../vector/vector-math.js';
import { VectorSketch } from './vector-sketch.js';
import { TextTowerChooser, withNotice } from './text-towers.js';
import type { SearchNotice } from '../../../shared/types.js';
import { queryWords } from '../catalogue/words.js';

export const DEFAULT_PAGE = 100;
/** How many ranked results a vector query keeps for paging. */
export const RANKED_LIMIT = 1000;
/** With filters matching more photos than EXACT_FILTER_LIMIT, how many nearest candidates are filtered down. */
const FILTERED_CANDIDATES = 20_000;
/**
 * Filters matching at most this many photos are searched exactly: their vectors are read from the catalogue
 * and scored in chunks. An approximate index returns only what its probed lists hold, so over-fetching and
 * filtering loses most answers of a selective filter.
 */
export const EXACT_FILTER_LIMIT = 100_000;
const EXACT_CHUNK = 4096;
/**
 * Filters matching more photos than this are shortlisted on the in-memory 8-bit sketch first (built on
 * the first such search), then only the shortlist is read from the catalogue and scored exactly.
 */
const SKETCH_MIN_MATCHES = 12_000;
/**
 * Shortlist size: 2.5 times the ranked results kept. 8-bit rounding moves a score by ~5e-4 (at most ~2e-3),
 * where the scores of ranks 1,000 and 2,500 among tens of thousands of matches lie ~1e-2 apart.
 */
const SHORTLIST = Math.ceil(2.5 * (RANKED_LIMIT + 1));

/**
 * The relevance cutoff: best matches score within this fraction of the top score (cosine). Calibrated on
 * OpenAI ViT-B/32, where a text query's top photo scores ~0.30-0.35 and photos that show the query score within
 * ~0.03 of it, while the bulk of a library sits 0.05-0.12 lower; and on the test model, whose colour words score
 * 1.0 on their colour and <= 0.9 on every other. Relative, so it holds for image-to-image scores (~0.9) too.
 */
export const RELATIVE_MARGIN = 0.1;
/** Reciprocal-rank fusion's constant (Cormack et al. 2009): a list's rank r adds 1 / (RRF_K + r). */
const RRF_K = 60;

/** How many of the ranked scores (best first) are best matches: those within RELATIVE_MARGIN of the top one. */
export function bestMatchCount(scores: ArrayLike<number>): number {
  if (scores.length === 0) return 0;
  const floor = scores[0] - RELATIVE_MARGIN * Math.abs(scores[0]);
  let n = 1;
  while (n < scores.length && scores[n] >= floor) n++;
  return n;
}

interface RankedList {
  key: string;
  /** Best matches first (fused with word matches), then the other ranked photos. */
  results: ScoredPhoto[];
  best: number;
  matched: Map<PhotoId, MatchedField[]>;
  byDate: Partial<Record<ResultScope, ScoredPhoto[]>>;
}

export class SearchEngine {
  private store: VectorStore | null = null;
  private storeTask: Promise<VectorStore> | null = null;
  private modelTask: Promise<WorkerEmbedder> | null = null;
  private modelFolder: ModelFolder | null = null;
  private stale = true;
  private ranked: RankedList | null = null;
  private sketch: { modelId: string; ready: VectorSketch | null; stale: boolean; task: Promise<unknown> } | null = null;

  constructor(
    private readonly library: Library,
    private readonly currentFolder: () => ModelFolder | null,
    /** modelsDir: where other text towers for the library's vectors are looked for (multilingual queries). */
    options: { modelsDir?: string | null } = {},
  ) {
    this.towers = new TextTowerChooser(options.modelsDir ?? null);
  }

  private readonly towers: TextTowerChooser;
  /** A second text tower (another folder than the current one, e.g. the multilingual one), kept loaded. */
  private otherTower: { folder: ModelFolder; task: Promise<WorkerEmbedder> } | null = null;

  /** The catalogue changed (new vectors, removed photos): catch the index up before the next query. */
  markStale(): void {
    this.stale = true;
    this.ranked = null;
    if (this.sketch) this.sketch.stale = true;
  }

  /**
   * Another process committed to the catalogue (a CLI run, the indexer child): add its new vectors to the
   * loaded index now, in the background, so searches find them with no further call. Nothing is loaded yet:
   * the first query opens the index caught up.
   */
  catchUp(): Promise<void> {
    this.ranked = null;
    if (this.sketch) this.sketch.stale = true;
    if (!this.storeTask) return Promise.resolve();
    const next = (): Promise<VectorStore> => (this.store && !this.stale && this.store.modelId === this.library.searchModel?.id
      ? this.store.catchUp().then(() => this.store!)
      : this.openOrSync());
    this.storeTask = this.storeTask.then(next, next);
    return this.storeTask.then(() => undefined);
  }

  /** Ratings or tags changed: the next query ranks afresh (word matches, rating and tag filters), on the same vectors. */
  forgetRanking(): void {
    this.ranked = null;
  }

  async close(): Promise<void> {
    await this.storeTask?.catch(() => undefined);
    await this.store?.close();
    await (await this.modelTask?.catch(() => null))?.close();
    await (await this.otherTower?.task.catch(() => null))?.close();
    this.otherTower = null;
    this.store = null;
    this.storeTask = null;
    this.modelTask = null;
    await this.sketch?.task.catch(() => undefined);
    this.sketch = null;
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    const started = performance.now();
    const query = request.query.trim();
    const offset = request.offset ?? 0;
    const limit = request.limit ?? DEFAULT_PAGE;
    if (!query) {
      await this.library.catalogue.prepareBrowse(request.filters ?? {}, offset);
      const page = this.library.catalogue.browse(request.filters ?? {}, offset, limit);
      return { mode: 'browse', ...page, tookMs: performance.now() - started };
    }
    const tower = await this.towers.choose(query, this.requireModel().id, this.requireFolder());
    if (!tower.folder) return withNotice({ mode: 'text', items: [], total: 0, best: 0, ranked: 0, tookMs: performance.now() - started }, tower.notice);
    const towerFolder = tower.folder;
    const key = JSON.stringify(['text', query, request.filters ?? {}, towerFolder.dir]);
    const ranked = await this.rankedFor(key, async () => {
      const model = await this.textModel(towerFolder);
      const [vector] = await model.embedTexts([query]);
      return vector;
    }, request.filters, undefined, queryWords(query));
    return withNotice(this.page('text', ranked, request, offset, limit, started), tower.notice);
  }

  async similar(request: SimilarRequest): Promise<SearchResponse> {
    const started = performance.now();
    const modelId = this.requireModel().id;
    const key = JSON.stringify(['similar', request.photoId, request.filters ?? {}]);
    const ranked = await this.rankedFor(key, async () => {
      const vector = this.library.catalogue.getVector(request.photoId, modelId);
      if (!vector) throw new Error(`photo ${request.photoId} has no embedding yet: index it first`);
      return vector;
    }, request.filters, request.photoId, []);
    return this.page('similar', ranked, request, request.offset ?? 0, request.limit ?? DEFAULT_PAGE, started);
  }

  /** The first k best matches (or ranked photos, with scope 'all') for a text query, best or newest first (the CLI's `search`). */
  async searchText(
    query: string, k: number, options: { sort?: ResultSort; scope?: ResultScope } = {},
  ): Promise<SearchResponse & { items: (PhotoSummary & { score: number })[] }> {
    const response = await this.search({ query, limit: Math.min(k, RANKED_LIMIT), ...options });
    return response as SearchResponse & { items: (PhotoSummary & { score: number })[] };
  }

  /** How a text query would be read: the notice a search answers with (another text tower, or none reads it). */
  async textNotice(query: string): Promise<SearchNotice | null> {
    return (await this.towers.choose(query.trim(), this.requireModel().id, this.requireFolder())).notice;
  }

  /** The vector store, caught up with the catalogue. Concurrent callers share one open and one sync. */
  vectors(): Promise<VectorStore> {
    this.storeTask = (this.storeTask ?? Promise.resolve()).then(() => this.openOrSync(), () => this.openOrSync());
    return this.storeTask;
  }

  /** Loads the index and the text tower in the background, so the first query does not wait for them. */
  async warmUp(): Promise<void> {
    if (!this.library.searchModel) return;
    await Promise.all([this.vectors(), this.currentFolder() ? this.textModel().then((model) => model.embedTexts([''])) : null]);
  }

  private async openOrSync(): Promise<VectorStore> {
    // The library's model, not the model folder: browsing "similar" photos needs only the stored vectors, so it
    // works with imported vectors before any model is downloaded.
    const model = this.requireModel();
    if (this.store && this.store.modelId !== model.id) {
      await this.store.close();
      this.store = null;
    }
    if (!this.store) {
      this.stale = false;
      this.store = await openVectorStore(this.library, model.id, model.dim);
    } else if (this.stale) {
      this.stale = false;
      await this.store.sync();
    }
    return this.store;
  }

  private async rankedFor(
    key: string,
    queryVector: () => Promise<Float32Array>,
    filters: SearchFilters | undefined,
    excludeId: PhotoId | undefined,
    words: string[],
  ): Promise<RankedList> {
    if (this.ranked?.key === key && !this.stale) return this.ranked;
    const filtered = Catalogue.hasFilters(filters);
    let results: ScoredPhoto[];
    let vector: Float32Array;
    if (filtered && this.library.catalogue.countMatching(filters!) <= EXACT_FILTER_LIMIT) {
      vector = await queryVector();
      results = await this.exactFiltered(vector, filters!, excludeId);
    } else {
      const [query, store] = await Promise.all([queryVector(), this.vectors()]);
      vector = query;
      const k = Math.min(store.size, filtered ? FILTERED_CANDIDATES : RANKED_LIMIT + 1);
      const hits = k > 0 ? await store.search(vector, k) : [];
      const candidates = hits.filter((h) => h.photoId !== excludeId);
      // Filtering also drops photos removed since the index was saved, so stale rows never surface.
      const passing = new Set(this.library.catalogue.filterIds(candidates.map((h) => h.photoId), filters ?? {}));
      results = candidates.filter((h) => passing.has(h.photoId)).slice(0, RANKED_LIMIT);
    }
    const ranked = this.fuse(key, results, vector, words, filters, excludeId);
    this.ranked = ranked;
    return ranked;
  }

  /**
   * The relevance cutoff and hybrid ranking. Best matches: the photos within RELATIVE_MARGIN of the top score,
   * and every photo a query word names (tag anywhere; file or folder name, camera, date among the ranked
   * photos). Both groups are ordered by reciprocal-rank fusion of the vector ranking and the word ranking (more
   * query words matched first, then by vector rank), so a word match is lifted to the top of the best matches.
   */
  private fuse(key: string, clip: ScoredPhoto[], vector: Float32Array, words: string[], filters: SearchFilters | undefined, excludeId?: PhotoId): RankedList {
    const bestClip = bestMatchCount(clip.map((r) => r.score));
    const matched = new Map<PhotoId, MatchedField[]>();
    if (words.length === 0) return { key, results: clip, best: bestClip, matched, byDate: {} };
    const catalogue = this.library.catalogue;
    const matches = catalogue.matchWords(words, clip.map((r) => r.photoId), RANKED_LIMIT);
    if (matches.size === 0) return { key, results: clip, best: bestClip, matched, byDate: {} };
    // Tag matches the vector ranking did not reach: scored exactly, kept if they pass the filters.
    const inClip = new Set(clip.map((r) => r.photoId));
    let all = clip;
    const extra = catalogue.filterIds([...matches.keys()].filter((id) => !inClip.has(id) && id !== excludeId), filters ?? {});
    if (extra.length > 0) {
      const chunk = catalogue.vectorsFor(this.requireModel().id, Uint32Array.from(extra).sort());
      all = mergeBest(clip, bruteForceTopK(vector, chunk.vectors, chunk.photoIds, chunk.photoIds.length), Infinity);
    }
    const clipRank = new Map(all.map((r, i) => [r.photoId, i]));
    const wordRanked = [...matches.entries()].filter(([id]) => clipRank.has(id))
      .sort(([a, x], [b, y]) => y.words - x.words || clipRank.get(a)! - clipRank.get(b)!);
    const wordRank = new Map(wordRanked.map(([id], i) => [id, i]));
    for (const [id, match] of wordRanked) matched.set(id, [...match.fields].sort());
    const fused = (id: PhotoId) => 1 / (RRF_K + 1 + clipRank.get(id)!) + (wordRank.has(id) ? 1 / (RRF_K + 1 + wordRank.get(id)!) : 0);
    const bestIds = new Set(clip.slice(0, bestClip).map((r) => r.photoId));
    for (const id of wordRank.keys()) bestIds.add(id);
    const order = (a: ScoredPhoto, b: ScoredPhoto) => fused(b.photoId) - fused(a.photoId);
    const best = all.filter((r) => bestIds.has(r.photoId)).sort(order);
    const rest = all.filter((r) => !bestIds.has(r.photoId)).sort(order);
    return { key, results: [...best, ...rest], best: best.length, matched, byDate: {} };
  }

  /** Exact top results among the photos passing the filters, yielding to the event loop between chunks. */
  private async exactFiltered(query: Float32Array, filters: SearchFilters, excludeId?: PhotoId): Promise<ScoredPhoto[]> {
    const model = this.requireModel();
    const catalogue = this.library.catalogue;
    let candidates = catalogue.matchingIds(filters);
    if (candidates.length > SKETCH_MIN_MATCHES) {
      const sketch = await this.readySketch(model);
      if (sketch) candidates = (await sketch.shortlist(query, candidates, SHORTLIST)).sort();
    }
    let best: ScoredPhoto[] = [];
    for (let start = 0; start < candidates.length; start += EXACT_CHUNK) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      const chunk = catalogue.vectorsFor(model.id, candidates.subarray(start, start + EXACT_CHUNK));
      const top = bruteForceTopK(query, chunk.vectors, chunk.photoIds, RANKED_LIMIT + 1).filter((hit) => hit.photoId !== excludeId);
      best = mergeBest(best, top, RANKED_LIMIT);
    }
    return best;
  }

  /** Vectors in the filtered-search sketch, or null while there is none (diagnostics, tests). */
  sketchSize(): number | null {
    return this.sketch?.ready?.size ?? null;
  }

  /**
   * The sketch of the current model's vectors, caught up with the catalogue; null while it is first
   * built in the background (the caller then scores every match from the catalogue).
   */
  private async readySketch(model: { id: string; dim: number }): Promise<VectorSketch | null> {
    if (this.sketch?.modelId !== model.id) {
      const entry: NonNullable<SearchEngine['sketch']> = { modelId: model.id, ready: null, stale: false, task: Promise.resolve() };
      entry.task = VectorSketch.build(this.library.paths.catalogue, model.id, model.dim).then(
        async (sketch) => {
          await sketch.catchUp(this.library.catalogue); // what was stored while it was built
          entry.ready = sketch;
        },
        (error: Error) => {
          console.error(`building the filtered-search sketch failed: ${error.message}`);
          if (this.sketch === entry) this.sketch = null;
        },
      );
      this.sketch = entry;
      return null;
    }
    const { ready } = this.sketch;
    if (ready && this.sketch.stale) {
      this.sketch.stale = false;
      await ready.catchUp(this.library.catalogue);
    }
    return ready;
  }

  /** A page of the best matches (or of every ranked photo, with scope 'all'), best first or newest first. */
  private page(
    mode: 'text' | 'similar', ranked: RankedList, request: { sort?: ResultSort; scope?: ResultScope },
    offset: number, limit: number, started: number,
  ): SearchResponse {
    // A text query answers its best matches unless asked for more; "similar to this photo" is a ranked
    // neighbourhood, whole by default (an API client asking for the 100 nearest gets 100).
    const scope = request.scope ?? (mode === 'similar' ? 'all' : 'best');
    let list = scope === 'all' ? ranked.results : ranked.results.slice(0, ranked.best);
    if (request.sort === 'date') {
      list = ranked.byDate[scope] ??= (() => {
        const dates = this.library.catalogue.photoDates(list.map((r) => r.photoId));
        const date = (id: PhotoId) => dates.get(id) ?? -Infinity;
        return [...list].sort((a, b) => date(b.photoId) - date(a.photoId) || b.photoId - a.photoId);
      })();
    }
    const slice = list.slice(offset, offset + limit);
    const scores = new Map(slice.map((r) => [r.photoId, r.score]));
    const items = this.library.catalogue.summaries(slice.map((r) => r.photoId)).map((p) => {
      const matched = ranked.matched.get(p.id);
      return matched ? { ...p, score: scores.get(p.id), matched } : { ...p, score: scores.get(p.id) };
    });
    return { mode, items, total: list.length, best: ranked.best, ranked: ranked.results.length, tookMs: performance.now() - started };
  }

  private requireModel(): { id: string; dim: number } {
    const model = this.library.searchModel;
    if (!model) throw new Error('no CLIP model is set up yet: download one or choose a model folder');
    return model;
  }

  private requireFolder(): ModelFolder {
    const folder = this.currentFolder();
    if (!folder) throw new Error('no CLIP model is set up yet: download one or choose a model folder');
    return folder;
  }

  /** The text tower, in a worker thread: ONNX Runtime's run() blocks its thread for the whole inference. */
  private textModel(chosen?: ModelFolder): Promise<WorkerEmbedder> {
    const current = this.requireFolder();
    if (chosen && chosen.dir !== current.dir) return this.otherTextModel(chosen);
    const folder = current;
    if (!this.modelTask || this.modelFolder !== folder) {
      const previous = this.modelTask;
      this.modelFolder = folder;
      const task = (async () => {
        await (await previous?.catch(() => null))?.close();
        return WorkerEmbedder.start(folder, { tower: 'textual' });
      })();
      this.modelTask = task;
      // A failed load is retried by the next query.
      task.catch(() => {
        if (this.modelTask === task) this.modelTask = null;
      });
    }
    return this.modelTask;
  }

  /** A text tower from another folder (the multilingual one), in its own worker, kept beside the current one. */
  private otherTextModel(folder: ModelFolder): Promise<WorkerEmbedder> {
    if (this.otherTower?.folder.dir === folder.dir) return this.otherTower.task;
    const previous = this.otherTower?.task;
    const task = (async () => {
      await (await previous?.catch(() => null))?.close();
      return WorkerEmbedder.start(folder, { tower: 'textual' });
    })();
    const entry = { folder, task };
    this.otherTower = entry;
    task.catch(() => {
      if (this.otherTower === entry) this.otherTower = null;
    });
    return task;
  }
}

/** The `limit` best of two lists sorted best first. */
function mergeBest(a: ScoredPhoto[], b: ScoredPhoto[], limit: number): ScoredPhoto[] {
  const out: ScoredPhoto[] = [];
  let i = 0;
  let j = 0;
  while (out.length < limit && (i < a.length || j < b.length)) {
    out.push(j >= b.length || (i < a.length && a[i].score >= b[j].score) ? a[i++] : b[j++]);
  }
  return out;
}
