// The production peer (election, Zab roles on the shared executor, request pipeline) as three
// voters and an observer in this process, on OS-assigned ports (test/helpers/inproc.ts), with a
// short tickTime: sessions on every role outlive several timeouts while their clients ping, survive
// a leader change, and a silent one is expired by the new leader only after a full timeout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InProcEnsemble, peerLog } from './helpers/inproc';
import { MiniClient } from './helpers/miniclient';
import { fourLetter } from './helpers/peers';
import { serverMetrics } from '../src/util/metrics';
import { NODES_PER_CHUNK, snapSendTuning } from '../src/quorum/snapsend';
import { readSnapshotWithInfo } from '../src/persistence/snapshot';
import { Err, OpCode } from '../src/data/constants';
import { JuteWriter } from '../src/jute/archive';

const TICK = 100;
const EPHEMERAL = 1;

/** A client that pings every third of its timeout, as the Java client does when idle. */
const pinger = (c: MiniClient): (() => void) => c.startPinging();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('an in-process ensemble (3 voters, 1 observer)', () => {
  let e: InProcEnsemble;
  const stops: (() => void)[] = [];
  const clients: MiniClient[] = [];
  beforeAll(async () => {
    e = await InProcEnsemble.create({ voters: 3, observers: 1, tickTime: TICK, admin: true });
    await e.startAll();
    await e.waitFor(() => e.serving(), 20_000, 'every peer serving');
  }, 30_000);
  afterAll(async () => {
    for (const s of stops) s();
    for (const c of clients) c.close();
    await e?.stopAll();
  });

  /** On each of the 4 peers, a pinging session holding the ephemeral `${prefix}-<peer>`. */
  async function holdOnEveryPeer(prefix: string, timeout: number): Promise<{ i: number; c: MiniClient; path: string }[]> {
    const held: { i: number; c: MiniClient; path: string }[] = [];
    for (let i = 1; i <= 4; i++) {
      const c = await MiniClient.connect(e.port(i), timeout);
      clients.push(c);
      expect(c.timeout).toBe(timeout);
      const path = `${prefix}-${i}`;
      expect(await c.create(path, Buffer.from('x'), EPHEMERAL)).toBe(0);
      stops.push(pinger(c));
      held.push({ i, c, path });
    }
    return held;
  }

  /** Every held connection still open and every ephemeral still owned by its session, read through the leader. */
  async function expectStillHeld(held: { i: number; c: MiniClient; path: string }[], timeout: number): Promise<void> {
    const check = await MiniClient.connect(e.port(e.leader()), timeout);
    clients.push(check);
    for (const h of held) {
      expect(h.c.closed, `the connection of the client on peer ${h.i} (${e.mode(h.i)}) was closed`).toBe(false);
      const r = await check.getData(h.path);
      expect(r.err, `ephemeral of the session on peer ${h.i} (${e.mode(h.i)})`).toBe(0);
      expect(r.stat!.ephemeralOwner).toBe(h.c.sessionId);
    }
  }

  it('the AdminServer `leader` and `zabstate` commands on every role (LeaderCommand, ZabStateCommand)', async () => {
    const L = e.leader();
    for (let i = 1; i <= 4; i++) {
      const leader = await e.admin(i, 'leader');
      expect(leader, `leader on peer ${i} (${e.mode(i)})`).toMatchObject({ is_leader: i === L, leader_id: L, leader_ip: '127.0.0.1', command: 'leader', error: null });
      const z = await e.admin(i, 'zabstate');
      expect(z, `zabstate on peer ${i} (${e.mode(i)})`).toMatchObject({ myid: i, is_leader: i === L, voting: i <= 3, zabstate: 'broadcast' });
    }
  });

  /** Start follower `f` and wait until it follows, with progress lines as often as they can come: its SNAP must be reported as it arrives. */
  async function rejoinReportingSnap(f: number): Promise<void> {
    process.env.ZK_PROGRESS_INTERVAL_MS = '1';
    const logged = peerLog.length;
    try {
      await e.start(f);
      await e.waitFor(() => e.mode(f) === 'follower', 20_000, `server ${f} following again`);
    } finally {
      delete process.env.ZK_PROGRESS_INTERVAL_MS;
    }
    const progress = peerLog.slice(logged).filter((l) => l.myid === f && /^receiving a SNAP at zxid 0x[0-9a-f]+ from leader \d: /.test(l.msg));
    expect(progress.length, 'the follower reported the SNAP as it came').toBeGreaterThan(0);
    expect(progress[0]).toMatchObject({ component: 'Follower' });
    expect(progress[0].msg).toMatch(/: [\d.]+ [KM]?B so far, [\d.]+ [KMG]?B\/s$/);
    // the leader's side stops once the stream is in the kernel: a follower that has it all is not
    // still being sent it (the pings after the stream were once counted as its progress)
    const sending = (): number => peerLog.filter((l) => new RegExp(`^sending a SNAP to learner ${f}: `).test(l.msg)).length;
    await new Promise((r) => setTimeout(r, 300));
    const before = sending();
    await new Promise((r) => setTimeout(r, 3 * TICK));
    expect(sending(), 'progress lines for a SNAP the follower already has').toBe(before);
  }

  it('a follower that missed more than the committed-log window rejoins by SNAP (the incremental stream reader) with every write', async () => {
    const L = e.leader();
    const f = [1, 2, 3].find((i) => i !== L)!;
    await e.stop(f);
    const c = await MiniClient.connect(e.port(L), 10 * TICK);
    const stop = pinger(c);
    const writes: Promise<number>[] = [];
    for (let k = 0; k < 700; k++) writes.push(c.create(`/snap-${k}`, Buffer.alloc(2000, k % 256)));
    expect((await Promise.all(writes)).filter((x) => x !== 0)).toEqual([]);
    const snaps = serverMetrics.snap_count.value;
    // the leader streams the tree in chunks of 10 znodes, one per turn of the event loop, while
    // clients keep writing: the commits meanwhile must not leak into the stream (snapsend.ts)
    snapSendTuning.nodesPerChunk = 10;
    let writing = true;
    let during = 0;
    const writer = async (w: number): Promise<void> => {
      for (let k = w; writing; k += 3) {
        expect(await c.setData(`/snap-${k % 700}`, Buffer.alloc(2000, (k + 1) % 256))).toBe(0);
        expect(await c.create(`/snap-during-${k}`, Buffer.from(`d${k}`))).toBe(0);
        during++;
      }
    };
    const writers = Promise.all([0, 1, 2].map(writer));
    try {
      await rejoinReportingSnap(f);
    } finally {
      writing = false;
      snapSendTuning.nodesPerChunk = NODES_PER_CHUNK;
      await writers;
    }
    expect(serverMetrics.snap_count.value, 'the leader sent a SNAP').toBeGreaterThan(snaps);
    expect(during, 'writes committed while the follower synced').toBeGreaterThan(5);
    const r = await MiniClient.connect(e.port(f), 10 * TICK);
    for (const k of [0, 349, 699]) {
      const g = await r.getData(`/snap-${k}`);
      expect(g.err, `/snap-${k} on the rejoined follower`).toBe(0);
    }
    expect((await r.getData('/snap-during-0')).data?.toString()).toBe('d0');
    // every write made during the SNAP is there once, as on the leader: equal trees, no mismatch counted
    const tree = (i: number) => e.servers.get(i)!.peer!.db.loaded!;
    await e.waitFor(() => tree(f).lastProcessedZxid === tree(L).lastProcessedZxid, 5000, 'the follower caught up');
    expect(tree(f).treeDigest, 'the rejoined follower\'s tree digest is the leader\'s').toBe(tree(L).treeDigest);
    expect(tree(f).digestMismatches, 'digest mismatches on the rejoined follower').toBe(0);
    stop();
    r.close();
    c.close();
  }, 60_000);

  it('a session created while the leader holds commits for a SNAP stream survives a reconnect to another server at once', async () => {
    const L = e.leader();
    const [f, g] = [1, 2, 3].filter((i) => i !== L);
    const observer = 4;
    await e.stop(f);
    const c = await MiniClient.connect(e.port(L), 10 * TICK);
    const stop = pinger(c);
    for (let k = 0; k < 600; k++) void c.create(`/hold-${k}`, Buffer.alloc(100, k % 256));
    expect(await c.create('/hold-last', Buffer.from('x'))).toBe(0);
    // the leader's SnapSender (private to its role): holding while it encodes f's stream
    const holding = (): boolean => (e.servers.get(L)!.peer as unknown as { role: { snaps?: { holding: boolean } } }).role.snaps?.holding === true;
    snapSendTuning.nodesPerChunk = 1;
    let tries = 0;
    let during = false;
    try {
      await e.start(f);
      await e.waitFor(holding, 20_000, 'the leader encoding a SNAP for the rejoining follower');
      // a client of follower g creates a session (its createSession commits while the leader holds),
      // drops the connection and comes back through the observer: REVALIDATE asks the leader
      for (;;) {
        tries++;
        const a = await MiniClient.connect(e.port(g), 10 * TICK);
        a.close();
        const b = await MiniClient.connect(e.port(observer), 10 * TICK, a.sessionId, a.passwd);
        during = holding();
        expect(b.sessionId, 'the session, not a refusal').toBe(a.sessionId);
        expect(b.timeout, 'a live session (an expired one is answered with timeout 0)').toBeGreaterThan(0);
        b.close();
        if (during || tries >= 5) break;
      }
    } finally {
      snapSendTuning.nodesPerChunk = NODES_PER_CHUNK;
    }
    expect(during, 'a reconnect answered while the leader still held its commits').toBe(true);
    await e.waitFor(() => e.mode(f) === 'follower', 20_000, `server ${f} following again`);
    stop();
    c.close();
  }, 60_000);

  it('a sync and a read on the leader while it holds commits for a SNAP stream see every write another server acknowledged', async () => {
    const L = e.leader();
    const [f, g] = [1, 2, 3].filter((i) => i !== L);
    const observer = 4;
    await e.stop(f);
    // writers through follower g and through the observer; the sync+read client on the leader
    const wg = await MiniClient.connect(e.port(g), 10 * TICK);
    const wo = await MiniClient.connect(e.port(observer), 10 * TICK);
    const r = await MiniClient.connect(e.port(L), 10 * TICK);
    const stops = [wg, wo, r].map(pinger);
    for (let k = 0; k < 600; k++) void wg.create(`/lin-fill-${k}`, Buffer.alloc(100, k % 256));
    expect(await wg.create('/lin', Buffer.from('0'))).toBe(0);
    const holding = (): boolean => (e.servers.get(L)!.peer as unknown as { role: { snaps?: { holding: boolean } } }).role.snaps?.holding === true;
    snapSendTuning.nodesPerChunk = 1;
    let checked = 0;
    const stale: string[] = [];
    try {
      await e.start(f);
      await e.waitFor(holding, 20_000, 'the leader encoding a SNAP for the rejoining follower');
      for (let k = 1; holding() && k < 2000; k++) {
        const w = k % 2 ? wg : wo;
        expect(await w.setData('/lin', Buffer.from(String(k)))).toBe(0);
        const during = holding();
        expect(await r.sync('/lin')).toBe(0);
        const got = (await r.getData('/lin')).data?.toString();
        if (got !== String(k)) stale.push(`wrote ${k} through ${w === wg ? `follower ${g}` : 'the observer'}, the leader read ${got} after a sync`);
        if (during) checked++;
      }
    } finally {
      snapSendTuning.nodesPerChunk = NODES_PER_CHUNK;
    }
    expect(checked, 'syncs answered while the leader held its commits').toBeGreaterThan(0);
    expect(stale).toEqual([]);
    await e.waitFor(() => e.mode(f) === 'follower', 20_000, `server ${f} following again`);
    for (const s of stops) s();
    for (const c of [wg, wo, r]) c.close();
  }, 60_000);

  it('a sync whose path does not parse gets MARSHALLINGERROR on every role, and the peer serves on', async () => {
    for (let i = 1; i <= 4; i++) {
      const c = await MiniClient.connect(e.port(i), 10 * TICK);
      // a path length of 4096 with no bytes after it
      const bad = await c.call(OpCode.sync, (w) => void w.writeInt(4096));
      expect(bad.err, `sync on peer ${i} (${e.mode(i)})`).toBe(Err.MARSHALLINGERROR);
      expect(await c.sync('/'), `a good sync after it on peer ${i}`).toBe(0);
      expect((await c.getData('/')).err).toBe(0);
      c.close();
    }
    expect(e.serving(), 'every peer still serving').toBe(true);
  });

  it('a client that sends a second write under the xid of one outstanding is cut off; the learner keeps its role', async () => {
    const L = e.leader();
    const logged = peerLog.length;
    for (const i of [[1, 2, 3].find((x) => x !== L)!, 4]) {
      const c = await MiniClient.connect(e.port(i), 10 * TICK);
      const create = (p: string) => (w: JuteWriter) => {
        w.writeString(p);
        w.writeBuffer(Buffer.from('x'));
        w.writeVector([{ perms: 31, scheme: 'world', id: 'anyone' }], (x, a) => {
          x.writeInt(a.perms);
          x.writeString(a.scheme);
          x.writeString(a.id);
        });
        w.writeInt(0);
      };
      const first = c.call(OpCode.create, create(`/xid-a-${i}`), 77).catch((x: Error) => x.message);
      const second = c.call(OpCode.multi, (w) => void w.writeInt(-1).writeBool(true).writeInt(-1), 77).catch((x: Error) => x.message);
      await Promise.all([first, second]);
      expect(c.closed, `the connection to peer ${i} (${e.mode(i)})`).toBe(true);
      await new Promise((r) => setTimeout(r, 3 * TICK));
      const d = await MiniClient.connect(e.port(i), 10 * TICK);
      expect(await d.create(`/xid-after-${i}`, Buffer.from('ok'))).toBe(0);
      d.close();
    }
    expect(e.serving(), 'every peer still serving').toBe(true);
    const left = peerLog.slice(logged).filter((l) => /learner lost its leader|sync with the leader failed/.test(l.msg));
    expect(left.map((l) => `${l.myid}: ${l.msg}`), 'a learner that left its role').toEqual([]);
  });

  it('a follower whose dataDir was wiped (myid kept) rejoins by SNAP with every committed write', async () => {
    const L = e.leader();
    const f = [1, 2, 3].find((i) => i !== L)!;
    const c = await MiniClient.connect(e.port(L), 10 * TICK);
    const stop = pinger(c);
    for (let k = 0; k < 50; k++) expect(await c.create(`/wiped-${k}`, Buffer.from(`w${k}`))).toBe(0);
    expect(await e.rejoinWiped(f), 'SNAPs the leader sent').toBeGreaterThan(0);
    const dir = path.join(e.root, `node${f}`);
    const r = await MiniClient.connect(e.port(f), 10 * TICK);
    for (const k of [0, 25, 49]) expect((await r.getData(`/wiped-${k}`)).data?.toString(), `/wiped-${k}`).toBe(`w${k}`);
    // and it made what it received durable: a snapshot in its new dataDir
    // (not only the empty snapshot.0 of its start: the SNAP's, whose seals — the Adler-32 a worker
    // took of the stream — and digest a load verifies)
    const files = fs.readdirSync(path.join(dir, 'version-2')).filter((x) => /^snapshot\.[0-9a-f]+$/.test(x));
    const newest = files.sort((a, b) => parseInt(b.slice(9), 16) - parseInt(a.slice(9), 16))[0];
    expect(parseInt(newest.slice(9), 16), `the SNAP's snapshot among ${files.join(', ')}`).toBeGreaterThan(0);
    const { tree: onDisk } = await readSnapshotWithInfo(path.join(dir, 'version-2', newest));
    for (const k of [0, 25, 49]) expect(onDisk.getNode(`/wiped-${k}`)?.raw, `/wiped-${k} in ${newest}`).toBe(`w${k}`);
    expect(onDisk.digestMismatches).toBe(0);
    stop();
    r.close();
    c.close();
  }, 60_000);

  it('tree digests: no peer has counted a mismatch (after DIFF and SNAP syncs); a replica whose tree diverged is caught by the next txn', async () => {
    const tree = (i: number) => e.servers.get(i)!.peer!.db.loaded!;
    for (let i = 1; i <= 4; i++) expect(tree(i).digestMismatches, `digest mismatches on peer ${i} (${e.mode(i)})`).toBe(0);
    const L = e.leader();
    const f = [1, 2, 3].find((i) => i !== L)!;
    const c = await MiniClient.connect(e.port(L), 10 * TICK);
    const stop = pinger(c);
    expect(await c.create('/diverge', Buffer.from('same'))).toBe(0);
    expect(await c.create('/next', Buffer.from('n'))).toBe(0);
    await e.waitFor(() => [1, 2, 3, 4].every((i) => tree(i).getNode('/next') !== undefined), 5000, '/next everywhere');
    // follower f applies something the leader never proposed: its tree (and digest) now differ
    const t = tree(f);
    const n = t.getNode('/diverge')!;
    t.setData('/diverge', Buffer.from('different'), n.version + 1, n.mzxid, n.mtime);
    expect(await c.setData('/next', Buffer.from('m'))).toBe(0);
    await e.waitFor(() => tree(f).getNode('/next')!.version === 1, 5000, 'the setData applied on the follower');
    await e.waitFor(() => [1, 2, 3, 4].every((i) => tree(i).getNode('/next')!.version === 1), 5000, 'the setData applied everywhere');
    expect(tree(f).digestMismatches, `the diverged follower ${f} counted the mismatch`).toBe(1);
    for (const i of [1, 2, 3, 4].filter((x) => x !== f)) expect(tree(i).digestMismatches, `peer ${i}`).toBe(0);
    stop();
    c.close();
  }, 30_000);

  it('sessions on the leader, both followers and the observer live for 4x their timeout while pinging', async () => {
    const timeout = 10 * TICK;
    const held = await holdOnEveryPeer('/held', timeout);
    expect(new Set(held.map((h) => e.mode(h.i)))).toEqual(new Set(['leader', 'follower', 'observer']));
    await sleep(4 * timeout);
    await expectStillHeld(held, timeout);
  }, 30_000);

  it('a wall-clock step, 10 minutes ahead and then 20 minutes back (an NTP step), expires no session and changes no role', async () => {
    // every peer of this ensemble shares the process, so a step of Date.now() is a step of the
    // whole pseudo-cluster's wall clock; timeouts must run on the monotonic clock (util/clock.ts)
    const timeout = 10 * TICK;
    const roles = (): string => [1, 2, 3, 4].map((i) => `${i}:${e.mode(i)}`).join(' ');
    const before = roles();
    const held = await holdOnEveryPeer('/clockstep', timeout);
    const wall = Date.now;
    let step = 0;
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => wall.call(Date) + step);
    const seen = new Set<string>();
    const watch = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += TICK / 2) {
        seen.add(roles());
        await sleep(TICK / 2);
      }
    };
    try {
      step = 10 * 60_000;
      await watch(3 * timeout);
      step = -10 * 60_000;
      await watch(3 * timeout);
    } finally {
      spy.mockRestore();
    }
    expect([...seen], 'the roles while the wall clock stepped').toEqual([before]);
    await expectStillHeld(held, timeout);
    // the leader's `dump` turns its session deadlines into dates: they must be within a timeout or
    // two of now (they read as the year 2083 while the leader's deadlines were wall-clock based)
    const dump = await fourLetter(e.port(e.leader()), 'dump');
    const dates = [...dump.matchAll(/expire at (.+):\n/g)].map((m) => Date.parse(m[1]));
    expect(dates.length, dump).toBeGreaterThan(0);
    for (const d of dates) expect(Math.abs(d - Date.now()), dump).toBeLessThan(60_000);
  }, 30_000);

  it('after the leader stops, sessions held on the other peers survive; a silent one expires a full timeout after the new leader takes over', async () => {
    const timeout = 10 * TICK;
    const old = e.leader();
    const others = [1, 2, 3, 4].filter((i) => i !== old);
    const live: { c: MiniClient; path: string }[] = [];
    for (const i of others) {
      const c = await MiniClient.connect(e.port(i), timeout);
      clients.push(c);
      const path = `/survive-${i}`;
      expect(await c.create(path, Buffer.from('x'), EPHEMERAL)).toBe(0);
      stops.push(pinger(c));
      live.push({ c, path });
    }
    const silent = await MiniClient.connect(e.port(others[0]), timeout);
    expect(await silent.create('/silent', Buffer.from('x'), EPHEMERAL)).toBe(0);
    await sleep(2 * TICK); // let the create's touch reach the leader
    await e.stop(old);
    const t0 = Date.now();
    // the old leader's followers lose it and elect a new one; their clients are cut off meanwhile
    await e.waitFor(() => e.leader() > 0 && e.serving(), 20_000, 'a new leader');
    const tookOver = Date.now();
    // the clients held on followers were disconnected by the role change: reconnect them with their
    // session (as a real client does) and go on pinging
    for (const l of live) {
      if (!l.c.closed) continue;
      const i = others.find((x) => e.mode(x) !== 'down')!;
      const c = await MiniClient.connect(e.port(i), timeout, l.c.sessionId, l.c.passwd);
      clients.push(c);
      expect(c.sessionId, 'the session was still valid at the new leader').toBe(l.c.sessionId);
      stops.push(pinger(c));
      l.c = c;
    }
    const check = await MiniClient.connect(e.port(e.leader()), timeout);
    clients.push(check);
    stops.push(pinger(check));
    // the silent session's ephemeral must stay until a full timeout after the new leader took over
    for (;;) {
      const r = await check.getData('/silent');
      const elapsed = Date.now() - tookOver;
      if (r.err !== 0) {
        expect(elapsed, 'the new leader expired an inherited session before a full timeout').toBeGreaterThanOrEqual(timeout - 2 * TICK);
        expect(Date.now() - t0, 'the silent session was never expired').toBeLessThan(timeout + 20_000);
        break;
      }
      expect(elapsed, 'the silent session lived on long after its timeout').toBeLessThan(timeout * 4);
      await sleep(20);
    }
    await sleep(3 * timeout);
    for (const l of live) {
      const r = await check.getData(l.path);
      expect(r.err, `ephemeral ${l.path} after the leader change`).toBe(0);
      expect(r.stat!.ephemeralOwner).toBe(l.c.sessionId);
    }
    silent.close();
  }, 60_000);
});

