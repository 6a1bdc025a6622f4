// One indexing run at a time for the app: rescan the library folders, then embed what is missing in a
// background process (never in the UI's process), relaying progress and catching the search index up
// as batches land. Each run holds the library's writer lock from its scan to its end; while another process
// (a `photo-search index`) holds it, the run waits in state 'waiting', naming the holder, and starts once the
// lock is free: the photos that process embedded are then found embedded, not done again.
import type { IndexingProgress } from '../../../shared/types.js';
import type { Library } from '../library.js';
import { scanLibrary } from '../scanner/scanner.js';
import { IndexerClient, type IndexerLauncher } from '../embed/indexer-client.js';
import { describeOwner, waitForWriterLock, type WriterLock } from '../writer-lock.js';

export type LaunchIndexer = IndexerLauncher;

export interface IndexingControllerOptions {
  launch?: LaunchIndexer;
  modelDir: () => string | null;
  onProgress: (progress: IndexingProgress) => void;
  /** New vectors were stored (throttled): searches should catch up. */
  onBatchStored: () => void;
  onFinished: () => void;
  /** A run's scan starts: changes noted before now are covered by it. */
  onScanStarted?: () => void;
  /** A run's scan has covered these folders (scanned, or found unreachable). */
  onScanned?: (folderIds: number[]) => void;
  /** Who this process is, in the writer lock's owner note that another process's refusal quotes. */
  lockOwner?: string;
  /** How often a run waiting for another process's writer lock tries again (default LOCK_RETRY_MS). */
  lockRetryMs?: number;
}

const IDLE: IndexingProgress = { state: 'idle', done: 0, total: 0, failed: 0, photosPerSecond: 0, etaSeconds: null };
const CATCH_UP_EVERY_MS = 5000;

export class IndexingController {
  progress: IndexingProgress = IDLE;
  private client: IndexerClient | null = null;
  private running: Promise<void> | null = null;
  private cancelled = false;
  /** Another run is wanted once this one ends (a folder added, files changed during the run). */
  private queued = false;
  /** The folders the requested run scans: null for every folder, undefined while none is requested. */
  private nextScope: Set<number> | null | undefined = undefined;
  private stopped = false;
  /** Ends the wait for the writer lock (cancel, stop). */
  private lockWait: AbortController | null = null;

  constructor(
    private readonly library: Library,
    private readonly options: IndexingControllerOptions,
  ) {}

  /** Starts a run in the background; resolves once it has started (progress arrives as events). */
  async start(): Promise<void> {
    if (this.running) return;
    const modelDir = this.options.modelDir();
    const modelId = this.library.currentModel?.id;
    if (!modelDir || !modelId) throw new Error('no CLIP model is set up yet: download one or choose a model folder first');
    this.launch(() => this.run(modelDir, modelId));
  }

  /** Whether a run is in progress. */
  get isRunning(): boolean {
    return this.running !== null;
  }

  /** Whether another run will follow the current one. */
  get isQueued(): boolean {
    return this.queued;
  }

  /**
   * Asks for a run (rescan, then embed what is missing): now if none is running, else right after the
   * current one. Without a model the folders are only rescanned, so the status counts stay true.
   */
  request(folderIds?: number[]): void {
    if (this.stopped) return;
    // A queued run scans the union of what was asked for meanwhile (every folder if any request said so).
    if (!folderIds) this.nextScope = null;
    else if (this.nextScope !== null) this.nextScope = new Set([...(this.nextScope ?? []), ...folderIds]);
    if (this.running) {
      this.queued = true;
      return;
    }
    const modelDir = this.options.modelDir();
    const modelId = this.library.currentModel?.id;
    this.launch(() => (modelDir && modelId ? this.run(modelDir, modelId) : this.scanOnly()), this.nextScope ?? null);
  }

  private scope: ReadonlySet<number> | null = null;

  private launch(body: () => Promise<void>, scope: ReadonlySet<number> | null = null): void {
    this.cancelled = false;
    this.queued = false;
    this.scope = scope;
    this.nextScope = undefined;
    this.running = body().finally(() => {
      this.running = null;
      this.client = null;
      if (this.queued && !this.stopped) this.request();
    });
  }

  private async scan() {
    this.options.onScanStarted?.();
    const scan = await scanLibrary(this.library.catalogue, this.scope ? { folderIds: this.scope } : {});
    this.options.onScanned?.([...scan.folders.map((f) => f.folderId), ...scan.errors.map((e) => e.folderId)]);
    return scan;
  }

