// Tree digests (src/data/digest.ts), the divergence check ZooKeeper 3.6+ runs on every txn:
//  - known answers: the same script of creates, setData, deletes and ACL changes applied to Apache
//    ZooKeeper 3.8's own DataTree (test/clients/JavaDigest.java) and to ours gives the same digest
//    after every step, including the root, /zookeeper, the excluded /zookeeper/ subtree, non-ASCII
//    paths, null and empty data, negative owners and epochs above 2^32;
//  - the incremental digest always equals one recomputed from every znode;
//  - the digest the request pipeline precalculates for a txn (prep, many txns in flight, failed
//    multis rolled back, closeSession) is the tree's digest once the txn is applied;
//  - snapshots carry the digest and a load checks it; a tampered tree is reported.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { JuteReader, JuteWriter } from '../src/jute/archive';
import { ACL, TxnHeader, writeACLs, writeCreateRequest, writeMultiHeader, writePathVersion, writeSetDataRequest } from '../src/jute/records';
import { OpCode } from '../src/data/constants';
import { DataTree } from '../src/data/datatree';
import { nodeDigest, TreeDigest } from '../src/data/digest';
import { PrepRequestProcessor } from '../src/server/prep';
import { KeeperError } from '../src/data/constants';
import { readSnapshotWithInfo, readSnapshotWithInfoSync, writeSnapshot } from '../src/persistence/snapshot';
import { BodyScanner, scanSnapshotBody, streamScanInWorker } from '../src/persistence/snapcheck';
import { adler32 } from '../src/persistence/util';
import { prng } from '../src/quorum/zab/sim';
import { requireApacheZk, SKIP_REAL } from './helpers/peers';

const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const READ: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

/** Every znode's digest summed afresh: what the incremental digest must always equal. */
function recomputed(t: DataTree): bigint {
  const d = new TreeDigest();
  for (const [p, n] of t.nodes) d.add(nodeDigest(p, n));
  return d.value;
}

interface Op {
  line: string;
  apply(t: DataTree): void;
}

const hexOf = (b: Buffer | null): string => (b === null ? '-' : b.length === 0 ? '=' : b.toString('hex'));

/** A random script of tree operations that every step leaves valid (paths exist where they must). */
function script(seed: number, steps: number): Op[] {
  const rand = prng(seed);
  const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)];
  const live = new Set<string>(['/', '/zookeeper']);
  const versions = new Map<string, number>();
  const aversions = new Map<string, number>();
  let zxid = 0x1234_0000_0000 + 1; // epoch 0x1234: zxids above 2^32
  const names = ['a', 'b', 'ü', '日本', 'x y', 'n-1', 'zookeeper', 'quota'];
  const ops: Op[] = [];
  for (let i = 0; i < steps; i++) {
    zxid += 1 + Math.floor(rand() * 3);
    const z = zxid;
    const time = 1_700_000_000_000 + Math.floor(rand() * 1e9);
    const r = rand();
    const withChildren = (p: string): boolean => [...live].some((q) => q !== p && q.startsWith(p === '/' ? '/' : p + '/'));
    if (r < 0.45 || live.size < 4) {
      const parent = pick([...live, '/zookeeper', '/zookeeper/quota']);
      const p = (parent === '/' ? '' : parent) + '/' + pick(names) + (rand() < 0.5 ? String(i) : '');
      if (live.has(p) || p === '/zookeeper/quota' || p === '/zookeeper/config') continue;
      const kind = rand();
      const data = kind < 0.1 ? null : kind < 0.2 ? Buffer.alloc(0) : Buffer.from(Array.from({ length: Math.floor(rand() * (rand() < 0.2 ? 3000 : 300)) }, () => Math.floor(rand() * 256)));
      const owner = rand() < 0.3 ? BigInt.asIntN(64, BigInt(Math.floor(rand() * 2 ** 31)) * -0x1_0000_0001n) : 0n;
      live.add(p);
      versions.set(p, 0);
      ops.push({
        line: ['create', p, hexOf(data), owner, z, time].join('\t'),
        apply: (t) => t.createNode(p, data, OPEN, owner, -1, z, time),
      });
    } else if (r < 0.7) {
      const p = pick([...live]);
      const v = (versions.get(p) ?? 0) + 1;
      versions.set(p, v);
      const data = rand() < 0.1 ? null : Buffer.from(`v${i}-${'*'.repeat(Math.floor(rand() * 50))}`);
      ops.push({ line: ['set', p, hexOf(data), v, z, time].join('\t'), apply: (t) => t.setData(p, data, v, z, time) });
    } else if (r < 0.8) {
      const p = pick([...live].filter((q) => q !== '/' && q !== '/zookeeper'));
      if (!p) continue;
      const v = (aversions.get(p) ?? 0) + 1;
      aversions.set(p, v);
      const hdr: TxnHeader = { clientId: 0n, cxid: 0, zxid: z, time, type: OpCode.setACL };
      ops.push({ line: ['acl', p, v].join('\t'), apply: (t) => t.processTxn(hdr, { type: OpCode.setACL, path: p, acl: READ, version: v }) });
    } else {
      const cands = [...live].filter((q) => q !== '/' && q !== '/zookeeper' && !withChildren(q));
      if (cands.length === 0) continue;
      const p = pick(cands);
      live.delete(p);
      ops.push({ line: ['delete', p, z].join('\t'), apply: (t) => t.deleteNode(p, z) });
    }
  }
  return ops;
}

