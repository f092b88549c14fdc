// The jute codec against byte vectors produced by Apache ZooKeeper 3.8.0's own classes
// (wire-client.md §19), and every record of records.ts / txn.ts round-tripping.
// FrameReader has its own file (framereader.test.ts).
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BUFFER, JuteError, JuteReader, JuteWriter } from '../src/jute/archive';
import {
  ACL,
  CreateRequest,
  readACL,
  readACLs,
  readAuthPacket,
  readConnectRequest,
  readConnectResponse,
  readCreateRequest,
  readId,
  readMultiHeader,
  readPathType,
  readPathVersion,
  readPathWatch,
  readReplyHeader,
  readSetACLRequest,
  readSetDataRequest,
  readSetWatches,
  readStat,
  readTxnHeader,
  readWatcherEvent,
  Stat,
  writeACL,
  writeACLs,
  writeConnectRequest,
  writeConnectResponse,
  writeCreateRequest,
  writeId,
  writeMultiHeader,
  writePathVersion,
  writeReplyHeader,
  writeSetDataRequest,
  writeStat,
  writeTxnHeader,
  writeWatcherEvent,
} from '../src/jute/records';
import { digestOf } from '../src/server/auth';
import { OpCode, ownerTtl, ttlOwner } from '../src/data/constants';
import { readMultiOps, formatSeq } from '../src/server/prep';
import { generatePasswd } from '../src/data/session';
import { deserializeTxn, readTxnBody, serializeTxn, Txn, writeTxnBody } from '../src/data/txn';
import { op, readMultiResponse, writeMulti } from './helpers/rawclient';

const hex = (s: string): string => s.replace(/\s+/g, '');
const buf = (s: string): Buffer => Buffer.from(hex(s), 'hex');
const bytes = (f: (w: JuteWriter) => void): string => {
  const w = new JuteWriter(4); // tiny initial size: exercises growth
  f(w);
  return w.finish().toString('hex');
};
const rd = (s: string): JuteReader => new JuteReader(buf(s));
const OPEN: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

// §19 vectors
const V = {
  connectReq: '00000000 0000000000000000 00007530 0000000000000000 00000010 00000000000000000000000000000000',
  connectResp: '00000000 00007530 0100000000000000 00000010 00000000000000000000000000000000',
  ping: '00000008 fffffffe 0000000b',
  getData: '00000001 00000004 00000002 2f61 01',
  createReq: '00000002 2f61 00000001 78 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00000000',
  replyHeader: '00000001 0000000100000002 00000000',
  watcherEvent: '00000003 00000003 00000002 2f61',
  multiReq: '0000000d 00 ffffffff 00000002 2f61 00000001  00000002 00 ffffffff 00000002 2f61 ffffffff  ffffffff 01 ffffffff',
  multiResp: '00000001 00 00000000 00000002 2f61  00000002 00 00000000  0000000d 00 00000000  ffffffff 01 ffffffff',
  multiFail: 'ffffffff 00 00000000 00000000  ffffffff 00 ffffff9b ffffff9b  ffffffff 00 fffffffe fffffffe  ffffffff 01 ffffffff',
  auth: '00000000 00000006 646967657374 00000003 753a70',
  setWatches: '0000000000000005 00000001 00000002 2f61 00000000 00000000',
};

