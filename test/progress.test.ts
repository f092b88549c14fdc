// Progress of long work at INFO: the line's wording (percent, rate, time left), its pacing, and
// the two start-up paths that report it (loading a snapshot, replaying the txn log) on a tree
// big enough to need several steps.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Progress, progressText } from '../src/util/progress';
import { loggerOf } from '../src/util/log';
import { DataTree } from '../src/data/datatree';
import { OpCode } from '../src/data/constants';
import { restore, TxnLogWriter, writeSnapshot } from '../src/persistence';

describe('progress lines', () => {
  it('say how far, how fast and how long still, or how much so far without a total', () => {
    expect(progressText('loading snapshot.0', 3 * 1024 ** 2, 12 * 1024 ** 2, 'bytes', 2000)).toBe('loading snapshot.0: 25% (3.0 MB of 12.0 MB), 1.5 MB/s, about 6 s left');
    expect(progressText('replaying the txn log', 250_000, 1_000_000, 'txns', 5000)).toBe('replaying the txn log: 25% (250,000 txns of 1,000,000 txns), 50,000 txns/s, about 15 s left');
    expect(progressText('receiving a SNAP', 40 * 1024 ** 2, undefined, 'bytes', 4000)).toBe('receiving a SNAP: 40.0 MB so far, 10.0 MB/s');
    expect(progressText('x', 10, 10_000, 'txns', 1000)).toBe('x: 0% (10 txns of 10,000 txns), 10 txns/s, about 17 min left');
  });

  it('come every interval, not more often; the total is asked for once, at the first line', () => {
    let t = 0;
    const lines: string[] = [];
    let asked = 0;
    const p = new Progress(loggerOf((_l, m) => lines.push(m)), 'w', { unit: 'txns', everyMs: 5000, now: () => t });
    const total = (): number => (asked++, 100);
    t = 4999;
    p.update(10, {}, total);
    expect(lines).toEqual([]);
    expect(asked).toBe(0);
    t = 5000;
    p.update(25, {}, total);
    t = 7000;
    p.update(30, {}, total);
    t = 10000;
    p.update(50, {}, total);
    expect(lines).toEqual(['w: 25% (25 txns of 100 txns), 5 txns/s, about 15 s left', 'w: 50% (50 txns of 100 txns), 5 txns/s, about 10 s left']);
    expect(asked).toBe(1);
  });
});

describe('progress at start-up', () => {
  const dirs: string[] = [];
  const saved = process.env.ZK_PROGRESS_INTERVAL_MS;
  afterAll(() => {
    if (saved === undefined) delete process.env.ZK_PROGRESS_INTERVAL_MS;
    else process.env.ZK_PROGRESS_INTERVAL_MS = saved;
  });

  it('loading a big snapshot and replaying a long log report percent and rate as they go', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-progress-'));
    dirs.push(dir);
    const snapDir = path.join(dir, 'version-2');
    fs.mkdirSync(snapDir, { recursive: true });
    // 40,000 znodes in the snapshot, then 40,000 creates in the log after it (epoch 1)
    const tree = new DataTree();
    let zxid = 0x100000000;
    const txn = (i: number) => ({ type: OpCode.create, path: `/n${i}`, data: Buffer.from('v'), acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], ephemeral: false, parentCVersion: i + 1 });
    for (let i = 0; i < 40_000; i++) {
      const t = txn(i);
      tree.processTxn({ clientId: 0n, cxid: i, zxid: ++zxid, time: 1, type: t.type }, t);
    }
    await writeSnapshot(tree, snapDir, zxid, { compression: '' });
    const w = new TxnLogWriter(snapDir, { forceSync: false });
    for (let i = 40_000; i < 80_000; i++) {
      const t = txn(i);
      w.appendTxn({ clientId: 0n, cxid: i, zxid: ++zxid, time: 1, type: t.type }, t);
    }
    await w.commit();
    await w.close();

    process.env.ZK_PROGRESS_INTERVAL_MS = '1';
    const lines: string[] = [];
    const r = await restore(dir, dir, loggerOf((level, m) => level === 'info' && lines.push(m)));
    expect(r.tree.nodeCount).toBeGreaterThanOrEqual(80_000);
    expect(r.txnsReplayed).toBe(40_000);
    const loading = lines.filter((l) => l.startsWith('loading snapshot.'));
    expect(loading.length).toBeGreaterThanOrEqual(2);
    expect(loading[0]).toMatch(/^loading snapshot\.1[0-9a-f]{8}: \d{1,2}% \([\d.]+ [KM]B of [\d.]+ [KM]B\), [\d.]+ [KMG]?B\/s, about \d+ (s|min) left$/);
    const replay = lines.filter((l) => l.startsWith('replaying the txn log'));
    expect(replay.length).toBeGreaterThanOrEqual(3);
    // one epoch: the total is known, so the lines have percentages that grow
    const pcts = replay.map((l) => Number(/: (\d+)% \(/.exec(l)?.[1]));
    expect(pcts[0]).toBe(25);
    expect(pcts).toEqual([...pcts].sort((a, b) => a - b));
    expect(replay[0]).toMatch(/\(10,000 txns of 40,000 txns\), [\d,]+ txns\/s/);
  });
});
