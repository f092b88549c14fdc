// IdleCollector (src/util/gc.ts): when an idle server compacts its heap to give memory back.
import { describe, expect, it } from 'vitest';
import { compactHeap, IdleCollector } from '../src/util/gc';

const MB = 2 ** 20;
const MIN = 60_000;

describe('IdleCollector', () => {
  it('collects once the process is idle and holds well beyond the live heap, and not again until it does again', () => {
    const c = new IdleCollector(100 * MB, 32 * MB, 0.05);
    expect(c.check(0.9, 600 * MB, 700 * MB, 0)).toBe(false); // busy: a load is running
    expect(c.check(0.3, 600 * MB, 700 * MB, 5000)).toBe(false);
    expect(c.check(0.01, 600 * MB, 700 * MB, 10000)).toBe(true); // idle for a whole interval
    c.collected(300 * MB, 10000);
    // after the cooldown: what V8 holds beyond the 300 MB the collection left
    expect(c.check(0.0, 300 * MB, 320 * MB, 10000 + MIN)).toBe(false);
    expect(c.check(0.0, 300 * MB, 335 * MB, 10000 + MIN)).toBe(false); // 35 MB: over 32, under an eighth of 300
    expect(c.check(0.0, 300 * MB, 338 * MB, 10000 + MIN)).toBe(true);
  });

  it('counts committed heap and ArrayBuffers, not only growth of the heap in use (a restart: 334 MB used, 391 MB held)', () => {
    const c = new IdleCollector(322 * MB);
    expect(c.check(0.0, 334 * MB, 391 * MB, 5000)).toBe(true);
  });

  it('not twice within the cooldown, however much is held', () => {
    const c = new IdleCollector(100 * MB);
    expect(c.check(0, 100 * MB, 400 * MB, 0)).toBe(true);
    c.collected(100 * MB, 0);
    expect(c.check(0, 100 * MB, 400 * MB, MIN - 1)).toBe(false);
    expect(c.check(0, 100 * MB, 400 * MB, MIN)).toBe(true);
  });

  it('ArrayBuffers still in use after a collection are in its base: they do not set off another', () => {
    const c = new IdleCollector(100 * MB);
    expect(c.check(0, 200 * MB, 260 * MB, 0)).toBe(true); // 50 MB of connections' Buffers among it
    c.collected(150 * MB, 0); // 100 MB of heap, 50 MB of Buffers still held
    expect(c.check(0, 150 * MB, 160 * MB, MIN)).toBe(false); // 110 MB of heap committed + the 50 MB
    expect(c.check(0, 150 * MB, 190 * MB, MIN)).toBe(true);
  });

  it('small slack on a small heap is left to V8', () => {
    const c = new IdleCollector(10 * MB);
    expect(c.check(0, 12 * MB, 40 * MB, 0)).toBe(false);
    expect(c.check(0, 12 * MB, 43 * MB, 0)).toBe(true);
  });

  it('never on a heap above maxHeap: the pause would be seconds (a 5M-znode follower lost its leader)', () => {
    const c = new IdleCollector(10 * MB, 32 * MB, 0.05, 768 * MB);
    expect(c.check(0, 2000 * MB, 2500 * MB, 0)).toBe(false);
    expect(c.check(0, 769 * MB, 900 * MB, 0)).toBe(false);
    expect(c.check(0, 700 * MB, 900 * MB, 0)).toBe(true);
  });

  it('maxHeap is about the JS heap: garbage ArrayBuffers (the files a restart read) do not stop it', () => {
    const c = new IdleCollector(0, 32 * MB, 0.05, 768 * MB);
    // after a restart: 360 MB of heap in use, 560 MB of ArrayBuffers (snapshot, txn logs)
    expect(c.check(0, 920 * MB, 950 * MB, 0, 360 * MB)).toBe(true);
    expect(c.check(0, 920 * MB, 950 * MB, 0, 800 * MB)).toBe(false);
  });

  it('with no base (the start of a process), the first idle interval collects what the start-up left', () => {
    const c = new IdleCollector(0);
    expect(c.check(0.5, 564 * MB, 591 * MB, 0)).toBe(false); // the start-up snapshot is being written
    expect(c.check(0.01, 564 * MB, 591 * MB, 2000)).toBe(true);
    c.collected(306 * MB, 2600);
    expect(c.check(0, 306 * MB, 344 * MB, 2600 + 60_000)).toBe(false); // 38 MB: under an eighth of 306
    // an empty server holds less than 32 MB: nothing to do
    expect(new IdleCollector(0).check(0, 8 * MB, 20 * MB, 0)).toBe(false);
  });

  it('a collection that leaves the young generation large is followed, once, by a GC that gives it back', () => {
    const c = new IdleCollector(0);
    expect(c.check(0, 560 * MB, 590 * MB, 0)).toBe(true);
    c.collected(280 * MB, 0, 23 * MB); // after a restart's compaction: 23 MB of young generation committed
    expect(c.checkYoung(0, 5_000, 280 * MB)).toBe(false); // V8 still counts the burst before the compaction
    expect(c.checkYoung(0.4, 6_000, 280 * MB)).toBe(false); // busy: not now, but still due
    expect(c.checkYoung(0, 11_000, 280 * MB)).toBe(true);
    expect(c.checkYoung(0, 16_000, 280 * MB)).toBe(false); // once per collection
  });

  it('no follow-up when the young generation is already small, or the heap too large to pause', () => {
    const c = new IdleCollector(0, 32 * MB, 0.05, 768 * MB);
    c.collected(280 * MB, 0, 2 * MB);
    expect(c.checkYoung(0, 60_000, 280 * MB)).toBe(false);
    c.collected(280 * MB, 0, 30 * MB);
    expect(c.checkYoung(0, 60_000, 900 * MB)).toBe(false);
    expect(c.checkYoung(0, 60_000, 300 * MB)).toBe(true);
  });

  it('the base follows the heap in use down (a GC V8 ran by itself)', () => {
    const c = new IdleCollector(400 * MB);
    expect(c.check(0, 200 * MB, 230 * MB, 0)).toBe(false);
    expect(c.check(0, 200 * MB, 233 * MB, 0)).toBe(true); // 33 MB above the 200 MB it fell to
  });
});

describe('compactHeap', () => {
  it('gives back the old-space pages a plain full GC leaves committed', () => {
    const held = (): number => process.memoryUsage().heapTotal;
    // ~100 MB of small objects, of which every other one then dies: each page stays half full
    let keep: object[] | null = [];
    const all: object[] = [];
    for (let i = 0; i < 1_000_000; i++) all.push({ a: i, b: i + 1, c: String(i) });
    for (let i = 0; i < all.length; i += 2) keep.push(all[i]);
    all.length = 0;
    compactHeap(); // settle the young generation; the survivors are in old space
    const before = held();
    keep = keep.filter((_, i) => i % 2 === 0); // half of them die, scattered over all pages
    compactHeap();
    const after = held();
    expect(keep.length).toBe(250_000);
    // the dead quarter of the objects is given back, not kept as free space inside the pages
    expect(after).toBeLessThan(before - 8 * MB);
  });
});
