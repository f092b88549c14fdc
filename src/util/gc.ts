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

/** The bytes of young generation (new space) V8 keeps committed. */
function youngCommitted(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.physical_space_size;
  return 0;
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

/** young generation a collection may leave committed without a follow-up GC to shrink it */
const YOUNG_KEPT = 4 * 2 ** 20;
/**
 * How long after a collection its follow-up waits: V8 averages the allocation rate over the GCs of
 * the last 5 s (GCTracer's throughput time frame); at 2 s the compaction's burst was still in it.
 */
const YOUNG_DELAY_MS = 5_500;

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
  /** when to check whether the young generation can be given back (see checkYoung) */
  private youngAt = Infinity;

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
    /** how long after a collection its young-generation follow-up is due */
    readonly youngDelayMs = YOUNG_DELAY_MS,
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

  /**
   * After the collection at `now`: what it left in use is the new base. `young`: the bytes of
   * young generation V8 still keeps committed after it (new_space's physical size).
   */
  collected(inUse: number, now: number, young = 0): void {
    this.base = inUse;
    this.last = now;
    this.youngAt = young > YOUNG_KEPT ? now + this.youngDelayMs : Infinity;
  }

  /**
   * True once a second, plain full GC should give back the young generation the collection left
   * committed. V8 shrinks it at a full GC only when the allocation rate it measured since the last
   * GC is low but not zero (Heap::ReduceNewSpaceSize): at the compaction the rate still counts the
   * burst before it (a restart's snapshot read: the young generation stays at 20-30 MB), and a GC
   * right after the compaction sees no allocation at all. Over 5 s later, still idle, it sees
   * the idle rate: after a 1M-znode restart the young generation went from 29 to 1 MB committed
   * and RSS from 388 to 359 MB, for a 115 ms pause. V8's memory reducer does the same by itself,
   * but only ~10 s after the compaction, where it falls after a restart's RSS is first read.
   */
  checkYoung(utilization: number, now: number, heapUsed: number): boolean {
    if (now < this.youngAt || utilization > this.maxUtilization || heapUsed > this.maxHeap) return false;
    this.youngAt = Infinity;
    return true;
  }
}

/**
 * Run an IdleCollector every `everyMs` (unref'd). ZK_IDLE_GC_MB sets the growth in MB (default
 * 32); 0 turns it off. Returns a stop function.
 */

/**
 * process.memoryUsage(), or null when it fails: it reads the RSS from /proc, and with every file
 * descriptor taken (a connection flood under a low `ulimit -n`) that open fails with EMFILE. Thrown
 * from a timer, that error ended the process; the collector just skips the interval.
 */
function memoryUsage(): NodeJS.MemoryUsage | null {
  try {
    return process.memoryUsage();
  } catch {
    return null;
  }
}
export function startIdleCollector(everyMs = 5000, log?: { info(o: object, msg: string): void }): () => void {
  const mb = Number(process.env.ZK_IDLE_GC_MB ?? 32);
  if (!(mb > 0)) return () => {};
  const perf = globalThis.performance;
  const inUse = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.arrayBuffers;
  // no base yet: what is in use now includes whatever the start-up left (after a restart, the
  // snapshot and txn log files just read), so the first idle interval with 32 MB held collects
  const col = new IdleCollector(0, mb * 2 ** 20);
  const mbOf = (x: number): number => Math.round(x / 2 ** 20);
  let elu = perf.eventLoopUtilization();
  /** the follow-up GC that gives the young generation back, if it is due (IdleCollector.checkYoung) */
  const youngGc = (utilization: number, heapUsed: number): boolean => {
    if (!col.checkYoung(utilization, Date.now(), heapUsed)) return false;
    const t0 = Date.now();
    const young0 = youngCommitted();
    collectGarbage();
    elu = perf.eventLoopUtilization();
    log?.info({ ms: Date.now() - t0, youngMB: mbOf(young0), youngAfterMB: mbOf(youngCommitted()) }, 'idle: young generation given back');
    return true;
  };
  let followUp: NodeJS.Timeout | undefined;
  const t = setInterval(() => {
    const now = perf.eventLoopUtilization();
    const u = perf.eventLoopUtilization(now, elu).utilization;
    elu = now;
    const m = memoryUsage();
    if (!m) return;
    if (youngGc(u, m.heapUsed)) return;
    const held = m.heapTotal + m.arrayBuffers;
    if (!col.check(u, inUse(m), held, Date.now(), m.heapUsed)) return;
    const t0 = Date.now();
    compactHeap();
    const after = memoryUsage();
    if (!after) return;
    col.collected(inUse(after), Date.now(), youngCommitted());
    // the collection's own time is not the next interval's load
    elu = perf.eventLoopUtilization();
    log?.info({ ms: Date.now() - t0, heapUsedMB: mbOf(m.heapUsed), heldMB: mbOf(held), afterMB: mbOf(after.heapUsed), heldAfterMB: mbOf(after.heapTotal + after.arrayBuffers) }, 'idle: heap collected');
    // the young generation's follow-up, if due, when the delay is up (not a whole interval later);
    // if the server is busy then, a later idle interval does it
    const since = elu;
    clearTimeout(followUp);
    followUp = setTimeout(() => {
      const m = memoryUsage();
      if (m) youngGc(perf.eventLoopUtilization(perf.eventLoopUtilization(), since).utilization, m.heapUsed);
    }, col.youngDelayMs + 50);
    followUp.unref();
  }, everyMs);
  t.unref();
  return () => {
    clearInterval(t);
    clearTimeout(followUp);
  };
}
