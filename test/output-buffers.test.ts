// A connection's replies go out from a writer the server hands from connection to connection (the
// spare writer, ZooKeeperServer.borrowWriter): it may be handed on only once the socket has taken
// every byte of it. These tests hold one client's replies in the socket (it does not read) while
// another client's replies are built, and check every byte that arrives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningServer } from '../src/main';
import { RawClient } from './helpers/rawclient';
import { startTestServer } from './helpers/server';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SIZE = 200_000; // one reply: under the spare writer's 1 MB cap, over the loopback's first send buffer

let s: RunningServer;

beforeAll(async () => {
  s = await startTestServer({ juteMaxBuffer: 1 << 20 });
  const c = await RawClient.connect(s.port);
  expect((await c.create('/a', Buffer.alloc(SIZE, 'a'))).err).toBe(0);
  expect((await c.create('/b', Buffer.alloc(SIZE, 'b'))).err).toBe(0);
  await c.close();
});

afterAll(async () => {
  await s?.stop();
});

describe('output buffers', () => {
  it("replies queued in the socket of a client that does not read are not overwritten by another client's replies", async () => {
    const a = await RawClient.connect(s.port);
    const b = await RawClient.connect(s.port);
    a.sock.pause(); // a reads nothing until the end: the kernel's buffers fill, then the server's socket queues
    const fromA: Promise<{ err: number; data?: Buffer | null }>[] = [];
    // one request per turn, so each reply is a batch of its own (the size the spare writer keeps)
    for (let i = 0; i < 60; i++) {
      fromA.push(a.getData('/a'));
      await sleep(10);
    }
    // meanwhile b reads, batch after batch, each built in whatever writer the server hands out
    for (let i = 0; i < 20; i++) {
      const r = await b.getData('/b');
      expect(r.err).toBe(0);
      expect(r.data!.equals(Buffer.alloc(SIZE, 'b'))).toBe(true);
    }
    a.sock.resume();
    const replies = await Promise.all(fromA);
    let bad = 0;
    for (const r of replies) if (r.err !== 0 || !r.data?.equals(Buffer.alloc(SIZE, 'a'))) bad++;
    expect(bad).toBe(0);
    await a.close();
    await b.close();
  }, 60_000);

  it('a setWatches that fires an event answers after it, and a read pipelined behind it after both', async () => {
    const w = await RawClient.connect(s.port);
    const relativeZxid = (await w.exists('/a')).zxid;
    const c = await RawClient.connect(s.port);
    expect((await c.setData('/a', Buffer.alloc(SIZE, 'a'))).err).toBe(0); // changed after relativeZxid
    const from = w.arrivals.length;
    // a data watch set as of relativeZxid fires at once (NodeDataChanged, 3), before the reply (xid -8)
    const sw = w.setWatches(relativeZxid, ['/a'], [], []);
    const gd = w.getData('/b');
    expect((await sw).err).toBe(0);
    expect((await gd).data?.length).toBe(SIZE);
    const xid = w.arrivals[w.arrivals.length - 1];
    expect(w.arrivals.slice(from)).toEqual(['e:3:/a', 'r:-8:0', xid]);
    expect(xid).toMatch(/^r:\d+:0$/);
    await w.close();
    await c.close();
  });
});
