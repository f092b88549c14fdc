// The periodic snapshot, for standalone (DurableLog) and every quorum role (ZKDatabase) alike, as
// ZooKeeper's SyncRequestProcessor does it: once a txn log holds more than snapCount / 2 txns plus
// a random share of snapCount / 2 (drawn anew at each roll, so that an ensemble's peers do not all
// snapshot at once), the log rolls and a fuzzy snapshot of the tree is written in the background.
// The tree keeps changing while it is written; a restore replays the log from the snapshot's zxid
// + 1, and the roll just before the snapshot kept every txn after that zxid in the log.
import { Logger } from '../util/log';
import { serverMetrics } from '../util/metrics';
import { DataTree } from '../data/datatree';
import { saveSnapshot } from './filetxnsnaplog';
import { TxnLogWriter } from './txnlog';

export interface SnapshotterOptions {
  dataDir: string;
  snapCount: number;
  compression: '' | 'gz' | 'snappy';
  logger: Logger;
  /** the zxid of the snapshot the tree was restored from (-1: none) */
  snapshotZxid?: number;
}

export class Snapshotter {
  private randRoll = 0;
  private snapping: Promise<void> | null = null;
  snapshotsTaken = 0;
  snapshotFailures = 0;
  /** the newest snapshot written by this process (for last_snapshot) */
  lastSnapshot: { zxid: number; time: number } | null = null;
  /** the newest snapshot's zxid: the restored one, then each written */
  newestZxid: number;

  /** `tree`: the tree to snapshot now (a quorum peer's changes with its role; null: none loaded) */
  constructor(
    private readonly tree: () => DataTree | null,
    private readonly opts: SnapshotterOptions,
  ) {
    this.newestZxid = opts.snapshotZxid ?? -1;
    this.resetRoll();
  }

  private resetRoll(): void {
    this.randRoll = Math.floor(Math.random() * Math.max(1, Math.floor(this.opts.snapCount / 2)));
  }

  /** A txn was appended to `writer`: past this roll's share, roll the log and snapshot the tree. */
  appended(writer: TxnLogWriter): void {
    if (writer.txnsSinceRoll <= Math.floor(this.opts.snapCount / 2) + this.randRoll) return;
    writer.rollLog();
    this.resetRoll();
    this.takeSnapshot();
  }

  /**
   * A fuzzy snapshot in the background. Skipped while one is still being written, as ZooKeeper's
   * "Too busy to snap". A failure is logged, not fatal (ZooKeeperServer.takeSnapshot in the
   * background): the txn log still holds every txn, and the next roll tries again.
   */
  takeSnapshot(): Promise<void> | null {
    const tree = this.tree();
    if (!tree) return null;
    if (this.snapping) {
      this.opts.logger.warn({}, 'Too busy to snap, skipping');
      return null;
    }
    const zxid = tree.lastProcessedZxid;
    const t0 = Date.now();
    this.snapping = saveSnapshot(tree, this.opts.dataDir, { compression: this.opts.compression, fsync: false })
      .then((file) => {
        serverMetrics.snapshottime.add(Date.now() - t0);
        this.written(file, zxid, t0, 'snapshot written');
      })
      .catch((e: unknown) => {
        this.snapshotFailures++;
        this.opts.logger.error({ err: String(e) }, 'Severe unrecoverable error: the snapshot could not be written; the txn log keeps everything, the next snapshot is tried after snapCount more txns');
      })
      .finally(() => {
        this.snapping = null;
      });
    return this.snapping;
  }

  /** Resolves once the background snapshot being written (if any) is done. */
  done(): Promise<void> {
    return this.snapping ?? Promise.resolve();
  }

  /**
   * A snapshot written and synced now, once the background one is done, if the tree holds txns
   * past the newest snapshot (a clean stop); a failure is thrown.
   */
  async writeIfBehind(msg: string): Promise<void> {
    await this.done();
    const tree = this.tree();
    if (!tree || tree.lastProcessedZxid <= this.newestZxid) return;
    const zxid = tree.lastProcessedZxid;
    const t0 = Date.now();
    try {
      this.written(await saveSnapshot(tree, this.opts.dataDir, { compression: this.opts.compression, fsync: true }), zxid, t0, msg);
    } catch (e) {
      this.snapshotFailures++;
      throw e;
    }
  }

  private written(file: string, zxid: number, t0: number, msg: string): void {
    this.snapshotsTaken++;
    this.lastSnapshot = { zxid, time: Date.now() };
    this.newestZxid = Math.max(this.newestZxid, zxid);
    this.opts.logger.info({ file, zxid: '0x' + zxid.toString(16), ms: Date.now() - t0 }, msg);
  }
}
