// ZKDatabase: a peer's durable state and the in-memory database built from it — the DataTree (with
// its sessions), the txn log and snapshots in dataDir, the epoch files, and the committed-log
// window the leader DIFFs from. It outlives roles: when a role ends, the txns logged beyond the
// tree are applied to it (ZooKeeperServer.shutdown's fastForwardDataBase), so the next election
// and sync start at once instead of re-reading the snapshot and the whole txn log. Only a TRUNC
// (which cuts history the tree already holds) or an error makes the peer reload from disk.
// Every ~snapCount txns logged, on every role, the log rolls and a fuzzy snapshot of the tree is
// written in the background (SyncRequestProcessor), so that restarts replay little and autopurge
// has old files to remove.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../util/log';
import { ServerConfig } from '../config/types';
import { membershipText } from '../config/load';
import { dropLogAfter, fsyncDir, prepareDataDirs, readTxnLog, removeUnfinishedSnapshots, restore, SnapshotBodyWriter, truncateDataDir, TxnLogWriter } from '../persistence';
import { DataTree } from '../data/datatree';
import { ACCEPTED_EPOCH, CURRENT_EPOCH, Epochs, loadEpochs, writeEpochFile } from './epochs';
import { serverMetrics } from '../util/metrics';
import { ExitCode, fatal } from '../util/fatal';
import { ZabTxn } from './zab/ready';
import { Snapshotter } from '../persistence/snapshotter';

/** zookeeper.commitLogCount: committed txns kept in memory for DIFF syncs */
export const COMMIT_LOG_COUNT = 500;

export class ZKDatabase {
  readonly snapDir: string;
  readonly logDir: string;
  /** the in-memory database, kept across roles; null = (re)load from disk */
  private tree: DataTree | null = null;
  /** the last txns applied to the tree, oldest first (ZKDatabase.committedLog) */
  private window: ZabTxn[] = [];
  /** the roll and background snapshot every ~snapCount txns (SyncRequestProcessor), as standalone's */
  readonly snapshots: Snapshotter;

  constructor(
    readonly config: ServerConfig,
    private readonly logger: Logger,
  ) {
    const dirs = prepareDataDirs(config.dataDir, config.dataLogDir);
    this.snapDir = dirs.snapDir;
    this.logDir = dirs.logDir;
    // once per peer process (load() runs again for each role, perhaps while a snapshot is written)
    removeUnfinishedSnapshots(this.snapDir, this.logger);
    this.snapshots = new Snapshotter(() => this.tree, {
      dataDir: config.dataDir,
      snapCount: config.snapCount,
      compression: config.snapshotCompressionMethod,
      logger,
    });
  }

  /**
   * A role's txn log: group commit over a fresh writer; after each append, every ~snapCount txns,
   * the log rolls and the tree in use is snapshotted (until this existed a quorum peer never
   * snapshotted: an hour of an ensemble's traffic left one 400 MB log and snapshot.0, for a restart
   * to replay in full and autopurge to keep). A write or sync failure is SyncRequestProcessor's
   * IOException: the role ends at once (nothing more is acknowledged) and the process exits.
   */
  roleLog(logger: Logger, persisted: (upTo: number) => void, ended: () => boolean, end: () => void): GroupCommit {
    return new GroupCommit(
      this.newWriter(),
      persisted,
      ended,
      (e) => {
        serverMetrics.unrecoverable_error_count.add(1);
        logger.error({ err: String(e) }, 'Severe unrecoverable error: the txn log could not be written or synced; exiting');
        this.invalidate();
        end();
        fatal(ExitCode.TXNLOG_ERROR, 'txn log write failed', e);
      },
      (w) => this.snapshots.appended(w),
    );
  }

  /** The DataTree, loaded from the snapshot and the txn log if it is not in memory. */
  async load(): Promise<DataTree> {
    if (this.tree) return this.tree;
    const t0 = Date.now();
    this.window = [];
    // the replay hands over each txn it applies: the window fills without a second pass over the log
    const r = await restore(this.config.dataDir, this.config.dataLogDir, this.logger, {
      onTxn: (zxid, data) => this.remember({ zxid, data }),
      // the snapshot.0 of an empty dataDir, compressed as every other snapshot
      snapshot: { compression: this.config.snapshotCompressionMethod },
    });
    this.initConfigNode(r.tree);
    serverMetrics.dbinittime.add(Date.now() - t0);
    // no full GC before the election (~150 ms at 1M znodes): the idle collector compacts later
    this.tree = r.tree;
    return r.tree;
  }

  /** The next role reloads from disk. */
  invalidate(): void {
    this.tree = null;
  }

  get loaded(): DataTree | null {
    return this.tree;
  }

  epochs(lastZxid: number): Epochs {
    return loadEpochs(this.snapDir, lastZxid, (m) => this.logger.info(m));
  }

  writeAcceptedEpoch(e: number): void {
    writeEpochFile(this.snapDir, ACCEPTED_EPOCH, e);
  }

  writeCurrentEpoch(e: number): void {
    writeEpochFile(this.snapDir, CURRENT_EPOCH, e);
  }

  /** A committed txn applied to the tree: keep it for DIFF syncs. */
  remember(t: ZabTxn): void {
    this.window.push(t);
    if (this.window.length > 2 * COMMIT_LOG_COUNT) this.window.splice(0, this.window.length - COMMIT_LOG_COUNT);
  }

  committedLog(): ZabTxn[] {
    return this.window.slice(-COMMIT_LOG_COUNT);
  }

