// Jute binary encoding: big-endian primitives, length-prefixed strings/buffers/vectors.
// Layouts follow zookeeper-jute's BinaryInputArchive/BinaryOutputArchive (see docs/protocol.md).
import { high32, low32, split64 } from './int64';

export const DEFAULT_MAX_BUFFER = 0xfffff;

/** Raised when a record cannot be decoded (truncated input, impossible length). */
export class JuteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JuteError';
  }
}

const TWO_32 = 4294967296;

/** Sequential reader over one frame. Longs come back as numbers (exact below 2^53) or bigints. */
const ZERO_OWNER = 0n;

/** Buffer's own slicing methods (stable in Node, missing from @types/node) */
interface FastSlices {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

export class JuteReader {
  offset: number;
  constructor(
    readonly buf: Buffer,
    offset = 0,
    readonly end = buf.length,
    readonly maxLen = DEFAULT_MAX_BUFFER * 2,
  ) {
    this.offset = offset;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.end) {
      throw new JuteError(`record truncated: need ${n} bytes at offset ${this.offset}, have ${this.end - this.offset}`);
    }
  }

  readByte(): number {
    this.need(1);
    return this.buf.readInt8(this.offset++);
  }

  readBool(): boolean {
    this.need(1);
    return this.buf[this.offset++] !== 0;
  }

  readInt(): number {
    this.need(4);
    const b = this.buf;
    const o = this.offset;
    this.offset = o + 4;
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  }

  /** A long as a JS number; exact for |v| < 2^53 (zxids, times, ttl). */
  readLong(): number {
    this.need(8);
    const b = this.buf;
    const o = this.offset;
    this.offset = o + 8;
    const hi = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
    const lo = (b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7];
    return hi * TWO_32 + (lo >>> 0);
  }

  /** A long as a bigint (session ids, ephemeral owners). */
  /** readBigLong, but a zero comes back as the shared 0n (no BigInt allocated per znode owner) */
  readOwner(): bigint {
    this.need(8);
    const o = this.offset;
    const b = this.buf;
    if (b[o] === 0 && b[o + 1] === 0 && b[o + 2] === 0 && b[o + 3] === 0 && b[o + 4] === 0 && b[o + 5] === 0 && b[o + 6] === 0 && b[o + 7] === 0) {
      this.offset += 8;
      return ZERO_OWNER;
    }
    return this.readBigLong();
  }

  readBigLong(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  private readLen(): number {
    const len = this.readInt();
    if (len < -1 || len > this.maxLen) throw new JuteError(`Unreasonable length = ${len}`);
    return len;
  }

  readBuffer(): Buffer | null {
    const len = this.readLen();
    if (len === -1) return null;
    this.need(len);
    const b = this.buf.subarray(this.offset, this.offset + len);
    this.offset += len;
    return b;
  }

  readString(): string | null {
    const len = this.readLen();
    if (len === -1) return null;
    this.need(len);
    // utf8Slice skips Buffer#toString's argument handling (hot in snapshot loads: one per znode)
    const s = (this.buf as unknown as FastSlices).utf8Slice(this.offset, this.offset + len);
    this.offset += len;
    return s;
  }

  /** A jute buffer as a one-byte string (DataNode.raw), with no intermediate Buffer object. */
  readLatin1(): string | null {
    const len = this.readLen();
    if (len === -1) return null;
    this.need(len);
    const s = len === 0 ? '' : (this.buf as unknown as FastSlices).latin1Slice(this.offset, this.offset + len);
    this.offset += len;
    return s;
  }

  /** A string where null is not meaningful (paths): null reads as "". */
  readStr(): string {
    return this.readString() ?? '';
  }

  readVector<T>(item: (r: JuteReader) => T): T[] | null {
    const n = this.readInt();
    if (n === -1) return null;
    if (n < -1 || n > this.remaining()) throw new JuteError(`Unreasonable vector length = ${n}`);
    const out: T[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }
}

/** Growable writer. `finish()` returns the bytes written so far (a view, not a copy). */
export class JuteWriter {
  buf: Buffer;
  offset = 0;
  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.offset + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.offset);
    this.buf = nb;
  }

