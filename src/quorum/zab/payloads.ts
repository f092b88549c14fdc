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
