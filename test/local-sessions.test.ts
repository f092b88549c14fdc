// Local sessions (localSessionsEnabled, localSessionsUpgradingEnabled) in an ensemble: a new session
// lives on the server the client connected to — no createSession txn, counted in that server's
// zk_local_sessions, closed and expired there without a txn, unknown to the other servers — until
// it creates an ephemeral: then it is upgraded to a global session (a createSession txn first) and
// can move; without upgrading that create fails with EPHEMERALONLOCALSESSION (-120).
import { afterAll, describe, expect, it } from 'vitest';
import { InProcEnsemble } from './helpers/inproc';
import { MiniClient } from './helpers/miniclient';
import { fourLetter } from './helpers/peers';

const TICK = 100;
const EPHEMERAL = 1;
const CLOSE_SESSION = -11;

async function mntr(port: number, key: string): Promise<number> {
  const m = new RegExp(`zk_${key}\\t(\\d+)`).exec(await fourLetter(port, 'mntr'));
  if (!m) throw new Error(`no zk_${key}`);
  return Number(m[1]);
}
const zxidOf = async (port: number): Promise<string> => /Zxid: (0x[0-9a-f]+)/.exec(await fourLetter(port, 'srvr'))![1];

describe('local sessions with upgrading (localSessionsEnabled, localSessionsUpgradingEnabled)', () => {
  let e: InProcEnsemble;
  afterAll(async () => {
    await e?.stopAll();
  });

  it('a session stays local until its first ephemeral, then is global and can move', async () => {
    e = await InProcEnsemble.create({ voters: 3, tickTime: TICK, extra: ['localSessionsEnabled=true', 'localSessionsUpgradingEnabled=true'] });
    await e.startAll();
    await e.waitFor(() => e.serving(), 20_000, 'every peer serving');
    const L = e.leader();
    const [f, g] = [1, 2, 3].filter((i) => i !== L);
    const before = await zxidOf(e.port(L));
    const globalBefore = await mntr(e.port(L), 'global_sessions');

    const c = await MiniClient.connect(e.port(f), 40 * TICK);
    expect(c.timeout).toBeGreaterThan(0);
    expect(await mntr(e.port(f), 'local_sessions')).toBe(1);
    expect(await zxidOf(e.port(L)), 'no createSession txn for a local session').toBe(before);
    expect(await mntr(e.port(L), 'global_sessions')).toBe(globalBefore);
    expect(await c.create('/p', Buffer.from('persistent'))).toBe(0);

    // back to the same server: fine; to another one: the session is unknown there
    c.close();
    const again = await MiniClient.connect(e.port(f), 40 * TICK, c.sessionId, c.passwd);
    expect(again.sessionId).toBe(c.sessionId);
    expect(again.timeout).toBeGreaterThan(0);
    const elsewhere = await MiniClient.connect(e.port(g), 40 * TICK, c.sessionId, c.passwd);
    expect(elsewhere.timeout, 'a local session is unknown to another server').toBe(0);
    await elsewhere.closedPromise;

    // an ephemeral upgrades it: a createSession txn, then the create; it is global from now on
    expect(await again.create('/eph', Buffer.from('e'), EPHEMERAL)).toBe(0);
    expect(await mntr(e.port(f), 'local_sessions')).toBe(0);
    expect(await mntr(e.port(L), 'global_sessions')).toBe(globalBefore + 1);
    const onG = await MiniClient.connect(e.port(g), 40 * TICK);
    expect((await onG.getData('/eph')).stat?.ephemeralOwner).toBe(c.sessionId);
    onG.close();
    again.close();
    const moved = await MiniClient.connect(e.port(g), 40 * TICK, c.sessionId, c.passwd);
    expect(moved.timeout, 'the upgraded session moves to another server').toBeGreaterThan(0);
    expect((await moved.call(CLOSE_SESSION, () => {})).err).toBe(0);
    moved.close();
    await e.waitFor(async () => (await MiniClient.connect(e.port(L)).then(async (x) => { const r = await x.getData('/eph'); x.close(); return r.err; })) === -101, 5000, 'the ephemeral gone with its session');
  }, 60_000);

  it('a local session closes without a txn, and a silent one expires on its server', async () => {
    const L = e.leader();
    const f = [1, 2, 3].find((i) => i !== L)!;
    const before = await zxidOf(e.port(L));
    const a = await MiniClient.connect(e.port(f), 20 * TICK);
    expect((await a.call(CLOSE_SESSION, () => {})).err).toBe(0);
    await a.closedPromise;
    expect(await zxidOf(e.port(L)), 'closing a local session writes nothing').toBe(before);
    const silent = await MiniClient.connect(e.port(f), 20 * TICK);
    expect(await mntr(e.port(f), 'local_sessions')).toBe(1);
    const t0 = Date.now();
    await silent.closedPromise; // no pings: expired after its timeout
    expect(Date.now() - t0).toBeGreaterThanOrEqual(20 * TICK - TICK);
    expect(await mntr(e.port(f), 'local_sessions')).toBe(0);
    expect(await zxidOf(e.port(L))).toBe(before);
  }, 30_000);
});

