// DataNode keeps mzxid and mtime only when they differ from czxid and ctime (a saved number box
// per field on never-set znodes), and czxid and ctime as two small integers each: whatever is
// stored, the Stat reads what was set.
import { describe, expect, it } from 'vitest';
import { DataNode, DataTree } from '../src/data/datatree';
import { serializeSnapStream, SnapStreamReader } from '../src/quorum/snapstream';
import { JuteWriter } from '../src/jute/archive';
import { writeStat } from '../src/jute/records';
import { CONTAINER_EPHEMERAL_OWNER, ttlOwner } from '../src/data/constants';
import { prng } from '../src/quorum/zab/sim';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

describe("DataNode's mzxid and mtime", () => {
  it('read back as constructed, set, and set back to the create values', () => {
    const n = new DataNode('v', -1, 0x500000001, 0x500000001, 1700000000000, 1700000000000, 0, 0, 0, 0n, 0x500000001);
    expect([n.mzxid, n.mtime]).toEqual([0x500000001, 1700000000000]);
    const m = new DataNode('v', -1, 0x500000001, 0x500000009, 1700000000000, 1700000000123, 2, 0, 0, 0n, 0x500000001);
    expect([m.mzxid, m.mtime, m.stat().mzxid, m.stat().mtime]).toEqual([0x500000009, 1700000000123, 0x500000009, 1700000000123]);
    n.mzxid = 0x600000002;
    n.mtime = 1700000009999;
    expect([n.mzxid, n.mtime, n.czxid, n.ctime]).toEqual([0x600000002, 1700000009999, 0x500000001, 1700000000000]);
    n.mzxid = 0x500000001;
    n.mtime = 1700000000000;
    expect([n.mzxid, n.mtime]).toEqual([0x500000001, 1700000000000]);
  });

  it('setData moves them; a snapshot round trip keeps both kinds', () => {
    const t = new DataTree();
    t.createNode('/a', Buffer.from('x'), OPEN, 0n, -1, 0x100000001, 1700000000001);
    t.createNode('/b', Buffer.from('y'), OPEN, 0n, -1, 0x100000002, 1700000000002);
    t.setData('/b', Buffer.from('z'), 1, 0x100000003, 1700000000003);
    t.lastProcessedZxid = 0x100000003;
    const r = new SnapStreamReader(t.lastProcessedZxid);
    r.push(serializeSnapStream(t));
    const back = r.read()!;
    for (const tree of [t, back]) {
      expect(tree.nodes.get('/a')!.stat()).toMatchObject({ czxid: 0x100000001, mzxid: 0x100000001, ctime: 1700000000001, mtime: 1700000000001 });
      expect(tree.nodes.get('/b')!.stat()).toMatchObject({ czxid: 0x100000002, mzxid: 0x100000003, ctime: 1700000000002, mtime: 1700000000003, version: 1 });
    }
  });

  it('czxid and ctime read back exactly, for every range a long can bring (split into two int32 parts)', () => {
    const values = [0, 1, -1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, -0x100000000, -0x100000001, 0x500000001, 0x1fffffffffff, 1700000000000, 1796471794650, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 62, -(2 ** 63), 2 ** 63 - 1024];
    for (const v of values) {
      for (const w of [v, 1700000000000]) {
        const n = new DataNode(null, -1, v, v, w, w, 0, 0, 0, 0n, v);
        expect([n.czxid, n.ctime, n.stat().czxid, n.stat().ctime, n.pzxid, n.mzxid, n.mtime], `${v}`).toEqual([v, w, v, w, v, v, w]);
      }
    }
  });

  it('writeStat writes what writeStat(w, stat()) writes: owners of every kind, children, edge values', () => {
    const rand = prng(5);
    const longs = [0, 1, -1, 0x7fffffff, 0x80000000, 0x100000000, 0x500000001, 1700000000000, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 62];
    const owners = [0n, 0x1234_5678_9abc_def0n, -5n, CONTAINER_EPHEMERAL_OWNER, ttlOwner(60_000), 0x7fff_ffff_ffff_ffffn];
    const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)];
    for (let i = 0; i < 3000; i++) {
      const data = pick([null, Buffer.alloc(0), Buffer.from('abc'), Buffer.alloc(300, 7)]);
      const n = new DataNode(data, -1, pick(longs), pick(longs), pick(longs), pick(longs), pick([0, 3, -1, 0x7fffffff]), pick([0, 2, 9]), pick([0, 1]), pick(owners), pick(longs));
      for (let k = Math.floor(rand() * 3); k > 0; k--) n.addChild(`/p/c${k}`);
      const direct = new JuteWriter(8);
      n.writeStat(direct);
      const viaStat = new JuteWriter(8);
      writeStat(viaStat, n.stat());
      expect(direct.finish().toString('hex'), `node ${i}`).toBe(viaStat.finish().toString('hex'));
    }
  });
});

