// FileTxnSnapLog: directory checks, restore (snapshot + log replay) and purge (disk-format.md §1, §8, §10).
import { serverMetrics } from '../util/metrics';
import { Progress } from '../util/progress';
import * as fs from 'fs';
import * as path from 'path';
import { DataTree } from '../data/datatree';
import { OP_NAMES } from '../data/constants';
import { findValidSnapshots, readSnapshotWithInfo, writeSnapshot, WriteSnapshotOptions } from './snapshot';
import { getLastLoggedZxid, readTxnLog, selectLogFiles, truncateLog } from './txnlog';
import {
  listDataFiles,
  LOG_PREFIX,
  silentLogger,
  PersistenceError,
  Logger,
  SNAP_PREFIX,
  VERSION_DIR,
  yieldToEventLoop,
  zxidFromName,
  zxidHex,
} from './util';

export interface DataDirs {
  /** <dataDir>/version-2 */
  snapDir: string;
  /** <dataLogDir>/version-2 */
  logDir: string;
}

export interface DataDirOptions {
  /** zookeeper.datadir.autocreate (default true) */
  autoCreate?: boolean;
}

/**
 * FileTxnSnapLog constructor checks: create the version-2 directories (unless autoCreate is false),
 * require them to be writable, and (when the directories differ) refuse misplaced files.
 */
export function prepareDataDirs(dataDir: string, dataLogDir: string = dataDir, opts: DataDirOptions = {}): DataDirs {
  const logDir = path.join(dataLogDir, VERSION_DIR);
  const snapDir = path.join(dataDir, VERSION_DIR);
  for (const d of [logDir, snapDir]) {
    if (!fs.existsSync(d)) {
      if (opts.autoCreate === false) {
        throw new PersistenceError(
          `Missing data directory ${d}, automatic data directory creation is disabled (zookeeper.datadir.autocreate is false). Please create this directory manually.`,
        );
      }
      fs.mkdirSync(d, { recursive: true });
    }
    try {
      fs.accessSync(d, fs.constants.W_OK);
    } catch {
      throw new PersistenceError(`Cannot write to data directory ${d}`);
    }
  }
  if (path.resolve(logDir) !== path.resolve(snapDir)) {
    if (listDataFiles(logDir, SNAP_PREFIX).length > 0) {
      throw new PersistenceError('Log directory has snapshot files. Check if dataLogDir and dataDir configuration is correct.');
    }
    if (listDataFiles(snapDir, LOG_PREFIX).length > 0) {
      throw new PersistenceError('Snapshot directory has log files. Check if dataLogDir and dataDir configuration is correct.');
    }
  }
  return { snapDir, logDir };
}

/**
 * Delete the `snapshot.<zxid>.tmp` files a process that died while writing a snapshot left in
 * `snapDir` (a snapshot is written under that name and renamed once whole; restore never reads
 * one). Only at process start: while a server runs, a .tmp may be a snapshot being written.
 * Returns the names deleted.
 */
export function removeUnfinishedSnapshots(snapDir: string, log: Logger = silentLogger): string[] {
  const gone: string[] = [];
  for (const f of listDataFiles(snapDir, SNAP_PREFIX)) {
    if (!f.name.endsWith('.tmp')) continue;
    try {
      fs.unlinkSync(f.path);
      gone.push(f.name);
      log.info(`Deleted ${f.path}: a snapshot left unfinished by an earlier process`);
    } catch (e) {
      log.warn(`Cannot delete unfinished snapshot ${f.path}: ${(e as Error).message}`);
    }
  }
  return gone;
}

export interface RestoreOptions extends DataDirOptions {
  /** zookeeper.snapshot.trust.empty: replay the log from 0 when there is no snapshot */
  trustEmptySnapshot?: boolean;
  /** zookeeper.db.autocreate (default true): an empty data dir yields a fresh tree + snapshot.0 */
  autoCreateDb?: boolean;
  /** options for the snapshot.0 written for an empty database */
  snapshot?: WriteSnapshotOptions;
  /** how many candidate snapshots to try (default 100) */
  maxSnapshots?: number;
  /**
   * Called with each txn the replay applies (its zxid and its bytes in the log, a copy the callee
   * may keep): a peer keeps the last ones for DIFF syncs without reading the log a second time.
   */
  onTxn?: (zxid: number, entry: Buffer) => void;
}

export interface RestoreResult {
  tree: DataTree;
  /** the tree's lastProcessedZxid (-1 if the database is empty and not trusted) */
  lastZxid: number;
  snapshotFile: string | null;
  snapshotZxid: number;
  txnsReplayed: number;
}

/**
 * FileTxnSnapLog.restore: load the newest valid snapshot (falling back to older ones), then replay
 * log txns with zxid > snapshot zxid through DataTree.processTxn. Per-txn errors (NODEEXISTS, NONODE,
 * ...) are ignored; an exception thrown by processTxn is fatal ("Failed to process transaction").
 */
