// The standalone "log" stage: every txn is appended to the txn log and made durable (one fdatasync
// per batch: group commit) before it is applied and answered; snapshots are taken every ~snapCount
// txns, in the background, as ZooKeeper's SyncRequestProcessor does.
import { serverMetrics } from '../util/metrics';
import { TxnHeader } from '../jute/records';
import { purge, saveSnapshot, TxnLogWriter } from '../persistence';
import { DataTree } from '../data/datatree';
import { Txn, TxnDigest } from '../data/txn';
import { Logger, TxnLogSink } from './zkserver';

export interface DurableLogOptions {
  dataDir: string;
  logDir: string;
  snapCount: number;
  forceSync: boolean;
  preAllocSize: number;
  compression: '' | 'gz' | 'snappy';
  /** random source for the snapshot spread; injectable for tests */
  random?: () => number;
  /** the zxid of the snapshot the tree was restored from (-1: none) */
  snapshotZxid?: number;
}

export class DurableLog implements TxnLogSink {
  readonly writer: TxnLogWriter;
  private randRoll = 0;
  private snapping: Promise<void> | null = null;
  snapshotsTaken = 0;
  snapshotFailures = 0;
  lastSnapshot: { zxid: number; time: number } | null = null;
  /** the newest snapshot's zxid: the restored one, then each written */
  private snapshotZxid: number;

  constructor(
    private readonly tree: DataTree,
    private readonly opts: DurableLogOptions,
    private readonly logger: Logger,
  ) {
    this.writer = new TxnLogWriter(opts.logDir, {
      preAllocSize: opts.preAllocSize,
      forceSync: opts.forceSync,
      logger,
    });
    this.resetRoll();
    this.snapshotZxid = opts.snapshotZxid ?? -1;
  }

  private resetRoll(): void {
    const r = this.opts.random ?? Math.random;
    this.randRoll = Math.floor(r() * Math.max(1, Math.floor(this.opts.snapCount / 2)));
  }

  append(hdr: TxnHeader, txn: Txn, digest?: TxnDigest | null): void {
    this.writer.appendTxn(hdr, txn, digest);
    if (this.writer.txnsSinceRoll > Math.floor(this.opts.snapCount / 2) + this.randRoll) {
      this.writer.rollLog();
      this.resetRoll();
      this.takeSnapshot();
    }
  }

  commit(): Promise<void> {
    return this.writer.commit();
  }

  /** Fuzzy snapshot in the background; skipped while one is still being written. */
  takeSnapshot(): Promise<void> | null {
    if (this.snapping) {
      this.logger.warn({}, 'Too busy to snap, skipping');
      return null;
    }
    const zxid = this.tree.lastProcessedZxid;
    const t0 = Date.now();
    this.snapping = saveSnapshot(this.tree, this.opts.dataDir, { compression: this.opts.compression, fsync: false })
      .then((file) => {
        serverMetrics.snapshottime.add(Date.now() - t0);
        this.written(file, zxid, t0, 'snapshot written');
      })
      .catch((e: unknown) => {
        // as ZooKeeperServer.takeSnapshot for a background snapshot: logged, not fatal — the txn
        // log still holds every txn (its own write failures are fatal); the next roll tries again
        this.snapshotFailures++;
        this.logger.error({ err: String(e) }, 'Severe unrecoverable error: the snapshot could not be written; the txn log keeps everything, the next snapshot is tried after snapCount more txns');
      })
      .finally(() => {
        this.snapping = null;
      });
    return this.snapping;
  }

  private written(file: string, zxid: number, t0: number, msg: string): void {
    this.snapshotsTaken++;
    this.lastSnapshot = { zxid, time: Date.now() };
    this.snapshotZxid = Math.max(this.snapshotZxid, zxid);
    this.logger.info({ file, zxid: '0x' + zxid.toString(16), ms: Date.now() - t0 }, msg);
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
    if (this.snapping) await this.snapping;
    await this.writer.close();
    if (!opts.snapshot || this.tree.lastProcessedZxid <= this.snapshotZxid) return;
    const zxid = this.tree.lastProcessedZxid;
    const t0 = Date.now();
    try {
      const file = await saveSnapshot(this.tree, this.opts.dataDir, { compression: this.opts.compression, fsync: true });
      this.written(file, zxid, t0, 'snapshot written at shutdown');
    } catch (e) {
      // the log has every txn: the next start replays them from the last snapshot
      this.snapshotFailures++;
      this.logger.warn({ err: String(e) }, 'the shutdown snapshot could not be written; the next start replays the txn log');
    }
  }
}

/** autopurge: every `hours`, keep `retain` snapshots and the logs they need. */
export function startAutopurge(
  dataDir: string,
  dataLogDir: string,
  retain: number,
  hours: number,
  logger: Logger,
): NodeJS.Timeout | null {
  if (hours <= 0) return null;
  const run = (): void => {
    try {
      const removed = purge(dataDir, dataLogDir, Math.max(3, retain));
      for (const f of removed) logger.info({ file: f }, 'Removing file');
    } catch (e) {
      logger.warn({ err: String(e) }, 'autopurge failed');
    }
  };
  run();
  const t = setInterval(run, hours * 3600 * 1000);
  t.unref();
  return t;
}
