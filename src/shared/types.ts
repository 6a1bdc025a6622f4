// Domain types shared by every layer. Plain data only: everything here crosses IPC / HTTP as JSON.

export type PhotoId = number;

/** Lifecycle of a catalogued photo. */
export type PhotoStatus = 'pending' | 'ok' | 'error' | 'unsupported' | 'missing';

export interface PhotoSummary {
  id: PhotoId;
  path: string;
  width: number | null;
  height: number | null;
  takenAt: number | null; // ms since epoch, from EXIF when known
  rating: number; // 0..5
  tags: string[];
  status: PhotoStatus;
  /** Similarity to the query (cosine, higher is better), present for text and similar searches. */
  score?: number;
  /** Text searches: the fields a query word matched (file or folder name, tag, camera, date). */
  matched?: MatchedField[];
  /** In result pages: the date taken, else the file's time (ms), which browsing and sort by date order by. */
  date?: number;
}

/** Where a query word was found besides the picture itself (hybrid ranking). */
export type MatchedField = 'name' | 'tag' | 'camera' | 'date';

/** Order of text and similar results: best first (default) or newest first. Browsing is always newest first. */
export type ResultSort = 'relevance' | 'date';

/** Which ranked results to page through: the best matches only (default), or every ranked photo. */
export type ResultScope = 'best' | 'all';

export interface PhotoDetail extends PhotoSummary {
  folderId: number | null;
  size: number;
  mtimeMs: number;
  format: string | null;
  contentHash: string | null;
  cameraMake: string | null;
  cameraModel: string | null;
  lens: string | null;
  gpsLat: number | null;
  gpsLon: number | null;
  orientation: number | null;
  lastError: string | null;
}

export interface SearchFilters {
  minRating?: number;
  tags?: string[]; // all must be present
  folderId?: number;
  dateFrom?: number; // ms since epoch, inclusive
  dateTo?: number; // ms since epoch, inclusive
  camera?: string; // substring of "make model"
}

/** How many photos one month of the timeline holds (browse date in UTC; month 1-12). */
export interface TimelineMonth {
  year: number;
  month: number;
  count: number;
}

export interface SearchRequest {
  /** Natural-language query; empty browses the library newest first. */
  query: string;
  filters?: SearchFilters;
  offset?: number;
  limit?: number;
  sort?: ResultSort;
  scope?: ResultScope;
}

export interface SimilarRequest {
  photoId: PhotoId;
  filters?: SearchFilters;
  offset?: number;
  limit?: number;
  sort?: ResultSort;
  /** Default 'all': every ranked neighbour (a text query's default is 'best'). */
  scope?: ResultScope;
}

export interface SearchResponse {
  mode: 'text' | 'browse' | 'similar';
  items: PhotoSummary[];
  /** Number of matching photos available for paging (for text and similar: under the request's scope). */
  total: number;
  /** Text and similar: how many photos are best matches (the relevance cutoff), and how many are ranked in all. */
  best?: number;
  ranked?: number;
  tookMs: number;
  /** Something the user should know about how the query was read (shown above the results). */
  notice?: SearchNotice;
}

/** A model the app can download, offered where it would help. */
export interface ModelOffer {
  modelId: string;
  /** Approximate size of the download. */
  downloadBytes: number;
  languages: string;
  /** False when the photos already embedded stay usable (a text tower for the same vectors). */
  reembed: boolean;
}

/**
 * 'other-text-model': the query was read by another text tower that shares the library's vectors (a Hebrew
 * query read by the multilingual tower). 'cannot-read': no text tower at hand reads the query's script, so
 * nothing was searched; `offer` names one that would.
 */
export interface SearchNotice {
  kind: 'other-text-model' | 'cannot-read';
  message: string;
  /** The query's script, in words ("Hebrew"). */
  script: string;
  /** The text model that read the query ('other-text-model'). */
  textModelId?: string;
  offer?: ModelOffer;
}

export interface LibraryFolder {
  id: number;
  path: string;
  photoCount: number;
}

/** 'waiting': another process (a `photo-search index`) is writing the library; the run starts once it ends. */
export type IndexingState = 'idle' | 'waiting' | 'scanning' | 'embedding' | 'paused' | 'done' | 'cancelled' | 'error';

