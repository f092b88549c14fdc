// Every client opcode against an in-process standalone server: success and error paths with
// ZooKeeper 3.8's codes and Stat semantics (wire-client.md §5-§7, §11-§13, §15).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStat } from '../src/jute/records';
import { RunningServer } from '../src/main';
import { CONTAINER_EPHEMERAL_OWNER, Err, OpCode } from '../src/data/constants';
import { createBody, OPEN_ACL_UNSAFE, pathBool, pathOnly, RawClient, READ_ACL_UNSAFE } from './helpers/rawclient';
import { startTestServer } from './helpers/server';

let s: RunningServer;
let c: RawClient;
let n = 0;
/** a fresh top-level path per test */
const uniq = (): string => `/ops${++n}`;

beforeAll(async () => {
  s = await startTestServer();
  c = await RawClient.connect(s.port);
});
afterAll(async () => {
  await c.close();
  await s.stop();
});

describe('root and system nodes', () => {
  it('stat / on a fresh server: cversion -1, then 0 after creating /a (2 × creates − numChildren)', async () => {
    const fresh = await startTestServer();
    try {
      const k = await RawClient.connect(fresh.port);
      const before = await k.exists('/');
      expect(before.err).toBe(0);
      expect(before.stat).toMatchObject({ czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: -1, aversion: 0, numChildren: 1, pzxid: 0, dataLength: 0 });
      const a = await k.create('/a');
      expect(a.err).toBe(0);
      const after = await k.exists('/');
      expect(after.stat!.cversion).toBe(0);
      expect(after.stat!.numChildren).toBe(2);
      expect(after.stat!.pzxid).toBe(a.zxid);
      expect((await k.getChildren('/')).children!.sort()).toEqual(['a', 'zookeeper']);
      // delete: stored cversion unchanged, numChildren drops => visible cversion +1
      const d = await k.delete('/a');
      const afterDel = await k.exists('/');
      expect(afterDel.stat!.cversion).toBe(1);
      expect(afterDel.stat!.pzxid).toBe(d.zxid);
      await k.close();
    } finally {
      await fresh.stop();
    }
  });

  it('/zookeeper, /zookeeper/quota and /zookeeper/config exist with ZooKeeper\'s ACLs', async () => {
    expect((await c.getChildren('/zookeeper')).children!.sort()).toEqual(['config', 'quota']);
    const cfg = await c.getACL('/zookeeper/config');
    expect(cfg.acl).toEqual(READ_ACL_UNSAFE);
    expect(cfg.stat!.aversion).toBe(-1);
    expect((await c.getACL('/zookeeper')).acl).toEqual(OPEN_ACL_UNSAFE);
    const q = await c.getData('/zookeeper/quota');
    expect(q.err).toBe(0);
    expect(q.stat!.czxid).toBe(0);
  });

  it('system nodes cannot be deleted: BADARGUMENTS', async () => {
    for (const p of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      expect((await c.delete(p)).err, p).toBe(Err.BADARGUMENTS);
    }
    expect((await c.exists('/zookeeper')).err).toBe(0);
  });
});

