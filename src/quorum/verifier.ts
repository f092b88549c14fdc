// Which sets of voters make a quorum (ZooKeeper's QuorumVerifier): a plain majority of the
// participants (QuorumMaj), or, when zoo.cfg has group.N / weight.N lines, a weighted majority in a
// majority of the groups (QuorumHierarchical). The election (fle/fle.ts) and the leader's Zab core
// (zab/leader.ts) ask only this, so both follow the same rule.
import { ServerConfig } from '../config/types';

export interface QuorumVerifier {
  /** the participants: their votes are counted (weight 0 ones count for nothing) */
  readonly voters: ReadonlySet<number>;
  /** true if `ids` (voters or not; others are ignored) form a quorum */
  containsQuorum(ids: Iterable<number>): boolean;
  /** a voter's weight; 0 can never be elected (FastLeaderElection.totalOrderPredicate) */
  weight(id: number): number;
}

/** QuorumMaj: more than half of the participants. */
export function majorityVerifier(voters: Iterable<number>): QuorumVerifier {
  const set = new Set(voters);
  return {
    voters: set,
    containsQuorum(ids) {
      const seen = new Set<number>();
      for (const id of ids) if (set.has(id)) seen.add(id);
      return seen.size * 2 > set.size;
    },
    weight: (id) => (set.has(id) ? 1 : 0),
  };
}

/**
 * QuorumHierarchical: `ids` hold more than half the weight of a group in more than half of the
 * groups that weigh anything. `groups`: gid → members; `weights`: sid → weight (default 1).
 */
export function hierarchicalVerifier(voters: Iterable<number>, groups: ReadonlyMap<number, readonly number[]>, weights: ReadonlyMap<number, number>): QuorumVerifier {
  const set = new Set(voters);
  const groupOf = new Map<number, number>();
  for (const [gid, members] of groups) for (const sid of members) groupOf.set(sid, gid);
  const w = (sid: number): number => weights.get(sid) ?? 1;
  const groupWeight = new Map<number, number>();
  for (const [sid, gid] of groupOf) groupWeight.set(gid, (groupWeight.get(gid) ?? 0) + w(sid));
  const weighty = [...groupWeight.values()].filter((x) => x > 0).length;
  return {
    voters: set,
    containsQuorum(ids) {
      const seen = new Set(ids);
      const got = new Map<number, number>();
      for (const sid of seen) {
        const gid = groupOf.get(sid);
        if (gid !== undefined) got.set(gid, (got.get(gid) ?? 0) + w(sid));
      }
      let majorities = 0;
      for (const [gid, x] of got) if (x > Math.floor(groupWeight.get(gid)! / 2)) majorities++;
      return majorities > Math.floor(weighty / 2);
    },
    weight: (id) => (groupOf.has(id) ? w(id) : 0),
  };
}

/** The verifier a configuration asks for. */
export function quorumVerifier(config: Pick<ServerConfig, 'servers' | 'groups' | 'weights'>): QuorumVerifier {
  const voters = [...config.servers.values()].filter((s) => s.type === 'participant').map((s) => s.id);
  return config.groups.size > 0 ? hierarchicalVerifier(voters, config.groups, config.weights) : majorityVerifier(voters);
}