describe('§19 vectors: session establishment', () => {
  const req = { protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16) };

  it('ConnectRequest: 44-byte jute part, readOnly byte appended, frame length 0x2d', () => {
    expect(bytes((w) => writeConnectRequest(w, req))).toBe(hex(V.connectReq));
    expect(bytes((w) => writeConnectRequest(w, { ...req, readOnly: false }))).toBe(hex(V.connectReq + '00'));
    const framed = bytes((w) => {
      const at = w.beginFrame();
      writeConnectRequest(w, { ...req, readOnly: false });
      w.endFrame(at);
    });
    expect(framed).toBe(hex('0000002d' + V.connectReq + '00'));
  });

  it('ConnectRequest decodes with and without the readOnly byte', () => {
    expect(readConnectRequest(rd(V.connectReq + '00'))).toEqual({ ...req, readOnly: false });
    expect(readConnectRequest(rd(V.connectReq + '01')).readOnly).toBe(true);
    const old = readConnectRequest(rd(V.connectReq));
    expect(old).toEqual(req);
    expect('readOnly' in old).toBe(false);
    // a reconnect with a real session and password
    const re = { protocolVersion: 0, lastZxidSeen: 0x100000005, timeOut: 4000, sessionId: -0x7fffffffffffffffn, passwd: generatePasswd(5n), readOnly: true };
    expect(readConnectRequest(new JuteReader(Buffer.from(bytes((w) => writeConnectRequest(w, re)), 'hex')))).toEqual(re);
  });

  it('ConnectRequest that is truncated is an error', () => {
    const full = buf(V.connectReq);
    for (const n of [0, 3, 12, 23, 27, 30]) {
      expect(() => readConnectRequest(new JuteReader(full.subarray(0, n)))).toThrow(JuteError);
    }
  });

  it('ConnectResponse: 36 bytes, readOnly only when asked', () => {
    const resp = { protocolVersion: 0, timeOut: 30000, sessionId: 0x0100000000000000n, passwd: Buffer.alloc(16) };
    expect(bytes((w) => writeConnectResponse(w, resp))).toBe(hex(V.connectResp));
    expect(bytes((w) => writeConnectResponse(w, { ...resp, readOnly: false }))).toBe(hex(V.connectResp + '00'));
    expect(buf(V.connectResp).length).toBe(36);
    expect(readConnectResponse(rd(V.connectResp))).toEqual(resp);
    expect(readConnectResponse(rd(V.connectResp + '01'))).toEqual({ ...resp, readOnly: true });
  });

  it('ping frame', () => {
    const framed = bytes((w) => {
      const at = w.beginFrame();
      w.writeInt(-2);
      w.writeInt(OpCode.ping);
      w.endFrame(at);
    });
    expect(framed).toBe(hex(V.ping));
  });

  it('session passwords (java.util.Random seeded with id ^ superSecret)', () => {
    expect(generatePasswd(0x0100000000000000n).toString('hex')).toBe('f22acd4a97e69d6d20a49bb638eadb38');
    expect(generatePasswd(0x01000a3b2c4d0000n).toString('hex')).toBe('a956a98c82ed56462fb83e649bee242b');
    expect(generatePasswd(1n).toString('hex')).toBe('054cc74a37327db215e702e20c73f005');
    expect(generatePasswd(2n)).toHaveLength(16);
    expect(generatePasswd(2n).equals(generatePasswd(1n))).toBe(false);
    // deterministic
    expect(generatePasswd(0x0100000000000001n).equals(generatePasswd(0x0100000000000001n))).toBe(true);
  });

  it('digest ids: user:BASE64(SHA1(user:pass))', () => {
    expect(digestOf('user:pass')).toBe('user:smGaoVKd/cQkjm7b88GyorAUz20=');
    expect(digestOf('super:secret')).toBe('super:lK75jTNcA+U9vtVEw5vB51mj/w4=');
    // only the part before the first ':' is the user; the whole string is hashed
    expect(digestOf('a:b:c').startsWith('a:')).toBe(true);
    expect(digestOf('a:b:c')).not.toBe(digestOf('a:b'));
  });
});

