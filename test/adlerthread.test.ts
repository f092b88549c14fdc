// The snapshot checksum's worker thread (src/persistence/adlerthread.ts): the same Adler-32 as in
// this thread for any split into chunks, shared or copied, with jobs interleaved; a failed thread
// fails the jobs that were running on it and the next job starts a new one.
import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataTree } from '../src/data/datatree';
import { readSnapshot, writeSnapshot } from '../src/persistence/snapshot';
import { adlerInThread, stopAdlerThread } from '../src/persistence/adlerthread';
import { adler32 } from '../src/persistence/util';
import { prng } from '../src/quorum/zab/sim';

afterAll(() => stopAdlerThread());

function randomBytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rnd() < 0.2 ? 0xff : Math.floor(rnd() * 256);
  return b;
}

describe('Adler-32 in the worker thread', () => {
  it('equals adler32 of the whole for any chunks (past the ring: more and larger than its slots), two jobs interleaved', async () => {
    const rnd = prng(7);
    for (let round = 0; round < 20; round++) {
      const a = adlerInThread();
      const b = adlerInThread();
      const partsA: Buffer[] = [];
      const partsB: Buffer[] = [];
      for (let k = 0; k < 12; k++) {
        // now and then larger than a slot (1 MiB): split over several
        const n = k === 3 ? 0 : round % 5 === 0 && k === 5 ? 2_500_000 + Math.floor(rnd() * 1000) : Math.floor(rnd() * 70000);
        const x = randomBytes(rnd, n);
        // a view into the middle of a buffer, as the snapshot writer's finish() gives
        const view = x.subarray(Math.min(5, x.length));
        (k % 3 === 0 ? partsB : partsA).push(view);
        // not awaited for job b: its updates queue for slots behind a's
        if (k % 3 === 0) void b.update(view);
        else await a.update(view);
      }
      const [va, vb] = await Promise.all([a.value(), b.value()]);
      expect(va, `round ${round}`).toBe(adler32(Buffer.concat(partsA)));
      expect(vb, `round ${round}`).toBe(adler32(Buffer.concat(partsB)));
    }
  });

  it('a stopped thread fails the jobs it had; the next job starts a new thread', async () => {
    const a = adlerInThread();
    await a.update(Buffer.from('abc'));
    await stopAdlerThread();
    await expect(a.value()).rejects.toThrow(/checksum thread/);
    const b = adlerInThread();
    await b.update(Buffer.from('Wikipedia'));
    expect(await b.value()).toBe(0x11e60398);
  });

  it('a snapshot large enough to take its checksum in the thread reads back, plain, gz and snappy', async () => {
    const t = new DataTree();
    const open = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    for (let i = 0; i < 12_000; i++) t.createNode(`/n${i}`, Buffer.from(`value-${i}-`.repeat(i % 20)), open, 0n, -1, i + 1, 1000 + i);
    t.lastProcessedZxid = 12_000;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-adlerthread-'));
    try {
      for (const compression of ['', 'gz', 'snappy'] as const) {
        // reading checks both seals: a checksum that missed or doubled a chunk fails it
        const back = await readSnapshot(await writeSnapshot(t, dir, 12_000, { compression }));
        expect(back.nodeCount, compression).toBe(t.nodeCount);
        expect(back.treeDigest, compression).toBe(t.treeDigest);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
