import { afterAll, beforeAll, afterEach, describe, expect, it } from 'vitest';
import * as fs from 'fs';
import { syncBuiltinESMExports } from 'node:module';
import * as os from 'os';
import * as path from 'path';
import { requireApacheZk, SKIP_REAL } from './helpers/peers';
import { prng } from '../src/quorum/zab/sim';
import { loggerOf } from '../src/util/log';
import { dumpZk, HELPER, java, killStarted, normJavaDump, startZk, stopZk } from './helpers/apache-zk';
import { TxnHeader, ACL } from '../src/jute/records';
import { DataTree, SYSTEM_PATHS } from '../src/data/datatree';
import { OpCode, ttlOwner, CONTAINER_EPHEMERAL_OWNER } from '../src/data/constants';
import { serializeTxn, Txn } from '../src/data/txn';
import {
  findValidSnapshots,
  getLastLoggedZxid,
  isValidSnapshot,
  killDeadSessions,
  PersistenceError,
  purge,
  readSnapshot,
  readSnapshotWithInfo,
  snapshotReadTuning,
  readSnapshotSync,
  readTxnLog,
  removeUnfinishedSnapshots,
  restore,
  snappyStreamDecode,
  snappyCompress,
  snappyUncompress,
  truncateLog,
  TxnLogWriter,
  writeSnapshot,
  adler32,
} from '../src/persistence';
import { Adler32 } from '../src/persistence/util';
import { startTestServer } from './helpers/server';
import { MiniClient } from './helpers/miniclient';

const tmpRoots: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-persist-'));
  tmpRoots.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpRoots) fs.rmSync(d, { recursive: true, force: true });
});

// ---- building trees and logs through txns ----
const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const SECRET: ACL[] = [
  { perms: 31, id: { scheme: 'digest', id: 'bob:fyVmFCwVbTJYrznoSu1koqYEYF0=' } },
  { perms: 1, id: { scheme: 'world', id: 'anyone' } },
];
const IPACL: ACL[] = [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.1' } }];
const S1 = 0x1000001aaaa0001n;
const S2 = 0x1000001aaaa0002n;

class Builder {
  zxid = 0;
  entries: { hdr: TxnHeader; txn: Txn }[] = [];
  constructor(readonly tree = new DataTree(), readonly writer?: TxnLogWriter) {}
  apply(txn: Txn, clientId = 0n): void {
    const hdr: TxnHeader = { clientId, cxid: this.zxid, zxid: ++this.zxid, time: 1700000000000 + this.zxid, type: txn.type };
    this.tree.processTxn(hdr, txn);
    this.entries.push({ hdr, txn });
    this.writer?.appendTxn(hdr, txn);
  }
  parentCv(p: string): number {
    const parent = this.tree.getNode(p.substring(0, p.lastIndexOf('/')) || '/')!;
    return parent.cversion + 1;
  }
  create(p: string, data: string | null, acl = OPEN, owner = 0n): void {
    this.apply(
      { type: OpCode.create, path: p, data: data === null ? null : Buffer.from(data), acl, ephemeral: owner !== 0n, parentCVersion: this.parentCv(p) },
      owner,
    );
  }
}

function populate(b: Builder): void {
  b.apply({ type: OpCode.createSession, timeOut: 30000 }, S1);
  b.apply({ type: OpCode.createSession, timeOut: 40000 }, S2);
  b.create('/x', 'y');
  b.create('/a', '');
  b.create('/a/b', 'bee');
  b.create('/a/b/c', null);
  b.create('/acl', 'secret', SECRET);
  b.apply({ type: OpCode.setData, path: '/x', data: Buffer.from('y2'), version: 1 });
  b.apply({ type: OpCode.setACL, path: '/a/b', acl: IPACL, version: 1 });
  b.apply({ type: OpCode.createContainer, path: '/cont', data: Buffer.from('c'), acl: OPEN, parentCVersion: b.parentCv('/cont') });
  b.create('/cont/child', 'cc');
  b.apply({ type: OpCode.createTTL, path: '/ttl', data: Buffer.from('t'), acl: OPEN, parentCVersion: b.parentCv('/ttl'), ttl: 3600000 });
  b.create('/eph', 'e', OPEN, S2);
  b.create('/eph1', 'e1', SECRET, S1);
  b.apply({
    type: OpCode.multi,
    txns: [
      { type: OpCode.create, path: '/m1', data: Buffer.from('m'), acl: OPEN, ephemeral: false, parentCVersion: b.parentCv('/m1') },
      { type: OpCode.setData, path: '/m1', data: Buffer.from('m2'), version: 1 },
      { type: OpCode.check, path: '/x', version: 1 },
    ],
  });
  b.apply({ type: OpCode.multi, txns: [{ type: OpCode.error, err: 0 }, { type: OpCode.error, err: -110 }] });
  b.create('/del', 'd');
  b.apply({ type: OpCode.delete, path: '/del' });
  b.apply({ type: OpCode.error, err: -101 });
  b.create('/bin', null);
  b.apply({ type: OpCode.setData, path: '/bin', data: Buffer.from([0, 1, 2, 255, 254]), version: 1 });
}

/** Canonical, comparable view of everything a snapshot carries. */
function canon(t: DataTree) {
  const nodes = [...t.nodes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([p, n]) => ({
      p,
      data: n.data === null ? null : n.data.toString('hex'),
      f: [n.czxid, n.mzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, n.ephemeralOwner.toString(16), n.pzxid],
      acl: JSON.stringify(t.aclOf(n)),
      kids: [...n.childNames()].sort(),
    }));
  return {
    nodes,
    sessions: [...t.sessions.entries()].map(([k, v]) => `${k.toString(16)}=${v}`).sort(),
    eph: [...t.ephemerals.entries()].map(([k, v]) => `${k.toString(16)}:${[...v].sort().join(',')}`).sort(),
    containers: [...t.containers].sort(),
    ttls: [...t.ttls].sort(),
    zxid: t.lastProcessedZxid,
  };
}

/** Same format as test/helpers/persistence-zkclient.java `dump`. */
function clientDump(t: DataTree): string[] {
  const out: string[] = [];
  const visit = (p: string) => {
    const n = t.getNode(p)!;
    const s = n.stat();
    let data = n.data === null ? 'null' : n.data.toString('hex');
    if (SYSTEM_PATHS.has(p) && data === 'null') data = '';
    const acl = t.aclOf(n).map((a) => `${a.perms},${a.id.scheme},${a.id.id};`).join('');
    out.push(
      `${p}\t${data}\t${[s.czxid, s.mzxid, s.ctime, s.mtime, s.version, s.cversion, s.aversion, s.ephemeralOwner, s.dataLength, s.numChildren, s.pzxid].join(',')}\t${acl}`,
    );
    for (const c of [...n.childNames()].sort()) visit(p === '/' ? `/${c}` : `${p}/${c}`);
  };
  visit('/');
  return out;
}
function v2(d: string): string {
  const p = path.join(d, 'version-2');
  fs.mkdirSync(p, { recursive: true });
  return p;
}

// ---------------------------------------------------------------------------------------------
describe('Adler-32 (the seals of snapshots and txn records)', () => {
  it('equals the byte-at-a-time definition for any input and any split into updates', () => {
    const byDefinition = (buf: Uint8Array): number => {
      let a = 1;
      let b = 0;
      for (const x of buf) {
        a = (a + x) % 65521;
        b = (b + a) % 65521;
      }
      return b * 65536 + a;
    };
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398);
    const rnd = prng(16);
    for (let k = 0; k < 200; k++) {
      const n = Math.floor(rnd() * 20000);
      // all 0xff is the largest the running sums can get between two reductions
      const buf = k % 4 === 0 ? Buffer.alloc(n, 0xff) : Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
      const crc = new Adler32();
      for (let i = 0; i < n; ) {
        const j = Math.min(n, i + Math.floor(rnd() * 9000));
        crc.update(buf, i, j);
        i = j;
      }
      expect(crc.value, `${n} bytes`).toBe(byDefinition(buf));
    }
  });
});