describe('one voter with standaloneEnabled=false (a quorum of one, as ZooKeeper 3.8 runs it), and an observer', () => {
  let e: InProcEnsemble;
  afterAll(async () => {
    await e?.stopAll();
  });

  it('leads alone, takes writes, keeps them across a restart, and syncs its observer', async () => {
    e = await InProcEnsemble.create({ voters: 1, observers: 1, tickTime: TICK, extra: ['standaloneEnabled=false'] });
    await e.start(1);
    await e.waitFor(() => e.mode(1) === 'leader', 10_000, 'server 1 leading alone');
    // no learner needed: it must not step down after initLimit
    await sleep(15 * TICK);
    expect(e.mode(1)).toBe('leader');
    const c = await MiniClient.connect(e.port(1), 10 * TICK);
    for (let k = 0; k < 20; k++) expect(await c.create(`/solo-${k}`, Buffer.from(`s${k}`))).toBe(0);
    c.close();
    await e.stop(1);
    await e.start(1);
    await e.waitFor(() => e.mode(1) === 'leader', 10_000, 'server 1 leading again');
    await e.start(2);
    await e.waitFor(() => e.mode(2) === 'observer', 10_000, 'server 2 observing');
    const o = await MiniClient.connect(e.port(2), 10 * TICK);
    expect((await o.getData('/solo-19')).data?.toString()).toBe('s19');
    expect(await o.create('/via-observer', Buffer.from('v'))).toBe(0);
    o.close();
  }, 60_000);
});
