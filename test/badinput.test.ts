// Bad input on the client port (wire-client.md §1, §5, §13, §16, §17): bad length prefixes, short
// headers, malformed bodies and ConnectRequests, unknown opcodes, garbage, invalid paths, the
// 1 MB frame limit, the four-letter-word whitelist. After each case the server must still serve.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JuteWriter } from '../src/jute/archive';
import { RunningServer } from '../src/main';
import { Err, OpCode } from '../src/data/constants';
import { createBody, OPEN_ACL_UNSAFE, RawClient } from './helpers/rawclient';
import { startTestServer } from './helpers/server';

let s: RunningServer;
/** a session that stays open through every test: bad input elsewhere must not disturb it */
let bystander: RawClient;
let n = 0;
const uniq = (): string => `/b${++n}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const frame = (payload: Buffer): Buffer => Buffer.concat([int32(payload.length), payload]);

/** The server still works: a fresh client can write and read, and the bystander session too. */
async function assertServes(port = s.port): Promise<void> {
  const c = await RawClient.connect(port);
  const p = uniq();
  expect((await c.create(p, 'ok')).err).toBe(0);
  expect((await c.getData(p)).data!.toString()).toBe('ok');
  await c.close();
  if (port === s.port) {
    expect(bystander.isClosed).toBe(false);
    expect((await bystander.exists(p)).err).toBe(0);
  }
}

/** Send `bytes` on a raw socket; collect everything until the server closes (or `ms`). */
async function rawExchange(bytes: Buffer, ms = 3000, port = s.port): Promise<{ data: Buffer; closed: boolean }> {
  const sock = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  sock.on('data', (d) => chunks.push(d));
  sock.on('error', () => {});
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(bytes);
  const closed = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    sock.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
  sock.destroy();
  return { data: Buffer.concat(chunks), closed };
}

/** A RequestHeader + body frame. */
function request(xid: number, type: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h.writeInt32BE(xid, 0);
  h.writeInt32BE(type, 4);
  return frame(Buffer.concat([h, body]));
}

beforeAll(async () => {
  s = await startTestServer();
  bystander = await RawClient.connect(s.port);
});
afterAll(async () => {
  await bystander.close();
  await s.stop();
});

describe('frame length prefix', () => {
  for (const [name, len] of [
    ['jute.maxbuffer + 1', 0xfffff + 1],
    ['2^31 - 1', 0x7fffffff],
    ['-1', -1],
    ['-2^31', -0x80000000],
  ] as const) {
    it(`${name} in a session: connection closed, no reply, others unaffected`, async () => {
      const c = await RawClient.connect(s.port);
      expect((await c.exists('/')).err).toBe(0);
      const before = c.arrivals.length;
      c.sendBytes(int32(len));
      c.sendBytes(Buffer.alloc(64));
      expect(await c.closedWithin(3000)).toBe(true);
      expect(c.arrivals.length).toBe(before);
      expect(c.unexpected).toEqual([]);
      await assertServes();
    });
  }

  it('a bad length before the handshake: closed without a ConnectResponse', async () => {
    const r = await rawExchange(Buffer.concat([int32(0x100000), Buffer.alloc(16)]));
    expect(r.closed).toBe(true);
    expect(r.data.length).toBe(0);
    const neg = await rawExchange(int32(-5));
    expect(neg).toEqual({ data: Buffer.alloc(0), closed: true });
    await assertServes();
  });

  it('the session of a connection closed for a bad length lives on (reconnect works)', async () => {
    const c = await RawClient.connect(s.port);
    const p = uniq();
    await c.create(p, '', OPEN_ACL_UNSAFE, 1);
    c.sendBytes(int32(-1));
    await c.closed;
    const back = await RawClient.connect(s.port, c.sessionOpts());
    expect(back.sessionId).toBe(c.sessionId);
    expect((await back.exists(p)).stat!.ephemeralOwner).toBe(c.sessionId);
    await back.close();
  });
});

describe('malformed requests in a session', () => {
  it('a header shorter than 8 bytes closes the connection', async () => {
    for (const len of [0, 1, 4, 7]) {
      const c = await RawClient.connect(s.port);
      c.sendBytes(frame(Buffer.alloc(len, 0x01)));
      expect(await c.closedWithin(3000), `len ${len}`).toBe(true);
    }
    await assertServes();
  });

  it('a truncated request body gets MARSHALLINGERROR (-5); the connection stays', async () => {
    const c = await RawClient.connect(s.port);
    const bodies: [number, string][] = [
      [OpCode.getData, '00000002 2f'], // path cut short
      [OpCode.getData, '00000002 2f61'], // watch flag missing
      [OpCode.exists, ''],
      [OpCode.getChildren2, '00000001'],
      [OpCode.getACL, '7fffffff'], // impossible length
      [OpCode.setWatches, '0000000000000000 00000001'],
      [OpCode.addWatch, '00000002 2f61'],
      [OpCode.checkWatches, '00000002 2f61'],
      [OpCode.getAllChildrenNumber, '000000'],
    ];
    let xid = 100;
    for (const [type, hex] of bodies) {
      const r = c.call(type, ++xid, (w) => void w.writeRaw(Buffer.from(hex.replace(/\s+/g, ''), 'hex')));
      const reply = await r;
      expect(reply.header.err, `type ${type} body ${hex}`).toBe(Err.MARSHALLINGERROR);
      expect(reply.header.xid).toBe(xid);
      expect(reply.reader.remaining()).toBe(0);
    }
    expect(c.isClosed).toBe(false);
    expect((await c.exists('/')).err).toBe(0);
    await c.close();
  });

  it('a truncated write body gets MARSHALLINGERROR and consumes a zxid; nothing is created', async () => {
    const c = await RawClient.connect(s.port);
    const p = uniq();
    // the path, then 2 bytes of whatever comes next (data length / version / vector count)
    const cut = Buffer.concat([new JuteWriter().writeString(p).finish(), Buffer.from('0000', 'hex')]);
    const z0 = (await c.ping()).header.zxid;
    for (const type of [OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.setData, OpCode.delete, OpCode.setACL]) {
      const r = await c.call(type, undefined, (w) => void w.writeRaw(cut));
      expect(r.header.err, `type ${type}`).toBe(Err.MARSHALLINGERROR);
    }
    expect((await c.exists(p)).err).toBe(Err.NONODE);
    // six error txns
    expect((await c.ping()).header.zxid).toBe(z0 + 6);
    expect((await c.create(p)).err).toBe(0);
    await c.close();
    await assertServes();
  });

  it('trailing bytes after a complete request record are ignored', async () => {
    const c = await RawClient.connect(s.port);
    const r = await c.call(OpCode.exists, undefined, (w) => {
      w.writeString('/');
      w.writeBool(false);
      w.writeRaw(Buffer.from('deadbeef', 'hex'));
    });
    expect(r.header.err).toBe(0);
    await c.close();
  });

  it('an unknown opcode: earlier replies first, then ReplyHeader(xid, -1, -6), then close', async () => {
    for (const type of [999, 0, -3, 10, 23, 108]) {
      const c = await RawClient.connect(s.port);
      const before = c.exists('/');
      const bad = c.call(type, 77);
      const after = c.exists('/').catch((e: Error) => e);
      expect((await before).err).toBe(0);
      const r = await bad;
      expect(r.header, `type ${type}`).toEqual({ xid: 77, zxid: -1, err: Err.UNIMPLEMENTED });
      expect(r.reader.remaining()).toBe(0);
      expect(await c.closedWithin(3000)).toBe(true);
      expect(await after).toBeInstanceOf(Error);
    }
    await assertServes();
  });

  it('a request delivered one byte at a time is served', async () => {
    const c = await RawClient.connect(s.port);
    const p = uniq();
    const w = new JuteWriter();
    createBody(p, Buffer.from('slow'), OPEN_ACL_UNSAFE, 0)(w);
    const bytes = request(5, OpCode.create, Buffer.from(w.finish()));
    const reply = c.awaitReply(5);
    for (const b of bytes) {
      c.sendBytes(Buffer.from([b]));
      await sleep(1);
    }
    const r = await reply;
    expect(r.header.err).toBe(0);
    expect(r.reader.readStr()).toBe(p);
    expect((await c.getData(p)).data!.toString()).toBe('slow');
    await c.close();
  });

  it('many frames in one TCP write are all served, in order', async () => {
    const c = await RawClient.connect(s.port);
    const p = uniq();
    const frames: Buffer[] = [];
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      const w = new JuteWriter();
      createBody(`${p}-${i}`, null, OPEN_ACL_UNSAFE, 0)(w);
      frames.push(request(1000 + i, OpCode.create, Buffer.from(w.finish())));
      replies.push(c.awaitReply(1000 + i));
    }
    c.sendBytes(Buffer.concat(frames));
    const got = (await Promise.all(replies)) as { header: { xid: number; err: number } }[];
    expect(got.map((r) => r.header.err)).toEqual(new Array(50).fill(0));
    expect(c.outOfOrder).toEqual([]);
    await c.close();
  });
});

describe('malformed handshakes and garbage', () => {
  it('a malformed ConnectRequest closes the connection without a response', async () => {
    const cases = [
      Buffer.alloc(0),
      Buffer.alloc(10),
      Buffer.from('00000000 0000000000000000 00007530 0000000000000000 7fffffff'.replace(/\s+/g, ''), 'hex'), // passwd length impossible
      Buffer.from('00000000 0000000000000000 00007530 0000000000000000 00000010 0000'.replace(/\s+/g, ''), 'hex'), // passwd cut short
    ];
    for (const payload of cases) {
      const r = await rawExchange(frame(payload));
      expect(r.closed, payload.toString('hex')).toBe(true);
      expect(r.data.length).toBe(0);
    }
    await assertServes();
  });

  it('garbage before the handshake closes the connection', async () => {
    for (const g of [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'latin1'), Buffer.from('hello world, this is not zookeeper')]) {
      const r = await rawExchange(g);
      expect(r.closed, JSON.stringify(g.toString('latin1'))).toBe(true);
      expect(r.data.length).toBe(0);
    }
    await assertServes();
  });
});

describe('paths and sizes', () => {
  it('invalid paths are BADARGUMENTS on create; the connection stays', async () => {
    const c = await RawClient.connect(s.port);
    await c.create('/a');
    for (const bad of ['/a/', '//', 'a', '/a\u0000b', '/.', '/a/..', '', '/a/.', '/\u0019']) {
      const r = await c.create(bad);
      expect(r.err, JSON.stringify(bad)).toBe(Err.BADARGUMENTS);
    }
    expect(c.isClosed).toBe(false);
    await c.close();
    await assertServes();
  });

  it('1 MB data: accepted up to the frame limit, the frame one byte over closes the connection', async () => {
    const c = await RawClient.connect(s.port);
    const p = '/big';
    // payload = 8 header + (4 + 4 path) + (4 + d data) + 27 ACL + 4 flags
    const max = 0xfffff - 51;
    const data = Buffer.alloc(max, 0x5a);
    const r = await c.create(p, data);
    expect(r.err).toBe(0);
    const g = await c.getData(p);
    expect(g.stat!.dataLength).toBe(max);
    expect(g.data!.equals(data)).toBe(true);
    // setData with the same size fits too (payload = 8 + 8 + 4 + d + 4 < limit)
    expect((await c.setData(p, Buffer.alloc(max, 1))).err).toBe(0);
    const over = c.create('/big2', Buffer.alloc(max + 1));
    expect(await c.closedWithin(3000)).toBe(true);
    await expect(over).rejects.toThrow(/closed/);
    await assertServes();
    const k = await RawClient.connect(s.port);
    expect((await k.exists('/big2')).err).toBe(Err.NONODE);
    await k.close();
  });
});

describe('connection limits', () => {
  it('maxClientCnxns per IP: the excess connection is closed; a slot frees up on close', async () => {
    const lim = await startTestServer({ maxClientCnxns: 2 });
    try {
      const a = await RawClient.connect(lim.port);
      const b = await RawClient.connect(lim.port);
      const c = await RawClient.open(lim.port);
      c.sendConnect({});
      expect(await c.closedWithin(3000)).toBe(true);
      expect(c.connectResponse).toBeNull();
      await a.close();
      await sleep(50);
      await assertServes(lim.port);
      await b.close();
    } finally {
      await lim.stop();
    }
  });
});

describe('four-letter words', () => {
  it('a word outside the whitelist says so; whitelisted ones and srvr answer', async () => {
    const w = await startTestServer({ fourLetterWhitelist: new Set(['ruok']) });
    try {
      const ask = async (word: string): Promise<string> => {
        const r = await rawExchange(Buffer.from(word), 3000, w.port);
        expect(r.closed).toBe(true);
        return r.data.toString();
      };
      expect(await ask('ruok')).toBe('imok');
      for (const word of ['stat', 'mntr', 'conf', 'cons', 'dump', 'envi', 'wchs']) {
        expect(await ask(word)).toBe(`${word} is not executed because it is not in the whitelist.\n`);
      }
      expect(await ask('srvr')).toMatch(/^Zookeeper version: .*\nLatency min\/avg\/max: \d+\/[\d.]+\/\d+\n[\s\S]*Mode: standalone\nNode count: \d+\n$/);
      await assertServes(w.port);
    } finally {
      await w.stop();
    }
  });

  it('a four-letter word after the handshake is just a bad frame length', async () => {
    const c = await RawClient.connect(s.port);
    c.sendBytes(Buffer.from('ruok')); // 0x72756f6b > jute.maxbuffer
    expect(await c.closedWithin(3000)).toBe(true);
    expect(c.arrivals).toEqual([]);
    await assertServes();
  });
});