  writeByte(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.offset++);
    return this;
  }

  writeBool(v: boolean): this {
    this.ensure(1);
    this.buf[this.offset++] = v ? 1 : 0;
    return this;
  }

  // Ints and longs are stored byte by byte: a snapshot writes seven per znode, and plain indexed
  // stores compile to a few instructions where Buffer's writeInt32BE checks its arguments first.
  writeInt(v: number): this {
    this.ensure(4);
    const b = this.buf;
    const o = this.offset;
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
    this.offset = o + 4;
    return this;
  }

  writeLong(v: number): this {
    this.ensure(8);
    if (v >= 0 && v < Number.MAX_SAFE_INTEGER) {
      const b = this.buf;
      const o = this.offset;
      const hi = Math.floor(v / TWO_32);
      const lo = v >>> 0;
      b[o] = hi >>> 24;
      b[o + 1] = hi >>> 16;
      b[o + 2] = hi >>> 8;
      b[o + 3] = hi;
      b[o + 4] = lo >>> 24;
      b[o + 5] = lo >>> 16;
      b[o + 6] = lo >>> 8;
      b[o + 7] = lo;
    } else {
      this.buf.writeBigInt64BE(BigInt(Math.trunc(v)), this.offset);
    }
    this.offset += 8;
    return this;
  }

  writeBigLong(v: bigint): this {
    split64(v); // no BigInt arithmetic (int64.ts)
    this.writeInt(high32());
    return this.writeInt(low32());
  }

  writeBuffer(b: Buffer | null | undefined): this {
    if (b == null) return this.writeInt(-1);
    this.writeInt(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.offset);
    this.offset += b.length;
    return this;
  }

  /** A jute buffer whose bytes are held as a one-byte string (DataNode.raw). */
  writeLatin1(s: string | null | undefined): this {
    if (s == null) return this.writeInt(-1);
    const len = s.length;
    this.writeInt(len);
    this.ensure(len);
    if (len > 0) this.buf.write(s, this.offset, len, 'latin1');
    this.offset += len;
    return this;
  }

  writeString(s: string | null | undefined): this {
    if (s == null) return this.writeInt(-1);
    return this.writeStringFrom(s, 0);
  }

  /** writeString(s.substring(start)) without making the substring (child names from child paths). */
  writeStringFrom(s: string, start: number): this {
    const n = s.length - start;
    if (n <= 64) {
      // short ASCII strings (paths, names, schemes) byte by byte, without Buffer's two native calls
      this.ensure(4 + n);
      const b = this.buf;
      const o = this.offset + 4 - start;
      let i = start;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[o + i] = c;
      }
      if (i === s.length) {
        this.writeInt(n);
        this.offset += n;
        return this;
      }
    }
    const rest = start === 0 ? s : s.substring(start);
    const len = Buffer.byteLength(rest, 'utf8');
    this.writeInt(len);
    this.ensure(len);
    this.buf.write(rest, this.offset, len, 'utf8');
    this.offset += len;
    return this;
  }

  writeVector<T>(items: readonly T[] | null | undefined, item: (w: JuteWriter, v: T) => void): this {
    if (items == null) return this.writeInt(-1);
    this.writeInt(items.length);
    for (const v of items) item(this, v);
    return this;
  }

  writeRaw(b: Buffer): this {
    this.ensure(b.length);
    b.copy(this.buf, this.offset);
    this.offset += b.length;
    return this;
  }

  /** Reserve 4 bytes for a frame length; `endFrame` fills it in. */
  beginFrame(): number {
    const at = this.offset;
    this.writeInt(0);
    return at;
  }

  endFrame(at: number): void {
    this.buf.writeInt32BE(this.offset - at - 4, at);
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.offset);
  }

  reset(): void {
    this.offset = 0;
  }
}
