// The catalogue: SQLite is the source of truth for folders, photos, metadata, embeddings, ratings and
// tags. Every query lives in this folder behind small typed methods (as Signal Desktop's data layer), so the
// rest of the app never writes SQL.
//
// `Catalogue` is the one object callers hold. It owns the connection and hands each call to the part that
// owns the concern, all on that one connection:
//   photos.ts      folders, photo rows and the scanner's bookkeeping (new, changed, missing, moved, hashes)
//   embeddings.ts  models and vectors: what to embed, storing results and imports, counts, streaming them out
//   queries.ts     reading photos, browsing, filters, counts by status, failures, exact duplicates
//   user-data.ts   ratings and tags, and the undo history of their edits
//   words.ts       hybrid ranking's word matches (tags, file and folder names, camera, dates) and result dates
//   curation.ts    decisions about duplicates: pairs that are not duplicates
//   trash-edits.ts trashing (and resolving duplicates: the kept copy takes the others' curation) as undoable edits
//   shared.ts      the SQL fragments and the filter clause the parts share
import type { EditId, PhotoId, SearchFilters } from '../../../shared/types.js';
import { openDatabase } from './database.js';
import { EmbeddingStore, type EmbedOutcome, type ModelCandidate, type ModelRecord } from './embeddings.js';
import { COUNT_ALL, COUNTER_TRIGGER_NAMES, COUNTER_TRIGGERS } from './migrations.js';
import { type NewPhoto, PhotoStore } from './photos.js';
import { PhotoQueries } from './queries.js';
import { CataloguePart, hasFilters } from './shared.js';
import { UserDataStore } from './user-data.js';
import { CurationStore } from './curation.js';
import { TrashEditStore, type MergeChoice, type TrashedPhoto } from './trash-edits.js';
import { WordMatcher } from './words.js';

export { blobToVector, vectorToBlob } from './embeddings.js';
export type { EmbedOutcome, EmbeddingBatch, ModelCandidate, ModelRecord, PhotoAsRead, PhotoMetadata, PhotoToEmbed, SavedBatch } from './embeddings.js';
export type { KnownFile, NewPhoto } from './photos.js';
export type { StatusCounts } from './queries.js';
export type { MergeChoice, TrashedPhoto } from './trash-edits.js';
export { normaliseTags } from './shared.js';
export { EDIT_HISTORY } from './user-data.js';

export class Catalogue extends CataloguePart {
  private readonly photos: PhotoStore;
  private readonly embeddings: EmbeddingStore;
  private readonly userData: UserDataStore;
  private readonly queries: PhotoQueries;
  private readonly words: WordMatcher;
  private readonly curation: CurationStore;
  private readonly trashEdits: TrashEditStore;

