// A dataDir moves between zk-server and Apache ZooKeeper 3.8 in both directions: each server is
// filled through the real Java client, stopped, and the other server, started on the same dataDir,
// shows the same nodes, data, stats and ACLs to a client (sessions with ephemerals included).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dumpZk, HELPER, java, killStarted, startZk, stopZk } from './helpers/apache-zk';
import { startTestServer } from './helpers/server';
import { requireApacheZk, SKIP_REAL } from './helpers/peers';

afterEach(async () => {
  await killStarted();
});

function tmpDataDir(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-migrate-'));
  const d = path.join(root, 'data');
  fs.mkdirSync(d);
  return d;
}

describe.skipIf(SKIP_REAL)('dataDir migration with Apache ZooKeeper 3.8', () => {
  beforeAll(() => requireApacheZk());
  it('Apache ZooKeeper serves the tree that zk-server wrote', async () => {
    const dataDir = tmpDataDir();
    const ours = await startTestServer({ dataDir, dataLogDir: dataDir, maxSessionTimeout: 60000 });
    let oursView: string[];
    try {
      const pop = await java([HELPER, 'populate', `127.0.0.1:${ours.port}`]);
      expect(pop.code, pop.stderr).toBe(0);
      oursView = await dumpZk(ours.port);
    } finally {
      await ours.stop();
    }
    expect(oursView.some((l) => l.startsWith('/eph\t'))).toBe(true);
    const zk = await startZk(dataDir);
    const theirView = await dumpZk(zk.port);
    await stopZk(zk);
    expect(zk.output()).not.toMatch(/CRC|Unreasonable|corrupt|problem reading snap/i);
    expect(theirView).toEqual(oursView);
  }, 120000);

  it('zk-server serves the tree that Apache ZooKeeper wrote', async () => {
    const dataDir = tmpDataDir();
    const zk = await startZk(dataDir);
    const pop = await java([HELPER, 'populate', `127.0.0.1:${zk.port}`]);
    expect(pop.code, pop.stderr).toBe(0);
    const theirView = await dumpZk(zk.port);
    await stopZk(zk);
    const ours = await startTestServer({ dataDir, dataLogDir: dataDir, maxSessionTimeout: 60000 });
    try {
      const oursView = await dumpZk(ours.port);
      expect(oursView).toEqual(theirView);
      expect(theirView.some((l) => l.startsWith('/ttl\t'))).toBe(true);
    } finally {
      await ours.stop();
    }
  }, 120000);
});
