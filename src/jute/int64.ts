// A bigint's 64 bits as two 32-bit halves, and back, without BigInt arithmetic. Storing into a
// BigInt64Array wraps the value to 64 bits (as BigInt.asIntN(64, v)) and allocates nothing, where
// `v >> 32n`, `v & 0xffffffffn` and BigInt.asIntN each make a new BigInt on the heap: a write
// made several of them per txn (its session id, its digest), all garbage at once.
const cell = new BigInt64Array(1);
const halves = new Int32Array(cell.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = 1 - HI;

/** Take `v` (wrapped to 64 bits) apart: high32() and low32() read its halves until the next call. */
export function split64(v: bigint): void {
  cell[0] = v;
}

/** The high 32 bits of the value last given to split64, as a signed int32. */
export function high32(): number {
  return halves[HI];
}

/** The low 32 bits of the value last given to split64, as a signed int32. */
export function low32(): number {
  return halves[LO];
}

/** The signed 64-bit value whose halves are `hi` and `lo` (each taken modulo 2^32). */
export function join64(hi: number, lo: number): bigint {
  halves[HI] = hi;
  halves[LO] = lo;
  return cell[0];
}