/** ONNX Runtime execution providers the image tower can run on (onnxruntime-node's names). */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];
/** What the user asks for: 'auto' tries the platform's providers in order, then the CPU. */
export const PROVIDER_CHOICES = ['auto', ...EXECUTION_PROVIDERS] as const;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];

/** The library's provider setting, and the providers 'auto' tries on the library's machine, in order. */
export interface ProviderSetting {
  choice: ProviderChoice;
  candidates: ExecutionProvider[];
}

/** How a run embeds: the provider that runs, why the ones before it were passed over, and the settings used. */
export interface EmbeddingRuntime {
  requested: ProviderChoice;
  provider: ExecutionProvider;
  fallbacks: { provider: ExecutionProvider; reason: string }[];
  threads: number;
  batchSize: number;
  /** Where threads and batch size came from: measured now, remembered from an earlier measurement, flags, or defaults. */
  tuning: 'calibrated' | 'remembered' | 'given' | 'default';
}

export interface IndexingProgress {
  state: IndexingState;
  done: number; // photos handled in this run (embedded or failed)
  total: number; // photos this run set out to handle
  failed: number;
  photosPerSecond: number;
  etaSeconds: number | null;
  message?: string;
  /** Once the image tower runs: its provider and settings. */
  runtime?: EmbeddingRuntime;
  /** The truth behind the run (getIndexingProgress): photos still to embed with the current model… */
  pendingPhotos?: number;
  /** …library folders no scan has covered since they were added (or since the start, when watching)… */
  foldersNotScanned?: number;
  /** …changed paths seen on disk and not yet scanned… */
  changesWaiting?: number;
  /** …and whether another run follows the current one. */
  runQueued?: boolean;
  /** State 'waiting': who holds the library's writer lock ("photo-search index, pid 4242"). */
  waitingFor?: string;
}

export interface FailedPhoto {
  id: PhotoId;
  path: string;
  status: PhotoStatus;
  error: string;
}

export interface DownloadProgress {
  file: string;
  receivedBytes: number;
  totalBytes: number;
}

export interface ModelStatus {
  state: 'missing' | 'downloading' | 'ready' | 'error';
  modelId: string | null;
  dir: string | null;
  progress?: DownloadProgress;
  error?: string;
  /**
   * A text tower for the library's vectors (the multilingual one) being downloaded beside the model, which
   * stays ready (and `state` with it) meanwhile: its progress, or why it failed.
   */
  textModel?: { modelId: string; state: 'downloading' | 'ready' | 'error'; progress?: DownloadProgress; error?: string };
}

/** What choosing a model folder would do, asked before switching (LibraryService.previewModelFolder). */
export interface ModelSwitchPreview {
  /** The id its vectors are (or would be) stored under: an existing one when these weights were used before. */
  modelId: string;
  /** It is the library's current model already. */
  isCurrent: boolean;
  /** Photos to embed with it before search reads its vectors (0: switching costs nothing). */
  photosToEmbed: number;
  /** This machine's measured speed (last indexing run), the estimate's basis; null before any run. */
  photosPerSecond: number | null;
  /** The model of that measurement. */
  speedModelId: string | null;
  estimatedSeconds: number | null;
  /** The model search keeps reading until the new one is complete; null when it would switch at once. */
  searchKeeps: string | null;
}

export interface LibraryStatus {
  photos: number;
  embedded: number;
  pending: number;
  failed: number;
  missing: number;
  modelId: string | null;
  /**
   * The model search reads vectors of, when not modelId: after a switch, the earlier model answers until the
   * current one has embedded every photo (`searchEmbedded` of its vectors are in use meanwhile).
   */
  searchModelId?: string;
  searchEmbedded?: number;
  folders: LibraryFolder[];
  /** Library folders no scan has covered since they were added (or since the start, when watching). */
  foldersNotScanned: number;
  /** Changed files or folders seen on disk and not yet scanned. */
  changesWaiting: number;
  /** Another indexing run follows the current one (a folder was added or files changed during it). */
  runQueued: boolean;
  /** Watching (the app, `serve`): directories the system would not watch, checked by a periodic rescan instead. */
  watchFallback?: WatchFallback | null;
}

