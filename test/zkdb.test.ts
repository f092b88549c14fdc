// ZKDatabase (src/quorum/zkdb.ts) on a peer's start: what it takes from the dataDir besides the tree.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMIT_LOG_COUNT, ZKDatabase } from '../src/quorum/zkdb';
import { readTxnLog, TxnLogWriter, writeSnapshot } from '../src/persistence';
import { DataTree } from '../src/data/datatree';
import { OpCode } from '../src/data/constants';
import { silentLogger } from '../src/server/cnxn';
import { testConfig } from './helpers/server';

const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** a dataDir: an empty snapshot at zxid 0, then `n` creates (zxids 1..n) in the txn log */
async function dataDirWithLog(n: number): Promise<{ dataDir: string; v2: string }> {
  const cfg = testConfig();
  const v2 = path.join(cfg.dataDir, 'version-2');
  fs.mkdirSync(v2, { recursive: true });
  const tree = new DataTree();
  tree.lastProcessedZxid = 0;
  await writeSnapshot(tree, v2, 0);
  const w = new TxnLogWriter(v2, { preAllocSize: 0 });
  for (let z = 1; z <= n; z++) {
    w.appendTxn(
      { clientId: 0x42n, cxid: z, zxid: z, time: 1_700_000_000_000 + z, type: OpCode.create },
      { type: OpCode.create, path: `/n${z}`, data: Buffer.from(`v${z}`), acl: ACL, ephemeral: false, parentCVersion: z },
    );
  }
  await w.close();
  return { dataDir: cfg.dataDir, v2 };
}

describe('ZKDatabase', () => {
  it('load keeps the last committed txns for DIFF syncs, byte for byte as logged, from the one replay', async () => {
    const N = 1200;
    const { dataDir, v2 } = await dataDirWithLog(N);
    const db = new ZKDatabase(testConfig({ dataDir }), silentLogger);
    const tree = await db.load();
    expect(tree.lastProcessedZxid).toBe(N);
    expect(tree.getNode(`/n${N}`)).toBeDefined();
    const window = db.committedLog();
    expect(window.map((t) => t.zxid)).toEqual(Array.from({ length: COMMIT_LOG_COUNT }, (_, i) => N - COMMIT_LOG_COUNT + 1 + i));
    const logged = new Map<number, Buffer>();
    for (const e of readTxnLog(v2, 1)) logged.set(e.hdr.zxid, e.entry);
    for (const t of window) expect(t.data.equals(logged.get(t.zxid)!)).toBe(true);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a peer process starting deletes the snapshot.<zxid>.tmp files an earlier process left by dying mid-write', async () => {
    const { dataDir, v2 } = await dataDirWithLog(3);
    fs.writeFileSync(path.join(v2, 'snapshot.2.tmp'), Buffer.alloc(1000, 7));
    const db = new ZKDatabase(testConfig({ dataDir }), silentLogger);
    expect(fs.readdirSync(v2).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(fs.readdirSync(v2).sort()).toEqual(['log.1', 'snapshot.0']);
    expect((await db.load()).lastProcessedZxid).toBe(3);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