  /** `readonly`: a second connection that only reads (no migrations), e.g. for a worker thread. */
  constructor(file: string, options: { readonly?: boolean } = {}) {
    super(openDatabase(file, options));
    this.photos = new PhotoStore(this.db);
    this.embeddings = new EmbeddingStore(this.db);
    this.userData = new UserDataStore(this.db);
    this.queries = new PhotoQueries(this.db, this.userData, this.embeddings);
    this.words = new WordMatcher(this.db);
    this.curation = new CurationStore(this.db);
    this.trashEdits = new TrashEditStore(this.db, this.userData);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Runs a bulk write (an import of 624k photos) in one transaction without the per-row counter triggers, then
   * counts everything once and puts the triggers back: the per-row upkeep cost more than the count.
   */
  bulkTransaction<T>(fn: () => T): T {
    return this.transaction(() => {
      for (const name of COUNTER_TRIGGER_NAMES) this.db.exec(`DROP TRIGGER ${name}`);
      const result = fn();
      this.db.exec(`DELETE FROM photo_counts; DELETE FROM embedding_counts; ${COUNT_ALL} ${COUNTER_TRIGGERS}`);
      return result;
    });
  }

  // ---------- settings ----------

  getSetting(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setSetting(key: string, value: string | null): void {
    if (value === null) this.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // ---------- duplicate decisions (curation.ts) ----------

  dismissDuplicatePairs(photoIds: PhotoId[]) { return this.curation.dismissPairs(photoIds); }
  dismissedPairsAmong(photoIds: PhotoId[]) { return this.curation.dismissedAmong(photoIds); }
  allDismissedPairs() { return this.curation.allDismissed(); }

  // ---------- folders and photo rows (photos.ts) ----------

  addFolder(absPath: string, sep?: string) { return this.photos.addFolder(absPath, sep); }
  getFolder(folderId: number) { return this.photos.getFolder(folderId); }
  folderPaths() { return this.photos.folderPaths(); }
  listFolders() { return this.photos.listFolders(); }
  removeFolder(folderId: number) { return this.photos.removeFolder(folderId); }
  knownFilesUnder(prefix: string) { return this.photos.knownFilesUnder(prefix); }
  insertPhotos(photos: NewPhoto[]) { return this.photos.insertPhotos(photos); }
  markChanged(changes: Parameters<PhotoStore['markChanged']>[0]) { return this.photos.markChanged(changes); }
  markRestored(changes: Parameters<PhotoStore['markRestored']>[0]) { return this.photos.markRestored(changes); }
  markMissing(photoIds: PhotoId[]) { return this.photos.markMissing(photoIds); }
  movePhoto(photoId: PhotoId, newPath: string, folderId: number | null, size: number, mtimeMs: number) {
    return this.photos.movePhoto(photoId, newPath, folderId, size, mtimeMs);
  }
  missingWithSizes(sizes: number[]) { return this.photos.missingWithSizes(sizes); }
  photosWithVectors(photoIds: PhotoId[]) { return this.photos.photosWithVectors(photoIds); }
  setContentHash(photoId: PhotoId, hash: string) { return this.photos.setContentHash(photoId, hash); }
  photoIdByPath(absPath: string) { return this.photos.photoIdByPath(absPath); }

  // ---------- models and embeddings (embeddings.ts) ----------

  registerModel(model: ModelRecord) { return this.embeddings.registerModel(model); }
  resolveModel(candidate: ModelCandidate) { return this.embeddings.resolveModel(candidate); }
  findModel(candidate: ModelCandidate) { return this.embeddings.findModel(candidate); }
  modelDir(modelId: string) { return this.embeddings.modelDir(modelId); }
  rememberModelDir(modelId: string, dir: string) { return this.embeddings.rememberModelDir(modelId, dir); }
  getModel(modelId: string) { return this.embeddings.getModel(modelId); }
  listModels() { return this.embeddings.listModels(); }
  photosToEmbed(modelId: string, afterId: PhotoId, limit: number) { return this.embeddings.photosToEmbed(modelId, afterId, limit); }
  countToEmbed(modelId: string) { return this.embeddings.countToEmbed(modelId); }
  saveEmbedBatch(model: ModelRecord, outcomes: EmbedOutcome[]) { return this.embeddings.saveEmbedBatch(model, outcomes); }
  importVectors(model: ModelRecord, photoIds: PhotoId[], vectors: Float32Array) { return this.embeddings.importVectors(model, photoIds, vectors); }
  getVector(photoId: PhotoId, modelId: string) { return this.embeddings.getVector(photoId, modelId); }
  countEmbeddings(modelId: string) { return this.embeddings.countEmbeddings(modelId); }
  lastEmbeddingId(modelId: string) { return this.embeddings.lastEmbeddingId(modelId); }
  countEmbeddingsAfter(modelId: string, afterEmbeddingId: number) { return this.embeddings.countEmbeddingsAfter(modelId, afterEmbeddingId); }
  iterateEmbeddings(modelId: string, afterEmbeddingId: number, batchSize?: number) {
    return this.embeddings.iterateEmbeddings(modelId, afterEmbeddingId, batchSize);
  }
  embeddedPhotoIds(modelId: string) { return this.embeddings.embeddedPhotoIds(modelId); }
  vectorsFor(modelId: string, photoIds: ArrayLike<number>) { return this.embeddings.vectorsFor(modelId, photoIds); }

  // ---------- reading, browsing and filtering (queries.ts) ----------

  getPhoto(photoId: PhotoId) { return this.queries.getPhoto(photoId); }
  /** Hybrid ranking (words.ts): photos a query word names by tag, file or folder name, camera or date. */
  matchWords(words: string[], candidates: PhotoId[], tagLimit: number) { return this.words.match(words, candidates, tagLimit); }
  photoDates(photoIds: PhotoId[]) { return this.words.dates(photoIds); }
  photoFile(photoId: PhotoId) { return this.queries.photoFile(photoId); }
  getPhotos(photoIds: PhotoId[]) { return this.queries.getPhotos(photoIds); }
  photoPaths(photoIds: PhotoId[]) { return this.queries.photoPaths(photoIds); }
  visiblePhotoPaths(afterId: PhotoId, limit: number) { return this.queries.visiblePhotoPaths(afterId, limit); }
  summaries(photoIds: PhotoId[]) { return this.queries.summaries(photoIds); }
  browse(filters: SearchFilters, offset: number, limit: number) { return this.queries.browse(filters, offset, limit); }
  timeline(filters: SearchFilters) { return this.queries.timeline(filters); }
  prepareBrowse(filters: SearchFilters, offset: number) { return this.queries.prepareBrowse(filters, offset); }
  filterIds(photoIds: PhotoId[], filters: SearchFilters) { return this.queries.filterIds(photoIds, filters); }
  countMatching(filters: SearchFilters) { return this.queries.countMatching(filters); }
  matchingIds(filters: SearchFilters) { return this.queries.matchingIds(filters); }
  statusCounts(modelId: string | null) { return this.queries.statusCounts(modelId); }
  listFailed(limit: number) { return this.queries.listFailed(limit); }
  exactDuplicateGroups() { return this.queries.exactDuplicateGroups(); }

  /** True when the filters can exclude anything (so vector search must over-fetch and filter). */
  static hasFilters(filters: SearchFilters | undefined): boolean {
    return hasFilters(filters);
  }

  // ---------- ratings, tags and their undo history (user-data.ts) ----------

  setRating(photoIds: PhotoId[], rating: number, partOf?: EditId | null) { return this.userData.setRating(photoIds, rating, partOf ?? null); }
  addTags(photoIds: PhotoId[], names: string[], partOf?: EditId | null) { return this.userData.addTags(photoIds, names, partOf ?? null); }
  removeTags(photoIds: PhotoId[], names: string[], partOf?: EditId | null) { return this.userData.removeTags(photoIds, names, partOf ?? null); }
  listEdits() { return this.userData.listEdits(); }
  undoEdit(editId: EditId) { return this.userData.undoEdit(editId); }
  undoLast() { return this.userData.undoLast(); }
  listTags(prefix: string) { return this.userData.listTags(prefix); }

  // ---------- trashing as an undoable edit (trash-edits.ts) ----------

  openTrashEdit(photos: TrashedPhoto[], merges: MergeChoice[]) { return this.trashEdits.open(photos, merges); }
  photoTrashed(editId: EditId, photoId: PhotoId) { return this.trashEdits.trashed(editId, photoId); }
  photoNotTrashed(editId: EditId, photoId: PhotoId) { return this.trashEdits.notTrashed(editId, photoId); }
  closeTrashEdit(editId: EditId) { return this.trashEdits.close(editId); }
  readTrashEdit(editId: EditId) { return this.trashEdits.read(editId); }
  undoTrashEdit(editId: EditId, back: PhotoId[]) { return this.trashEdits.undo(editId, back); }
  tagsFor(photoIds: PhotoId[]) { return this.userData.tagsFor(photoIds); }
}
