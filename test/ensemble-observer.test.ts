// Three participants and one observer as four real processes: the observer serves reads and
// forwards writes, gets every commit (INFORM), shows `Mode: observer`, and does not count for a
// quorum. Sessions that move between servers are revalidated with the leader (Zab REVALIDATE):
// a live session keeps its id and ephemerals, a closed one or a wrong password is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniClient } from './helpers/miniclient';
import { ensembleSpec, Peers, requireDist } from './helpers/peers';

const EPHEMERAL = 1;
const CLOSE_SESSION = -11;
// ports from the OS: client, quorum, election per server; server 4 is the observer
let spec: Awaited<ReturnType<typeof ensembleSpec>>;
let peers: Peers;
const port = (i: number): number => spec.clientPort(i);
beforeAll(async () => {
  requireDist();
  spec = await ensembleSpec(4, { observers: 1 });
  peers = new Peers(spec, 'zk-observer-');
});
const start = (i: number): void => peers.start(i);
const stop = (i: number): Promise<void> => peers.stop(i);
const ask = (i: number, w: string): Promise<string> => peers.ask(i, w);
const mode = (i: number): Promise<string> => peers.mode(i);
const waitFor = (f: () => Promise<boolean>, ms: number, what: string): Promise<void> => peers.waitFor(f, ms, what);

async function read(i: number, p: string): Promise<string | null> {
  const c = await MiniClient.connect(port(i)).catch(() => null);
  if (!c) return null;
  try {
    const r = await c.getData(p);
    return r.err === 0 ? (r.data?.toString() ?? '') : null;
  } finally {
    c.close();
  }
}

afterAll(async () => {
  await peers?.stopAll();
});

