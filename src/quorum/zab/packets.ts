// The quorum-port vocabulary (wire-quorum.md §5): QuorumPacket and its jute codec, a streaming
// decoder for back-to-back records with no framing, packet type numbers, LearnerInfo and zxid
// arithmetic. No I/O here.
import { JuteError, JuteReader, JuteWriter } from '../../jute/archive';
import { Id } from '../../jute/records';
import { counterOf, epochOf, makeZxid, MAX_COUNTER, zxidHex } from '../../data/zxid';

export const PacketType = {
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  REVALIDATE: 6,
  SYNC: 7,
  INFORM: 8,
  COMMITANDACTIVATE: 9,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
  INFORMANDACTIVATE: 19,
} as const;

const NAMES = new Map<number, string>(Object.entries(PacketType).map(([k, v]) => [v, k]));
export function packetName(type: number): string {
  return NAMES.get(type) ?? `UNKNOWN(${type})`;
}

/** `Q/Leader.java` protocol version sent in LEADERINFO and LearnerInfo. */
export const PROTOCOL_VERSION = 0x10000;

export interface QuorumPacket {
  type: number;
  zxid: number;
  data: Buffer | null;
  authinfo: Id[] | null;
}

export function packet(type: number, zxid: number, data: Buffer | null = null, authinfo: Id[] | null = null): QuorumPacket {
  return { type, zxid, data, authinfo };
}

// ---- zxids (S/server/util/ZxidUtils.java); zxids stay below 2^53, so plain numbers are exact ----

export { counterOf, epochOf, makeZxid, MAX_COUNTER, zxidHex };

// ---- QuorumPacket codec ----

export function writeQuorumPacket(w: JuteWriter, p: QuorumPacket): void {
  w.writeInt(p.type);
  w.writeLong(p.zxid);
  w.writeBuffer(p.data);
  w.writeVector(p.authinfo, (x, id) => {
    x.writeString(id.scheme);
    x.writeString(id.id);
  });
}

export function encodeQuorumPacket(p: QuorumPacket): Buffer {
  const w = new JuteWriter(32 + (p.data?.length ?? 0));
  writeQuorumPacket(w, p);
  return Buffer.from(w.finish());
}

/** Decode exactly one record; throws JuteError on truncated or malformed input. */
export function decodeQuorumPacket(buf: Buffer, maxLen = 64 << 20): QuorumPacket {
  const r = new JuteReader(buf, 0, buf.length, maxLen);
  const p = readQuorumPacket(r);
  if (r.remaining() !== 0) throw new JuteError(`${r.remaining()} trailing bytes after QuorumPacket`);
  return p;
}

function readQuorumPacket(r: JuteReader): QuorumPacket {
  const type = r.readInt();
  const zxid = r.readLong();
  const data = r.readBuffer();
  const authinfo = r.readVector((x) => ({ scheme: x.readStr(), id: x.readStr() }));
  return { type, zxid, data: data ? Buffer.from(data) : null, authinfo };
}

/**
 * Length of the QuorumPacket record at `off`, or -1 when the bytes are not all there yet.
 * Scans the length prefixes only, so a record split anywhere is recognised as incomplete.
 */
function recordLength(buf: Buffer, off: number, maxLen: number): number {
  let p = off + 12; // type + zxid
  const len = (n: number): number => {
    if (p + 4 > buf.length) return -2;
    const v = buf.readInt32BE(p);
    p += 4;
    if (v < -1 || v > n) throw new JuteError(`Unreasonable length = ${v}`);
    return v;
  };
  const dataLen = len(maxLen);
  if (dataLen === -2) return -1;
  if (dataLen > 0) p += dataLen;
  const count = len(maxLen);
  if (count === -2) return -1;
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < 2; k++) {
      if (p > buf.length) return -1;
      const s = len(maxLen);
      if (s === -2) return -1;
      if (s > 0) p += s;
    }
  }
  return p > buf.length ? -1 : p - off;
}

/**
 * The quorum-port stream decoder: push chunks split anywhere, take whole packets. After a SNAP
 * packet the peer writes a raw snapshot stream (§7.4); the adapter takes those bytes with
 * `buffered()` / `consume(n)` before asking for the next packet.
 */
export class QuorumPacketDecoder {
  /** bytes [start, end) of `buf` are unread; the buffer grows geometrically, so a long SNAP stream costs O(n) */
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  constructor(private readonly maxLen = 64 << 20) {}