describe('snapshot', () => {
  it.each(['', 'gz', 'snappy'] as const)('round-trips a tree of all node kinds (compression "%s")', async (compression) => {
    const b = new Builder();
    populate(b);
    const dir = v2(tmpDir());
    const f = await writeSnapshot(b.tree, dir, b.tree.lastProcessedZxid, { compression, fsync: true });
    expect(path.basename(f)).toBe(`snapshot.${b.zxid.toString(16)}${compression ? '.' + compression : ''}`);
    expect(fs.existsSync(f + '.tmp')).toBe(false);
    expect(isValidSnapshot(f)).toBe(true);
    const back = await readSnapshot(f);
    expect(canon(back)).toEqual(canon(b.tree));
    expect(canon(readSnapshotSync(f))).toEqual(canon(b.tree));
    expect(back.containers.has('/cont')).toBe(true);
    expect(back.ttls.has('/ttl')).toBe(true);
    expect(back.ephemerals.get(S2)).toEqual(new Set(['/eph']));
    expect(back.getNode('/a/b/c')!.data).toBeNull();
    // the ACL cache keeps working after a load: a new list gets a fresh ref
    const refs = [...back.acls.byRef.keys()];
    const r = back.acls.ref([{ perms: 3, id: { scheme: 'world', id: 'anyone' } }]);
    expect(refs).not.toContain(r);
  });

  it('writes the exact 3.8 layout (header, seals, zero digest)', async () => {
    const t = new DataTree();
    const dir = v2(tmpDir());
    const f = await writeSnapshot(t, dir, 0, { compression: '' });
    const buf = fs.readFileSync(f);
    expect(buf.subarray(0, 16).toString('hex')).toBe('5a4b534e00000002ffffffffffffffff');
    // tail: seal1(long, "/") + ZxidDigest(0,2,0) + seal2(long, "/")
    const tail = buf.subarray(buf.length - 46);
    const seal1At = buf.length - 46;
    expect(tail.readBigInt64BE(0)).toBe(BigInt(adler32(buf, 0, seal1At)));
    expect(tail.subarray(8, 13).toString('hex')).toBe('000000012f');
    expect(tail.subarray(13, 33).toString('hex')).toBe('0000000000000000' + '00000002' + '0000000000000000');
    expect(tail.readBigInt64BE(33)).toBe(BigInt(adler32(buf, 0, buf.length - 13)));
    expect(tail.subarray(41).toString('hex')).toBe('000000012f');
    expect(path.basename(f)).toBe('snapshot.0');
  });

  it('detects CRC corruption and the validity pre-check', async () => {
    const b = new Builder();
    populate(b);
    const dir = v2(tmpDir());
    const f = await writeSnapshot(b.tree, dir, 5, {});
    const buf = fs.readFileSync(f);
    buf[100] ^= 0x01;
    fs.writeFileSync(f, buf);
    await expect(readSnapshot(f)).rejects.toThrow(/CRC corruption|snapshot/);
    fs.writeFileSync(path.join(dir, 'snapshot.zz'), 'garbage');
    fs.writeFileSync(path.join(dir, 'snapshot.7'), Buffer.from('0000000000000000000000012f', 'hex'));
    fs.writeFileSync(path.join(dir, 'snapshot.8'), Buffer.from('short'));
    fs.writeFileSync(path.join(dir, 'snapshot.9.gz'), Buffer.from([0x1f, 0x8b, 0]));
    fs.writeFileSync(path.join(dir, 'snapshot.a.snappy'), Buffer.from('nope nope'));
    expect(isValidSnapshot(path.join(dir, 'snapshot.zz'))).toBe(false);
    expect(findValidSnapshots(dir, 10).map((p) => path.basename(p))).toEqual(['snapshot.9.gz', 'snapshot.7', 'snapshot.5']);
    expect(findValidSnapshots(dir, 2).map((p) => path.basename(p))).toEqual(['snapshot.9.gz', 'snapshot.7']);
  });

  it('a file read in small pieces while it is parsed (records cut at every piece end) loads the same tree; cut short, it fails', async () => {
    const b = new Builder();
    populate(b);
    for (let i = 0; i < 3000; i++) b.tree.createNode(`/bulk${i}`, Buffer.alloc(i % 300, i & 0xff), OPEN, 0n, -1, b.zxid + 1 + i, i);
    b.tree.lastProcessedZxid = b.zxid + 3000;
    const dir = v2(tmpDir());
    const f = await writeSnapshot(b.tree, dir, b.tree.lastProcessedZxid, { compression: '' });
    const size = fs.statSync(f).size;
    const whole = await readSnapshotWithInfo(f);
    const saved = snapshotReadTuning.pieceBytes;
    try {
      for (const piece of [7, 333, 4096]) {
        snapshotReadTuning.pieceBytes = piece;
        const { tree, info } = await readSnapshotWithInfo(f);
        expect(canon(tree)).toEqual(canon(b.tree));
        expect(tree.treeDigest).toBe(whole.tree.treeDigest);
        expect(info.nodeCount).toBe(whole.info.nodeCount);
      }
      // a copy cut inside the znode records, and one cut inside the seals: errors, not a tree or a hang
      for (const cut of [Math.floor(size / 2), size - 20]) {
        const short = path.join(dir, `snapshot.${(b.tree.lastProcessedZxid + cut).toString(16)}`);
        fs.writeFileSync(short, fs.readFileSync(f).subarray(0, cut));
        snapshotReadTuning.pieceBytes = 333;
        await expect(readSnapshotWithInfo(short)).rejects.toThrow(/truncated|CRC|snapshot/);
      }
    } finally {
      snapshotReadTuning.pieceBytes = saved;
    }
  });

  it('a tree loaded from a fuzzy snapshot, written again before its log is replayed, keeps the znodes newer than its zxid', async () => {
    // ZooKeeper's fuzzy snapshot.32 may hold znodes created by txns 0x33-0x64; loaded, the tree's
    // lastProcessedZxid is 0x32 until the log is replayed
    const t = new DataTree();
    for (let z = 1; z <= 100; z++) t.createNode(`/n${z}`, Buffer.from('v'), OPEN, 0n, -1, z, z);
    const dir = v2(tmpDir());
    const first = await writeSnapshot(t, dir, 100);
    const loaded = await readSnapshot(first);
    loaded.lastProcessedZxid = 0x32;
    const again = await readSnapshot(await writeSnapshot(loaded, v2(tmpDir()), 0x32));
    expect(again.nodeCount).toBe(t.nodeCount);
    expect(again.getNode('/n100')).toBeDefined();
  });

  it('by default writes in time slices: the event loop turns during a 100k-znode write, and the file reads back whole', async () => {
    const t = new DataTree();
    let z = 0;
    const h = (type: number): TxnHeader => ({ clientId: 0n, cxid: 0, zxid: ++z, time: z, type });
    for (let i = 0; i < 100; i++) {
      t.processTxn(h(OpCode.create), { type: OpCode.create, path: `/s${i}`, data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
      for (let j = 0; j < 1000; j++) {
        t.processTxn(h(OpCode.create), { type: OpCode.create, path: `/s${i}/n${j}`, data: Buffer.alloc(30, j), acl: OPEN, ephemeral: false, parentCVersion: -1 });
      }
    }
    const dir = v2(tmpDir());
    let turns = 0;
    const timer = setInterval(() => turns++, 0);
    const f = await writeSnapshot(t, dir, t.lastProcessedZxid);
    clearInterval(timer);
    expect(turns).toBeGreaterThan(1);
    const back = await readSnapshot(f);
    expect(back.nodeCount).toBe(t.nodeCount);
    expect(back.treeDigest).toBe(t.treeDigest);
  });

  it('does not block the event loop for a big tree and tolerates concurrent changes (fuzzy)', async () => {
    const t = new DataTree();
    let z = 0;
    const h = (type: number): TxnHeader => ({ clientId: 0n, cxid: 0, zxid: ++z, time: z, type });
    for (let i = 0; i < 200; i++) {
      t.processTxn(h(OpCode.create), { type: OpCode.create, path: `/d${i}`, data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
      for (let j = 0; j < 100; j++) {
        t.processTxn(h(OpCode.create), { type: OpCode.create, path: `/d${i}/n${j}`, data: Buffer.alloc(20, j), acl: OPEN, ephemeral: false, parentCVersion: -1 });
      }
    }
    const dir = v2(tmpDir());
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const snapZxid = t.lastProcessedZxid;
    const p = writeSnapshot(t, dir, snapZxid, { yieldEvery: 500 });
    // mutate while writing, with a brand-new ACL list
    await new Promise((r) => setImmediate(r));
    const late: [TxnHeader, Txn][] = [
      [h(OpCode.create), { type: OpCode.create, path: '/late', data: null, acl: IPACL, ephemeral: false, parentCVersion: -1 }],
      [h(OpCode.delete), { type: OpCode.delete, path: '/d199/n99' }],
      // already written (the first yield comes after 500 znodes), deleted and created again: the
      // map moves it to its end, where the walk meets it a second time; it must not be written twice
      [h(OpCode.delete), { type: OpCode.delete, path: '/d0/n1' }],
      [h(OpCode.create), { type: OpCode.create, path: '/d0/n1', data: Buffer.from('again'), acl: OPEN, ephemeral: false, parentCVersion: 101 }],
      // not written yet: gone, then back, with a new child under a parent not written yet either
      // (creates carry the parent's new cversion, as the leader's txns do, so replaying them on a
      // parent written after them changes nothing)
      [h(OpCode.delete), { type: OpCode.delete, path: '/d150/n5' }],
      [h(OpCode.create), { type: OpCode.create, path: '/d150/n5', data: Buffer.from('back'), acl: OPEN, ephemeral: false, parentCVersion: 101 }],
      [h(OpCode.create), { type: OpCode.create, path: '/d150/new', data: null, acl: OPEN, ephemeral: false, parentCVersion: 102 }],
    ];
    const lateDigests = late.map(([hd, tx]) => (t.processTxn(hd, tx), t.treeDigest));
    const f = await p;
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    const { tree: back, info } = await readSnapshotWithInfo(f);
    expect(back.nodeCount).toBeGreaterThan(20000);
    expect(info.nodeCount).toBe(back.nodeCount); // as many records as znodes: none written twice
    expect(back.getNode('/late')).toBeUndefined(); // new ACL ref not in the map: left to log replay
    for (const n of back.nodes.values()) if (n.aclRef !== -1) expect(back.acls.byRef.has(n.aclRef)).toBe(true);
    // the snapshot recorded the digest at the end of the write, past its own zxid: it is checked
    // once replaying the log reaches that zxid
    expect(back.digestFromLoadedSnapshot).toMatchObject({ zxid: z, digest: t.treeDigest });
    late.forEach(([hd, tx], i) => back.processTxn(hd, tx, { version: 2, treeDigest: lateDigests[i] }));
    expect(back.digestFromLoadedSnapshot).toBeNull();
    expect(back.digestMismatches).toBe(0);
    expect(back.treeDigest).toBe(t.treeDigest);
    expect(back.nodeCount).toBe(t.nodeCount);
    expect(back.getNode('/d0/n1')?.raw).toBe('again');
    expect(back.getNode('/d150/n5')?.raw).toBe('back');
    expect([...back.getNode('/d150')!.childNames()].sort()).toEqual([...t.getNode('/d150')!.childNames()].sort());
  });
});

// ---------------------------------------------------------------------------------------------
describe('txn log', () => {
  it('appends, group-commits and reads back; file naming, header and preallocation', async () => {
    const dir = v2(tmpDir());
    const w = new TxnLogWriter(dir, { preAllocSize: 64 * 1024 });
    const b = new Builder(new DataTree(), w);
    populate(b);
    await w.commit();
    const f = path.join(dir, 'log.1');
    const buf = fs.readFileSync(f);
    expect(buf.subarray(0, 16).toString('hex')).toBe('5a4b4c47000000020000000000000000');
    expect(buf.length % (64 * 1024)).toBe(16); // preallocated: 16 + n * preAlloc (FilePadding)
    const read = [...readTxnLog(dir, 0)];
    expect(read.map((e) => e.hdr)).toEqual(b.entries.map((e) => e.hdr));
    expect(read.map((e) => e.entry.toString('hex'))).toEqual(b.entries.map((e) => serializeTxn(e.hdr, e.txn).toString('hex')));
    expect(read[3].txn).toEqual(b.entries[3].txn);
    expect(getLastLoggedZxid(dir)).toBe(b.zxid);
    expect([...readTxnLog(dir, 10)].map((e) => e.hdr.zxid)[0]).toBe(10);
    // the exact createSession record of the doc example layout
    const rec = buf.subarray(16, 16 + 13 + 36);
    expect(rec.readInt32BE(8)).toBe(36);
    expect(rec[rec.length - 1]).toBe(0x42);
    expect(rec.readBigInt64BE(0)).toBe(BigInt(adler32(rec.subarray(12, 48))));
    await w.close();
  });

  it('group commit: many appends, one durable (O_DSYNC) write off the event loop; appends during a flush go to the next one', async () => {
    const dir = v2(tmpDir());
    const w = new TxnLogWriter(dir, { preAllocSize: 0 });
    const b = new Builder(new DataTree(), w);
    for (let i = 0; i < 1000; i++) b.create(`/n${i}`, 'v');
    const writes: number[] = [];
    const syncWrites: number[] = [];
    const syncs: number[] = [];
    const opens: number[] = [];
    // count record writes (fs.write: async, in the thread pool; fs.writeSync would block the
    // event loop on a stalled disk), fdatasyncs, and the flags the log file is opened with
    const cjsFs = require('node:fs') as typeof fs;
    const orig = { write: cjsFs.write, writeSync: cjsFs.writeSync, fdatasync: cjsFs.fdatasync, open: cjsFs.open };
    cjsFs.write = function (this: unknown, ...args: unknown[]) {
      writes.push(args[3] as number);
      return (orig.write as (...a: unknown[]) => void).apply(this, args);
    } as typeof fs.write;
    cjsFs.writeSync = function (this: unknown, ...args: unknown[]) {
      syncWrites.push(1);
      return (orig.writeSync as (...a: unknown[]) => number).apply(this, args);
    } as typeof fs.writeSync;
    cjsFs.fdatasync = function (this: unknown, ...args: unknown[]) {
      syncs.push(1);
      return (orig.fdatasync as (...a: unknown[]) => void).apply(this, args);
    } as typeof fs.fdatasync;
    cjsFs.open = function (this: unknown, ...args: unknown[]) {
      opens.push(args[1] as number);
      return (orig.open as (...a: unknown[]) => void).apply(this, args);
    } as typeof fs.open;
    syncBuiltinESMExports();
    try {
      const c1 = w.commit();
      for (let i = 1000; i < 1100; i++) b.create(`/n${i}`, 'v'); // during the in-flight flush
      const c2 = w.commit();
      const c3 = w.commit(); // coalesces with c2
      await Promise.all([c1, c2, c3]);
    } finally {
      Object.assign(cjsFs, orig);
      syncBuiltinESMExports();
    }
    // flush 1: header + 1000 records; flush 2: 100 records; the file is O_DSYNC, so no fdatasync
    expect(writes.length).toBe(3);
    expect(writes[0]).toBe(16);
    expect(syncWrites.length).toBe(0);
    expect(syncs.length).toBe(0);
    expect(opens.length).toBe(1);
    expect(opens[0] & fs.constants.O_DSYNC).toBe(fs.constants.O_DSYNC);
    expect(w.pendingCount).toBe(0);
    expect([...readTxnLog(dir, 0)].length).toBe(1100);
    await w.close();
  });

  it('records framed in place: entries and txns mixed over flushes in flight, rolls and a 2 MB burst read back byte for byte; a txn that fails to serialize leaves nothing', async () => {
    const dir = v2(tmpDir());
    const w = new TxnLogWriter(dir, { preAllocSize: 16 * 1024 });
    const rand = prng(7);
    const want: { zxid: number; entry: Buffer }[] = [];
    let zxid = 0;
    const one = (): void => {
      const hdr: TxnHeader = { clientId: 5n, cxid: zxid, zxid: ++zxid, time: 1700000000000 + zxid, type: OpCode.create };
      const data = Buffer.alloc(Math.floor(rand() * 3000), zxid & 0xff);
      const txn: Txn = { type: OpCode.create, path: `/n${zxid}`, data, acl: OPEN, ephemeral: false, parentCVersion: zxid };
      const digest = { version: 2, treeDigest: BigInt(zxid) * 0x123456789n };
      const entry = serializeTxn(hdr, txn, digest);
      // the quorum path hands an entry already serialized; standalone serializes it in place
      if (rand() < 0.5) w.append(entry, zxid);
      else w.appendTxn(hdr, txn, digest);
      want.push({ zxid, entry });
    };
    const flushes: Promise<void>[] = [];
    for (let round = 0; round < 40; round++) {
      const n = round === 20 ? 1500 : Math.floor(rand() * 30); // round 20: a segment over the spare's 1 MB
      for (let i = 0; i < n; i++) one();
      if (round % 7 === 3) w.rollLog();
      flushes.push(w.commit()); // not awaited: the next round appends while it is written
      if (round % 5 === 0) await flushes[flushes.length - 1];
    }
    // a txn that cannot be serialized throws, and neither it nor a half of it is written
    // (its path is written before its data turns out not to be bytes)
    const bad = { type: OpCode.create, path: '/bad', data: 42, acl: OPEN, ephemeral: false, parentCVersion: 0 } as unknown as Txn;
    const badHdr: TxnHeader = { clientId: 0n, cxid: 0, zxid: zxid + 1, time: 0, type: OpCode.create };
    expect(() => w.appendTxn(badHdr, bad)).toThrow();
    one(); // in the same segment as the failed one
    w.rollLog();
    badHdr.zxid = zxid + 1;
    expect(() => w.appendTxn(badHdr, bad)).toThrow();
    one(); // the first of a segment that the failed one would have opened
    await Promise.all(flushes);
    await w.close();
    const read = [...readTxnLog(dir, 0)];
    expect(read.map((e) => e.hdr.zxid)).toEqual(want.map((e) => e.zxid));
    read.forEach((e, i) => expect(e.entry.equals(want[i].entry), `zxid ${e.hdr.zxid}`).toBe(true));
    // the last roll's file is named by the txn that followed the failed one
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('log.')).sort((a, b) => parseInt(a.slice(4), 16) - parseInt(b.slice(4), 16)).at(-1)).toBe(`log.${zxid.toString(16)}`);
  });

  it('rollLog starts a new file; reading from a zxid selects files like FileTxnLog.getLogFiles', async () => {
    const dir = v2(tmpDir());
    const w = new TxnLogWriter(dir, { preAllocSize: 4096 });
    const b = new Builder(new DataTree(), w);
    for (let i = 0; i < 5; i++) b.create(`/a${i}`, 'v');
    await w.commit();
    w.rollLog();
    for (let i = 0; i < 5; i++) b.create(`/b${i}`, 'v');
    w.rollLog();
    for (let i = 0; i < 5; i++) b.create(`/c${i}`, 'v');
    await w.commit();
    await w.close();
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('log.')).sort()).toEqual(['log.1', 'log.6', 'log.b']);
    expect([...readTxnLog(dir, 7)].map((e) => e.hdr.zxid)).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect([...readTxnLog(dir, 0)].length).toBe(15);
    expect([...readTxnLog(dir, 16)].length).toBe(0);
    expect(getLastLoggedZxid(dir)).toBe(15);
    // truncate to 8: keep log.1 and log.6 up to zxid 8, drop log.b
    expect(truncateLog(dir, 8)).toBe(true);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('log.')).sort()).toEqual(['log.1', 'log.6']);
    expect([...readTxnLog(dir, 0)].map((e) => e.hdr.zxid).at(-1)).toBe(8);
    expect(getLastLoggedZxid(dir)).toBe(8);
  });

  it('ignores a torn final record (incomplete, or CRC mismatch in the last record of the last file)', async () => {
    const dir = v2(tmpDir());
    const w = new TxnLogWriter(dir, { preAllocSize: 0 });
    const b = new Builder(new DataTree(), w);
    for (let i = 0; i < 3; i++) b.create(`/n${i}`, 'value');
    await w.close();
    const f = path.join(dir, 'log.1');
    const good = fs.readFileSync(f);
    const warnings: string[] = [];
    const logger = loggerOf((lvl, m) => void (lvl === 'warn' && warnings.push(m)));
    // incomplete record appended at the end
    const extra = serializeTxn({ clientId: 0n, cxid: 0, zxid: 4, time: 4, type: OpCode.delete }, { type: OpCode.delete, path: '/n0' });
    const partial = Buffer.alloc(12 + 10);
    partial.writeUInt32BE(adler32(extra), 4);
    partial.writeInt32BE(extra.length, 8);
    extra.copy(partial, 12, 0, 10);
    fs.writeFileSync(f, Buffer.concat([good, partial]));
    expect([...readTxnLog(dir, 0, { logger })].length).toBe(3);
    expect(warnings.join('\n')).toMatch(/torn/);
    // CRC mismatch in the last record, followed by preallocated zeros
    const bad = Buffer.from(good);
    bad[bad.length - 3] ^= 0xff; // inside the last entry's body
    fs.writeFileSync(f, Buffer.concat([bad, Buffer.alloc(100)]));
    warnings.length = 0;
    expect([...readTxnLog(dir, 0, { logger })].map((e) => e.hdr.zxid)).toEqual([1, 2]);
    expect(warnings.join('\n')).toMatch(/torn final record.*CRC/);
    // a missing end-of-record byte ends the file silently
    fs.writeFileSync(f, Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([0])]));
    expect([...readTxnLog(dir, 0)].length).toBe(2);
  });

  it('reports CRC corruption in a middle record with file and offset', async () => {
    const dir = v2(tmpDir());
    const w = new TxnLogWriter(dir, { preAllocSize: 0 });
    const b = new Builder(new DataTree(), w);
    for (let i = 0; i < 3; i++) b.create(`/n${i}`, 'value');
    w.rollLog();
    b.create('/later', 'v');
    await w.close();
    const f = path.join(dir, 'log.1');
    const buf = fs.readFileSync(f);
    const firstLen = buf.readInt32BE(16 + 8);
    const second = 16 + 13 + firstLen;
    buf[second + 12 + 5] ^= 0x40;
    fs.writeFileSync(f, buf);
    let err: unknown;
    try {
      [...readTxnLog(dir, 0)];
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PersistenceError);
    expect((err as PersistenceError).file).toBe(f);
    expect((err as PersistenceError).offset).toBe(second);
    expect((err as Error).message).toContain(`CRC check failed in ${f} at offset ${second}`);
    // even the last record of a file is fatal when a later file exists
    const buf2 = fs.readFileSync(f);
    buf2[second + 12 + 5] ^= 0x40; // repair
    buf2[buf2.length - 3] ^= 0xff;
    fs.writeFileSync(f, buf2);
    expect(() => [...readTxnLog(dir, 0)]).toThrow(/CRC check failed/);
  });
});

