// autopurge (DatadirCleanupManager's PurgeTask) off the event loop. The purge reads the newest
// snapshots' tails to find the valid ones and unlinks old snapshot and txn-log files: unlinking a
// large file takes its time, and on a stalled disk (a frozen filesystem) an unlink waits until the
// disk comes back. ZooKeeper runs it on a timer thread of its own; here a worker thread does it, so
// the server goes on serving meanwhile (docs/persistence.md). One run at a time.
import { Worker } from 'worker_threads';
import { workerScript } from './workerscript';

export interface PurgeRequest {
  dataDir: string;
  dataLogDir: string;
  retain: number;
}

export type PurgeReply = { removed: string[] } | { error: string };

/** One purge in a worker thread; never rejects (a failure comes back as `{ error }`). */
export function purgeInThread(req: PurgeRequest): Promise<PurgeReply> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: PurgeReply): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    let w: Worker;
    try {
      w = new Worker(workerScript('purge-worker.js'), { workerData: req });
    } catch (e) {
      done({ error: `cannot start the purge thread: ${(e as Error).message}` });
      return;
    }
    w.once('message', (r: PurgeReply) => done(r));
    w.once('error', (e) => done({ error: `purge thread: ${e.message}` }));
    w.once('exit', (code) => done({ error: `purge thread exited (${code})` }));
  });
}