function runJava(input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const classes = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-javadigest-'));
    const src = path.join(__dirname, 'clients', 'JavaDigest.java');
    const javac = spawn('javac', ['-nowarn', '-encoding', 'UTF-8', '-cp', '/usr/share/java/*', '-d', classes, src], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    javac.stderr!.on('data', (d) => (err += d));
    javac.on('close', (code) => {
      if (code !== 0) return reject(new Error(`javac JavaDigest.java failed: ${err}`));
      const java = spawn('java', ['-Dfile.encoding=UTF-8', '-cp', `${classes}:/usr/share/java/*`, 'JavaDigest'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let jerr = '';
      java.stdout!.on('data', (d) => (out += d));
      java.stderr!.on('data', (d) => (jerr += d));
      java.on('close', (c) => (c === 0 ? resolve(out) : reject(new Error(`JavaDigest exited ${c}: ${jerr.slice(-2000)}`))));
      java.stdin!.end(input);
    });
  });
}

describe('tree digest known answers from Apache ZooKeeper 3.8 DataTree', () => {
  beforeAll(() => {
    if (!SKIP_REAL) requireApacheZk();
  });

  it.skipIf(SKIP_REAL)('the same script gives the same digest after every step', async () => {
    const valid = script(1, 800);
    const ours = [recomputed(new DataTree())];
    const t2 = new DataTree();
    for (const o of valid) {
      o.apply(t2);
      ours.push(t2.treeDigest);
      expect(t2.treeDigest).toBe(recomputed(t2));
    }
    const java = (await runJava(valid.map((o) => o.line).join('\n') + '\n')).trim().split('\n').map((s) => BigInt(s));
    expect(java.length).toBe(valid.length + 1);
    const firstDiff = java.findIndex((d, i) => d !== ours[i]);
    expect(firstDiff === -1 ? 'all equal' : `step ${firstDiff}: ${valid[firstDiff - 1]?.line} java ${java[firstDiff]} ours ${ours[firstDiff]}`).toBe('all equal');
    expect(valid.length).toBeGreaterThan(500);
  }, 120_000);
});

describe('the incremental digest', () => {
  it('equals the digest recomputed from every znode after any sequence of changes', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const t = new DataTree();
      for (const o of script(seed, 300)) {
        o.apply(t);
        expect(t.treeDigest, `seed ${seed} after ${o.line}`).toBe(recomputed(t));
      }
    }
  });

  it('a znode keeps its digest until it changes: every field the digest covers clears it', () => {
    const t = new DataTree();
    t.createNode('/k', Buffer.from('a'), OPEN, 0n, -1, 5, 10);
    const n = t.getNode('/k')!;
    const changes: [string, () => void][] = [
      ['data', () => (n.data = Buffer.from('bb'))],
      ['raw', () => (n.raw = 'ccc')],
      ['version', () => (n.version = 7)],
      ['mzxid', () => (n.mzxid = 99)],
      ['mtime', () => (n.mtime = 12345)],
      ['pzxid', () => (n.pzxid = 98)],
      ['cversion', () => (n.cversion = 3)],
      ['aversion', () => (n.aversion = 4)],
      ['ephemeralOwner', () => (n.ephemeralOwner = 0x1234n)],
    ];
    for (const [field, change] of changes) {
      const before = n.digest('/k'); // computed, then kept
      expect(n.digest('/k')).toBe(before);
      change();
      const fresh = nodeDigest('/k', n);
      expect(fresh, field).not.toBe(before);
      expect(n.digest('/k'), field).toBe(fresh);
    }
  });

  it('leaves the /zookeeper/ subtree out but counts /zookeeper itself', () => {
    const t = new DataTree();
    const before = t.treeDigest;
    t.createNode('/zookeeper/x', Buffer.from('a'), OPEN, 0n, -1, 5, 10);
    // /zookeeper's cversion and pzxid changed: counted; /zookeeper/x itself: not
    expect(t.treeDigest).not.toBe(before);
    const zk = t.getNode('/zookeeper')!;
    expect(nodeDigest('/zookeeper/x', t.getNode('/zookeeper/x')!)).toBe(0);
    expect(t.treeDigest).toBe(BigInt(nodeDigest('/', t.getNode('/')!)) + BigInt(nodeDigest('/zookeeper', zk)));
  });
});