describe('observers and session revalidation', () => {
  it('an observer does not make a quorum, then serves reads, forwards writes and gets every commit', async () => {
    start(1);
    start(4);
    // both processes answer, and through several election rounds neither serves: one participant
    // and an observer are no quorum of three voters
    await waitFor(async () => (await ask(1, 'srvr')) !== '' && (await ask(4, 'srvr')) !== '', 20000, 'servers 1 and 4 answering');
    await new Promise((r) => setTimeout(r, 4 * 500));
    expect(await mode(1)).toBe('none');
    expect(await mode(4)).toBe('none');

    start(2);
    start(3);
    await waitFor(async () => {
      const m = await Promise.all([1, 2, 3].map(mode));
      return m.filter((x) => x === 'leader').length === 1 && m.filter((x) => x === 'follower').length === 2 && (await mode(4)) === 'observer';
    }, 20000, 'one leader, two followers, an observer');
    const leader = (await Promise.all([1, 2, 3].map(mode))).indexOf('leader') + 1;
    const mntr = await ask(leader, 'mntr');
    expect(mntr).toMatch(/zk_synced_followers\s+2/);
    expect(mntr).toMatch(/zk_synced_observers\s+1/);

    // a write through the observer is forwarded, committed, and read everywhere
    const o = await MiniClient.connect(port(4));
    expect(await o.create('/from-observer', Buffer.from('o'))).toBe(0);
    expect((await o.getData('/from-observer')).data?.toString()).toBe('o');
    o.close();
    for (const i of [1, 2, 3]) expect(await read(i, '/from-observer')).toBe('o');
    // a write through a participant reaches the observer (INFORM)
    const p = await MiniClient.connect(port(leader));
    for (let k = 0; k < 20; k++) expect(await p.create(`/inform-${k}`, Buffer.from(String(k)))).toBe(0);
    p.close();
    await waitFor(async () => (await read(4, '/inform-19')) === '19', 5000, 'the observer sees the last write');

    // the observer's vote never counts: with two participants down there is no quorum
    const followers = [1, 2, 3].filter((i) => i !== leader);
    await stop(followers[0]);
    await stop(followers[1]);
    await waitFor(async () => (await mode(4)) === 'none' && (await mode(leader)) === 'none', 20000, 'no service without two voters');
    start(followers[0]);
    await waitFor(async () => (await mode(4)) === 'observer', 25000, 'the observer serves again once a quorum is back');
    expect(await read(4, '/from-observer')).toBe('o');
    start(followers[1]);
    await waitFor(async () => (await mode(followers[1])) === 'follower', 20000, 'the last follower rejoins');
  }, 150000);

  it('a write the leader acknowledged is seen at once by other clients on both followers and the observer', async () => {
    // Apache ZooKeeper's leader queues COMMIT (and INFORM) to its learners before it answers the
    // client, so a second client that reads on a learner right after the reply, without sync, finds
    // the write in practice (the interop suites' cross-client cases rely on it). 500 rounds.
    const modes = await Promise.all([1, 2, 3].map(mode));
    const leader = modes.indexOf('leader') + 1;
    const w = await MiniClient.connect(port(leader));
    // every learner synced first (when this test runs alone, the observer may still be joining)
    expect(await w.create('/seen-start', Buffer.from('x'))).toBe(0);
    for (const i of [1, 2, 3, 4]) await waitFor(async () => (await read(i, '/seen-start')) === 'x', 20000, `server ${i} in sync`);
    const readers = new Map<number, MiniClient>();
    for (const i of [1, 2, 3, 4]) if (i !== leader) readers.set(i, await MiniClient.connect(port(i)));
    const missed: string[] = [];
    for (let k = 0; k < 500; k++) {
      expect(await w.create(`/seen-${k}`, Buffer.from('x'), k % 2 === 0 ? EPHEMERAL : 0)).toBe(0);
      const got = await Promise.all([...readers].map(async ([i, r]) => [i, (await r.getData(`/seen-${k}`)).err] as const));
      for (const [i, err] of got) if (err !== 0) missed.push(`/seen-${k} on server ${i}: error ${err}`);
    }
    w.close();
    for (const r of readers.values()) r.close();
    // Nothing orders the learner's quorum socket before a client's socket: when both are readable
    // in one turn of a loaded machine's event loop, the read can come first (Apache ZooKeeper
    // promises no more without sync). Before the leader flushed its learners first, 340 of these
    // 1,500 reads missed; CI, with two cores shared by parallel test files, once saw one miss.
    expect(missed.length, missed.join('; ')).toBeLessThanOrEqual(3);
  }, 60000);

  it('a session moves between servers with its id and ephemerals; a closed session or a wrong password is refused', async () => {
    const modes = await Promise.all([1, 2, 3].map(mode));
    const follower = modes.indexOf('follower') + 1;
    const other = [1, 2, 3, 4].find((i) => i !== follower && (i === 4 || modes[i - 1] !== 'none'))!;
    const a = await MiniClient.connect(port(follower), 10000);
    expect(await a.create('/moving', Buffer.from('x'), EPHEMERAL)).toBe(0);
    const id = a.sessionId;
    const pw = a.passwd;
    a.close(); // the socket drops; the session lives on

    for (const i of [other, 4, follower]) {
      const b = await MiniClient.connect(port(i), 10000, id, pw);
      expect(b.sessionId, `reconnect on server ${i}`).toBe(id);
      expect(b.timeout).toBeGreaterThan(0);
      expect((await b.getData('/moving')).stat?.ephemeralOwner).toBe(id);
      b.close();
    }

    const bad = Buffer.from(pw);
    bad[0] ^= 0xff;
    const w = await MiniClient.connect(port(other), 10000, id, bad);
    expect(w.timeout).toBe(0);
    expect(w.sessionId).toBe(0n);
    await w.closedPromise;

    const c = await MiniClient.connect(port(4), 10000, id, pw);
    expect((await c.call(CLOSE_SESSION, () => {})).err).toBe(0);
    c.close();
    await waitFor(async () => (await read(follower, '/moving')) === null, 5000, 'the ephemeral goes with the closed session');
    for (const i of [follower, 4]) {
      const d = await MiniClient.connect(port(i), 10000, id, pw);
      expect(d.timeout, `closed session refused on server ${i}`).toBe(0);
      await d.closedPromise;
    }
  }, 60000);
});
