// Hostile clients against one server, with a well-behaved client (from another loopback address)
// served throughout: a flood of connections from one address, stalled handshakes, garbage and
// oversize frames, a client that never reads its replies, a watch flood into a client that does
// not read. The server must keep serving, close only the offenders, and keep its memory bounded.
// The numbers (round trips of the good client, bytes held for the bad ones) are printed with
// ZK_TEST_VERBOSE=1 and quoted in docs/security.md; nothing here asserts a speed.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JuteWriter } from '../src/jute/archive';
import { RunningServer } from '../src/main';
import { OpCode } from '../src/data/constants';
import { serverMetrics } from '../src/util/metrics';
import { RawClient, until } from './helpers/rawclient';
import { startTestServer } from './helpers/server';

const VERBOSE = process.env.ZK_TEST_VERBOSE === '1';
const note = (...a: unknown[]): void => {
  if (VERBOSE) console.log(...a);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let s: RunningServer;
let good: RawClient;
const MAX_BUFFER = 65536;

/** The good client's round trip for a getData, ms (it must answer at all). */
async function goodRoundTrip(): Promise<number> {
  const t = process.hrtime.bigint();
  const r = await good.getData('/good');
  expect(r.err).toBe(0);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function openSockets(n: number): Promise<net.Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Socket>((resolve) => {
          const sock = net.connect({ host: '127.0.0.1', port: s.port });
          sock.on('error', () => {});
          sock.once('connect', () => resolve(sock));
          sock.once('close', () => resolve(sock));
        }),
    ),
  );
}

const openCount = (socks: net.Socket[]): number => socks.filter((x) => !x.destroyed && x.readyState === 'open').length;

beforeAll(async () => {
  s = await startTestServer({ maxClientCnxns: 60, juteMaxBuffer: MAX_BUFFER, sessionlessCnxnTimeout: 500 });
  // 127.0.0.2 is loopback too: the per-address limit that stops the flood does not touch it
  good = await RawClient.connect(s.port, { localAddress: '127.0.0.2' });
  expect((await good.create('/good', 'g')).err).toBe(0);
});

afterAll(async () => {
  await good?.close();
  await s?.stop();
});