describe('create', () => {
  it('create (opcode 1) answers with the path only; create2 adds the Stat', async () => {
    const p = uniq();
    const r = await c.call(OpCode.create, undefined, createBody(p, Buffer.from('v'), OPEN_ACL_UNSAFE, 0));
    expect(r.header.err).toBe(0);
    expect(r.reader.readStr()).toBe(p);
    expect(r.reader.remaining()).toBe(0);

    const t0 = Date.now();
    const r2 = await c.create2(p + '/c', 'hello');
    expect(r2.err).toBe(0);
    expect(r2.path).toBe(p + '/c');
    const st = r2.stat!;
    expect(st.czxid).toBe(r2.zxid);
    expect(st.mzxid).toBe(st.czxid);
    expect(st.pzxid).toBe(st.czxid);
    expect(st.ctime).toBe(st.mtime);
    expect(st.ctime).toBeGreaterThanOrEqual(t0 - 1000);
    expect(st.ctime).toBeLessThanOrEqual(Date.now() + 1000);
    expect([st.version, st.cversion, st.aversion, st.dataLength, st.numChildren]).toEqual([0, 0, 0, 5, 0]);
    expect(st.ephemeralOwner).toBe(0n);
    // create2 reply body is exactly path + 68-byte Stat
    const raw = await c.call(OpCode.create2, undefined, createBody(p + '/d', null, OPEN_ACL_UNSAFE, 0));
    expect(raw.reader.remaining()).toBe(4 + (p + '/d').length + 68);
  });

  it('the parent stat: cversion +1, pzxid = child czxid, mzxid and version unchanged', async () => {
    const p = uniq();
    const parent = await c.create2(p);
    const child = await c.create2(p + '/x');
    const ps = (await c.exists(p)).stat!;
    expect(ps.cversion).toBe(1);
    expect(ps.numChildren).toBe(1);
    expect(ps.pzxid).toBe(child.stat!.czxid);
    expect(ps.mzxid).toBe(parent.stat!.mzxid);
    expect(ps.version).toBe(0);
    // setData on the child does not touch the parent's pzxid
    await c.setData(p + '/x', 'v');
    expect((await c.exists(p)).stat!.pzxid).toBe(child.stat!.czxid);
  });

  it('ephemeral nodes carry the session id; they cannot have children', async () => {
    const p = uniq();
    const r = await c.create2(p, 'e', 1);
    expect(r.err).toBe(0);
    expect(r.stat!.ephemeralOwner).toBe(c.sessionId);
    expect((await c.create(p + '/child')).err).toBe(Err.NOCHILDRENFOREPHEMERALS);
    expect((await c.create(p + '/child', '', OPEN_ACL_UNSAFE, 3)).err).toBe(Err.NOCHILDRENFOREPHEMERALS);
  });

  it('sequential names: %010d of the parent\'s stored cversion (creates only, deletes do not count)', async () => {
    const p = uniq();
    await c.create(p);
    const a = await c.create(p + '/s-', '', OPEN_ACL_UNSAFE, 2);
    expect(a.path).toBe(`${p}/s-0000000000`);
    const b = await c.create(p + '/s-', '', OPEN_ACL_UNSAFE, 2);
    expect(b.path).toBe(`${p}/s-0000000001`);
    await c.create(p + '/plain');
    await c.delete(`${p}/s-0000000000`);
    await c.delete(`${p}/s-0000000001`);
    // 3 creates so far; the 2 deletes do not advance the counter
    const e = await c.create(p + '/e-', '', OPEN_ACL_UNSAFE, 3);
    expect(e.path).toBe(`${p}/e-0000000003`);
    expect((await c.exists(e.path!)).stat!.ephemeralOwner).toBe(c.sessionId);
    // visible cversion = 2 × 4 creates − 2 children = 6 (4 creates + 2 deletes)
    const st = (await c.exists(p)).stat!;
    expect(st.numChildren).toBe(2);
    expect(st.cversion).toBe(6);
    // a trailing slash is allowed for sequential nodes: the suffix makes the name
    const t = await c.create(p + '/', '', OPEN_ACL_UNSAFE, 2);
    expect(t.err).toBe(0);
    expect(t.path).toBe(`${p}/0000000004`);
  });

  it('a failed create does not advance the sequence counter', async () => {
    const p = uniq();
    await c.create(p);
    await c.create(p + '/x');
    expect((await c.create(p + '/x')).err).toBe(Err.NODEEXISTS);
    expect((await c.create(p + '/q-', '', OPEN_ACL_UNSAFE, 2)).path).toBe(`${p}/q-0000000001`);
  });

  it('containers via opcode 19: ephemeralOwner 0 to clients, Create2Response', async () => {
    const p = uniq();
    const r = await c.createContainer(p, 'c');
    expect(r.err).toBe(0);
    expect(r.path).toBe(p);
    expect(r.stat!.ephemeralOwner).toBe(0n);
    expect((await c.exists(p)).stat!.ephemeralOwner).toBe(0n);
    // stored owner is the container marker
    expect(s.zk.tree.getNode(p)!.ephemeralOwner).toBe(CONTAINER_EPHEMERAL_OWNER);
    // containers can have children
    expect((await c.create(p + '/k')).err).toBe(0);
    // flags 4 with opcode 1/15 makes a plain persistent node
    const q = uniq();
    expect((await c.create2(q, '', 4)).err).toBe(0);
    expect(s.zk.tree.getNode(q)!.ephemeralOwner).toBe(0n);
  });

  it('TTL nodes via opcode 21: owner hidden, ttl bounds checked', async () => {
    const p = uniq();
    const r = await c.createTTL(p, 't', 60000);
    expect(r.err).toBe(0);
    expect(r.stat!.ephemeralOwner).toBe(0n);
    expect(BigInt.asUintN(64, s.zk.tree.getNode(p)!.ephemeralOwner).toString(16)).toBe('ff0000000000ea60');
    expect((await c.create(p + '/child')).err).toBe(0);
    const seq = await c.createTTL(p + '/s-', '', 60000, 6);
    expect(seq.err).toBe(0);
    expect(seq.path).toBe(`${p}/s-0000000001`);
    // ttl must be in (0, 2^40 - 1]
    expect((await c.createTTL(uniq(), '', 0)).err).toBe(Err.BADARGUMENTS);
    expect((await c.createTTL(uniq(), '', -5)).err).toBe(Err.BADARGUMENTS);
    expect((await c.createTTL(uniq(), '', 0xffffffffff + 1)).err).toBe(Err.BADARGUMENTS);
    expect((await c.createTTL(uniq(), '', 0xffffffffff)).err).toBe(0);
    // TTL flags through plain create (no ttl field): BADARGUMENTS
    expect((await c.create(uniq(), '', OPEN_ACL_UNSAFE, 5)).err).toBe(Err.BADARGUMENTS);
    // createTTL with a non-TTL mode and ttl >= 0: BADARGUMENTS; with ttl -1 it is a plain create
    expect((await c.createTTL(uniq(), '', 1000, 0)).err).toBe(Err.BADARGUMENTS);
    const plain = await c.createTTL(uniq(), '', -1, 0);
    expect(plain.err).toBe(0);
    expect(s.zk.tree.getNode(plain.path!)!.ephemeralOwner).toBe(0n);
  });

  it('error codes: NODEEXISTS, NONODE parent, invalid flags, invalid ACL', async () => {
    const p = uniq();
    expect((await c.create(p)).err).toBe(0);
    expect((await c.create(p)).err).toBe(Err.NODEEXISTS);
    expect((await c.create(p + '/no/such')).err).toBe(Err.NONODE);
    expect((await c.create(p + '/f', '', OPEN_ACL_UNSAFE, 7)).err).toBe(Err.BADARGUMENTS);
    expect((await c.create(p + '/f', '', OPEN_ACL_UNSAFE, -1)).err).toBe(Err.BADARGUMENTS);
    expect((await c.create(p + '/f', '', [])).err).toBe(Err.INVALIDACL);
    expect((await c.create(p + '/f', '', null)).err).toBe(Err.INVALIDACL);
    // the ACL is checked before the parent lookup
    expect((await c.create(p + '/no/such', '', [])).err).toBe(Err.INVALIDACL);
    expect((await c.exists(p + '/f')).err).toBe(Err.NONODE);
  });

  it('invalid paths: BADARGUMENTS', async () => {
    await c.create('/a');
    for (const bad of ['a', '', '/a/', '//', '/.', '/..', '/a/.', '/a/..', '/a\u0000b', '/a\u0001', '/a\u007f', '/a\ud83d\ude00', '/a\ufff0']) {
      expect((await c.create(bad)).err, JSON.stringify(bad)).toBe(Err.BADARGUMENTS);
    }
    // names that merely contain dots are fine
    for (const ok of ['/a/.x', '/a/..y', '/a/...', '/a/x.']) expect((await c.create(ok)).err, ok).toBe(0);
    // ZooKeeper resolves the parent before validating: a trailing slash under a missing parent is NONODE
    for (const p of ['/nosuchparent/', '/a//b', '/a/./b']) expect((await c.create(p)).err, p).toBe(Err.NONODE);
  });

  it('a failed write still consumes a zxid (error txn)', async () => {
    const p = uniq();
    const a = await c.create(p);
    const dup = await c.create(p);
    expect(dup.err).toBe(Err.NODEEXISTS);
    expect(dup.zxid).toBe(a.zxid + 1);
    const b = await c.create2(p + '/b');
    expect(b.stat!.czxid).toBe(a.zxid + 2);
  });
});

