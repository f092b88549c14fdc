// A full garbage collection on demand, for the moments a large amount of memory just became
// garbage (the snapshot file buffer and the parse's temporaries after a restart): without it the
// process keeps that memory resident until V8's idle-time memory reducer runs, tens of seconds later.
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let gc: ((o?: { type: 'major' | 'minor' }) => void) | null | undefined;

function theGc(): typeof gc {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as typeof gc;
    } catch {
      gc = null;
    }
  }
  return gc;
}

export function collectGarbage(): void {
  theGc()?.();
}

/**
 * A full GC that compacts the whole old generation, then a scavenge: what gives an idle process's
 * memory back to the system. A plain full GC frees dead objects but leaves the pages they were on
 * committed (after a 1M-znode load: 432 MB of heap for 308 MB in use), and V8 keeps the young
 * generation at the size the last burst grew it to (32 MB). With `--compact-on-every-full-gc` set
 * for the one collection, every old-space page is evacuated and the emptied ones are released
 * (the same load: 314 MB of heap, RSS 575 -> 459 MB); the scavenge after it lets V8 shrink the
 * young generation (32 -> 2 MB) and frees the Buffers that died young. The flag is V8's own, read
 * at each full GC; it is set back at once. ~1 ms per MB of live heap.
 */
export function compactHeap(): void {
  const gc = theGc();
  if (!gc) return;
  let flagged = false;
  try {
    v8.setFlagsFromString('--compact-on-every-full-gc');
    flagged = true;
  } catch {
    // a V8 that refuses flags after start: a plain full GC it is
  }
  try {
    gc();
  } finally {
    if (flagged) v8.setFlagsFromString('--no-compact-on-every-full-gc');
  }
  gc({ type: 'minor' });
}

/**
 * When an idle server gives memory back. After a burst of writes (a load of a million znodes) V8
 * keeps the heap it grew, and its memory reducer may take tens of seconds or longer: a 1M-znode
 * load left ~700 MB resident of which ~300 MB live. So, checked every few seconds: when the
 * process was nearly idle over the whole last interval (event-loop utilization below
 * `maxUtilization`) and the memory V8 holds (heap committed plus ArrayBuffers) exceeds the live
 * heap of the last collection by `minGrowth` bytes and an eighth, compact (compactHeap: ~300 ms at
 * 1M znodes): the pause costs nobody a request, there are none. Not above `maxHeap`: there the
 * pause would be seconds; and not twice within `cooldownMs`, so a lightly loaded server whose heap
 * V8 regrows after each compaction does not pause every few seconds. Pure: the caller feeds it
 * measurements and runs the collection.
 */
export class IdleCollector {
  private base: number;
  private last = -Infinity;

  constructor(
    inUse: number,
    private readonly minGrowth = 32 * 2 ** 20,
    private readonly maxUtilization = 0.05,
    /**
     * No collection above this heap: a full GC's pause grows with the live heap (~1 ms per MB
     * here: 2.2 s per GC at 5M znodes, where two of them on an idle follower lost its leader and
     * cost the ensemble an election). A quorum peer must answer its leader within syncLimit
     * ticks, and a client waits out the pause: keep it well under a tick.
     */
    private readonly maxHeap = 768 * 2 ** 20,
    private readonly cooldownMs = 60_000,
  ) {
    this.base = inUse;
  }

  /**
   * One interval's event-loop utilization, what is in use (heap in use plus ArrayBuffers, garbage
   * included) and what V8 holds (heap committed plus ArrayBuffers), at `now` ms: true = collect
   * now. ArrayBuffers are on both sides, so the Buffers of live connections, counted in the base
   * after a collection, do not set off another one. `heapUsed` (default: `inUse`) is what the
   * `maxHeap` limit is about: the pause grows with the JS heap, not with the ArrayBuffers (after a
   * restart, ~450 MB of them are the snapshot file and txn log files just read, all garbage).
   */
  check(utilization: number, inUse: number, held: number, now: number, heapUsed = inUse): boolean {
    if (inUse < this.base) this.base = inUse;
    if (utilization > this.maxUtilization || heapUsed > this.maxHeap || now - this.last < this.cooldownMs) return false;
    return held - this.base >= Math.max(this.minGrowth, this.base / 8);
  }

  /** After the collection at `now`: what it left in use is the new base. */
  collected(inUse: number, now: number): void {
    this.base = inUse;
    this.last = now;
  }
}

/**
 * Run an IdleCollector every `everyMs` (unref'd). ZK_IDLE_GC_MB sets the growth in MB (default
 * 32); 0 turns it off. Returns a stop function.
 */
export function startIdleCollector(everyMs = 5000, log?: { info(o: object, msg: string): void }): () => void {
  const mb = Number(process.env.ZK_IDLE_GC_MB ?? 32);
  if (!(mb > 0)) return () => {};
  const perf = globalThis.performance;
  const inUse = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.arrayBuffers;
  // no base yet: what is in use now includes whatever the start-up left (after a restart, the
  // snapshot and txn log files just read), so the first idle interval with 32 MB held collects
  const col = new IdleCollector(0, mb * 2 ** 20);
  let elu = perf.eventLoopUtilization();
  const t = setInterval(() => {
    const now = perf.eventLoopUtilization();
    const u = perf.eventLoopUtilization(now, elu).utilization;
    elu = now;
    const m = process.memoryUsage();
    const held = m.heapTotal + m.arrayBuffers;
    if (!col.check(u, inUse(m), held, Date.now(), m.heapUsed)) return;
    const t0 = Date.now();
    compactHeap();
    const after = process.memoryUsage();
    col.collected(inUse(after), Date.now());
    // the collection's own time is not the next interval's load
    elu = perf.eventLoopUtilization();
    const mbOf = (x: number): number => Math.round(x / 2 ** 20);
    log?.info({ ms: Date.now() - t0, heapUsedMB: mbOf(m.heapUsed), heldMB: mbOf(held), afterMB: mbOf(after.heapUsed), heldAfterMB: mbOf(after.heapTotal + after.arrayBuffers) }, 'idle: heap collected');
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}
