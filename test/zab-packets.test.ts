// QuorumPacket codec against wire-quorum.md §5 vectors, the unframed stream decoder under random
// splits, LearnerInfo, zxid helpers and the session payloads of §8.1 / §9.
import { describe, expect, it } from 'vitest';
import {
  counterOf,
  decodeLearnerInfo,
  decodeQuorumPacket,
  encodeLearnerInfo,
  encodeQuorumPacket,
  epochOf,
  makeZxid,
  packet,
  PacketBatcher,
  PacketType as T,
  QuorumPacket,
  QuorumPacketDecoder,
} from '../src/quorum/zab/packets';
import {
  decodeRequest,
  decodeRevalidate,
  decodeRevalidateReply,
  decodeSessionTouches,
  encodeRequest,
  encodeRevalidate,
  encodeRevalidateReply,
  encodeSessionTouches,
} from '../src/quorum/zab/payloads';
import { prng } from '../src/quorum/zab/sim';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('QuorumPacket', () => {
  it('PING(zxid 5, null, null) is the §5 vector', () => {
    const b = encodeQuorumPacket(packet(T.PING, 5));
    expect(b.toString('hex')).toBe('00000005 0000000000000005 ffffffff ffffffff'.replace(/ /g, ''));
    expect(decodeQuorumPacket(b)).toEqual({ type: 5, zxid: 5, data: null, authinfo: null });
  });

  it('LearnerInfo(3, 0x10000, 0x100000000) is the §5 vector, read leniently', () => {
    const b = encodeLearnerInfo({ sid: 3, protocolVersion: 0x10000, configVersion: 0x100000000 });
    expect(b.toString('hex')).toBe('0000000000000003 00010000 0000000100000000'.replace(/ /g, ''));
    expect(decodeLearnerInfo(b)).toEqual({ sid: 3, protocolVersion: 0x10000, configVersion: 0x100000000 });
    expect(decodeLearnerInfo(b.subarray(0, 8))).toEqual({ sid: 3, protocolVersion: 0, configVersion: 0 });
    expect(decodeLearnerInfo(b.subarray(0, 12))).toEqual({ sid: 3, protocolVersion: 0x10000, configVersion: 0 });
    expect(decodeLearnerInfo(b.subarray(0, 7))).toBeNull();
    expect(decodeLearnerInfo(null)).toBeNull();
  });

  it('round-trips -1 zxids, data and authinfo', () => {
    const p: QuorumPacket = { type: T.REQUEST, zxid: -1, data: hex('0102'), authinfo: [{ scheme: 'digest', id: 'u:p' }, { scheme: 'ip', id: '' }] };
    const b = encodeQuorumPacket(p);
    expect(b.subarray(4, 12).toString('hex')).toBe('ffffffffffffffff');
    expect(decodeQuorumPacket(b)).toEqual(p);
    expect(() => decodeQuorumPacket(b.subarray(0, b.length - 1))).toThrow();
  });

  it('zxid helpers split and join epoch and counter', () => {
    const z = makeZxid(0x1234, 0xfffffffe);
    expect(z).toBe(0x1234fffffffe);
    expect(epochOf(z)).toBe(0x1234);
    expect(counterOf(z)).toBe(0xfffffffe);
    expect(makeZxid(7, 0)).toBe(7 * 2 ** 32);
  });
});

describe('QuorumPacketDecoder (no framing)', () => {
  const stream: QuorumPacket[] = [
    packet(T.FOLLOWERINFO, makeZxid(2, 0), encodeLearnerInfo({ sid: 2, protocolVersion: 0x10000, configVersion: 0 })),
    packet(T.PROPOSAL, makeZxid(3, 1), Buffer.alloc(300, 7)),
    packet(T.COMMIT, makeZxid(3, 1)),
    { type: T.REQUEST, zxid: -1, data: Buffer.alloc(0), authinfo: [{ scheme: 'digest', id: 'a:b' }, { scheme: 'sasl', id: 'x' }] },
    { type: T.PING, zxid: 9, data: Buffer.alloc(0), authinfo: [] },
    packet(T.UPTODATE, -1),
  ];
  const bytes = Buffer.concat(stream.map(encodeQuorumPacket));

  it('yields the same packets for any chunking (500 seeded splits, byte by byte included)', () => {
    for (let seed = 0; seed <= 500; seed++) {
      const rnd = prng(seed + 1);
      const d = new QuorumPacketDecoder();
      const out: QuorumPacket[] = [];
      for (let i = 0; i < bytes.length; ) {
        const n = seed === 0 ? 1 : 1 + Math.floor(rnd() * 40);
        d.push(bytes.subarray(i, i + n));
        i += n;
        out.push(...d.drain());
      }
      expect(out).toEqual(stream);
      expect(d.buffered().length).toBe(0);
    }
  });

  it('leaves the raw snapshot stream after SNAP to the adapter', () => {
    const d = new QuorumPacketDecoder();
    const raw = Buffer.from('snapshot-bytes');
    d.push(Buffer.concat([encodeQuorumPacket(packet(T.SNAP, 42)), raw, encodeQuorumPacket(packet(T.NEWLEADER, makeZxid(1, 0)))]));
    expect(d.next()?.type).toBe(T.SNAP);
    expect(d.buffered().subarray(0, raw.length)).toEqual(raw);
    d.consume(raw.length);
    expect(d.next()?.type).toBe(T.NEWLEADER);
    expect(d.next()).toBeNull();
  });

  it('rejects impossible lengths', () => {
    const d = new QuorumPacketDecoder(1024);
    d.push(hex('00000002 0000000000000001 7fffffff'));
    expect(() => d.next()).toThrow(/Unreasonable length/);
  });
});

