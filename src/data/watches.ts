// Watch tables (ZooKeeper's WatchManager): path -> watcher -> mode. Standard watches are one-shot;
// persistent ones stay; persistent-recursive ones also fire for every descendant (never for
// NodeChildrenChanged).
import { EventType, KeeperState } from './constants';

export interface Watcher {
  /** Deliver a notification. Called synchronously while the change is applied. */
  process(type: number, state: number, path: string): void;
  readonly sessionId: bigint;
}

export const WatchMode = { STANDARD: 0, PERSISTENT: 1, PERSISTENT_RECURSIVE: 2 } as const;
export type WatchModeT = (typeof WatchMode)[keyof typeof WatchMode];

/**
 * A path's watchers: most paths have one, with a standard watch, kept as that Watcher itself (a
 * Map per path cost ~100 bytes more per watch: 1M watches on distinct paths, ~350 B each); a
 * second watcher, or another mode, turns it into a Map.
 */
type PathWatchers = Watcher | Map<Watcher, WatchModeT>;

const single = (e: PathWatchers): e is Watcher => !(e instanceof Map);

export class WatchManager {
  private readonly table = new Map<string, PathWatchers>();
  private readonly byWatcher = new Map<Watcher, Set<string>>();
  private recursiveCount = 0;
  private count = 0;

  /** the number of watches (path, watcher) */
  get size(): number {
    return this.count;
  }

  pathCount(): number {
    return this.table.size;
  }

  /** the number of distinct watchers with a watch here */
  watcherCount(): number {
    return this.byWatcher.size;
  }

  add(path: string, w: Watcher, mode: WatchModeT): void {
    const e = this.table.get(path);
    let old: WatchModeT | undefined;
    if (e === undefined) {
      if (mode === WatchMode.STANDARD) this.table.set(path, w);
      else this.table.set(path, new Map([[w, mode]]));
    } else {
      if (e === w && mode === WatchMode.STANDARD) return; // already there, as it is kept
      const m = single(e) ? new Map([[e, WatchMode.STANDARD]]) : e;
      if (m !== e) this.table.set(path, m);
      old = m.get(w);
      // a standard watch does not downgrade an existing persistent one
      if (old !== undefined && old !== WatchMode.STANDARD && mode === WatchMode.STANDARD) return;
      if (old === WatchMode.PERSISTENT_RECURSIVE) this.recursiveCount--;
      m.set(w, mode);
    }
    if (mode === WatchMode.PERSISTENT_RECURSIVE) this.recursiveCount++;
    if (old === undefined) this.count++;
    let ps = this.byWatcher.get(w);
    if (!ps) this.byWatcher.set(w, (ps = new Set()));
    ps.add(path);
  }

  has(path: string, w: Watcher): boolean {
    return this.modeOf(path, w) !== undefined;
  }

  modeOf(path: string, w: Watcher): WatchModeT | undefined {
    const e = this.table.get(path);
    if (e === undefined) return undefined;
    if (single(e)) return e === w ? WatchMode.STANDARD : undefined;
    return e.get(w);
  }

  /** Remove w's watch at path; true when there was one. */
  remove(path: string, w: Watcher): boolean {
    const e = this.table.get(path);
    if (e === undefined) return false;
    if (single(e)) {
      if (e !== w) return false;
      this.table.delete(path);
    } else {
      const old = e.get(w);
      if (old === undefined) return false;
      if (old === WatchMode.PERSISTENT_RECURSIVE) this.recursiveCount--;
      e.delete(w);
      if (e.size === 0) this.table.delete(path);
    }
    this.count--;
    const ps = this.byWatcher.get(w);
    if (ps) {
      ps.delete(path);
      if (ps.size === 0) this.byWatcher.delete(w);
    }
    return true;
  }

  removeWatcher(w: Watcher): void {
    const ps = this.byWatcher.get(w);
    if (!ps) return;
    for (const p of [...ps]) this.remove(p, w);
  }

  /**
   * Fire `type` at `path`. Watchers in `suppress` are skipped. Returns the watchers notified.
   */
  trigger(path: string, type: number, suppress?: Set<Watcher>): Set<Watcher> {
    const fired = new Set<Watcher>();
    const e = this.table.get(path);
    if (e !== undefined && single(e)) {
      fired.add(e);
      this.remove(path, e);
    } else if (e !== undefined) {
      for (const [w, mode] of [...e]) {
        if (mode === WatchMode.PERSISTENT_RECURSIVE) {
          if (type !== EventType.NodeChildrenChanged) fired.add(w);
          continue;
        }
        fired.add(w);
        if (mode === WatchMode.STANDARD) this.remove(path, w);
      }
    }
    if (this.recursiveCount > 0 && type !== EventType.NodeChildrenChanged) {
      let p = path;
      while (p !== '/') {
        const i = p.lastIndexOf('/');
        p = i === 0 ? '/' : p.substring(0, i);
        const m = this.table.get(p);
        if (m === undefined || single(m)) continue;
        for (const [w, mode] of m) if (mode === WatchMode.PERSISTENT_RECURSIVE) fired.add(w);
      }
    }
    for (const w of fired) {
      if (suppress?.has(w)) continue;
      w.process(type, KeeperState.SyncConnected, path);
    }
    return fired;
  }

  /** path -> watchers (for wchp) */
  *entries(): IterableIterator<[string, ReadonlyMap<Watcher, WatchModeT>]> {
    for (const [p, e] of this.table) yield [p, single(e) ? new Map([[e, WatchMode.STANDARD]]) : e];
  }

  /** watcher -> paths (for wchc) */
  watcherEntries(): IterableIterator<[Watcher, Set<string>]> {
    return this.byWatcher.entries();
  }
}
