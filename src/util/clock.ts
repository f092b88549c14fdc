// The clock every timeout runs on: session deadlines, syncLimit and initLimit, the election's
// finalizeWait and notification back-off, elapsed-time metrics. ZooKeeper measures these with
// Time.currentElapsedTime() (System.nanoTime), never the wall clock, and so must we: an NTP step
// (chrony's makestep at boot, `date -s`, a VM resumed on another host) moves Date.now() by
// seconds or minutes at once. Forward, every session whose deadline the step skips expires at
// the next tick and the leader sees every follower silent for longer than syncLimit and steps
// down; backward, nothing expires until the wall clock catches up.
//
// Monotonic (CLOCK_MONOTONIC through performance.now()), in milliseconds, with its origin at the
// wall-clock time this process started, so that its values read like Date.now() ones near the
// start (for logs and for code that treats 0 as "long ago"). Only differences of its values mean
// anything; a znode's ctime and mtime and a txn header's time stay wall-clock, as in ZooKeeper.
const origin = performance.timeOrigin;

export function monotonicNow(): number {
  return origin + performance.now();
}

/** Whole milliseconds since `t0`, a monotonicNow() value (for metrics and log lines). */
export function msSince(t0: number): number {
  return Math.round(monotonicNow() - t0);
}
