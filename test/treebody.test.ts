// The one codec of the DataTree body (src/persistence/treebody.ts) as the SNAP stream uses it
// (src/quorum/snapstream.ts): the same stream fed whole, byte by byte and in random chunks gives
// identical trees; the bytes after the stream are handed back; a stream cut short waits for more
// (never throws, never hangs); a corrupt one throws with the offset.
import { describe, expect, it } from 'vitest';
import { DataTree } from '../src/data/datatree';
import { CONTAINER_EPHEMERAL_OWNER } from '../src/data/constants';
import { TreeBodyError } from '../src/persistence/treebody';
import { prng } from '../src/quorum/zab/sim';
import { serializeSnapStream, SNAP_SIGNATURE, SnapStreamReader } from '../src/quorum/snapstream';

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
    .map(([p, n]) => [p, n.raw, JSON.stringify(t.aclOf(n)), n.czxid, n.mzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, String(n.ephemeralOwner), n.pzxid, [...n.children].sort().join(',')])
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
});
