// The dashboard's JSON views of this peer's state: a metrics sample, one znode, the sessions.
// All read-only and read in-process (no request through the pipeline, so they cost no zxid and see
// exactly what this peer has applied). Every list and every data field is capped: a dashboard must
// not turn a 1 MB znode or a million sessions into a 100 MB answer.
import { ZooKeeperServer } from '../../server/zkserver';
import { FourLetterContext } from '../../server/fourlw';
import { serverMetrics } from '../../util/metrics';
import { ACL } from '../../jute/records';

/** bytes of znode data sent to the page (ZooKeeper's own limit, jute.maxbuffer, is 1 MB) */
export const DATA_CAP = 4096;
/** children names, sessions, and paths per session sent to the page */
export const LIST_CAP = 1000;

const hex = (n: number | bigint): string => '0x' + (typeof n === 'bigint' ? BigInt.asUintN(64, n).toString(16) : n.toString(16));

/**
 * Cumulative counters since start (or the last `srst`): the page derives ops/s and the interval's
 * average latency from the difference of two samples, so polling does not reset anything.
 */
export function metricsSample(ctx: FourLetterContext): Record<string, number | string | null> {
  const zk = ctx.zk;
  const base = { time: Date.now(), role: ctx.mode() };
  if (!zk || !zk.running) return { ...base, serving: 0 };
  const s = zk.stats;
  let watches = 0;
  watches += zk.tree.dataWatches.size + zk.tree.childWatches.size;
  return {
    ...base,
    serving: 1,
    requests: s.count,
    reads: serverMetrics.readlatency.count,
    writes: serverMetrics.updatelatency.count,
    totalLatency: s.totalLatency,
    minLatency: s.count ? s.minLatency : 0,
    maxLatency: s.maxLatency,
    packetsReceived: s.packetsReceived,
    packetsSent: s.packetsSent,
    outstanding: zk.outstandingRequests,
    connections: zk.cnxns.size,
    znodes: zk.tree.nodeCount + 1,
    watches,
    zxid: hex(zk.lastProcessedZxid),
  };
}

/** ZooKeeper's perms string (ZKUtil.getPermString): c d r w a */
export function permString(perms: number): string {
  const bits: [number, string][] = [[4, 'c'], [8, 'd'], [1, 'r'], [2, 'w'], [16, 'a']];
  return bits.map(([b, ch]) => (perms & b ? ch : '')).join('');
}

/** world:anyone may read it: only then does the dashboard, which asks no one for credentials, show data */
function worldReadable(acl: ACL[]): boolean {
  return acl.some((a) => a.id.scheme === 'world' && a.id.id === 'anyone' && (a.perms & 1) !== 0);
}

export interface ZnodeView {
  path: string;
  exists: boolean;
  stat?: Record<string, string | number>;
  acl?: { perms: string; scheme: string; id: string }[];
  children?: string[];
  childrenTotal?: number;
  /** data as base64 of the first DATA_CAP bytes (the page shows text or hex); null: no data */
  data?: string | null;
  dataHidden?: string;
  truncated?: boolean;
}

/** One znode as the tree browser shows it. */
export function znodeView(zk: ZooKeeperServer, path: string, skipACL: boolean): ZnodeView {
  const node = zk.tree.getNode(path);
  if (!node) return { path, exists: false };
  const st = node.stat();
  const acl = zk.tree.aclOf(node);
  const kids = [...node.childNames()].sort();
  const view: ZnodeView = {
    path,
    exists: true,
    stat: {
      czxid: hex(st.czxid),
      mzxid: hex(st.mzxid),
      pzxid: hex(st.pzxid),
      ctime: st.ctime,
      mtime: st.mtime,
      version: st.version,
      cversion: st.cversion,
      aversion: st.aversion,
      ephemeralOwner: hex(st.ephemeralOwner),
      dataLength: st.dataLength,
      numChildren: st.numChildren,
    },
    acl: acl.map((a) => ({ perms: permString(a.perms), scheme: a.id.scheme, id: a.id.id })),
    children: kids.slice(0, LIST_CAP),
    childrenTotal: kids.length,
  };
  if (!skipACL && !worldReadable(acl)) {
    view.dataHidden = 'the ACL does not let world:anyone read this znode';
    return view;
  }
  const raw = node.raw;
  view.data = raw === null ? null : Buffer.from(raw.slice(0, DATA_CAP), 'latin1').toString('base64');
  view.truncated = raw !== null && raw.length > DATA_CAP;
  return view;
}

export interface SessionView {
  id: string;
  timeout: number;
  /** ms until the leader expires it, when this peer tracks the deadline (the leader, or standalone) */
  expiresIn: number | null;
  ephemerals: string[];
  ephemeralsTotal: number;
  dataWatches: string[];
  childWatches: string[];
  /** the client's connection, when it is connected to this peer */
  connection: { remote: string; lastOperation: string; latency: { min: number; avg: number; max: number }; received: number; sent: number } | null;
}

function pathsByWatcher(entries: IterableIterator<[{ sessionId: bigint }, Set<string>]>): Map<bigint, string[]> {
  const out = new Map<bigint, string[]>();
  for (const [w, paths] of entries) out.set(w.sessionId, [...(out.get(w.sessionId) ?? []), ...paths]);
  return out;
}

/**
 * The global sessions (every peer has them: createSession is a txn) and this peer's local ones,
 * each with its ephemerals (`dump`), the watches it set on this peer (`wchc`) and its connection
 * here (`cons`); a client connected elsewhere shows no connection and no watches.
 */
export function sessionsView(zk: ZooKeeperServer): { sessions: SessionView[]; total: number } {
  const timeouts = new Map<bigint, number>(zk.tree.sessions);
  for (const s of zk.localSessions?.sessions.values() ?? []) timeouts.set(s.id, s.timeout);
  const data = pathsByWatcher(zk.tree.dataWatches.watcherEntries());
  const child = pathsByWatcher(zk.tree.childWatches.watcherEntries());
  const cnxns = new Map([...zk.cnxns].filter((c) => c.sessionId !== 0n).map((c) => [c.sessionId, c]));
  const now = zk.now();
  const ids = [...timeouts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const sessions = ids.slice(0, LIST_CAP).map((id): SessionView => {
    const eph = [...(zk.tree.ephemerals.get(id) ?? [])].sort();
    const tracked = zk.sessions.sessions.get(id) ?? zk.localSessions?.sessions.get(id);
    const c = cnxns.get(id);
    return {
      id: hex(id),
      timeout: timeouts.get(id) ?? 0,
      expiresIn: tracked ? Math.max(0, Math.round(tracked.expireAt - now)) : null,
      ephemerals: eph.slice(0, LIST_CAP),
      ephemeralsTotal: eph.length,
      dataWatches: (data.get(id) ?? []).slice(0, LIST_CAP),
      childWatches: (child.get(id) ?? []).slice(0, LIST_CAP),
      connection: c
        ? {
            remote: `${c.io.remoteAddress.replace(/^::ffff:/, '')}:${c.io.remotePort}`,
            lastOperation: c.lastOp,
            latency: { min: c.latencyCount ? c.minLatency : 0, avg: c.latencyCount ? Math.floor(c.totalLatency / c.latencyCount) : 0, max: c.maxLatency },
            received: c.packetsReceived,
            sent: c.packetsSent,
          }
        : null,
    };
  });
  return { sessions, total: ids.length };
}