describe('§19 vectors: requests and replies', () => {
  it('RequestHeader + GetDataRequest', () => {
    expect(
      bytes((w) => {
        w.writeInt(1);
        w.writeInt(OpCode.getData);
        w.writeString('/a');
        w.writeBool(true);
      }),
    ).toBe(hex(V.getData));
    const r = rd(V.getData);
    expect([r.readInt(), r.readInt()]).toEqual([1, OpCode.getData]);
    expect(readPathWatch(r)).toEqual({ path: '/a', watch: true });
    expect(r.remaining()).toBe(0);
  });

  it('CreateRequest with OPEN_ACL_UNSAFE', () => {
    const c = { path: '/a', data: Buffer.from('x'), acl: OPEN, flags: 0, ttl: -1 };
    expect(bytes((w) => writeCreateRequest(w, c, false))).toBe(hex(V.createReq));
    expect(readCreateRequest(rd(V.createReq), false)).toEqual(c);
  });

  it('CreateTTLRequest appends the ttl long', () => {
    const c = { path: '/t', data: null, acl: OPEN, flags: 5, ttl: 0xffffffffff };
    const h = bytes((w) => writeCreateRequest(w, c, true));
    expect(h.endsWith('00000005' + '000000ffffffffff')).toBe(true);
    expect(readCreateRequest(new JuteReader(Buffer.from(h, 'hex')), true)).toEqual(c);
  });

  it('ReplyHeader', () => {
    expect(bytes((w) => writeReplyHeader(w, 1, 0x100000002, 0))).toBe(hex(V.replyHeader));
    expect(readReplyHeader(rd(V.replyHeader))).toEqual({ xid: 1, zxid: 0x100000002, err: 0 });
    // notification header: xid -1, zxid -1 (3.8)
    expect(bytes((w) => writeReplyHeader(w, -1, -1, 0))).toBe('ffffffffffffffffffffffff00000000');
    expect(readReplyHeader(rd('ffffffff ffffffffffffffff ffffff9b'))).toEqual({ xid: -1, zxid: -1, err: -101 });
  });

  it('WatcherEvent', () => {
    expect(bytes((w) => writeWatcherEvent(w, { type: 3, state: 3, path: '/a' }))).toBe(hex(V.watcherEvent));
    expect(readWatcherEvent(rd(V.watcherEvent))).toEqual({ type: 3, state: 3, path: '/a' });
  });

  it('writeStringFrom(s, k) writes the bytes of writeString(s.substring(k)) (child names cut from paths)', () => {
    const cases: [string, number][] = [['/a/b', 3], ['/', 1], ['/a/', 3], ['/p/ü-x', 3], ['/p/x😀', 3], ['/p/' + 'n'.repeat(70), 3], ['/p/' + 'n'.repeat(61), 3], ['/p/' + 'é'.repeat(70), 3]];
    for (const [s, k] of cases) expect(bytes((w) => w.writeStringFrom(s, k))).toBe(bytes((w) => w.writeString(s.substring(k))));
  });

  it('null ustring and null buffer are length -1; empty ones are length 0', () => {
    expect(bytes((w) => w.writeString(null))).toBe('ffffffff');
    expect(bytes((w) => w.writeBuffer(null))).toBe('ffffffff');
    expect(bytes((w) => w.writeString(''))).toBe('00000000');
    expect(bytes((w) => w.writeBuffer(Buffer.alloc(0)))).toBe('00000000');
    expect(bytes((w) => w.writeVector(null, () => {}))).toBe('ffffffff');
    expect(rd('ffffffff').readString()).toBeNull();
    expect(rd('ffffffff').readBuffer()).toBeNull();
    expect(rd('ffffffff').readStr()).toBe('');
    expect(rd('ffffffff').readVector((r) => r.readInt())).toBeNull();
    expect(rd('00000000').readString()).toBe('');
    expect(rd('00000000').readBuffer()).toEqual(Buffer.alloc(0));
  });

  it('multi request [check("/a",1), delete("/a",-1)]', () => {
    expect(bytes((w) => writeMulti(w, [op.check('/a', 1), op.delete('/a', -1)]))).toBe(hex(V.multiReq));
    // the server's parser splits it into exactly these ops
    const ops = readMultiOps(rd(V.multiReq), false);
    expect(ops.map((o) => o.type)).toEqual([OpCode.check, OpCode.delete]);
    expect(readPathVersion(ops[0].body)).toEqual({ path: '/a', version: 1 });
    expect(ops[0].body.remaining()).toBe(0);
    expect(readPathVersion(ops[1].body)).toEqual({ path: '/a', version: -1 });
    // the same bytes are not a valid multiRead (write ops)
    expect(() => readMultiOps(rd(V.multiReq), true)).toThrow();
    // a multiRead of getData/getChildren
    const mr = bytes((w) => writeMulti(w, [op.getData('/a'), op.getChildren('/')]));
    expect(readMultiOps(new JuteReader(Buffer.from(mr, 'hex')), true).map((o) => o.type)).toEqual([OpCode.getData, OpCode.getChildren]);
    expect(() => readMultiOps(new JuteReader(Buffer.from(mr, 'hex')), false)).toThrow();
  });

  it('multi request without its terminator is a decode error', () => {
    const b = buf(V.multiReq);
    expect(() => readMultiOps(new JuteReader(b.subarray(0, b.length - 9)), false)).toThrow(JuteError);
  });

  it('MultiResponse [create "/a", delete, check]', () => {
    const enc = bytes((w) => {
      writeMultiHeader(w, OpCode.create, false, 0);
      w.writeString('/a');
      writeMultiHeader(w, OpCode.delete, false, 0);
      writeMultiHeader(w, OpCode.check, false, 0);
      writeMultiHeader(w, -1, true, -1);
    });
    expect(enc).toBe(hex(V.multiResp));
    expect(readMultiResponse(rd(V.multiResp))).toEqual([
      { type: 1, err: 0, path: '/a' },
      { type: 2, err: 0 },
      { type: 13, err: 0 },
    ]);
    expect(readMultiHeader(rd('ffffffff 01 ffffffff'))).toEqual({ type: -1, done: true, err: -1 });
  });

  it('MultiResponse of a failed multi [0, -101, -2]', () => {
    const enc = bytes((w) => {
      for (const e of [0, -101, -2]) {
        writeMultiHeader(w, -1, false, e);
        w.writeInt(e);
      }
      writeMultiHeader(w, -1, true, -1);
    });
    expect(enc).toBe(hex(V.multiFail));
    expect(readMultiResponse(rd(V.multiFail))).toEqual([
      { type: -1, err: 0 },
      { type: -1, err: -101 },
      { type: -1, err: -2 },
    ]);
  });

  it('AuthPacket(0, "digest", "u:p")', () => {
    expect(
      bytes((w) => {
        w.writeInt(0);
        w.writeString('digest');
        w.writeBuffer(Buffer.from('u:p'));
      }),
    ).toBe(hex(V.auth));
    expect(readAuthPacket(rd(V.auth))).toEqual({ type: 0, scheme: 'digest', auth: Buffer.from('u:p') });
    // a null auth buffer reads as empty
    expect(readAuthPacket(rd('00000000 00000002 6970 ffffffff'))).toEqual({ type: 0, scheme: 'ip', auth: Buffer.alloc(0) });
  });

  it('SetWatches(5, ["/a"], [], []) and SetWatches2', () => {
    const enc = bytes((w) => {
      w.writeLong(5);
      w.writeVector(['/a'], (x, s) => x.writeString(s));
      w.writeVector([], () => {});
      w.writeVector([], () => {});
    });
    expect(enc).toBe(hex(V.setWatches));
    expect(readSetWatches(rd(V.setWatches), false)).toEqual({
      relativeZxid: 5,
      dataWatches: ['/a'],
      existWatches: [],
      childWatches: [],
      persistentWatches: [],
      persistentRecursiveWatches: [],
    });
    const v2 = readSetWatches(rd('0000000100000002 00000000 00000001 00000002 2f62 00000000 00000001 00000002 2f63 00000001 00000002 2f64'), true);
    expect(v2).toEqual({
      relativeZxid: 0x100000002,
      dataWatches: [],
      existWatches: ['/b'],
      childWatches: [],
      persistentWatches: ['/c'],
      persistentRecursiveWatches: ['/d'],
    });
    // null lists read as empty
    expect(readSetWatches(rd('0000000000000000 ffffffff ffffffff ffffffff'), false).dataWatches).toEqual([]);
  });
});

