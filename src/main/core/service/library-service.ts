// LibraryService implements the whole UI contract (PhotoSearchApi) over the Electron-free core. The
// Electron main process and web mode both dispatch validated calls to it; events go to every listener.
import { EventEmitter } from 'node:events';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PhotoSearchApi, MediaKind } from '../../../shared/api.js';
import { ApiInputError } from '../../../shared/api-schema.js';
import type {
  ApiEvent, DuplicateChoice, DuplicateScanStatus, DuplicatesPage, FailedPhoto, IndexingProgress, LibraryFolder, LibraryStatus, ModelStatus, ModelSwitchPreview, PhotoDetail,
  PhotoId, SearchFilters, SearchRequest, SearchResponse, SimilarRequest, TagCount, TimelineMonth, TrashResult,
} from '../../../shared/types.js';
import type { EditId, EditRecord, EditResult, UndoResult } from '../../../shared/types.js';
import { Library } from '../library.js';
import { startCheckpointer, type Checkpointer } from '../catalogue/checkpointer.js';
import { defaultModelsDir } from '../paths.js';
import { MediaResolver, type MediaResponse } from './media.js';
import { ModelManager, previewModelFolder } from './model-manager.js';
import { ModelFolderError } from '../model/model-folder.js';
import { SearchEngine } from '../search/search-engine.js';
import { IndexingController, type LaunchIndexer } from './indexing-controller.js';
import { trashPhotos } from '../duplicates/duplicates.js';
import { undoTrashEdit } from '../duplicates/trash-undo.js';
import type { MergeChoice } from '../catalogue/catalogue.js';
import { vectorIndexDir } from '../search/vector-store.js';
import type { ProviderChoice, ProviderSetting } from '../../../shared/types.js';
import { providerSetting, setProviderSetting } from '../embed/provider-setting.js';
import { platformProviders } from '../model/execution-providers.js';
import { DuplicateScanner } from './duplicate-scanner.js';
import { FolderWatcher, type FolderWatcherOptions } from './folder-watcher.js';
import { CatalogueChangePoller } from './catalogue-changes.js';

export interface LibraryServiceOptions {
  libraryDir: string;
  modelsDir?: string;
  /** How to start the background indexer process (default: child_process.fork under this Node). */
  launchIndexer?: LaunchIndexer;
  /** How to open a native folder picker, where there is one. */
  pickFolder?: () => Promise<string | null>;
  /** How to move a file to the system trash (Electron: shell.trashItem). */
  moveToTrash?: (file: string) => Promise<void>;
  /**
   * Rescan the library folders now and watch them while the service runs: changes are scanned and indexed
   * (with a model) once the folders have been quiet for watchQuietMs (default 2 s). The app and `serve` watch.
   */
  watch?: boolean;
  watchQuietMs?: number;
  /** Watching: how folders past the system's watch limit are checked (FolderWatcher's fallbackIntervalMs, watchFn). */
  watchFallback?: Pick<FolderWatcherOptions, 'fallbackIntervalMs' | 'watchFn'>;
  /** Who this process is in the writer lock's owner note ("photo-search serve"), quoted by a refused writer. */
  lockOwner?: string;
  /** How often other processes' commits are looked for (default CATALOGUE_POLL_MS); 0: never. */
  catalogueChangeMs?: number;
}

export class LibraryService implements PhotoSearchApi {
  private readonly events = new EventEmitter();
  private readonly media: MediaResolver;
  private readonly models: ModelManager;
  private readonly search_: SearchEngine;
  private readonly indexing: IndexingController;
  private readonly duplicates: DuplicateScanner;
  private watcher: FolderWatcher | null = null;
  /** Folders whose files no scan in this process has covered yet (added, or not rescanned since the start). */
  private readonly unscanned = new Set<number>();
  /** Changed paths the watcher handed on that no scan has covered yet. */
  private changesWaiting = 0;

