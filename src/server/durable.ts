// The standalone "log" stage: every txn is appended to the txn log and made durable (one O_DSYNC
// write per batch, off the event loop: group commit) before it is applied and answered; snapshots are taken every ~snapCount
// txns, in the background, as ZooKeeper's SyncRequestProcessor does (persistence/snapshotter.ts).
import { TxnHeader } from '../jute/records';
import { TxnLogWriter } from '../persistence';
import { purgeInThread } from '../persistence/purgethread';
import { Snapshotter } from '../persistence/snapshotter';
import { DataTree } from '../data/datatree';
import { Txn, TxnDigest } from '../data/txn';
import { Logger, TxnLogSink } from './zkserver';

export interface DurableLogOptions {
  dataDir: string;
  logDir: string;
  snapCount: number;
  forceSync: boolean;
  preAllocSize: number;
  /** fsync.warningthresholdms: an fsync slower than this is logged and counted */
  fsyncWarningThresholdMs?: number;
  compression: '' | 'gz' | 'snappy';
  /** the zxid of the snapshot the tree was restored from (-1: none) */
  snapshotZxid?: number;
}

export class DurableLog implements TxnLogSink {
  readonly writer: TxnLogWriter;
  /** the roll and background snapshot every ~snapCount txns, shared with the quorum peers */
  readonly snapshots: Snapshotter;

  constructor(
    tree: DataTree,
    opts: DurableLogOptions,
    private readonly logger: Logger,
  ) {
    this.writer = new TxnLogWriter(opts.logDir, {
      preAllocSize: opts.preAllocSize,
      forceSync: opts.forceSync,
      fsyncWarningThresholdMs: opts.fsyncWarningThresholdMs,
      logger,
    });
    this.snapshots = new Snapshotter(() => tree, { dataDir: opts.dataDir, snapCount: opts.snapCount, compression: opts.compression, logger, snapshotZxid: opts.snapshotZxid });
  }

  get lastSnapshot(): { zxid: number; time: number } | null {
    return this.snapshots.lastSnapshot;
  }

  append(hdr: TxnHeader, txn: Txn, digest?: TxnDigest | null): void {
    this.writer.appendTxn(hdr, txn, digest);
    this.snapshots.appended(this.writer);
  }

  commit(): Promise<void> {
    return this.writer.commit();
  }

  /** Fuzzy snapshot in the background; skipped while one is still being written. */
  takeSnapshot(): Promise<void> | null {
    return this.snapshots.takeSnapshot();
  }

  /**
   * Flush and close the txn log. `snapshot` (a clean stop, as PostgreSQL's shutdown checkpoint):
   * then write a snapshot of the tree if txns were applied since the newest snapshot, so that the
   * next start loads it and replays no log. Without it a restart replays every txn since the last
   * periodic snapshot, 0 to ~snapCount of them depending on where the rolls fell (at 1M znodes
   * 0-0.8 s of a 2-2.7 s restart). A stop cut short while it writes (SIGKILL) leaves a `.tmp` file
   * that the next start deletes; nothing is lost, the log holds every txn.
   */
  async close(opts: { snapshot?: boolean } = {}): Promise<void> {
    await this.snapshots.done();
    await this.writer.close();
    if (!opts.snapshot) return;
    try {
      await this.snapshots.writeIfBehind('snapshot written at shutdown');
    } catch (e) {
      // the log has every txn: the next start replays them from the last snapshot
      this.logger.warn({ err: String(e) }, 'the shutdown snapshot could not be written; the next start replays the txn log');
    }
  }
}

/**
 * autopurge: every `hours`, keep `retain` snapshots and the logs they need; in a worker thread
 * (persistence/purgethread.ts), one run at a time.
 */
export function startAutopurge(
  dataDir: string,
  dataLogDir: string,
  retain: number,
  hours: number,
  logger: Logger,
): NodeJS.Timeout | null {
  if (hours <= 0) return null;
  let running = false;
  const run = (): void => {
    if (running) return;
    running = true;
    logger.info('Purge task started.');
    void purgeInThread({ dataDir, dataLogDir, retain: Math.max(3, retain) }).then((r) => {
      running = false;
      if ('error' in r) logger.warn({ err: r.error }, 'autopurge failed');
      else {
        for (const f of r.removed) logger.info({ file: f }, 'Removing file');
        logger.info({ removed: r.removed.length }, 'Purge task completed.');
      }
    });
  };
  run();
  const t = setInterval(run, hours * 3600 * 1000);
  t.unref();
  return t;
}
