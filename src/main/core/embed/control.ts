// Pause / resume / cancel for a running indexing pass. The pipeline checks it between batches, so a
// pause or cancel takes effect once the batch in flight is stored (a batch takes well under a second).

export class IndexingControl {
  private pausedFlag = false;
  private cancelledFlag = false;
  private waiters: (() => void)[] = [];

  get paused(): boolean {
    return this.pausedFlag;
  }

  get cancelled(): boolean {
    return this.cancelledFlag;
  }

  pause(): void {
    if (!this.cancelledFlag) this.pausedFlag = true;
  }

  resume(): void {
    this.pausedFlag = false;
    this.wake();
  }

  cancel(): void {
    this.cancelledFlag = true;
    this.pausedFlag = false;
    this.wake();
  }

  /** Resolves at once unless paused; otherwise when resumed or cancelled. */
  untilRunnable(): Promise<void> {
    if (!this.pausedFlag) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