describe('every record round-trips', () => {
  const st: Stat = {
    czxid: 1,
    mzxid: 0x200000003,
    ctime: 1700000000000,
    mtime: 1700000000001,
    version: 3,
    cversion: -1,
    aversion: 5,
    ephemeralOwner: -0x100000000000000n,
    dataLength: 7,
    numChildren: 8,
    pzxid: 0x100000009,
  };
  const rt = <T>(w: (x: JuteWriter, v: T) => void, r: (x: JuteReader) => T, v: T): T => {
    const jw = new JuteWriter(1);
    w(jw, v);
    const jr = new JuteReader(Buffer.from(jw.finish()));
    const out = r(jr);
    expect(jr.remaining()).toBe(0);
    return out;
  };

  it('Stat is 68 bytes at the documented offsets and round-trips', () => {
    const b = Buffer.from(bytes((w) => writeStat(w, st)), 'hex');
    expect(b.length).toBe(68);
    expect(b.readBigInt64BE(8)).toBe(0x200000003n);
    expect(b.readInt32BE(36)).toBe(-1);
    expect(b.readBigInt64BE(44)).toBe(-0x100000000000000n);
    expect(b.readInt32BE(56)).toBe(8);
    expect(b.readBigInt64BE(60)).toBe(0x100000009n);
    expect(readStat(new JuteReader(b))).toEqual(st);
    const container = { ...st, ephemeralOwner: -0x8000000000000000n };
    expect(rt(writeStat, readStat, container)).toEqual(container);
  });

  it('Id, ACL, vector<ACL> (incl. empty and null)', () => {
    expect(rt(writeId, readId, { scheme: 'digest', id: 'u:x' })).toEqual({ scheme: 'digest', id: 'u:x' });
    const a: ACL = { perms: 17, id: { scheme: 'ip', id: '10.0.0.0/8' } };
    expect(rt(writeACL, readACL, a)).toEqual(a);
    const list: ACL[] = [a, ...OPEN, { perms: 1, id: { scheme: 'digest', id: digestOf('user:pass') } }];
    expect(rt(writeACLs, readACLs, list)).toEqual(list);
    expect(rt(writeACLs, readACLs, [])).toEqual([]);
    expect(rt(writeACLs, readACLs, null)).toBeNull();
  });

  it('ConnectRequest / ConnectResponse', () => {
    const c = { protocolVersion: 0, lastZxidSeen: 0x1ffffffff, timeOut: -1, sessionId: -1n, passwd: Buffer.from('0123456789abcdef') };
    expect(rt(writeConnectRequest, readConnectRequest, c)).toEqual(c);
    expect(rt(writeConnectRequest, readConnectRequest, { ...c, readOnly: true })).toEqual({ ...c, readOnly: true });
    const r = { protocolVersion: 0, timeOut: 4000, sessionId: 0x7fffffffffffffffn, passwd: generatePasswd(0x7fffffffffffffffn) };
    expect(rt(writeConnectResponse, readConnectResponse, r)).toEqual(r);
    expect(rt(writeConnectResponse, readConnectResponse, { ...r, readOnly: false })).toEqual({ ...r, readOnly: false });
  });

  it('ReplyHeader with negative values', () => {
    const w = new JuteWriter();
    writeReplyHeader(w, -8, -1, -121);
    expect(readReplyHeader(new JuteReader(w.finish()))).toEqual({ xid: -8, zxid: -1, err: -121 });
  });

  it('WatcherEvent, CreateRequest, PathVersion, SetDataRequest', () => {
    const ev = { type: 4, state: 3, path: '/' };
    expect(rt(writeWatcherEvent, readWatcherEvent, ev)).toEqual(ev);
    const cr: CreateRequest = { path: '/x/y', data: null, acl: null, flags: 3, ttl: -1 };
    expect(rt((w, v: CreateRequest) => writeCreateRequest(w, v, false), (r) => readCreateRequest(r, false), cr)).toEqual(cr);
    const ttl: CreateRequest = { path: '/t', data: Buffer.from([0, 1, 255]), acl: OPEN, flags: 6, ttl: 1 };
    expect(rt((w, v: CreateRequest) => writeCreateRequest(w, v, true), (r) => readCreateRequest(r, true), ttl)).toEqual(ttl);
    const pv = { path: '/a', version: -1 };
    expect(rt(writePathVersion, readPathVersion, pv)).toEqual(pv);
    const sd = { path: '/a', data: Buffer.from('hello'), version: 2147483647 };
    expect(rt(writeSetDataRequest, readSetDataRequest, sd)).toEqual(sd);
    const sdNull = { path: '/a', data: null, version: 0 };
    expect(rt(writeSetDataRequest, readSetDataRequest, sdNull)).toEqual(sdNull);
  });

  it('SetACLRequest, PathType, PathWatch (read side)', () => {
    const w = new JuteWriter();
    w.writeString('/a');
    writeACLs(w, OPEN);
    w.writeInt(7);
    w.writeString('/b');
    w.writeInt(3);
    w.writeString('/c');
    w.writeBool(false);
    w.writeString('/d');
    w.writeByte(2); // any non-zero byte is true
    const r = new JuteReader(w.finish());
    expect(readSetACLRequest(r)).toEqual({ path: '/a', acl: OPEN, version: 7 });
    expect(readPathType(r)).toEqual({ path: '/b', type: 3 });
    expect(readPathWatch(r)).toEqual({ path: '/c', watch: false });
    expect(readPathWatch(r)).toEqual({ path: '/d', watch: true });
    expect(r.remaining()).toBe(0);
  });

  it('MultiHeader and TxnHeader', () => {
    expect(rt((w, v: { type: number; done: boolean; err: number }) => writeMultiHeader(w, v.type, v.done, v.err), readMultiHeader, { type: 14, done: false, err: -1 })).toEqual({
      type: 14,
      done: false,
      err: -1,
    });
    expect(bytes((w) => writeMultiHeader(w, 1, false, -1))).toHaveLength(18); // 9 bytes
    const th = { clientId: -0x100000000000000n, cxid: -2, zxid: 0x300000001, time: 1700000000000, type: OpCode.multi };
    expect(rt(writeTxnHeader, readTxnHeader, th)).toEqual(th);
  });

  it('the createSession txn as the 3.8.0 jar wrote it', () => {
    const entry = serializeTxn(
      { clientId: 0x0100000000000000n, cxid: 0, zxid: 0x100000001, time: 0x18bcfe56800, type: OpCode.createSession },
      { type: OpCode.createSession, timeOut: 30000 },
    );
    expect(entry.toString('hex')).toBe(hex('0100000000000000 00000000 0000000100000001 0000018bcfe56800 fffffff6 00007530'));
  });

  it('every txn type round-trips', () => {
    const acl = OPEN;
    const txns: Txn[] = [
      { type: OpCode.create, path: '/a', data: Buffer.from('x'), acl, ephemeral: true, parentCVersion: 3 },
      { type: OpCode.create, path: '/n', data: null, acl: [], ephemeral: false, parentCVersion: -5 },
      { type: OpCode.create2, path: '/a', data: null, acl, ephemeral: false, parentCVersion: 1 },
      { type: OpCode.createContainer, path: '/c', data: Buffer.alloc(0), acl, parentCVersion: 2 },
      { type: OpCode.createTTL, path: '/t', data: Buffer.from('t'), acl, parentCVersion: 2, ttl: 5000 },
      { type: OpCode.delete, path: '/a' },
      { type: OpCode.deleteContainer, path: '/c' },
      { type: OpCode.setData, path: '/a', data: Buffer.from('y'), version: 4 },
      { type: OpCode.setACL, path: '/a', acl, version: 1 },
      { type: OpCode.check, path: '/a', version: 9 },
      { type: OpCode.error, err: -101 },
      { type: OpCode.createSession, timeOut: 4000 },
      { type: OpCode.closeSession, paths: ['/e1', '/e2'] },
      { type: OpCode.closeSession, paths: [] },
      { type: OpCode.closeSession, paths: null },
      {
        type: OpCode.multi,
        txns: [
          { type: OpCode.create, path: '/m', data: Buffer.from('m'), acl, ephemeral: false, parentCVersion: 7 },
          { type: OpCode.check, path: '/a', version: 2 },
          { type: OpCode.error, err: -2 },
        ],
      },
      { type: OpCode.multi, txns: [] },
    ];
    for (const t of txns) {
      const hdr = { clientId: 5n, cxid: 7, zxid: 9, time: 11, type: t.type };
      expect(deserializeTxn(serializeTxn(hdr, t))).toEqual({ hdr, txn: t, digest: null });
      const digest = { version: 2, treeDigest: -0x123456789abcn };
      // a path-less closeSession (pre-3.6 form) carries no trailer: its length is its format
      const carried = t.type === OpCode.closeSession && t.paths === null ? null : digest;
      expect(deserializeTxn(serializeTxn(hdr, t, digest))).toEqual({ hdr, txn: t, digest: carried });
    }
  });

  it('a pre-3.3 CreateTxn without parentCVersion reads as -1', () => {
    const w = new JuteWriter();
    w.writeString('/old');
    w.writeBuffer(Buffer.from('d'));
    writeACLs(w, OPEN);
    w.writeBool(false);
    expect(readTxnBody(OpCode.create, new JuteReader(w.finish()))).toEqual({
      type: OpCode.create,
      path: '/old',
      data: Buffer.from('d'),
      acl: OPEN,
      ephemeral: false,
      parentCVersion: -1,
    });
    const w2 = new JuteWriter();
    writeTxnBody(w2, { type: OpCode.delete, path: '/x' });
    expect(w2.finish().toString('hex')).toBe('00000002 2f78'.replace(/ /g, ''));
    expect(() => readTxnBody(999, new JuteReader(Buffer.alloc(0)))).toThrow(/Unsupported Txn/);
  });
});

