// The client protocol against an in-process standalone server: each opcode's success and error
// paths with ZooKeeper 3.8's codes and Stat semantics, watches, ACLs, sessions and bad input.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JuteReader, JuteWriter } from '../src/jute/archive';
import { readStat, writeACLs } from '../src/jute/records';
import { digestOf } from '../src/server/auth';
import { Err, EventType, OpCode } from '../src/data/constants';
import { RunningServer } from '../src/main';
import { MiniClient } from './helpers/miniclient';
import { startTestServer } from './helpers/server';

let s: RunningServer;
let n = 0;
const uniq = (): string => `/t${++n}`;
const B = (x: string): Buffer => Buffer.from(x);
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await wait(10);
  }
}

beforeAll(async () => {
  s = await startTestServer({ superDigest: digestOf('super:secret'), tickTime: 200, minSessionTimeout: 400, maxSessionTimeout: 4000, containerCheckIntervalMs: 200 });
});
afterAll(async () => {
  await s.stop();
});

const pathOnly = (p: string) => (w: JuteWriter) => w.writeString(p);
const pathWatch = (p: string, watch = false) => (w: JuteWriter) => {
  w.writeString(p);
  w.writeBool(watch);
};
const pathVersion = (p: string, v: number) => (w: JuteWriter) => {
  w.writeString(p);
  w.writeInt(v);
};

