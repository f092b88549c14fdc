// The ensemble panel's rows. A peer knows only its own state, so the dashboard asks every other member
// of the membership with the `srvr` four-letter word on its client port: `srvr` is the one word 3.8
// answers whatever 4lw.commands.whitelist says, it needs no AdminServer on the other peer (which is
// off by default on a port nobody wrote down), and it is what `zkServer.sh status` relies on too.
import { fourLetterWord, parseSrvr } from '../../util/fourletter';
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

/** A srvr answer as the panel's fields (the epoch is the last zxid's: all another peer tells). */
export function rowOfSrvr(text: string): Omit<PeerRow, 'id' | 'address' | 'self' | 'learnerType'> {
  const f = parseSrvr(text);
  return {
    reachable: true,
    role: f.role,
    zxid: f.zxid,
    epoch: f.zxid ? Number(BigInt(f.zxid) >> 32n) : null,
    connections: f.connections,
    outstanding: f.outstanding,
    latency: f.latency,
    nodeCount: f.nodeCount,
    error: f.notServing,
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
    return { ...base, address, ...rowOfSrvr(await fourLetterWord(addr.host, addr.port, 'srvr', PROBE_TIMEOUT_MS)) };
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