export async function restore(
  dataDir: string,
  dataLogDir: string = dataDir,
  log: Logger = silentLogger,
  opts: RestoreOptions = {},
): Promise<RestoreResult> {
  const { snapDir, logDir } = prepareDataDirs(dataDir, dataLogDir, opts);
  const initFile = path.join(dataLogDir, 'initialize');
  let trustEmptyDb = opts.autoCreateDb ?? true;
  if (fs.existsSync(initFile)) {
    trustEmptyDb = true;
    try {
      fs.unlinkSync(initFile);
    } catch (e) {
      throw new PersistenceError(`Unable to delete initialize file ${initFile}: ${(e as Error).message}`);
    }
  }

  let tree: DataTree | null = null;
  let snapshotFile: string | null = null;
  const candidates = findValidSnapshots(snapDir, opts.maxSnapshots ?? 100);
  for (const f of candidates) {
    const t0 = Date.now();
    log.info(`Reading snapshot ${f}`);
    try {
      const { tree: t, info } = await readSnapshotWithInfo(f, { logger: log });
      serverMetrics.startup_snap_load_time.add(Date.now() - t0);
      log.info(`Read snapshot ${f}: ${info.nodeCount} nodes, ${info.sessionCount} sessions in ${Date.now() - t0} ms`);
      tree = t;
      snapshotFile = f;
      break;
    } catch (e) {
      log.warn(`problem reading snap file ${f}: ${(e as Error).message}`);
    }
  }
  if (!tree && candidates.length > 0) {
    throw new PersistenceError(`Not able to find valid snapshots in ${snapDir}`);
  }

  if (!tree) {
    if (getLastLoggedZxid(logDir, { logger: log }) !== -1) {
      if (!opts.trustEmptySnapshot) {
        throw new PersistenceError('No snapshot found, but there are log entries. Something is broken!');
      }
      log.warn('No snapshot found, but there are log entries. This should only be allowed during upgrading.');
      tree = new DataTree();
      tree.lastProcessedZxid = 0;
    } else if (trustEmptyDb) {
      tree = new DataTree();
      tree.lastProcessedZxid = 0;
      const f = await writeSnapshot(tree, snapDir, 0, { ...opts.snapshot, logger: log });
      log.info(`Empty database: wrote ${path.basename(f)}`);
      return { tree, lastZxid: 0, snapshotFile: f, snapshotZxid: 0, txnsReplayed: 0 };
    } else {
      log.warn('Unexpected empty data tree, setting zxid to -1');
      tree = new DataTree();
      tree.lastProcessedZxid = -1;
      return { tree, lastZxid: -1, snapshotFile: null, snapshotZxid: -1, txnsReplayed: 0 };
    }
  }

  const snapshotZxid = tree.lastProcessedZxid;
  const t1 = Date.now();
  let mismatchLogged = false;
  tree.onDigestMismatch ??= (zxid, expected, actual) => {
    if (mismatchLogged) return;
    mismatchLogged = true;
    log.error(`Digest mismatch replaying the txn log at zxid ${zxidHex(zxid)}: the log says ${expected}, the tree is ${actual}`);
  };
  const replayed = await replayLog(tree, logDir, snapshotZxid + 1, log, opts.onTxn);
  if (tree.digestFromLoadedSnapshot !== null) {
    log.warn(`Highest txn zxid ${zxidHex(tree.lastProcessedZxid)} is not covering the snapshot digest zxid ${zxidHex(tree.digestFromLoadedSnapshot.zxid)}, which might lead to inconsistent state`);
    // ZooKeeper then stops comparing txn digests until the next restart; zk-server goes on checking
    tree.digestFromLoadedSnapshot = null;
  }
  serverMetrics.startup_txns_load_time.add(Date.now() - t1);
  serverMetrics.startup_txns_loaded.add(replayed);
  return { tree, lastZxid: tree.lastProcessedZxid, snapshotFile, snapshotZxid, txnsReplayed: replayed };
}

/**
 * fastForwardFromEdits: apply every logged txn with zxid >= fromZxid to `tree`, handing each to
 * `onTxn` after it is applied (ZooKeeper's PlayBackListener). Returns the count.
 */