  newWriter(): TxnLogWriter {
    return new TxnLogWriter(this.logDir, {
      preAllocSize: this.config.preAllocSize,
      forceSync: this.config.forceSync,
      fsyncWarningThresholdMs: this.config.fsyncWarningThresholdMs,
      logger: this.logger,
    });
  }

  /** ZKDatabase.fastForwardDataBase: apply what the txn log holds beyond the tree. */
  fastForward(): void {
    const tree = this.tree;
    if (!tree) return;
    let n = 0;
    for (const e of readTxnLog(this.logDir, tree.lastProcessedZxid + 1)) {
      if (e.hdr.zxid <= tree.lastProcessedZxid) continue;
      tree.processTxn(e.hdr, e.txn, e.digest);
      this.remember({ zxid: e.hdr.zxid, data: e.entry }); // readTxnLog yields a copy of its own
      n++;
    }
    if (n) this.logger.info({ txns: n, zxid: tree.lastProcessedZxid.toString(16) }, 'fast-forwarded the database from the txn log');
  }

  /** A snapshot file for the SNAP at `zxid`, written as its stream arrives (installSnapshot puts it in place). */
  snapshotFileFor(zxid: number): SnapshotBodyWriter {
    return new SnapshotBodyWriter(this.snapDir, zxid, undefined, this.config.snapshotCompressionMethod);
  }

  /** TRUNC: cut the txn log after `zxid`, drop snapshots beyond it; the tree is reloaded. */
  truncate(zxid: number): void {
    truncateDataDir(this.config.dataDir, this.config.dataLogDir, zxid, this.logger);
    this.tree = null;
  }

  /**
   * SNAP: the leader's tree replaces ours, durably, in an order that a crash at any point leaves
   * consistent (ZOOKEEPER-3642): (1) drop the logged txns above the snapshot's zxid (never
   * committed: the leader would have them), (2) write and fsync the snapshot, (3) delete the log
   * files it supersedes. A crash after (1) restarts from our old, consistent state; after (2) from
   * the new snapshot, with no foreign txn above it to replay. `file` is that snapshot, already
   * written from the stream as it came (snapshotFileFor): (2) finishes it and puts it in place.
   */
  async installSnapshot(tree: DataTree, file: SnapshotBodyWriter): Promise<void> {
    // a periodic snapshot of the old tree finishes first: not two large writes at once, and none
    // lands after the log files below are gone
    await this.snapshots.done();
    dropLogAfter(this.logDir, tree.lastProcessedZxid, { logger: this.logger });
    const t0 = Date.now();
    try {
      await file.finish(tree);
      await file.commit();
    } catch (e) {
      await file.abort();
      throw e;
    }
    this.logger.info(`Snapshot ${path.basename(file.path)} written from the SNAP stream: ${tree.nodes.size} nodes, ${file.size} bytes, ${Date.now() - t0} ms after its last byte`);
    for (const f of fs.readdirSync(this.logDir)) if (f.startsWith('log.')) fs.unlinkSync(path.join(this.logDir, f));
    await fsyncDir(this.logDir);
    this.initConfigNode(tree);
    this.tree = tree;
    this.window = [];
  }

  /** The membership text ZooKeeper keeps in /zookeeper/config (QuorumMaj.toString). */
  configText(): string {
    return membershipText(this.config);
  }

  /** A new membership came into force: /zookeeper/config of the live tree shows it (QuorumPeer.processReconfig). */
  refreshConfigNode(): void {
    if (this.tree) this.initConfigNode(this.tree);
  }

  /** ZKDatabase.initConfigInZKDatabase: version -1, mzxid = the config version. */
  initConfigNode(tree: DataTree): void {
    const n = tree.getNode('/zookeeper/config');
    if (!n) return;
    n.data = Buffer.from(this.configText(), 'utf8');
    n.version = -1;
    n.mzxid = this.config.configVersion;
    n.mtime = Date.now();
  }
}

/**
 * Group commit for a role's txn log: appends are buffered; one durable (O_DSYNC) write, started
 * after the current event-loop turn, covers everything appended so far, and the core hears
 * `persisted(upTo)` after it. Appends made while it is on its way are covered by the next one.
 */
export class GroupCommit {
  private appendedMax = -1;
  private flushing = false;
  private scheduled = false;

  constructor(
    private writer: TxnLogWriter,
    private readonly persisted: (upTo: number) => void,
    private readonly ended: () => boolean,
    /** the log could not be written or synced: nothing appended since may be acknowledged */
    private readonly failed: (e: unknown) => void,
    /** after each append (the roll and snapshot every ~snapCount txns) */
    private readonly onAppend?: (writer: TxnLogWriter) => void,
  ) {}

  get log(): TxnLogWriter {
    return this.writer;
  }

  append(t: ZabTxn): void {
    this.writer.append(t.data, t.zxid);
    this.appendedMax = Math.max(this.appendedMax, t.zxid);
    this.onAppend?.(this.writer);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
  }

  /** Continue on a new writer (after a SNAP replaced the log; the old one was closed). */
  setWriter(w: TxnLogWriter): void {
    this.writer = w;
  }

  close(): Promise<void> {
    return this.writer.close();
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.writer.pendingCount > 0) {
        const upTo = this.appendedMax;
        await this.writer.commit();
        if (this.ended()) return;
        this.persisted(upTo);
      }
    } catch (e) {
      if (!this.ended()) this.failed(e);
    } finally {
      this.flushing = false;
    }
  }
}
