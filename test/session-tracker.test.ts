// SessionTracker's ids: seeded with the server id and a time, then counted up, never one a live
// session holds.
import { describe, expect, it } from 'vitest';
import { initialSessionId, SessionTracker } from '../src/data/session';

describe('SessionTracker.newSessionId', () => {
  it('counts up from the seed of (server id, time)', () => {
    const t = new SessionTracker(2000, 3, () => 1_700_000_000_000);
    const seed = initialSessionId(3, 1_700_000_000_000);
    expect(BigInt.asUintN(64, seed) >> 56n).toBe(3n);
    expect(t.newSessionId()).toBe(seed);
    expect(t.newSessionId()).toBe(seed + 1n);
  });

  it('skips an id a live session already holds (a session restored from before a restart)', () => {
    const now = 1_700_000_000_000;
    const t = new SessionTracker(2000, 1, () => now);
    const seed = initialSessionId(1, now);
    t.add(seed, 30_000);
    t.add(seed + 1n, 30_000);
    expect(t.newSessionId()).toBe(seed + 2n);
    // once that session is gone its id may come again only if the counter comes back to it: it does not
    t.remove(seed);
    expect(t.newSessionId()).toBe(seed + 3n);
  });
});
