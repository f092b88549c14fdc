// The worker thread of adlerthread.ts: Adler-32 of the byte ranges it is sent, per job, in order;
// a job's value is posted back when the job ends.
import { parentPort } from 'worker_threads';
import { Adler32 } from './util';

export type AdlerMessage = { job: number; bytes: Uint8Array } | { job: number; end: true };

const jobs = new Map<number, Adler32>();
parentPort!.on('message', (m: AdlerMessage) => {
  let sum = jobs.get(m.job);
  if (!sum) jobs.set(m.job, (sum = new Adler32()));
  if ('end' in m) {
    jobs.delete(m.job);
    parentPort!.postMessage({ job: m.job, value: sum.value });
  } else sum.update(m.bytes);
});
