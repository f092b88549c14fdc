// multi (14) and multiRead (22) over the wire (wire-client.md §8): all-or-nothing writes with
// results 0 / code / -2 and ReplyHeader.err 0, byte-exact responses against the 3.8.0 vectors,
// check ops, multiRead's independent results.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningServer } from '../src/main';
import { Err, EventType, OpCode } from '../src/data/constants';
import { op, OPEN_ACL_UNSAFE, RawClient, writeMulti } from './helpers/rawclient';
import { startTestServer } from './helpers/server';

let s: RunningServer;
let c: RawClient;
let n = 0;
const uniq = (): string => `/m${++n}`;

beforeAll(async () => {
  s = await startTestServer();
  c = await RawClient.connect(s.port);
});
afterAll(async () => {
  await c.close();
  await s.stop();
});

describe('multi: success', () => {
  it('reply body matches the 3.8.0 vector for [create "/a", delete "/a", check]', async () => {
    const r = await c.call(OpCode.multi, undefined, (w) => writeMulti(w, [op.create('/a', 'x'), op.delete('/a'), op.check('/', -1)]));
    expect(r.header.err).toBe(0);
    expect(r.frame.subarray(16).toString('hex')).toBe(
      '00000001 00 00000000 00000002 2f61  00000002 00 00000000  0000000d 00 00000000  ffffffff 01 ffffffff'.replace(/\s+/g, ''),
    );
    expect((await c.exists('/a')).err).toBe(Err.NONODE);
  });

  it('every write op type, one zxid for all, results in order with the right types', async () => {
    const p = uniq();
    await c.create(p, 'orig');
    const m = await c.multi([
      op.create(p + '/c1', 'a'),
      op.create2(p + '/c2', 'bb'),
      op.createContainer(p + '/cc'),
      op.createTTL(p + '/ttl', 't', 60000),
      op.create(p + '/seq-', '', 2),
      op.setData(p, 'new', 0),
      op.check(p, 1),
      op.delete(p + '/c1', 0),
    ]);
    expect(m.err).toBe(0);
    const r = m.results;
    expect(r.map((x) => [x.type, x.err])).toEqual([
      [OpCode.create, 0],
      [OpCode.create2, 0],
      [OpCode.create2, 0],
      [OpCode.create2, 0],
      [OpCode.create, 0],
      [OpCode.setData, 0],
      [OpCode.check, 0],
      [OpCode.delete, 0],
    ]);
    expect(r[0].path).toBe(p + '/c1');
    expect(r[0].stat).toBeUndefined();
    expect(r[1].path).toBe(p + '/c2');
    expect(r[1].stat!.dataLength).toBe(2);
    expect(r[2].stat!.ephemeralOwner).toBe(0n);
    expect(r[3].stat!.ephemeralOwner).toBe(0n);
    // stored cversion was 4 after c1, c2, cc, ttl
    expect(r[4].path).toBe(`${p}/seq-0000000004`);
    expect(r[5].stat!.version).toBe(1);
    // one txn: every op has the multi's zxid
    const z = m.zxid;
    expect(r[1].stat!.czxid).toBe(z);
    expect(r[5].stat!.mzxid).toBe(z);
    expect((await c.exists(p + '/c2')).stat!.czxid).toBe(z);
    expect((await c.exists(p + '/c1')).err).toBe(Err.NONODE);
    expect((await c.getData(p)).data!.toString()).toBe('new');
    const ps = (await c.exists(p)).stat!;
    expect(ps.pzxid).toBe(z);
    expect(ps.numChildren).toBe(4);
  });

  it('each op answers with the Stat its own op left: the same znode created, set twice, its child created', async () => {
    const p = uniq();
    const m = await c.multi([op.create2(p, 'a'), op.setData(p, 'bb', 0), op.setData(p, 'ccc', 1), op.create2(p + '/k', '')]);
    expect(m.err).toBe(0);
    const [made, set1, set2] = m.results.map((x) => x.stat!);
    expect([made.version, made.dataLength, made.numChildren]).toEqual([0, 1, 0]);
    expect([set1.version, set1.dataLength]).toEqual([1, 2]);
    expect([set2.version, set2.dataLength, set2.numChildren]).toEqual([2, 3, 0]);
    expect((await c.exists(p)).stat!).toMatchObject({ version: 2, dataLength: 3, numChildren: 1 });
  });

  it('later ops see earlier ones (create parent and child, delete what was just created)', async () => {
    const p = uniq();
    const m = await c.multi([op.create(p), op.create(p + '/k', 'v'), op.setData(p + '/k', 'w', 0), op.check(p + '/k', 1), op.delete(p + '/k', 1)]);
    expect(m.results.map((x) => x.err)).toEqual([0, 0, 0, 0, 0]);
    expect((await c.getChildren(p)).children).toEqual([]);
  });

  it('an empty multi answers with just the terminator', async () => {
    const r = await c.call(OpCode.multi, undefined, (w) => writeMulti(w, []));
    expect(r.header.err).toBe(0);
    expect(r.frame.subarray(16).toString('hex')).toBe('ffffffff01ffffffff');
  });

  it('watches fire for each applied op', async () => {
    const w = await RawClient.connect(s.port);
    const p = uniq();
    await c.create(p);
    await w.getData(p, true);
    await w.getChildren(p, true);
    await c.multi([op.setData(p, 'x'), op.create(p + '/k')]);
    await w.waitEvents(2);
    expect(w.events.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeDataChanged, p],
      [EventType.NodeChildrenChanged, p],
    ]);
    await w.close();
  });
});

