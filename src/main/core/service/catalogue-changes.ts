// Long-lived processes (serve, the app's library host) learn of other processes' commits to the catalogue
// (a CLI `index`, their own indexer child) by polling SQLite's `PRAGMA data_version` on their connection: it
// changes when another connection has committed since the last call, and never for this connection's own
// writes. One call is a read transaction that looks at the WAL index header in shared memory and reads no
// table: ~5 µs at 634k photos (docs/BENCHMARKS.md §12), so polling every 1.5 s costs nothing worth counting.
import type Database from 'better-sqlite3';

export const CATALOGUE_POLL_MS = 1500;

export class CatalogueChangePoller {
  private timer: NodeJS.Timeout | null = null;
  private version: number;

  /** Whether the last poll saw a change (the next quiet one calls onQuiet). */
  private changing = false;

  constructor(
    private readonly db: Database.Database,
    private readonly onChange: () => void,
    private readonly intervalMs = CATALOGUE_POLL_MS,
    /** The first poll with nothing new after one or more with changes: the other process has paused or ended. */
    private readonly onQuiet: () => void = () => undefined,
  ) {
    this.version = this.read();
  }

  start(): this {
    this.timer ??= setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Calls onChange when another connection committed since the last poll; returns whether one did. */
  poll(): boolean {
    if (!this.db.open) return false;
    const version = this.read();
    if (version === this.version) {
      if (this.changing) {
        this.changing = false;
        this.onQuiet();
      }
      return false;
    }
    this.version = version;
    this.changing = true;
    this.onChange();
    return true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private read(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }
}
