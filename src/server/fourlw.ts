// The four-letter words (ZooKeeper's server/command/*): plain-text answers on the client port.
import { BufferStats, metricLines, quotaExceededByNamespace } from '../util/metrics';
import { maxFileDescriptors, openFileDescriptors } from '../util/procfs';
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServerConfig } from '../config/types';
import { CONF_LINES, ConfLineName } from '../config/keys';
import { membershipText } from '../config/load';
import { Cnxn, opAbbrev, ZooKeeperServer } from './zkserver';
import { VERSION_STRING, ZK_VERSION } from '../version';
import { msSince } from '../util/clock';

export const FOUR_LETTER_WORDS = [
  'ruok', 'conf', 'cons', 'crst', 'dump', 'envi', 'gtmk', 'isro', 'mntr', 'srst', 'srvr', 'stat', 'stmk',
  'wchc', 'wchp', 'wchs', 'dirs', 'hash',
] as const;

const WORD_BY_INT = new Map<number, string>(FOUR_LETTER_WORDS.map((w) => [Buffer.from(w).readInt32BE(0), w]));

/** The word a connection's first four bytes spell, if they spell one. */
export function fourLetterWord(first4: number): string | undefined {
  return WORD_BY_INT.get(first4);
}

export interface FourLetterContext {
  zk: ZooKeeperServer | null;
  /** the txn log's fsync counters, when the server is durable */
  config: ServerConfig;
  /** standalone | leader | follower | observer */
  mode(): string;
  traceMask: { value: bigint };
  /** extra mntr values of a quorum peer (leader: learners, synced_followers, ...) */
  quorumMonitor?(): [string, number][];
  /** voting members of the ensemble */
  quorumSize?(): number;
  /** a quorum peer's detailed state for mntr (zk_peer_state), e.g. "leading - broadcast" */
  peerState?(): string;
  /** the leader's proposal sizes (stat, srst, admin srvr); null on other roles */
  proposalStats?(): BufferStats | null;
  /** a quorum peer: `conf` adds the quorum lines (initLimit … membership) */
  quorum?: boolean;
}

export function isAllowed(word: string, config: ServerConfig): boolean {
  if (word === 'srvr') return true;
  const wl = config.fourLetterWhitelist;
  return wl === '*' || wl.has(word);
}

/** This server's line (a quorum peer has one). */
function selfLine(c: ServerConfig) {
  const me = c.myid !== undefined ? c.servers.get(c.myid) : undefined;
  if (!me) throw new Error(`conf: no server line for myid ${c.myid}`);
  return me;
}

/** The value of each `conf` line; the names and their order come from the key table (CONF_LINES). */
const CONF_VALUES: Record<ConfLineName, (c: ServerConfig) => string | number> = {
  clientPort: (c) => c.clientPort,
  secureClientPort: (c) => c.secureClientPort ?? -1,
  dataDir: (c) => path.join(c.dataDir, 'version-2'),
  dataDirSize: (c) => dirSize(path.join(c.dataDir, 'version-2')),
  dataLogDir: (c) => path.join(c.dataLogDir, 'version-2'),
  dataLogSize: (c) => dirSize(path.join(c.dataLogDir, 'version-2')),
  tickTime: (c) => c.tickTime,
  maxClientCnxns: (c) => c.maxClientCnxns,
  minSessionTimeout: (c) => c.minSessionTimeout,
  maxSessionTimeout: (c) => c.maxSessionTimeout,
  clientPortListenBacklog: (c) => c.clientPortListenBacklog,
  serverId: (c) => c.myid ?? 0,
  initLimit: (c) => c.initLimit,
  syncLimit: (c) => c.syncLimit,
  electionAlg: (c) => c.electionAlg,
  electionPort: (c) => selfLine(c).electionPort,
  quorumPort: (c) => selfLine(c).quorumPort,
  peerType: (c) => (selfLine(c).type === 'observer' ? 1 : 0),
  membership: (c) => membershipText(c),
};

