// PathMap (the DataTree's path index) against Map, the behaviour it replaces: the same answers to
// every get/has/set/delete/size, the same insertion order, and the same iteration while the map
// changes underneath (a fuzzy snapshot walks it across event-loop turns while txns apply), through
// the growths and the squeezing out of deleted entries that renumber the entries.
import { describe, expect, it } from 'vitest';
import { PathMap } from '../src/data/pathmap';
import { prng } from '../src/quorum/zab/sim';

/** a PathMap.walk() as an iterator of [key, value] */
function walkIterator(m: PathMap<number>): { next(): IteratorResult<[string, number]> } {
  const w = m.walk();
  return { next: () => (w.next() ? { done: false, value: [w.key, w.value] } : { done: true, value: undefined }) };
}

type Op = (m: Map<string, number> | PathMap<number>) => unknown;

function randomOp(rand: () => number, keys: string[], step: number): Op {
  const key = keys[Math.floor(rand() * keys.length)];
  const r = rand();
  if (r < 0.45) return (m) => m.set(key, step) === m;
  if (r < 0.75) return (m) => m.delete(key);
  if (r < 0.85) return (m) => m.get(key);
  if (r < 0.9995) return (m) => m.has(key);
  return (m) => m.clear();
}

function keySpace(n: number): string[] {
  // paths that share long prefixes, differ in one char, and a few non-ASCII ones
  const keys = ['/', '/zookeeper', '/a', '/a/b', '/ü', '/日本/x'];
  for (let i = 0; i < n; i++) keys.push(`/app/locks/lock-${String(i).padStart(10, '0')}`);
  return keys;
}

describe('PathMap', () => {
  it('answers as a Map through 200,000 random sets, deletes and lookups (every growth and squeeze); storedKey finds what has finds', () => {
    for (const [seed, space] of [
      [1, 20],
      [2, 300],
      [3, 5000],
    ] as const) {
      const rand = prng(seed);
      const keys = keySpace(space);
      const a = new Map<string, number>();
      const b = new PathMap<number>();
      for (let step = 0; step < 200_000 / 3; step++) {
        const op = randomOp(rand, keys, step);
        expect(op(b), `seed ${seed} step ${step}`).toEqual(op(a));
        expect(b.size).toBe(a.size);
        const k = keys[step % keys.length];
        expect(b.storedKey(k)).toBe(a.has(k) ? k : undefined);
        if (step % 5000 === 0) expect([...b]).toEqual([...a]);
      }
      expect([...b.entries()]).toEqual([...a.entries()]);
      expect([...b.keys()]).toEqual([...a.keys()]);
      expect([...b.values()]).toEqual([...a.values()]);
    }
  });

  it('an iteration in progress sees what a Map iteration sees while the map changes (entries renumbered under it)', () => {
    const rand = prng(7);
    const keys = keySpace(400);
    let rounds = 0;
    for (let round = 0; round < 60; round++) {
      const a = new Map<string, number>();
      const b = new PathMap<number>();
      for (let i = 0; i < 200; i++) {
        const op = randomOp(rand, keys, i);
        op(a);
        op(b);
      }
      // up to three walks at once, each stepped a few entries between bursts of changes
      // (as generators, entries(), or as walk(), the allocation-free form)
      const walks = [1, 2, 3].slice(0, 1 + Math.floor(rand() * 3)).map(() => ({ a: a.entries(), b: rand() < 0.5 ? b.entries() : walkIterator(b), done: false }));
      let step = 1000 * round;
      while (walks.some((w) => !w.done)) {
        for (const w of walks) {
          if (w.done) continue;
          for (let k = Math.floor(rand() * 8); k >= 0; k--) {
            const x = w.a.next();
            const y = w.b.next();
            expect(y, `round ${round} step ${step}`).toEqual(x);
            if (x.done) {
              w.done = true;
              break;
            }
          }
        }
        for (let k = Math.floor(rand() * 40); k >= 0; k--) {
          const op = randomOp(rand, keys, step++);
          op(a);
          op(b);
        }
      }
      expect([...b]).toEqual([...a]);
      rounds++;
    }
    expect(rounds).toBe(60);
  });

  it('a walk that has passed every entry goes on to one added by a set that renumbers the entries', () => {
    for (const deleted of [0, 1, 8]) {
      const a = new Map<string, number>();
      const b = new PathMap<number>();
      for (let i = 0; i < 16; i++) for (const m of [a, b]) m.set(`/n${i}`, i); // full: 16 entries
      const wa = a.entries();
      const wb = b.entries();
      for (let i = 0; i < 16; i++) expect(wb.next()).toEqual(wa.next());
      for (let i = 0; i < deleted; i++) for (const m of [a, b]) m.delete(`/n${i}`);
      for (const m of [a, b]) m.set('/late', 99); // no room: grown (or squeezed), renumbered
      expect(wb.next()).toEqual(wa.next());
      expect(wb.next()).toEqual({ done: true, value: undefined });
      expect(wa.next().done).toBe(true);
    }
  });

  it('a walk left unfinished does not keep its place registered once it is gone', () => {
    const m = new PathMap<number>();
    for (let i = 0; i < 100; i++) m.set(`/n${i}`, i);
    const it1 = m.entries();
    it1.next();
    it1.return?.(undefined);
    for (const [k] of m) if (k === '/n3') break; // a for-of that breaks closes its walk
    const w = m.walk();
    w.next();
    w.close();
    const all = m.walk();
    while (all.next()); // a walk to its end closes itself
    expect((m as unknown as { cursors: unknown[] }).cursors.length).toBe(0);
  });

  it('gives memory back when most entries are deleted, and keeps answering', () => {
    const m = new PathMap<number>();
    const capacity = (): number => (m as unknown as { buckets: Int32Array }).buckets.length;
    for (let i = 0; i < 100_000; i++) m.set(`/n${i}`, i);
    const full = capacity();
    expect(full).toBeGreaterThanOrEqual(100_000);
    for (let i = 0; i < 99_990; i++) m.delete(`/n${i}`);
    expect(capacity()).toBeLessThanOrEqual(64);
    expect([...m.keys()]).toEqual(Array.from({ length: 10 }, (_, k) => `/n${99_990 + k}`));
    expect(m.get('/n99995')).toBe(99_995);
  });

  it('a million paths: every one found, absent ones not, and the order kept', () => {
    const m = new PathMap<number>();
    const n = 1_000_000;
    for (let i = 0; i < n; i++) m.set(`/s${i % 10}/n${i}`, i);
    expect(m.size).toBe(n);
    for (let i = 0; i < n; i += 997) expect(m.get(`/s${i % 10}/n${i}`)).toBe(i);
    expect(m.has('/s0/n1')).toBe(false);
    let i = 0;
    let outOfOrder = 0;
    for (const [, v] of m) if (v !== i++) outOfOrder++;
    expect(outOfOrder).toBe(0);
    expect(i).toBe(n);
  });
});