describe('session payloads', () => {
  it('REQUEST: long sessionId, int cxid, int type, body', () => {
    const r = { sessionId: 0x0300000000000001n, cxid: 7, type: 1, body: hex('aabb') };
    const b = encodeRequest(r);
    expect(b.toString('hex')).toBe('0300000000000001' + '00000007' + '00000001' + 'aabb');
    expect(decodeRequest(b)).toEqual(r);
    expect(() => decodeRequest(b.subarray(0, 15))).toThrow();
  });

  it('REVALIDATE question and answer, PING touch table', () => {
    const s = { sessionId: -2n, timeoutMs: 30000 };
    expect(encodeRevalidate(s).toString('hex')).toBe('fffffffffffffffe' + '00007530');
    expect(decodeRevalidate(encodeRevalidate(s))).toEqual(s);
    expect(encodeRevalidateReply({ sessionId: 5n, valid: true }).toString('hex')).toBe('000000000000000501');
    expect(decodeRevalidateReply(encodeRevalidateReply({ sessionId: 5n, valid: false }))).toEqual({ sessionId: 5n, valid: false });
    const touches = [s, { sessionId: 9n, timeoutMs: 4000 }];
    expect(encodeSessionTouches(touches).length).toBe(24);
    expect(decodeSessionTouches(encodeSessionTouches(touches))).toEqual(touches);
    expect(encodeSessionTouches([]).length).toBe(0);
    expect(decodeSessionTouches(null)).toEqual([]);
    expect(() => decodeSessionTouches(Buffer.alloc(5))).toThrow();
  });
});

describe('PacketBatcher', () => {
  it('coalesces the packets of one event-loop turn into one write, in order, with raw bytes in place', async () => {
    const writes: Buffer[] = [];
    const sink = { destroyed: false, write: (b: Buffer) => writes.push(Buffer.from(b)) };
    const out = new PacketBatcher(sink);
    const ps = [packet(T.PROPOSAL, makeZxid(1, 1), Buffer.from('a')), packet(T.COMMIT, makeZxid(1, 1)), packet(T.PING, 7)];
    for (const p of ps) out.send(p);
    expect(writes.length).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(writes.length).toBe(1);
    const d = new QuorumPacketDecoder();
    d.push(writes[0]);
    expect(d.drain()).toEqual(ps);
    // a SNAP stream follows its packet, after everything queued before it
    out.send(ps[0]);
    out.beginStream();
    out.streamChunk(Buffer.from('SNAPBYTES'));
    out.endStream();
    out.send(ps[1]);
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(writes.slice(1)).subarray(-9 - encodeQuorumPacket(ps[1]).length, -encodeQuorumPacket(ps[1]).length).toString()).toBe('SNAPBYTES');
    expect(Buffer.concat(writes.slice(1)).subarray(0, encodeQuorumPacket(ps[0]).length)).toEqual(encodeQuorumPacket(ps[0]));
    const before = writes.length;
    sink.destroyed = true;
    out.send(ps[2]);
    await new Promise((r) => setImmediate(r));
    expect(writes.length).toBe(before); // nothing is written to a closed connection
  });

  it('writes a stream chunk by chunk, reporting what the socket took, with packets sent meanwhile behind it', async () => {
    // a socket that takes one write per turn of the loop and calls back once it is gone
    const writes: Buffer[] = [];
    const pending: (() => void)[] = [];
    const sink = {
      destroyed: false,
      write: (b: Buffer, cb?: (err?: Error | null) => void) => {
        writes.push(Buffer.from(b));
        pending.push(() => cb?.(null));
      },
    };
    const out = new PacketBatcher(sink);
    const chunks = [0, 1, 2].map((i) => Buffer.alloc(10_000, i + 1));
    const taken: number[] = [];
    const ps = [packet(T.SNAP, makeZxid(1, 5)), packet(T.PING, 1), packet(T.NEWLEADER, makeZxid(2, 0))];
    out.send(ps[0]);
    out.beginStream();
    expect(() => out.beginStream()).toThrow(); // one stream at a time
    out.streamChunk(chunks[0], () => taken.push(0));
    out.send(ps[1]);
    await new Promise((r) => setImmediate(r));
    out.streamChunk(chunks[1], () => taken.push(1));
    out.send(ps[2]);
    out.streamChunk(chunks[2], () => taken.push(2));
    await new Promise((r) => setImmediate(r));
    expect(writes.length, 'the packets sent during the stream wait').toBe(4);
    out.endStream();
    for (const p of pending.splice(0)) p();
    expect(taken).toEqual([0, 1, 2]);
    expect(() => out.streamChunk(chunks[0])).toThrow(); // outside a stream
    const all = Buffer.concat(writes);
    const head = encodeQuorumPacket(ps[0]).length;
    expect(all.subarray(0, head)).toEqual(encodeQuorumPacket(ps[0]));
    expect(all.subarray(head, head + 30_000).equals(Buffer.concat(chunks))).toBe(true);
    const d = new QuorumPacketDecoder();
    d.push(all.subarray(head + 30_000));
    expect(d.drain()).toEqual([ps[1], ps[2]]);
  });
});