describe('getData / exists / getChildren', () => {
  it('getData returns data and Stat; null data is buffer -1; NONODE', async () => {
    const p = uniq();
    await c.create(p, null);
    const r = await c.call(OpCode.getData, undefined, pathBool(p, false));
    expect(r.header.err).toBe(0);
    expect(r.reader.readInt()).toBe(-1);
    expect(readStat(r.reader).dataLength).toBe(0);
    await c.create(p + '/e', '');
    expect((await c.getData(p + '/e')).data).toEqual(Buffer.alloc(0));
    await c.setData(p, Buffer.from([0, 1, 2, 255]));
    const g = await c.getData(p);
    expect(g.data).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(g.stat!.dataLength).toBe(4);
    const miss = await c.call(OpCode.getData, undefined, pathBool(p + '/missing', false));
    expect(miss.header.err).toBe(Err.NONODE);
    expect(miss.reader.remaining()).toBe(0); // error replies have no body
  });

  it('exists: Stat or NONODE (header only); NUL in the path is BADARGUMENTS', async () => {
    const p = uniq();
    await c.create(p, 'abc');
    const e = await c.exists(p);
    expect(e.stat!.dataLength).toBe(3);
    const r = await c.call(OpCode.exists, undefined, pathBool(p + '/none', false));
    expect(r.header.err).toBe(Err.NONODE);
    expect(r.reader.remaining()).toBe(0);
    expect((await c.exists('/a\u0000b')).err).toBe(Err.BADARGUMENTS);
    // reads do not validate otherwise: a malformed path is simply not there
    expect((await c.exists('/x/')).err).toBe(Err.NONODE);
    expect((await c.getData('nope')).err).toBe(Err.NONODE);
  });

  it('getChildren and getChildren2 (children + Stat); NONODE', async () => {
    const p = uniq();
    await c.create(p);
    for (const k of ['b', 'a', 'c']) await c.create(`${p}/${k}`);
    await c.create(`${p}/a/deep`);
    expect((await c.getChildren(p)).children!.sort()).toEqual(['a', 'b', 'c']);
    const g2 = await c.getChildren2(p);
    expect(g2.children!.sort()).toEqual(['a', 'b', 'c']);
    expect(g2.stat!.numChildren).toBe(3);
    expect(g2.stat!.cversion).toBe(3);
    expect(g2.stat).toEqual((await c.exists(p)).stat);
    expect((await c.getChildren(p + '/b')).children).toEqual([]);
    expect((await c.getChildren(p + '/none')).err).toBe(Err.NONODE);
    expect((await c.getChildren2(p + '/none')).err).toBe(Err.NONODE);
  });

  it('reply headers carry the last processed zxid', async () => {
    const p = uniq();
    const w = await c.create2(p);
    const r = await c.getData(p);
    expect(r.zxid).toBe(w.stat!.czxid);
    const ping = await c.ping();
    expect(ping.header).toEqual({ xid: -2, zxid: w.stat!.czxid, err: 0 });
  });
});

