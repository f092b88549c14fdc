// int64.ts takes bigints apart and back without BigInt arithmetic; the jute writer, znode digests
// and the tree digest's comparison rely on it. Checked against BigInt arithmetic on edge values
// and random ones (negative, above 2^63, beyond 64 bits).
import { describe, expect, it } from 'vitest';
import { high32, join64, low32, split64 } from '../src/jute/int64';
import { JuteWriter } from '../src/jute/archive';
import { TreeDigest } from '../src/data/digest';
import { prng } from '../src/quorum/zab/sim';

function values(): bigint[] {
  const rand = prng(64);
  const out = [0n, 1n, -1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n + 5n, -(2n ** 64n) - 7n];
  for (let i = 0; i < 2000; i++) {
    const hi = BigInt(Math.floor(rand() * 2 ** 32));
    const lo = BigInt(Math.floor(rand() * 2 ** 32));
    const v = (hi << 32n) | lo;
    out.push(i % 3 === 0 ? v - 2n ** 64n : i % 3 === 1 ? v : v + 2n ** 64n * BigInt(i));
  }
  return out;
}

describe('int64', () => {
  it('splits a bigint into the halves of its 64-bit two-complement and joins them back', () => {
    for (const v of values()) {
      split64(v);
      const u = BigInt.asUintN(64, v);
      expect(high32(), `${v}`).toBe(Number(u >> 32n) | 0);
      expect(low32(), `${v}`).toBe(Number(u & 0xffffffffn) | 0);
      expect(join64(high32(), low32()), `${v}`).toBe(BigInt.asIntN(64, v));
      // halves given as unsigned or out of range are taken modulo 2^32
      expect(join64(high32() >>> 0, (low32() >>> 0) + 2 ** 32), `${v}`).toBe(BigInt.asIntN(64, v));
    }
  });

  it('JuteWriter.writeBigLong writes what Buffer.writeBigInt64BE writes', () => {
    for (const v of values()) {
      const w = new JuteWriter(4);
      w.writeBigLong(v);
      const want = Buffer.alloc(8);
      want.writeBigInt64BE(BigInt.asIntN(64, v));
      expect(w.finish().toString('hex'), `${v}`).toBe(want.toString('hex'));
    }
  });

  it('TreeDigest.matches its own value and nothing else', () => {
    const rand = prng(7);
    const d = new TreeDigest();
    for (let i = 0; i < 5000; i++) {
      const x = Math.floor(rand() * 2 ** 32);
      if (rand() < 0.3) d.remove(x);
      else d.add(x);
      const v = d.value;
      expect(d.matches(v)).toBe(true);
      expect(d.matches(BigInt.asUintN(64, v))).toBe(true); // the same 64 bits
      expect(d.matches(v + 1n)).toBe(false);
      expect(d.matches(v + 2n ** 32n)).toBe(false);
      expect(d.matches(v - 2n ** 32n)).toBe(false);
    }
  });
});
