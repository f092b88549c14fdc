// The election port over real loopback sockets: three QuorumCnxManagers + ElectionRunners elect a
// leader, whichever order they start in, with the larger-sid tie-break leaving exactly one
// connection per pair (the one dialled by the larger sid).
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { frame, QuorumCnxManager } from '../src/quorum/election/cnxmanager';
import { Decision, FastLeaderElection } from '../src/quorum/election/fle';
import { decodeNotification, encodeInitialMessage, encodeNotification, parseInitialMessage } from '../src/quorum/election/notification';
import { ElectionRunner } from '../src/quorum/election/runner';

const HOST = '127.0.0.1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Node {
  id: number;
  cnx: QuorumCnxManager;
  fle: FastLeaderElection;
  runner: ElectionRunner;
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

/** Bind the election ports first (port 0), then tell every manager the others' addresses. */
async function ensemble(data: Record<number, { zxid: number; epoch: number }>): Promise<Map<number, Node>> {
  const ids = Object.keys(data).map(Number);
  const nodes = new Map<number, Node>();
  for (const id of ids) {
    const cnx = new QuorumCnxManager({ myid: id, listen: { host: HOST, port: 0 }, connectTimeoutMs: 1000 });
    await cnx.listen();
    const fle = new FastLeaderElection({ myid: id, voters: new Set(ids), lastLoggedZxid: data[id].zxid, currentEpoch: data[id].epoch, configText: 'version=0' });
    const runner = new ElectionRunner(fle, cnx);
    nodes.set(id, { id, cnx, fle, runner });
    cleanup.push(async () => {
      runner.stop();
      await cnx.close();
    });
  }
  for (const a of nodes.values()) for (const b of nodes.values()) if (a !== b) a.cnx.setPeerAddress(b.id, b.cnx.address());
  return nodes;
}

function checkTieBreak(nodes: Map<number, Node>): void {
  for (const n of nodes.values()) {
    const conns = n.cnx.connections().sort((a, b) => a.sid - b.sid);
    const others = [...nodes.keys()].filter((s) => s !== n.id).sort((a, b) => a - b);
    expect(conns.map((c) => c.sid), `connections of ${n.id}`).toEqual(others);
    for (const c of conns) expect(c.initiatedByMe, `${n.id}↔${c.sid}`).toBe(n.id > c.sid);
  }
}