describe('multi: failure is all-or-nothing', () => {
  it('reply body matches the 3.8.0 vector [0, -101, -2]; ReplyHeader.err is 0; nothing applied', async () => {
    const p = uniq();
    await c.create(p, 'keep');
    const r = await c.call(OpCode.multi, undefined, (w) =>
      writeMulti(w, [op.create(p + '/new'), op.delete(p + '/missing'), op.setData(p, 'changed')]),
    );
    expect(r.header.err).toBe(0);
    expect(r.frame.subarray(16).toString('hex')).toBe(
      'ffffffff 00 00000000 00000000  ffffffff 00 ffffff9b ffffff9b  ffffffff 00 fffffffe fffffffe  ffffffff 01 ffffffff'.replace(/\s+/g, ''),
    );
    expect((await c.exists(p + '/new')).err).toBe(Err.NONODE);
    const g = await c.getData(p);
    expect(g.data!.toString()).toBe('keep');
    expect(g.stat!.version).toBe(0);
    expect(g.stat!.cversion).toBe(0);
  });

  it('the failing op gets its own code; later ops -2 even if they would fail too', async () => {
    const p = uniq();
    await c.create(p);
    const cases: [ReturnType<typeof op.check>[], number[]][] = [
      [[op.check(p, 5), op.create(p + '/x')], [Err.BADVERSION, -2]],
      [[op.create(p + '/x'), op.create(p + '/x')], [0, Err.NODEEXISTS]],
      [[op.create(p + '/x'), op.create(p), op.delete('/nope'), op.check('/nope', 0)], [0, Err.NODEEXISTS, -2, -2]],
      [[op.setData(p, 'x', 3)], [Err.BADVERSION]],
      [[op.create(p + '/y'), op.delete(p)], [0, Err.NOTEMPTY]],
      [[op.check(p + '/nope', -1)], [Err.NONODE]],
      [[op.create(p + '/bad/', '')], [Err.NONODE]],
      [[op.create(p + '/b//c', '')], [Err.NONODE]],
      [[op.create('/bad\u0000', '')], [Err.BADARGUMENTS]],
      [[op.delete('/zookeeper')], [Err.BADARGUMENTS]],
      [[op.create(p + '/z', '', 0, [])], [Err.INVALIDACL]],
      [[op.createTTL(p + '/t', '', 0)], [Err.BADARGUMENTS]],
    ];
    for (const [ops, codes] of cases) {
      const m = await c.multi(ops);
      expect(m.err).toBe(0);
      expect(m.results.map((x) => x.type)).toEqual(codes.map(() => -1));
      expect(m.results.map((x) => x.err), JSON.stringify(codes)).toEqual(codes);
    }
    expect((await c.getChildren(p)).children).toEqual([]);
    const st = (await c.exists(p)).stat!;
    expect([st.version, st.cversion, st.numChildren]).toEqual([0, 0, 0]);
  });

  it('a failed multi consumes one zxid and fires no watch; the sequence counter does not move', async () => {
    const w = await RawClient.connect(s.port);
    const p = uniq();
    const base = await c.create(p);
    await w.getChildren(p, true);
    await w.getData(p, true);
    const m = await c.multi([op.create(p + '/a'), op.setData(p, 'x'), op.check(p, 9)]);
    expect(m.results.map((x) => x.err)).toEqual([0, 0, Err.BADVERSION]);
    expect(m.zxid).toBe(base.zxid + 1);
    const seq = await c.create(p + '/s-', '', OPEN_ACL_UNSAFE, 2);
    expect(seq.path).toBe(`${p}/s-0000000000`);
    expect(seq.zxid).toBe(base.zxid + 2);
    await w.waitEvents(1);
    await w.ping();
    // only the later sequential create's NodeChildrenChanged; nothing from the failed multi
    expect(w.events.map((e) => [e.type, e.path])).toEqual([[EventType.NodeChildrenChanged, p]]);
    await w.close();
  });

  it('a failed multi leaves no trace for requests pipelined behind it', async () => {
    const p = uniq();
    const a = c.create(p);
    const m = c.multi([op.create(p + '/x'), op.create(p + '/x')]);
    const after = c.create(p + '/x');
    const chk = c.multi([op.check(p, 0)]);
    expect((await a).err).toBe(0);
    expect((await m).results.map((x) => x.err)).toEqual([0, Err.NODEEXISTS]);
    expect((await after).err).toBe(0);
    expect((await chk).results.map((x) => x.err)).toEqual([0]);
    // p/x once (the second create), cversion counts only that
    expect((await c.exists(p)).stat!.cversion).toBe(1);
  });

  it('read ops inside a write multi, or unknown op types: MARSHALLINGERROR, connection kept', async () => {
    for (const ops of [[op.getData('/')], [op.create(uniq()), op.getChildren('/')], [{ type: 99, write: () => {} }]]) {
      const r = await c.call(OpCode.multi, undefined, (w) => writeMulti(w, ops));
      expect(r.header.err).toBe(Err.MARSHALLINGERROR);
      expect(r.reader.remaining()).toBe(0);
    }
    expect((await c.exists('/')).err).toBe(0);
    expect(c.isClosed).toBe(false);
  });

  it('ephemeral creates inside multi belong to the session', async () => {
    const p = uniq();
    await c.create(p);
    const m = await c.multi([op.create2(p + '/e', '', 1), op.create(p + '/e/child')]);
    expect(m.results.map((x) => x.err)).toEqual([0, Err.NOCHILDRENFOREPHEMERALS]);
    const ok = await c.multi([op.create2(p + '/e', '', 1)]);
    expect(ok.results[0].stat!.ephemeralOwner).toBe(c.sessionId);
  });
});