describe('setData / delete', () => {
  it('setData: version +1, mzxid/mtime move, ctime/czxid stay; BADVERSION; NONODE', async () => {
    const p = uniq();
    const cr = await c.create2(p, 'a');
    const s1 = await c.setData(p, 'bb', 0);
    expect(s1.err).toBe(0);
    expect(s1.stat!.version).toBe(1);
    expect(s1.stat!.dataLength).toBe(2);
    expect(s1.stat!.mzxid).toBe(s1.zxid);
    expect(s1.stat!.mzxid).toBeGreaterThan(cr.stat!.mzxid);
    expect(s1.stat!.czxid).toBe(cr.stat!.czxid);
    expect(s1.stat!.ctime).toBe(cr.stat!.ctime);
    expect(s1.stat!.mtime).toBeGreaterThanOrEqual(cr.stat!.mtime);
    expect(s1.stat!.pzxid).toBe(cr.stat!.pzxid);
    expect((await c.setData(p, 'x', 0)).err).toBe(Err.BADVERSION);
    expect((await c.setData(p, 'x', 5)).err).toBe(Err.BADVERSION);
    expect((await c.setData(p, 'x', -1)).stat!.version).toBe(2);
    expect((await c.setData(p, 'y', 2)).stat!.version).toBe(3);
    expect((await c.getData(p)).data!.toString()).toBe('y');
    expect((await c.setData(p + '/none', 'x')).err).toBe(Err.NONODE);
    expect((await c.setData('/bad/', 'x')).err).toBe(Err.BADARGUMENTS);
    // null data
    const sn = await c.setData(p, null);
    expect(sn.stat!.dataLength).toBe(0);
    expect((await c.getData(p)).data).toBeNull();
  });

  it('delete: no reply body; version check; NOTEMPTY; NONODE; BADVERSION before NOTEMPTY', async () => {
    const p = uniq();
    await c.create(p);
    await c.create(p + '/k');
    await c.setData(p + '/k', 'v');
    expect((await c.delete(p)).err).toBe(Err.NOTEMPTY);
    expect((await c.delete(p, 7)).err).toBe(Err.BADVERSION);
    expect((await c.delete(p + '/k', 0)).err).toBe(Err.BADVERSION);
    const d = await c.delete(p + '/k', 1);
    expect(d.err).toBe(0);
    expect(d.bodyLength).toBe(0);
    expect((await c.delete(p + '/k')).err).toBe(Err.NONODE);
    expect((await c.delete(p + '/no/such')).err).toBe(Err.NONODE);
    expect((await c.delete('nope')).err).toBe(Err.BADARGUMENTS);
    expect((await c.delete('/a\u0000')).err).toBe(Err.BADARGUMENTS);
    expect((await c.delete(p)).err).toBe(0);
    expect((await c.exists(p)).err).toBe(Err.NONODE);
  });

  it('delete moves the parent pzxid to the delete zxid and bumps visible cversion', async () => {
    const p = uniq();
    await c.create(p);
    const k = await c.create2(p + '/k');
    const before = (await c.exists(p)).stat!;
    expect(before.pzxid).toBe(k.stat!.czxid);
    const d = await c.delete(p + '/k');
    const after = (await c.exists(p)).stat!;
    expect(after.pzxid).toBe(d.zxid);
    expect(after.cversion).toBe(before.cversion + 1);
    expect(after.mzxid).toBe(before.mzxid);
  });
});