/** The value a `conf` line shows (the admin `configuration` command shares them). */
export function confValue(name: ConfLineName, c: ServerConfig): string | number {
  return CONF_VALUES[name](c);
}

/**
 * The `conf` four-letter word, byte for byte as ZooKeeper 3.8 prints it: ZooKeeperServer.dumpConf,
 * then on a quorum peer QuorumPeer's lines and `membership: ` followed by the membership text,
 * which ends in `version=0` without a newline.
 */
export function confText(c: ServerConfig, quorum: boolean): string {
  let out = '';
  for (const l of CONF_LINES) {
    if (l.quorum && !quorum) continue;
    out += l.name === 'membership' ? `membership: \n${confValue(l.name, c)}` : `${l.name}=${confValue(l.name, c)}\n`;
  }
  return out;
}

const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests\n';

export function dirSize(dir: string): number {
  let total = 0;
  try {
    for (const f of fs.readdirSync(dir)) {
      try {
        const st = fs.statSync(path.join(dir, f));
        if (st.isFile()) total += st.size;
      } catch {
        // raced with a purge
      }
    }
  } catch {
    return 0;
  }
  return total;
}

function hex(n: number | bigint): string {
  return '0x' + (typeof n === 'bigint' ? BigInt.asUintN(64, n).toString(16) : n.toString(16));
}

function srvrLines(ctx: FourLetterContext, zk: ZooKeeperServer, withClients: boolean): string {
  const s = zk.stats;
  const avg = s.count ? s.totalLatency / s.count : 0;
  let out = `Zookeeper version: ${VERSION_STRING}\n`;
  if (zk.role === 'read-only') out += 'READ-ONLY mode; serving only read-only clients\n';
  if (withClients) {
    out += 'Clients:\n';
    for (const c of zk.cnxns) out += consLine(c, true) + '\n';
    out += '\n';
  }
  out += `Latency min/avg/max: ${s.count ? s.minLatency : 0}/${avg.toFixed(4)}/${s.maxLatency}\n`;
  out += `Received: ${s.packetsReceived}\n`;
  out += `Sent: ${s.packetsSent}\n`;
  out += `Connections: ${zk.cnxns.size}\n`;
  out += `Outstanding: ${zk.outstandingRequests}\n`;
  out += `Zxid: ${hex(zk.lastProcessedZxid)}\n`;
  out += `Mode: ${ctx.mode()}\n`;
  out += `Node count: ${zk.tree.nodeCount + 1}\n`;
  const proposals = ctx.proposalStats?.();
  if (proposals) out += `Proposal sizes last/min/max: ${proposals}\n`;
  return out;
}

function consLine(c: Cnxn, brief: boolean): string {
  let s = ` /${c.io.remoteAddress.replace(/^::ffff:/, '')}:${c.io.remotePort}[1](queued=${c.queue.length},recved=${c.packetsReceived},sent=${c.packetsSent}`;
  if (!brief || c.sessionId !== 0n) {
    if (c.sessionId !== 0n) {
      const avg = c.latencyCount ? Math.floor(c.totalLatency / c.latencyCount) : 0;
      s += `,sid=${hex(c.sessionId)},lop=${c.lastOp},est=${c.established},to=${c.sessionTimeout}`;
      if (c.lastCxid >= 0) s += `,lcxid=${hex(c.lastCxid)}`;
      s += `,lzxid=${hex(c.lastZxid < 0 ? -1 : c.lastZxid)},lresp=${c.lastResponseTime},llat=${c.lastLatency},minlat=${c.latencyCount ? c.minLatency : 0},avglat=${avg},maxlat=${c.maxLatency}`;
    }
  }
  return s + ')';
}

