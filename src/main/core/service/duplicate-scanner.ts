// The duplicate scan as the UI sees it: started in the background (a child process, see
// duplicates/scan-process.ts), reported as it goes, cancellable, and kept in the library folder so the
// view opens at once afterwards. Photos embedded after a scan are checked by an incremental scan (after
// indexing finishes, or when the user asks), and the kept groups are pruned as photos leave the library.
import { fileURLToPath } from 'node:url';
import type { DuplicateScanStatus, DuplicatesPage, PhotoId } from '../../../shared/types.js';
import type { Library } from '../library.js';
import { describeSet, summariseSet, type DuplicateSet } from '../duplicates/duplicates.js';
import { mergeSets, readKeptScan, writeKeptScan, type KeptScan } from '../duplicates/scan-store.js';
import type { ScanArgs, ScanProgress, ScanResult } from '../duplicates/scan-process.js';
import { JobCancelledError, startChildJob, type ChildJob } from '../jobs/child-job.js';

/** New photos that start an incremental duplicate scan on their own after indexing. */
const AUTO_CHECK_MIN_PHOTOS = 200;

const SCAN_ENTRY = fileURLToPath(new URL('../duplicates/scan-process.js', import.meta.url));

export interface DuplicateScannerOptions {
  /** The saved vector index folder of a model (the scan reads it instead of training its own). */
  indexDir(modelId: string): string;
  onStatus(status: DuplicateScanStatus): void;
  /** Another entry module (tests: a scan that fails or never ends). */
  entry?: string;
}

export class DuplicateScanner {
  private kept: KeptScan | null | undefined;
  private running: { job: ChildJob<ScanResult>; incremental: boolean; progress: ScanProgress | null } | null = null;
  private last: { state: 'cancelled' | 'failed'; error: string | null } | null = null;

  constructor(private readonly library: Library, private readonly options: DuplicateScannerOptions) {}

  private keptScan(): KeptScan | null {
    if (this.kept === undefined) this.kept = readKeptScan(this.library.paths.duplicates);
    return this.kept;
  }

  status(): DuplicateScanStatus {
    const kept = this.keptScan();
    const modelId = this.library.searchModel?.id ?? null;
    const covered = kept && kept.modelId === modelId ? kept.throughEmbeddingId : 0;
    const unchecked = kept && modelId ? this.library.catalogue.countEmbeddingsAfter(modelId, covered) : 0;
    const removable = kept?.sets.reduce((n, s) => n + s.ids.length - 1, 0) ?? 0;
    const progress = this.running?.progress;
    return {
      state: this.running ? 'running' : this.last?.state ?? (kept ? 'done' : 'never'),
      incremental: this.running?.incremental ?? false,
      stage: progress?.stage ?? null,
      done: progress?.done ?? 0,
      total: progress?.total ?? 0,
      finishedAt: kept?.finishedAt ?? null,
      error: this.running ? null : this.last?.error ?? null,
      groups: kept?.sets.length ?? 0,
      removable,
      unchecked,
    };
  }

  /**
   * Starts a scan unless one runs. With kept results for the current model, only photos embedded since
   * are checked (unless `full`); otherwise the whole library.
   */
  start(options: { full?: boolean } = {}): DuplicateScanStatus {
    if (this.running) return this.status();
    const modelId = this.library.searchModel?.id ?? null;
    const kept = this.keptScan();
    const incremental = !options.full && kept !== null && modelId !== null && kept.modelId === modelId && kept.throughEmbeddingId > 0;
    const args: ScanArgs = {
      libraryDir: this.library.paths.dir,
      modelId,
      indexDir: modelId ? this.options.indexDir(modelId) : null,
      afterEmbeddingId: incremental ? kept!.throughEmbeddingId : 0,
    };
    const job = startChildJob<ScanArgs, ScanProgress, ScanResult>(this.options.entry ?? SCAN_ENTRY, args, (progress) => {
      if (this.running?.job !== job) return;
      this.running.progress = progress;
      this.options.onStatus(this.status());
    });
    this.running = { job, incremental, progress: null };
    this.last = null;
    void job.result.then(
      (result) => this.finish(job, result, incremental, modelId),
      (error: Error) => {
        if (this.running?.job !== job) return;
        this.running = null;
        this.last = error instanceof JobCancelledError ? { state: 'cancelled', error: null } : { state: 'failed', error: error.message };
        this.options.onStatus(this.status());
      },
    );
    const status = this.status();
    this.options.onStatus(status);
    return status;
  }

