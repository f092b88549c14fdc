// Tree digests (ZooKeeper 3.6+ DigestCalculator and AdHash, digest version 2; disk-format.md §6).
// A znode's digest is CRC-32 over its path (the root as ""), its data and a 60-byte block of its
// persisted stat; znodes under "/zookeeper/" count as 0. The tree's digest is the sum of its znodes'
// digests, kept incrementally: subtract a znode's digest before a change, add it after. Leaders put
// the digest of the tree after each txn into the proposal (TxnDigest) and every peer compares it
// with its own tree after applying: a mismatch means the replicas have diverged.
import { crc32 } from 'zlib';
import { high32, join64, low32, split64 } from '../jute/int64';

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

const ZK_SLASH = Buffer.from('/zookeeper/', 'latin1');

/** excludedFromDigest of a path given as its bytes */
function startsWithZookeeperSlash(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start < ZK_SLASH.length || buf[start] !== 0x2f || buf[start + 1] !== 0x7a) return false;
  for (let i = 2; i < ZK_SLASH.length; i++) if (buf[start + i] !== ZK_SLASH[i]) return false;
  return true;
}

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

// Slicing-by-4 tables: T4[k][b] is the CRC of byte b followed by k zero bytes, so four bytes are
// folded in with four lookups instead of four dependent table steps (crcBytes).
const T4 = (() => {
  const t = [TABLE, new Int32Array(256), new Int32Array(256), new Int32Array(256)];
  for (let n = 0; n < 256; n++) {
    let c = TABLE[n];
    for (let k = 1; k < 4; k++) {
      c = TABLE[c & 0xff] ^ (c >>> 8);
      t[k][n] = c;
    }
  }
  return t;
})();

/** CRC-32 of buf[start, end) continued from the running value `c` (pre-inverted, as crcInt). */
export function crcBytes(c: number, buf: Uint8Array, start: number, end: number): number {
  const [t0, t1, t2, t3] = T4;
  let i = start;
  for (const last4 = end - 3; i < last4; i += 4) {
    c ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    c = t3[c & 0xff] ^ t2[(c >>> 8) & 0xff] ^ t1[(c >>> 16) & 0xff] ^ t0[c >>> 24];
  }
  for (; i < end; i++) c = TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return c;
}

/**
 * nodeDigest of a znode record as a snapshot holds it (treebody.ts), from its bytes: the path's
 * UTF-8 bytes (the root's is empty), the data's, and the 60 bytes of StatPersisted, whose fields
 * the digest takes in another order (czxid mzxid | pzxid | ctime mtime version cversion aversion
 * owner; the record has pzxid last). The same value as nodeDigest of the parsed znode, without
 * going over its strings again. -1 when the path is not ASCII: the caller takes nodeDigest then.
 */
export function recordDigest(buf: Uint8Array, pathStart: number, pathEnd: number, dataStart: number, dataEnd: number, statStart: number): number {
  if (!enabled || startsWithZookeeperSlash(buf, pathStart, pathEnd)) return 0;
  let c = -1;
  for (let i = pathStart; i < pathEnd; i++) {
    const b = buf[i];
    // not ASCII: the bytes may not be what the decoded path encodes to (invalid or CESU-8
    // sequences), and nodeDigest, which later changes subtract, takes the decoded path's UTF-8
    if (b > 0x7f) return -1;
    c = TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  }
  c = crcBytes(c, buf, dataStart, dataEnd);
  c = crcBytes(c, buf, statStart, statStart + 16);
  c = crcBytes(c, buf, statStart + 52, statStart + 60);
  c = crcBytes(c, buf, statStart + 16, statStart + 52);
  return ~c >>> 0;
}

/** Above this many data bytes the native CRC (zlib.crc32) beats a call-free loop in JS. */
const NATIVE_FROM = 512;
let scratch = Buffer.allocUnsafe(64 * 1024);