// ---- the pipeline's precalculated digests ----
function req(type: number, body: (w: JuteWriter) => void): { type: number; body: JuteReader } {
  const w = new JuteWriter(256);
  body(w);
  return { type, body: new JuteReader(Buffer.from(w.finish())) };
}
const create = (p: string, data: string, flags = 0): ReturnType<typeof req> =>
  req(OpCode.create, (w) => writeCreateRequest(w, { path: p, data: Buffer.from(data), acl: OPEN, flags, ttl: -1 }, false));
const setData = (p: string, data: string, version = -1): ReturnType<typeof req> =>
  req(OpCode.setData, (w) => writeSetDataRequest(w, { path: p, data: Buffer.from(data), version }));
const del = (p: string, version = -1): ReturnType<typeof req> => req(OpCode.delete, (w) => writePathVersion(w, { path: p, version }));
const setAcl = (p: string): ReturnType<typeof req> =>
  req(OpCode.setACL, (w) => {
    w.writeString(p);
    writeACLs(w, READ);
    w.writeInt(-1);
  });
function multi(ops: ReturnType<typeof req>[]): ReturnType<typeof req> {
  return req(OpCode.multi, (w) => {
    for (const o of ops) {
      writeMultiHeader(w, o.type, false, -1);
      w.writeRaw(o.body.buf.subarray(o.body.offset, o.body.end));
    }
    writeMultiHeader(w, -1, true, -1);
  });
}