/** Directories past the system's watch limit, checked every intervalMs by their modification times. */
export interface WatchFallback {
  dirs: number;
  intervalMs: number;
  /** Why: "the system's watch limit (fs.inotify.max_user_watches = 8192) is reached". */
  reason: string;
}

export interface TagCount {
  name: string;
  count: number;
}

/** An entry in the library's undo history of rating and tag edits. */
export type EditId = number;

/**
 * What an edit did: set a rating ('rating'), added tags ('tag') or removed them ('untag'), or moved photos to
 * the system trash ('trash': trashing, or resolving duplicates, whose kept copies took the others' tags and rating).
 */
export type EditKind = 'rating' | 'tag' | 'untag' | 'trash';

/** One edit in the undo history (the catalogue keeps the last 20, across restarts). */
export interface EditRecord {
  id: EditId;
  kind: EditKind;
  /** The rating a 'rating' edit set (0: cleared); null for tag edits. */
  rating: number | null;
  /** The tags a 'tag' edit added or an 'untag' edit removed (a 'trash' edit: those its kept copies took). */
  tags: string[];
  /** Photos whose rating the edit changed, photo–tag links it added or removed, or photos it trashed. */
  changed: number;
  createdAt: number;
}

/** The answer to a rating or tag edit. */
export interface EditResult {
  /** The history entry that can undo it; null when nothing changed (then there is nothing to undo). */
  editId: EditId | null;
  /** Photos whose rating this call changed, or photo–tag links it added or removed. */
  changed: number;
}

export interface UndoResult {
  edit: EditRecord;
  /** Photos (or photo–tag links) put back as they were before the edit. */
  restored: number;
  /** Left as they are: changed again since, or no longer in the catalogue. */
  skipped: number;
  /** A 'trash' edit: the photos whose files could not be put back, each with why (they stay missing). */
  notRestored?: { id: PhotoId; path: string; error: string }[];
  /** A 'trash' edit where the system's trash cannot be restored from (macOS, Windows): what to do instead. */
  notice?: string;
}

export interface DuplicateGroup {
  kind: 'exact' | 'near';
  photos: PhotoDetail[];
  /** The copy suggested to keep: the largest, then the oldest. */
  keepId: PhotoId;
  /** Lowest pairwise cosine similarity inside the group (1 for exact copies). */
  similarity: number;
}

/** The background duplicate scan: what runs now, and what the kept results cover. */
export interface DuplicateScanStatus {
  state: 'never' | 'running' | 'done' | 'cancelled' | 'failed';
  /** While running: an incremental scan checks only photos embedded since the last one. */
  incremental: boolean;
  stage: 'vectors' | 'hashing' | 'grouping' | null;
  done: number;
  total: number;
  /** When the kept results were computed (null: never). */
  finishedAt: number | null;
  error: string | null;
  /** Groups in the kept results, and the copies they hold beyond one per group. */
  groups: number;
  removable: number;
  /** Photos embedded since the kept results were computed, not yet checked. */
  unchecked: number;
}

export interface DuplicatesPage {
  scan: DuplicateScanStatus;
  /** Groups in the kept results (the page holds at most `limit` of them). */
  total: number;
  offset: number;
  groups: DuplicateGroup[];
}

/** One duplicate group resolved: the copy that stays, and the copies to move to the trash. */
export interface DuplicateChoice {
  keepId: PhotoId;
  trashIds: PhotoId[];
}

export interface TrashResult {
  trashed: PhotoId[];
  /** The undo history entry that puts them back (null: nothing was trashed or merged). */
  editId: EditId | null;
  failed: { id: PhotoId; error: string }[];
}

export type ApiEvent =
  | { type: 'indexing'; progress: IndexingProgress }
  | { type: 'model'; status: ModelStatus }
  /**
   * The library changed. `writing`: another process (a `photo-search index`) is still writing it: refresh counts and
   * browsing, as during this app's own indexing, and leave a ranked search alone until a plain one follows.
   */
  | { type: 'library-changed'; writing?: boolean }
  | { type: 'duplicates'; scan: DuplicateScanStatus }
  /** The desktop app's library process: restarting after it stopped, ready again, or given up on. */
  | { type: 'host'; state: HostState; message: string };

export type HostState = 'starting' | 'ready' | 'restarting' | 'failed';
