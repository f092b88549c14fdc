// The client's own record of the watches it holds (ZKWatchManager): which notification wakes which
// watch, the watches to re-register after a reconnect (setWatches), and what removeWatches removes.
// This client has a single watcher (the default one), so a watch is just a path in a set.
import { EventType, WatcherType } from '../data/constants';

/** Event types the client makes up itself when a watch is removed. */
export const ClientEventType = { DataWatchRemoved: 5, ChildWatchRemoved: 6, PersistentWatchRemoved: 7 } as const;

export class WatchRegistry {
  readonly data = new Set<string>();
  readonly exist = new Set<string>();
  readonly child = new Set<string>();
  readonly persistent = new Set<string>();
  readonly recursive = new Set<string>();

  /** Whether a notification reaches the watcher; one-shot watches it fires are forgotten. */
  fire(type: number, path: string): boolean {
    let hit = false;
    const take = (s: Set<string>): void => {
      if (s.delete(path)) hit = true;
    };
    switch (type) {
      case EventType.NodeDataChanged:
      case EventType.NodeCreated:
        take(this.data);
        take(this.exist);
        break;
      case EventType.NodeChildrenChanged:
        take(this.child);
        break;
      case EventType.NodeDeleted:
        take(this.data);
        take(this.exist);
        take(this.child);
        break;
      default:
        return true;
    }
    if (this.persistent.has(path)) hit = true;
    // recursive watches see every change below them except child-list changes
    if (type !== EventType.NodeChildrenChanged) {
      for (let p = path; ; p = parentOf(p)) {
        if (this.recursive.has(p)) hit = true;
        if (p === '/') break;
      }
    }
    return hit;
  }

  /**
   * removeWatches on the client side: the event types of the watches removed from `path`, or null
   * when the client held none of that type (NoWatcherException).
   */
  remove(path: string, type: number): number[] | null {
    const removed = new Set<number>();
    const drop = (s: Set<string>, ev: number): void => {
      if (s.delete(path)) removed.add(ev);
    };
    if (type === WatcherType.Children || type === WatcherType.Any) drop(this.child, ClientEventType.ChildWatchRemoved);
    if (type === WatcherType.Data || type === WatcherType.Any) {
      drop(this.data, ClientEventType.DataWatchRemoved);
      drop(this.exist, ClientEventType.DataWatchRemoved);
    }
    if (type === WatcherType.Any) {
      drop(this.persistent, ClientEventType.PersistentWatchRemoved);
      drop(this.recursive, ClientEventType.PersistentWatchRemoved);
    }
    return removed.size ? [...removed] : null;
  }

  /** Whether the client holds a watch of `type` on `path` (checked before asking the server). */
  holds(path: string, type: number): boolean {
    const c = this.child.has(path);
    const d = this.data.has(path) || this.exist.has(path);
    if (type === WatcherType.Children) return c;
    if (type === WatcherType.Data) return d;
    return c || d || this.persistent.has(path) || this.recursive.has(path);
  }

  get empty(): boolean {
    return !(this.data.size || this.exist.size || this.child.size || this.persistent.size || this.recursive.size);
  }
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.substring(0, i);
}
