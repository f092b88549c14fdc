// `zk-server cluster status`: one table of every peer, from each one's `srvr` four-letter word (the
// one 3.8's default 4lw.commands.whitelist always allows), so it works on Apache ZooKeeper peers too.
import { parseSrvr } from './util/fourletter';

export interface PeerAddress {
  id: string;
  host: string;
  port: number;
}

export interface PeerStatus {
  peer: PeerAddress;
  /** standalone, leader, follower, observer, read-only; 'not serving' (electing, syncing); 'unreachable' */
  mode: string;
  zxid?: bigint;
  /** the peer's current epoch (its dataDir's version-2/currentEpoch), when this machine can read it */
  epoch?: number;
  connections?: number;
  outstanding?: number;
  latency?: string;
  nodes?: number;
}

/** What `srvr` says about a server ('' = no answer). */
export function statusOf(peer: PeerAddress, text: string): PeerStatus {
  if (!text) return { peer, mode: 'unreachable' };
  const f = parseSrvr(text);
  return {
    peer,
    mode: f.role,
    zxid: f.zxid ? BigInt(f.zxid) : undefined,
    // srvr counts the connection that asks it
    connections: f.connections === null ? undefined : Math.max(0, f.connections - 1),
    outstanding: f.outstanding ?? undefined,
    latency: f.latency ? `${f.latency.min}/${f.latency.avg.toFixed(4)}/${f.latency.max}` : undefined,
    nodes: f.nodeCount ?? undefined,
  };
}

/** The table, one row per peer; columns padded to their widest cell. */
export function statusTable(rows: PeerStatus[]): string {
  const cells = [
    ['ID', 'ADDRESS', 'MODE', 'ZXID', 'EPOCH', 'CLIENTS', 'OUTSTANDING', 'LATENCY min/avg/max ms', 'ZNODES'],
    ...rows.map((r) => {
      const opt = (v: number | bigint | string | undefined): string => (v === undefined ? '-' : String(v));
      return [
        r.peer.id,
        `${r.peer.host}:${r.peer.port}`,
        r.mode,
        r.zxid === undefined ? '-' : '0x' + r.zxid.toString(16),
        // not the zxid's high half: a new leader's epoch has no zxid until its first write
        opt(r.epoch),
        opt(r.connections),
        opt(r.outstanding),
        opt(r.latency),
        opt(r.nodes),
      ];
    }),
  ];
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  return cells.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n') + '\n';
}

/** One line under the table: is there one leader, and do the serving peers agree on the epoch? */
export function summary(rows: PeerStatus[]): { ok: boolean; text: string } {
  const serving = rows.filter((r) => !['unreachable', 'not serving', 'unknown'].includes(r.mode));
  const leaders = rows.filter((r) => r.mode === 'leader');
  const standalone = rows.length === 1 && rows[0].mode === 'standalone';
  const down = rows.filter((r) => r.mode === 'unreachable' || r.mode === 'not serving').map((r) => `${r.peer.id} (${r.mode})`);
  if (standalone) return { ok: true, text: 'standalone server serving' };
  const parts: string[] = [];
  parts.push(leaders.length === 1 ? `leader: ${leaders[0].peer.id}` : `${leaders.length} leaders`);
  parts.push(`${serving.length} of ${rows.length} serving`);
  if (down.length) parts.push(`down: ${down.join(', ')}`);
  return { ok: leaders.length === 1 && serving.length === rows.length, text: parts.join('; ') };
}
