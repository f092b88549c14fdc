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

/** What trigger returns when no watcher fired (shared: callers only read it). */
const NO_WATCHERS: ReadonlySet<Watcher> = new Set<Watcher>();

/**
 * A watcher's paths, for closing its session (and wchc): an array, pushed to when the watcher gets a
 * new watch and not searched when one goes (fired or removed), so it may still list paths whose
 * watch is gone, or list a path twice (a watch fired and set again); `live` counts the watches it
 * really has. Once the array is more than twice `live` (plus a little), it is rebuilt from the
 * table: amortized O(1) per change. A Set per watcher cost ~26 bytes per watch (the entry, its
 * chain and bucket, the table's slack); this costs ~10 (1M watches over 10k sessions: ~16 MB).
 */
interface WatcherPaths {
  paths: string[];
  live: number;
}

export class WatchManager {
  private readonly table = new Map<string, PathWatchers>();
  private readonly byWatcher = new Map<Watcher, WatcherPaths>();
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
    if (old !== undefined) return; // a mode changed: the watcher already lists the path
    this.count++;
    const ps = this.byWatcher.get(w);
    if (!ps) this.byWatcher.set(w, { paths: [path], live: 1 });
    else {
      ps.paths.push(path);
      ps.live++;
    }
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
    if (!this.unlink(path, w)) return false;
    const ps = this.byWatcher.get(w);
    if (ps && --ps.live === 0) this.byWatcher.delete(w);
    else if (ps && ps.paths.length > 2 * ps.live + 16) ps.paths = this.livePaths(w, ps.paths);
    return true;
  }

  /** The paths in `paths` where w has a watch, each once. */
  private livePaths(w: Watcher, paths: string[]): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const p of paths) {
      if (seen.has(p) || this.modeOf(p, w) === undefined) continue;
      seen.add(p);
      out.push(p);
    }
    return out;
  }

  /** Remove w's watch at path from the table (not from byWatcher); true when there was one. */
  private unlink(path: string, w: Watcher): boolean {
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
    return true;
  }

  removeWatcher(w: Watcher): void {
    const ps = this.byWatcher.get(w);
    if (!ps) return;
    this.byWatcher.delete(w);
    for (const p of ps.paths) this.unlink(p, w); // a path gone or listed twice: unlink finds nothing
  }

  /**
   * Fire `type` at `path`. Watchers in `suppress` are skipped. Returns the watchers notified.
   */
  trigger(path: string, type: number, suppress?: ReadonlySet<Watcher>): ReadonlySet<Watcher> {
    const e = this.table.get(path);
    // most writes fire nothing: no Set made for them
    if (e === undefined && (this.recursiveCount === 0 || type === EventType.NodeChildrenChanged)) return NO_WATCHERS;
    const fired = new Set<Watcher>();
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
  *watcherEntries(): IterableIterator<[Watcher, Set<string>]> {
    for (const [w, ps] of this.byWatcher) yield [w, new Set(this.livePaths(w, ps.paths))];
  }
}