describe('multiRead', () => {
  it('independent results: data, children, and per-op errors; header err 0', async () => {
    const p = uniq();
    await c.create(p, 'pd');
    await c.create(p + '/a', 'ad');
    await c.create(p + '/b');
    await c.create(p + '/locked', 'x', [{ perms: 0, id: { scheme: 'world', id: 'anyone' } }]);
    const r = await c.multiRead([op.getData(p), op.getChildren(p), op.getData(p + '/missing'), op.getData(p + '/a'), op.getChildren(p + '/locked'), op.getChildren(p + '/b')]);
    expect(r.err).toBe(0);
    const [d, ch, miss, a, locked, b] = r.results;
    expect([d.type, d.err, d.data!.toString()]).toEqual([OpCode.getData, 0, 'pd']);
    expect(d.stat).toEqual((await c.exists(p)).stat);
    expect([ch.type, ch.err]).toEqual([OpCode.getChildren, 0]);
    expect(ch.children!.sort()).toEqual(['a', 'b', 'locked']);
    expect([miss.type, miss.err]).toEqual([-1, Err.NONODE]);
    expect(a.data!.toString()).toBe('ad');
    expect([locked.type, locked.err]).toEqual([-1, Err.NOAUTH]);
    expect(b.children).toEqual([]);
  });

  it('multiRead applies nothing and consumes no zxid', async () => {
    const before = (await c.ping()).header.zxid;
    const r = await c.multiRead([op.getData('/'), op.getData('/nope')]);
    expect(r.zxid).toBe(before);
    expect((await c.ping()).header.zxid).toBe(before);
  });

  it('write ops inside multiRead: MARSHALLINGERROR, connection kept', async () => {
    for (const ops of [[op.create(uniq())], [op.getData('/'), op.check('/', -1)], [op.delete('/nope')]]) {
      const r = await c.call(OpCode.multiRead, undefined, (w) => writeMulti(w, ops));
      expect(r.header.err).toBe(Err.MARSHALLINGERROR);
    }
    expect((await c.exists('/')).err).toBe(0);
  });

  it('an empty multiRead answers with just the terminator', async () => {
    const r = await c.call(OpCode.multiRead, undefined, (w) => writeMulti(w, []));
    expect(r.header.err).toBe(0);
    expect(r.frame.subarray(16).toString('hex')).toBe('ffffffff01ffffffff');
  });
});