  /** The library's writer lock, once no other process holds it; null when the run was cancelled meanwhile. */
  private async takeLock(): Promise<WriterLock | null> {
    const wait = new AbortController();
    this.lockWait = wait;
    try {
      return await waitForWriterLock(this.library.paths.dir, this.options.lockOwner ?? 'Photo Search', {
        signal: wait.signal,
        retryMs: this.options.lockRetryMs,
        onBusy: (busy) => {
          const holder = describeOwner(busy.owner);
          if (this.progress.state === 'waiting' && this.progress.waitingFor === holder) return;
          this.set({ ...IDLE, state: 'waiting', waitingFor: holder, message: `Waiting for ${holder} to finish writing this library` });
        },
      });
    } catch (error) {
      if (wait.signal.aborted) return null;
      throw error;
    } finally {
      this.lockWait = null;
      // The wait is over (a scan without a model sets no state of its own afterwards).
      if (this.progress.state === 'waiting') this.set(IDLE);
    }
  }

  private async scanOnly(): Promise<void> {
    let lock: WriterLock | null = null;
    try {
      lock = await this.takeLock();
      if (lock) await this.scan();
    } catch {
      // The next request scans again.
    } finally {
      lock?.release();
      this.options.onFinished();
    }
  }

  private async run(modelDir: string, modelId: string): Promise<void> {
    let lock: WriterLock | null = null;
    try {
      lock = await this.takeLock();
      if (!lock) return this.set({ ...IDLE, state: 'cancelled' });
      this.set({ ...IDLE, state: 'scanning', message: 'Looking for new and changed photos' });
      const scan = await this.scan();
      if (this.cancelled) return this.set({ ...IDLE, state: 'cancelled' });
      const skipped = describeSkipped(scan.folders.map((f) => f.unsupported));
      this.client = new IndexerClient({ launcher: this.options.launch });
      let lastCatchUp = Date.now();
      this.client.on('progress', (progress) => {
        // The run's end is announced once, below, with its summary: a second 'done' would end waits too early.
        if (['done', 'cancelled', 'error'].includes(progress.state)) return;
        this.set(skipped && !progress.message ? { ...progress, message: skipped } : progress);
        if (Date.now() - lastCatchUp > CATCH_UP_EVERY_MS) {
          lastCatchUp = Date.now();
          this.options.onBatchStored();
        }
      });
      const summary = await this.client.start({ libraryDir: this.library.paths.dir, modelDir, modelId, parentHoldsLock: true });
      this.set({
        state: summary.state, done: summary.done, total: summary.total, failed: summary.failed,
        photosPerSecond: summary.photosPerSecond, etaSeconds: 0,
        message: [summary.state === 'done' ? `Embedded ${summary.embedded} photos` : '', skipped].filter(Boolean).join('; ') || undefined,
        ...(summary.runtime ? { runtime: summary.runtime } : {}),
      });
    } catch (error) {
      this.set({ ...this.progress, state: 'error', message: (error as Error).message });
    } finally {
      lock?.release();
      this.options.onFinished();
    }
  }

  pause(): void {
    this.client?.pause();
  }

  resume(): void {
    this.client?.resume();
  }

  cancel(): void {
    this.cancelled = true;
    this.queued = false;
    this.nextScope = undefined;
    this.lockWait?.abort();
    this.client?.cancel();
  }

  /** Stops any run (used when the app quits); stored batches stay, the next run resumes after them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queued = false;
    this.cancelled = true;
    this.lockWait?.abort();
    await this.client?.stop();
    await this.running;
  }

  private set(progress: IndexingProgress): void {
    this.progress = progress;
    this.options.onProgress(progress);
  }
}

/** "Not supported, skipped: 3 .cr2, 1 .mp4" for the files of unsupported types a scan saw, or ''. */
export function describeSkipped(byFolder: Record<string, number>[]): string {
  const totals = new Map<string, number>();
  for (const counts of byFolder) for (const [ext, n] of Object.entries(counts)) totals.set(ext, (totals.get(ext) ?? 0) + n);
  if (totals.size === 0) return '';
  const parts = [...totals].sort((a, b) => b[1] - a[1]).map(([ext, n]) => `${n} .${ext}`);
  return `Not supported, skipped: ${parts.join(', ')}`;
}