describe('the digest the pipeline precalculates', () => {
  it('is the tree digest after the txn, with many txns in flight, failed multis and closeSession', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const rand = prng(seed);
      const tree = new DataTree();
      const prep = new PrepRequestProcessor(tree, { extendedTypesEnabled: false, skipACL: false, reconfigEnabled: false });
      let zxid = 0x5_0000_0000;
      const queue: { hdr: TxnHeader; txn: ReturnType<PrepRequestProcessor['prepare']>; digest: bigint | null }[] = [];
      const names = ['/a', '/a/b', '/c', '/a/d', '/e', '/zookeeper/q'];
      let applied = 0;
      const apply = (n: number): void => {
        for (const q of queue.splice(0, n)) {
          tree.processTxn(q.hdr, q.txn, q.digest === null ? null : { version: 2, treeDigest: q.digest });
          prep.applied(q.hdr.zxid);
          if (q.digest !== null) expect(tree.treeDigest, `seed ${seed} txn ${q.hdr.zxid.toString(16)}`).toBe(q.digest);
          applied++;
        }
      };
      for (let i = 0; i < 400; i++) {
        const zx = ++zxid;
        const session = BigInt(1 + Math.floor(rand() * 3));
        const p = names[Math.floor(rand() * names.length)];
        const r = rand();
        const choice =
          r < 0.3
            ? create(p, `d${i}`, rand() < 0.3 ? 1 : rand() < 0.3 ? 2 : 0)
            : r < 0.5
              ? setData(p, `s${i}`)
              : r < 0.6
                ? del(p)
                : r < 0.7
                  ? setAcl(p)
                  : r < 0.85
                    ? multi([create(`${p}/m${i}`, 'm'), setData(p, 'x'), rand() < 0.5 ? del('/nonexistent') : setData(p, 'y')])
                    : null;
        const hdr: TxnHeader = { clientId: session, cxid: i, zxid: zx, time: 1_700_000_000_000 + i, type: choice?.type ?? OpCode.closeSession };
        let txn;
        try {
          txn = choice ? prep.prepare({ sessionId: session, type: choice.type, body: choice.body, authIds: [] }, zx, hdr.time) : prep.prepCloseSession(session, zx);
        } catch (e) {
          if (!(e instanceof KeeperError)) throw e;
          hdr.type = OpCode.error;
          txn = { type: OpCode.error as typeof OpCode.error, err: e.code };
        }
        queue.push({ hdr, txn, digest: hdr.type === OpCode.error ? null : prep.currentDigest() });
        if (rand() < 0.3) apply(Math.floor(rand() * queue.length) + 1);
      }
      apply(queue.length);
      expect(tree.digestMismatches).toBe(0);
      expect(tree.treeDigest).toBe(recomputed(tree));
      expect(applied).toBe(400);
    }
  });
});