  private constructor(readonly library: Library, private readonly options: LibraryServiceOptions) {
    this.media = new MediaResolver(library);
    const modelsDir = options.modelsDir ?? defaultModelsDir();
    this.models = new ModelManager(library, modelsDir, (status) => this.emit({ type: 'model', status }));
    this.search_ = new SearchEngine(library, () => this.models.searchFolder(), { modelsDir });
    this.indexing = new IndexingController(library, {
      launch: options.launchIndexer,
      lockOwner: options.lockOwner,
      modelDir: () => this.models.readyFolder()?.dir ?? null,
      onProgress: (progress) => this.emit({ type: 'indexing', progress }),
      // New vectors mid-run: the cheap catch-up (the full reconcile runs once, when the run finishes).
      onBatchStored: () => void this.search_.catchUp().catch(() => undefined),
      onScanStarted: () => {
        this.changesWaiting = 0;
      },
      onScanned: (folderIds) => {
        for (const id of folderIds) this.unscanned.delete(id);
      },
      onFinished: () => {
        this.search_.markStale();
        this.emit({ type: 'library-changed' });
        this.duplicates.checkNewPhotos();
      },
    });
    this.duplicates = new DuplicateScanner(library, {
      indexDir: (modelId) => vectorIndexDir(library, modelId),
      onStatus: (scan) => this.emit({ type: 'duplicates', scan }),
    });
  }

  private warming: Promise<void> = Promise.resolve();

  private checkpointer: Checkpointer | null = null;

  static async open(options: LibraryServiceOptions): Promise<LibraryService> {
    const service = new LibraryService(Library.open(options.libraryDir), options);
    // This process answers the UI: its commits never stop to copy the WAL into the database (a worker does).
    service.library.catalogue.db.pragma('wal_autocheckpoint = 0');
    service.checkpointer = startCheckpointer(service.library.paths.catalogue);
    await service.models.refresh();
    // Reconcile and load the vector index and the text tower now, off the event loop, so the first
    // query answers at once; a failure here surfaces again, with its message, on the first search.
    service.warming = service.search_.warmUp().catch(() => undefined);
    if (options.watch) service.startWatching();
    if (options.catalogueChangeMs !== 0) {
      service.catalogueChanges = new CatalogueChangePoller(
        service.library.catalogue.db, () => service.otherProcessCommitted(), options.catalogueChangeMs, () => service.otherProcessPaused(),
      ).start();
    }
    return service;
  }

  private catalogueChanges: CatalogueChangePoller | null = null;

  /**
   * Another process committed (a CLI `index`, this service's own indexer child): the loaded vector index takes
   * in the new vectors, and the window refreshes its counts and browsing (not a ranked search, which is not
   * reshuffled under the user while photos stream in). During this service's own run its progress events do that.
   */
  private otherProcessCommitted(): void {
    this.followFoldersAndModel();
    void this.search_.catchUp().catch(() => undefined);
    if (!this.ownRunWrites()) this.emit({ type: 'library-changed', writing: true });
  }

  /** The other process paused or ended: everything refreshes once, ranked searches included. */
  private otherProcessPaused(): void {
    if (!this.ownRunWrites()) this.emit({ type: 'library-changed' });
  }

  /** Folders last handed to the watcher, and the last model another process chose that this one loaded. */
  private watchedFolders = '';
  private modelFollowed: string | null = null;

  /** Takes up folders and a model another process chose (`photo-search index DIR --model M`). */
  private followFoldersAndModel(): void {
    if (this.watcher) {
      const folders = this.folderPaths();
      if (folders !== this.watchedFolders) this.syncWatcher(folders);
    }
    const current = this.library.currentModel;
    if (current && current.id !== this.models.readyFolder()?.modelId && current.id !== this.modelFollowed) {
      this.modelFollowed = current.id; // tried once: a folder this process cannot load is not retried every poll
      void this.models.refresh().then(() => this.search_.markStale(), () => undefined);
    }
  }

  private folderPaths(): string {
    return this.library.catalogue.listFolders().map((f) => f.path).join('\n');
  }

