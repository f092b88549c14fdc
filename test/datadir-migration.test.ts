// A dataDir moves between zk-server and Apache ZooKeeper 3.8 in both directions: each server is
// filled through the real Java client, stopped, and the other server, started on the same dataDir,
// shows the same nodes, data, stats and ACLs to a client (sessions with ephemerals included).
// Tree digests travel with the data: the other server, replaying the txn log, computes the same
// digest at every 128th zxid (`hash`) and counts no mismatch with the TxnDigests in the log; a
// log with one digest altered is counted as a mismatch by both servers (so the check is live).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { dumpZk, HELPER, java, killStarted, startZk, stopZk } from './helpers/apache-zk';
import { startTestServer } from './helpers/server';
import { digestMismatches, fourLetter, requireApacheZk, SKIP_REAL } from './helpers/peers';
import { MiniClient } from './helpers/miniclient';
import { findValidSnapshots, getLastLoggedZxid, readTxnLog, TxnLogWriter } from '../src/persistence';
import { JuteWriter } from '../src/jute/archive';
import { writePathVersion } from '../src/jute/records';
import { OpCode } from '../src/data/constants';
import { resetServerMetrics } from '../src/util/metrics';

/** about 600 more txns of every kind, so that `hash` has entries (every 128th zxid) to compare. */
async function churn(port: number): Promise<void> {
  const c = await MiniClient.connect(port);
  const e = await MiniClient.connect(port);
  try {
    expect(await c.create('/churn', Buffer.from('c'))).toBe(0);
    for (let i = 0; i < 160; i++) {
      expect(await c.create(`/churn/n${i}`, Buffer.from(`v${i}`))).toBe(0);
      expect(await c.setData(`/churn/n${i}`, Buffer.from('x'.repeat(i)))).toBe(0);
      if (i % 3 === 0) expect(await e.create(`/churn/e${i}`, Buffer.from('e'), 1)).toBe(0);
      if (i % 2 === 0) {
        const r = await c.call(OpCode.delete, (w: JuteWriter) => writePathVersion(w, { path: `/churn/n${i}`, version: -1 }));
        expect(r.err).toBe(0);
      }
    }
  } finally {
    c.close();
    e.close();
  }
}

async function hashOf(port: number): Promise<string[]> {
  return (await fourLetter(port, 'hash')).trim().split('\n').filter(Boolean);
}

/** A copy of dataDir whose txn log has the TxnDigest of its `nth` digested txn off by one. */
async function withOneDigestAltered(dataDir: string, nth: number): Promise<string> {
  const out = tmpDataDir();
  const v2 = path.join(out, 'version-2');
  fs.mkdirSync(v2);
  for (const f of fs.readdirSync(path.join(dataDir, 'version-2'))) {
    if (f.startsWith('snapshot.')) fs.copyFileSync(path.join(dataDir, 'version-2', f), path.join(v2, f));
  }
  const w = new TxnLogWriter(v2, { preAllocSize: 0 });
  let k = 0;
  for (const t of readTxnLog(path.join(dataDir, 'version-2'), 0)) {
    let d = t.digest;
    if (d && k++ === nth) d = { version: d.version, treeDigest: d.treeDigest + 1n };
    w.appendTxn(t.hdr, t.txn, d);
  }
  await w.close();
  return out;
}

