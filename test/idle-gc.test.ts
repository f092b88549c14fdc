// IdleCollector (src/util/gc.ts): when an idle server collects its heap once to give memory back.
import { describe, expect, it } from 'vitest';
import { IdleCollector } from '../src/util/gc';

const MB = 2 ** 20;

describe('IdleCollector', () => {
  it('collects once the process is idle after the heap grew, and not again until it grows again', () => {
    const c = new IdleCollector(100 * MB, 64 * MB, 0.05);
    expect(c.check(0.9, 600 * MB)).toBe(false); // busy: a load is running
    expect(c.check(0.3, 600 * MB)).toBe(false);
    expect(c.check(0.01, 600 * MB)).toBe(true); // idle for a whole interval, 500 MB more
    c.collected(300 * MB);
    expect(c.check(0.0, 300 * MB)).toBe(false);
    expect(c.check(0.0, 340 * MB)).toBe(false); // less than 64 MB more
    expect(c.check(0.0, 370 * MB)).toBe(false); // 70 MB, but under a quarter of 300
    expect(c.check(0.0, 380 * MB)).toBe(true);
  });

  it('small growth on a small heap is left to V8', () => {
    const c = new IdleCollector(10 * MB);
    expect(c.check(0, 60 * MB)).toBe(false);
    expect(c.check(0, 80 * MB)).toBe(true);
  });

  it('never on a heap above maxHeap: the pause would be seconds (a 5M-znode follower lost its leader)', () => {
    const c = new IdleCollector(10 * MB, 64 * MB, 0.05, 768 * MB);
    expect(c.check(0, 2000 * MB)).toBe(false);
    expect(c.check(0, 769 * MB)).toBe(false);
    expect(c.check(0, 700 * MB)).toBe(true);
  });

  it('the base follows the heap down (a GC V8 ran by itself)', () => {
    const c = new IdleCollector(400 * MB);
    expect(c.check(0, 200 * MB)).toBe(false);
    expect(c.check(0, 270 * MB)).toBe(true); // 70 MB above the 200 MB it fell to
  });
});