describe('hostile clients', () => {
  it('2,000 connections from one address: 60 are kept (maxClientCnxns), the rest closed; another address is served', async () => {
    const before = await goodRoundTrip();
    const socks: net.Socket[] = [];
    // in waves of 250: a burst larger than the listen backlog waits in the kernel, for any server
    for (let wave = 0; wave < 8; wave++) {
      socks.push(...(await openSockets(250)));
      expect(s.listener.connections('127.0.0.1')).toBeLessThanOrEqual(60);
    }
    await until(() => openCount(socks) <= 60, 10_000, 'the excess connections to close');
    expect(s.listener.connections('127.0.0.1')).toBe(60);
    expect(s.listener.connections('127.0.0.2')).toBe(1);
    const during = await goodRoundTrip();
    note(`flood: good client round trip ${before.toFixed(2)} ms before, ${during.toFixed(2)} ms during; ${openCount(socks)} of 2000 kept`);
    for (const x of socks) x.destroy();
    // a fresh connection from the flooded address works again once the flood is gone
    await until(() => s.listener.connections('127.0.0.1') === 0, 5000, 'the flood to be gone');
    const again = await RawClient.connect(s.port);
    await again.close();
  }, 60_000);

  it('stalled handshakes (a few bytes, then nothing) are closed after nio.sessionlessCnxnTimeout', async () => {
    const socks = await openSockets(50);
    for (const x of socks) x.write(Buffer.from([0, 0, 0]));
    const t0 = Date.now();
    await until(() => openCount(socks) === 0, 5000, 'stalled connections to close');
    note(`stalled: all 50 closed ${Date.now() - t0} ms after they stalled (timeout 500 ms)`);
    await goodRoundTrip();
  }, 15_000);

  it('garbage, oversize frames and frames that stall mid-way in a session close that connection only', async () => {
    const socks = await openSockets(40);
    socks.forEach((x, i) => {
      if (i % 2 === 0) {
        const b = Buffer.alloc(64);
        for (let j = 0; j < b.length; j++) b[j] = (i * 31 + j * 7) & 0xff;
        x.write(b);
      } else {
        const len = Buffer.alloc(4);
        len.writeInt32BE(MAX_BUFFER * 4);
        x.write(len);
      }
    });
    await until(() => openCount(socks) === 0, 5000, 'garbage connections to close');
    // a session whose next frame stops half-way: its session expires and the connection goes
    const stall = await RawClient.connect(s.port, { timeout: 4000 });
    const len = Buffer.alloc(4);
    len.writeInt32BE(100);
    stall.sendBytes(Buffer.concat([len, Buffer.alloc(10)]));
    const t0 = Date.now();
    expect(await stall.closedWithin(15_000)).toBe(true);
    note(`mid-frame stall: closed ${Date.now() - t0} ms later (session timeout ${stall.timeout} ms)`);
    await goodRoundTrip();
  }, 30_000);

  it('a client that sends requests and never reads: the server stops reading it, holds a bounded backlog, and goes on once it reads', async () => {
    await good.setData('/good', Buffer.alloc(1000, 1));
    const bad = await RawClient.connect(s.port);
    // 200,000 pipelined getData of a 1 KB node: 4.4 MB of requests, 218 MB of replies
    const N = 200_000;
    const w = new JuteWriter(N * 26);
    for (let i = 0; i < N; i++) {
      const at = w.beginFrame();
      w.writeInt(i + 1);
      w.writeInt(OpCode.getData);
      w.writeString('/good');
      w.writeBool(false);
      w.endFrame(at);
    }
    const requestBytes = N * 22;
    // count the reply bytes ourselves (no parsing): 4 + 16 + 4 + 1000 + 68 per reply
    bad.sock.removeAllListeners('data');
    let got = 0;
    bad.sock.on('data', (d: Buffer) => (got += d.length));
    bad.sock.pause(); // never read
    const received0 = serverMetrics.bytes_received_count.value;
    bad.sock.write(w.finish());
    await sleep(3000);
    const taken = serverMetrics.bytes_received_count.value - received0;
    const rtt = await goodRoundTrip();
    note(`non-reading client: the server read ${taken} of ${requestBytes} request bytes and stopped; good client round trip ${rtt.toFixed(2)} ms`);
    expect(taken).toBeLessThan(requestBytes);
    expect(s.zk.cnxns.size).toBe(2); // the good client and this one: not cut off, only paused
    // once the client reads, every request is answered
    const t0 = Date.now();
    bad.sock.resume();
    await until(() => got >= N * 1092, 60_000, 'all replies').catch((e) => {
      throw new Error(`${e.message}: ${got} of ${N * 1092} bytes`);
    });
    note(`non-reading client: all ${N} replies (${(got / 1e6).toFixed(0)} MB) arrived ${Date.now() - t0} ms after it began to read`);
    expect(got).toBe(N * 1092);
    bad.sock.destroy();
    await good.setData('/good', 'g');
  }, 120_000);

  it('a watch flood into a client that does not read: cut off at 16 × jute.maxbuffer of unsent events', async () => {
    const bad = await RawClient.connect(s.port);
    expect((await bad.addWatch('/flood', 1)).err).toBe(0); // persistent recursive
    bad.sock.pause();
    const writer = await RawClient.connect(s.port);
    await writer.create('/flood', '');
    const data = Buffer.alloc(100);
    let n = 0;
    // each setData fires an event for /flood/…; keep writing until the server gives up on `bad`
    const cnxns = s.zk.cnxns.size;
    while (s.zk.cnxns.size === cnxns && n < 60_000) {
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i++) batch.push(writer.create(`/flood/n${n++}-${'x'.repeat(900)}`, data));
      await Promise.all(batch);
      await sleep(1);
    }
    const t = Date.now();
    bad.sock.resume();
    await until(() => bad.isClosed, 10_000, 'the flooded client to be closed');
    note(`watch flood: ${n} events (~${Math.round((n * 930) / 1024)} KiB) before the cut-off (limit ${(16 * MAX_BUFFER) >> 10} KiB), closed within ${Date.now() - t} ms of reading`);
    expect(n).toBeLessThan(60_000);
    await writer.close();
    await goodRoundTrip();
  }, 120_000);
});