describe('other reads', () => {
  it('getAllChildrenNumber counts every descendant; "/" counts all nodes but the root', async () => {
    const p = uniq();
    await c.create(p);
    await c.create(p + '/a');
    await c.create(p + '/a/b');
    await c.create(p + '/a/b/c');
    await c.create(p + '/d');
    // a sibling sharing the prefix must not be counted
    await c.create(p + 'x');
    await c.create(p + 'x/y');
    expect((await c.getAllChildrenNumber(p)).count).toBe(4);
    expect((await c.getAllChildrenNumber(p + '/a/b/c')).count).toBe(0);
    expect((await c.getAllChildrenNumber(p + '/none')).err).toBe(Err.NONODE);
    const all = (await c.getAllChildrenNumber('/')).count!;
    expect(all).toBe(s.zk.tree.nodeCount - 1);
    expect(all).toBeGreaterThanOrEqual(3 + 7);
  });

  it('getEphemerals: own session only, plain prefix match, null/""/"/" = all', async () => {
    const other = await RawClient.connect(s.port);
    const p = uniq();
    await c.create(p);
    await c.create(p + '/e1', '', OPEN_ACL_UNSAFE, 1);
    await c.create(p + '/e2', '', OPEN_ACL_UNSAFE, 1);
    await c.create(p + 'z', '', OPEN_ACL_UNSAFE, 1);
    await other.create(p + '/theirs', '', OPEN_ACL_UNSAFE, 1);
    const mine = (await c.getEphemerals(p)).paths!.sort();
    expect(mine).toEqual([p + '/e1', p + '/e2', p + 'z']);
    expect((await c.getEphemerals(p + '/')).paths!.sort()).toEqual([p + '/e1', p + '/e2']);
    expect((await c.getEphemerals(p + '/e1')).paths).toEqual([p + '/e1']);
    expect((await c.getEphemerals('/nothing-here')).paths).toEqual([]);
    for (const all of [null, '', '/', ' / ']) {
      const got = (await c.getEphemerals(all)).paths!;
      expect(got, String(all)).toEqual(expect.arrayContaining([p + '/e1', p + '/e2', p + 'z']));
      expect(got).not.toContain(p + '/theirs');
    }
    expect((await other.getEphemerals('/')).paths).toEqual([p + '/theirs']);
    await other.close();
  });

  it('sync echoes the path (even for a missing node)', async () => {
    expect(await c.sync('/')).toEqual({ err: 0, path: '/' });
    expect(await c.sync('/no/such/node')).toEqual({ err: 0, path: '/no/such/node' });
  });

  it('whoAmI: the ip id first, then digest users', async () => {
    const k = await RawClient.connect(s.port);
    expect(await k.whoAmI()).toEqual({ err: 0, infos: [{ scheme: 'ip', user: '127.0.0.1' }] });
    expect((await k.auth('digest', 'alice:pw')).err).toBe(0);
    expect(await k.whoAmI()).toEqual({
      err: 0,
      infos: [
        { scheme: 'ip', user: '127.0.0.1' },
        { scheme: 'digest', user: 'alice' },
      ],
    });
    await k.close();
  });

  it('reconfig is RECONFIGDISABLED when reconfigEnabled is off', async () => {
    const r = await c.call(OpCode.reconfig, undefined, (w) => {
      w.writeString(null);
      w.writeString(null);
      w.writeString('server.2=localhost:2888:3888');
      w.writeLong(-1);
    });
    expect(r.header.err).toBe(Err.RECONFIGDISABLED);
    expect((await c.exists('/')).err).toBe(0);
  });

  it('getACL of a missing node is NONODE', async () => {
    expect((await c.getACL(uniq())).err).toBe(Err.NONODE);
    const r = await c.call(OpCode.getACL, undefined, pathOnly('/'));
    expect(r.header.err).toBe(0);
  });
});

