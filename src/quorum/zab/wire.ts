// LEGACY adapter API used by src/quorum/peer.ts: QuorumPacket on the quorum port, jute records back
// to back, no framing (wire-quorum.md §5). Both now delegate to packets.ts, whose decoder scans the
// length prefixes first, so a record split inside its authinfo vector waits for more bytes instead of
// failing with "Unreasonable vector length".
import { JuteWriter } from '../../jute/archive';
import { QuorumPacketDecoder, writeQuorumPacket } from './packets';
import { Packet } from './types';

export function encodePacket(p: Packet, w = new JuteWriter(64)): Buffer {
  writeQuorumPacket(w, { type: p.type, zxid: p.zxid, data: p.data, authinfo: p.authinfo ?? null });
  return w.finish();
}

/** Accumulates stream bytes; `next` returns whole packets; `raw`/`consume` lend the unread bytes (SNAP). */
export class PacketStream {
  private readonly d = new QuorumPacketDecoder();

  push(chunk: Buffer): void {
    this.d.push(chunk);
  }

  next(): Packet | null {
    return this.d.next();
  }

  raw(): Buffer {
    return this.d.buffered();
  }

  consume(n: number): void {
    this.d.consume(n);
  }
}
