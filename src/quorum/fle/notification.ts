// FastLeaderElection notifications (wire-quorum.md §3), with the receiver's compatibility rules
// (FastLeaderElection.WorkerReceiver in ZooKeeper 3.8).
import { JuteError, JuteReader, JuteWriter } from '../../jute/archive';

/** ServerState ordinals as sent on the wire. */
export const PeerState = { LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3 } as const;
export type PeerStateValue = (typeof PeerState)[keyof typeof PeerState];

/** Notification.CURRENTVERSION */
export const NOTIFICATION_VERSION = 2;

export interface Notification {
  /** sender's state: 0 LOOKING, 1 FOLLOWING, 2 LEADING, 3 OBSERVING */
  state: number;
  /** proposed leader sid */
  leader: number;
  /** proposed leader's last zxid */
  zxid: number;
  /** sender's logical clock */
  electionEpoch: number;
  /** proposed leader's epoch */
  peerEpoch: number;
  /** 2 for current senders; 0 for the 28- and 40-byte formats */
  version: number;
  /** sender's QuorumVerifier text ('' when absent) */
  config: string;
}

const TWO_32 = 4294967296;

/** Encode as a 3.8 peer does (version 2, config length + UTF-8 config). */
export function encodeNotification(n: Notification): Buffer {
  const w = new JuteWriter(64);
  w.writeInt(n.state);
  w.writeLong(n.leader);
  w.writeLong(n.zxid);
  w.writeLong(n.electionEpoch);
  w.writeLong(n.peerEpoch);
  w.writeInt(NOTIFICATION_VERSION);
  const cfg = Buffer.from(n.config, 'utf8');
  w.writeInt(cfg.length);
  w.writeRaw(cfg);
  return Buffer.from(w.buf.subarray(0, w.offset));
}

/**
 * Decode a received notification; null for a message the receiver skips: shorter than 28 bytes,
 * truncated/malformed, a config length outside 0..capacity, or a state outside 0..3.
 * 28 bytes: old format, peerEpoch := epoch of zxid; 40 bytes: no version (0); otherwise the version
 * follows, and if it is > 1 the config length and config.
 */
export function decodeNotification(buf: Buffer): Notification | null {
  const capacity = buf.length;
  if (capacity < 28) return null;
  const r = new JuteReader(buf);
  try {
    const state = r.readInt();
    const leader = r.readLong();
    const zxid = r.readLong();
    const electionEpoch = r.readLong();
    let peerEpoch: number;
    let version = 0;
    let config = '';
    if (capacity === 28) {
      peerEpoch = Math.floor(zxid / TWO_32); // ZxidUtils.getEpochFromZxid (signed shift)
    } else {
      peerEpoch = r.readLong();
      if (capacity !== 40) version = r.readInt();
    }
    if (version > 1) {
      const len = r.readInt();
      if (len < 0 || len > capacity) return null;
      if (r.remaining() < len) return null;
      config = buf.toString('utf8', r.offset, r.offset + len);
    }
    if (state < 0 || state > 3) return null;
    return { state, leader, zxid, electionEpoch, peerEpoch, version, config };
  } catch (e) {
    if (e instanceof JuteError) return null;
    throw e;
  }
}
