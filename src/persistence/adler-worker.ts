// The worker thread of adlerthread.ts: Adler-32 of the slots of the shared ring it is told about,
// per job, in order; each slot is handed back as soon as it is summed, and a job's value is posted
// when the job ends. Messages carry numbers only: the thread holds no buffer between messages.
import { parentPort, workerData } from 'worker_threads';
import { Adler32 } from './util';

export type AdlerMessage = { job: number; slot: number; length: number } | { job: number; end: true };
export type AdlerReply = { freed: number } | { job: number; value: number };

const ring = new Uint8Array(workerData.ring as SharedArrayBuffer);
const slotSize = workerData.slotSize as number;
const jobs = new Map<number, Adler32>();
parentPort!.on('message', (m: AdlerMessage) => {
  let sum = jobs.get(m.job);
  if (!sum) jobs.set(m.job, (sum = new Adler32()));
  if ('end' in m) {
    jobs.delete(m.job);
    const reply: AdlerReply = { job: m.job, value: sum.value };
    parentPort!.postMessage(reply);
  } else {
    const at = m.slot * slotSize;
    sum.update(ring, at, at + m.length);
    const reply: AdlerReply = { freed: m.slot };
    parentPort!.postMessage(reply);
  }
});