export function environment(): [string, string][] {
  return [
    ['zookeeper.version', VERSION_STRING],
    ['host.name', os.hostname()],
    ['java.version', process.version],
    ['java.vendor', 'Node.js'],
    ['java.home', path.dirname(path.dirname(process.execPath))],
    ['java.class.path', process.argv[1] ?? ''],
    ['java.library.path', ''],
    ['java.io.tmpdir', os.tmpdir()],
    ['java.compiler', '<NA>'],
    ['os.name', os.type()],
    ['os.arch', os.arch()],
    ['os.version', os.release()],
    ['user.name', os.userInfo().username],
    ['user.home', os.homedir()],
    ['user.dir', process.cwd()],
    ['os.memory.free', `${Math.round(os.freemem() / 1048576)}MB`],
    ['os.memory.max', `${Math.round(os.totalmem() / 1048576)}MB`],
    ['os.memory.total', `${Math.round(process.memoryUsage().rss / 1048576)}MB`],
  ];
}

/** mntr key/value pairs (without the zk_ prefix), in ZooKeeper's order for the first ones. */
export function monitorValues(ctx: FourLetterContext): [string, string | number][] {
  const zk = ctx.zk!;
  const s = zk.stats;
  const watchCount = zk.tree.dataWatches.size + zk.tree.childWatches.size;
  const mem = process.memoryUsage();
  const responses = zk.stats.clientResponses;
  return [
    ['version', VERSION_STRING],
    ['server_state', ctx.mode()],
    ...(ctx.peerState ? ([['peer_state', ctx.peerState()]] as [string, string][]) : []),
    ['avg_latency', s.count ? Number((s.totalLatency / s.count).toFixed(4)) : 0],
    ['max_latency', s.maxLatency],
    ['min_latency', s.count ? s.minLatency : 0],
    ['packets_received', s.packetsReceived],
    ['packets_sent', s.packetsSent],
    ['num_alive_connections', zk.cnxns.size],
    ['outstanding_requests', zk.outstandingRequests],
    ['znode_count', zk.tree.nodeCount + 1],
    ['watch_count', watchCount],
    ['ephemerals_count', zk.tree.ephemeralCount()],
    ['approximate_data_size', zk.tree.approximateDataSize],
    ['open_file_descriptor_count', openFileDescriptors()],
    ['max_file_descriptor_count', maxFileDescriptors()],
    ['uptime', msSince(zk.startedAt)],
    ['global_sessions', zk.sessions.sessions.size],
    ['local_sessions', zk.localSessions?.sessions.size ?? 0],
    ['connection_drop_probability', 0],
    ['auth_failed_count', s.authFailed],
    ['last_client_response_size', responses.last],
    ['max_client_response_size', responses.max],
    ['min_client_response_size', responses.min],
    ['outstanding_tls_handshake', 0],
    ['non_mtls_remote_conn_count', 0],
    ['non_mtls_local_conn_count', 0],
    ['quorum_size', ctx.quorumSize?.() ?? Math.max(1, ctx.config.servers.size)],
    ...(ctx.quorumMonitor?.() ?? []),
    ...metricLines(),
    ...quotaLines(zk),
    ['heap_used_bytes', mem.heapUsed],
    ['rss_bytes', mem.rss],
  ];
}

