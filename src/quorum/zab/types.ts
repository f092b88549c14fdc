// LEGACY vocabulary of the first Zab cores (legacy/), still used by src/quorum/peer.ts. New code:
// packets.ts (QuorumPacket, zxids, LearnerInfo) and ready.ts (Ready).
// Shared vocabulary of the Zab cores: packets (QuorumPacket fields), the Ready that a core hands to
// its I/O adapter, and zxid arithmetic. No I/O here.

export const Pkt = {
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  REVALIDATE: 6,
  SYNC: 7,
  INFORM: 8,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
} as const;

export interface Packet {
  type: number;
  zxid: number;
  data: Buffer | null;
  /** REQUEST: the client's auth ids */
  authinfo?: { scheme: string; id: string }[] | null;
}

export interface Proposal {
  zxid: number;
  data: Buffer;
}

export const PROTOCOL_VERSION = 0x10000;
const TWO_32 = 4294967296;

export function epochOf(zxid: number): number {
  return Math.floor(zxid / TWO_32);
}
export function counterOf(zxid: number): number {
  return zxid - epochOf(zxid) * TWO_32;
}
export function makeZxid(epoch: number, counter: number): number {
  return epoch * TWO_32 + counter;
}

export type ZabState = 'DISCOVERY' | 'SYNCHRONIZATION' | 'BROADCAST' | 'LOOKING';

/**
 * What the caller must do, in this order:
 *  1. write `epochs` (durably) and, for a learner, apply `truncateTo` / load the snapshot;
 *  2. append `append` to the txn log; report each fsync with `persisted(zxid)`;
 *  3. send `send` (a core never asks to send something that depends on an unwritten epoch or an
 *     unpersisted txn: ACKs are produced only by `persisted`);
 *  4. apply `commit` to the DataTree in order.
 */
export interface Ready {
  send: { to: number; p: Packet }[];
  append: Proposal[];
  commit: Proposal[];
  epochs: { accepted?: number; current?: number };
  /** learner: cut the txn log after this zxid and reload */
  truncateTo?: number;
  /** leader: a learner needs a snapshot stream after its SNAP packet */
  snapshotFor?: number[];
  /** leader: REQUEST packets from learners, to run through the request pipeline */
  requests: { from: number; data: Buffer; authinfo: { scheme: string; id: string }[] }[];
  /** leader: PING replies (session touches) */
  touches: { from: number; data: Buffer | null }[];
  /** learner: SYNC packets from the leader (one per forwarded sync) */
  syncs: number;
  state?: ZabState;
  /** start (true) or stop (false) serving clients */
  serving?: boolean;
  /** why the core went LOOKING */
  reason?: string;
}

export function emptyReady(): Ready {
  return { send: [], append: [], commit: [], epochs: {}, requests: [], touches: [], syncs: 0 };
}

export function learnerInfo(sid: number, configVersion = 0): Buffer {
  const b = Buffer.alloc(20);
  b.writeBigInt64BE(BigInt(sid), 0);
  b.writeInt32BE(PROTOCOL_VERSION, 8);
  b.writeBigInt64BE(BigInt(configVersion), 12);
  return b;
}

export function intData(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v, 0);
  return b;
}
