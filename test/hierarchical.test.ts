// Hierarchical quorums (group.N, weight.N; ZooKeeper's QuorumHierarchical): a quorum is more than
// half the weight of a group in more than half of the groups that weigh anything. The rule itself,
// the config keys and their errors, /zookeeper/config's text, the election (a weight-0 voter is
// never elected) and an in-process ensemble whose service follows the groups, not the head count.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, membershipText } from '../src/config/load';
import { ConfigError } from '../src/config/types';
import { FastLeaderElection } from '../src/quorum/fle/fle';
import { PeerState } from '../src/quorum/fle/notification';
import { hierarchicalVerifier, majorityVerifier } from '../src/quorum/verifier';
import { InProcEnsemble } from './helpers/inproc';
import { MiniClient } from './helpers/miniclient';
import { MixedEnsemble } from './helpers/mixed';
import { ensembleSpec, Peers, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';

const groups = (...gs: number[][]): Map<number, number[]> => new Map(gs.map((g, i) => [i + 1, g]));

describe('the quorum rule', () => {
  it('majority: more than half of the participants, others ignored', () => {
    const v = majorityVerifier([1, 2, 3, 4]);
    expect(v.containsQuorum([1, 2])).toBe(false);
    expect(v.containsQuorum([1, 2, 3])).toBe(true);
    expect(v.containsQuorum([1, 2, 9, 10])).toBe(false);
  });

  it('hierarchical: a weighted majority in a majority of the groups', () => {
    // three groups of three (the example of ZooKeeper's admin guide)
    const v = hierarchicalVerifier([1, 2, 3, 4, 5, 6, 7, 8, 9], groups([1, 2, 3], [4, 5, 6], [7, 8, 9]), new Map());
    expect(v.containsQuorum([1, 2, 4, 5])).toBe(true); // 2 of 3 groups, 4 of 9 servers
    expect(v.containsQuorum([1, 2, 3, 4, 7])).toBe(false); // one group only, 5 of 9 servers
    expect(v.containsQuorum([1, 4, 7])).toBe(false);
    expect(v.containsQuorum([])).toBe(false);
    // weights: server 1 outweighs 2 and 3 together
    const w = hierarchicalVerifier([1, 2, 3, 4, 5, 6], groups([1, 2, 3], [4, 5, 6]), new Map([[1, 3]]));
    expect(w.containsQuorum([1, 4, 5])).toBe(true);
    expect(w.containsQuorum([2, 3, 4, 5])).toBe(false); // 2 of 5 in group 1
    // a group of weight 0 does not count among the groups
    const z = hierarchicalVerifier([1, 2, 3, 4], groups([1, 2], [3], [4]), new Map([[4, 0]]));
    expect(z.containsQuorum([1, 2])).toBe(false); // 1 of 2 weighty groups is not more than half
    expect(z.containsQuorum([1, 2, 3])).toBe(true);
    expect(z.weight(4)).toBe(0);
  });
});

describe('group.N and weight.N in zoo.cfg', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-hier-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const servers = [1, 2, 3].map((i) => `server.${i}=127.0.0.1:${2887 + i}:${3887 + i}`);
  const cfg = (extra: string[]): string => {
    fs.writeFileSync(path.join(dir, 'myid'), '1\n');
    const f = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(f, ['tickTime=2000', 'initLimit=5', 'syncLimit=2', `dataDir=${dir}`, 'clientPort=2181', ...servers, ...extra].join('\n') + '\n');
    return f;
  };
  const fails = (extra: string[]): ConfigError => {
    try {
      loadConfig(cfg(extra));
    } catch (e) {
      return e as ConfigError;
    }
    throw new Error('loaded');
  };

  it('are read, and /zookeeper/config shows them as QuorumHierarchical.toString does', () => {
    const c = loadConfig(cfg(['group.1=1:2', 'group.2=3', 'weight.2=0']));
    expect(c.groups).toEqual(new Map([[1, [1, 2]], [2, [3]]]));
    expect(c.ignoredKeys).not.toContain('group.1');
    expect(membershipText(c).split('\n')).toEqual([
      'server.1=127.0.0.1:2888:3888:participant',
      'server.2=127.0.0.1:2889:3889:participant',
      'server.3=127.0.0.1:2890:3890:participant',
      'group.1=1:2',
      'group.2=3',
      'weight.1=1',
      'weight.2=0',
      'weight.3=1',
      'version=0',
    ]);
  });

  it('a server in two groups, a participant in none, or a bad number stops the start, naming the key and line', () => {
    const two = fails(['group.1=1:2', 'group.2=2:3']);
    expect(String(two.message)).toMatch(/zoo\.cfg:10: group\.2: Server 2 is in multiple groups/);
    const none = fails(['group.1=1:2']);
    expect(String(none.message)).toMatch(/zoo\.cfg:8: server\.3: Server 3 is not in a group/);
    const weightOnly = fails(['weight.1=2']);
    expect(String(weightOnly.message)).toMatch(/Server 1 is not in a group/);
    expect(String(fails(['group.1=1:x:2', 'group.2=3']).message)).toMatch(/group\.1.*a group member must be a non-negative integer, got "x"/s);
    expect(String(fails(['group.1=1:2:3', 'weight.2=-1']).message)).toMatch(/weight\.2.*a weight must be a non-negative integer/s);
  });
});