// CRC-32 (IEEE, as java.util.zip.CRC32) over the running value `c` (pre-inverted: ~crc), of the
// int `v` as its 4 big-endian bytes: slicing-by-4 with the bytes put in little-endian order
const [S0, S1, S2, S3] = T4;
function crcInt(c: number, v: number): number {
  c ^= (v >>> 24) | ((v >>> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
  return S3[c & 0xff] ^ S2[(c >>> 8) & 0xff] ^ S1[(c >>> 16) & 0xff] ^ S0[c >>> 24];
}

/** CRC-32 of the chars of `s` (each < 256: latin1 or ASCII) from `start`, continued from `c`. */
function crcChars(c: number, s: string, start: number, end: number): number {
  let i = start;
  for (const last4 = end - 3; i < last4; i += 4) {
    c ^= s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
    c = S3[c & 0xff] ^ S2[(c >>> 8) & 0xff] ^ S1[(c >>> 16) & 0xff] ^ S0[c >>> 24];
  }
  for (; i < end; i++) c = TABLE[(c ^ s.charCodeAt(i)) & 0xff] ^ (c >>> 8);
  return c;
}

function crcLong(c: number, v: number): number {
  const hi = Math.floor(v / 4294967296);
  return crcInt(crcInt(c, hi | 0), (v - hi * 4294967296) | 0);
}

function crcBlock(c: number, n: DigestedNode): number {
  c = crcLong(c, n.czxid);
  c = crcLong(c, n.mzxid);
  c = crcLong(c, n.pzxid);
  c = crcLong(c, n.ctime);
  c = crcLong(c, n.mtime);
  c = crcInt(c, n.version | 0);
  c = crcInt(c, n.cversion | 0);
  c = crcInt(c, n.aversion | 0);
  const o = n.ephemeralOwner;
  if (o === 0n) return crcInt(crcInt(c, 0), 0);
  split64(o);
  return crcInt(crcInt(c, high32()), low32());
}

/** DigestCalculator.calculateDigest: CRC-32 of path' ‖ data ‖ stat block; 0 when excluded or disabled. */
export function nodeDigest(path: string, n: DigestedNode): number {
  if (!enabled || excludedFromDigest(path)) return 0;
  const raw = n.raw;
  const dataLen = raw === null ? 0 : raw.length;
  let c = -1;
  if (path !== '/') {
    // an ASCII path is its own UTF-8 bytes; others go through their UTF-8 encoding
    let ascii = true;
    for (let i = 0; i < path.length; i++) {
      if (path.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) c = crcChars(c, path, 0, path.length);
    else {
      const b = Buffer.from(path, 'utf8');
      c = crcBytes(c, b, 0, b.length);
    }
  }
  if (dataLen >= NATIVE_FROM) {
    // the rest natively: zlib.crc32 continues from a finished CRC value
    let buf: Buffer;
    if (typeof raw === 'string') {
      if (dataLen > scratch.length) scratch = Buffer.allocUnsafe(Math.max(dataLen, scratch.length * 2));
      scratch.write(raw, 0, 'latin1');
      buf = scratch.subarray(0, dataLen);
    } else buf = raw!;
    c = ~crc32(buf, ~c >>> 0);
  } else if (typeof raw === 'string') {
    c = crcChars(c, raw, 0, dataLen);
  } else if (raw !== null) {
    c = crcBytes(c, raw, 0, dataLen);
  }
  return ~crcBlock(c, n) >>> 0;
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

  set(other: TreeDigest): void {
    this.hi = other.hi;
    this.lo = other.lo;
  }

  /** A digest with the given `value` (a sum passed between threads as its bigint). */
  static of(value: bigint): TreeDigest {
    const d = new TreeDigest();
    const u = BigInt.asUintN(64, value);
    d.hi = Number(u >> 32n);
    d.lo = Number(u & 0xffffffffn);
    return d;
  }

  /** The digest as ZooKeeper's signed long. */
  get value(): bigint {
    return join64(this.hi, this.lo);
  }

  /** Whether `v` is this digest's value (no BigInt made: processTxn asks once per txn). */
  matches(v: bigint): boolean {
    split64(v);
    return high32() === (this.hi | 0) && low32() === (this.lo | 0);
  }

}

/** A recorded (zxid, digest) pair, as DataTree.ZxidDigest. */
export interface ZxidDigest {
  zxid: number;
  digestVersion: number;
  digest: bigint;
}
