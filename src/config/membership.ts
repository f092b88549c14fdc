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
