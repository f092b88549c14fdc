// Adler-32 in a worker thread, for snapshot files. A snapshot is written on the request thread in
// slices (snapshot.ts), and its checksum was about a third of that work (under a create load
// growing the tree to 740k znodes, snapshots took 25.4% of the request thread's busy time, 20.7%
// with the checksum here).
//
// The bytes go through a ring of a few fixed slots in one SharedArrayBuffer per process: a chunk is
// copied into a free slot (a memcpy, ~10x cheaper than summing it) and the slot's number is posted;
// the thread sums the slot and hands it back. The ring bounds the memory. Sharing each chunk's own
// buffer instead kept every chunk alive: the thread's heap holds each message until its next
// garbage collection, which a thread that allocates almost nothing never runs, so every snapshot's
// bytes stayed in memory (RSS after loading 1M znodes 1,130 MB instead of ~450).
import { Worker } from 'worker_threads';
import { workerScript } from './workerscript';
import { Adler32 } from './util';
import type { AdlerMessage, AdlerReply } from './adler-worker';

/** A running Adler-32: bytes go in, in order; the value comes out once. */
export interface AdlerSum {
  /** add `bytes` after those of earlier updates (copied before this resolves: the caller may reuse them then) */
  update(bytes: Uint8Array): Promise<void>;
  /** the checksum of everything updated; rejects if the worker thread failed */
  value(): Promise<number>;
}

const SLOT_SIZE = 1 << 20;
const SLOTS = 4;

interface Thread {
  w: Worker;
  ring: Uint8Array;
  free: number[];
  /** updates waiting for a free slot */
  slotWaiters: (() => void)[];
  values: Map<number, { resolve: (v: number) => void; reject: (e: Error) => void }>;
  failed: Error | null;
}

let current: Thread | null = null;
let nextJob = 1;

function fail(t: Thread, e: Error): void {
  if (t.failed) return;
  t.failed = e;
  if (current === t) current = null;
  for (const v of t.values.values()) v.reject(e);
  t.values.clear();
  // updates waiting for a slot wake up and see the failure
  for (const wake of t.slotWaiters.splice(0)) wake();
}

function thread(): Thread | null {
  if (current) return current;
  try {
    const sab = new SharedArrayBuffer(SLOT_SIZE * SLOTS);
    const w = new Worker(workerScript('adler-worker.js'), { workerData: { ring: sab, slotSize: SLOT_SIZE } });
    const t: Thread = { w, ring: new Uint8Array(sab), free: Array.from({ length: SLOTS }, (_, i) => i), slotWaiters: [], values: new Map(), failed: null };
    w.on('message', (m: AdlerReply) => {
      if ('freed' in m) {
        t.free.push(m.freed);
        t.slotWaiters.shift()?.();
      } else {
        const v = t.values.get(m.job);
        t.values.delete(m.job);
        v?.resolve(m.value);
        if (t.values.size === 0) w.unref();
      }
    });
    w.once('error', (e) => fail(t, new Error(`checksum thread: ${e.message}`)));
    w.once('exit', (code) => fail(t, new Error(`checksum thread exited (${code})`)));
    w.unref(); // an idle checksum thread does not keep the process alive
    current = t;
    return t;
  } catch {
    return null;
  }
}

/** An Adler-32 taken in the worker thread; in this thread when the worker cannot be started. */
export function adlerInThread(): AdlerSum {
  const t = thread();
  if (!t) return inline();
  const job = nextJob++;
  let asked = false;
  const slot = async (): Promise<number> => {
    while (!t.failed && t.free.length === 0) await new Promise<void>((wake) => t.slotWaiters.push(wake));
    if (t.failed) throw t.failed;
    return t.free.pop()!;
  };
  // a job's updates run one after another, and its value waits for them (an update may wait for a slot)
  let chain: Promise<void> = Promise.resolve();
  const copyIn = async (bytes: Uint8Array): Promise<void> => {
    for (let at = 0; at < bytes.length; ) {
      const n = Math.min(SLOT_SIZE, bytes.length - at);
      const s = await slot();
      t.ring.set(bytes.subarray(at, at + n), s * SLOT_SIZE);
      const m: AdlerMessage = { job, slot: s, length: n };
      t.w.postMessage(m);
      at += n;
    }
  };
  return {
    update(bytes) {
      if (asked) return Promise.reject(new Error('AdlerSum.update after value()'));
      const done = chain.then(() => copyIn(bytes));
      chain = done.catch(() => {});
      return done;
    },
    value() {
      asked = true;
      return chain.then(() => {
        if (t.failed) throw t.failed;
        return new Promise<number>((resolve, reject) => {
          t.values.set(job, { resolve, reject });
          // while a value is awaited the thread keeps the process alive (the file is not done)
          t.w.ref();
          const m: AdlerMessage = { job, end: true };
          t.w.postMessage(m);
        });
      });
    },
  };
}

/** The same, in this thread (small snapshots, or no worker thread). */
export function inline(): AdlerSum {
  const sum = new Adler32();
  return {
    async update(bytes) {
      sum.update(bytes);
    },
    value() {
      return Promise.resolve(sum.value);
    },
  };
}

/** Stop the worker thread (tests; a process exits without it). */
export async function stopAdlerThread(): Promise<void> {
  const t = current;
  if (!t) return;
  fail(t, new Error('checksum thread stopped'));
  await t.w.terminate();
}