describe('digests in snapshots', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-digest-snap-'));
  const mk = (d: string): string => (fs.mkdirSync(d, { recursive: true }), d);

  function sampleTree(): DataTree {
    const t = new DataTree();
    for (const o of script(7, 200)) o.apply(t);
    // a txn applied through processTxn records (zxid, digest) for the snapshot
    const z = t.lastProcessedZxid + 1;
    t.processTxn({ clientId: 0n, cxid: 0, zxid: z, time: 1, type: OpCode.create }, { type: OpCode.create, path: '/last', data: null, acl: OPEN, ephemeral: false, parentCVersion: -1 });
    return t;
  }

  it('a snapshot records the digest at its zxid and a load compares it', async () => {
    const t = sampleTree();
    const file = await writeSnapshot(t, dir, t.lastProcessedZxid);
    const { tree, info } = readSnapshotWithInfoSync(file);
    expect(info.digest).toEqual({ zxid: t.lastProcessedZxid, version: 2, digest: t.treeDigest });
    expect(tree.treeDigest).toBe(t.treeDigest);
    expect(tree.digestMismatches).toBe(0);
    expect(tree.digestFromLoadedSnapshot).toBeNull();
  });

  it('a load takes the Adler-32 and the digest in a worker thread: the same as in one thread', async () => {
    for (const seed of [7, 8, 9]) {
      const t = new DataTree();
      for (const o of script(seed, 300)) o.apply(t);
      t.recomputeDigest();
      for (const compression of ['', 'gz'] as const) {
        const file = await writeSnapshot(t, mk(path.join(dir, `w${seed}${compression}`)), t.lastProcessedZxid, { compression });
        const threaded = await readSnapshotWithInfo(file);
        const single = readSnapshotWithInfoSync(file);
        expect(threaded.tree.treeDigest).toBe(t.treeDigest);
        expect(single.tree.treeDigest).toBe(t.treeDigest);
        expect([...threaded.tree.nodes.keys()]).toEqual([...single.tree.nodes.keys()]);
      }
      // the scan itself: where the body ends, the checksum of the file up to there, each record's digest
      const file = await writeSnapshot(t, mk(path.join(dir, `s${seed}`)), t.lastProcessedZxid, { compression: '' });
      const buf = fs.readFileSync(file);
      const scan = scanSnapshotBody(buf, 16);
      if ('error' in scan) throw new Error(scan.error);
      expect(scan.records).toBe(t.nodes.size);
      expect(buf.subarray(scan.end, scan.end + 8).readBigInt64BE(0)).toBe(BigInt(adler32(buf, 0, scan.end)));
      expect(scan.adler).toBe(adler32(buf, 0, scan.end));
      expect(scan.digest).toBe(t.treeDigest);
      // bytes cut anywhere inside the body: an error naming where, never a throw or a wait
      for (const cut of [17, 40, Math.floor(scan.end / 2), scan.end - 1]) {
        const r = scanSnapshotBody(buf.subarray(0, cut), 16);
        expect('error' in r && r.offset <= cut).toBe(true);
      }
    }
  });

  it('a SNAP body scanned as it comes, in any pieces (BodyScanner, and in its worker thread): the file scan\'s end, checksum, digest and count', async () => {
    for (const seed of [7, 8]) {
      const t = new DataTree();
      for (const o of script(seed, 300)) o.apply(t);
      // a session and a path that is not ASCII (its digest is taken from the decoded record)
      t.sessions.set(0x1234n, 30_000);
      t.processTxn({ clientId: 0n, cxid: 0, zxid: t.lastProcessedZxid + 1, time: 1, type: OpCode.create }, { type: OpCode.create, path: '/ünï-çødé', data: Buffer.from('x'), acl: OPEN, ephemeral: false, parentCVersion: -1 });
      t.recomputeDigest();
      const file = await writeSnapshot(t, mk(path.join(dir, `stream${seed}`)), t.lastProcessedZxid, { compression: '' });
      const buf = fs.readFileSync(file);
      const whole = scanSnapshotBody(buf, 16);
      if ('error' in whole) throw new Error(whole.error);
      expect(whole.digest).toBe(t.treeDigest);
      expect(whole.adler).toBe(adler32(buf, 0, whole.end));
      expect(whole.records).toBe(t.nodes.size);
      const body = buf.subarray(16, whole.end);
      const headerAdler = adler32(buf, 0, 16);
      const rand = prng(seed);
      const pieces = (): Buffer[] => {
        const out: Buffer[] = [];
        for (let o = 0; o < body.length; ) {
          const n = rand() < 0.2 ? 1 : 1 + Math.floor(rand() * 400);
          out.push(Buffer.from(body.subarray(o, o + n)));
          o += n;
        }
        return out;
      };
      // offsets from the start of the body, as a SNAP stream counts them
      const want = { end: whole.end - 16, adler: whole.adler, digest: whole.digest, records: whole.records };
      const scanner = new BodyScanner(headerAdler);
      for (const p of pieces()) scanner.push(p);
      expect(scanner.result()).toEqual(want);
      const threaded = streamScanInWorker(headerAdler, true);
      for (const p of pieces()) threaded.push(p);
      expect(await threaded.result()).toEqual(want);
    }
  });

  it('a byte flipped in a znode\'s data fails the threaded load (the worker\'s checksum)', async () => {
    const t = sampleTree();
    const file = await writeSnapshot(t, mk(path.join(dir, 'flip')), t.lastProcessedZxid, { compression: '' });
    const buf = fs.readFileSync(file);
    const scan = scanSnapshotBody(buf, 16);
    if ('error' in scan) throw new Error(scan.error);
    // the last record's last stat byte: the parser reads it as a valid pzxid, only the seal can tell
    buf[scan.end - 6] ^= 0x01;
    fs.writeFileSync(file, buf);
    await expect(readSnapshotWithInfo(file)).rejects.toThrow(/CRC corruption/);
  });

  it('a snapshot whose tree does not match its recorded digest is reported', async () => {
    const t = sampleTree();
    // one znode's data differs from what the digest was computed over (a replica gone wrong)
    const n = [...t.nodes.entries()].find(([p, x]) => p.startsWith('/a') && x.dataLength > 0);
    expect(n).toBeDefined();
    const file = await writeSnapshot(t, dir, t.lastProcessedZxid);
    // the same tree with one byte of one znode flipped behind the digest's back, then written
    const raw = n![1].raw!;
    n![1].raw = (raw.charCodeAt(0) ^ 1 ? String.fromCharCode(raw.charCodeAt(0) ^ 1) : 'x') + raw.slice(1);
    const file2 = await writeSnapshot(t, mk(path.join(dir, 'b')), t.lastProcessedZxid);
    const good = readSnapshotWithInfoSync(file);
    const bad = readSnapshotWithInfoSync(file2);
    expect(good.tree.digestMismatches).toBe(0);
    expect(bad.tree.digestMismatches).toBe(1);
  });
});
