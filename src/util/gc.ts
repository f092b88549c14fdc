// A full garbage collection on demand, for the moments a large amount of memory just became
// garbage (the snapshot file buffer and the parse's temporaries after a restart): without it the
// process keeps that memory resident until V8's idle-time memory reducer runs, tens of seconds later.
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}

/**
 * When an idle server gives memory back. After a burst of writes (a load of a million znodes) the
 * old generation keeps the garbage the burst promoted: no allocation comes to trigger a major GC,
 * and V8's memory reducer may take tens of seconds or longer; a 1M-znode load left ~700 MB
 * resident of which ~270 MB live. So, checked every few seconds: when the process was nearly idle
 * over the whole last interval (event-loop utilization below `maxUtilization`) and the heap grew
 * by `minGrowth` bytes (and a quarter) since the last collection, collect (two full GCs, ~130-230
 * ms each at 1M znodes): the pause costs nobody a request, there are none. Not above `maxHeap`:
 * there the pause would be seconds. Pure: the caller feeds it measurements and runs the collection.
 */
export class IdleCollector {
  private base: number;

  constructor(
    heapUsed: number,
    private readonly minGrowth = 64 * 2 ** 20,
    private readonly maxUtilization = 0.05,
    /**
     * No collection above this heap: a full GC's pause grows with the live heap (~1 ms per MB
     * here: 2.2 s per GC at 5M znodes, where two of them on an idle follower lost its leader and
     * cost the ensemble an election). A quorum peer must answer its leader within syncLimit
     * ticks, and a client waits out the pause: keep it well under a tick.
     */
    private readonly maxHeap = 768 * 2 ** 20,
  ) {
    this.base = heapUsed;
  }

  /** One interval's event-loop utilization and the heap in use now: true = collect now. */
  check(utilization: number, heapUsed: number): boolean {
    if (heapUsed < this.base) this.base = heapUsed;
    if (utilization > this.maxUtilization || heapUsed > this.maxHeap) return false;
    return heapUsed - this.base >= Math.max(this.minGrowth, this.base / 4);
  }

  /** After the collection: the heap it left is the new base. */
  collected(heapUsed: number): void {
    this.base = heapUsed;
  }
}

/**
 * Run an IdleCollector every `everyMs` (unref'd). ZK_IDLE_GC_MB sets the growth in MB (default
 * 64); 0 turns it off. Returns a stop function.
 */
export function startIdleCollector(everyMs = 5000, log?: { info(o: object, msg: string): void }): () => void {
  const mb = Number(process.env.ZK_IDLE_GC_MB ?? 64);
  if (!(mb > 0)) return () => {};
  const perf = globalThis.performance;
  const col = new IdleCollector(process.memoryUsage().heapUsed, mb * 2 ** 20);
  let elu = perf.eventLoopUtilization();
  const t = setInterval(() => {
    const now = perf.eventLoopUtilization();
    const u = perf.eventLoopUtilization(now, elu).utilization;
    elu = now;
    const before = process.memoryUsage().heapUsed;
    if (!col.check(u, before)) return;
    const t0 = Date.now();
    // twice: the second moves what the first left on sparse pages, which can then be given back
    // (after a 1M-znode load: heap 424 MB total vs 492-554 MB after one, 638 MB before)
    collectGarbage();
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    col.collected(after);
    // the collection's own time is not the next interval's load
    elu = perf.eventLoopUtilization();
    log?.info({ ms: Date.now() - t0, heapUsedMB: Math.round(before / 2 ** 20), afterMB: Math.round(after / 2 ** 20) }, 'idle: heap collected');
  }, everyMs);
  t.unref();
  return () => clearInterval(t);
}
