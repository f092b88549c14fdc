// QuorumPacket on the quorum port: jute records back to back, no framing (wire-quorum.md §5).
import { JuteReader, JuteWriter, JuteError } from '../../jute/archive';
import { Packet } from './types';

export function encodePacket(p: Packet, w = new JuteWriter(64)): Buffer {
  w.writeInt(p.type);
  w.writeLong(p.zxid);
  w.writeBuffer(p.data);
  if (p.authinfo == null) w.writeInt(-1);
  else
    w.writeVector(p.authinfo, (x, id) => {
      x.writeString(id.scheme);
      x.writeString(id.id);
    });
  return w.finish();
}

/** Accumulates stream bytes; `next` returns whole packets; `takeRaw` lends the unread bytes (SNAP). */
export class PacketStream {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
  }

  next(): Packet | null {
    const r = new JuteReader(this.buf, 0, this.buf.length, 64 << 20);
    try {
      const type = r.readInt();
      const zxid = r.readLong();
      const data = r.readBuffer();
      const authinfo = r.readVector((x) => ({ scheme: x.readStr(), id: x.readStr() }));
      this.buf = this.buf.subarray(r.offset);
      return { type, zxid, data: data ? Buffer.from(data) : null, authinfo };
    } catch (e) {
      if (e instanceof JuteError && e.message.startsWith('record truncated')) return null;
      throw e;
    }
  }

  /** Unread bytes; `consume(n)` drops n of them. */
  raw(): Buffer {
    return this.buf;
  }

  consume(n: number): void {
    this.buf = this.buf.subarray(n);
  }
}