describe('create, read, update, delete', () => {
  it('create2 returns the path and the new Stat; the parent stat follows ZooKeeper', async () => {
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    const r = await c.create2(p, B('v'));
    expect(r.err).toBe(0);
    expect(r.body.readStr()).toBe(p);
    const st = readStat(r.body);
    expect(st.czxid).toBe(st.mzxid);
    expect(st.pzxid).toBe(st.czxid);
    expect([st.version, st.cversion, st.aversion, st.dataLength, st.numChildren]).toEqual([0, 0, 0, 1, 0]);
    expect(await c.create(p + '/a', B(''))).toBe(0);
    expect(await c.create(p + '/b', B(''))).toBe(0);
    expect(await c.call(OpCode.delete, pathVersion(p + '/a', -1)).then((x) => x.err)).toBe(0);
    const g = await c.getData(p);
    // visible cversion counts creates and deletes: 2 creates + 1 delete
    expect(g.stat!.cversion).toBe(3);
    expect(g.stat!.numChildren).toBe(1);
    c.close();
  });

  it('error codes: NODEEXISTS, NONODE, BADVERSION, NOTEMPTY, NOCHILDRENFOREPHEMERALS, BADARGUMENTS', async () => {
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    expect(await c.create(p, B('x'))).toBe(0);
    expect(await c.create(p, B('x'))).toBe(Err.NODEEXISTS);
    expect(await c.create(p + '/no/such', B('x'))).toBe(Err.NONODE);
    expect(await c.setData(p, B('y'), 5)).toBe(Err.BADVERSION);
    expect(await c.setData(p, B('y'), 0)).toBe(0);
    expect(await c.setData(p + '/none', B('y'))).toBe(Err.NONODE);
    expect(await c.create(p + '/k', B(''))).toBe(0);
    expect((await c.call(OpCode.delete, pathVersion(p, -1))).err).toBe(Err.NOTEMPTY);
    expect((await c.call(OpCode.delete, pathVersion(p + '/k', 3))).err).toBe(Err.BADVERSION);
    expect(await c.create(p + '/e', B(''), 1)).toBe(0);
    expect(await c.create(p + '/e/x', B(''))).toBe(Err.NOCHILDRENFOREPHEMERALS);
    // ZooKeeper looks the parent up before it validates the whole path: a missing parent is NONODE
    const badPaths: [string, number][] = [
      [p + '/', Err.BADARGUMENTS],
      ['a', Err.BADARGUMENTS],
      ['/.', Err.BADARGUMENTS],
      [p + '/..', Err.BADARGUMENTS],
      ['/a\u0000b', Err.BADARGUMENTS],
      ['/nope//b', Err.NONODE],
      ['/nope/..', Err.NONODE],
    ];
    for (const [bad, code] of badPaths) expect(await c.create(bad, B('')), bad).toBe(code);
    expect((await c.call(OpCode.delete, pathVersion('/zookeeper', -1))).err).toBe(Err.BADARGUMENTS);
    expect((await c.call(OpCode.getData, pathWatch('/nope'))).err).toBe(Err.NONODE);
    expect((await c.call(OpCode.exists, pathWatch('/nope'))).err).toBe(Err.NONODE);
    c.close();
  });

  it('sequential names come from the parent cversion (creates only)', async () => {
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    await c.create(p, B(''));
    const a = await c.create2(p + '/s-', B(''), 2);
    expect(a.body.readStr()).toBe(p + '/s-0000000000');
    await c.call(OpCode.delete, pathVersion(p + '/s-0000000000', -1));
    const b = await c.create2(p + '/s-', B(''), 2);
    expect(b.body.readStr()).toBe(p + '/s-0000000001');
    c.close();
  });

  it('containers and TTL nodes: ephemeralOwner 0 to clients, removed by the background check', async () => {
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    const r = await c.create2(p, B(''), 4, OpCode.createContainer);
    expect(r.err).toBe(0);
    r.body.readStr();
    expect(readStat(r.body).ephemeralOwner).toBe(0n);
    await c.create(p + '/kid', B(''));
    await c.call(OpCode.delete, pathVersion(p + '/kid', -1));
    const t = await c.create2(uniq(), B(''), 5, OpCode.createTTL, undefined, 100);
    expect(t.err).toBe(0);
    const ttlPath = t.body.readStr();
    await until(() => s.zk.tree.getNode(p) === undefined && s.zk.tree.getNode(ttlPath) === undefined);
    expect((await c.create2(uniq(), B(''), 5, OpCode.createTTL, undefined, 0)).err).toBe(Err.BADARGUMENTS);
    c.close();
  });

  it('TTL is UNIMPLEMENTED without extendedTypesEnabled', async () => {
    const s2 = await startTestServer({ extendedTypesEnabled: false });
    const c = await MiniClient.connect(s2.port);
    expect((await c.create2('/ttl', B(''), 5, OpCode.createTTL, undefined, 1000)).err).toBe(Err.UNIMPLEMENTED);
    c.close();
    await s2.stop();
  });

  it('getChildren2, getAllChildrenNumber, getEphemerals, sync, whoAmI', async () => {
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    await c.create(p, B(''));
    await c.create(p + '/a', B(''));
    await c.create(p + '/a/b', B(''));
    await c.create(p + '/e1', B(''), 1);
    const ch = await c.call(OpCode.getChildren2, pathWatch(p));
    expect((ch.body.readVector((x) => x.readStr()) ?? []).sort()).toEqual(['a', 'e1']);
    expect(readStat(ch.body).numChildren).toBe(2);
    const all = await c.call(OpCode.getAllChildrenNumber, pathOnly(p));
    expect(all.body.readInt()).toBe(3);
    const eph = await c.call(OpCode.getEphemerals, pathOnly(p));
    expect(eph.body.readVector((x) => x.readStr())).toEqual([p + '/e1']);
    const sy = await c.call(OpCode.sync, pathOnly(p));
    expect(sy.body.readStr()).toBe(p);
    const who = await c.call(OpCode.whoAmI, () => {});
    expect(who.body.readVector((x) => [x.readStr(), x.readStr()])).toEqual([['ip', '127.0.0.1']]);
    c.close();
  });
});