describe('archive primitives', () => {
  it('longs: positive, negative, beyond 2^32, as numbers and bigints', () => {
    for (const v of [0, 1, -1, 0xffffffff, 0x100000000, -0x100000000, 2 ** 40 + 7, -(2 ** 52), Number.MAX_SAFE_INTEGER - 1]) {
      const w = new JuteWriter(1);
      w.writeLong(v);
      expect(w.finish().readBigInt64BE(0)).toBe(BigInt(v));
      expect(new JuteReader(w.finish()).readLong()).toBe(v);
    }
    for (const v of [-0x8000000000000000n, 0x7fffffffffffffffn, -1n, 0xff000000000003e8n]) {
      const w = new JuteWriter(1);
      w.writeBigLong(v);
      expect(new JuteReader(w.finish()).readBigLong()).toBe(BigInt.asIntN(64, v));
    }
  });

  it('ints and bytes are two\'s complement big-endian; booleans 0/1', () => {
    expect(bytes((w) => w.writeInt(-2))).toBe('fffffffe');
    expect(bytes((w) => w.writeInt(0x7fffffff))).toBe('7fffffff');
    expect(bytes((w) => w.writeByte(-1))).toBe('ff');
    expect(bytes((w) => w.writeBool(true).writeBool(false))).toBe('0100');
    expect(rd('ff').readByte()).toBe(-1);
    expect(rd('80').readBool()).toBe(true);
  });

  it('strings are UTF-8 with a byte-length prefix', () => {
    expect(bytes((w) => w.writeString('é/ü'))).toBe('00000005c3a92fc3bc');
    expect(rd('00000005c3a92fc3bc').readString()).toBe('é/ü');
  });

  it('a truncated record or an impossible length is an error, not a crash', () => {
    expect(() => rd('000000').readInt()).toThrow(/truncated/);
    expect(() => rd('00000000000000').readLong()).toThrow(JuteError);
    expect(() => rd('').readBool()).toThrow(JuteError);
    expect(() => rd('7fffffff').readString()).toThrow(/Unreasonable length/);
    expect(() => rd('fffffffe').readBuffer()).toThrow(/Unreasonable length/);
    // just above jute.maxbuffer + extrasize (2 × 0xfffff)
    const over = Buffer.alloc(4);
    over.writeInt32BE(DEFAULT_MAX_BUFFER * 2 + 1);
    expect(() => new JuteReader(over).readBuffer()).toThrow(/Unreasonable length/);
    // a plausible length with too few bytes
    expect(() => rd('00000005 6162').readString()).toThrow(/truncated/);
    expect(() => rd('00000003 00000001').readVector((r) => r.readInt())).toThrow(JuteError);
    expect(() => rd('fffffffe').readVector((r) => r.readInt())).toThrow(JuteError);
    expect(() => readStat(new JuteReader(Buffer.alloc(67)))).toThrow(JuteError);
  });

  it('a reader honours its end bound', () => {
    const b = buf('00000001 00000002');
    const r = new JuteReader(b, 0, 4);
    expect(r.readInt()).toBe(1);
    expect(r.remaining()).toBe(0);
    expect(() => r.readInt()).toThrow(JuteError);
  });
});

describe('constants', () => {
  it('TTL owners and sequential suffixes', () => {
    expect(BigInt.asUintN(64, ttlOwner(1000)).toString(16)).toBe('ff000000000003e8');
    expect(ownerTtl(ttlOwner(0xffffffffff))).toBe(0xffffffffff);
    expect(ownerTtl(0n)).toBe(-1);
    expect(ownerTtl(-0x8000000000000000n)).toBe(-1);
    expect(ownerTtl(0x0100000000000001n)).toBe(-1);
    expect(formatSeq(0)).toBe('0000000000');
    expect(formatSeq(42)).toBe('0000000042');
    expect(formatSeq(2147483647)).toBe('2147483647');
    expect(formatSeq(-1)).toBe('-000000001');
  });
});
