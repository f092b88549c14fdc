// The ensemble's membership as dynamic reconfiguration moves it around (ZooKeeper's QuorumVerifier
// with its version): the server lines, the hierarchical groups and weights, and the version — the
// zxid of the reconfig txn that made it (0 for the membership zoo.cfg started with). Its text form
// is what /zookeeper/config holds, what a reconfig txn carries, what NEWLEADER and the election's
// notifications carry, and what the dynamic config file holds (without the version line).
import { ConfigError, QuorumServerSpec, ServerConfig } from './types';
import { membershipText, parseProperties, parseServerLine } from './load';

export interface Membership {
  version: number;
  servers: Map<number, QuorumServerSpec>;
  groups: Map<number, number[]>;
  weights: Map<number, number>;
}

export class MembershipError extends Error {}

/** The membership a config holds now. */
export function membershipOf(c: Pick<ServerConfig, 'servers' | 'groups' | 'weights' | 'configVersion'>): Membership {
  return { version: c.configVersion, servers: new Map(c.servers), groups: new Map(c.groups), weights: new Map(c.weights) };
}

/** QuorumVerifier.toString: server lines, groups and weights, then `version=<hex>`. */
export function textOf(m: Membership): string {
  return membershipText({ servers: m.servers, groups: m.groups, weights: m.weights, configVersion: m.version });
}

/**
 * Parse membership text (server.N / group.N / weight.N / version lines, newline or comma separated
 * as the reconfig request's newMembers may be). Throws MembershipError naming what is wrong.
 */
export function parseMembership(text: string, version?: number): Membership {
  const m: Membership = { version: version ?? 0, servers: new Map(), groups: new Map(), weights: new Map() };
  const fail = (key: string) => (d: string): ConfigError => new ConfigError('membership', 0, key, d);
  for (const p of parseProperties(text.replace(/,/g, '\n'))) {
    const k = p.key;
    if (k === 'version') {
      if (version === undefined) {
        if (!/^[0-9a-fA-F]+$/.test(p.value)) throw new MembershipError(`bad version "${p.value}"`);
        m.version = parseInt(p.value, 16);
      }
    } else if (k.startsWith('server.')) {
      const id = Number(k.slice(7));
      if (!Number.isSafeInteger(id) || id < 0) throw new MembershipError(`bad server id in ${k}`);
      try {
        m.servers.set(id, parseServerLine(id, p.value, fail(k)));
      } catch (e) {
        throw new MembershipError(e instanceof ConfigError ? e.detail : String(e));
      }
    } else if (k.startsWith('group.')) {
      m.groups.set(Number(k.slice(6)), p.value.split(':').map(Number));
    } else if (k.startsWith('weight.')) {
      m.weights.set(Number(k.slice(7)), Number(p.value));
    } else {
      throw new MembershipError(`Unrecognised parameter: ${k}`);
    }
  }
  return m;
}

export function votersOf(m: Membership): number[] {
  return [...m.servers.values()].filter((s) => s.type === 'participant').map((s) => s.id);
}

/** Make `m` the config's membership (the maps are replaced in place: every holder sees it). */
export function applyMembership(c: ServerConfig, m: Membership): void {
  c.servers.clear();
  for (const [k, v] of m.servers) c.servers.set(k, v);
  c.groups.clear();
  for (const [k, v] of m.groups) c.groups.set(k, v);
  c.weights.clear();
  for (const [k, v] of m.weights) c.weights.set(k, v);
  c.configVersion = m.version;
}

/** What a reconfig request asks: servers joining and leaving (incremental), or the whole new list. */
export interface MembershipChange {
  /** `server.N=spec,server.M=spec` */
  joining?: string | null;
  /** `N,M` */
  leaving?: string | null;
  /** server / group / weight lines, comma or newline separated (bulk) */
  newMembers?: string | null;
}

/**
 * The membership a reconfig would make of `from` (PrepRequestProcessor's reconfig rules), at
 * `version`. Throws MembershipError (BADARGUMENTS) for a malformed or clashing server, an
 * incremental change of a hierarchical membership, or too few voters.
 */
export function nextMembership(from: Membership, change: MembershipChange, version: number, standaloneEnabled: boolean): Membership {
  let next: Membership;
  if (change.newMembers !== null && change.newMembers !== undefined) {
    next = parseMembership(change.newMembers, version);
  } else {
    if (from.groups.size > 0) throw new MembershipError('Incremental reconfiguration requested but last configuration seen has a non-majority quorum system');
    const servers = new Map(from.servers);
    for (const x of change.leaving ? change.leaving.split(',') : []) {
      const sid = Number(x.trim());
      if (x.trim() === '' || !Number.isSafeInteger(sid)) throw new MembershipError(`bad server id "${x}" to remove`);
      servers.delete(sid);
    }
    for (const joiner of change.joining ? change.joining.split(',') : []) {
      const parts = joiner.split('=');
      if (parts.length !== 2) throw new MembershipError('Wrong format of server string');
      const key = parts[0].trim();
      const sid = Number(key.slice(key.lastIndexOf('.') + 1));
      if (!Number.isSafeInteger(sid)) throw new MembershipError(`bad server id in "${key}"`);
      let spec: QuorumServerSpec;
      try {
        spec = parseServerLine(sid, parts[1].trim(), (d) => new ConfigError('reconfig', 0, key, d));
      } catch {
        throw new MembershipError('Reconfiguration failed');
      }
      if (spec.clientPort === undefined) throw new MembershipError('Wrong format of server string - each server should have 3 ports specified');
      // QuorumServer.checkAddressDuplicate
      for (const other of servers.values()) {
        if (other.id === sid) continue;
        const ports = new Set([other.quorumPort, other.electionPort]);
        if (spec.host === other.host && (ports.has(spec.quorumPort) || ports.has(spec.electionPort))) throw new MembershipError('Reconfiguration failed');
      }
      servers.delete(sid);
      servers.set(sid, spec);
    }
    next = { version, servers, groups: new Map(), weights: new Map() };
  }
  const voters = votersOf(next).length;
  if (standaloneEnabled ? voters < 2 : voters < 1) {
    throw new MembershipError(`Reconfig failed - new configuration must include at least ${standaloneEnabled ? '2 followers' : '1 follower'}`);
  }
  return next;
}