// ---------------------------------------------------------------------------------------------
describe('restore and purge', () => {
  it('a server starting deletes the snapshot.*.tmp files a process that died mid-write left, nothing else', async () => {
    const { startTestServer } = await import('./helpers/server');
    const d = tmpDir();
    const v = v2(d);
    const f = await writeSnapshot(new DataTree(), v, 5, { compression: '' });
    fs.copyFileSync(f, path.join(v, 'snapshot.9.tmp')); // whole but never renamed
    fs.writeFileSync(path.join(v, 'snapshot.a.gz.tmp'), 'cut short');
    fs.writeFileSync(path.join(v, 'snapshottmp'), 'not ours');
    const before = fs.readdirSync(v).sort();
    const s = await startTestServer({ dataDir: d, dataLogDir: d });
    try {
      const after = fs.readdirSync(v);
      expect(after).not.toContain('snapshot.9.tmp');
      expect(after).not.toContain('snapshot.a.gz.tmp');
      // everything else stays (and restore took snapshot.5, not the unfinished ones)
      for (const name of before.filter((n) => !n.endsWith('.tmp'))) expect(after).toContain(name);
      expect(s.zk.tree.lastProcessedZxid).toBe(5);
    } finally {
      await s.stop();
    }
    expect(removeUnfinishedSnapshots(v)).toEqual([]);
  });

  it('empty dirs: fresh tree at zxid 0 and snapshot.0', async () => {
    const d = tmpDir();
    const r = await restore(d, d);
    expect(r.lastZxid).toBe(0);
    expect(fs.existsSync(path.join(d, 'version-2', 'snapshot.0'))).toBe(true);
    expect(r.tree.getNode('/zookeeper/config')).toBeDefined();
    const r2 = await restore(d, d, undefined, { autoCreateDb: false });
    expect(r2.snapshotFile).toMatch(/snapshot\.0$/);
  });

  it('no snapshot but logs is an error unless trust-empty', async () => {
    const d = tmpDir();
    const w = new TxnLogWriter(v2(d), { preAllocSize: 0 });
    const b = new Builder(new DataTree(), w);
    populate(b);
    await w.close();
    await expect(restore(d, d)).rejects.toThrow('No snapshot found, but there are log entries. Something is broken!');
    const r = await restore(d, d, undefined, { trustEmptySnapshot: true });
    expect(canon(r.tree)).toEqual(canon(b.tree));
  });

  it('snapshot + log replay (fuzzy), falls back to an older snapshot, separate dataLogDir, purge', async () => {
    const dataDir = tmpDir();
    const logRoot = tmpDir();
    const logs: string[] = [];
    const logger = loggerOf((_l, m) => void logs.push(m));
    const w = new TxnLogWriter(v2(logRoot), { preAllocSize: 8192 });
    const b = new Builder(new DataTree(), w);
    const snapDir = v2(dataDir);
    await writeSnapshot(b.tree, snapDir, 0, {});
    populate(b);
    await w.commit();
    w.rollLog();
    const mid = b.tree.lastProcessedZxid;
    const sp = writeSnapshot(b.tree, snapDir, mid, { compression: 'gz' });
    for (let i = 0; i < 50; i++) b.create(`/after${i}`, `v${i}`, i % 2 ? SECRET : OPEN, i % 5 === 0 ? S1 : 0n);
    b.apply({ type: OpCode.closeSession, paths: null }, S1);
    await sp;
    await w.close();
    const r = await restore(dataDir, logRoot, logger);
    expect(r.snapshotFile).toMatch(/snapshot\.[0-9a-f]+\.gz$/);
    expect(r.txnsReplayed).toBe(51);
    expect(canon(r.tree)).toEqual(canon(b.tree));
    expect(logs.some((m) => /Read snapshot .* nodes/.test(m))).toBe(true);
    // corrupt the newest snapshot -> falls back to snapshot.0 + full log
    const newest = findValidSnapshots(snapDir, 1)[0];
    const gz = fs.readFileSync(newest);
    fs.writeFileSync(newest, Buffer.concat([gz.subarray(0, 20), Buffer.alloc(10), gz.subarray(30)]));
    logs.length = 0;
    const r2 = await restore(dataDir, logRoot, logger);
    expect(logs.some((m) => m.includes(`problem reading snap file ${newest}`))).toBe(true);
    expect(r2.snapshotFile).toMatch(/snapshot\.0$/);
    expect(canon(r2.tree)).toEqual(canon(b.tree));
    // misplaced files
    fs.writeFileSync(path.join(logRoot, 'version-2', 'snapshot.1'), '');
    await expect(restore(dataDir, logRoot)).rejects.toThrow('Log directory has snapshot files');
    fs.unlinkSync(path.join(logRoot, 'version-2', 'snapshot.1'));
    // purge: keep 3 newest valid snapshots and the logs needed for the oldest of them
    fs.unlinkSync(newest);
    const zs = [mid + 10, mid + 20, mid + 30, mid + 40];
    for (const z of zs) await writeSnapshot(b.tree, snapDir, z, {});
    const deleted = purge(dataDir, logRoot, 3).map((p) => path.basename(p)).sort();
    expect(deleted).toEqual(['log.1', 'snapshot.0', `snapshot.${(mid + 10).toString(16)}`].sort());
    expect(fs.readdirSync(path.join(logRoot, 'version-2'))).toEqual([`log.${(mid + 1).toString(16)}`]);
    expect(() => purge(dataDir, logRoot, 2)).toThrow(/greater than or equal to 3/);
  });

  it('a clean stop writes a snapshot of what was applied, so the next start replays no log; a stop with nothing new writes none', async () => {
    const dataDir = tmpDir();
    const v = path.join(dataDir, 'version-2');
    let s = await startTestServer({ dataDir, dataLogDir: dataDir, snapCount: 1_000_000 });
    const c = await MiniClient.connect(s.port);
    for (let i = 0; i < 300; i++) expect(await c.create(`/n${i}`, Buffer.from(`v${i}`))).toBe(0);
    c.close();
    await s.stop();
    const last = getLastLoggedZxid(v);
    const snaps = findValidSnapshots(v, 10);
    // snapshot.0 from the empty start, and the one the stop wrote, at the last zxid applied
    expect(snaps.map((f) => path.basename(f))).toEqual([`snapshot.${last.toString(16)}`, 'snapshot.0']);
    const r = await restore(dataDir, dataDir);
    expect(r.txnsReplayed).toBe(0);
    expect(r.tree.getNode('/n299')!.data!.toString()).toBe('v299');
    // started and stopped again with no write: no new snapshot
    s = await startTestServer({ dataDir, dataLogDir: dataDir, snapCount: 1_000_000 });
    await s.stop();
    expect(findValidSnapshots(v, 10).length).toBe(2);
    // without a clean stop (the snapshot files of the stop removed: a crash before it) the log
    // after snapshot.0 still restores everything
    fs.unlinkSync(snaps[0]);
    const r2 = await restore(dataDir, dataDir);
    expect(r2.txnsReplayed).toBeGreaterThanOrEqual(300);
    expect(r2.tree.getNode('/n299')!.data!.toString()).toBe('v299');
  });

  it('standalone rolls its log and snapshots in the background every ~snapCount txns (the Snapshotter the quorum peers share)', async () => {
    const dataDir = tmpDir();
    const v = path.join(dataDir, 'version-2');
    const s = await startTestServer({ dataDir, dataLogDir: dataDir, snapCount: 40 });
    const c = await MiniClient.connect(s.port);
    // one at a time, so that each background snapshot (a few ms) is done before the next roll
    for (let i = 0; i < 300; i++) expect(await c.create(`/p${i}`, Buffer.from(`v${i}`))).toBe(0);
    c.close();
    // a roll every 21-40 txns: at least 300 / 40 of each, past snapshot.0
    const snaps = findValidSnapshots(v, 100);
    const logs = fs.readdirSync(v).filter((f) => f.startsWith('log.'));
    expect(snaps.length).toBeGreaterThanOrEqual(7);
    expect(logs.length).toBeGreaterThanOrEqual(7);
    // a crash now (no shutdown snapshot): the newest periodic snapshot plus the log after it
    const r = await restore(dataDir, dataDir);
    expect(r.snapshotZxid).toBeGreaterThan(200);
    expect(r.txnsReplayed).toBeLessThan(80);
    expect(r.tree.getNode('/p299')!.data!.toString()).toBe('v299');
    await s.stop();
  });

  it('killDeadSessions removes ephemerals of sessions missing from the session map', () => {
    const b = new Builder();
    populate(b);
    b.tree.sessions.delete(S2);
    expect(killDeadSessions(b.tree)).toEqual([S2]);
    expect(b.tree.getNode('/eph')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Interop with Apache ZooKeeper 3.8 (Debian package)
afterEach(async () => {
  await killStarted();
});

describe.skipIf(SKIP_REAL)('interop with Apache ZooKeeper 3.8', () => {
  beforeAll(() => requireApacheZk());
  it.each(['', 'gz', 'snappy'] as const)('SnapshotFormatter reads our snapshot (compression "%s")', async (compression) => {
    const b = new Builder();
    populate(b);
    const dir = v2(tmpDir());
    const f = await writeSnapshot(b.tree, dir, b.zxid, { compression });
    const r = await java(['org.apache.zookeeper.server.SnapshotFormatter', f]);
    expect(r.stderr).not.toMatch(/Exception|invalid|corrupt/i);
    expect(r.code).toBe(0);
    for (const p of ['/x', '/a/b/c', '/acl', '/cont/child', '/ttl', '/eph', '/m1', '/bin', '/zookeeper/config']) {
      expect(r.stdout).toContain(`\n${p}\n`);
    }
    expect(r.stdout).toMatch(/ZNode Details \(count=(\d+)\)/);
    // Java's DataTree keeps the root under both "" and "/", so its count is one higher
    expect(Number(/ZNode Details \(count=(\d+)\)/.exec(r.stdout)![1])).toBe(b.tree.nodeCount + 1);
    expect(r.stdout).toContain(`0x${S2.toString(16)}`);
    expect(r.stdout).toContain('ephemeralOwner = 0x' + S2.toString(16));
  });

  it('TxnLogToolkit reads our txn log', async () => {
    const dir = v2(tmpDir());
    const w = new TxnLogWriter(dir, { preAllocSize: 65536 });
    const b = new Builder(new DataTree(), w);
    populate(b);
    await w.close();
    const r = await java(['org.apache.zookeeper.server.persistence.TxnLogToolkit', path.join(dir, 'log.1')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`EOF reached after ${b.entries.length} txns.`);
    expect(r.stdout).toMatch(/createSession/);
    expect(r.stdout).toMatch(/zxid 0x1 createSession/);
    expect(r.stdout).toContain('/a/b/c');
    expect(r.stdout).toMatch(/multi/);
    expect(r.stdout).not.toMatch(/CRC/);
  });

  it('restores a data dir written by the real ZooKeeper server (snapshot + log with digests)', async () => {
    const root = tmpDir();
    const dataDir = path.join(root, 'data');
    fs.mkdirSync(dataDir);
    let s = await startZk(dataDir);
    const pop = await java([HELPER, 'populate', `127.0.0.1:${s.port}`]);
    expect(pop.code, pop.stderr).toBe(0);
    await stopZk(s);
    // restart: loadData writes snapshot.<lastZxid> with content
    s = await startZk(dataDir);
    const javaView = normJavaDump(await dumpZk(s.port));
    await stopZk(s);
    const snaps = findValidSnapshots(path.join(dataDir, 'version-2'), 10);
    expect(snaps.length).toBeGreaterThanOrEqual(2);
    const r = await restore(dataDir, dataDir);
    expect(r.snapshotFile).toBe(snaps[0]);
    expect(clientDump(r.tree)).toEqual(javaView);
    expect(r.tree.containers.has('/cont')).toBe(true);
    expect(r.tree.ttls.has('/ttl')).toBe(true);
    expect(r.tree.ephemerals.size).toBe(1);
    expect(r.tree.sessions.size).toBe(1);
    // the same from snapshot.0 + the whole Java log only
    const copy = path.join(root, 'copy');
    fs.mkdirSync(path.join(copy, 'version-2'), { recursive: true });
    for (const n of fs.readdirSync(path.join(dataDir, 'version-2'))) {
      if (n.startsWith('snapshot.') && n !== 'snapshot.0') continue;
      fs.copyFileSync(path.join(dataDir, 'version-2', n), path.join(copy, 'version-2', n));
    }
    const r2 = await restore(copy, copy);
    expect(r2.snapshotFile).toMatch(/snapshot\.0$/);
    expect(clientDump(r2.tree)).toEqual(javaView);
    expect(r2.txnsReplayed).toBeGreaterThan(15);
    // the Java log carries TxnDigest trailers
    expect([...readTxnLog(path.join(copy, 'version-2'), 0)].some((e) => e.digest !== null)).toBe(true);
  });

  it('the real ZooKeeper server starts from a data dir we wrote (fuzzy snappy snapshot + log)', async () => {
    const root = tmpDir();
    const dataDir = path.join(root, 'data');
    const snapDir = v2(dataDir);
    const w = new TxnLogWriter(snapDir, { preAllocSize: 65536 });
    const b = new Builder(new DataTree(), w);
    await writeSnapshot(b.tree, snapDir, 0, {});
    populate(b);
    await w.commit();
    w.rollLog();
    const mid = b.zxid;
    const sp = writeSnapshot(b.tree, snapDir, mid, { compression: 'snappy' });
    for (let i = 0; i < 20; i++) b.create(`/later${i}`, `v${i}`, i % 2 ? SECRET : OPEN);
    b.apply({ type: OpCode.setData, path: '/later3', data: Buffer.from('changed'), version: 1 });
    await sp;
    await w.close();
    // the Java server's session tracker needs sane timeouts; ephemerals of S2 stay
    const s = await startZk(dataDir);
    const javaView = normJavaDump(await dumpZk(s.port));
    await stopZk(s);
    expect(s.output()).toContain(`Reading snapshot ${path.join(snapDir, `snapshot.${mid.toString(16)}.snappy`)}`);
    expect(s.output()).not.toMatch(/problem reading snap|CRC|Unreasonable|corrupt/i);
    const ours = clientDump(b.tree);
    expect(javaView).toEqual(ours);
    // Java wrote snapshot.<last> on start-up; we read it back
    const r = await restore(dataDir, dataDir);
    expect(path.basename(r.snapshotFile!)).toBe(`snapshot.${b.zxid.toString(16)}`);
    expect(clientDump(r.tree)).toEqual(ours);
  });
});

describe('snappy', () => {
  it('compresses (the reference algorithm) and round-trips any block', () => {
    const rand = prng(9);
    const samples: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('a'),
      Buffer.from('abcdefghijklmnopq'),
      Buffer.alloc(32 * 1024, 7),
      Buffer.from('/app/service/instance-'.repeat(2000)).subarray(0, 32 * 1024),
      Buffer.from(Array.from({ length: 32 * 1024 }, () => Math.floor(rand() * 256))),
      Buffer.from(Array.from({ length: 65536 }, (_, i) => (i % 251) ^ Math.floor(rand() * 4))),
    ];
    for (let k = 0; k < 200; k++) {
      // runs of repeats at every offset and length, mixed with noise
      const n = Math.floor(rand() * 5000);
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = rand() < 0.7 && i > 8 ? b[i - 1 - Math.floor(rand() * Math.min(i - 1, 3000))] : Math.floor(rand() * 256);
      samples.push(b);
    }
    for (const b of samples) expect(snappyUncompress(snappyCompress(b)).equals(b)).toBe(true);
    expect(snappyCompress(samples[3]).length).toBeLessThan(2000);
    expect(snappyCompress(samples[4]).length).toBeLessThan(4000);
    expect(snappyCompress(samples[5]).length).toBeLessThan(33 * 1024);
  });

  it('a snappy snapshot of a realistic tree is several times smaller than an uncompressed one', async () => {
    const b = new Builder();
    for (let i = 0; i < 3000; i++) b.create(`/svc${i % 30}-${i}`, JSON.stringify({ host: `10.0.${i % 250}.${i % 7}`, port: 9000 + (i % 100) }), OPEN);
    const dir = v2(tmpDir());
    const plain = await writeSnapshot(b.tree, dir, b.tree.lastProcessedZxid, {});
    const snappy = await writeSnapshot(b.tree, dir, b.tree.lastProcessedZxid, { compression: 'snappy' });
    expect(fs.statSync(snappy).size * 3).toBeLessThan(fs.statSync(plain).size);
    expect(canon(await readSnapshot(snappy))).toEqual(canon(b.tree));
  });
});

void ttlOwner;
void CONTAINER_EPHEMERAL_OWNER;
void snappyStreamDecode;
