// The one API contract between the UI and the library (as VS Code's service interfaces and GitHub
// Desktop's shared IPC type file). Electron's preload and web mode's HTTP client both implement
// PhotoSearchClient; the main process and the web server both dispatch to one PhotoSearchApi.
import type {
  DuplicateChoice, DuplicateScanStatus, DuplicatesPage, FailedPhoto, IndexingProgress, LibraryFolder, LibraryStatus, ModelStatus, ModelSwitchPreview, PhotoDetail,
  PhotoId, SearchFilters, SearchRequest, SearchResponse, SimilarRequest, TagCount, TimelineMonth, TrashResult, ApiEvent,
} from './types.js';
import type { EditId, EditRecord, EditResult, UndoResult } from './types.js';
import type { ProviderChoice, ProviderSetting } from './types.js';

export interface PhotoSearchApi {
  getStatus(): Promise<LibraryStatus>;
  listFolders(): Promise<LibraryFolder[]>;
  addFolder(path: string): Promise<LibraryFolder>;
  removeFolder(folderId: number): Promise<void>;
  /** Opens a native folder picker where there is one (Electron); resolves null elsewhere. */
  pickFolder(): Promise<string | null>;

  search(request: SearchRequest): Promise<SearchResponse>;
  findSimilar(request: SimilarRequest): Promise<SearchResponse>;
  getPhoto(photoId: PhotoId): Promise<PhotoDetail>;
  /** Photos per month of browse date passing the filters, newest first (empty months left out): the date scrubber's scale. */
  getTimeline(filters: SearchFilters): Promise<TimelineMonth[]>;

  /**
   * Rating and tag edits each record an entry in the library's undo history. `partOf`: the edit that an
   * earlier chunk of the same selection recorded; this call joins it while it is still the newest edit and
   * the same change, so one undo takes back the whole selection.
   */
  setRating(photoIds: PhotoId[], rating: number, partOf?: EditId | null): Promise<EditResult>;
  addTags(photoIds: PhotoId[], tags: string[], partOf?: EditId | null): Promise<EditResult>;
  removeTags(photoIds: PhotoId[], tags: string[], partOf?: EditId | null): Promise<EditResult>;
  listTags(prefix: string): Promise<TagCount[]>;
  /** The undo history (the last 20 edits, kept across restarts), newest first. */
  listEdits(): Promise<EditRecord[]>;
  /** Puts back what an edit replaced, where nothing changed it again since, and forgets the edit. */
  undoEdit(editId: EditId): Promise<UndoResult>;
  /** Undoes the newest edit (Ctrl+Z); null when the history is empty. */
  undoLast(): Promise<UndoResult | null>;

  startIndexing(): Promise<void>;
  pauseIndexing(): Promise<void>;
  resumeIndexing(): Promise<void>;
  cancelIndexing(): Promise<void>;
  getIndexingProgress(): Promise<IndexingProgress>;
  listFailed(limit: number): Promise<FailedPhoto[]>;
  /** The execution provider indexing asks for (the library's setting), and the ones 'auto' tries here, in order. */
  getExecutionProvider(): Promise<ProviderSetting>;
  /** Stores the choice; the next indexing run uses it. */
  setExecutionProvider(choice: ProviderChoice): Promise<ProviderSetting>;

  getModelStatus(): Promise<ModelStatus>;
  downloadModel(modelId: string | null): Promise<void>;
  /** What switching to a model folder would cost (nothing changes): ask before useModelFolder. */
  previewModelFolder(path: string): Promise<ModelSwitchPreview>;
  useModelFolder(path: string): Promise<ModelStatus>;

  /** Kept duplicate groups (exact copies first), a page at a time, with the scan's state. */
  getDuplicates(offset: number, limit: number): Promise<DuplicatesPage>;
  /** Starts a background scan (progress arrives as 'duplicates' events); resolves at once. */
  startDuplicateScan(): Promise<DuplicateScanStatus>;
  cancelDuplicateScan(): Promise<DuplicateScanStatus>;
  /**
   * Moves the chosen copies to the system trash after giving each kept copy their tags and, if higher,
   * their rating. Refuses (changing nothing) any choice that would leave a group without a copy.
   */
  resolveDuplicates(choices: DuplicateChoice[]): Promise<TrashResult>;
  /** Remembers that these photos are not duplicates of one another. */
  dismissDuplicates(photoIds: PhotoId[]): Promise<void>;
  /** Moves files to the system trash (never deletes) and marks them missing. */
  trashPhotos(photoIds: PhotoId[]): Promise<TrashResult>;
}

export type ApiMethod = keyof PhotoSearchApi;
export type ApiArgs<M extends ApiMethod> = Parameters<PhotoSearchApi[M]>;
export type ApiResult<M extends ApiMethod> = Awaited<ReturnType<PhotoSearchApi[M]>>;

/** Every API method, in one list; `satisfies` makes the compiler flag one added to PhotoSearchApi but missing here. */
export const API_METHODS = Object.keys({
  getStatus: 1, listFolders: 1, addFolder: 1, removeFolder: 1, pickFolder: 1, search: 1, findSimilar: 1, getPhoto: 1, getTimeline: 1,
  setRating: 1, addTags: 1, removeTags: 1, listTags: 1, listEdits: 1, undoEdit: 1, undoLast: 1, startIndexing: 1, pauseIndexing: 1, resumeIndexing: 1,
  cancelIndexing: 1, getIndexingProgress: 1, listFailed: 1, getModelStatus: 1, downloadModel: 1, previewModelFolder: 1, useModelFolder: 1,
  getDuplicates: 1, startDuplicateScan: 1, cancelDuplicateScan: 1, resolveDuplicates: 1, dismissDuplicates: 1, trashPhotos: 1,
  getExecutionProvider: 1, setExecutionProvider: 1,
} satisfies Record<ApiMethod, 1>) as ApiMethod[];

export type MediaKind = 'thumb' | 'full';

/** What the renderer holds: the API plus pushed events and URLs for photo bytes. */
export interface PhotoSearchClient extends PhotoSearchApi {
  onEvent(listener: (event: ApiEvent) => void): () => void;
  mediaUrl(kind: MediaKind, photoId: PhotoId): string;
}

/** Electron IPC channels (one invoke channel carrying the method name, one event channel). */
export const IPC_INVOKE = 'photo-search:invoke';
export const IPC_EVENT = 'photo-search:event';
/** Custom protocol serving catalogued photos in Electron: photo-media://thumb/123 */
export const MEDIA_PROTOCOL = 'photo-media';
/** Name under which the preload exposes the client on window. */
export const BRIDGE_NAME = 'photoSearch';