  /**
   * After indexing: checks the new photos when there are kept results to keep current and enough new photos
   * to be worth a scan (it loads the whole vector index); fewer wait for the view's "Check new photos".
   */
  checkNewPhotos(): void {
    const status = this.status();
    if (status.state !== 'running' && this.keptScan() && status.unchecked >= AUTO_CHECK_MIN_PHOTOS) this.start();
  }

  cancel(): DuplicateScanStatus {
    this.running?.job.cancel();
    return this.status();
  }

  private async finish(job: ChildJob<ScanResult>, result: ScanResult, incremental: boolean, modelId: string | null): Promise<void> {
    try {
      const kept = this.keptScan();
      const sets = incremental && kept ? await mergeSets(this.library, modelId, kept.sets, result.sets) : result.sets;
      const through = Math.max(result.stats.throughEmbeddingId, incremental ? kept?.throughEmbeddingId ?? 0 : 0);
      this.kept = { modelId, throughEmbeddingId: through, finishedAt: Date.now(), stats: result.stats, sets };
      writeKeptScan(this.library.paths.duplicates, this.kept);
    } catch (error) {
      this.last = { state: 'failed', error: `keeping the duplicate scan's results: ${(error as Error).message}` };
    } finally {
      if (this.running?.job === job) this.running = null;
      this.options.onStatus(this.status());
    }
  }

  /**
   * A page of kept groups as the UI shows them. Groups whose photos left the library (fewer than two
   * remain) are dropped from the kept results as they are met.
   */
  async page(offset: number, limit: number): Promise<DuplicatesPage> {
    const kept = this.keptScan();
    const groups: DuplicatesPage['groups'] = [];
    let dropped = 0;
    if (kept) {
      for (let at = offset; at < kept.sets.length && groups.length < limit;) {
        const group = await describeSet(this.library, kept.sets[at]);
        if (group) {
          groups.push(group);
          at++;
        } else {
          kept.sets.splice(at, 1);
          dropped++;
        }
      }
      if (dropped) writeKeptScan(this.library.paths.duplicates, kept);
    }
    return { scan: this.status(), total: kept?.sets.length ?? 0, offset, groups };
  }

  /** Photos that left the library (trashed, removed): their sets shrink, and vanish under two members. */
  forget(photoIds: PhotoId[]): void {
    const kept = this.keptScan();
    if (!kept || photoIds.length === 0) return;
    const gone = new Set(photoIds);
    let changed = false;
    const sets: DuplicateSet[] = [];
    for (const set of kept.sets) {
      const ids = set.ids.filter((id) => !gone.has(id));
      if (ids.length !== set.ids.length) changed = true;
      if (ids.length >= 2) sets.push(ids.length === set.ids.length ? set : { ...set, ids });
    }
    if (!changed) return;
    kept.sets = sets;
    writeKeptScan(this.library.paths.duplicates, kept);
    this.options.onStatus(this.status());
  }

  /** Copies back from the trash (a resolution undone): each group, kept copy first, rejoins the kept results. */
  async rejoin(groups: PhotoId[][]): Promise<void> {
    const kept = this.keptScan();
    if (!kept || groups.length === 0) return;
    const found: DuplicateSet[] = [];
    for (const ids of groups) {
      const set = await summariseSet(this.library, [...ids].sort((a, b) => a - b), kept.modelId);
      if (set) found.push(set);
    }
    kept.sets = await mergeSets(this.library, kept.modelId, kept.sets, found);
    writeKeptScan(this.library.paths.duplicates, kept);
    this.options.onStatus(this.status());
  }

  /** The user says these photos are not duplicates: remembered in the catalogue, and their set leaves the results. */
  dismiss(photoIds: PhotoId[]): void {
    this.library.catalogue.dismissDuplicatePairs(photoIds);
    const kept = this.keptScan();
    if (!kept) return;
    const dismissed = new Set(photoIds);
    const before = kept.sets.length;
    kept.sets = kept.sets.filter((set) => set.ids.filter((id) => dismissed.has(id)).length < 2);
    if (kept.sets.length !== before) {
      writeKeptScan(this.library.paths.duplicates, kept);
      this.options.onStatus(this.status());
    }
  }

  async close(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.job.cancel();
    await running.job.result.catch(() => undefined);
  }
}
