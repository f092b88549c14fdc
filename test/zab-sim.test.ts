// The Zab cores under the deterministic simulator (src/quorum/zab/sim.ts): crashes (also part-way
// through a Ready), restarts, lost and torn log tails, partitions, reconnects, elections and client
// proposals and client sessions from one seed; Zab's invariants and the session rule (no leader
// expires a session touched within its timeout through an intact path) are checked after every
// event. The simulator drives the cores through the executor the server uses (zab/executor.ts).
// A failure names its seed:
// replay with `new ZabSim(seed, opts).run()`. Long run: ZAB_SEEDS=10000 npx vitest run test/zab-sim.test.ts
import { describe, expect, it } from 'vitest';
import { SimOptions, Violation, ZabSim } from '../src/quorum/zab/sim';

const SEEDS = Number(process.env.ZAB_SEEDS ?? 2000);

function shape(seed: number): SimOptions {
  const voters = seed % 3 === 0 ? 5 : 3;
  // every seventh seed: hierarchical quorums (two sites and a tie-breaker; a heavy voter and a weightless one)
  const hier: SimOptions =
    seed % 7 !== 3 ? {} : voters === 5 ? { groups: [[1, 2], [3, 4], [5]] } : { groups: [[1, 2, 3]], weights: [[1, 2], [3, 0]] };
  return { voters, observers: seed % 4 === 1 ? 1 : 0, ...hier };
}

/** Membership changes: a proposal every 20 steps or so, one or two spare servers to add. */
function reconfig(seed: number): SimOptions {
  return { reconfigRate: 0.05, spares: 1 + (seed % 2) };
}

/** First seed in [1, limit] whose run violates an invariant. */
function findViolation(limit: number, opts: SimOptions): { seed: number; error: Violation } | null {
  for (let seed = 1; seed <= limit; seed++) {
    try {
      new ZabSim(seed, { ...shape(seed), ...opts }).run(1500);
    } catch (e) {
      if (e instanceof Violation) return { seed, error: e };
      throw e;
    }
  }
  return null;
}

