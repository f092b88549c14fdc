// Progress of long work (loading a big snapshot, replaying a long txn log, sending or receiving a
// SNAP), logged at INFO every few seconds: how far, how fast, how long still. Work that ends
// before the first interval logs nothing here, so small servers' logs stay as they were.
import type { Logger } from './log';

export type ProgressUnit = 'bytes' | 'txns' | 'znodes';

export interface ProgressOptions {
  unit: ProgressUnit;
  /** how much there is in all, if known (percent and time left need it) */
  total?: number;
  /** ms between two lines (default ZK_PROGRESS_INTERVAL_MS, else 5000) */
  everyMs?: number;
  now?: () => number;
}

/** ms between two progress lines: ZK_PROGRESS_INTERVAL_MS (an operator who wants more or fewer lines, and tests), else 5000 */
export function progressIntervalMs(): number {
  return Number(process.env.ZK_PROGRESS_INTERVAL_MS) || 5000;
}

export class Progress {
  private readonly t0: number;
  private last: number;
  private readonly every: number;
  private readonly now: () => number;
  /** lines logged so far */
  reports = 0;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly o: ProgressOptions,
  ) {
    this.now = o.now ?? Date.now;
    this.t0 = this.last = this.now();
    this.every = o.everyMs ?? progressIntervalMs();
  }

  /**
   * `done` units are done (and `extra`, e.g. the znodes so far); logs if an interval has passed.
   * `total` is asked for at the first line only (it may cost a read of the disk: work that ends
   * sooner never pays for it).
   */
  update(done: number, extra?: Record<string, unknown>, total?: () => number | undefined): void {
    const t = this.now();
    if (t - this.last < this.every) return;
    this.last = t;
    if (this.reports++ === 0 && total && this.o.total === undefined) this.o.total = total();
    this.log.info({ ...extra }, progressText(this.what, done, this.o.total, this.o.unit, t - this.t0));
  }
}

/** "loading snapshot.x: 45% (12.3 MB of 27.1 MB), 8.2 MB/s, about 2 s left" */
export function progressText(what: string, done: number, total: number | undefined, unit: ProgressUnit, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const parts: string[] = [];
  if (total !== undefined && total > 0) {
    const pct = Math.min(100, Math.floor((done * 100) / total));
    parts.push(`${pct}% (${amount(done, unit)} of ${amount(total, unit)})`);
  } else parts.push(`${amount(done, unit)} so far`);
  parts.push(`${amount(rate, unit)}/s`);
  if (total !== undefined && total > done && rate > 0) parts.push(`about ${duration((total - done) / rate)} left`);
  return `${what}: ${parts.join(', ')}`;
}

function amount(n: number, unit: ProgressUnit): string {
  if (unit !== 'bytes') return `${Math.round(n).toLocaleString('en-US')} ${unit}`;
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${Math.round(n)} B`;
}

function duration(s: number): string {
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
