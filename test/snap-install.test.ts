// Installing a leader's SNAP on a learner (ZKDatabase.installSnapshot) survives a crash at any step
// (ZOOKEEPER-3642 class). The learner's log holds its own history, including uncommitted txns of an
// epoch the new leader never saw, above the leader's snapshot zxid. Whatever step the process dies
// after, a restart must find either its old consistent state or exactly the leader's tree — never the
// leader's snapshot with the learner's foreign txns replayed on top.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OpCode } from '../src/data/constants';
import { DataTree } from '../src/data/datatree';
import { Txn } from '../src/data/txn';
import { TxnHeader } from '../src/jute/records';
import { dropLogAfter, restore, saveSnapshot, TxnLogWriter } from '../src/persistence';
import { ZKDatabase } from '../src/quorum/zkdb';
import { serializeSnapStream, SnapStreamReader } from '../src/quorum/snapstream';
import { testConfig } from './helpers/server';
import pino from 'pino';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const zx = (epoch: number, n: number): number => epoch * 2 ** 32 + n;
const create = (p: string): Txn => ({ type: OpCode.create, path: p, data: Buffer.from(p), acl: OPEN, ephemeral: false, parentCVersion: -1 });
const hdr = (zxid: number): TxnHeader => ({ clientId: 1n, cxid: 0, zxid, time: 1_700_000_000_000, type: OpCode.create });

/** The learner: empty snapshot, then epoch 1 txns 1..10 (/a1../a10) and epoch 3 txns 1..2 under /a8. */
async function learnerDataDir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-snapinstall-'));
  fs.mkdirSync(path.join(dir, 'version-2'));
  await saveSnapshot(new DataTree(), dir, { fsync: true });
  const w = new TxnLogWriter(path.join(dir, 'version-2'), { preAllocSize: 0 });
  for (let i = 1; i <= 10; i++) w.appendTxn(hdr(zx(1, i)), create(`/a${i}`));
  w.rollLog();
  w.appendTxn(hdr(zx(3, 1)), create('/a8/x'));
  w.appendTxn(hdr(zx(3, 2)), create('/a8/y'));
  await w.close();
  return dir;
}

/** The leader's history: epoch 1 txns 1..5, then epoch 2 txns 1..3 (/b1../b3). */
function leaderTree(): DataTree {
  const t = new DataTree();
  for (let i = 1; i <= 5; i++) t.processTxn(hdr(zx(1, i)), create(`/a${i}`));
  for (let i = 1; i <= 3; i++) t.processTxn(hdr(zx(2, i)), create(`/b${i}`));
  return t;
}

const paths = (t: DataTree): string[] => [...t.nodes.keys()].filter((p) => !p.startsWith('/zookeeper')).sort();

describe('installing a SNAP on a learner, crash-safe (ZOOKEEPER-3642)', () => {
  it('a crash after dropping the foreign txns restarts from the learner\'s own consistent state', async () => {
    const dir = await learnerDataDir();
    const L = leaderTree();
    dropLogAfter(path.join(dir, 'version-2'), L.lastProcessedZxid);
    const r = await restore(dir, dir);
    expect(r.tree.lastProcessedZxid.toString(16)).toBe(zx(1, 10).toString(16));
    expect(paths(r.tree)).toEqual(['/', ...Array.from({ length: 10 }, (_, i) => `/a${i + 1}`)].sort());
  });

  it('a crash after the snapshot is written restarts with exactly the leader\'s tree', async () => {
    const dir = await learnerDataDir();
    const L = leaderTree();
    dropLogAfter(path.join(dir, 'version-2'), L.lastProcessedZxid);
    await saveSnapshot(L, dir, { fsync: true });
    const r = await restore(dir, dir);
    expect(r.tree.lastProcessedZxid.toString(16)).toBe(L.lastProcessedZxid.toString(16));
    expect(paths(r.tree)).toEqual(paths(L));
    expect(r.tree.treeDigest).toBe(L.treeDigest);
  });

  it('without dropping them first, the learner\'s epoch-3 txns would be replayed on the leader\'s snapshot (the hazard)', async () => {
    const dir = await learnerDataDir();
    const L = leaderTree();
    await saveSnapshot(L, dir, { fsync: true });
    const r = await restore(dir, dir);
    // restarted past the leader's snapshot, claiming txns the leader never had
    expect(r.tree.lastProcessedZxid.toString(16)).toBe(zx(3, 2).toString(16));
  });

  it('ZKDatabase.installSnapshot leaves the leader\'s tree, durable, and no log to replay', async () => {
    const dir = await learnerDataDir();
    const L = leaderTree();
    const db = new ZKDatabase(testConfig({ dataDir: dir, dataLogDir: dir }), pino({ level: 'silent' }));
    // as a learner does: the leader's stream written to the snapshot file while it is parsed
    const file = db.snapshotFileFor(L.lastProcessedZxid);
    const reader = new SnapStreamReader(L.lastProcessedZxid, undefined, { bodySink: (b) => file.write(b) });
    reader.push(serializeSnapStream(L));
    const received = reader.read()!;
    await db.installSnapshot(received, file);
    expect(fs.readdirSync(path.join(dir, 'version-2')).filter((f) => f.startsWith('log.'))).toEqual([]);
    const r = await restore(dir, dir);
    expect(r.tree.lastProcessedZxid.toString(16)).toBe(L.lastProcessedZxid.toString(16));
    expect(paths(r.tree)).toEqual(paths(L));
  });
});