export async function replayLog(
  tree: DataTree,
  logDir: string,
  fromZxid: number,
  log: Logger = silentLogger,
  onTxn?: (zxid: number, entry: Buffer) => void,
): Promise<number> {
  const t0 = Date.now();
  let n = 0;
  let highest = tree.lastProcessedZxid;
  let first = -1;
  const progress = new Progress(log, 'replaying the txn log', { unit: 'txns' });
  // how many txns there are is known only within one epoch (counters restart with each): from the
  // first to the last logged zxid when they share it, else the count goes without a percentage
  const total = (): number | undefined => {
    const last = getLastLoggedZxid(logDir);
    return Math.floor(last / 2 ** 32) === Math.floor(first / 2 ** 32) && last >= first ? last - first + 1 : undefined;
  };
  for (const e of readTxnLog(logDir, fromZxid, { logger: log })) {
    if (first === -1) first = e.hdr.zxid;
    if (e.hdr.zxid < highest) {
      log.error(`${zxidHex(highest)}(highestZxid) > ${zxidHex(e.hdr.zxid)}(next log) for type ${e.hdr.type}`);
    } else highest = e.hdr.zxid;
    try {
      const res = tree.processTxn(e.hdr, e.txn, e.digest);
      if (res.err !== 0) log.debug(`Ignoring processTxn failure hdr: ${e.hdr.type} : error: ${res.err}`);
    } catch (err) {
      throw new PersistenceError(
        `Failed to process transaction type: ${OP_NAMES[e.hdr.type] ?? e.hdr.type} zxid ${zxidHex(e.hdr.zxid)} error: ${(err as Error).message}`,
        e.file,
        e.offset,
      );
    }
    onTxn?.(e.hdr.zxid, e.entry);
    n++;
    if (n % 10000 === 0) {
      progress.update(n, { zxid: zxidHex(e.hdr.zxid) }, total);
      await yieldToEventLoop();
    }
  }
  if (n > 0) {
    log.info(`Replayed ${n} txns (zxid ${zxidHex(first)}..${zxidHex(highest)}) in ${Date.now() - t0} ms`);
  }
  return n;
}

/**
 * ZooKeeperServer.loadData clean-up: kill sessions that own ephemerals but are not in the session map.
 * Returns the killed session ids.
 */
export function killDeadSessions(tree: DataTree): bigint[] {
  const dead = [...tree.ephemerals.keys()].filter((s) => !tree.sessions.has(s));
  for (const s of dead) tree.killSession(s, tree.lastProcessedZxid, null);
  return dead;
}

/**
 * PurgeTxnLog.purge: keep the `retainCount` newest valid snapshots and the logs needed to replay from
 * the oldest of them; delete older `snapshot.*` and `log.*` files. Returns the deleted paths.
 */
export function purge(dataDir: string, dataLogDir: string = dataDir, retainCount = 3, log: Logger = silentLogger): string[] {
  if (retainCount < 3) throw new RangeError('count should be greater than or equal to 3');
  const snapDir = path.join(dataDir, VERSION_DIR);
  const logDir = path.join(dataLogDir, VERSION_DIR);
  const snaps = findValidSnapshots(snapDir, retainCount);
  if (snaps.length === 0) return [];
  const least = zxidFromName(path.basename(snaps[snaps.length - 1]), SNAP_PREFIX);
  const logs = listDataFiles(logDir, LOG_PREFIX);
  const retained = new Set(selectLogFiles(logs, least).map((f) => f.path));
  const victims = [
    ...logs.filter((f) => !retained.has(f.path) && f.zxid < least),
    ...listDataFiles(snapDir, SNAP_PREFIX).filter((f) => f.zxid < least),
  ];
  const deleted: string[] = [];
  for (const f of victims) {
    log.info(`Removing file: ${new Date().toISOString()}\t${f.path}`);
    try {
      fs.unlinkSync(f.path);
      deleted.push(f.path);
    } catch (e) {
      log.warn(`Failed to remove ${f.path}: ${(e as Error).message}`);
    }
  }
  return deleted;
}

/** Convenience: snapshot `tree` into `<dataDir>/version-2` named after its lastProcessedZxid. */
export function saveSnapshot(tree: DataTree, dataDir: string, opts: WriteSnapshotOptions = {}): Promise<string> {
  return writeSnapshot(tree, path.join(dataDir, VERSION_DIR), tree.lastProcessedZxid, opts);
}

/**
 * Cut a peer's history after `zxid`: the txn log keeps the records up to and including it, and
 * snapshots taken after it are removed (a learner's TRUNC, and `zk-server truncate-log`).
 * Returns whether the log held `zxid`.
 */
export function truncateDataDir(dataDir: string, dataLogDir: string, zxid: number, log: Logger = silentLogger): boolean {
  const { snapDir, logDir } = prepareDataDirs(dataDir, dataLogDir);
  const cut = truncateLog(logDir, zxid, { logger: log });
  for (const f of fs.readdirSync(snapDir)) {
    const m = /^snapshot\.([0-9a-f]+)/.exec(f);
    if (m && parseInt(m[1], 16) > zxid) {
      fs.unlinkSync(path.join(snapDir, f));
      log.info(`Removed ${f}: it was taken after 0x${zxidHex(zxid)}`);
    }
  }
  return cut;
}