describe('election over loopback sockets', () => {
  for (const order of [
    [1, 2, 3],
    [3, 2, 1],
    [2, 3, 1],
  ]) {
    it(`three peers started in order ${order.join(',')} elect the best one`, async () => {
      const t0 = performance.now();
      const nodes = await ensemble({ 1: { zxid: 0x100000007, epoch: 1 }, 2: { zxid: 0x100000009, epoch: 1 }, 3: { zxid: 0x100000008, epoch: 1 } });
      const results: Array<Promise<Decision>> = [];
      for (const id of order) {
        results.push(nodes.get(id)!.runner.lookForLeader());
        await sleep(25);
      }
      const decisions = await Promise.all(results);
      const elapsed = performance.now() - t0;
      const byId = new Map(order.map((id, i) => [id, decisions[i]]));
      expect(byId.get(2)).toMatchObject({ state: 'LEADING', leader: 2, zxid: 0x100000009, peerEpoch: 1 });
      expect(byId.get(1)).toMatchObject({ state: 'FOLLOWING', leader: 2 });
      expect(byId.get(3)).toMatchObject({ state: 'FOLLOWING', leader: 2 });
      expect(elapsed).toBeLessThan(2000);
      await sleep(50); // let the losing connections of the tie-break close
      checkTieBreak(nodes);
    });
  }

  it('a peer whose listener starts late (after it began looking) still takes part', async () => {
    const t0 = performance.now();
    const ids = [1, 2, 3];
    const cnxs = new Map<number, QuorumCnxManager>();
    for (const id of ids) cnxs.set(id, new QuorumCnxManager({ myid: id, listen: { host: HOST, port: 0 }, connectTimeoutMs: 1000 }));
    // reserve addresses: 1 and 2 listen now; 3 binds later on a port picked now
    await cnxs.get(1)!.listen();
    await cnxs.get(2)!.listen();
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, HOST, () => r()));
    const port3 = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const late = new QuorumCnxManager({ myid: 3, listen: { host: HOST, port: port3 }, connectTimeoutMs: 1000 });
    cnxs.set(3, late);
    for (const a of ids) for (const b of ids) if (a !== b) cnxs.get(a)!.setPeerAddress(b, b === 3 ? { host: HOST, port: port3 } : cnxs.get(b)!.address());
    const runners = new Map<number, ElectionRunner>();
    for (const id of ids) {
      const fle = new FastLeaderElection({ myid: id, voters: new Set(ids), lastLoggedZxid: 5, currentEpoch: 1 });
      runners.set(id, new ElectionRunner(fle, cnxs.get(id)!));
    }
    cleanup.push(async () => {
      for (const id of ids) {
        runners.get(id)!.stop();
        await cnxs.get(id)!.close();
      }
    });
    // 3 (the best: highest sid) is looking but not listening yet
    const p3 = runners.get(3)!.lookForLeader();
    const p1 = runners.get(1)!.lookForLeader();
    await sleep(100);
    await late.listen();
    const p2 = runners.get(2)!.lookForLeader();
    const [d1, d2, d3] = await Promise.all([p1, p2, p3]);
    expect(d3).toMatchObject({ state: 'LEADING', leader: 3 });
    expect(d1).toMatchObject({ state: 'FOLLOWING', leader: 3 });
    expect(d2).toMatchObject({ state: 'FOLLOWING', leader: 3 });
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('unsent messages wait in the capacity-1 queue until connectAll reaches the peer', async () => {
    const a = new QuorumCnxManager({ myid: 5, listen: { host: HOST, port: 0 }, connectTimeoutMs: 500 });
    await a.listen();
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, HOST, () => r()));
    const portB = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const b = new QuorumCnxManager({ myid: 4, listen: { host: HOST, port: portB } });
    cleanup.push(async () => {
      await a.close();
      await b.close();
    });
    a.setPeerAddress(4, { host: HOST, port: portB });
    a.send(4, Buffer.from('first'));
    a.send(4, Buffer.from('second'));
    await sleep(50); // connection refused
    expect(a.haveDelivered()).toBe(false);
    const got: string[] = [];
    b.on('message', (sid: number, m: Buffer) => got.push(`${sid}:${m.toString()}`));
    await b.listen();
    await sleep(20);
    expect(got).toEqual([]);
    a.connectAll();
    await sleep(50);
    expect(got).toEqual(['5:second']);
    expect(a.haveDelivered()).toBe(true);
    expect(a.connections()).toEqual([{ sid: 4, initiatedByMe: true }]);
    expect(b.connections()).toEqual([{ sid: 5, initiatedByMe: false }]);
  });

  it('a late joiner learns the established leader from FOLLOWING/LEADING replies', async () => {
    const nodes = await ensemble({ 1: { zxid: 0, epoch: 0 }, 2: { zxid: 0, epoch: 0 }, 3: { zxid: 0, epoch: 0 } });
    const [d1, d2] = await Promise.all([nodes.get(1)!.runner.lookForLeader(), nodes.get(2)!.runner.lookForLeader()]);
    expect(d2).toMatchObject({ state: 'LEADING', leader: 2 });
    expect(d1).toMatchObject({ state: 'FOLLOWING', leader: 2 });
    const t = performance.now();
    const d3 = await nodes.get(3)!.runner.lookForLeader();
    expect(d3).toMatchObject({ state: 'FOLLOWING', leader: 2, electionEpoch: 1 });
    expect(performance.now() - t).toBeLessThan(190); // below finalizeWait: learnt from the replies
  });

  it('speaks the wire protocol to a hand-written peer: initial message, tie-break, framing, limits', async () => {
    const cnx = new QuorumCnxManager({ myid: 2, listen: { host: HOST, port: 0 } });
    const addr = await cnx.listen();
    cleanup.push(() => cnx.close());
    const got: Array<[number, Buffer]> = [];
    cnx.on('message', (sid: number, b: Buffer) => got.push([sid, b]));

    // a larger sid dials us: kept; frames in both directions
    const s3 = net.connect(addr.port, HOST);
    await new Promise((r) => s3.once('connect', r));
    const n = encodeNotification({ state: 0, leader: 3, zxid: 5, electionEpoch: 1, peerEpoch: 1, config: 'version=0' });
    s3.write(Buffer.concat([encodeInitialMessage(3, `${HOST}:1`), frame(n).subarray(0, 7)]));
    await sleep(20);
    s3.write(frame(n).subarray(7));
    await sleep(30);
    expect(got.map(([sid, b]) => [sid, decodeNotification(b)?.leader])).toEqual([[3, 3]]);
    const fromMgr: Buffer[] = [];
    s3.on('data', (d) => fromMgr.push(d));
    cnx.send(3, Buffer.from('hello'));
    cnx.send(2, Buffer.from('self')); // loopback, no socket
    await sleep(30);
    expect(Buffer.concat(fromMgr).toString('hex')).toBe('00000005' + Buffer.from('hello').toString('hex'));
    expect(got.at(-1)).toEqual([2, Buffer.from('self')]);
    expect(cnx.connections()).toEqual([{ sid: 3, initiatedByMe: false }]);

    // a bad frame length drops the connection
    const closed = new Promise((r) => s3.once('close', r));
    const bad = Buffer.alloc(4);
    bad.writeInt32BE(512 * 1024 + 1);
    s3.write(bad);
    await closed;
    await sleep(10);
    expect(cnx.connections()).toEqual([]);

    // a smaller sid dials us: we close it and dial back to the address in its initial message,
    // re-sending the last message we sent to it
    const listener1 = net.createServer();
    await new Promise<void>((r) => listener1.listen(0, HOST, () => r()));
    cleanup.push(() => new Promise<void>((r) => listener1.close(() => r())));
    const port1 = (listener1.address() as net.AddressInfo).port;
    const dialBack = new Promise<Buffer>((resolve) =>
      listener1.once('connection', (s) => {
        const chunks: Buffer[] = [];
        s.on('data', (d) => {
          chunks.push(d);
          const all = Buffer.concat(chunks);
          const init = parseInitialMessage(all);
          if (init && all.length >= init.used + 4 + 3) {
            resolve(all);
            s.destroy();
          }
        });
      }),
    );
    cnx.send(1, Buffer.from('old')); // no address known for 1 yet: stays queued
    cnx.send(1, Buffer.from('new')); // capacity 1: replaces 'old'
    expect(cnx.haveDelivered()).toBe(false);
    const s1 = net.connect(addr.port, HOST);
    await new Promise((r) => s1.once('connect', r));
    const s1closed = new Promise((r) => s1.once('close', r));
    s1.on('error', () => {});
    s1.write(encodeInitialMessage(1, `${HOST}:${port1}`));
    await s1closed; // the acceptor with the larger sid closed our connection
    const all = await dialBack;
    const init = parseInitialMessage(all)!;
    expect(init.msg).toEqual({ protocolVersion: -65536, sid: 2, addresses: [`${HOST}:${addr.port}`] });
    expect(all.subarray(init.used).toString('hex')).toBe('00000003' + Buffer.from('new').toString('hex'));
    expect(cnx.haveDelivered()).toBe(true);
  });
});
