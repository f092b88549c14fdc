// The AdminServer command set of ZooKeeper 3.8 (`server/admin/Commands.java`) as pure functions:
// (context, params) -> response object. Shapes, key order and types follow what a real 3.8.0 server
// answers (recorded in docs/operations.md); the HTTP layer (./http.ts) only serializes them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ADMIN_CONF_FIELDS, FAMILIES, isQpcKey, specOf } from '../config/keys';
import { confValue, dirSize, environment, FourLetterContext, monitorValues } from '../server/fourlw';
import { Cnxn, ZooKeeperServer } from '../server/zkserver';
import { VERSION_STRING } from '../version';
import { JavaDouble, JsonValue } from './json';
import { msSince } from '../util/clock';
import { BufferStats, fsyncThresholdExceeded } from '../util/metrics';

export type JsonObject = { [k: string]: JsonValue };

/** What a peer in a quorum can tell the AdminServer beyond FourLetterContext (all optional). */
export interface AdminContext extends FourLetterContext {
  /** the leader as this peer sees it: server id and quorum host; null while there is none */
  leader?(): { id: number; address: string | null } | null;
  /** the Zab phase: election | discovery | synchronization | broadcast */
  zabState?(): string;
}

export const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests';

export interface AdminCommand {
  /** primary name first, then the aliases */
  names: string[];
  /** answer NOT_SERVING when there is no running server */
  serverRequired: boolean;
  /** the command's own keys; `zk` is non-null when serverRequired */
  run(ctx: AdminContext, zk: ZooKeeperServer | null, params: Record<string, string>): JsonObject;
}

function zkOf(zk: ZooKeeperServer | null): ZooKeeperServer {
  if (!zk) throw new Error('server required');
  return zk;
}

function isServing(ctx: FourLetterContext): boolean {
  return ctx.zk !== null && ctx.zk.running;
}