  /**
   * Has the watcher crawl the library folders again, noting them as watched: a later commit by another process
   * then re-crawls only if the folders differ from these (not again for this process's own add or remove).
   */
  private syncWatcher(folders?: string): void {
    if (!this.watcher) return;
    this.watchedFolders = folders ?? this.folderPaths();
    void this.watcher.sync();
  }

  private ownRunWrites(): boolean {
    return this.indexing.isRunning && this.indexing.progress.state !== 'waiting';
  }

  /** Rescans every folder now (indexing what is new with a model) and watches them from now on. */
  private startWatching(): void {
    for (const folder of this.library.catalogue.listFolders()) this.unscanned.add(folder.id);
    this.watcher = new FolderWatcher({
      folders: () => this.library.catalogue.listFolders().map((f) => f.path),
      quietMs: this.options.watchQuietMs,
      ...this.options.watchFallback,
      onChanges: (paths) => {
        this.changesWaiting += paths.size;
        // Only the library folders the changes lie in are rescanned (every folder if none is known).
        const byPath = new Map(this.library.catalogue.listFolders().map((f) => [f.path, f.id]));
        const touched = new Set<number>();
        for (const changed of paths) {
          // Every library folder the path lies in (folders may nest), found by walking up its parents.
          for (let dir = changed; ; dir = path.dirname(dir)) {
            const id = byPath.get(dir);
            if (id !== undefined) touched.add(id);
            if (path.dirname(dir) === dir) break;
          }
        }
        this.indexing.request(touched.size > 0 ? [...touched] : undefined);
      },
    });
    this.syncWatcher();
    if (this.unscanned.size > 0) this.indexing.request();
  }