  push(chunk: Buffer): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const need = live + chunk.length;
      if (need <= this.buf.length / 2) this.buf.copy(this.buf, 0, this.start, this.end);
      else {
        const grown = Buffer.allocUnsafe(Math.max(need * 2, 64 * 1024));
        this.buf.copy(grown, 0, this.start, this.end);
        this.buf = grown;
      }
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  /** The next whole packet, or null until more bytes arrive. Throws JuteError on garbage. */
  next(): QuorumPacket | null {
    const view = this.buf.subarray(this.start, this.end);
    const n = recordLength(view, 0, this.maxLen);
    if (n < 0) return null;
    const p = readQuorumPacket(new JuteReader(view, 0, n, this.maxLen)); // copies what it keeps
    this.start += n;
    return p;
  }

  /** Every whole packet available now. */
  drain(): QuorumPacket[] {
    const out: QuorumPacket[] = [];
    for (let p = this.next(); p; p = this.next()) out.push(p);
    return out;
  }

  /** The unread bytes (valid until the next push). */
  buffered(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  consume(n: number): void {
    this.start = Math.min(this.end, this.start + n);
  }
}

// ---- LearnerInfo: long serverid, int protocolVersion, long configVersion (20 bytes) ----

export interface LearnerInfo {
  sid: number;
  protocolVersion: number;
  configVersion: number;
}

export function encodeLearnerInfo(li: LearnerInfo): Buffer {
  const w = new JuteWriter(20);
  w.writeLong(li.sid);
  w.writeInt(li.protocolVersion);
  w.writeLong(li.configVersion);
  return Buffer.from(w.finish());
}

/** Lenient as LearnerHandler.run: ≥8 bytes sid, ≥12 protocol version, ≥20 config version; null if < 8. */
export function decodeLearnerInfo(data: Buffer | null): LearnerInfo | null {
  if (!data || data.length < 8) return null;
  const r = new JuteReader(data);
  const sid = r.readLong();
  const protocolVersion = data.length >= 12 ? r.readInt() : 0;
  const configVersion = data.length >= 20 ? r.readLong() : 0;
  return { sid, protocolVersion, configVersion };
}

export function intData(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v | 0, 0);
  return b;
}

export function readIntData(data: Buffer | null): number | null {
  return data && data.length >= 4 ? data.readInt32BE(0) : null;
}

/**
 * Outgoing packets for one quorum connection, coalesced: everything sent during one turn of the
 * event loop (all the socket reads, fsync completions and ticks it handles) leaves in a single
 * write, flushed in the loop's check phase (setImmediate), so a
 * leader broadcasting thousands of PROPOSAL/COMMITs a second makes one syscall per batch, not
 * one per packet. Order is kept.
 *
 * A raw byte stream can follow a packet (the SNAP stream, written chunk by chunk as the leader
 * encodes it: snapsend.ts): between `beginStream` and `endStream` packets sent wait behind it
 * instead of cutting into it, and each chunk reports when the socket has taken it, so the
 * stream's progress is known (Node counts a write as queued until its last byte is gone).
 */
type Sink = { write(b: Buffer, cb?: (err?: Error | null) => void): unknown; destroyed: boolean };

export class PacketBatcher {
  private w: JuteWriter | null = null;
  private queued = false;
  /** a raw stream is being written: packets wait behind it */
  private streaming = false;

  constructor(private readonly sink: Sink) {}

  send(p: QuorumPacket): void {
    writeQuorumPacket(this.writer(), p);
    this.schedule();
  }

  /** Start a raw stream after what was sent so far; packets sent until `endStream` follow it. */
  beginStream(): void {
    // one SNAP per learner connection: a second stream inside the first is a caller's bug
    if (this.streaming) throw new Error('PacketBatcher.beginStream while an earlier stream is still being written');
    this.flush();
    this.streaming = true;
  }

  /** The stream's next bytes (not copied: keep them unchanged); `taken()` once the socket has handed them to the kernel. */
  streamChunk(b: Buffer, taken?: () => void): void {
    if (!this.streaming) throw new Error('PacketBatcher.streamChunk outside a stream');
    if (this.sink.destroyed || b.length === 0) return;
    this.sink.write(b, taken && ((err) => {
      if (!err) taken();
    }));
  }

  /** The stream is complete: the packets held behind it go now. */
  endStream(): void {
    this.streaming = false;
    this.flush();
  }

  private writer(): JuteWriter {
    return (this.w ??= new JuteWriter(4096));
  }

  private schedule(): void {
    if (this.queued) return;
    this.queued = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.queued = false;
    if (this.streaming) return;
    const w = this.w;
    this.w = null;
    if (w && w.offset > 0 && !this.sink.destroyed) this.sink.write(w.finish());
  }
}