describe('local sessions that ping live on, on every role', () => {
  it('local sessions on the leader, both followers and the observer, and an upgraded one, live for 3x their timeout while pinging', async () => {
    const e = await InProcEnsemble.create({ voters: 3, observers: 1, tickTime: TICK, extra: ['localSessionsEnabled=true', 'localSessionsUpgradingEnabled=true'] });
    const stops: (() => void)[] = [];
    const clients: MiniClient[] = [];
    try {
      await e.startAll();
      await e.waitFor(() => e.serving(), 20_000, 'every peer serving');
      const TIMEOUT = 20 * TICK;
      for (let i = 1; i <= 4; i++) {
        const c = await MiniClient.connect(e.port(i), TIMEOUT);
        clients.push(c);
        stops.push(c.startPinging());
        expect(await mntr(e.port(i), 'local_sessions'), `a local session on ${e.mode(i)} ${i}`).toBe(1);
      }
      // one of them becomes global: from now on its touches must reach the leader
      const L = e.leader();
      const f = [1, 2, 3].find((i) => i !== L)!;
      expect(await clients[f - 1].create('/held', Buffer.from('e'), EPHEMERAL)).toBe(0);
      await new Promise((r) => setTimeout(r, 3 * TIMEOUT));
      for (let i = 1; i <= 4; i++) expect(clients[i - 1].closed, `the pinging session on ${e.mode(i)} ${i} was closed`).toBe(false);
      const check = await MiniClient.connect(e.port(L), TIMEOUT);
      expect((await check.getData('/held')).stat?.ephemeralOwner, 'the upgraded session\'s ephemeral').toBe(clients[f - 1].sessionId);
      check.close();
    } finally {
      for (const s of stops) s();
      for (const c of clients) c.close();
      await e.stopAll();
    }
  }, 60_000);
});

describe('local sessions without upgrading', () => {
  it('an ephemeral create on a local session fails with EPHEMERALONLOCALSESSION (-120)', async () => {
    const e = await InProcEnsemble.create({ voters: 3, tickTime: TICK, extra: ['localSessionsEnabled=true'] });
    try {
      await e.startAll();
      await e.waitFor(() => e.serving(), 20_000, 'every peer serving');
      for (const i of [1, 2, 3]) {
        const c = await MiniClient.connect(e.port(i), 40 * TICK);
        expect(await c.create(`/e${i}`, Buffer.from('e'), EPHEMERAL), `on server ${i} (${e.mode(i)})`).toBe(-120);
        expect(await c.create(`/p${i}`, Buffer.from('p'))).toBe(0);
        c.close();
      }
    } finally {
      await e.stopAll();
    }
  }, 60_000);
});
