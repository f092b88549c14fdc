// Adler-32 in a worker thread, for snapshot files. A snapshot is written on the request thread in
// slices (snapshot.ts), and its checksum was about a third of that work (1M znodes: ~0.3 s of
// ~1 s, measured with --cpu-prof under a create load). The bytes are handed to one worker thread
// per process as each 1 MB chunk is done, without copying when the chunk lives in a
// SharedArrayBuffer (sharedChunk), and the value is asked for once, before the file's seal.
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Adler32 } from './util';
import type { AdlerMessage } from './adler-worker';

/** A running Adler-32: bytes go in (in order, never changed afterwards), the value comes out once. */
export interface AdlerSum {
  update(bytes: Uint8Array): void;
  /** the checksum of everything updated; rejects if the worker thread failed */
  value(): Promise<number>;
}

/** The worker's script; the tests run the TypeScript sources and take the compiled file, as snapcheck.ts does. */
function workerScript(): string {
  const here = path.join(__dirname, 'adler-worker.js');
  if (fs.existsSync(here)) return here;
  return path.join(__dirname, '..', '..', 'dist', 'persistence', 'adler-worker.js');
}

let worker: Worker | null = null;
let nextJob = 1;
const waiting = new Map<number, { resolve: (v: number) => void; reject: (e: Error) => void }>();
/** jobs started on a worker that then failed: their values never come */
const lost = new Set<number>();

function failAll(e: Error): void {
  for (const [job, w] of waiting) {
    lost.add(job);
    w.reject(e);
  }
  waiting.clear();
  worker = null;
}

function thread(): Worker | null {
  if (worker) return worker;
  try {
    const w = new Worker(workerScript());
    w.on('message', (m: { job: number; value: number }) => {
      const p = waiting.get(m.job);
      waiting.delete(m.job);
      p?.resolve(m.value);
    });
    w.once('error', (e) => {
      if (worker === w) failAll(new Error(`checksum thread: ${e.message}`));
    });
    w.once('exit', (code) => {
      if (worker === w) failAll(new Error(`checksum thread exited (${code})`));
    });
    w.unref(); // an idle checksum thread does not keep the process alive
    worker = w;
    return w;
  } catch {
    return null;
  }
}

/** An Adler-32 taken in the worker thread; in this thread when the worker cannot be started. */
export function adlerInThread(): AdlerSum {
  const w = thread();
  if (!w) return inline();
  const job = nextJob++;
  let asked = false;
  return {
    update(bytes) {
      if (asked) throw new Error('AdlerSum.update after value()');
      if (bytes.length === 0) return;
      const m: AdlerMessage = { job, bytes };
      w.postMessage(m);
    },
    value() {
      asked = true;
      if (lost.has(job) || worker !== w) return Promise.reject(new Error('checksum thread failed'));
      return new Promise<number>((resolve, reject) => {
        waiting.set(job, { resolve, reject });
        // while a value is awaited the thread keeps the process alive (the file is not done)
        w.ref();
        const m: AdlerMessage = { job, end: true };
        w.postMessage(m);
      }).finally(() => {
        if (waiting.size === 0 && worker === w) w.unref();
      });
    },
  };
}

/** The same, in this thread (small snapshots, or no worker thread). */
export function inline(): AdlerSum {
  const sum = new Adler32();
  return {
    update(bytes) {
      sum.update(bytes);
    },
    value() {
      return Promise.resolve(sum.value);
    },
  };
}

/** A writer's chunk buffer in shared memory, so that handing it to the worker copies nothing. */
export function sharedChunk(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

/** Stop the worker thread (tests; a process exits without it). */
export async function stopAdlerThread(): Promise<void> {
  const w = worker;
  worker = null;
  if (w) {
    failAll(new Error('checksum thread stopped'));
    await w.terminate();
  }
}
