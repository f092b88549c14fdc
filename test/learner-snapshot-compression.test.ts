// A follower that rejoins by SNAP keeps what it received as a snapshot in the configured
// compression (-Dzookeeper.snapshot.compression.method), as ZooKeeper's follower does: its
// snapshot after a SNAP is written with the same method as every other snapshot.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcEnsemble } from './helpers/inproc';
import { MiniClient } from './helpers/miniclient';
import { readSnapshotSync } from '../src/persistence/snapshot';

const TICK = 100;

for (const method of ['gz', 'snappy'] as const) {
  describe(`snapshot.compression.method=${method}`, () => {
    let e: InProcEnsemble;
    beforeAll(async () => {
      e = await InProcEnsemble.create({ voters: 3, tickTime: TICK, jvmFlags: `-Dzookeeper.snapshot.compression.method=${method}` });
      await e.startAll();
      await e.waitFor(() => e.serving(), 20_000, 'every peer serving');
    }, 30_000);
    afterAll(async () => {
      await e?.stopAll();
    });

    it('a follower whose dataDir was wiped rejoins by SNAP and keeps it as a compressed snapshot', async () => {
      const L = e.leader();
      const f = [1, 2, 3].find((i) => i !== L)!;
      const c = await MiniClient.connect(e.port(L), 10 * TICK);
      for (let k = 0; k < 200; k++) expect(await c.create(`/c-${k}`, Buffer.alloc(500, 'ab'))).toBe(0);
      expect(await e.rejoinWiped(f), 'SNAPs the leader sent').toBeGreaterThan(0);
      const snapDir = path.join(e.root, `node${f}`, 'version-2');
      const files = fs.readdirSync(snapDir).filter((x) => x.startsWith('snapshot.'));
      expect(files.length, files.join(' ')).toBeGreaterThan(0);
      for (const x of files) expect(x, 'every snapshot of the follower').toMatch(new RegExp(`^snapshot\\.[0-9a-f]+\\.${method}$`));
      const tree = readSnapshotSync(path.join(snapDir, files.sort().at(-1)!));
      expect(tree.getNode('/c-199')?.data?.length).toBe(500);
      const r = await MiniClient.connect(e.port(f), 10 * TICK);
      expect((await r.getData('/c-0')).err).toBe(0);
      r.close();
      c.close();
    }, 60_000);
  });
}
