// QuorumCnxManager's view of which peers are reachable ('up' / 'down', with why a connect failed),
// which lets an election skip finalizeWait for a peer that cannot vote; re-dialing after a connect
// that timed out; and the WARN an operator looks for when an ensemble does not form.
import { afterEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import * as fs from 'node:fs';
import { ConnectFailure, QuorumCnxManager } from '../src/quorum/cnx/manager';
import { freePorts, Peers, requireDist } from './helpers/peers';

const managers: QuorumCnxManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

function events(m: QuorumCnxManager): string[] {
  const seen: string[] = [];
  m.on('up', (sid: number) => seen.push(`up ${sid}`));
  m.on('down', (sid: number, why?: ConnectFailure) => seen.push(`down ${sid}${why ? ` ${why.code}` : ''}`));
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
    expect(await sendAndWait(m)).toEqual(['down 2 ECONNREFUSED']);
  });

  it('reports a name that does not resolve as down, with the resolver\'s code', async () => {
    const [mine] = await freePorts(1);
    const m = new QuorumCnxManager({ myid: 1, listenHost: '127.0.0.1', listenPort: mine, peers: new Map([[2, { host: 'zk-2.invalid', port: 3888 }]]) });
    // ENOTFOUND; EAI_AGAIN where no resolver answers at all
    expect((await sendAndWait(m))[0]).toMatch(/^down 2 (ENOTFOUND|EAI_AGAIN)$/);
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
    expect(await sendAndWait(m)).toEqual(['down 2 ETIMEDOUT']);
    m.send(2, Buffer.from('vote again'));
    expect(dials).toBe(2);
    for (const s of hanging) s.destroy();
  });
});

describe('an election port that cannot be reached', () => {
  it('is logged at WARN as ZooKeeper words it, once per peer and kind of failure, not at every attempt', async () => {
    requireDist();
    const [client, q1, e1, q3, e3] = await freePorts(5);
    // peer 2's name does not resolve (a typo, or a DNS record not published yet); nobody listens for peer 3
    const peers = new Peers(
      {
        clientPort: () => client,
        common: [`server.1=127.0.0.1:${q1}:${e1}`, 'server.2=zk-2.invalid:2888:3888', `server.3=127.0.0.1:${q3}:${e3}`],
      },
      'zk-unreachable-',
    );
    try {
      peers.start(1);
      // the election resends its vote at 200, 400, 800, 1600 ms…: a dozen failed connects by now
      await new Promise((r) => setTimeout(r, 4000));
      const log = peers.logs.get(1)!;
      const lines = (sid: number): string[] => log.split('\n').filter((l) => l.includes(`Cannot open channel to ${sid} at election address`));
      expect(lines(2)).toHaveLength(1);
      expect(lines(2)[0]).toMatch(/zk-2\.invalid:3888 \((ENOTFOUND|EAI_AGAIN)\)/);
      expect(lines(2)[0]).toMatch(/"level":40/);
      expect(lines(3)).toHaveLength(1);
      expect(lines(3)[0]).toContain(`127.0.0.1:${e3} (ECONNREFUSED)`);
    } finally {
      await peers.stopAll();
      fs.rmSync(peers.root, { recursive: true, force: true });
    }
  }, 30_000);
});
