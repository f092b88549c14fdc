// A slow network between the peers, not a broken one: every peer-to-peer connection (Zab and
// election, both ways) goes through a SlowLink proxy (test/helpers/slowlink.ts) that delays each
// byte, and then holds everything for a while, always for less than syncLimit ticks. That is a
// cross-zone ensemble on a bad day, or a link losing packets that TCP retransmits: ZooKeeper's
// timeouts (syncLimit for a learner, the session timeout for a client) are there to ride it out.
// 3 voters and an observer; one client per peer, connected to that peer only, pings and writes
// throughout, longer than several session timeouts.
//
// What must hold, on every role: no request fails, no connection closes, no session expires, no
// role changes, and at the end every peer has every client's last write. And when the leader
// dies on such a network, the others elect a new one within initLimit (the proxies accept a
// connection before the peer behind them listens, as a service mesh's sidecar does: a learner
// whose connection closes before the leader said anything connects again).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniClient } from './helpers/miniclient';
import { freePorts, Peers, requireDist } from './helpers/peers';
import { PeerWriter } from './helpers/peerwriter';
import { jaas, SASL_LINES } from './helpers/quorumsasl';
import { SlowLink } from './helpers/slowlink';

const TICK = 500;
const SYNC_LIMIT = 4; // 2 s
const TIMEOUT = 4000; // the clients' session timeout
const ALL = [1, 2, 3, 4]; // peer 4 is an observer
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// with quorum SASL (DIGEST-MD5) on every peer link, a learner's first exchange with the leader is
// the SASL handshake, not FOLLOWERINFO, and a connection closed before it is a failed connect too
describe.each([
  { links: 'plain', sasl: false },
  { links: 'quorum SASL', sasl: true },
])('a slow network between the peers (delays and stalls shorter than syncLimit), $links links', ({ sasl }) => {
  let peers: Peers;
  let ports: number[];
  /** links.get(`${i}>${j}`): peer i's connections to peer j (its quorum and election port) */
  const links = new Map<string, SlowLink[]>();

  beforeAll(async () => {
    requireDist();
    // the peers' ports and the proxies' (12 links × quorum and election), all distinct
    const all = await freePorts(3 * ALL.length + 2 * ALL.length * (ALL.length - 1));
    ports = all.slice(0, 3 * ALL.length);
    const spare = all.slice(3 * ALL.length);
    const real = (j: number): [number, number] => [ports[3 * j - 2], ports[3 * j - 1]];
    const via = new Map<string, [number, number]>();
    for (const i of ALL)
      for (const j of ALL) {
        if (i === j) continue;
        const pair = real(j).map((p) => new SlowLink(p));
        links.set(`${i}>${j}`, pair);
        via.set(`${i}>${j}`, [await pair[0].listen(spare.pop()), await pair[1].listen(spare.pop())]);
      }
    // each peer's zoo.cfg names its own ports, and the proxies for everyone else's
    const server = (i: number, j: number): string => {
      const [q, e] = i === j ? real(j) : via.get(`${i}>${j}`)!;
      return `server.${j}=127.0.0.1:${q}:${e}${j === 4 ? ':observer' : ''}`;
    };
    peers = new Peers(
      {
        clientPort,
        tickTime: TICK,
        syncLimit: SYNC_LIMIT,
        initLimit: 10,
        common: ['minSessionTimeout=1000', ...(sasl ? SASL_LINES : [])],
        extra: (i) => [...ALL.map((j) => server(i, j)), ...(i === 4 ? ['peerType=observer'] : [])],
      },
      'zk-slownet-',
    );
    for (const i of ALL) start(i);
  }, 60_000);

  const start = (i: number): void => {
    if (!sasl) return peers.start(i);
    const file = path.join(peers.root, 'jaas.conf');
    fs.writeFileSync(file, jaas('peersecret'));
    peers.start(i, { SERVER_JVMFLAGS: `-Djava.security.auth.login.config=${file}` });
  };

  afterAll(async () => {
    await peers?.stopAll();
    for (const pair of links.values()) for (const l of pair) await l.close();
    if (peers) fs.rmSync(peers.root, { recursive: true, force: true });
  }, 60_000);

  const clientPort = (i: number): number => ports[3 * (i - 1)];
  const modes = async (): Promise<string[]> => Promise.all(ALL.map((i) => peers.mode(i)));
  const every = (f: (l: SlowLink) => void): void => {
    for (const pair of links.values()) for (const l of pair) f(l);
  };

  // (on SASL links only the election: the handshake is the only thing SASL changes on a link)
  it.skipIf(sasl)('delays of 150 ms each way, then stalls of 1.2 s on the leader\'s links: no request fails, no connection closes, no session expires, no role changes', async () => {
    await peers.waitFor(async () => (await modes()).sort().join() === 'follower,follower,leader,observer', 30_000, 'a leader, two followers and an observer');
    const before = await modes();
    const leader = before.indexOf('leader') + 1;
    const writers: PeerWriter[] = [];
    for (const i of ALL) {
      const c = await MiniClient.connect(clientPort(i), TIMEOUT);
      const znode = `/slow-${i}`;
      expect(await c.create(znode, Buffer.from('0'))).toBe(0);
      writers.push(new PeerWriter(c, znode));
    }
    for (const w of writers) w.start();
    await sleep(1000);

    // 1. every peer link 150 ms each way (a write through a follower: 4 one-way hops, 600 ms),
    //    for 3 session timeouts
    every((l) => (l.delayMs = 150));
    await sleep(3 * TIMEOUT);
    const afterDelay = writers.map((w) => w.ok);

    // 2. on top of it, every link to and from the leader held for 1.2 s (with the delay, 1.35 s
    //    of silence: less than syncLimit's 2 s), five times, 1.5 s apart
    const leaderLinks = [...links].filter(([k]) => k.startsWith(`${leader}>`) || k.endsWith(`>${leader}`)).flatMap(([, pair]) => pair);
    for (let k = 0; k < 5; k++) {
      for (const l of leaderLinks) l.stall();
      await sleep(1200);
      for (const l of leaderLinks) l.release();
      await sleep(1500);
    }
    every((l) => (l.delayMs = 0));
    await sleep(1500);
    for (const w of writers) await w.stop();

    for (const w of writers) expect(w.errors, `${w.znode}: requests that failed`).toEqual([]);
    for (const w of writers) expect(w.c.closed, `${w.znode}: its connection closed`).toBe(false);
    // writes went on through both phases on every peer
    for (const [k, w] of writers.entries()) expect(w.ok - afterDelay[k], `${w.znode}: writes during the stalls`).toBeGreaterThan(5);
    for (const n of afterDelay) expect(n).toBeGreaterThan(10);
    expect(await modes()).toEqual(before);
    const expired = await Promise.all(ALL.map(async (i) => Number(/zk_stale_sessions_expired\s+(\d+)/.exec(await peers.ask(i, 'mntr'))?.[1] ?? 0)));
    expect(expired, 'sessions expired (mntr), per peer').toEqual([0, 0, 0, 0]);

    // every peer holds every client's last write
    const last = writers.map((w) => String(w.ok - 1));
    for (const i of ALL) {
      const r = await MiniClient.connect(clientPort(i), TIMEOUT);
      for (let k = 0; k < ALL.length; k++) expect((await r.getData(writers[k].znode)).data?.toString(), `${writers[k].znode} on peer ${i}`).toBe(last[k]);
      r.close();
    }
    for (const w of writers) w.c.close();
  }, 120_000);

  it('the leader killed while every link is 150 ms each way: the others elect a new one within initLimit, writes go on, the old leader rejoins', async () => {
    await peers.waitFor(async () => (await modes()).sort().join() === 'follower,follower,leader,observer', 30_000, 'a leader, two followers and an observer');
    const before = await modes();
    const old = before.indexOf('leader') + 1;
    every((l) => (l.delayMs = 150));
    await peers.stop(old);
    const t0 = Date.now();
    const others = ALL.filter((i) => i !== old);
    await peers.waitFor(async () => (await Promise.all(others.map((i) => peers.mode(i)))).sort().join() === 'follower,leader,observer', 30_000, 'a new leader');
    const electedMs = Date.now() - t0;
    // a write through each survivor; once the old leader is back, every peer reads them all
    for (const i of others) {
      const c = await MiniClient.connect(clientPort(i), TIMEOUT);
      expect(await c.create(`/after-${i}`, Buffer.from(String(i)))).toBe(0);
      c.close();
    }
    start(old);
    await peers.waitFor(async () => (await modes()).sort().join() === 'follower,follower,leader,observer', 30_000, 'the old leader back as a follower');
    for (const i of ALL) {
      const r = await MiniClient.connect(clientPort(i), TIMEOUT);
      for (const k of others) expect((await r.getData(`/after-${k}`)).data?.toString(), `/after-${k} on peer ${i}`).toBe(String(k));
      r.close();
    }
    every((l) => (l.delayMs = 0));
    // a few rounds of notifications (each 150 ms late) and the Zab sync: ~1.5 s here. Before
    // 2026-12-07 it never finished: the follower decided a round trip before its leader did,
    // connected through the proxy before the leader listened, the proxy closed that connection,
    // the follower went back to the election, and the leader gave up after initLimit, again and
    // again (Apache ZooKeeper 3.8.0 here: 11.9 s and 16.8 s, one initLimit cycle or two).
    expect(electedMs, 'ms from the kill to a new leader serving').toBeLessThan(TICK * 10);
  }, 120_000);
});
