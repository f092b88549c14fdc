// A zxid is a 64-bit long: the epoch in the high 32 bits, a counter in the low 32. zk-server keeps
// it in a JavaScript number (exact up to 2^53, i.e. epochs below 2^21).
const TWO_32 = 4294967296;
/** the largest counter; a leader steps down before it (ZooKeeper forces a new epoch) */
export const MAX_COUNTER = 0xffffffff;

export function epochOf(zxid: number): number {
  return Math.floor(zxid / TWO_32);
}

export function counterOf(zxid: number): number {
  return zxid - epochOf(zxid) * TWO_32;
}

export function makeZxid(epoch: number, counter: number): number {
  return epoch * TWO_32 + (counter >>> 0);
}

/** Lowercase hex, no prefix, no padding (Java's Long.toHexString: file names, log messages); negative longs as two's complement. */
export function zxidHex(zxid: number): string {
  if (zxid < 0) return BigInt.asUintN(64, BigInt(zxid)).toString(16);
  return zxid.toString(16);
}
