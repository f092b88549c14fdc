// Dynamic reconfiguration (issue 15): zkCli.sh's config and reconfig commands side by side with
// Apache ZooKeeper 3.8, and the membership drills under a steady writer — scale 3 → 5 → 3 removing
// the leader, a participant becoming an observer and back, and the same with Apache ZooKeeper peers
// in the ensemble. Each drill ends with no client error but ConnectionLoss, every acknowledged
// write on every member, and the membership surviving a restart from the files the reconfig wrote.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { expectAllCreates, expectCleanWriter, steadyLoad } from './helpers/javaclient';
import { MiniClient } from './helpers/miniclient';
import { MixedEnsemble } from './helpers/mixed';
import { freePorts, Peers, PeerSpec, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';
import { eventsLast, zkCli } from './helpers/zkcli';
import { OpCode } from '../src/data/constants';

const SESSION_MS = 6000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SUPER = `-Dzookeeper.DigestAuthenticationProvider.superDigest=super:${createHash('sha1').update('super:test').digest('base64')}`;

let ens: MixedEnsemble | null = null;
afterEach(async () => {
  await ens?.cleanup();
  ens = null;
});

/** Ports for servers 1..n and their server lines (with the client address, as reconfig needs). */
async function layout(n: number): Promise<{ ports: number[]; line: (i: number, role?: string) => string; clientPort: (i: number) => number }> {
  const ports = await freePorts(3 * n);
  return {
    ports,
    clientPort: (i) => ports[3 * (i - 1)],
    line: (i, role = 'participant') => `server.${i}=127.0.0.1:${ports[3 * i - 2]}:${ports[3 * i - 1]}:${role};127.0.0.1:${ports[3 * (i - 1)]}`,
  };
}

/** The membership lines of /zookeeper/config as a MiniClient reads them on server i. */
async function configOn(port: number): Promise<string> {
  const c = await MiniClient.connect(port);
  try {
    return (await c.getData('/zookeeper/config')).data?.toString('utf8') ?? '';
  } finally {
    c.close();
  }
}

describe.skipIf(SKIP_REAL)('zkCli.sh config and reconfig, beside Apache ZooKeeper 3.8', () => {
  it('config, reconfig -add/-remove/-members, -v, no quorum, no permission: the same lines from both', async () => {
    requireDist();
    requireApacheZk();
    const out: Record<string, string[][]> = {};
    for (const kind of ['zookeeper', 'zk-server']) {
      const L = await layout(5);
      const spec: PeerSpec = { clientPort: L.clientPort, common: ['reconfigEnabled=true', L.line(1), L.line(2), L.line(3)] };
      const peers = new Peers(spec, 'zk-reconfig-cli-');
      const e = (ens = new MixedEnsemble(peers));
      const start = (i: number, keep = false): void => (kind === 'zookeeper' ? e.startJava(i, [SUPER], keep) : peers.start(i, { JVMFLAGS: SUPER }, keep));
      // servers 1 and 2 first, so that 2 leads (the larger id of two equal logs) on both sides
      start(1);
      start(2);
      await e.waitFor(async () => (await peers.mode(2)) === 'leader', 60_000, `${kind}: server 2 to lead`);
      start(3);
      await e.waitFor(async () => (await e.modes(3)).join() === 'follower,leader,follower', 60_000, `${kind}: three peers`);
      // server 4 runs with the three lines and its own (a joiner's zoo.cfg); server 5 never runs
      peers.cfg(4);
      fs.appendFileSync(peers.cfgFile(4), L.line(4) + '\n');
      start(4, true);
      await e.waitFor(async () => (await peers.mode(4)) !== 'none', 60_000, `${kind}: server 4 to join`);
      // the ports differ between the two runs: compare with each run's ports named
      // (and without stat's times)
      const name = (lines: string[]): string[] =>
        lines
          .filter((l) => !/^(ctime|mtime) = /.test(l))
          .map((l) => L.ports.reduce((acc, p, k) => acc.split(String(p)).join(`<${['client', 'quorum', 'election'][k % 3]}${Math.floor(k / 3) + 1}>`), l));
      const cli = (cmds: string[]): Promise<string[]> => zkCli(L.clientPort(1), cmds, { events: true }).then((x) => name(eventsLast(x)));
      const r: string[][] = [];
      r.push(await cli(['config', 'reconfig -remove 3']));
      r.push(
        await cli([
          'addauth digest super:test',
          'reconfig -v 12345 -remove 3',
          `reconfig -members ${L.line(1)},${L.line(5)}`,
          `reconfig -add ${L.line(4)}`,
          'config',
          'reconfig -remove 3',
          `reconfig -add ${L.line(3, 'observer')}`,
          'config',
          'stat /zookeeper/config',
        ]),
      );
      // the files the last reconfig left on server 1: zoo.cfg pointing at zoo.cfg.dynamic.<version>
      await sleep(500);
      const root = (l: string): string => l.split(peers.root).join('<root>');
      const statics = fs.readFileSync(peers.cfgFile(1), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
      const dyn = /^dynamicConfigFile=(.*)$/m.exec(fs.readFileSync(peers.cfgFile(1), 'utf8'))?.[1] ?? '';
      r.push(name(statics.map(root).sort()));
      r.push(name(fs.existsSync(dyn) ? fs.readFileSync(dyn, 'utf8').split('\n') : ['(none)']));
      out[kind] = r;
      await e.cleanup();
      ens = null;
    }
    const ours = out['zk-server'];
    expect(ours[0]).toContain('Insufficient permission : ');
    expect(ours[1]).toContain('Committed new configuration:');
    expect(ours[1]).toContain('server.3=127.0.0.1:<quorum3>:<election3>:observer;127.0.0.1:<client3>');
    expect(ours[2]).toContain('dynamicConfigFile=<root>/zoo_1.cfg.dynamic.100000009');
    expect(out['zk-server']).toEqual(out.zookeeper);
  }, 300_000);
});

type Kind = 'java' | 'ours';

/**
 * Drill 1 (and 4 with Java peers): 3 → 5 by `reconfig -add` under the writer, then 5 → 3 by
 * `reconfig -remove` of the leader and one more; the removed two are shut down, the three left
 * restart from the files the reconfig wrote. `kinds`: which servers are Apache ZooKeeper;
 * `first`: the two servers started first (the larger id leads).
 */
async function scaleDrill(tag: string, kinds: Partial<Record<number, Kind>>, first: [number, number]): Promise<string> {
  requireDist();
  requireApacheZk();
  const L = await layout(5);
  const spec: PeerSpec = { clientPort: L.clientPort, common: ['reconfigEnabled=true', L.line(1), L.line(2), L.line(3)] };
  const peers = new Peers(spec, `zk-reconfig-${tag}-`);
  const e = (ens = new MixedEnsemble(peers));
  const kind = (i: number): Kind => kinds[i] ?? 'ours';
  const start = (i: number, keep = false): void => (kind(i) === 'java' ? e.startJava(i, [SUPER], keep) : peers.start(i, { JVMFLAGS: SUPER }, keep));
  const stop = (i: number): Promise<void> => (kind(i) === 'java' ? e.stopJava('SIGTERM', i) : peers.stop(i));
  const modes = (ids: number[]): Promise<string[]> => Promise.all(ids.map((i) => peers.mode(i)));
  const oneLeader = async (ids: number[]): Promise<boolean> => {
    const m = await modes(ids);
    return m.filter((x) => x === 'leader').length === 1 && m.every((x) => x === 'leader' || x === 'follower');
  };
  const steps: string[] = [];
  for (const i of first) start(i);
  await e.waitFor(async () => (await peers.mode(Math.max(...first))) === 'leader', 60_000, `${Math.max(...first)} to lead`);
  const third = [1, 2, 3].find((i) => !first.includes(i))!;
  start(third);
  await e.waitFor(() => oneLeader([1, 2, 3]), 60_000, 'three peers');
  const leader0 = (await modes([1, 2, 3])).indexOf('leader') + 1;
  const load = await steadyLoad([1, 2, 3].map((i) => `127.0.0.1:${L.clientPort(i)}`).join(','), SESSION_MS, tag);
  await load.ready;
  // 4 and 5 start with the three lines and their own, and follow without a vote
  for (const i of [4, 5]) {
    peers.cfg(i);
    fs.appendFileSync(peers.cfgFile(i), L.line(i) + '\n');
    start(i, true);
  }
  await e.waitFor(async () => (await modes([4, 5])).every((m) => m !== 'none'), 60_000, '4 and 5 to join');
  await sleep(1000);
  let t = Date.now();
  const admin = (port: number, cmds: string[]): Promise<string[]> => zkCli(port, ['addauth digest super:test', ...cmds]);
  const added = await admin(L.clientPort(leader0 === 1 ? 2 : 1), [`reconfig -add ${L.line(4)},${L.line(5)}`]);
  expect(added.join('\n')).toContain('Committed new configuration:');
  await e.waitFor(() => oneLeader([1, 2, 3, 4, 5]), 60_000, 'five voters');
  steps.push(`3 → 5: ${Date.now() - t} ms`);
  await sleep(3000);
  // 5 → 3: the leader goes, and one more of the first three
  const leader = (await modes([1, 2, 3, 4, 5])).indexOf('leader') + 1;
  const gone = [leader, [1, 2, 3, 4, 5].find((i) => i !== leader && i <= 3)!];
  const rest = [1, 2, 3, 4, 5].filter((i) => !gone.includes(i));
  t = Date.now();
  // the client may lose its connection when its server changes leader: ask again until the
  // membership shows the three (a reconfig either committed or not; a repeat finds it done)
  let cfg = '';
  for (let k = 0; k < 5 && !/^version=/m.test(cfg); k++) {
    const out = await admin(L.clientPort(rest[0]), [`reconfig -remove ${gone.join(',')}`, 'config']);
    cfg = out.join('\n');
    if (!cfg.includes(`server.${gone[0]}=`) && /version=/.test(cfg)) break;
    await sleep(1000);
  }
  await e.waitFor(async () => !(await configOn(L.clientPort(rest[0]))).includes(`server.${gone[0]}=`), 60_000, `${gone.join(',')} removed`);
  await e.waitFor(() => oneLeader(rest), 60_000, `${rest.join(',')} to serve`);
  steps.push(`5 → 3 removing leader ${leader} and ${gone[1]}: ${Date.now() - t} ms`);
  for (const i of gone) await stop(i);
  await sleep(3000);
  const r = await load.stop();
  expectCleanWriter(r);
  await expectAllCreates(rest.map(L.clientPort), tag, r.acked);
  // the three restart from the files the reconfig wrote, with the membership and the data
  const before = await configOn(L.clientPort(rest[0]));
  for (const i of rest) await stop(i);
  for (const i of rest) start(i, true);
  await e.waitFor(() => oneLeader(rest), 60_000, `${rest.join(',')} to come back from their files`);
  for (const i of rest) expect(await configOn(L.clientPort(i)), `server ${i}`).toBe(before);
  await expectAllCreates(rest.map(L.clientPort), tag, r.acked);
  expect(before.split('\n').filter((l) => l.startsWith('server.')).map((l) => Number(/^server\.(\d+)/.exec(l)![1]))).toEqual(rest);
  return `${steps.join('; ')}; writer: ${JSON.stringify(r)}`;
}

describe.skipIf(SKIP_REAL)('membership drills under a steady writer', () => {
  it('drill 1: 3 → 5 → 3 by reconfig, removing the leader, zk-server only', async () => {
    console.log(`reconfig drill, zk-server: ${await scaleDrill('scale', {}, [1, 2])}`);
  }, 300_000);

  it('drill 4: the same with Apache ZooKeeper 3.8 as the first leader and as a joiner', async () => {
    console.log(`reconfig drill, Java leader: ${await scaleDrill('mixedj', { 3: 'java', 5: 'java' }, [2, 3])}`);
  }, 300_000);

  it('drill 4: the same with zk-server leading Apache ZooKeeper 3.8 followers', async () => {
    console.log(`reconfig drill, zk-server leader: ${await scaleDrill('mixedo', { 1: 'java', 4: 'java' }, [1, 3])}`);
  }, 300_000);
});

describe.skipIf(SKIP_REAL)('role change under a steady writer', () => {
  it('drill 3: a participant becomes an observer and back (zk-server, with an Apache ZooKeeper 3.8 peer)', async () => {
    requireDist();
    requireApacheZk();
    const L = await layout(4);
    const spec: PeerSpec = { clientPort: L.clientPort, common: ['reconfigEnabled=true', L.line(1), L.line(2), L.line(3), L.line(4)] };
    const peers = new Peers(spec, 'zk-reconfig-role-');
    const e = (ens = new MixedEnsemble(peers));
    // server 1 is Apache ZooKeeper; 2, 3 and 4 zk-server
    e.startJava(1, [SUPER]);
    for (const i of [2, 3, 4]) peers.start(i, { JVMFLAGS: SUPER });
    const all = [1, 2, 3, 4];
    const modes = (): Promise<string[]> => Promise.all(all.map((i) => peers.mode(i)));
    await e.waitFor(async () => (await modes()).filter((m) => m === 'leader').length === 1 && !(await modes()).includes('none'), 60_000, 'four peers');
    const load = await steadyLoad(all.map((i) => `127.0.0.1:${L.clientPort(i)}`).join(','), SESSION_MS, 'role');
    await load.ready;
    const steps: string[] = [];
    for (const target of [4, 1]) {
      // a follower (not the leader) becomes an observer, then a participant again
      const leader = (await modes()).indexOf('leader') + 1;
      const who = target === leader ? all.find((i) => i !== leader && i !== 1)! : target;
      const via = all.find((i) => i !== who && i !== leader)!;
      for (const role of ['observer', 'participant']) {
        const t = Date.now();
        const out = await zkCli(L.clientPort(via), ['addauth digest super:test', `reconfig -add ${L.line(who, role)}`]);
        expect(out.join('\n'), out.join('\n')).toContain(`server.${who}=127.0.0.1:${L.ports[3 * who - 2]}:${L.ports[3 * who - 1]}:${role};`);
        await e.waitFor(async () => (await peers.mode(who)) === (role === 'observer' ? 'observer' : 'follower'), 60_000, `${who} to be ${role}`);
        steps.push(`${who} → ${role}: ${Date.now() - t} ms`);
        await sleep(2000);
      }
    }
    const r = await load.stop();
    console.log(`role drill: ${steps.join('; ')}; writer: ${JSON.stringify(r)}`);
    expectCleanWriter(r);
    await expectAllCreates(all.map(L.clientPort), 'role', r.acked);
  }, 300_000);
});

describe.skipIf(SKIP_REAL)('a one-server ensemble that grows', () => {
  it('standaloneEnabled=false: one server leads alone, then grows to three by reconfig, and a watch on /zookeeper/config fires', async () => {
    requireDist();
    const L = await layout(3);
    // server 1 alone; 2 and 3 start with server 1's line and their own
    const spec: PeerSpec = { clientPort: L.clientPort, common: ['reconfigEnabled=true', 'standaloneEnabled=false', L.line(1)], extra: (i) => (i > 1 ? [L.line(i)] : []) };
    const peers = new Peers(spec, 'zk-reconfig-one-');
    ens = new MixedEnsemble(peers);
    peers.start(1, { JVMFLAGS: SUPER });
    await peers.waitFor(async () => (await peers.mode(1)) === 'leader', 30_000, 'server 1 to lead alone');
    const watcher = await MiniClient.connect(L.clientPort(1));
    expect(await watcher.create('/one', Buffer.from('x'))).toBe(0);
    // what Curator's EnsembleTracker does: a data watch on /zookeeper/config (getData, watch=true)
    const w = await watcher.call(OpCode.getData, (x) => {
      x.writeString('/zookeeper/config');
      x.writeBool(true);
    });
    expect(w.err).toBe(0);
    for (const i of [2, 3]) peers.start(i, { JVMFLAGS: SUPER });
    await peers.waitFor(async () => (await peers.mode(2)) === 'follower' && (await peers.mode(3)) === 'follower', 30_000, '2 and 3 to follow without a vote');
    // bad reconfig requests get ZooKeeper's error codes and harm nothing (the ACL check comes last,
    // as in 3.8, so no authentication is needed to be told the arguments are bad)
    const rc = async (joining: string | null, leaving: string | null, members: string | null, body?: Buffer): Promise<number> =>
      (
        await watcher.call(OpCode.reconfig, (x) => {
          if (body) return x.writeRaw(body);
          x.writeString(joining);
          x.writeString(leaving);
          x.writeString(members);
          x.writeLong(-1);
        })
      ).err;
    expect(await rc('server.4=nonsense', null, null)).toBe(-8); // BADARGUMENTS
    expect(await rc(null, 'abc', null)).toBe(-8);
    expect(await rc(null, null, 'server.x=1:2:3,weird=1')).toBe(-8);
    expect(await rc(null, '1', null)).toBe(-8); // no voter left
    expect(await rc(`${L.line(2)}`, null, null)).toBe(-102); // NOAUTH: a valid change, no super user
    const truncated = await rc(null, null, null, Buffer.from([0, 0, 0, 9, 0x41]));
    expect(truncated).not.toBe(0);
    expect((await configOn(L.clientPort(1))).split('\n').filter((l) => l.startsWith('server.'))).toEqual([L.line(1)]);
    const out = await zkCli(L.clientPort(1), ['addauth digest super:test', `reconfig -add ${L.line(2)},${L.line(3)}`, 'config']);
    const cfg = out.join('\n');
    expect(cfg).toContain(L.line(2));
    expect(cfg).toContain(L.line(3));
    await peers.waitFor(async () => watcher.events.some(([type, p]) => type === 3 && p === '/zookeeper/config'), 10_000, 'NodeDataChanged on /zookeeper/config');
    // three voters now: any two serve
    await peers.stop(1);
    await peers.waitFor(async () => [await peers.mode(2), await peers.mode(3)].sort().join() === 'follower,leader', 30_000, '2 and 3 to serve without 1');
    const c = await MiniClient.connect(L.clientPort(2));
    try {
      expect((await c.getData('/one')).data?.toString()).toBe('x');
      expect(await c.create('/two', Buffer.from('y'))).toBe(0);
    } finally {
      c.close();
    }
    watcher.close();
  }, 120_000);
});