function signedLong(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

function snapDir(ctx: FourLetterContext): string {
  return path.join(ctx.config.dataDir, 'version-2');
}

function logDir(ctx: FourLetterContext): string {
  return path.join(ctx.config.dataLogDir, 'version-2');
}

function avg4(total: number, count: number): number {
  return count ? Number((total / count).toFixed(4)) : 0;
}

/** ServerCnxn.getConnectionInfo(brief) */
export function connectionInfo(c: Cnxn, brief: boolean): JsonObject {
  const info: JsonObject = {
    remote_socket_address: `${c.io.remoteAddress.replace(/^::ffff:/, '')}:${c.io.remotePort}`,
    interest_ops: c.state === 'closed' ? 0 : 1,
    outstanding_requests: c.queue.length,
    packets_received: c.packetsReceived,
    packets_sent: c.packetsSent,
  };
  if (!brief) {
    info.session_id = signedLong(c.sessionId);
    info.last_operation = c.lastOp;
    info.established = c.established;
    info.session_timeout = c.sessionTimeout;
    info.last_cxid = c.lastCxid;
    info.last_zxid = c.lastZxid;
    info.last_response_time = c.lastResponseTime;
    info.last_latency = c.lastLatency;
    info.min_latency = c.latencyCount ? c.minLatency : 0;
    info.avg_latency = c.latencyCount ? Math.floor(c.totalLatency / c.latencyCount) : 0;
    info.max_latency = c.maxLatency;
  }
  return info;
}

/** BufferStats as Jackson serializes it (-1 before the first packet and after a reset) */
function bufferStats(b: BufferStats): JsonObject {
  return { last_buffer_size: b.last, min_buffer_size: b.min, max_buffer_size: b.max };
}

/** ZooKeeperServer.serverStats() as Jackson serializes ServerStats */
function serverStatsObject(ctx: FourLetterContext, zk: ZooKeeperServer): JsonObject {
  const s = zk.stats;
  return {
    packets_sent: s.packetsSent,
    packets_received: s.packetsReceived,
    fsync_threshold_exceed_count: fsyncThresholdExceeded.value,
    client_response_stats: bufferStats(s.clientResponses),
    data_dir_size: dirSize(snapDir(ctx)),
    log_dir_size: dirSize(logDir(ctx)),
    provider_null: false,
    server_state: ctx.mode(),
    last_processed_zxid: zk.lastProcessedZxid,
    outstanding_requests: zk.outstandingRequests,
    avg_latency: new JavaDouble(avg4(s.totalLatency, s.count)),
    max_latency: s.maxLatency,
    min_latency: s.count ? s.minLatency : 0,
    num_alive_client_connections: zk.cnxns.size,
    auth_failed_count: s.authFailed,
    non_mtlsremote_conn_count: 0,
    non_mtlslocal_conn_count: 0,
    uptime: msSince(zk.startedAt),
  };
}

function srvr(ctx: FourLetterContext, zk: ZooKeeperServer): JsonObject {
  const out: JsonObject = {
    version: VERSION_STRING,
    read_only: ctx.mode() === 'read-only',
    server_stats: serverStatsObject(ctx, zk),
    client_response: bufferStats(zk.stats.clientResponses),
  };
  const proposals = ctx.proposalStats?.();
  if (proposals) out.proposal_stats = bufferStats(proposals);
  out.node_count = zk.tree.nodeCount + 1;
  return out;
}

const SNAPSHOT_NAME = /^snapshot\.([0-9a-fA-F]+)(?:\.(?:gz|snappy))?$/;

/** The newest snapshot: what the log sink recorded, else the highest-zxid file in the snap dir. */
export function lastSnapshotInfo(ctx: FourLetterContext, zk: ZooKeeperServer): { zxid: number; timestampSec: number } | null {
  const recorded = (zk.log as unknown as { lastSnapshot?: { zxid: number; time: number } | null }).lastSnapshot;
  if (recorded) return { zxid: recorded.zxid, timestampSec: Math.floor(recorded.time / 1000) };
  let best: { zxid: number; timestampSec: number } | null = null;
  try {
    for (const f of fs.readdirSync(snapDir(ctx))) {
      const m = SNAPSHOT_NAME.exec(f);
      if (!m) continue;
      const zxid = parseInt(m[1], 16);
      if (best && best.zxid >= zxid) continue;
      try {
        const st = fs.statSync(path.join(snapDir(ctx), f));
        best = { zxid, timestampSec: Math.floor(st.mtimeMs / 1000) };
      } catch {
        // purged meanwhile
      }
    }
  } catch {
    return null;
  }
  return best;
}

/**
 * zoo.cfg keys QuorumPeerConfig.parseProperties consumes (the key table's `qpc` keys, not the
 * zk-server extensions); every other key k becomes `zookeeper.k`.
 */
function parsedByQpc(k: string): boolean {
  const spec = specOf(k);
  if (spec) return spec.origin === 'qpc' && !spec.zkOnly;
  return isQpcKey(k) || PARSED_PREFIXES.some((p) => k.startsWith(p));
}
/** unknown keys in these families are QuorumPeerConfig's too */
const PARSED_PREFIXES = [...FAMILIES.flatMap((f) => (f.prefix ? [f.prefix] : [])), 'quorum.', 'jvm.pause.', 'metricsProvider.', 'multiAddress.'];

/** The Node.js counterpart of System.getProperties(), sorted by name (never environment variables). */
export function systemProperties(ctx: FourLetterContext): Record<string, string> {
  const props: Record<string, string> = {
    'file.encoding': 'UTF-8',
    'file.separator': path.sep,
    'java.home': path.dirname(path.dirname(process.execPath)),
    'java.io.tmpdir': os.tmpdir(),
    'java.vendor': 'Node.js',
    'java.version': process.version,
    'line.separator': os.EOL,
    'node.exec_path': process.execPath,
    'os.arch': os.arch(),
    'os.name': os.type(),
    'os.version': os.release(),
    'path.separator': path.delimiter,
    'process.argv': process.argv.join(' '),
    'process.pid': String(process.pid),
    'user.dir': process.cwd(),
    'user.home': os.homedir(),
    'user.name': os.userInfo().username,
    'zookeeper.version': VERSION_STRING,
  };
  for (const [k, v] of Object.entries(process.versions)) if (v) props[`node.versions.${k}`] = v;
  for (const [k, v] of ctx.config.raw) {
    if (parsedByQpc(k)) continue;
    props[k.startsWith('zookeeper.') ? k : `zookeeper.${k}`] = v;
  }
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(props).sort()) sorted[k] = props[k];
  return sorted;
}

