// Fuzzing (fast-check) of everything that decodes bytes from the network: the client frame reader,
// the request pipeline behind it (random and mutated request frames on a live session), every jute
// request record, the quorum packet decoder (random bytes, mutated packets, valid streams split
// anywhere), the election notification and the learner payloads. The properties: no exception but
// a decoding error from a decoder; nothing at all escapes the server's receive(), which answers
// with an error code or closes that one connection; the server keeps serving; no hang.
//
// CI runs FUZZ_RUNS=300 cases per property (the default); the long run is
//   FUZZ_RUNS=1000000 npx vitest run test/fuzz.test.ts
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JuteError, JuteReader, JuteWriter } from '../src/jute/archive';
import * as R from '../src/jute/records';
import { OpCode } from '../src/data/constants';
import { KeeperError } from '../src/data/constants';
import { RunningServer } from '../src/main';
import { Cnxn } from '../src/server/cnxn';
import { ZooKeeperServer } from '../src/server/zkserver';
import { FrameReader } from '../src/server/net';
import { readMultiOps } from '../src/server/prep';
import { decodeQuorumPacket, encodeQuorumPacket, PacketType, QuorumPacketDecoder, decodeLearnerInfo } from '../src/quorum/zab/packets';
import { decodeRequest, decodeRevalidate, decodeRevalidateReply, decodeSessionTouches } from '../src/quorum/zab/payloads';
import { decodeNotification } from '../src/quorum/fle/notification';
import { readTxnBody } from '../src/data/txn';
import { createBody, OPEN_ACL_UNSAFE, RawClient } from './helpers/rawclient';
import { startTestServer } from './helpers/server';
import { InProcEnsemble, peerLog } from './helpers/inproc';
import { MiniClient } from './helpers/miniclient';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const TIMEOUT = Math.max(60_000, RUNS * 20);
const bytes = (max = 256): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

/** A decoding error: what a decoder may throw on bad input (anything else is a bug). */
function isDecodingError(e: unknown): boolean {
  return e instanceof JuteError || e instanceof KeeperError || (e instanceof RangeError && /out of range|Len error|offset/i.test(e.message));
}

function decodes(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!isDecodingError(e)) throw e;
  }
}

/** Flip, insert or delete bytes of a valid encoding. */
const mutated = (valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> =>
  fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 6 })).map(([b, edits]) => {
    let out = Buffer.from(b);
    for (const [pos, val, kind] of edits) {
      const i = out.length ? pos % out.length : 0;
      if (kind === 0 && out.length) out[i] = val;
      else if (kind === 1) out = Buffer.concat([out.subarray(0, i), Buffer.from([val]), out.subarray(i)]);
      else out = Buffer.concat([out.subarray(0, i), out.subarray(i + 1)]);
    }
    return out;
  });

const path = fc.stringMatching(/^(\/[a-z0-9]{1,6}){1,3}$/);