describe('the election', () => {
  it('never elects a voter of weight 0, even with the highest zxid', () => {
    const v = hierarchicalVerifier([1, 2, 3], groups([1, 2, 3]), new Map([[3, 0]]));
    const f = new FastLeaderElection({ myid: 1, voters: [1, 2, 3], verifier: v });
    f.startElection(0, 5, 1);
    const vote = (leader: number, zxid: number) => ({ state: PeerState.LOOKING, leader, zxid, electionEpoch: 1, peerEpoch: 1, version: 2, config: '' });
    f.receive(3, vote(3, 9), 1); // 3 has more history but weighs nothing
    f.receive(2, vote(1, 5), 1);
    f.receive(1, vote(1, 5), 1);
    f.tick(300);
    expect(f.decision()).toMatchObject({ state: 'LEADING', leader: 1 });
  });
});

describe('an in-process ensemble with groups {1} {2} {3,4,5}', () => {
  let e: InProcEnsemble;
  afterAll(async () => {
    await e?.stopAll();
  });

  it('serves with groups 1 and 2 (two servers of five), not with group 3 alone (three of five)', async () => {
    e = await InProcEnsemble.create({ voters: 5, tickTime: 100, extra: ['group.1=1', 'group.2=2', 'group.3=3:4:5'] });
    for (const i of [3, 4, 5]) await e.start(i);
    // a majority of the servers, but one group of three: no leader
    await new Promise((r) => setTimeout(r, 2000));
    expect([3, 4, 5].map((i) => e.mode(i))).toEqual(['looking', 'looking', 'looking']);
    for (const i of [1, 2]) await e.start(i);
    await e.waitFor(() => e.serving(), 20_000, 'all five serving');
    const c = await MiniClient.connect(e.port(1), 2000);
    expect(await c.create('/h1', Buffer.from('a'))).toBe(0);
    c.close();
    // groups 1 and 2 are a quorum without any of 3, 4, 5
    for (const i of [3, 4, 5]) await e.stop(i);
    await e.waitFor(() => e.serving(), 20_000, 'servers 1 and 2 serving alone');
    const d = await MiniClient.connect(e.port(2), 2000);
    expect(await d.create('/h2', Buffer.from('b'))).toBe(0);
    expect((await d.getData('/h1')).data?.toString()).toBe('a');
    d.close();
  }, 60_000);
});

describe.skipIf(SKIP_REAL)('beside an Apache ZooKeeper 3.8 peer', () => {
  let ens: MixedEnsemble | null = null;
  afterAll(async () => {
    await ens?.cleanup();
  });

  it('group.1=1:2:3 with weight.1=2: the Java peer and ours agree that {2,3} is no quorum and {1,3} is, and show the same /zookeeper/config', async () => {
    requireDist();
    requireApacheZk();
    const spec = await ensembleSpec(3, { common: ['group.1=1:2:3', 'weight.1=2'] });
    const peers = new Peers(spec, 'zk-hier-mixed-');
    const e = (ens = new MixedEnsemble(peers));
    e.startJava(3);
    peers.start(2);
    // two servers of three, but 2 of weight 4: neither serves
    await new Promise((r) => setTimeout(r, 4000));
    expect(await e.modes(3)).toEqual(['none', 'none', 'none']);
    peers.start(1);
    await e.waitFor(async () => (await e.modes(3)).filter((m) => m === 'leader').length === 1 && !(await e.modes(3)).includes('none'), 60_000, 'all three serving');
    await peers.stop(2);
    await e.waitFor(async () => {
      const m = await e.modes(3);
      return m[0] !== 'none' && m[2] !== 'none' && m.includes('leader');
    }, 60_000, 'peers 1 and 3 serving without 2');
    const texts: string[] = [];
    for (const i of [1, 3]) {
      const c = await MiniClient.connect(spec.clientPort(i));
      expect(await c.create(`/mixed-h${i}`, Buffer.from('x'))).toBe(0);
      texts.push((await c.getData('/zookeeper/config')).data!.toString());
      c.close();
    }
    expect(texts[0]).toContain('group.1=1:2:3');
    expect(texts[0]).toContain('weight.1=2');
    expect(texts[0]).toBe(texts[1]);
  }, 180_000);
});