describe('multi', () => {
  const op = (w: JuteWriter, type: number, f: (w: JuteWriter) => void): void => {
    w.writeInt(type);
    w.writeBool(false);
    w.writeInt(-1);
    f(w);
  };
  const end = (w: JuteWriter): void => {
    w.writeInt(-1);
    w.writeBool(true);
    w.writeInt(-1);
  };
  const createBody = (p: string) => (w: JuteWriter) => {
    w.writeString(p);
    w.writeBuffer(B('m'));
    writeACLs(w, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
    w.writeInt(0);
  };
  const results = (r: JuteReader): [number, number][] => {
    const out: [number, number][] = [];
    for (;;) {
      const type = r.readInt();
      const done = r.readBool();
      const err = r.readInt();
      if (done) return out;
      out.push([type, err]);
      if (type === -1) r.readInt();
      else if (type === OpCode.create) r.readStr();
      else if (type === OpCode.setData) readStat(r);
    }
  };
  it('applies all ops or none; a failure reports 0, its code, then -2', async () => {
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    const ok = await c.call(OpCode.multi, (w) => {
      op(w, OpCode.create, createBody(p));
      op(w, OpCode.check, pathVersion(p, 0));
      op(w, OpCode.setData, (x) => {
        x.writeString(p);
        x.writeBuffer(B('2'));
        x.writeInt(0);
      });
      end(w);
    });
    expect(ok.err).toBe(0);
    expect(results(ok.body)).toEqual([
      [OpCode.create, 0],
      [OpCode.check, 0],
      [OpCode.setData, 0],
    ]);
    const bad = await c.call(OpCode.multi, (w) => {
      op(w, OpCode.create, createBody(p + '/new'));
      op(w, OpCode.check, pathVersion(p, 7));
      op(w, OpCode.delete, pathVersion(p, -1));
      end(w);
    });
    expect(bad.err).toBe(0);
    expect(results(bad.body)).toEqual([
      [-1, 0],
      [-1, Err.BADVERSION],
      [-1, Err.RUNTIMEINCONSISTENCY],
    ]);
    expect((await c.getData(p + '/new')).err).toBe(Err.NONODE);
    const rd = await c.call(OpCode.multiRead, (w) => {
      op(w, OpCode.getData, pathWatch(p));
      op(w, OpCode.getData, pathWatch(p + '/none'));
      end(w);
    });
    expect(rd.body.readInt()).toBe(OpCode.getData);
    c.close();
  });
});

describe('watches', () => {
  it('a watcher sees the event before the reply of the write that caused it', async () => {
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    await c.create(p, B(''));
    await c.call(OpCode.getData, pathWatch(p, true));
    c.arrivals.length = 0;
    await c.setData(p, B('x'));
    expect(c.arrivals[0]).toBe(`event:${EventType.NodeDataChanged}:${p}`);
    // one-shot: a second change fires nothing
    await c.setData(p, B('y'));
    await wait(50);
    expect(c.events.filter(([, q]) => q === p)).toHaveLength(1);
    c.close();
  });

  it('exists watch fires NodeCreated; child watch NodeChildrenChanged; delete fires NodeDeleted', async () => {
    const w = await MiniClient.connect(s.port);
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    expect((await w.call(OpCode.exists, pathWatch(p, true))).err).toBe(Err.NONODE);
    await c.create(p, B(''));
    await until(() => w.events.some(([t, q]) => t === EventType.NodeCreated && q === p));
    await w.call(OpCode.getChildren, pathWatch(p, true));
    await w.call(OpCode.exists, pathWatch(p, true));
    await c.create(p + '/k', B(''));
    await until(() => w.events.some(([t, q]) => t === EventType.NodeChildrenChanged && q === p));
    await c.call(OpCode.delete, pathVersion(p + '/k', -1));
    await c.call(OpCode.delete, pathVersion(p, -1));
    await until(() => w.events.some(([t, q]) => t === EventType.NodeDeleted && q === p));
    w.close();
    c.close();
  });

  it('persistent recursive watches fire for descendants but never NodeChildrenChanged; removeWatches/checkWatches', async () => {
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    await c.create(p, B(''));
    const add = await c.call(OpCode.addWatch, (w) => {
      w.writeString(p);
      w.writeInt(1);
    });
    expect(add.err).toBe(0);
    expect(add.body.readInt()).toBe(0);
    await c.create(p + '/a', B(''));
    await c.setData(p + '/a', B('1'));
    await c.setData(p + '/a', B('2'));
    await until(() => c.events.filter(([, q]) => q === p + '/a').length === 3);
    expect(c.events.some(([t]) => t === EventType.NodeChildrenChanged)).toBe(false);
    expect((await c.call(OpCode.checkWatches, (w) => { w.writeString(p + '/zz'); w.writeInt(2); })).err).toBe(Err.NOWATCHER);
    await c.call(OpCode.getData, pathWatch(p + '/a', true));
    expect((await c.call(OpCode.removeWatches, (w) => { w.writeString(p + '/a'); w.writeInt(2); })).err).toBe(0);
    expect((await c.call(OpCode.removeWatches, (w) => { w.writeString(p + '/a'); w.writeInt(2); })).err).toBe(Err.NOWATCHER);
    c.close();
  });

  it('setWatches after a reconnect fires for what changed meanwhile', async () => {
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    await c.create(p, B(''));
    const zxid = (await c.call(OpCode.exists, pathWatch(p))).zxid;
    await c.setData(p, B('changed'));
    await c.create(p + '-new', B(''));
    const c2 = await MiniClient.connect(s.port, 4000, c.sessionId, c.passwd);
    expect(c2.sessionId).toBe(c.sessionId);
    c.close();
    const r = await c2.call(
      OpCode.setWatches,
      (w) => {
        w.writeLong(zxid);
        w.writeVector([p], (x, v) => x.writeString(v));
        w.writeVector([p + '-new'], (x, v) => x.writeString(v));
        w.writeVector([p + '-gone'], (x, v) => x.writeString(v));
      },
      -8,
    );
    expect(r.err).toBe(0);
    expect(c2.events).toEqual(
      expect.arrayContaining([
        [EventType.NodeDataChanged, p],
        [EventType.NodeCreated, p + '-new'],
        [EventType.NodeDeleted, p + '-gone'],
      ]),
    );
    c2.close();
  });
});

describe('ACLs', () => {
  const auth = (c: MiniClient, scheme: string, cred: string): Promise<{ err: number }> =>
    c.call(
      OpCode.auth,
      (w) => {
        w.writeInt(0);
        w.writeString(scheme);
        w.writeBuffer(B(cred));
      },
      -4,
    );
  it('digest, auth expansion, NOAUTH, INVALIDACL, masked getACL, ip and super', async () => {
    const owner = await MiniClient.connect(s.port);
    const other = await MiniClient.connect(s.port);
    const p = uniq();
    expect((await owner.create2(p, B('secret'), 0, OpCode.create, [{ perms: 31, id: { scheme: 'auth', id: '' } }])).err).toBe(Err.INVALIDACL);
    await auth(owner, 'digest', 'alice:pw');
    expect((await owner.create2(p, B('secret'), 0, OpCode.create, [{ perms: 31, id: { scheme: 'auth', id: '' } }])).err).toBe(0);
    const acl = await owner.call(OpCode.getACL, pathOnly(p));
    expect(acl.body.readInt()).toBe(1);
    expect([acl.body.readInt(), acl.body.readStr(), acl.body.readStr()]).toEqual([31, 'digest', digestOf('alice:pw')]);
    expect((await other.getData(p)).err).toBe(Err.NOAUTH);
    expect(await other.setData(p, B('x'))).toBe(Err.NOAUTH);
    expect(await other.create(p + '/c', B(''))).toBe(Err.NOAUTH);
    expect((await other.create2(uniq(), B(''), 0, OpCode.create, [{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }])).err).toBe(Err.INVALIDACL);
    expect((await other.create2(uniq(), B(''), 0, OpCode.create, [{ perms: 31, id: { scheme: 'world', id: 'someone' } }])).err).toBe(Err.INVALIDACL);
    // READ-only users see digest ids masked
    const q = uniq();
    await owner.create2(q, B(''), 0, OpCode.create, [
      { perms: 31, id: { scheme: 'digest', id: digestOf('alice:pw') } },
      { perms: 1, id: { scheme: 'world', id: 'anyone' } },
    ]);
    const masked = await other.call(OpCode.getACL, pathOnly(q));
    masked.body.readInt();
    masked.body.readInt();
    masked.body.readStr();
    expect(masked.body.readStr()).toBe('alice:x');
    // ip ACLs
    const ipPath = uniq();
    await owner.create2(ipPath, B('ip'), 0, OpCode.create, [{ perms: 31, id: { scheme: 'ip', id: '127.0.0.0/8' } }]);
    expect((await other.getData(ipPath)).err).toBe(0);
    const noIp = uniq();
    await owner.create2(noIp, B('ip'), 0, OpCode.create, [{ perms: 31, id: { scheme: 'ip', id: '10.1.2.3' } }]);
    expect((await other.getData(noIp)).err).toBe(Err.NOAUTH);
    // super
    await auth(other, 'digest', 'super:secret');
    expect((await other.getData(p)).err).toBe(0);
    owner.close();
    other.close();
  });

  it('an unknown auth scheme gets AUTHFAILED and the connection is closed', async () => {
    const c = await MiniClient.connect(s.port);
    const r = await auth(c, 'kerberos', 'x');
    expect(r.err).toBe(Err.AUTHFAILED);
    await c.closedPromise;
  });
});

describe('sessions', () => {
  it('negotiates the timeout within [min, max], reconnects with the password, rejects a wrong one', async () => {
    const c = await MiniClient.connect(s.port, 100);
    expect(c.timeout).toBe(400);
    const big = await MiniClient.connect(s.port, 999999);
    expect(big.timeout).toBe(4000);
    big.close();
    const again = await MiniClient.connect(s.port, 4000, c.sessionId, c.passwd);
    expect(again.sessionId).toBe(c.sessionId);
    const wrong = await MiniClient.connect(s.port, 4000, c.sessionId, Buffer.alloc(16, 7));
    expect(wrong.timeout).toBe(0);
    expect(wrong.sessionId).toBe(0n);
    await wrong.closedPromise;
    again.close();
    c.close();
  });

  it('expiry deletes ephemerals and fires watches; closeSession deletes them at once', async () => {
    const watcher = await MiniClient.connect(s.port, 4000);
    const e = await MiniClient.connect(s.port, 400);
    const p = uniq();
    await e.create(p, B(''), 1);
    await watcher.call(OpCode.exists, pathWatch(p, true));
    e.close(); // no pings any more: the session expires after ~400 ms
    await until(() => watcher.events.some(([t, q]) => t === EventType.NodeDeleted && q === p), 5000);
    const c = await MiniClient.connect(s.port, 4000);
    const q = uniq();
    await c.create(q, B(''), 1);
    await c.call(OpCode.closeSession, () => {});
    await c.closedPromise;
    expect((await watcher.getData(q)).err).toBe(Err.NONODE);
    watcher.close();
  });
});

describe('bad input', () => {
  const raw = (port: number): Promise<net.Socket> =>
    new Promise((r) => {
      const sock = net.connect(port, '127.0.0.1', () => r(sock));
      sock.on('error', () => {});
    });
  const closedWithin = (sock: net.Socket, ms = 3000): Promise<{ closed: boolean; bytes: number }> =>
    new Promise((r) => {
      let bytes = 0;
      sock.on('data', (d) => (bytes += d.length));
      const t = setTimeout(() => r({ closed: false, bytes }), ms);
      sock.on('close', () => {
        clearTimeout(t);
        r({ closed: true, bytes });
      });
    });

  it('a length prefix above jute.maxbuffer or negative closes that connection only, with no reply', async () => {
    const bystander = await MiniClient.connect(s.port);
    for (const len of [0x100000 + 10, -5]) {
      const sock = await raw(s.port);
      const b = Buffer.alloc(8);
      b.writeInt32BE(len, 0);
      sock.write(b);
      expect(await closedWithin(sock)).toEqual({ closed: true, bytes: 0 });
    }
    expect((await bystander.getData('/')).err).toBe(0);
    bystander.close();
  });

  it('a malformed ConnectRequest or garbage closes the connection', async () => {
    const sock = await raw(s.port);
    sock.write(Buffer.from([0, 0, 0, 3, 1, 2, 3]));
    expect((await closedWithin(sock)).closed).toBe(true);
  });

  it('a truncated request body gets MARSHALLINGERROR and the connection stays', async () => {
    const c = await MiniClient.connect(s.port);
    const r = await c.call(OpCode.getData, (w) => w.writeInt(50));
    expect(r.err).toBe(Err.MARSHALLINGERROR);
    const r2 = await c.call(OpCode.create, (w) => w.writeInt(2));
    expect(r2.err).toBe(Err.MARSHALLINGERROR);
    expect((await c.getData('/')).err).toBe(0);
    c.close();
  });

  it('an unknown opcode gets UNIMPLEMENTED and then the connection is closed', async () => {
    const c = await MiniClient.connect(s.port);
    const r = await c.call(999, () => {});
    expect(r.err).toBe(Err.UNIMPLEMENTED);
    await c.closedPromise;
  });

  it('a request shorter than its header closes the connection', async () => {
    const c = await MiniClient.connect(s.port);
    c.sendRaw(Buffer.from([0, 0, 0, 2, 0, 1]));
    await c.closedPromise;
    const fresh = await MiniClient.connect(s.port);
    expect((await fresh.getData('/')).err).toBe(0);
    fresh.close();
  });

  it('1 MB of data is accepted up to the frame limit', async () => {
    const c = await MiniClient.connect(s.port);
    const p = uniq();
    expect(await c.create(p, Buffer.alloc(1024 * 1000, 1))).toBe(0);
    expect((await c.getData(p)).data!.length).toBe(1024 * 1000);
    c.close();
  });

  it('a four-letter word outside the whitelist says so', async () => {
    const s2 = await startTestServer({ fourLetterWhitelist: new Set(['ruok']) });
    const ask = (w: string): Promise<string> =>
      new Promise((r) => {
        const sock = net.connect(s2.port, '127.0.0.1', () => sock.write(w));
        let out = '';
        sock.on('data', (d) => (out += d));
        sock.on('close', () => r(out));
      });
    expect(await ask('ruok')).toBe('imok');
    expect(await ask('mntr')).toBe('mntr is not executed because it is not in the whitelist.\n');
    expect(await ask('srvr')).toMatch(/^Zookeeper version: 3\.8\.0/);
    await s2.stop();
  });
});

describe('throttling', () => {
  it('a connection past globalOutstandingLimit is paused and resumed; every request is answered in order', async () => {
    const s2 = await startTestServer({ globalOutstandingLimit: 8 });
    const c = await MiniClient.connect(s2.port);
    let paused = 0;
    const cnxn = [...s2.zk.cnxns][0];
    const orig = cnxn.io.pause!;
    (cnxn.io as { pause: () => void }).pause = () => {
      paused++;
      orig();
    };
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => c.create(`/th${i}`, B('x'))));
    expect(replies.every((e) => e === 0)).toBe(true);
    expect(paused).toBeGreaterThan(0);
    expect(c.arrivals.map(Number)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    c.close();
    await s2.stop();
  });
});

describe('system nodes', () => {
  it('/, /zookeeper and /zookeeper/quota have empty (not null) data, as in ZooKeeper', async () => {
    const c = await MiniClient.connect(s.port);
    for (const p of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      const r = await c.getData(p);
      expect(r.err).toBe(0);
      expect(r.data, p).not.toBeNull();
      expect(r.data!.length).toBe(0);
    }
    c.close();
  });
});