/** Valid request bodies of the main opcodes (after the xid/type header). */
const validRequest: fc.Arbitrary<{ type: number; body: Buffer }> = fc.oneof(
  fc.tuple(path, bytes(64), fc.integer({ min: 0, max: 3 })).map(([p, d, flags]) => {
    const w = new JuteWriter(128);
    createBody(p, d, OPEN_ACL_UNSAFE, flags)(w);
    return { type: OpCode.create, body: Buffer.from(w.finish()) };
  }),
  fc.tuple(path, fc.boolean()).map(([p, watch]) => {
    const w = new JuteWriter(64);
    w.writeString(p);
    w.writeBool(watch);
    return { type: OpCode.getData, body: Buffer.from(w.finish()) };
  }),
  fc.tuple(path, bytes(32), fc.integer({ min: -1, max: 3 })).map(([p, d, v]) => {
    const w = new JuteWriter(64);
    w.writeString(p);
    w.writeBuffer(d);
    w.writeInt(v);
    return { type: OpCode.setData, body: Buffer.from(w.finish()) };
  }),
  fc.tuple(path, fc.integer({ min: -1, max: 3 })).map(([p, v]) => {
    const w = new JuteWriter(64);
    w.writeString(p);
    w.writeInt(v);
    return { type: OpCode.delete, body: Buffer.from(w.finish()) };
  }),
  fc.array(path, { maxLength: 3 }).map((paths) => {
    const w = new JuteWriter(128);
    for (const p of paths) {
      R.writeMultiHeader(w, OpCode.delete, false, -1);
      w.writeString(p);
      w.writeInt(-1);
    }
    R.writeMultiHeader(w, -1, true, -1);
    return { type: OpCode.multi, body: Buffer.from(w.finish()) };
  }),
  fc.tuple(path, fc.integer({ min: 0, max: 1 })).map(([p, mode]) => {
    const w = new JuteWriter(64);
    w.writeString(p);
    w.writeInt(mode);
    return { type: OpCode.addWatch, body: Buffer.from(w.finish()) };
  }),
);

const OPCODES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 100, 101, 102, 103, 104, 105, 106, -10, -11, 999];

function frameOf(xid: number, type: number, body: Buffer): Buffer {
  const b = Buffer.alloc(8 + body.length);
  b.writeInt32BE(xid, 0);
  b.writeInt32BE(type, 4);
  body.copy(b, 8);
  return b;
}

