// Data payloads of the session-related quorum packets (wire-quorum.md §5, §8.1, §9):
//  REQUEST            learner → leader   long sessionId, int cxid, int type, then the client request body
//  REVALIDATE         learner → leader   long sessionId, int timeoutMs
//  REVALIDATE reply   leader → learner   long sessionId, boolean valid
//  PING reply         learner → leader   (long sessionId, int timeoutMs)* touched since the last ping
// Session ids are full 64-bit values (server id in the top byte), hence bigint.
import { JuteError, JuteReader, JuteWriter } from '../../jute/archive';

export interface ForwardedRequest {
  sessionId: bigint;
  cxid: number;
  type: number;
  /** the client's request record bytes, without RequestHeader */
  body: Buffer;
}

export function encodeRequest(r: ForwardedRequest): Buffer {
  const w = new JuteWriter(16 + r.body.length);
  w.writeBigLong(r.sessionId);
  w.writeInt(r.cxid);
  w.writeInt(r.type);
  w.writeRaw(r.body);
  return Buffer.from(w.finish());
}

export function decodeRequest(data: Buffer | null): ForwardedRequest {
  if (!data || data.length < 16) throw new JuteError('REQUEST payload shorter than 16 bytes');
  const r = new JuteReader(data);
  return { sessionId: r.readBigLong(), cxid: r.readInt(), type: r.readInt(), body: Buffer.from(data.subarray(16)) };
}

export interface SessionTouch {
  sessionId: bigint;
  timeoutMs: number;
}

export function encodeRevalidate(s: SessionTouch): Buffer {
  return Buffer.from(new JuteWriter(12).writeBigLong(s.sessionId).writeInt(s.timeoutMs).finish());
}

export function decodeRevalidate(data: Buffer | null): SessionTouch {
  if (!data || data.length < 12) throw new JuteError('REVALIDATE payload shorter than 12 bytes');
  const r = new JuteReader(data);
  return { sessionId: r.readBigLong(), timeoutMs: r.readInt() };
}

export interface RevalidateReply {
  sessionId: bigint;
  valid: boolean;
}

export function encodeRevalidateReply(v: RevalidateReply): Buffer {
  return Buffer.from(new JuteWriter(9).writeBigLong(v.sessionId).writeBool(v.valid).finish());
}

export function decodeRevalidateReply(data: Buffer | null): RevalidateReply {
  if (!data || data.length < 9) throw new JuteError('REVALIDATE reply shorter than 9 bytes');
  const r = new JuteReader(data);
  return { sessionId: r.readBigLong(), valid: r.readBool() };
}

/** PING reply payload; an empty table is an empty (not null) buffer, as Learner.ping writes it. */
export function encodeSessionTouches(touches: readonly SessionTouch[]): Buffer {
  const w = new JuteWriter(12 * touches.length + 1);
  for (const t of touches) w.writeBigLong(t.sessionId).writeInt(t.timeoutMs);
  return Buffer.from(w.finish());
}

export function decodeSessionTouches(data: Buffer | null): SessionTouch[] {
  if (!data) return [];
  if (data.length % 12 !== 0) throw new JuteError(`PING payload of ${data.length} bytes is not a multiple of 12`);
  const r = new JuteReader(data);
  const out: SessionTouch[] = [];
  while (r.remaining() > 0) out.push({ sessionId: r.readBigLong(), timeoutMs: r.readInt() });
  return out;
}

// ---- dynamic reconfiguration (Leader.commitAndActivate / informAndActivate) ----
//  COMMITANDACTIVATE  leader → follower   long designated leader
//  INFORMANDACTIVATE  leader → observer   long designated leader, then the txn (as INFORM carries it)

const RECONFIG_TXN_TYPE = 16;

export function encodeDesignatedLeader(sid: number, txn: Buffer | null = null): Buffer {
  const b = Buffer.alloc(8 + (txn ? txn.length : 0));
  b.writeBigInt64BE(BigInt(sid), 0);
  if (txn) txn.copy(b, 8);
  return b;
}

export function decodeDesignatedLeader(data: Buffer | null): { leader: number; txn: Buffer } {
  if (!data || data.length < 8) throw new JuteError('activation payload shorter than 8 bytes');
  return { leader: Number(data.readBigInt64BE(0)), txn: data.subarray(8) };
}

/**
 * The membership text a reconfig txn carries (TxnHeader with type reconfig, then SetDataTxn of
 * /zookeeper/config), or null for any other txn.
 */
export function reconfigData(txn: Buffer): Buffer | null {
  // TxnHeader: long clientId, int cxid, long zxid, long time, int type
  if (txn.length < 32 || txn.readInt32BE(28) !== RECONFIG_TXN_TYPE) return null;
  const r = new JuteReader(txn);
  r.offset = 32;
  r.readStr();
  return r.readBuffer();
}