describe('pipelining', () => {
  it('many requests in flight: replies in request order, each with its own result', async () => {
    const p = uniq();
    await c.create(p);
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      ps.push(c.create(`${p}/n${i}`, String(i)));
      ps.push(c.getData(`${p}/n${i}`));
      ps.push(c.setData(`${p}/n${i}`, `v${i}`, 0));
    }
    const res = (await Promise.all(ps)) as { err: number; data?: Buffer }[];
    for (let i = 0; i < 60; i++) {
      expect(res[3 * i].err).toBe(0);
      // the read sees the create sent before it on the same connection
      expect(res[3 * i + 1].data!.toString()).toBe(String(i));
      expect(res[3 * i + 2].err).toBe(0);
    }
    expect(c.outOfOrder).toEqual([]);
    expect(c.unexpected).toEqual([]);
    expect((await c.getChildren(p)).children!.length).toBe(60);
  });
});

describe('TTL without extendedTypesEnabled', () => {
  it('createTTL is UNIMPLEMENTED (-6) and the connection stays', async () => {
    const plain = await startTestServer({ extendedTypesEnabled: false });
    try {
      const k = await RawClient.connect(plain.port);
      expect((await k.createTTL('/t', '', 1000)).err).toBe(Err.UNIMPLEMENTED);
      expect((await k.createTTL('/t', '', 1000, 6)).err).toBe(Err.UNIMPLEMENTED);
      expect((await k.exists('/t')).err).toBe(Err.NONODE);
      // other create modes still work
      expect((await k.createContainer('/c')).err).toBe(0);
      expect((await k.create('/p')).err).toBe(0);
      await k.close();
    } finally {
      await plain.stop();
    }
  });
});
