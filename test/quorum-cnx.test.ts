// QuorumCnxManager's view of which peers are reachable ('up' / 'down'), which lets an election
// skip finalizeWait for a peer that cannot vote; and re-dialing after a connect that timed out.
import { afterEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { QuorumCnxManager } from '../src/quorum/cnx/manager';
import { freePorts } from './helpers/peers';

const managers: QuorumCnxManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

function events(m: QuorumCnxManager): string[] {
  const seen: string[] = [];
  m.on('up', (sid: number) => seen.push(`up ${sid}`));
  m.on('down', (sid: number) => seen.push(`down ${sid}`));
  return seen;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Start `m`, send a vote to peer 2 and wait for the first reachability report. */
async function sendAndWait(m: QuorumCnxManager): Promise<string[]> {
  managers.push(m);
  await m.listen();
  const seen = events(m);
  m.send(2, Buffer.from('vote'));
  await until(() => seen.length > 0);
  return seen;
}

describe('QuorumCnxManager reachability', () => {
  it('reports a refused connect as down', async () => {
    const [mine, nobody] = await freePorts(2);
    const m = new QuorumCnxManager({ myid: 1, listenHost: '127.0.0.1', listenPort: mine, peers: new Map([[2, { host: '127.0.0.1', port: nobody }]]) });
    expect(await sendAndWait(m)).toEqual(['down 2']);
  });

  it('reports up when a connection is made and down when the peer goes away', async () => {
    const [p1, p2] = await freePorts(2);
    const peers = new Map([
      [1, { host: '127.0.0.1', port: p1 }],
      [2, { host: '127.0.0.1', port: p2 }],
    ]);
    const a = new QuorumCnxManager({ myid: 1, listenHost: '127.0.0.1', listenPort: p1, peers });
    const b = new QuorumCnxManager({ myid: 2, listenHost: '127.0.0.1', listenPort: p2, peers });
    managers.push(a, b);
    await Promise.all([a.listen(), b.listen()]);
    const seenA = events(a);
    const got: string[] = [];
    b.on('message', (sid: number, payload: Buffer) => got.push(`${sid}:${payload.toString()}`));
    // 1 dials 2, which drops it and dials back (the larger sid's connection survives)
    a.send(2, Buffer.from('hello'));
    await until(() => got.length > 0);
    expect(got).toEqual(['1:hello']);
    expect(seenA).toEqual(['up 2']);
    await b.close();
    await until(() => seenA.length > 1);
    expect(seenA).toEqual(['up 2', 'down 2']);
  });

  it('dials again after a connect that timed out, and reports the timeout as down', async () => {
    const [mine] = await freePorts(1);
    let dials = 0;
    const hanging: net.Socket[] = [];
    const m = new QuorumCnxManager({
      myid: 1,
      listenHost: '127.0.0.1',
      listenPort: mine,
      peers: new Map([[2, { host: '127.0.0.1', port: 9 }]]),
      connectTimeoutMs: 50,
      transport: {
        server: (onSocket) => net.createServer(onSocket),
        // a connect that never completes nor fails (a peer behind a dropping firewall)
        connect: () => {
          dials++;
          const s = new net.Socket();
          hanging.push(s);
          return s;
        },
      },
    });
    expect(await sendAndWait(m)).toEqual(['down 2']);
    m.send(2, Buffer.from('vote again'));
    expect(dials).toBe(2);
    for (const s of hanging) s.destroy();
  });
});
