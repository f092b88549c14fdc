// Zab cores under the deterministic simulator: seeded crashes, restarts, torn disk writes and
// message delays; Zab's invariants are checked after every step. ZAB_SEEDS=10000 for a long run.
import { describe, expect, it } from 'vitest';
import { Violation, ZabSim } from '../src/quorum/zab/legacy/sim';

const SEEDS = Number(process.env.ZAB_SEEDS ?? 300);

describe('Zab simulator (the cores the peer runs: zab/legacy)', () => {
  it(`finds no violation in ${SEEDS} seeds (3 and 5 peers) and makes progress`, () => {
    let committed = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const sim = new ZabSim(seed, { nodes: seed % 4 === 0 ? 5 : 3, crashRate: 0.01 });
      sim.run(1500);
      sim.checkConvergence();
      committed += sim.committed.length;
    }
    // most runs commit plenty despite the crashes
    expect(committed / SEEDS).toBeGreaterThan(50);
  }, 120000);

  it('catches a follower that ACKs before its txn log is durable', () => {
    let found: Violation | null = null;
    for (let seed = 1; seed <= 2000 && !found; seed++) {
      const sim = new ZabSim(seed, { nodes: 3, crashRate: 0.05, unsafeAckBeforePersist: true });
      try {
        sim.run(1500);
      } catch (e) {
        if (e instanceof Violation) found = e;
        else throw e;
      }
    }
    expect(found, 'the broken rule went unnoticed').not.toBeNull();
    expect(found!.message).toMatch(/lacks committed txn|applied/);
  }, 120000);
});
