// The snapshot checksum's worker thread (src/persistence/adlerthread.ts): the same Adler-32 as in
// this thread for any split into chunks, shared or copied, with jobs interleaved; a failed thread
// fails the jobs that were running on it and the next job starts a new one.
import { afterAll, describe, expect, it } from 'vitest';
import { adlerInThread, sharedChunk, stopAdlerThread } from '../src/persistence/adlerthread';
import { adler32 } from '../src/persistence/util';
import { prng } from '../src/quorum/zab/sim';

afterAll(() => stopAdlerThread());

function randomBytes(rnd: () => number, n: number, shared: boolean): Buffer {
  const b = shared ? sharedChunk(n) : Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rnd() < 0.2 ? 0xff : Math.floor(rnd() * 256);
  return b;
}

describe('Adler-32 in the worker thread', () => {
  it('equals adler32 of the whole for any chunks, shared or not, two jobs interleaved', async () => {
    const rnd = prng(7);
    for (let round = 0; round < 20; round++) {
      const a = adlerInThread();
      const b = adlerInThread();
      const partsA: Buffer[] = [];
      const partsB: Buffer[] = [];
      for (let k = 0; k < 12; k++) {
        const n = k === 3 ? 0 : Math.floor(rnd() * 70000);
        const x = randomBytes(rnd, n, k % 2 === 0);
        // a view into the middle of a shared buffer, as the snapshot writer's finish() gives
        const view = x.subarray(Math.min(5, x.length));
        (k % 3 === 0 ? partsB : partsA).push(view);
        (k % 3 === 0 ? b : a).update(view);
      }
      const [va, vb] = await Promise.all([a.value(), b.value()]);
      expect(va, `round ${round}`).toBe(adler32(Buffer.concat(partsA)));
      expect(vb, `round ${round}`).toBe(adler32(Buffer.concat(partsB)));
    }
  });

  it('a stopped thread fails the jobs it had; the next job starts a new thread', async () => {
    const a = adlerInThread();
    a.update(Buffer.from('abc'));
    await stopAdlerThread();
    await expect(a.value()).rejects.toThrow(/checksum thread/);
    const b = adlerInThread();
    b.update(Buffer.from('Wikipedia'));
    expect(await b.value()).toBe(0x11e60398);
  });
});