/** QuorumPeer MultipleAddresses as Jackson serializes it (zabstate's quorum_address / election_address). */
function multipleAddresses(host: string, port: number): JsonObject {
  const hp = `${host}:${port}`;
  return {
    empty: false,
    all_addresses: [hp],
    all_reachable_addresses: [hp],
    one: hp,
    reachable_address: hp,
    wildcard_addresses: [`0.0.0.0:${port}`],
    all_ports: [port],
    all_host_strings: [host],
    all_reachable_addresses_or_all: [hp],
    reachable_or_one: hp,
  };
}

function isQuorum(ctx: FourLetterContext): boolean {
  const m = ctx.mode();
  return m === 'leader' || m === 'follower' || m === 'observer';
}

function watchSummary(zk: ZooKeeperServer): JsonObject {
  const dw = zk.tree.dataWatches;
  return { num_connections: dw.watcherCount(), num_paths: dw.pathCount(), num_total_watches: dw.size };
}

const DOUBLE_MONITOR_KEYS = new Set(['avg_latency', 'connection_drop_probability']);

export const ADMIN_COMMANDS: AdminCommand[] = [
  {
    names: ['connection_stat_reset', 'crst'],
    serverRequired: true,
    run(_ctx, zk) {
      for (const c of zkOf(zk).cnxns) c.resetStats();
      return {};
    },
  },
  {
    names: ['configuration', 'conf', 'config'],
    serverRequired: true,
    run(ctx) {
      // ZooKeeperServerConf.toMap: the fields and their order come from the key table
      const out: JsonObject = {};
      for (const [field, line] of ADMIN_CONF_FIELDS) out[field] = confValue(line, ctx.config);
      return out;
    },
  },
  {
    names: ['connections', 'cons'],
    serverRequired: true,
    run(_ctx, zk) {
      return { connections: [...zkOf(zk).cnxns].map((c) => connectionInfo(c, false)), secure_connections: [] };
    },
  },
  {
    names: ['dirs'],
    serverRequired: true,
    run(ctx) {
      return { datadir_size: dirSize(snapDir(ctx)), logdir_size: dirSize(logDir(ctx)) };
    },
  },
  {
    names: ['dump'],
    serverRequired: true,
    run(_ctx, zkn) {
      const zk = zkOf(zkn);
      const byDeadline = new Map<number, bigint[]>();
      for (const s of zk.sessions.sessions.values()) {
        const l = byDeadline.get(s.expireAt) ?? [];
        l.push(signedLong(s.id));
        byDeadline.set(s.expireAt, l);
      }
      const expiry: JsonObject = {};
      for (const [t, ids] of [...byDeadline].sort((a, b) => a[0] - b[0])) expiry[String(Math.round(t))] = ids;
      const eph: JsonObject = {};
      for (const [sid, paths] of zk.tree.ephemerals) eph[signedLong(sid).toString()] = [...paths];
      return { expiry_time_to_session_ids: expiry, session_id_to_ephemeral_paths: eph };
    },
  },
  {
    names: ['environment', 'env', 'envi'],
    serverRequired: false,
    run() {
      const out: JsonObject = {};
      for (const [k, v] of environment()) out[k] = v;
      return out;
    },
  },
  {
    names: ['get_trace_mask', 'gtmk'],
    serverRequired: false,
    run(ctx) {
      return { tracemask: signedLong(ctx.traceMask.value) };
    },
  },
  {
    names: ['hash'],
    serverRequired: true,
    run(_ctx, zkn) {
      // DataTree.getDigestLog as Jackson writes ZxidDigest beans
      const digests = zkOf(zkn).tree.digestLog.map((d) => ({ zxid: d.zxid, digest: d.digest, digestVersion: d.digestVersion }));
      return { digests };
    },
  },
  {
    names: ['initial_configuration', 'icfg'],
    serverRequired: true,
    run(ctx) {
      let text: string | null = null;
      try {
        text = fs.readFileSync(ctx.config.file, 'utf8');
      } catch {
        text = null;
      }
      return { initial_configuration: text };
    },
  },
  {
    names: ['is_read_only', 'isro'],
    serverRequired: true,
    run(ctx) {
      return { read_only: ctx.mode() === 'read-only' };
    },
  },
  {
    names: ['last_snapshot', 'lsnp'],
    serverRequired: true,
    run(ctx, zkn) {
      const zk = zkOf(zkn);
      const info = lastSnapshotInfo(ctx, zk) ?? {
        zxid: zk.lastProcessedZxid,
        timestampSec: Math.floor(zk.startTime / 1000),
      };
      return { zxid: info.zxid.toString(16), timestamp: info.timestampSec };
    },
  },
  {
    names: ['leader', 'lead'],
    serverRequired: true,
    run(ctx) {
      if (!isQuorum(ctx)) return { error: 'server is not initialized' };
      const isLeader = ctx.mode() === 'leader';
      let leader = ctx.leader?.() ?? null;
      if (!leader && isLeader && ctx.config.myid !== undefined) {
        leader = { id: ctx.config.myid, address: ctx.config.servers.get(ctx.config.myid)?.host ?? null };
      }
      return { is_leader: isLeader, leader_id: leader ? leader.id : -1, leader_ip: leader?.address ?? '' };
    },
  },
  {
    names: ['monitor', 'mntr'],
    serverRequired: false,
    run(ctx) {
      if (!ctx.zk) return { version: VERSION_STRING, server_state: ctx.mode() };
      const out: JsonObject = {};
      for (const [k, v] of monitorValues(ctx)) {
        out[k] = typeof v === 'number' && (DOUBLE_MONITOR_KEYS.has(k) || k.startsWith('avg_')) ? new JavaDouble(v) : v;
      }
      return out;
    },
  },
  {
    names: ['observer_connection_stat_reset', 'orst'],
    serverRequired: true,
    run() {
      return {};
    },
  },
  {
    names: ['ruok'],
    serverRequired: true,
    run() {
      return {};
    },
  },
  {
    names: ['set_trace_mask', 'stmk'],
    serverRequired: false,
    run(ctx, _zk, params) {
      if (!Object.prototype.hasOwnProperty.call(params, 'traceMask')) {
        return { error: 'setTraceMask requires long traceMask argument' };
      }
      const raw = params.traceMask;
      let mask: bigint;
      try {
        if (!/^[+-]?\d+$/.test(raw)) throw new Error('not a number');
        mask = BigInt(raw);
        if (mask !== BigInt.asIntN(64, mask)) throw new Error('out of range');
      } catch {
        return { error: `setTraceMask requires long traceMask argument, got ${raw}` };
      }
      ctx.traceMask.value = mask;
      return { tracemask: mask };
    },
  },
  {
    names: ['server_stats', 'srvr'],
    serverRequired: true,
    run(ctx, zk) {
      return srvr(ctx, zkOf(zk));
    },
  },
  {
    names: ['stats', 'stat'],
    serverRequired: true,
    run(ctx, zkn) {
      const zk = zkOf(zkn);
      return {
        ...srvr(ctx, zk),
        connections: [...zk.cnxns].map((c) => connectionInfo(c, true)),
        secure_connections: [],
      };
    },
  },
  {
    names: ['stat_reset', 'srst'],
    serverRequired: true,
    run(_ctx, zk) {
      zkOf(zk).stats.reset();
      return {};
    },
  },
  {
    names: ['observers', 'obsr'],
    serverRequired: true,
    run() {
      return { synced_observers: 0, observers: [] };
    },
  },
  {
    names: ['system_properties', 'sysp'],
    serverRequired: false,
    run(ctx) {
      return systemProperties(ctx);
    },
  },
  {
    names: ['voting_view'],
    serverRequired: true,
    run(ctx) {
      const view: JsonObject = {};
      if (isQuorum(ctx)) {
        for (const s of [...ctx.config.servers.values()].sort((a, b) => a.id - b.id)) {
          if (s.type !== 'participant') continue;
          view[String(s.id)] = {
            server_addresses: [`${s.host}:${s.quorumPort}`],
            election_addresses: [`${s.host}:${s.electionPort}`],
            client_address:
              s.clientPort !== undefined
                ? `${s.clientHost ?? s.host}:${s.clientPort}`
                : s.id === ctx.config.myid && ctx.config.clientPort > 0
                  ? `${ctx.config.clientPortAddress || '0.0.0.0'}:${ctx.config.clientPort}`
                  : null,
            learner_type: s.type,
          };
        }
      }
      return { current_config: view };
    },
  },
  {
    names: ['watches', 'wchc'],
    serverRequired: true,
    run(_ctx, zk) {
      const out: JsonObject = {};
      for (const [w, paths] of zkOf(zk).tree.dataWatches.watcherEntries()) {
        const k = signedLong(w.sessionId).toString();
        const prev = (out[k] as string[] | undefined) ?? [];
        out[k] = [...prev, ...paths];
      }
      return { session_id_to_watched_paths: out };
    },
  },
  {
    names: ['watches_by_path', 'wchp'],
    serverRequired: true,
    run(_ctx, zk) {
      const out: JsonObject = {};
      for (const [p, m] of zkOf(zk).tree.dataWatches.entries()) {
        out[p] = [...new Set([...m.keys()].map((w) => signedLong(w.sessionId)))];
      }
      return { path_to_session_ids: out };
    },
  },
  {
    names: ['watch_summary', 'wchs'],
    serverRequired: true,
    run(_ctx, zk) {
      return watchSummary(zkOf(zk));
    },
  },
  {
    names: ['zabstate'],
    serverRequired: false,
    run(ctx) {
      if (!isQuorum(ctx) || ctx.config.myid === undefined) return { voting: false, zabstate: '' };
      const myid = ctx.config.myid;
      const me = ctx.config.servers.get(myid);
      const zxid = ctx.zk ? ctx.zk.lastProcessedZxid : 0;
      const phase = ctx.zabState?.() ?? (isServing(ctx) ? 'broadcast' : 'election');
      return {
        myid,
        is_leader: ctx.mode() === 'leader',
        quorum_address: me ? multipleAddresses(me.host, me.quorumPort) : null,
        election_address: me ? multipleAddresses(me.host, me.electionPort) : null,
        client_address: `${ctx.config.clientPortAddress || '0.0.0.0'}:${ctx.config.clientPort}`,
        voting: me?.type === 'participant',
        last_zxid: '0x' + zxid.toString(16),
        zab_epoch: Math.floor(zxid / 2 ** 32),
        zab_counter: zxid % 2 ** 32,
        zabstate: phase.toLowerCase(),
      };
    },
  },
];