describe('decoders on random and mutated input', () => {
  it('every client request record reader throws only decoding errors', () => {
    const readers: ((r: JuteReader) => unknown)[] = [
      R.readConnectRequest,
      (r) => R.readCreateRequest(r, false),
      (r) => R.readCreateRequest(r, true),
      R.readPathVersion,
      R.readPathWatch,
      R.readSetDataRequest,
      R.readSetACLRequest,
      R.readPathType,
      (r) => R.readSetWatches(r, false),
      (r) => R.readSetWatches(r, true),
      R.readAuthPacket,
      (r) => readMultiOps(r, false),
      (r) => readMultiOps(r, true),
      R.readTxnHeader,
      R.readACLs,
      R.readStat,
    ];
    fc.assert(
      fc.property(fc.oneof(bytes(), mutated(validRequest.map((v) => v.body))), fc.nat(readers.length - 1), (b, i) => {
        decodes(() => readers[i](new JuteReader(b, 0, b.length, 1 << 20)));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('txn bodies of every type, as a learner or the log reader meets them', () => {
    fc.assert(
      fc.property(fc.integer({ min: -20, max: 25 }), bytes(), (type, b) => {
        try {
          readTxnBody(type, new JuteReader(b, 0, b.length, 1 << 20));
        } catch (e) {
          if (!isDecodingError(e) && !/txn|type/i.test((e as Error).message)) throw e;
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  const validPacket = fc
    .tuple(fc.constantFrom(...(Object.values(PacketType) as number[])), fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }), fc.option(bytes(64)))
    .map(([type, zxid, data]) => encodeQuorumPacket({ type, zxid: Number(zxid & 0xffffffffffffn), data, authinfo: [] }));

  it('quorum packets: random and mutated records decode or throw JuteError; the payload decoders too', () => {
    fc.assert(
      fc.property(fc.oneof(bytes(), mutated(validPacket)), (b) => {
        decodes(() => decodeQuorumPacket(b));
        for (const f of [decodeRequest, decodeRevalidate, decodeRevalidateReply, decodeSessionTouches, decodeLearnerInfo]) decodes(() => f(b));
        decodes(() => decodeNotification(b));
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('a stream of valid quorum packets split anywhere yields the same packets', () => {
    fc.assert(
      fc.property(fc.array(validPacket, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }), (packets, cuts) => {
        const stream = Buffer.concat(packets);
        const d = new QuorumPacketDecoder();
        const out: Buffer[] = [];
        let at = 0;
        let k = 0;
        while (at < stream.length) {
          const n = cuts[k++ % cuts.length];
          d.push(stream.subarray(at, at + n));
          at += n;
          for (let p = d.next(); p; p = d.next()) out.push(encodeQuorumPacket(p));
        }
        expect(out).toEqual(packets);
      }),
      { numRuns: RUNS },
    );
  });

  it('the client frame reader: any split of random bytes gives the frames of the whole, or the same error', () => {
    fc.assert(
      fc.property(bytes(300), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }), (b, cuts) => {
        const run = (chunks: Buffer[]): string => {
          const r = new FrameReader();
          const frames: string[] = [];
          try {
            for (const c of chunks) {
              r.push(c);
              for (let f = r.next(128); f; f = r.next(128)) frames.push(f.toString('hex'));
            }
            return frames.join(',');
          } catch (e) {
            return `${frames.join(',')}!${(e as Error).message}`;
          }
        };
        const chunks: Buffer[] = [];
        for (let at = 0, k = 0; at < b.length; k++) {
          chunks.push(b.subarray(at, at + cuts[k % cuts.length]));
          at += cuts[k % cuts.length];
        }
        expect(run(chunks)).toBe(run([b]));
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

/** Request frames: random opcodes with random bodies, valid requests, mutated ones, short garbage. */
const requestFrame: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(fc.constantFrom(...OPCODES), bytes(128)).map(([t, b]) => frameOf(7, t, b)),
  validRequest.map((v) => frameOf(7, v.type, v.body)),
  mutated(validRequest.map((v) => frameOf(7, v.type, v.body))),
  bytes(12),
);

/**
 * A session on a fake connection of `zk`: frames go straight to its receive(). `waitMs` bounds the
 * handshake (a learner's createSession goes through the leader); `why` says where, if it fails.
 */
async function fakeSession(zk: ZooKeeperServer, waitMs = 1000, why: () => string = () => ''): Promise<{ c: Cnxn; closed: () => boolean }> {
  let closed = false;
  const c = zk.newCnxn({ remoteAddress: '127.0.0.1', remotePort: 1, write: () => {}, close: () => (closed = true) });
  const w = new JuteWriter(64);
  R.writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
  zk.receive(c, Buffer.from(w.finish()));
  for (let i = 0; i < waitMs / 5 && c.state !== 'open'; i++) await new Promise((r) => setTimeout(r, 5));
  if (c.state !== 'open') expect.fail(`no session: ${why()}`);
  return { c, closed: () => closed || c.state === 'closed' };
}

describe('the server on random and mutated request frames', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  const session = () => fakeSession(s.zk);

  it('nothing escapes receive(); bad frames get an error code or close that connection; the server serves on', async () => {
    let sess = await session();
    let closes = 0;
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        requestFrame,
        async (frame) => {
          cases++;
          s.zk.receive(sess.c, frame); // must not throw
          if (sess.closed()) {
            closes++;
            s.zk.cnxnClosed(sess.c);
            sess = await session();
          }
          if (cases % 50 === 0) await new Promise((r) => setImmediate(r)); // let writes commit
        },
      ),
      { numRuns: RUNS * 4 },
    );
    await new Promise((r) => setTimeout(r, 200));
    // a real client still gets served
    const c = await RawClient.connect(s.port);
    expect((await c.create('/after-fuzz', 'ok')).err).toBe(0);
    expect((await c.getData('/after-fuzz')).data!.toString()).toBe('ok');
    await c.close();
    expect(cases).toBe(RUNS * 4);
    expect(closes).toBeLessThan(cases);
  }, TIMEOUT);
});

describe('every role of an ensemble on random and mutated request frames', () => {
  // A learner forwards writes and syncs to the leader and answers them when the leader's packets
  // come back, inside the Zab executor: a request it could not parse then ended the role (a sync
  // with a bad path did, until session 31). The same frames as above, to the leader, a follower and
  // the observer of an in-process ensemble; afterwards no peer has changed its role.
  let e: InProcEnsemble;
  beforeAll(async () => {
    e = await InProcEnsemble.create({ voters: 3, observers: 1, tickTime: 100 });
    await e.startAll();
    await e.waitFor(() => e.serving(), 20_000, 'every peer serving');
  }, 30_000);
  afterAll(async () => {
    await e?.stopAll();
  });

  const session = (i: number) =>
    fakeSession(e.servers.get(i)!.zk, 2000, () => `a session on peer ${i} (${e.mode(i)}); its last lines: ${peerLog.filter((l) => l.myid === i).slice(-14).map((l) => `${l.msg} ${(l as { err?: string }).err ?? ''}`).join(' | ')}`);

  it('nothing escapes receive() on the leader, a follower or the observer, and no peer leaves its role', async () => {
    const L = e.leader();
    const F = [1, 2, 3].find((i) => i !== L)!;
    const modes = [1, 2, 3, 4].map((i) => e.mode(i));
    const logged = peerLog.length;
    for (const i of [F, 4, L]) {
      const zk = e.servers.get(i)!.zk;
      let sess = await session(i);
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(
          requestFrame,
          async (frame) => {
            cases++;
            zk.receive(sess.c, frame); // must not throw
            // the leader's answers (COMMIT, SYNC, REVALIDATE) come back to a learner meanwhile
            if (cases % 10 === 0) await new Promise((r) => setTimeout(r, 2));
            if (sess.closed()) {
              zk.cnxnClosed(sess.c);
              sess = await session(i);
            }
          },
        ),
        { numRuns: RUNS * 2 },
      );
      await new Promise((r) => setTimeout(r, 300));
      expect([1, 2, 3, 4].map((j) => e.mode(j)), `roles after the frames sent to peer ${i}`).toEqual(modes);
    }
    // handshakes: random and mutated ConnectRequests (a reconnect with any session id and password
    // asks the leader to revalidate it) as the first frame of a new connection to each role
    const connect = fc.record({
      protocolVersion: fc.integer({ min: -1, max: 2 }),
      lastZxidSeen: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 40 })),
      timeOut: fc.integer({ min: -1, max: 200_000 }),
      sessionId: fc.oneof(fc.constant(0n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      passwd: bytes(20),
      readOnly: fc.boolean(),
    }).map((r) => {
      const w = new JuteWriter(64);
      R.writeConnectRequest(w, r);
      return Buffer.from(w.finish());
    });
    for (const i of [F, 4, L]) {
      const zk = e.servers.get(i)!.zk;
      let cases = 0;
      await fc.assert(
        fc.asyncProperty(fc.oneof(connect, mutated(connect), bytes(48)), async (frame) => {
          const c = zk.newCnxn({ remoteAddress: '127.0.0.1', remotePort: 1, write: () => {}, close: () => {} });
          zk.receive(c, frame); // must not throw
          if (++cases % 10 === 0) await new Promise((r) => setTimeout(r, 2));
          zk.cnxnClosed(c);
        }),
        { numRuns: RUNS },
      );
      await new Promise((r) => setTimeout(r, 300));
      expect([1, 2, 3, 4].map((j) => e.mode(j)), `roles after the handshakes sent to peer ${i}`).toEqual(modes);
    }
    const left = peerLog.slice(logged).filter((l) => /learner lost its leader|sync with the leader failed|LOOKING/.test(l.msg));
    expect(left.map((l) => `${l.myid}: ${l.msg}`)).toEqual([]);
    for (let i = 1; i <= 4; i++) {
      const c = await MiniClient.connect(e.port(i), 2000);
      expect(await c.create(`/after-role-fuzz-${i}`, Buffer.from('ok'))).toBe(0);
      expect(await c.sync('/')).toBe(0);
      c.close();
    }
  }, TIMEOUT * 2);
});
