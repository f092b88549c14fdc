// Sessions held on every role of a real ensemble of 3 voters and 1 observer (4 processes), with the
// real clients, for longer than their timeout: the Java client and kazoo each keep one session with
// one ephemeral on the leader, on both followers and on the observer for at least 3x the session
// timeout while they ping, at tickTime=2000 (the default) and at a short tickTime. Every session
// must survive with its ephemeral, with no disconnection at all. And the converse: a client that
// stops sending is expired no earlier than its timeout and no later than its timeout plus the
// expiry tick plus the leader's ping interval, half a tick (a learner reports a touch in the next
// PING reply), on a follower and on the observer as on the leader.
//
// This is the test that was missing when sessions held by followers expired while their clients
// pinged (issue 11): it fails on that code (every follower-held session is LOST).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { children, hold, holdOnEveryPeer, prepareClients } from './helpers/keepalive';
import { MiniClient } from './helpers/miniclient';
import { ensembleSpec, Peers } from './helpers/peers';

const SKIP = process.env.ZK_SKIP_REAL_CLIENTS === '1';
const DIST = path.join(__dirname, '..', 'dist', 'cli.js');

beforeAll(async () => {
  if (SKIP) return;
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: build first (npm test runs tsc before vitest)`);
  await prepareClients();
}, 120_000);

afterAll(() => {
  for (const p of children) p.kill('SIGKILL');
});

const OBSERVER = 4;

/** Three voters and, as server OBSERVER, an observer. */
async function votersAndObserver(tickTime: number): Promise<Awaited<ReturnType<typeof ensembleSpec>>> {
  return ensembleSpec(OBSERVER, { tickTime, initLimit: 10, syncLimit: 5, observers: 1 });
}

/** The leader's and the followers' ids, once all three voters and the observer serve. */
async function roles(peers: Peers): Promise<{ leader: number; followers: number[] }> {
  await peers.waitFor(
    async () => (await Promise.all([1, 2, 3].map((i) => peers.mode(i)))).every((m) => m === 'leader' || m === 'follower') && (await peers.mode(OBSERVER)) === 'observer',
    60_000,
    'all three voters and the observer serving',
  );
  const modes = await Promise.all([1, 2, 3].map((i) => peers.mode(i)));
  const leader = modes.indexOf('leader') + 1;
  expect(leader, `modes ${modes}`).toBeGreaterThan(0);
  return { leader, followers: [1, 2, 3].filter((i) => i !== leader) };
}

/** Milliseconds from `since` until `path` is gone, polled through `watcher` every 50 ms (or -1 after `limitMs`). */
async function timeUntilGone(watcher: MiniClient, p: string, since: number, limitMs: number): Promise<number> {
  while (Date.now() - since < limitMs) {
    const r = await watcher.getData(p);
    if (r.err === -101) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 50));
  }
  return -1;
}

const CASES = [
  { tickTime: 2000, timeoutMs: 6000, holdMs: 18_000 },
  { tickTime: 200, timeoutMs: 2000, holdMs: 6000 },
];

describe.skipIf(SKIP).each(CASES)('sessions on every role, tickTime=$tickTime, session timeout $timeoutMs ms', ({ tickTime, timeoutMs, holdMs }) => {
  let peers: Peers;
  let ports: number[] = [];
  beforeAll(async () => {
    const spec = await votersAndObserver(tickTime);
    ports = [1, 2, 3, 4].map((i) => spec.clientPort(i));
    peers = new Peers(spec, 'zk-keepalive-');
    for (const i of [1, 2, 3, OBSERVER]) peers.start(i);
  }, 60_000);
  afterAll(async () => {
    await peers?.stopAll();
  });

  it(`the Java client and kazoo keep their sessions and ephemerals for ${holdMs / 1000} s on the leader, on both followers and on the observer`, async () => {
    const { leader, followers } = await roles(peers);
    const runs: Promise<string | null>[] = [];
    const names: string[] = [];
    for (const i of [leader, ...followers, OBSERVER]) {
      const role = i === leader ? 'leader' : i === OBSERVER ? 'observer' : `follower ${i}`;
      const cs = `127.0.0.1:${ports[i - 1]}`;
      for (const who of ['java', 'kazoo'] as const) {
        names.push(`${who} on the ${role}`);
        runs.push(hold(who, cs, timeoutMs, holdMs, `/keepalive-${who}-${tickTime}-${i}`));
      }
    }
    const results = await Promise.all(runs);
    const problems = results.flatMap((r, k) => (r === null ? [] : [`${names[k]}: ${r}`]));
    expect(problems, problems.join('\n')).toEqual([]);
  }, 180_000);

  it('a client that stops sending is expired after its timeout, and within timeout + 1.5 ticks, on the leader, a follower and the observer', async () => {
    const { leader, followers } = await roles(peers);
    const watcher = await MiniClient.connect(ports[leader - 1], 30_000);
    try {
      const timeout = Math.max(2 * tickTime, 2000);
      const results: string[] = [];
      const checks = [leader, followers[0], OBSERVER].map(async (i) => {
        const role = i === leader ? 'leader' : i === OBSERVER ? 'observer' : 'follower';
        const c = await MiniClient.connect(ports[i - 1], timeout);
        expect(c.timeout).toBe(timeout);
        const p = `/silent-${tickTime}-${i}`;
        expect(await c.create(p, Buffer.from('x'), 1 /* EPHEMERAL */)).toBe(0);
        // the create's reply is the last packet: from here on the client sends nothing
        const since = Date.now();
        // ZooKeeper's bound: the deadline is rounded up to the next tick; on a follower the
        // or observer the touch reaches the leader with the next PING (every half tick); then a
        // commit round
        const bound = timeout + tickTime + (role === 'leader' ? 0 : tickTime / 2) + 1000;
        const gone = await timeUntilGone(watcher, p, since, bound + 5000);
        results.push(`${role}: gone after ${gone} ms (timeout ${timeout}, bound ${bound})`);
        expect(gone, `${role}: the silent session's ephemeral was never deleted`).toBeGreaterThan(0);
        expect(gone, `${role}: expired before its timeout`).toBeGreaterThanOrEqual(timeout - 50);
        expect(gone, `${role}: expired later than timeout + tick (+ ping interval on a learner)`).toBeLessThanOrEqual(bound);
        c.close();
      });
      await Promise.all(checks);
      console.log(`silent sessions, tickTime=${tickTime}: ${results.join('; ')}`);
    } finally {
      watcher.close();
    }
  }, 120_000);
});