  onEvent(listener: (event: ApiEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  private emit(event: ApiEvent): void {
    this.events.emit('event', event);
  }

  resolveMedia(kind: MediaKind, photoId: PhotoId): Promise<MediaResponse | null> {
    return this.media.resolve(kind, photoId);
  }

  private closing: Promise<void> | null = null;

  /** Stops every background job and closes the library; later calls return the same promise. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    await this.warming;
    this.catalogueChanges?.stop();
    this.watcher?.close();
    await this.indexing.stop();
    await this.duplicates.close();
    await this.search_.close();
    this.models.cancelDownload();
    await this.checkpointer?.stop();
    this.library.close();
  }

  // ---------- library ----------

  async getStatus(): Promise<LibraryStatus> {
    const modelId = this.library.currentModel?.id ?? null;
    const earlier = this.library.earlierSearchModel;
    const searching = earlier ? { searchModelId: earlier.id, searchEmbedded: earlier.embedded } : {};
    return {
      ...this.library.catalogue.statusCounts(modelId), modelId, ...searching, folders: this.library.catalogue.listFolders(),
      ...this.waitingWork(), watchFallback: this.watcher?.fallback ?? null,
    };
  }

  /** Work the catalogue's counts do not show yet: folders to scan, changes seen on disk, a run to follow. */
  private waitingWork(): { foldersNotScanned: number; changesWaiting: number; runQueued: boolean } {
    return {
      foldersNotScanned: this.unscanned.size,
      changesWaiting: this.changesWaiting + (this.watcher?.waiting ?? 0),
      runQueued: this.indexing.isQueued,
    };
  }

  async listFolders(): Promise<LibraryFolder[]> {
    return this.library.catalogue.listFolders();
  }

  async addFolder(folderPath: string): Promise<LibraryFolder> {
    // Bad input from the user (a typo in a path) is a 400 in web mode, not a server fault.
    if (!path.isAbsolute(folderPath)) throw new ApiInputError(`not an absolute path: ${folderPath}`);
    const info = await stat(folderPath).catch(() => null);
    if (!info?.isDirectory()) throw new ApiInputError(`not a folder: ${folderPath}`);
    const folder = this.library.catalogue.addFolder(await realpath(folderPath), path.sep);
    this.unscanned.add(folder.id);
    // A folder added while a run goes on is scanned and indexed right after it; a watched library scans it now.
    if (this.indexing.isRunning || this.watcher) this.indexing.request([folder.id]);
    this.syncWatcher();
    this.emit({ type: 'library-changed' });
    return folder;
  }

  async removeFolder(folderId: number): Promise<void> {
    this.library.catalogue.removeFolder(folderId);
    this.unscanned.delete(folderId);
    this.syncWatcher();
    this.search_.markStale();
    this.emit({ type: 'library-changed' });
  }

  async pickFolder(): Promise<string | null> {
    return this.options.pickFolder ? this.options.pickFolder() : null;
  }

  // ---------- search ----------

  search(request: SearchRequest): Promise<SearchResponse> {
    return this.search_.search(request);
  }

  findSimilar(request: SimilarRequest): Promise<SearchResponse> {
    return this.search_.similar(request);
  }

  async getTimeline(filters: SearchFilters): Promise<TimelineMonth[]> {
    return this.library.catalogue.timeline(filters);
  }

  async getPhoto(photoId: PhotoId): Promise<PhotoDetail> {
    const photo = this.library.catalogue.getPhoto(photoId);
    if (!photo) throw new ApiInputError(`no photo with id ${photoId}`);
    return photo;
  }

  // ---------- ratings and tags ----------

  // Each edit records what it replaces in the catalogue's undo history, in the same transaction.

  // An edit can change which photos pass a rating or tag filter, and which a query word names by tag: the
  // next search ranks afresh (the vectors did not change).

  async setRating(photoIds: PhotoId[], rating: number, partOf?: EditId | null): Promise<EditResult> {
    this.search_.forgetRanking();
    return this.library.catalogue.setRating(photoIds, rating, partOf);
  }

  async addTags(photoIds: PhotoId[], tags: string[], partOf?: EditId | null): Promise<EditResult> {
    this.search_.forgetRanking();
    return this.library.catalogue.addTags(photoIds, tags, partOf);
  }

  async removeTags(photoIds: PhotoId[], tags: string[], partOf?: EditId | null): Promise<EditResult> {
    this.search_.forgetRanking();
    return this.library.catalogue.removeTags(photoIds, tags, partOf);
  }

  async listTags(prefix: string): Promise<TagCount[]> {
    return this.library.catalogue.listTags(prefix);
  }

  async listEdits(): Promise<EditRecord[]> {
    return this.library.catalogue.listEdits();
  }

  async undoEdit(editId: EditId): Promise<UndoResult> {
    const trashEdit = this.library.catalogue.listEdits().some((e) => e.id === editId && e.kind === 'trash');
    let result: UndoResult;
    if (trashEdit) {
      const undone = await undoTrashEdit(this.library, editId);
      result = undone.result;
      this.search_.markStale(); // photos back in the library: their vectors rejoin the index
      await this.duplicates.rejoin(undone.groups);
    } else result = this.library.catalogue.undoEdit(editId);
    this.search_.forgetRanking();
    this.emit({ type: 'library-changed' });
    return result;
  }

  async undoLast(): Promise<UndoResult | null> {
    const newest = this.library.catalogue.listEdits()[0];
    return newest ? this.undoEdit(newest.id) : null;
  }

  // ---------- indexing ----------

  startIndexing(): Promise<void> {
    return this.indexing.start();
  }

  async pauseIndexing(): Promise<void> {
    this.indexing.pause();
  }

  async resumeIndexing(): Promise<void> {
    this.indexing.resume();
  }

  async cancelIndexing(): Promise<void> {
    this.indexing.cancel();
  }

  async getIndexingProgress(): Promise<IndexingProgress> {
    const modelId = this.library.currentModel?.id ?? null;
    return { ...this.indexing.progress, pendingPhotos: this.library.catalogue.statusCounts(modelId).pending, ...this.waitingWork() };
  }

  async getExecutionProvider(): Promise<ProviderSetting> {
    return { choice: providerSetting(this.library.catalogue), candidates: platformProviders() };
  }

  async setExecutionProvider(choice: ProviderChoice): Promise<ProviderSetting> {
    setProviderSetting(this.library.catalogue, choice);
    return this.getExecutionProvider();
  }

  async listFailed(limit: number): Promise<FailedPhoto[]> {
    return this.library.catalogue.listFailed(limit);
  }

  // ---------- models ----------

  async getModelStatus(): Promise<ModelStatus> {
    return this.models.status;
  }

  async downloadModel(modelId: string | null): Promise<void> {
    // Runs in the background; progress and the outcome arrive as 'model' events.
    // Done: the window runs its query again (a Hebrew query waiting for the multilingual text tower now finds).
    void this.models.download(modelId).then(() => {
      this.search_.markStale();
      this.emit({ type: 'library-changed' });
    }, () => undefined);
  }

  async previewModelFolder(dir: string): Promise<ModelSwitchPreview> {
    try {
      return await previewModelFolder(this.library, dir);
    } catch (error) {
      // A folder that is not a model is the user's input to fix, not a fault of the library.
      if (error instanceof ModelFolderError) throw new ApiInputError(error.message);
      throw error;
    }
  }

  async useModelFolder(dir: string): Promise<ModelStatus> {
    const status = await this.models.useFolder(dir);
    this.search_.markStale();
    // The counts change with the model (photos to embed, the model search reads): every window shows them.
    this.emit({ type: 'library-changed' });
    return status;
  }

  // ---------- duplicates ----------

  getDuplicates(offset: number, limit: number): Promise<DuplicatesPage> {
    return this.duplicates.page(offset, limit);
  }

  async startDuplicateScan(): Promise<DuplicateScanStatus> {
    // With photos not yet checked, check just those; with none, the user asks for a fresh full scan.
    return this.duplicates.start({ full: this.duplicates.status().unchecked === 0 });
  }

  async cancelDuplicateScan(): Promise<DuplicateScanStatus> {
    return this.duplicates.cancel();
  }

  async resolveDuplicates(choices: DuplicateChoice[]): Promise<TrashResult> {
    // Validate every choice before changing anything: one copy of each group always stays.
    const kept = new Set(choices.map((c) => c.keepId));
    for (const { keepId, trashIds } of choices) {
      if (trashIds.includes(keepId)) throw new ApiInputError(`photo ${keepId} is the copy to keep and cannot also be trashed`);
      const crossed = trashIds.find((id) => kept.has(id));
      if (crossed !== undefined) throw new ApiInputError(`photo ${crossed} is kept in another group and cannot be trashed`);
      const keep = this.library.catalogue.getPhoto(keepId);
      if (!keep || keep.status === 'missing') throw new ApiInputError(`the copy to keep (photo ${keepId}) is no longer in the library`);
    }
    // One edit: the kept copies take the others' tags and rating as the others go to the trash; undone together.
    const merges = choices.map((c) => ({ keepId: c.keepId, fromIds: c.trashIds }));
    return this.trash(choices.flatMap((c) => c.trashIds), merges);
  }

  async dismissDuplicates(photoIds: PhotoId[]): Promise<void> {
    this.duplicates.dismiss(photoIds);
  }

  async trashPhotos(photoIds: PhotoId[]): Promise<TrashResult> {
    return this.trash(photoIds, []);
  }

  private async trash(photoIds: PhotoId[], merges: MergeChoice[]): Promise<TrashResult> {
    const checked: PhotoId[] = [];
    for (const id of photoIds) if (await this.media.safePath(id)) checked.push(id);
    const accepted = new Set(checked);
    const result = await trashPhotos(this.library, checked, { moveToTrash: this.options.moveToTrash, merges });
    const refused = photoIds.filter((id) => !accepted.has(id)).map((id) => ({ id, error: 'not a catalogued photo inside a library folder' }));
    this.duplicates.forget(result.trashed);
    this.search_.markStale();
    this.search_.forgetRanking();
    this.emit({ type: 'library-changed' });
    return { ...result, failed: [...result.failed, ...refused] };
  }
}