/** The full text answer to a four-letter word. */
export function runFourLetterWord(word: string, ctx: FourLetterContext, arg?: bigint): string {
  if (!isAllowed(word, ctx.config)) return `${word} is not executed because it is not in the whitelist.\n`;
  const zk = ctx.zk;
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'isro':
      return zk && zk.running ? (zk.role === 'read-only' ? 'ro\n' : 'rw\n') : 'null\n';
    case 'envi':
      return 'Environment:\n' + environment().map(([k, v]) => `${k}=${v}\n`).join('');
    case 'gtmk':
      return `${ctx.traceMask.value}\n`;
    case 'stmk':
      if (arg !== undefined) ctx.traceMask.value = arg;
      return `${ctx.traceMask.value}\n`;
  }
  if (!zk || !zk.running) return NOT_SERVING;
  switch (word) {
    case 'srvr':
      return srvrLines(ctx, zk, false);
    case 'stat':
      return srvrLines(ctx, zk, true);
    case 'cons': {
      let out = '';
      for (const c of zk.cnxns) out += consLine(c, false) + '\n';
      return out + '\n';
    }
    case 'crst':
      for (const c of zk.cnxns) c.resetStats();
      return 'Connection stats reset.\n';
    case 'srst':
      zk.stats.reset();
      ctx.proposalStats?.()?.reset();
      return 'Server stats reset.\n';
    case 'conf':
      return confText(ctx.config, ctx.quorum === true);
    case 'dump': {
      let out = 'SessionTracker dump:\n';
      const byDeadline = new Map<number, bigint[]>();
      for (const s of zk.sessions.sessions.values()) {
        const l = byDeadline.get(s.expireAt) ?? [];
        l.push(s.id);
        byDeadline.set(s.expireAt, l);
      }
      out += `Session Sets (${byDeadline.size})/(${zk.sessions.sessions.size}):\n`;
      const offset = Date.now() - zk.now();
      for (const [t, ids] of [...byDeadline].sort((a, b) => a[0] - b[0])) {
        out += `${ids.length} expire at ${new Date(t + offset).toString()}:\n`;
        for (const id of ids) out += `\t${hex(id)}\n`;
      }
      out += 'ephemeral nodes dump:\n';
      out += `Sessions with Ephemerals (${zk.tree.ephemerals.size}):\n`;
      for (const [sid, paths] of zk.tree.ephemerals) {
        out += `${hex(sid)}:\n`;
        for (const p of paths) out += `\t${p}\n`;
      }
      out += 'Connections dump:\n';
      out += `Connections Sets (0)/(${zk.cnxns.size}):\n`;
      return out;
    }
    case 'wchs': {
      const dw = zk.tree.dataWatches;
      return `${dw.watcherCount()} connections watching ${dw.pathCount()} paths\nTotal watches:${dw.size}\n`;
    }
    case 'wchc': {
      let out = '';
      for (const [w, paths] of zk.tree.dataWatches.watcherEntries()) {
        out += `${hex(w.sessionId)}\n`;
        for (const p of paths) out += `\t${p}\n`;
      }
      return out + '\n';
    }
    case 'wchp': {
      let out = '';
      for (const [p, m] of zk.tree.dataWatches.entries()) {
        out += `${p}\n`;
        for (const w of m.keys()) out += `\t${hex(w.sessionId)}\n`;
      }
      return out + '\n';
    }
    case 'dirs':
      return `datadir_size: ${dirSize(path.join(ctx.config.dataDir, 'version-2'))}\nlogdir_size: ${dirSize(path.join(ctx.config.dataLogDir, 'version-2'))}\n`;
    case 'mntr':
      // averages are Java doubles there (AvgMinMaxCounter.getAvg, ServerStats.getAvgLatency): "6.0"
      return monitorValues(ctx)
        .map(([k, v]) => `zk_${k}\t${typeof v === 'number' && k.startsWith('avg_') && Number.isInteger(v) ? `${v}.0` : v}\n`)
        .join('');
    case 'hash':
      // DigestCommand: every 128th zxid's tree digest, oldest first (Long.toHexString: unsigned hex)
      return zk.tree.digestLog.map((d) => `${d.zxid.toString(16)}: ${d.digest}\n`).join('');
  }
  return '';
}

export { ZK_VERSION, opAbbrev };

/** ZooKeeper's fsynctime summary (zk_avg/min/max/cnt/sum_fsynctime). */

/** The quota gauge sets and the quota-exceeded counter set as the metrics provider dumps them: `<namespace>_<name>`. */
export function quotaLines(zk: ZooKeeperServer): [string, number][] {
  const out: [string, number][] = [];
  for (const [name, m] of Object.entries(zk.tree.quotaGauges())) for (const [ns, v] of m) out.push([`${ns}_${name}`, v]);
  for (const [ns, v] of quotaExceededByNamespace) out.push([`${ns}_quota_exceeded_error_per_namespace`, v]);
  return out;
}