// The wall clock of every server process stepped while the real clients hold their sessions: the
// servers run under libfaketime (LD_PRELOAD, the Debian package libfaketime) with their monotonic
// clock left alone (DONT_FAKE_MONOTONIC), their wall-clock offset read from a file this test
// rewrites: 10 minutes ahead, then 10 minutes behind the true time, as an NTP step would move it
// (chrony's makestep, `date -s`). The clients keep the true time. Every session must live on with
// no disconnection and no role may change. Until 2026-12-07 the quorum roles ran their timeouts on
// the wall clock: the step made followers give up their leader and cut their clients off.
function libfaketime(): string | null {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']) {
    const f = path.join(dir, 'faketime', 'libfaketimeMT.so.1');
    if (fs.existsSync(f)) return f;
  }
  return null;
}

describe.skipIf(SKIP)('a wall-clock step on every server (libfaketime), 3 voters and an observer', () => {
  const tickTime = 2000;
  const timeoutMs = 6000;
  const holdMs = 18_000;
  let peers: Peers;
  let ports: number[] = [];
  let offsetFile = '';
  beforeAll(async () => {
    const lib = libfaketime();
    if (!lib) throw new Error('libfaketime is missing: run scripts/install-test-deps.sh (or set ZK_SKIP_REAL_CLIENTS=1)');
    const spec = await votersAndObserver(tickTime);
    ports = [1, 2, 3, 4].map((i) => spec.clientPort(i));
    peers = new Peers(spec, 'zk-clockstep-');
    offsetFile = path.join(peers.root, 'faketime-offset');
    fs.writeFileSync(offsetFile, '+0\n');
    const env = { LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: offsetFile, FAKETIME_CACHE_DURATION: '1', DONT_FAKE_MONOTONIC: '1' };
    for (const i of [1, 2, 3, OBSERVER]) peers.start(i, env);
  }, 60_000);
  afterAll(async () => {
    await peers?.stopAll();
  });

  it(`sessions of the Java client and kazoo on every role live through a step 10 minutes ahead and one 20 minutes back, and no role changes`, async () => {
    const { leader, followers } = await roles(peers);
    const modes = async (): Promise<string> => (await Promise.all([1, 2, 3, OBSERVER].map(async (i) => `${i}:${await peers.mode(i)}`))).join(' ');
    const before = await modes();
    const held = holdOnEveryPeer([leader, ...followers, OBSERVER], (i) => ports[i - 1], timeoutMs, holdMs, 'clockstep');
    const seen = new Set<string>([before]);
    const sample = async (ms: number): Promise<void> => {
      for (const end = Date.now() + ms; Date.now() < end; ) {
        seen.add(await modes());
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    // the step must really reach the servers: a znode's ctime is their wall clock (as in ZooKeeper)
    const probe = await MiniClient.connect(ports[leader - 1], timeoutMs);
    const ctimeSkew = async (name: string): Promise<number> => {
      expect(await probe.create(`/clockstep-probe-${name}`, Buffer.from('x'))).toBe(0);
      const r = await probe.getData(`/clockstep-probe-${name}`);
      return Number(r.stat!.ctime) - Date.now();
    };
    const skews: number[] = [];
    try {
      await sample(4000); // the clients connect and create their ephemerals
      fs.writeFileSync(offsetFile, '+600\n');
      await sample(2000); // libfaketime reads the file at most once a second
      skews.push(await ctimeSkew('ahead'));
      await sample(4000);
      fs.writeFileSync(offsetFile, '-600\n');
      await sample(2000);
      skews.push(await ctimeSkew('behind'));
      await sample(4000);
    } finally {
      fs.writeFileSync(offsetFile, '+0\n');
      probe.close();
    }
    expect(Math.abs(skews[0] - 600_000), `ctime - now while 10 minutes ahead: ${skews[0]} ms`).toBeLessThan(30_000);
    expect(Math.abs(skews[1] + 600_000), `ctime - now while 10 minutes behind: ${skews[1]} ms`).toBeLessThan(30_000);
    const problems = await held;
    expect(problems, problems.join('\n')).toEqual([]);
    expect([...seen], 'the roles while the servers\' wall clock stepped').toEqual([before]);
  }, 120_000);
});
