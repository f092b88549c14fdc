// Tree digests (ZooKeeper 3.6+ DigestCalculator and AdHash, digest version 2; disk-format.md §6).
// A znode's digest is CRC-32 over its path (the root as ""), its data and a 60-byte block of its
// persisted stat; znodes under "/zookeeper/" count as 0. The tree's digest is the sum of its znodes'
// digests, kept incrementally: subtract a znode's digest before a change, add it after. Leaders put
// the digest of the tree after each txn into the proposal (TxnDigest) and every peer compares it
// with its own tree after applying: a mismatch means the replicas have diverged.
import { crc32 } from 'zlib';

export const DIGEST_VERSION = 2;
/** ZooKeeper keeps every 128th zxid's digest for the `hash` command (DataTree.DIGEST_LOG_INTERVAL) */
export const DIGEST_LOG_INTERVAL = 128;
/** ... and at most this many (DIGEST_LOG_LIMIT) */
export const DIGEST_LOG_LIMIT = 1024;

/** The fields of a znode that its digest covers (DataNode and prep's change records both fit). */
export interface DigestedNode {
  /** data bytes, as a Buffer or as a latin1 string (one char per byte, DataNode.raw), or null */
  raw: string | Buffer | null;
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  /** the persisted cversion (number of creates), not the client-visible one */
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
}

let enabled = true;

/** `zookeeper.digest.enabled` (process-wide, as ZooKeeperServer.setDigestEnabled). */
export function setDigestEnabled(on: boolean): void {
  enabled = on;
}

export function digestEnabled(): boolean {
  return enabled;
}

/** Znodes in the "/zookeeper/" subtree are left out (their quota stats are updated locally). */
export function excludedFromDigest(path: string): boolean {
  return path.startsWith('/zookeeper/');
}

let scratch = Buffer.allocUnsafe(64 * 1024);

function putLong(b: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  b.writeInt32BE(hi | 0, at);
  b.writeUInt32BE(v - hi * 4294967296, at + 4);
}

/** DigestCalculator.calculateDigest: CRC-32 of path' ‖ data ‖ stat block; 0 when excluded or disabled. */
export function nodeDigest(path: string, n: DigestedNode): number {
  if (!enabled || excludedFromDigest(path)) return 0;
  const p = path === '/' ? '' : path;
  const dataLen = n.raw === null ? 0 : n.raw.length;
  const max = p.length * 3 + dataLen + 60;
  if (max > scratch.length) scratch = Buffer.allocUnsafe(Math.max(max, scratch.length * 2));
  const b = scratch;
  let at = p.length === 0 ? 0 : b.write(p, 0, 'utf8');
  if (dataLen > 0) at += typeof n.raw === 'string' ? b.write(n.raw, at, 'latin1') : n.raw!.copy(b, at);
  putLong(b, at, n.czxid);
  putLong(b, at + 8, n.mzxid);
  putLong(b, at + 16, n.pzxid);
  putLong(b, at + 24, n.ctime);
  putLong(b, at + 32, n.mtime);
  b.writeInt32BE(n.version | 0, at + 40);
  b.writeInt32BE(n.cversion | 0, at + 44);
  b.writeInt32BE(n.aversion | 0, at + 48);
  b.writeBigInt64BE(n.ephemeralOwner, at + 52);
  return crc32(b.subarray(0, at + 60));
}

const TWO32 = 4294967296;

/**
 * AdHash: the wrapping 64-bit sum of znode digests. Kept as hi·2³² + lo with lo in [0, 2³²) so that
 * adding and subtracting 32-bit digests stays exact in doubles at any tree size.
 */
export class TreeDigest {
  private hi = 0;
  private lo = 0;

  add(d: number): void {
    let lo = this.lo + d;
    if (lo >= TWO32) {
      lo -= TWO32;
      this.hi++;
    }
    this.lo = lo;
  }

  remove(d: number): void {
    let lo = this.lo - d;
    if (lo < 0) {
      lo += TWO32;
      this.hi--;
    }
    this.lo = lo;
  }

  clear(): void {
    this.hi = 0;
    this.lo = 0;
  }

  /** The digest as ZooKeeper's signed long. */
  get value(): bigint {
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) + BigInt(this.lo));
  }
}

/** A recorded (zxid, digest) pair, as DataTree.ZxidDigest. */
export interface ZxidDigest {
  zxid: number;
  digestVersion: number;
  digest: bigint;
}
