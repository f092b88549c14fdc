// FastLeaderElection notifications (wire-quorum.md §3), with the receiver's compatibility rules.
export const PeerState = { LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3 } as const;

export interface Notification {
  state: number;
  leader: number;
  zxid: number;
  electionEpoch: number;
  peerEpoch: number;
  version: number;
  config: string;
}

const TWO_32 = 4294967296;

export function encodeNotification(n: Notification): Buffer {
  const cfg = Buffer.from(n.config, 'utf8');
  const b = Buffer.alloc(44 + cfg.length);
  b.writeInt32BE(n.state, 0);
  b.writeBigInt64BE(BigInt(n.leader), 4);
  b.writeBigInt64BE(BigInt(n.zxid), 12);
  b.writeBigInt64BE(BigInt(n.electionEpoch), 20);
  b.writeBigInt64BE(BigInt(n.peerEpoch), 28);
  b.writeInt32BE(2, 36);
  b.writeInt32BE(cfg.length, 40);
  cfg.copy(b, 44);
  return b;
}

/** null for a message to ignore (too short, unknown state, bad config length). */
export function decodeNotification(b: Buffer): Notification | null {
  if (b.length < 28) return null;
  const state = b.readInt32BE(0);
  if (state < 0 || state > 3) return null;
  const leader = Number(b.readBigInt64BE(4));
  const zxid = Number(b.readBigInt64BE(12));
  const electionEpoch = Number(b.readBigInt64BE(20));
  let peerEpoch: number;
  let version = 0;
  let config = '';
  if (b.length === 28) {
    peerEpoch = Math.floor(zxid / TWO_32);
  } else {
    if (b.length < 36) return null;
    peerEpoch = Number(b.readBigInt64BE(28));
    if (b.length >= 40) {
      version = b.readInt32BE(36);
      if (version > 1) {
        if (b.length < 44) return null;
        const len = b.readInt32BE(40);
        if (len < 0 || len > b.length - 44) return null;
        config = b.toString('utf8', 44, 44 + len);
      }
    }
  }
  return { state, leader, zxid, electionEpoch, peerEpoch, version, config };
}
