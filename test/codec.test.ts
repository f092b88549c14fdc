// The jute codec against byte vectors produced by Apache ZooKeeper 3.8.0's own classes
// (reference sheet wire-client.md §19), and the frame reader against arbitrary stream splits.
import { describe, expect, it } from 'vitest';
import { JuteReader, JuteWriter } from '../src/jute/archive';
import {
  readConnectRequest,
  readStat,
  readWatcherEvent,
  writeACLs,
  writeConnectRequest,
  writeConnectResponse,
  writeReplyHeader,
  writeStat,
  writeWatcherEvent,
} from '../src/jute/records';
import { digestOf } from '../src/server/auth';
import { OpCode } from '../src/server/constants';
import { generatePasswd } from '../src/server/session';
import { deserializeTxn, serializeTxn, Txn } from '../src/server/txn';
import { FrameReader } from '../src/server/net';

const hex = (s: string): string => s.replace(/\s+/g, '');
const bytes = (f: (w: JuteWriter) => void): string => {
  const w = new JuteWriter(8);
  f(w);
  return w.finish().toString('hex');
};

describe('records match ZooKeeper 3.8.0 bytes', () => {
  it('ConnectRequest / ConnectResponse', () => {
    const req = { protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false };
    expect(bytes((w) => writeConnectRequest(w, req))).toBe(
      hex('00000000 0000000000000000 00007530 0000000000000000 00000010 00000000000000000000000000000000 00'),
    );
    const back = readConnectRequest(new JuteReader(Buffer.from(bytes((w) => writeConnectRequest(w, req)), 'hex')));
    expect(back).toEqual(req);
    const old = readConnectRequest(new JuteReader(Buffer.from(bytes((w) => writeConnectRequest(w, { ...req, readOnly: undefined })), 'hex')));
    expect(old.readOnly).toBeUndefined();
    expect(bytes((w) => writeConnectResponse(w, { protocolVersion: 0, timeOut: 30000, sessionId: 0x0100000000000000n, passwd: Buffer.alloc(16) }))).toBe(
      hex('00000000 00007530 0100000000000000 00000010 00000000000000000000000000000000'),
    );
  });

  it('ReplyHeader, WatcherEvent, null string and buffer', () => {
    expect(bytes((w) => writeReplyHeader(w, 1, 0x100000002, 0))).toBe(hex('00000001 0000000100000002 00000000'));
    expect(bytes((w) => writeWatcherEvent(w, { type: 3, state: 3, path: '/a' }))).toBe(hex('00000003 00000003 00000002 2f61'));
    expect(readWatcherEvent(new JuteReader(Buffer.from(hex('00000003 00000003 00000002 2f61'), 'hex')))).toEqual({ type: 3, state: 3, path: '/a' });
    expect(bytes((w) => w.writeString(null))).toBe('ffffffff');
    expect(bytes((w) => w.writeBuffer(null))).toBe('ffffffff');
  });

  it('CreateRequest with OPEN_ACL_UNSAFE', () => {
    expect(
      bytes((w) => {
        w.writeString('/a');
        w.writeBuffer(Buffer.from('x'));
        writeACLs(w, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
        w.writeInt(0);
      }),
    ).toBe(hex('00000002 2f61 00000001 78 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00000000'));
  });

  it('Stat round-trips (68 bytes) including a 64-bit ephemeral owner', () => {
    const st = { czxid: 1, mzxid: 2, ctime: 1700000000000, mtime: 1700000000001, version: 3, cversion: -1, aversion: 5, ephemeralOwner: -0x100000000000000n, dataLength: 7, numChildren: 8, pzxid: 0x100000009 };
    const b = Buffer.from(bytes((w) => writeStat(w, st)), 'hex');
    expect(b.length).toBe(68);
    expect(readStat(new JuteReader(b))).toEqual(st);
  });

  it('session passwords and digests', () => {
    expect(generatePasswd(0x0100000000000000n).toString('hex')).toBe('f22acd4a97e69d6d20a49bb638eadb38');
    expect(generatePasswd(0x01000a3b2c4d0000n).toString('hex')).toBe('a956a98c82ed56462fb83e649bee242b');
    expect(generatePasswd(1n).toString('hex')).toBe('054cc74a37327db215e702e20c73f005');
    expect(digestOf('user:pass')).toBe('user:smGaoVKd/cQkjm7b88GyorAUz20=');
    expect(digestOf('super:secret')).toBe('super:lK75jTNcA+U9vtVEw5vB51mj/w4=');
  });

  it('the createSession txn record as the 3.8.0 jar wrote it', () => {
    const entry = serializeTxn(
      { clientId: 0x0100000000000000n, cxid: 0, zxid: 0x100000001, time: 0x18bcfe56800, type: OpCode.createSession },
      { type: OpCode.createSession, timeOut: 30000 },
    );
    expect(entry.toString('hex')).toBe(hex('0100000000000000 00000000 0000000100000001 0000018bcfe56800 fffffff6 00007530'));
  });

  it('every txn type round-trips', () => {
    const acl = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
    const txns: Txn[] = [
      { type: OpCode.create, path: '/a', data: Buffer.from('x'), acl, ephemeral: true, parentCVersion: 3 },
      { type: OpCode.create2, path: '/a', data: null, acl, ephemeral: false, parentCVersion: 1 },
      { type: OpCode.createContainer, path: '/c', data: Buffer.alloc(0), acl, parentCVersion: 2 },
      { type: OpCode.createTTL, path: '/t', data: Buffer.from('t'), acl, parentCVersion: 2, ttl: 5000 },
      { type: OpCode.delete, path: '/a' },
      { type: OpCode.deleteContainer, path: '/c' },
      { type: OpCode.setData, path: '/a', data: Buffer.from('y'), version: 4 },
      { type: OpCode.setACL, path: '/a', acl, version: 1 },
      { type: OpCode.error, err: -101 },
      { type: OpCode.createSession, timeOut: 4000 },
      { type: OpCode.closeSession, paths: ['/e1', '/e2'] },
      { type: OpCode.multi, txns: [{ type: OpCode.check, path: '/a', version: 2 }, { type: OpCode.error, err: -2 }] },
    ];
    for (const t of txns) {
      const hdr = { clientId: 5n, cxid: 7, zxid: 9, time: 11, type: t.type };
      expect(deserializeTxn(serializeTxn(hdr, t))).toEqual({ hdr, txn: t });
    }
  });

  it('a truncated record or an impossible length is an error, not a crash', () => {
    expect(() => new JuteReader(Buffer.from('000000', 'hex')).readInt()).toThrow(/truncated/);
    expect(() => new JuteReader(Buffer.from('7fffffff', 'hex')).readString()).toThrow(/Unreasonable length/);
  });
});

describe('FrameReader', () => {
  it('yields the same frames for any split of the stream', () => {
    let seed = 42;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    for (let iter = 0; iter < 300; iter++) {
      const frames: Buffer[] = [];
      const parts: Buffer[] = [];
      for (let i = 0; i < 1 + Math.floor(rnd() * 8); i++) {
        const f = Buffer.alloc(Math.floor(rnd() * 40));
        for (let j = 0; j < f.length; j++) f[j] = Math.floor(rnd() * 256);
        frames.push(f);
        const len = Buffer.alloc(4);
        len.writeInt32BE(f.length);
        parts.push(len, f);
      }
      const stream = Buffer.concat(parts);
      const fr = new FrameReader();
      const got: Buffer[] = [];
      let pos = 0;
      while (pos < stream.length) {
        const n = 1 + Math.floor(rnd() * 10);
        fr.push(stream.subarray(pos, pos + n));
        pos += n;
        for (let f = fr.next(0xfffff); f; f = fr.next(0xfffff)) got.push(Buffer.from(f));
      }
      expect(got).toEqual(frames);
    }
  });
  it('rejects a length beyond the limit or negative', () => {
    const fr = new FrameReader();
    fr.push(Buffer.from('00100000', 'hex'));
    expect(() => fr.next(0xfffff)).toThrow(/Len error/);
    const fr2 = new FrameReader();
    fr2.push(Buffer.from('ffffffff', 'hex'));
    expect(() => fr2.next(0xfffff)).toThrow(/Len error/);
  });
});