describe('Zab simulator', () => {
  it(`${SEEDS} seeds: no invariant broken, and every run settles to one leader and identical trees`, () => {
    const totals: Record<string, number> = { committed: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const sim = new ZabSim(seed, shape(seed)).run(2000);
      const unsettled = sim.settle();
      if (unsettled) throw new Error(`seed ${seed}: ${unsettled}\n${sim.transcript}`);
      totals.committed += sim.committed.length;
      for (const [k, v] of Object.entries(sim.stats)) totals[k] = (totals[k] ?? 0) + v;
    }
    console.log(`zab-sim ${SEEDS} seeds:`, totals);
    expect(totals.committed / SEEDS).toBeGreaterThan(30);
    expect(totals.TRUNC).toBeGreaterThan(0);
    expect(totals.SNAP).toBeGreaterThan(0);
    expect(totals.DIFF).toBeGreaterThan(0);
    expect(totals.diskFaults).toBeGreaterThan(0);
    expect(totals.sessions / SEEDS).toBeGreaterThan(2);
    expect(totals.touches / SEEDS).toBeGreaterThan(100);
  }, Math.max(300_000, SEEDS * 40));

  it(`${Math.round(SEEDS / 2)} seeds with membership changes (one server at a time and in bulk, roles, the leader too): no invariant broken, every run settles`, () => {
    const totals: Record<string, number> = { committed: 0 };
    for (let seed = 1; seed <= Math.round(SEEDS / 2); seed++) {
      const sim = new ZabSim(seed, { ...shape(seed), ...reconfig(seed) }).run(2000);
      const unsettled = sim.settle();
      if (unsettled) throw new Error(`seed ${seed}: ${unsettled}\n${sim.transcript}`);
      totals.committed += sim.committed.length;
      for (const [k, v] of Object.entries(sim.stats)) totals[k] = (totals[k] ?? 0) + v;
    }
    console.log(`zab-sim ${Math.round(SEEDS / 2)} seeds with reconfig:`, totals);
    expect(totals.reconfigs).toBeGreaterThan(SEEDS * 5);
    expect(totals.handovers).toBeGreaterThan(SEEDS / 10);
    expect(totals.reconfigCrashes).toBeGreaterThan(SEEDS / 20);
  }, Math.max(300_000, SEEDS * 40));

  it(`${Math.round(SEEDS / 8)} seeds with client syncs on the learners: each answered after everything its leader had applied when the sync reached it`, () => {
    const totals: Record<string, number> = { committed: 0 };
    for (let seed = 1; seed <= Math.round(SEEDS / 8); seed++) {
      const sim = new ZabSim(seed, { ...shape(seed), syncRate: 0.05 }).run(2000);
      const unsettled = sim.settle();
      if (unsettled) throw new Error(`seed ${seed}: ${unsettled}\n${sim.transcript}`);
      totals.committed += sim.committed.length;
      for (const [k, v] of Object.entries(sim.stats)) totals[k] = (totals[k] ?? 0) + v;
    }
    console.log(`zab-sim ${Math.round(SEEDS / 8)} seeds with syncs:`, totals);
    expect(totals.syncs / SEEDS).toBeGreaterThan(20);
  }, Math.max(300_000, SEEDS * 40));

  it('seed 55846: a voter that accepted an epoch above the established leader\'s rejoins (the leader re-elects)', () => {
    // node 2 wrote acceptedEpoch 8, then 9, as a leader crashing before its LEADERINFO went out;
    // nodes 3 and 1 then established epoch 8 without it. ZooKeeper's learner refuses an older
    // leader's epoch for ever; before the leader stepped down for it, this seed never settled.
    const sim = new ZabSim(55846, shape(55846)).run(2000);
    expect(sim.settle()).toBeNull();
  });

  it('replays a seed exactly', () => {
    const a = new ZabSim(77, shape(77)).run(2000);
    const b = new ZabSim(77, shape(77)).run(2000);
    expect(b.committed.map((t) => t.zxid)).toEqual(a.committed.map((t) => t.zxid));
    expect(b.transcript).toBe(a.transcript);
  });

  describe('finds a deliberately broken rule', () => {
    const selfTest = { checkDurableQuorum: false, crashRate: 0.02 };
    it('a follower that ACKs proposals before they are durable', () => {
      const found = findViolation(3000, { ...selfTest, unsafeAckBeforePersist: true });
      expect(found, 'the broken rule went unnoticed').not.toBeNull();
      expect(found!.error.message).toMatch(/lacks committed|where .* was committed|no established leader committed/);
    }, 120_000);

    it('a follower that ACKs NEWLEADER before the synced txns are durable (ZOOKEEPER-3911/4643)', () => {
      const found = findViolation(3000, { ...selfTest, unsafeAckNewLeaderBeforePersist: true });
      expect(found, 'the broken rule went unnoticed').not.toBeNull();
      expect(found!.error.message).toMatch(/lacks committed|where .* was committed|no established leader committed/);
    }, 120_000);

    it('a leader that commits without a quorum', () => {
      const found = findViolation(3000, { ...selfTest, unsafeCommitWithoutQuorum: true });
      expect(found, 'the broken rule went unnoticed').not.toBeNull();
      expect(found!.error.message).toMatch(/lacks committed|where .* was committed|no established leader committed/);
    }, 120_000);

    it('a learner whose PING replies drop the session touches (the follower-session bug)', () => {
      const found = findViolation(500, { unsafeDropTouches: true });
      expect(found, 'the broken rule went unnoticed').not.toBeNull();
      expect(found!.error.message).toMatch(/expired session \d+ .* although it was touched through node/);
    }, 60_000);

    it('a new leader that gives the sessions it inherits no fresh timeout', () => {
      const found = findViolation(500, { unsafeNoFreshSessionTimeout: true });
      expect(found, 'the broken rule went unnoticed').not.toBeNull();
      expect(found!.error.message).toMatch(/after taking it over/);
    }, 60_000);

    it('a peer that ignores a failed fsync and goes on ACKing ("fsyncgate")', () => {
      const found = findViolation(3000, { ...selfTest, diskFaultRate: 0.05, unsafeIgnoreFsyncError: true });
      expect(found, 'the broken rule went unnoticed').not.toBeNull();
      expect(found!.error.message).toMatch(/lacks committed|where .* was committed|no established leader committed/);
    }, 120_000);

    it('hierarchical quorums (two sites and a tie-breaker): a leader that commits without a quorum of the groups', () => {
      const found = findViolation(500, { ...selfTest, voters: 5, observers: 0, groups: [[1, 2], [3, 4], [5]], unsafeCommitWithoutQuorum: true });
      expect(found, 'the broken rule went unnoticed').not.toBeNull();
    }, 60_000);

    it('a leader that commits with the old membership\'s quorum alone while a reconfig is pending', () => {
      const found = findViolation(3000, { ...selfTest, ...reconfig(1), unsafeReconfigOldQuorumOnly: true });
      expect(found, 'the broken rule went unnoticed').not.toBeNull();
      expect(found!.error.message).toMatch(/lacks committed|where .* was committed|no established leader committed|two leaders/);
    }, 120_000);

    it('an election that ignores a pending reconfig (a leader activates it and dies before telling anyone)', () => {
      // first found at seed 3054 since learners ahead of an established leader are synced, not dropped
      const found = findViolation(4000, { ...selfTest, ...reconfig(1), unsafeElectIgnoringPending: true });
      expect(found, 'the broken rule went unnoticed').not.toBeNull();
      expect(found!.error.message).toMatch(/lacks committed|where .* was committed|no established leader committed|two leaders/);
    }, 120_000);

    it('a leader that sends a learner\'s new connection the SYNC owed to its old one', () => {
      const found = findViolation(3000, { syncRate: 0.1, unsafeKeepSyncsOfLostConnection: true });
      expect(found, 'no seed found the misrouted SYNC').not.toBeNull();
      expect(found!.error.message).toMatch(/sync \d+ answered (before its leader saw it|at 0x)/);
    });

    it('the quorum-durability check flags the ACK-before-persist follower directly', () => {
      const found = findViolation(500, { crashRate: 0.02, unsafeAckBeforePersist: true });
      expect(found?.error.message).toMatch(/held durably only by voters/);
    }, 60_000);
  });
});
