// WatchManager (src/data/watches.ts) keeps a path's lone standard watch as the Watcher itself and
// a Map otherwise: random add/remove/trigger sequences against a plain path -> Map(watcher -> mode)
// model give the same notifications, modes and counts.
import { describe, expect, it } from 'vitest';
import { EventType } from '../src/data/constants';
import { Watcher, WatchManager, WatchMode, WatchModeT } from '../src/data/watches';
import { prng } from '../src/quorum/zab/sim';

class Model {
  table = new Map<string, Map<Watcher, WatchModeT>>();
  add(p: string, w: Watcher, mode: WatchModeT): void {
    let m = this.table.get(p);
    if (!m) this.table.set(p, (m = new Map()));
    const old = m.get(w);
    if (old !== undefined && old !== WatchMode.STANDARD && mode === WatchMode.STANDARD) return;
    m.set(w, mode);
  }
  remove(p: string, w: Watcher): boolean {
    const m = this.table.get(p);
    if (!m || !m.delete(w)) return false;
    if (m.size === 0) this.table.delete(p);
    return true;
  }
  trigger(p: string, type: number): Set<Watcher> {
    const fired = new Set<Watcher>();
    for (const [w, mode] of [...(this.table.get(p) ?? [])]) {
      if (mode === WatchMode.PERSISTENT_RECURSIVE) {
        if (type !== EventType.NodeChildrenChanged) fired.add(w);
        continue;
      }
      fired.add(w);
      if (mode === WatchMode.STANDARD) this.remove(p, w);
    }
    if (type !== EventType.NodeChildrenChanged) {
      for (let q = p; q !== '/'; ) {
        q = q.lastIndexOf('/') === 0 ? '/' : q.substring(0, q.lastIndexOf('/'));
        for (const [w, mode] of this.table.get(q) ?? []) if (mode === WatchMode.PERSISTENT_RECURSIVE) fired.add(w);
      }
    }
    return fired;
  }
  get size(): number {
    let n = 0;
    for (const m of this.table.values()) n += m.size;
    return n;
  }
}

describe('WatchManager', () => {
  it('matches the path -> watcher -> mode model over random sequences', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
      const got: string[] = [];
      const want: string[] = [];
      const ws: Watcher[] = [0, 1, 2].map((i) => ({ sessionId: BigInt(i), process: (_t, _s, p) => got.push(`${i}:${p}`) }));
      const wm = new WatchManager();
      const model = new Model();
      const paths = ['/', '/a', '/a/b', '/a/b/c', '/d'];
      const modes: WatchModeT[] = [WatchMode.STANDARD, WatchMode.STANDARD, WatchMode.PERSISTENT, WatchMode.PERSISTENT_RECURSIVE];
      for (let step = 0; step < 200; step++) {
        const p = pick(paths);
        const w = pick(ws);
        const op = rnd();
        if (op < 0.5) {
          const mode = pick(modes);
          wm.add(p, w, mode);
          model.add(p, w, mode);
        } else if (op < 0.65) {
          expect(wm.remove(p, w)).toBe(model.remove(p, w));
        } else if (op < 0.7) {
          wm.removeWatcher(w);
          for (const q of paths) model.remove(q, w);
        } else {
          const type = pick([EventType.NodeDataChanged, EventType.NodeChildrenChanged, EventType.NodeDeleted]);
          wm.trigger(p, type);
          for (const f of model.trigger(p, type)) want.push(`${ws.indexOf(f)}:${p}`);
        }
        expect(got.sort()).toEqual(want.sort());
        expect(wm.size).toBe(model.size);
        expect(wm.pathCount()).toBe(model.table.size);
        for (const q of paths) for (const x of ws) expect(wm.modeOf(q, x)).toBe(model.table.get(q)?.get(x));
        const entries = new Map([...wm.entries()].map(([q, m]) => [q, [...m].map(([x, mode]) => `${ws.indexOf(x)}=${mode}`).sort()]));
        expect(entries).toEqual(new Map([...model.table].map(([q, m]) => [q, [...m].map(([x, mode]) => `${ws.indexOf(x)}=${mode}`).sort()])));
        expect(wm.watcherCount()).toBe(new Set([...model.table.values()].flatMap((m) => [...m.keys()])).size);
        // watcher -> paths (wchc): each live path once, no path whose watch is gone
        if (step % 4 !== 0) continue;
        const byWatcher = new Map([...wm.watcherEntries()].map(([x, ps]) => [ws.indexOf(x), [...ps].sort()]));
        const wantBy = new Map<number, string[]>();
        for (const [q, m] of model.table) for (const x of m.keys()) wantBy.set(ws.indexOf(x), [...(wantBy.get(ws.indexOf(x)) ?? []), q].sort());
        expect(byWatcher).toEqual(wantBy);
      }
    }
  });

  it("a watcher's path list stays within twice its watches while watches fire and are set again, and closing it leaves nothing", () => {
    const wm = new WatchManager();
    const w: Watcher = { sessionId: 1n, process: () => {} };
    const other: Watcher = { sessionId: 2n, process: () => {} };
    const listed = (): number => (wm as unknown as { byWatcher: Map<Watcher, { paths: string[] }> }).byWatcher.get(w)?.paths.length ?? 0;
    for (let i = 0; i < 100; i++) wm.add(`/n${i}`, w, WatchMode.STANDARD);
    wm.add('/n0', other, WatchMode.STANDARD);
    let most = 0;
    for (let round = 0; round < 50; round++) {
      // the usual pattern: a watch fires, the client reads and sets it again (same path)
      for (let i = 0; i < 100; i += 3) {
        wm.trigger(`/n${i}`, EventType.NodeDataChanged);
        wm.add(`/n${i}`, w, WatchMode.STANDARD);
      }
      // and watches on paths that come and go (sequential znodes)
      wm.add(`/seq${round}`, w, WatchMode.STANDARD);
      wm.trigger(`/seq${round}`, EventType.NodeDeleted);
      most = Math.max(most, listed());
    }
    expect(wm.size).toBe(100);
    expect(most).toBeLessThanOrEqual(2 * 100 + 16 + 1);
    expect([...wm.watcherEntries()].find(([x]) => x === w)![1].size).toBe(100);
    wm.removeWatcher(w);
    expect(wm.size).toBe(0);
    expect(wm.watcherCount()).toBe(0);
    expect(wm.pathCount()).toBe(0);
    for (let i = 0; i < 100; i++) expect(wm.has(`/n${i}`, w)).toBe(false);
  });
});
