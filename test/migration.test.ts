// The drills an operator runs first, under a steady writer (test/clients/JavaSteadyLoad.java: the
// Apache ZooKeeper 3.8 Java client with one session, one ephemeral and one create at a time):
//  - rolling migration: three Apache ZooKeeper 3.8 peers are replaced one at a time by zk-server on
//    the same zoo.cfg, dataDir and ports, followers first, then back the same way;
//  - whole-ensemble restart: every peer stops, the ensemble stays down longer than the session
//    timeout, then every peer starts again.
// Each must end with no error but ConnectionLoss (reconnects), every acknowledged create on every
// peer, and the writer's session and ephemeral alive: the session timeout does not run while the
// ensemble is down (the new leader gives every session a fresh timeout, as ZooKeeper does).
import { afterEach, describe, expect, it } from 'vitest';
import { expectAllCreates, expectCleanWriter, steadyLoad } from './helpers/javaclient';
import { MiniClient } from './helpers/miniclient';
import { MixedEnsemble } from './helpers/mixed';
import { digestMismatches, ensembleSpec, freePorts, Peers, PeerSpec, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';

const SESSION_MS = 6000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let ens: MixedEnsemble | null = null;
afterEach(async () => {
  await ens?.cleanup();
  ens = null;
});

const connectString = (spec: PeerSpec): string => [1, 2, 3].map((i) => `127.0.0.1:${spec.clientPort(i)}`).join(',');

/** Once one peer leads and two follow: the leader's id. */
async function settled(e: MixedEnsemble, what: string): Promise<number> {
  await e.waitFor(async () => (await e.modes(3)).sort().join() === 'follower,follower,leader', 60_000, what);
  return (await e.modes(3)).indexOf('leader') + 1;
}

/** Every peer has every acknowledged create of the writer. */
const everyPeerHasAll = (spec: PeerSpec, tag: string, acked: number): Promise<void> => expectAllCreates([1, 2, 3].map(spec.clientPort), tag, acked);

describe.skipIf(SKIP_REAL)('operator drills under a steady writer', () => {
  it('rolling migration: three Apache ZooKeeper 3.8 peers replaced one at a time by zk-server on the same dataDirs and ports, and back', async () => {
    requireDist();
    requireApacheZk();
    const spec = await ensembleSpec(3);
    const peers = new Peers(spec, 'zk-migrate-');
    const e = (ens = new MixedEnsemble(peers));
    for (const i of [1, 2, 3]) e.startJava(i);
    let leader = await settled(e, 'three Java peers to form an ensemble');
    const load = await steadyLoad(connectString(spec), SESSION_MS, 'migrate');
    await load.ready;
    const steps: string[] = [];
    const javaLogs: string[] = [];
    const stopJava = async (i: number): Promise<void> => {
      javaLogs.push(e.javas.get(i)?.log ?? '');
      await e.stopJava('SIGTERM', i);
    };
    // each mixed state lasts longer than syncLimit ticks (4 x 500 ms): a Java leader drops a
    // follower that owes it an ACK for that long
    const DWELL = 3000;
    // followers first, the leader last: one leader change per direction
    const order = (l: number): number[] => [...[1, 2, 3].filter((i) => i !== l), l];
    for (const i of order(leader)) {
      const t = Date.now();
      await stopJava(i);
      peers.start(i);
      leader = await settled(e, `zk-server ${i} to take the place of Java ${i}`);
      steps.push(`Java ${i} → zk-server ${i}: ${Date.now() - t} ms`);
      await sleep(DWELL);
    }
    expect(e.javas.size).toBe(0);
    for (const i of order(leader)) {
      const t = Date.now();
      await peers.stop(i);
      e.startJava(i);
      leader = await settled(e, `Java ${i} to take the place of zk-server ${i}`);
      steps.push(`zk-server ${i} → Java ${i}: ${Date.now() - t} ms`);
      await sleep(DWELL);
    }
    const r = await load.stop();
    for (const j of e.javas.values()) javaLogs.push(j.log);
    // no peer of either kind dropped a healthy one on the way
    expect(javaLogs.join('\n')).not.toMatch(/transaction timeout|Closing connection to peer due to/);
    expect([...peers.logs.values()].join('\n')).not.toMatch(/no packet from the leader/);
    console.log(`rolling migration: ${steps.join('; ')}; writer: ${JSON.stringify(r)}`);
    expectCleanWriter(r);
    await everyPeerHasAll(spec, 'migrate', r.acked);
  }, 300_000);

  it('growth 3 → 5 the tutorials\' way: two new peers with five server lines join, then each old peer restarts with them, under the writer', async () => {
    requireDist();
    const ports = await freePorts(15);
    const line = (i: number): string => `server.${i}=127.0.0.1:${ports[3 * i - 2]}:${ports[3 * i - 1]}`;
    // the server lines each peer's zoo.cfg has: 3 for the old peers until they restart, 5 after
    const view = new Map<number, number>([
      [1, 3],
      [2, 3],
      [3, 3],
      [4, 5],
      [5, 5],
    ]);
    const spec: PeerSpec = {
      clientPort: (i) => ports[3 * (i - 1)],
      common: [],
      extra: (i) => Array.from({ length: view.get(i)! }, (_, k) => line(k + 1)),
    };
    const peers = new Peers(spec, 'zk-grow-');
    const e = (ens = new MixedEnsemble(peers));
    const modes = (ids: number[]): Promise<string[]> => Promise.all(ids.map((i) => peers.mode(i)));
    const all5 = [1, 2, 3, 4, 5];
    const oneLeader = async (ids: number[]): Promise<boolean> => {
      const m = await modes(ids);
      return m.filter((x) => x === 'leader').length === 1 && m.every((x) => x === 'leader' || x === 'follower');
    };
    for (const i of [1, 2, 3]) peers.start(i);
    await settled(e, 'the three old peers to form an ensemble');
    const load = await steadyLoad(connectString(spec), SESSION_MS, 'grow');
    await load.ready;
    const steps: string[] = [];
    let t = Date.now();
    for (const i of [4, 5]) peers.start(i);
    await e.waitFor(() => oneLeader(all5), 60_000, 'the new peers 4 and 5 to follow');
    steps.push(`4 and 5 join: ${Date.now() - t} ms`);
    await sleep(3000);
    // the old peers restart with five server lines, followers first, the leader last
    const leader0 = (await modes([1, 2, 3])).indexOf('leader') + 1;
    for (const i of [...[1, 2, 3].filter((x) => x !== leader0), leader0]) {
      t = Date.now();
      await peers.stop(i);
      view.set(i, 5);
      peers.start(i);
      await e.waitFor(async () => (await oneLeader(all5)) && (await peers.mode(i)) !== 'none', 60_000, `peer ${i} to rejoin with five server lines`);
      steps.push(`restart ${i}: ${Date.now() - t} ms`);
      await sleep(3000);
    }
    const r = await load.stop();
    console.log(`growth 3 → 5 by rolling restarts: ${steps.join('; ')}; writer: ${JSON.stringify(r)}`);
    expectCleanWriter(r);
    expect([...peers.logs.values()].join('\n')).not.toMatch(/no packet from the leader|transaction timeout/);
    await expectAllCreates(all5.map(spec.clientPort), 'grow', r.acked);
    // five voters now: any three are a quorum, so two of the old peers can go
    const leader = (await modes(all5)).indexOf('leader') + 1;
    const gone = [1, 2, 3].filter((x) => x !== leader).slice(0, 2);
    for (const i of gone) await peers.stop(i);
    const rest = all5.filter((x) => !gone.includes(x));
    await e.waitFor(() => oneLeader(rest), 30_000, `peers ${rest.join(',')} serving without ${gone.join(',')}`);
    const c = await MiniClient.connect(spec.clientPort(rest[0]));
    expect(await c.create('/after-growth', Buffer.from('x'))).toBe(0);
    c.close();
  }, 240_000);

  it('whole-ensemble restart: down longer than the session timeout, the session and its ephemeral are still there', async () => {
    requireDist();
    const spec = await ensembleSpec(3);
    const peers = new Peers(spec, 'zk-restart-all-');
    const e = (ens = new MixedEnsemble(peers));
    for (const i of [1, 2, 3]) peers.start(i);
    await settled(e, 'three peers to form an ensemble');
    const load = await steadyLoad(connectString(spec), SESSION_MS, 'restart');
    await load.ready;
    await sleep(2000);
    await peers.stopAll();
    await sleep(SESSION_MS + 3000);
    for (const i of [1, 2, 3]) peers.start(i);
    await settled(e, 'the ensemble to come back');
    await sleep(3000);
    const r = await load.stop();
    console.log(`whole-ensemble restart (down ${SESSION_MS + 3000} ms): writer: ${JSON.stringify(r)}`);
    expectCleanWriter(r);
    await everyPeerHasAll(spec, 'restart', r.acked);
    for (const i of [1, 2, 3]) expect(await digestMismatches(spec.clientPort(i))).toBe(0);
    // each JSON log line names its server once (a duplicated "myid" key confuses log shippers)
    const doubled = [...peers.logs.values()].flatMap((log) => log.split('\n')).filter((l) => l.startsWith('{') && (l.match(/"myid":/g) ?? []).length > 1);
    expect(doubled).toEqual([]);
  }, 180_000);
});
