// Quotas (src/data/quotas.ts) as ZooKeeper 3.8 keeps them:
//  - zkCli.sh's setquota -n/-N/-b/-B, listquota and delquota print the same on zk-server as on Apache
//    ZooKeeper 3.8 (enforceQuota=true: soft limits pass, hard limits refuse with QUOTAEXCEEDED), and
//    both publish the same quota metrics;
//  - the stats survive a restart (recounted on load) and are kept on every role of an ensemble,
//    also on a follower that rejoined by SNAP.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killStarted, startZk, stopZk } from './helpers/apache-zk';
import { startTestServer } from './helpers/server';
import { fourLetter, requireApacheZk, SKIP_REAL } from './helpers/peers';
import { InProcEnsemble } from './helpers/inproc';
import { MiniClient } from './helpers/miniclient';
import { ZKCLI, zkCli } from './helpers/zkcli';
import { resetServerMetrics } from '../src/util/metrics';

afterEach(async () => {
  await killStarted();
  resetServerMetrics();
});

const SCRIPT = [
  'create /q',
  'create /q/a x',
  'setquota -n 4 /q',
  'listquota /q',
  'create /q/b y',
  'create /q/c y',
  'create /q/d y', // past the soft count limit: allowed, logged
  'listquota /q',
  'setquota -N 5 /q',
  'create /q/e y', // past the hard count limit: refused
  'setquota -B 8 /q',
  'set /q/a 0123456789', // past the hard byte limit: refused
  'set /q/a 01234',
  'delete /q/d',
  'listquota /q',
  'get /zookeeper/quota/q/zookeeper_stats',
  'get /zookeeper/quota/q/zookeeper_limits',
  'create /q/sub',
  'setquota -b 100 /q/sub', // a quota inside another: refused by the client
  'create /other',
  'setquota -n 10 /other',
  'delquota -n /q',
  'listquota /q',
];

function quotaMntr(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.includes('quota'))
    .sort();
}

describe.skipIf(SKIP_REAL)('quotas through zkCli.sh, beside Apache ZooKeeper 3.8', () => {
  beforeAll(() => requireApacheZk());

  it('setquota, listquota and delquota print the same, hard limits refuse the same writes, and the metrics agree', async () => {
    expect(fs.existsSync(ZKCLI)).toBe(true);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-quota-'));
    const zdir = path.join(root, 'zk');
    fs.mkdirSync(zdir);
    // Apache ZooKeeper's side, once more on a fresh dataDir if zkCli.sh lost its connection (a JVM
    // on a loaded machine): the comparison needs its complete answers
    let theirs: string[] = [];
    let theirMntr = '';
    for (let attempt = 1; attempt <= 2; attempt++) {
      const dir = path.join(zdir, `try${attempt}`);
      fs.mkdirSync(dir);
      const zk = await startZk(dir, ['enforceQuota=true']);
      try {
        theirs = await zkCli(zk.port, SCRIPT);
        theirMntr = await fourLetter(zk.port, 'mntr');
      } finally {
        await stopZk(zk);
      }
      if (!theirs.some((l) => /ConnectionLoss|SessionExpired|Connection refused/.test(l))) break;
    }
    const odir = path.join(root, 'ours');
    fs.mkdirSync(odir);
    const ours = await startTestServer({ dataDir: odir, dataLogDir: odir, enforceQuota: true });
    let mine: string[];
    try {
      mine = await zkCli(ours.port, SCRIPT);
      expect(quotaMntr(await fourLetter(ours.port, 'mntr'))).toEqual(quotaMntr(theirMntr));
    } finally {
      await ours.stop();
    }
    expect(theirs).toContain('Quota has exceeded : /q/e');
    expect(mine).toEqual(theirs);
    expect(quotaMntr(theirMntr).length).toBeGreaterThan(3);

    // after a restart the stats are recounted from the tree: the same listquota
    const again = await startTestServer({ dataDir: odir, dataLogDir: odir, enforceQuota: true });
    try {
      const l = await zkCli(again.port, ['listquota /other', 'listquota /q', 'create /q/f z', 'listquota /q']);
      expect(l).toEqual([
        'absolute path is /zookeeper/quota/other/zookeeper_limits',
        'Output quota for /other count=10,bytes=-1=;byteHardLimit=-1;countHardLimit=-1',
        'Output stat for /other count=1,bytes=0',
        'absolute path is /zookeeper/quota/q/zookeeper_limits',
        'Output quota for /q count=-1,bytes=-1=;byteHardLimit=8;countHardLimit=5',
        'Output stat for /q count=5,bytes=7',
        'Quota has exceeded : /q/f',
        'absolute path is /zookeeper/quota/q/zookeeper_limits',
        'Output quota for /q count=-1,bytes=-1=;byteHardLimit=8;countHardLimit=5',
        'Output stat for /q count=5,bytes=7',
      ]);
    } finally {
      await again.stop();
    }
  }, 180_000);
});

describe('quota stats on every role of an ensemble', () => {
  it('the leader, the followers and the observer count the same, also a follower that rejoined by SNAP', async () => {
    const e = await InProcEnsemble.create({ voters: 3, observers: 1, tickTime: 100 });
    try {
      await e.startAll();
      await e.waitFor(() => e.serving(), 20_000, 'every peer serving');
      const L = e.leader();
      const [f1, f2] = [1, 2, 3].filter((i) => i !== L);
      const tree = (i: number) => e.servers.get(i)!.peer!.db.loaded!;
      const stats = (i: number) => tree(i).getNode('/zookeeper/quota/app/zookeeper_stats')?.data?.toString();
      // what zkCli's setquota sends: the quota path, the limits, then the stats node
      const c = await MiniClient.connect(e.port(f1), 2000);
      expect(await c.create('/app', Buffer.from('root'))).toBe(0);
      expect(await c.create('/zookeeper/quota/app', Buffer.alloc(0))).toBe(0);
      expect(await c.create('/zookeeper/quota/app/zookeeper_limits', Buffer.from('count=100,bytes=-1'))).toBe(0);
      expect(await c.create('/zookeeper/quota/app/zookeeper_stats', Buffer.from('count=0,bytes=0'))).toBe(0);
      for (let k = 0; k < 10; k++) expect(await c.create(`/app/n${k}`, Buffer.from('12345'))).toBe(0);
      expect(await c.setData('/app/n0', Buffer.from('1'))).toBe(0);
      const want = 'count=11,bytes=50';
      await e.waitFor(() => [1, 2, 3, 4].every((i) => stats(i) === want), 5000, `stats ${want} everywhere`);

      // a follower misses writes and its dataDir: it rejoins by SNAP, and counts on from there
      await e.stop(f2);
      for (let k = 10; k < 20; k++) expect(await c.create(`/app/n${k}`, Buffer.from('1'))).toBe(0);
      const dir = path.join(e.root, `node${f2}`);
      for (const x of fs.readdirSync(dir)) if (x !== 'myid') fs.rmSync(path.join(dir, x), { recursive: true, force: true });
      await e.start(f2);
      await e.waitFor(() => e.mode(f2) === 'follower', 20_000, `server ${f2} following again`);
      expect(await c.create('/app/last', Buffer.from('xy'))).toBe(0);
      const want2 = 'count=22,bytes=62';
      await e.waitFor(() => [1, 2, 3, 4].every((i) => stats(i) === want2), 5000, `stats ${want2} everywhere`);
      expect(tree(f2).quotaPaths.has('/app')).toBe(true);
      c.close();
    } finally {
      await e.stopAll();
    }
  }, 60_000);
});
