// The one codec of the DataTree body (src/persistence/treebody.ts) as the SNAP stream uses it
// (src/quorum/snapstream.ts): the same stream fed whole, byte by byte and in random chunks gives
// identical trees; the bytes after the stream are handed back; a stream cut short waits for more
// and is an error once the stream ends; a corrupt one throws with the offset, never waits for bytes
// that would not come; snapshot files carry the very same body bytes.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { DataTree } from '../src/data/datatree';
import { CONTAINER_EPHEMERAL_OWNER } from '../src/data/constants';
import { TreeBodyError } from '../src/persistence/treebody';
import { readSnapshotSync, SnapshotBodyWriter, writeSnapshot } from '../src/persistence/snapshot';
import { prng } from '../src/quorum/zab/sim';
import { serializeSnapStream, SNAP_SIGNATURE, SnapStreamReader, snapStreamSizeEstimate } from '../src/quorum/snapstream';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const DIGEST = [{ perms: 1, id: { scheme: 'digest', id: 'u:hash' } }];

function sample(): DataTree {
  const t = new DataTree();
  let zxid = 0x100000000;
  const mk = (p: string, data: string, owner = 0n, acl = OPEN): void => {
    t.createNode(p, Buffer.from(data, 'latin1'), acl, owner, -1, ++zxid, 1700000000000 + zxid);
  };
  t.sessions.set(0x100000000000001n, 30000);
  t.sessions.set(-0x7fffffffffffff00n, 4000);
  mk('/a', 'alpha');
  mk('/a/b', '');
  mk('/a/b/c', 'x'.repeat(3000));
  for (let i = 0; i < 200; i++) mk(`/a/many-${i}`, `v${i}`, 0n, i % 7 === 0 ? DIGEST : OPEN);
  mk('/eph', 'e', 0x100000000000001n);
  mk('/cont', '', CONTAINER_EPHEMERAL_OWNER);
  mk('/ttl', 't', BigInt.asIntN(64, 0xff00000000000000n | 60000n));
  mk('/bin', '\u0000\u00ff\u0080');
  t.lastProcessedZxid = zxid;
  return t;
}

function describeTree(t: DataTree): unknown {
  const nodes = [...t.nodes.entries()]
    .map(([p, n]) => [p, n.raw, JSON.stringify(t.aclOf(n)), n.czxid, n.mzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, String(n.ephemeralOwner), n.pzxid, [...n.childNames()].sort().join(',')])
    .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
  return {
    nodes,
    sessions: [...t.sessions].map(([k, v]) => `${k}:${v}`).sort(),
    ephemerals: [...t.ephemerals].map(([k, v]) => `${k}:${[...v].sort()}`).sort(),
    containers: [...t.containers].sort(),
    ttls: [...t.ttls].sort(),
    zxid: t.lastProcessedZxid,
  };
}

function feed(bytes: Buffer, sizes: () => number, zxid: number): { tree: DataTree; rest: Buffer } {
  const r = new SnapStreamReader(zxid);
  let tree: DataTree | null = null;
  for (let at = 0; at < bytes.length; ) {
    const n = Math.max(1, Math.min(sizes(), bytes.length - at));
    r.push(bytes.subarray(at, at + n));
    at += n;
    tree ??= r.read();
  }
  expect(tree, 'the stream never completed').not.toBeNull();
  return { tree: tree!, rest: r.remainder() };
}

