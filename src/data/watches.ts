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

export class WatchManager {
  private readonly table = new Map<string, Map<Watcher, WatchModeT>>();
  private readonly byWatcher = new Map<Watcher, Set<string>>();
  private recursiveCount = 0;

  get size(): number {
    let n = 0;
    for (const m of this.table.values()) n += m.size;
    return n;
  }

  pathCount(): number {
    return this.table.size;
  }

  add(path: string, w: Watcher, mode: WatchModeT): void {
    let m = this.table.get(path);
    if (!m) this.table.set(path, (m = new Map()));
    const old = m.get(w);
    // a standard watch does not downgrade an existing persistent one
    if (old !== undefined && old !== WatchMode.STANDARD && mode === WatchMode.STANDARD) return;
    if (old === WatchMode.PERSISTENT_RECURSIVE) this.recursiveCount--;
    if (mode === WatchMode.PERSISTENT_RECURSIVE) this.recursiveCount++;
    m.set(w, mode);
    let ps = this.byWatcher.get(w);
    if (!ps) this.byWatcher.set(w, (ps = new Set()));
    ps.add(path);
  }

  has(path: string, w: Watcher): boolean {
    return this.table.get(path)?.has(w) ?? false;
  }

  modeOf(path: string, w: Watcher): WatchModeT | undefined {
    return this.table.get(path)?.get(w);
  }

  /** Remove w's watch at path; true when there was one. */
  remove(path: string, w: Watcher): boolean {
    const m = this.table.get(path);
    if (!m) return false;
    const old = m.get(w);
    if (old === undefined) return false;
    if (old === WatchMode.PERSISTENT_RECURSIVE) this.recursiveCount--;
    m.delete(w);
    if (m.size === 0) this.table.delete(path);
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
    const exact = this.table.get(path);
    if (exact) {
      for (const [w, mode] of [...exact]) {
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
        if (!m) continue;
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
  entries(): IterableIterator<[string, Map<Watcher, WatchModeT>]> {
    return this.table.entries();
  }

  /** watcher -> paths (for wchc) */
  watcherEntries(): IterableIterator<[Watcher, Set<string>]> {
    return this.byWatcher.entries();
  }
}