afterEach(async () => {
  await killStarted();
  resetServerMetrics(); // process-wide, as in a JVM: one test's counted mismatch is not the next one's
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
    let oursHash: string[];
    try {
      const pop = await java([HELPER, 'populate', `127.0.0.1:${ours.port}`]);
      expect(pop.code, pop.stderr).toBe(0);
      await churn(ours.port);
      oursView = await dumpZk(ours.port);
      oursHash = await hashOf(ours.port);
      expect(await digestMismatches(ours.port)).toBe(0);
    } finally {
      await ours.stop();
    }
    expect(oursView.some((l) => l.startsWith('/eph\t'))).toBe(true);
    expect(oursHash.length).toBeGreaterThanOrEqual(3);
    // the clean stop wrote a snapshot at the last zxid (see the end); set aside, so that ZooKeeper
    // replays our log below and recomputes its digests
    const v2 = path.join(dataDir, 'version-2');
    const stopSnap = findValidSnapshots(v2, 1)[0];
    expect(path.basename(stopSnap)).toBe(`snapshot.${getLastLoggedZxid(v2).toString(16)}`);
    const aside = path.join(path.dirname(dataDir), path.basename(stopSnap));
    fs.renameSync(stopSnap, aside);
    // (copies made now: a server that starts writes a snapshot of what it loaded)
    const altered = await withOneDigestAltered(dataDir, 200);
    const altered2 = await withOneDigestAltered(dataDir, 200);
    const zk = await startZk(dataDir);
    const theirView = await dumpZk(zk.port);
    const theirHash = await hashOf(zk.port);
    const theirMismatches = await digestMismatches(zk.port);
    await stopZk(zk);
    expect(zk.output()).not.toMatch(/CRC|Unreasonable|corrupt|problem reading snap/i);
    expect(theirView).toEqual(oursView);
    // ZooKeeper recomputed the same digests from our log and found each TxnDigest right
    expect(theirHash).toEqual(oursHash);
    expect(theirMismatches).toBe(0);

    // the same log with one TxnDigest altered: ZooKeeper and zk-server each count one mismatch
    const zk2 = await startZk(altered);
    const javaCount = await digestMismatches(zk2.port).catch((e: Error) => {
      throw new Error(`${e.message}\n${zk2.output().slice(-3000)}`);
    });
    await stopZk(zk2);
    expect(javaCount).toBe(1);
    const ours2 = await startTestServer({ dataDir: altered2, dataLogDir: altered2 });
    try {
      expect(await digestMismatches(ours2.port)).toBe(1);
    } finally {
      await ours2.stop();
    }

    // ZooKeeper also starts from the snapshot our clean stop wrote (with the log, replaying nothing)
    const fromStop = tmpDataDir();
    fs.mkdirSync(path.join(fromStop, 'version-2'));
    for (const f of fs.readdirSync(v2)) if (f.startsWith('log.')) fs.copyFileSync(path.join(v2, f), path.join(fromStop, 'version-2', f));
    fs.copyFileSync(aside, path.join(fromStop, 'version-2', path.basename(stopSnap)));
    const zk3 = await startZk(fromStop);
    const viewFromStop = await dumpZk(zk3.port);
    await stopZk(zk3);
    expect(zk3.output()).toContain(`Reading snapshot ${path.join(fromStop, 'version-2', path.basename(stopSnap))}`);
    expect(zk3.output()).not.toMatch(/CRC|Unreasonable|corrupt|problem reading snap/i);
    expect(viewFromStop).toEqual(oursView);
  }, 180000);

  it('zk-server serves the tree that Apache ZooKeeper wrote', async () => {
    const dataDir = tmpDataDir();
    const zk = await startZk(dataDir);
    const pop = await java([HELPER, 'populate', `127.0.0.1:${zk.port}`]);
    expect(pop.code, pop.stderr).toBe(0);
    await churn(zk.port);
    const theirView = await dumpZk(zk.port);
    const theirHash = await hashOf(zk.port);
    await stopZk(zk);
    expect(theirHash.length).toBeGreaterThanOrEqual(3);
    const ours = await startTestServer({ dataDir, dataLogDir: dataDir, maxSessionTimeout: 60000 });
    try {
      const oursView = await dumpZk(ours.port);
      expect(oursView).toEqual(theirView);
      // we recomputed ZooKeeper's digests from its log and found each of its TxnDigests right
      expect(await hashOf(ours.port)).toEqual(theirHash);
      expect(await digestMismatches(ours.port)).toBe(0);
      expect(theirView.some((l) => l.startsWith('/ttl\t'))).toBe(true);
    } finally {
      await ours.stop();
    }
  }, 120000);
});

describe.skipIf(SKIP_REAL)('compressed snapshots written by Apache ZooKeeper 3.8', () => {
  beforeAll(() => requireApacheZk());
  it.each(['gz', 'snappy'])('zk-server loads a %s snapshot that ZooKeeper wrote', async (method) => {
    // a run that outlasts the test's timeout says which step it was in, and what ZooKeeper printed
    const t0 = Date.now();
    let step = 'start';
    let zkOut = (): string => '';
    const at = (s: string): void => void (step = `${s} (at ${Date.now() - t0} ms)`);
    onTestFailed(() => console.log(`failed in step: ${step}\n--- ZooKeeper's output, last 40 lines:\n${zkOut().split('\n').slice(-40).join('\n')}`));
    const dataDir = tmpDataDir();
    const cfg = [`snapshot.compression.method=${method}`];
    at('start ZooKeeper');
    const zk = await startZk(dataDir, cfg);
    zkOut = zk.output;
    at('populate');
    const pop = await java([HELPER, 'populate', `127.0.0.1:${zk.port}`]);
    expect(pop.code, pop.stderr).toBe(0);
    at('churn');
    await churn(zk.port);
    at('dump ZooKeeper');
    const theirView = await dumpZk(zk.port);
    at('stop ZooKeeper');
    await stopZk(zk);
    // a restart makes ZooKeeper snapshot everything it loaded, compressed
    at('restart ZooKeeper');
    const zk2 = await startZk(dataDir, cfg);
    zkOut = zk2.output;
    at('wait for the restarted ZooKeeper to serve');
    await digestMismatches(zk2.port);
    at('stop the restarted ZooKeeper');
    await stopZk(zk2);
    at('start zk-server');
    const snaps = fs.readdirSync(path.join(dataDir, 'version-2')).filter((f) => f.startsWith('snapshot.')).sort();
    expect(snaps.some((f) => f.endsWith(`.${method}`)), snaps.join(' ')).toBe(true);
    const ours = await startTestServer({ dataDir, dataLogDir: dataDir, maxSessionTimeout: 60000 });
    at('dump zk-server');
    try {
      expect((await dumpZk(ours.port)).filter((l) => !l.startsWith('/eph'))).toEqual(theirView.filter((l) => !l.startsWith('/eph')));
      expect(await digestMismatches(ours.port)).toBe(0);
    } finally {
      await ours.stop();
    }
  }, 120000);
});