describe('the SNAP stream codec (one tree-body codec with snapshot files)', () => {
  const t = sample();
  const stream = serializeSnapStream(t);
  const after = Buffer.from([0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // the next quorum packet

  it('ends with the BenWasHere signature', () => {
    expect(stream.subarray(stream.length - SNAP_SIGNATURE.length).toString()).toBe(SNAP_SIGNATURE);
  });

  it('the stream fits the buffer allocated for it (one allocation: no growth, no copy)', () => {
    // a tree of small znodes, where the per-record estimate matters most
    const small = new DataTree();
    for (let i = 0; i < 2000; i++) small.createNode(`/k${i}`, null, OPEN, 0n, -1, 0x100000000 + i, 1700000000000);
    small.sessions.set(5n, 4000);
    for (const tree of [t, small]) {
      const s = serializeSnapStream(tree);
      expect(s.length).toBeLessThanOrEqual(snapStreamSizeEstimate(tree));
      expect(s.buffer.byteLength).toBe(snapStreamSizeEstimate(tree));
    }
  });

  it('whole, byte by byte and in random chunks: identical trees, and the bytes after the stream handed back', () => {
    const want = describeTree(t);
    const all = Buffer.concat([stream, after]);
    const whole = feed(all, () => all.length, t.lastProcessedZxid);
    expect(describeTree(whole.tree)).toEqual(want);
    expect(whole.rest).toEqual(after);
    const bytes = feed(all, () => 1, t.lastProcessedZxid);
    expect(describeTree(bytes.tree)).toEqual(want);
    expect(bytes.rest).toEqual(after);
    for (const seed of [1, 2, 3, 4, 5]) {
      const rnd = prng(seed);
      const r = feed(all, () => 1 + Math.floor(rnd() * 5000), t.lastProcessedZxid);
      expect(describeTree(r.tree), `seed ${seed}`).toEqual(want);
      expect(r.rest, `seed ${seed}`).toEqual(after);
    }
  });

  it('a stream cut short waits for more: no tree, no error', () => {
    for (const cut of [0, 1, 4, 100, stream.length - 1]) {
      const r = new SnapStreamReader(7);
      r.push(stream.subarray(0, cut));
      expect(r.read(), `cut at ${cut}`).toBeNull();
    }
  });

  it('a corrupt stream throws, naming the offset', () => {
    const badSig = Buffer.from(stream);
    badSig[badSig.length - 1] ^= 0xff;
    const r1 = new SnapStreamReader(7);
    r1.push(badSig);
    expect(() => r1.read()).toThrow(/Missing signature/);

    // a znode whose parent is not in the stream: rename /p to /r in the bytes, /p/q stays
    const orphan = new DataTree();
    orphan.createNode('/p', Buffer.from('x'), OPEN, 0n, -1, 1, 1);
    orphan.createNode('/p/q', Buffer.from('y'), OPEN, 0n, -1, 2, 2);
    const bytes = serializeSnapStream(orphan);
    const at = bytes.indexOf(Buffer.from([0, 0, 0, 2, 0x2f, 0x70])); // the string "/p"
    expect(at).toBeGreaterThan(0);
    bytes[at + 5] = 0x72; // "/r"
    const r2 = new SnapStreamReader(7);
    r2.push(bytes);
    let err: unknown = null;
    try {
      r2.read();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TreeBodyError);
    expect(String(err)).toMatch(/unable to find parent \/p of path \/p\/q in the SNAP stream from the leader at offset \d+/);

    // a negative session count
    const neg = Buffer.from(stream);
    neg.writeInt32BE(-5, 0);
    const r3 = new SnapStreamReader(7);
    r3.push(neg);
    expect(() => r3.read()).toThrow(/bad session count -5 .* at offset 0/);
  });

  it('a stream cut short is an error once it ends (fed whole or byte by byte), never a tree', () => {
    const rnd = prng(11);
    const cuts = [0, 1, 3, 4, 5, 12, 100, stream.length - SNAP_SIGNATURE.length - 4, stream.length - 5, stream.length - 1];
    for (let i = 0; i < 20; i++) cuts.push(Math.floor(rnd() * stream.length));
    for (const cut of cuts) {
      const whole = new SnapStreamReader(7);
      whole.push(stream.subarray(0, cut));
      expect(whole.read(), `cut at ${cut}`).toBeNull();
      expect(() => whole.end(), `cut at ${cut}`).toThrow(TreeBodyError);
      expect(() => whole.end(), `cut at ${cut}`).toThrow(new RegExp(`ended early, .* at offset ${cut}$`));
      if (cut > 200 && cut < stream.length - 200) continue; // byte by byte: the ends are enough
      const bytes = new SnapStreamReader(7);
      for (let at = 0; at < cut; at++) {
        bytes.push(stream.subarray(at, at + 1));
        expect(bytes.read()).toBeNull();
      }
      expect(() => bytes.end(), `cut at ${cut}`).toThrow(TreeBodyError);
    }
    // the whole stream: end() hands back the tree
    const r = new SnapStreamReader(t.lastProcessedZxid);
    r.push(stream);
    expect(describeTree(r.end())).toEqual(describeTree(t));
  });

  it('a corrupt length is an error at once, not a wait for bytes that never come', () => {
    const firstAcl = 4 + 2 * 12 + 4; // after the session count, 2 sessions, the ACL map's size
    const expectThrows = (bytes: Buffer, re: RegExp, maxBuffer?: number): void => {
      // the stream so far is complete up to the bad length: the reader must not ask for more
      const r = new SnapStreamReader(7, undefined, { maxBuffer });
      r.push(bytes);
      expect(() => r.read()).toThrow(re);
    };
    // the ACL cache's first entry: a list of 0x40000000 ACLs
    const acl = Buffer.from(stream);
    acl.writeInt32BE(0x40000000, firstAcl + 8); // after its reference
    expectThrows(acl, /bad ACL list length 1073741824 .* in the SNAP stream from the leader at offset 32$/);
    // the root's path (after the ACL cache): a 1 GB string
    let root = firstAcl; // walk the ACL cache: reference, count, then perms, scheme, id each
    for (let i = stream.readInt32BE(firstAcl - 4); i > 0; i--) {
      root += 8;
      let n = stream.readInt32BE(root);
      root += 4;
      for (; n > 0; n--) {
        root += 4;
        root += 4 + stream.readInt32BE(root);
        root += 4 + stream.readInt32BE(root);
      }
    }
    expect(stream.readInt32BE(root)).toBe(0); // "" (the root)
    const p = Buffer.from(stream);
    p.writeInt32BE(0x3fffffff, root);
    expectThrows(p, /Unreasonable length = 1073741823 in the SNAP stream from the leader at offset \d+/);
    // the root's data: longer than jute.maxbuffer + its extra size (a smaller maxbuffer here)
    const d = Buffer.from(stream);
    d.writeInt32BE(5000, root + 4);
    expectThrows(d.subarray(0, root + 100), /Unreasonable length = 5000/, 2000);
    // the same length within the bound is a record still arriving
    const ok = new SnapStreamReader(7, undefined, { maxBuffer: 4096 });
    ok.push(d.subarray(0, root + 100));
    expect(ok.read()).toBeNull();
    // a path that is not absolute
    const rel = Buffer.from(stream);
    rel.writeInt32BE(1, root);
    rel.write('a', root + 4, 'latin1'); // overwrites the first byte of the data's length: no matter, the path fails first
    expectThrows(rel, /bad path "a"/);
    // a signature of another length
    const sig = Buffer.from(stream);
    sig.writeInt32BE(11, stream.length - SNAP_SIGNATURE.length - 4);
    expectThrows(sig.subarray(0, stream.length - SNAP_SIGNATURE.length), /Missing signature .* length 11/);
  });

  it('random corruption, random chunks: an error or a tree, never a hang or a crash', () => {
    const rnd = prng(42);
    let errors = 0;
    for (let i = 0; i < 300; i++) {
      const bad = Buffer.from(stream);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) bad[Math.floor(rnd() * bad.length)] ^= 1 + Math.floor(rnd() * 255);
      const r = new SnapStreamReader(7);
      let outcome: 'tree' | 'error' | null = null;
      try {
        for (let at = 0; at < bad.length && !outcome; ) {
          const n = 1 + Math.floor(rnd() * 2000);
          r.push(bad.subarray(at, at + n));
          at += n;
          if (r.read()) outcome = 'tree';
        }
        if (!outcome) {
          r.end();
          outcome = 'tree';
        }
      } catch (e) {
        expect(e, `corruption ${i}`).toBeInstanceOf(Error);
        expect(String(e), `corruption ${i}`).toMatch(/SNAP stream from the leader/);
        outcome = 'error';
      }
      if (outcome === 'error') errors++;
    }
    expect(errors).toBeGreaterThan(50);
  });

  it('the digest a load takes from the records is the digest of the znodes it built', () => {
    // znodes whose digests cover every field: changed data, versions, a child's pzxid, an owner,
    // no data, data past the native-CRC threshold, paths that are not ASCII, the excluded subtree
    const d = sample();
    let zxid = d.lastProcessedZxid;
    d.createNode('/naïve-ü', Buffer.from('n'), OPEN, 0n, -1, ++zxid, 1700000000000);
    d.createNode('/emoji-\u{1f600}', null, OPEN, 0n, -1, ++zxid, 1700000000000);
    d.createNode('/a/big', Buffer.alloc(700, 7), OPEN, 0n, -1, ++zxid, 1700000000000);
    d.setData('/a', Buffer.from('changed'), -1, ++zxid, 1700000000999);
    d.setData('/a', Buffer.from('again'), -1, ++zxid, 1700000001999);
    d.createNode('/zookeeper/x', Buffer.from('left out'), OPEN, 0n, -1, ++zxid, 1700000000000);
    d.createNode('/bytes-X', null, OPEN, 0n, -1, ++zxid, 1700000000000);
    d.lastProcessedZxid = zxid;
    const stream = serializeSnapStream(d);
    const loaded = new SnapStreamReader(zxid);
    loaded.push(stream);
    const back = loaded.read()!;
    expect(back.nodes.size).toBe(d.nodes.size);
    const taken = back.treeDigest;
    back.recomputeDigest();
    expect(taken).toBe(back.treeDigest);
    expect(taken).toBe(d.treeDigest);
    // a path whose bytes are not UTF-8 (a writer's CESU-8, or damage) reads as U+FFFD: the digest
    // is the decoded path's, as every later change of the znode computes it
    const bad = Buffer.from(stream);
    bad[bad.indexOf('/bytes-X') + 7] = 0xff;
    const odd = new SnapStreamReader(zxid);
    odd.push(bad);
    const t2 = odd.read()!;
    expect(t2.nodes.has('/bytes-\ufffd')).toBe(true);
    const taken2 = t2.treeDigest;
    t2.recomputeDigest();
    expect(taken2).toBe(t2.treeDigest);
  });

  it('a snapshot without /zookeeper (another writer\'s) gets the system znodes, and its digest counts them', async () => {
    const d = sample();
    for (const p of [...d.nodes.keys()].filter((k) => k.startsWith('/zookeeper/')).sort((x, y) => y.length - x.length).concat('/zookeeper')) {
      d.nodes.get(p === '/zookeeper' ? '/' : p.slice(0, p.lastIndexOf('/')) || '/')!.removeChild(p);
      d.nodes.delete(p);
    }
    expect(d.nodes.has('/zookeeper')).toBe(false);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'treebody-'));
    try {
      const back = readSnapshotSync(await writeSnapshot(d, dir, d.lastProcessedZxid, {}));
      expect(back.nodes.has('/zookeeper')).toBe(true);
      expect(back.nodes.has('/zookeeper/quota')).toBe(true);
      expect(back.nodes.get('/')!.hasChild('/zookeeper')).toBe(true);
      const taken = back.treeDigest;
      back.recomputeDigest();
      expect(taken).toBe(back.treeDigest);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('snapshot files carry the same body bytes, and read back into the same tree', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'treebody-'));
    try {
      const file = await writeSnapshot(t, dir, t.lastProcessedZxid, {});
      const bytes = fs.readFileSync(file);
      const body = stream.subarray(0, stream.length - 4 - SNAP_SIGNATURE.length);
      expect(bytes.subarray(16, 16 + body.length).equals(body)).toBe(true); // after the 16-byte FileHeader
      expect(bytes.readInt32BE(0)).toBe(0x5a4b534e); // ZKSN
      expect(describeTree(readSnapshotSync(file))).toEqual(describeTree(t));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a learner writes its snapshot from the stream as it comes: the same file writeSnapshot writes, read back into the same tree', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'treebody-'));
    try {
      const all = Buffer.concat([stream, after]);
      for (const seed of [1, 2, 3]) {
        const rnd = prng(seed);
        const handed: Buffer[] = [];
        // a tiny sync interval: fdatasyncs between the writes, and writes queued behind them
        const file = new SnapshotBodyWriter(dir, t.lastProcessedZxid, 1000);
        const r = new SnapStreamReader(t.lastProcessedZxid, undefined, {
          bodySink: (b) => {
            handed.push(Buffer.from(b));
            file.write(b);
          },
        });
        let tree: DataTree | null = null;
        for (let at = 0; at < all.length && !tree; ) {
          const n = 1 + Math.floor(rnd() * 3000);
          r.push(all.subarray(at, at + n));
          at += n;
          tree = r.read();
          if (rnd() < 0.3) await new Promise((res) => setImmediate(res)); // let some writes finish meanwhile
        }
        expect(tree, `seed ${seed}`).not.toBeNull();
        // the body, exactly: not the signature, not the next packet
        expect(Buffer.concat(handed).equals(stream.subarray(0, stream.length - 4 - SNAP_SIGNATURE.length)), `seed ${seed}`).toBe(true);
        await (file as unknown as { opened: Promise<number> }).opened; // opened in the background
        expect(fs.readdirSync(dir), 'only the .tmp while it is written').toEqual([`snapshot.${t.lastProcessedZxid.toString(16)}.tmp`]);
        await file.finish(tree!);
        const done = await file.commit();
        const ref = await writeSnapshot(tree!, fs.mkdtempSync(path.join(dir, 'ref-')), tree!.lastProcessedZxid, {});
        expect(fs.readFileSync(done).equals(fs.readFileSync(ref)), `seed ${seed}`).toBe(true);
        expect(describeTree(readSnapshotSync(done))).toEqual(describeTree(t));
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with snapshot.compression.method, the learner\'s snapshot from the stream is compressed as writeSnapshot compresses it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'treebody-'));
    try {
      const body = stream.subarray(0, stream.length - 4 - SNAP_SIGNATURE.length);
      for (const compression of ['gz', 'snappy'] as const) {
        const file = new SnapshotBodyWriter(dir, t.lastProcessedZxid, 1000, compression);
        for (let at = 0; at < body.length; at += 777) file.write(body.subarray(at, at + 777));
        await file.finish(t);
        const done = await file.commit();
        expect(path.basename(done)).toBe(`snapshot.${t.lastProcessedZxid.toString(16)}.${compression}`);
        const ref = await writeSnapshot(t, fs.mkdtempSync(path.join(dir, 'ref-')), t.lastProcessedZxid, { compression });
        expect(fs.readFileSync(done).equals(fs.readFileSync(ref)), compression).toBe(true);
        expect(fs.statSync(done).size, 'smaller than the snapshot it holds').toBeLessThan(file.size);
        expect(describeTree(readSnapshotSync(done))).toEqual(describeTree(t));
      }
      // an abort part-way leaves nothing behind
      const a = new SnapshotBodyWriter(dir, 7, undefined, 'gz');
      a.write(body.subarray(0, 5000));
      await a.abort();
      expect(fs.readdirSync(dir).filter((f) => f.includes('snapshot.7'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a snapshot written from the stream: abort removes it, and a failed write makes finish fail', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'treebody-'));
    try {
      const body = stream.subarray(0, stream.length - 4 - SNAP_SIGNATURE.length);
      const a = new SnapshotBodyWriter(dir, 5);
      a.write(body.subarray(0, 100));
      await a.abort();
      expect(fs.readdirSync(dir)).toEqual([]);
      // the descriptor closed under it: the queued write fails, and finish says so (no file put in place)
      const b = new SnapshotBodyWriter(dir, 6);
      fs.closeSync(await (b as unknown as { opened: Promise<number> }).opened);
      b.write(body);
      await expect(b.finish(t)).rejects.toThrow(/EBADF/);
      await b.abort();
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
