// Snapshots and log rolls on every role of an ensemble (ZooKeeper's SyncRequestProcessor runs on
// leader, followers and observers alike): every ~snapCount txns logged, each peer rolls its txn log
// and writes a fuzzy snapshot in the background. Until this existed a quorum peer wrote snapshot.0
// and nothing after it: an hour of traffic (bench/soak.js) left one 400 MB log per peer, all of it
// replayed at each restart, and autopurge (not started on a quorum peer either) had nothing to
// remove. Here: a small snapCount, writes through the leader, a follower and the observer; every
// peer's dataDir then holds several snapshots and log files; a restarted follower loads its newest
// snapshot and replays only the log after it, with every znode there; and a quorum peer's autopurge
// runs at start, keeping autopurge.snapRetainCount snapshots.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcEnsemble, peerLog } from './helpers/inproc';
import { MiniClient } from './helpers/miniclient';

const TICK = 100;
const SNAP_COUNT = 40;

const files = (e: InProcEnsemble, i: number, prefix: string): string[] =>
  fs
    .readdirSync(path.join(e.root, `node${i}`, 'version-2'))
    .filter((f) => f.startsWith(prefix) && !f.endsWith('.tmp'))
    .sort((a, b) => parseInt(a.split('.')[1], 16) - parseInt(b.split('.')[1], 16));

describe('snapshots and log rolls on a quorum peer', () => {
  let e: InProcEnsemble;
  const clients: MiniClient[] = [];
  beforeAll(async () => {
    e = await InProcEnsemble.create({ voters: 3, observers: 1, tickTime: TICK, extra: [`snapCount=${SNAP_COUNT}`, 'autopurge.snapRetainCount=3', 'autopurge.purgeInterval=1'] });
    await e.startAll();
    await e.waitFor(() => e.serving(), 20_000, 'the ensemble serving');
  }, 30_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await e?.stopAll();
    if (e) fs.rmSync(e.root, { recursive: true, force: true });
  });

  it('every role rolls its log and snapshots every ~snapCount txns', async () => {
    const L = e.leader();
    const F = [1, 2, 3].find((i) => i !== L)!;
    for (const i of [L, F, 4]) {
      const c = await MiniClient.connect(e.port(i), 20 * TICK);
      clients.push(c);
      for (let k = 0; k < 100; k++) expect(await c.create(`/via${i}-${k}`, Buffer.from(`v${k}`))).toBe(0);
    }
    // 300 creates + 3 sessions: ~300 txns, a roll every 21-40 of them
    await e.waitFor(() => [1, 2, 3, 4].every((i) => files(e, i, 'snapshot.').length >= 5), 20_000, 'snapshots on every peer');
    for (const i of [1, 2, 3, 4]) {
      expect(files(e, i, 'log.').length, `log files of peer ${i}`).toBeGreaterThanOrEqual(5);
      const newest = files(e, i, 'snapshot.').at(-1)!;
      expect(parseInt(newest.split('.')[1], 16) & 0xffffffff, `peer ${i}'s newest snapshot is recent`).toBeGreaterThan(200);
    }
    expect(peerLog.some((l) => l.msg === 'snapshot written' && l.myid === 4)).toBe(true);
  }, 60_000);

  it('a restarted follower loads its newest snapshot and replays only the log after it', async () => {
    const L = e.leader();
    const F = [1, 2, 3].find((i) => i !== L)!;
    const newest = files(e, F, 'snapshot.').at(-1)!;
    await e.stop(F);
    const mark = peerLog.length;
    await e.start(F);
    await e.waitFor(() => e.serving(), 20_000, 'the ensemble serving again');
    const restored = peerLog.slice(mark).find((l) => l.myid === F && /^Reading snapshot/.test(l.msg));
    expect(restored?.msg, 'the snapshot the restart read').toContain(newest);
    const c = await MiniClient.connect(e.port(F), 20 * TICK);
    clients.push(c);
    for (const i of [L, F, 4]) for (const k of [0, 57, 99]) expect((await c.getData(`/via${i}-${k}`)).data?.toString()).toBe(`v${k}`);
  }, 60_000);

  it("a quorum peer's autopurge keeps snapRetainCount snapshots (run at start, as DatadirCleanupManager)", async () => {
    const L = e.leader();
    const F = [1, 2, 3].find((i) => i !== L)!;
    // the restart above ran it once; more snapshots since, then one more restart
    const c = clients[0];
    for (let k = 0; k < 150; k++) expect(await c.create(`/more-${k}`, Buffer.from('m'))).toBe(0);
    await e.waitFor(() => files(e, F, 'snapshot.').length > 3, 20_000, 'more than 3 snapshots on the follower');
    await e.stop(F);
    await e.start(F);
    await e.waitFor(() => e.serving(), 20_000, 'the ensemble serving again');
    // the purge runs in a worker thread, beside the start (persistence/purgethread.ts)
    await e.waitFor(() => files(e, F, 'snapshot.').length <= 4, 10_000, 'the purge at start');
    const snaps = files(e, F, 'snapshot.');
    expect(snaps.length, snaps.join(' ')).toBeLessThanOrEqual(4); // 3 kept, perhaps one written since
    const logs = files(e, F, 'log.');
    const oldestKept = parseInt(snaps[0].split('.')[1], 16);
    // the logs a kept snapshot needs stay: the newest one starting at or before the oldest snapshot, and all after
    expect(logs.filter((f) => parseInt(f.split('.')[1], 16) <= oldestKept).length).toBeLessThanOrEqual(1);
    const cf = await MiniClient.connect(e.port(F), 20 * TICK);
    clients.push(cf);
    expect((await cf.getData('/more-149')).data?.toString()).toBe('m');
    expect((await cf.getData('/via4-0')).data?.toString()).toBe('v0');
  }, 60_000);
});