const BY_NAME = new Map<string, AdminCommand>();
for (const c of ADMIN_COMMANDS) for (const n of c.names) BY_NAME.set(n, c);

/** The command registered under `name` (primary name or alias), if any. */
export function getAdminCommand(name: string): AdminCommand | undefined {
  return BY_NAME.get(name);
}

/** Primary names, sorted (the order of the HTML list at GET /commands). */
export function primaryCommandNames(): string[] {
  return ADMIN_COMMANDS.map((c) => c.names[0]).sort();
}

/**
 * Commands.runCommand + CommandResponse.toMap: the command's keys, then "command" (the primary name;
 * the name as requested for unknown / not-serving answers) and "error" (null unless failed). A command
 * that fails itself reports its "error" in place of its data, as 3.8 does (`{"error": …, "command": …}`).
 */
export function runAdminCommand(name: string, ctx: AdminContext, params: Record<string, string> = {}): JsonObject {
  const cmd = BY_NAME.get(name);
  if (!cmd) return { command: name, error: `Unknown command: ${name}` };
  if (cmd.serverRequired && !isServing(ctx)) return { command: name, error: NOT_SERVING };
  const data = cmd.run(ctx, ctx.zk, params);
  const out: JsonObject = { ...data, command: cmd.names[0] };
  if (!('error' in data)) out.error = null;
  return out;
}
