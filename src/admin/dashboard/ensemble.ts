// The ensemble panel's rows. A peer knows only its own state, so the dashboard asks every other member
// of the membership with the `srvr` four-letter word on its client port: `srvr` is the one word 3.8
// answers whatever 4lw.commands.whitelist says, it needs no AdminServer on the other peer (which is
// off by default on a port nobody wrote down), and it is what `zkServer.sh status` relies on too.
import * as net from 'node:net';
import { FourLetterContext } from '../../server/fourlw';
import { QuorumServerSpec } from '../../config/types';

export interface PeerRow {
  id: number | null;
  /** the member's client address as asked (host:port), or null when the membership does not say */
  address: string | null;
  /** this peer's own row, read in-process */
  self: boolean;
  /** participant | observer (standalone: participant) */
  learnerType: string;
  reachable: boolean;
  /** Mode: from srvr (leader, follower, observer, standalone, read-only), or why there is none */
  role: string;
  zxid: string | null;
  epoch: number | null;
  connections: number | null;
  outstanding: number | null;
  latency: { min: number; avg: number; max: number } | null;
  nodeCount: number | null;
  error: string | null;
}

const PROBE_TIMEOUT_MS = 1500;
/** srvr's answer is a few hundred bytes; anything far larger is not a ZooKeeper server */
const PROBE_MAX_BYTES = 64 * 1024;

/** The srvr answer of host:port, or an Error saying why there is none. */
export function askSrvr(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let done = false;
    const s = net.connect({ host, port });
    const finish = (e: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      if (e) reject(e);
      else resolve(out);
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    s.setEncoding('utf8');
    // no half-close after the word: it is how nc and zkServer.sh ask, and every server answers that
    s.on('connect', () => s.write('srvr'));
    s.on('data', (d: string) => {
      out += d;
      if (out.length > PROBE_MAX_BYTES) finish(new Error('answer too large'));
    });
    s.on('end', () => finish(null));
    s.on('close', () => finish(null));
    s.on('error', (e) => finish(e));
  });
}

/** The fields of a srvr answer (FourLetterCommands' StatCommand without clients). */
export function parseSrvr(text: string): Omit<PeerRow, 'id' | 'address' | 'self' | 'learnerType'> {
  const field = (name: string): string | null => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1]?.trim() ?? null;
  const mode = field('Mode');
  if (!mode) {
    // a peer without a quorum answers "This ZooKeeper instance is not currently serving requests"
    const why = text.trim() || 'empty answer';
    return { reachable: true, role: 'not serving', zxid: null, epoch: null, connections: null, outstanding: null, latency: null, nodeCount: null, error: why.slice(0, 200) };
  }
  const lat = /^Latency min\/avg\/max: ([\d.]+)\/([\d.]+)\/([\d.]+)$/m.exec(text);
  const zxid = field('Zxid');
  const num = (s: string | null): number | null => (s === null || !/^\d+$/.test(s) ? null : Number(s));
  return {
    reachable: true,
    role: /READ-ONLY mode/.test(text) ? 'read-only' : mode,
    zxid,
    epoch: zxid && /^0x[0-9a-f]+$/i.test(zxid) ? Number(BigInt(zxid) >> 32n) : null,
    connections: num(field('Connections')),
    outstanding: num(field('Outstanding')),
    latency: lat ? { min: Number(lat[1]), avg: Number(lat[2]), max: Number(lat[3]) } : null,
    nodeCount: num(field('Node count')),
    error: null,
  };
}

/** This peer's row, from its own state (no socket: it answers even when its client port is busy). */
function selfRow(ctx: FourLetterContext, spec: QuorumServerSpec | undefined): PeerRow {
  const zk = ctx.zk;
  const c = ctx.config;
  const base = {
    id: c.myid ?? null,
    address: c.clientPort > 0 ? `${c.clientPortAddress || '0.0.0.0'}:${c.clientPort}` : null,
    self: true,
    learnerType: spec?.type ?? 'participant',
    reachable: true,
  };
  if (!zk || !zk.running) {
    return { ...base, role: ctx.mode() === 'looking' ? 'looking' : 'not serving', zxid: null, epoch: null, connections: null, outstanding: null, latency: null, nodeCount: null, error: null };
  }
  const s = zk.stats;
  const zxid = zk.lastProcessedZxid;
  return {
    ...base,
    role: ctx.mode(),
    zxid: '0x' + zxid.toString(16),
    epoch: Math.floor(zxid / 2 ** 32),
    connections: zk.cnxns.size,
    outstanding: zk.outstandingRequests,
    latency: { min: s.count ? s.minLatency : 0, avg: s.count ? Number((s.totalLatency / s.count).toFixed(4)) : 0, max: s.maxLatency },
    nodeCount: zk.tree.nodeCount + 1,
    error: null,
  };
}

/**
 * Where a member's clients connect: the membership's `;host:port` (3.5+ dynamic form); else this
 * peer's clientPort on the member's host (the usual one-peer-per-host layout). When the member shares
 * our host and names no client port that guess would reach ourselves, so it stays unknown.
 */
export function clientAddressOf(member: QuorumServerSpec, ctx: FourLetterContext): { host: string; port: number } | null {
  if (member.clientPort !== undefined && member.clientPort > 0) {
    const h = member.clientHost && member.clientHost !== '0.0.0.0' ? member.clientHost : member.host;
    return { host: h, port: member.clientPort };
  }
  const me = ctx.config.myid !== undefined ? ctx.config.servers.get(ctx.config.myid) : undefined;
  if (!me || me.host === member.host || ctx.config.clientPort <= 0) return null;
  return { host: member.host, port: ctx.config.clientPort };
}

async function memberRow(member: QuorumServerSpec, ctx: FourLetterContext): Promise<PeerRow> {
  const base = { id: member.id, self: false, learnerType: member.type };
  const addr = clientAddressOf(member, ctx);
  const unreachable = (address: string | null, error: string): PeerRow => ({
    ...base, address, reachable: false, role: 'unreachable', zxid: null, epoch: null, connections: null, outstanding: null, latency: null, nodeCount: null, error,
  });
  if (!addr) return unreachable(null, 'client address unknown: give it in the server line (server.N=host:quorum:election;clientPort)');
  const address = `${addr.host}:${addr.port}`;
  try {
    return { ...base, address, ...parseSrvr(await askSrvr(addr.host, addr.port)) };
  } catch (e) {
    return unreachable(address, (e as Error).message);
  }
}

/** Every member, by server id (standalone: the one row of this server), asked in parallel. */
export async function ensembleRows(ctx: FourLetterContext): Promise<PeerRow[]> {
  const members = [...ctx.config.servers.values()].sort((a, b) => a.id - b.id);
  const myid = ctx.config.myid;
  if (!ctx.quorum || members.length === 0) return [selfRow(ctx, undefined)];
  return Promise.all(members.map((m) => (m.id === myid ? Promise.resolve(selfRow(ctx, m)) : memberRow(m, ctx))));
}
