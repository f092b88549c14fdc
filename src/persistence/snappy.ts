// snappy-java stream framing (SnappyOutputStream / SnappyInputStream) around raw Snappy blocks:
// a compressor (the reference algorithm: a 4-byte hash table of recent positions, literals and
// copies, skipping faster through incompressible input) and a complete raw-Snappy decoder, so
// files written by Java's snappy-java load here and ours load there.
import { Transform, TransformCallback } from 'stream';

export const SNAPPY_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const BLOCK = 32 * 1024;

export function snappyStreamHeader(): Buffer {
  const h = Buffer.alloc(16);
  SNAPPY_MAGIC.copy(h, 0);
  h.writeInt32BE(1, 8); // version
  h.writeInt32BE(1, 12); // min compatible version
  return h;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A raw Snappy block holding `data` as one literal. */
export function snappyCompressLiteral(data: Buffer): Buffer {
  const head: number[] = varint(data.length);
  if (data.length > 0) {
    const l = data.length - 1;
    if (l < 60) head.push(l << 2);
    else if (l < 0x100) head.push(60 << 2, l);
    else if (l < 0x10000) head.push(61 << 2, l & 0xff, l >> 8);
    else if (l < 0x1000000) head.push(62 << 2, l & 0xff, (l >> 8) & 0xff, l >> 16);
    else head.push(63 << 2, l & 0xff, (l >> 8) & 0xff, (l >> 16) & 0xff, (l >>> 24) & 0xff);
  }
  return Buffer.concat([Buffer.from(head), data]);
}

const HASH_BITS = 14;
const INPUT_MARGIN = 15;
const table = new Uint16Array(1 << HASH_BITS);

function load32(b: Buffer, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

function hash32(u: number): number {
  return Math.imul(u, 0x1e35a7bd) >>> (32 - HASH_BITS);
}

class Out {
  buf: Buffer;
  n = 0;
  constructor(cap: number) {
    this.buf = Buffer.allocUnsafe(cap);
  }
  byte(b: number): void {
    this.buf[this.n++] = b;
  }
}

function emitLiteral(o: Out, src: Buffer, from: number, to: number): void {
  const l = to - from - 1;
  if (l < 60) o.byte(l << 2);
  else if (l < 0x100) {
    o.byte(60 << 2);
    o.byte(l);
  } else {
    o.byte(61 << 2);
    o.byte(l & 0xff);
    o.byte(l >> 8);
  }
  src.copy(o.buf, o.n, from, to);
  o.n += to - from;
}

function emitCopy(o: Out, offset: number, length: number): void {
  while (length >= 68) {
    o.byte((63 << 2) | 2);
    o.byte(offset & 0xff);
    o.byte(offset >> 8);
    length -= 64;
  }
  if (length > 64) {
    o.byte((59 << 2) | 2);
    o.byte(offset & 0xff);
    o.byte(offset >> 8);
    length -= 60;
  }
  if (length >= 12 || offset >= 2048) {
    o.byte(((length - 1) << 2) | 2);
    o.byte(offset & 0xff);
    o.byte(offset >> 8);
  } else {
    o.byte(((offset >> 8) << 5) | ((length - 4) << 2) | 1);
    o.byte(offset & 0xff);
  }
}

/** Raw Snappy compression of one block of at most 64 KiB (snappy-java compresses 32 KiB blocks). */
export function snappyCompress(src: Buffer): Buffer {
  const len = src.length;
  if (len > 0x10000) throw new RangeError('snappyCompress: blocks are at most 64 KiB');
  const o = new Out(32 + len + Math.ceil(len / 6));
  for (const b of varint(len)) o.byte(b);
  if (len < INPUT_MARGIN + 2) {
    if (len > 0) emitLiteral(o, src, 0, len);
    return o.buf.subarray(0, o.n);
  }
  table.fill(0);
  const sLimit = len - INPUT_MARGIN;
  let nextEmit = 0;
  let s = 1;
  let nextHash = hash32(load32(src, s));
  outer: for (;;) {
    let skip = 32;
    let nextS = s;
    let candidate = 0;
    do {
      s = nextS;
      const step = skip >> 5;
      nextS = s + step;
      skip += step;
      if (nextS > sLimit) break outer;
      candidate = table[nextHash];
      table[nextHash] = s;
      nextHash = hash32(load32(src, nextS));
    } while (load32(src, s) !== load32(src, candidate));
    emitLiteral(o, src, nextEmit, s);
    for (;;) {
      const base = s;
      s += 4;
      let i = candidate + 4;
      while (s < len && src[i] === src[s]) {
        i++;
        s++;
      }
      emitCopy(o, base - candidate, s - base);
      nextEmit = s;
      if (s >= sLimit) break outer;
      table[hash32(load32(src, s - 1))] = s - 1;
      const h = hash32(load32(src, s));
      candidate = table[h];
      table[h] = s;
      if (load32(src, s) !== load32(src, candidate)) {
        nextHash = hash32(load32(src, s + 1));
        s++;
        break;
      }
    }
  }
  if (nextEmit < len) emitLiteral(o, src, nextEmit, len);
  return o.buf.subarray(0, o.n);
}

export function snappyUncompress(src: Buffer): Buffer {
  let ip = 0;
  let len = 0;
  let shift = 1;
  for (;;) {
    if (ip >= src.length) throw new Error('snappy: truncated length');
    const b = src[ip++];
    len += (b & 0x7f) * shift;
    if (b < 0x80) break;
    shift *= 128;
  }
  const out = Buffer.allocUnsafe(len);
  let op = 0;
  while (ip < src.length) {
    const tag = src[ip++];
    const t = tag & 3;
    if (t === 0) {
      let l = tag >> 2;
      if (l >= 60) {
        const nb = l - 59;
        l = 0;
        for (let i = 0; i < nb; i++) l += src[ip++] * 2 ** (8 * i);
      }
      l += 1;
      if (ip + l > src.length || op + l > len) throw new Error('snappy: bad literal');
      src.copy(out, op, ip, ip + l);
      ip += l;
      op += l;
      continue;
    }
    let l: number;
    let off: number;
    if (t === 1) {
      l = ((tag >> 2) & 7) + 4;
      off = ((tag >> 5) << 8) | src[ip++];
    } else if (t === 2) {
      l = (tag >> 2) + 1;
      off = src[ip] | (src[ip + 1] << 8);
      ip += 2;
    } else {
      l = (tag >> 2) + 1;
      off = (src[ip] | (src[ip + 1] << 8) | (src[ip + 2] << 16) | (src[ip + 3] << 24)) >>> 0;
      ip += 4;
    }
    if (off === 0 || off > op || op + l > len) throw new Error('snappy: bad copy');
    if (off < 16) {
      // a short repeating pattern: byte by byte (the copy overlaps its own output)
      for (let i = 0; i < l; i++, op++) out[op] = out[op - off];
    } else {
      // native copies of at most `off` bytes never overlap their source
      for (let rem = l; rem > 0; ) {
        const n = rem < off ? rem : off;
        out.copyWithin(op, op - off, op - off + n);
        op += n;
        rem -= n;
      }
    }
  }
  if (op !== len) throw new Error('snappy: length mismatch');
  return out;
}

/** Decode a whole snappy-java stream (header + `int len | block` chunks; concatenated streams allowed). */
export function snappyStreamDecode(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let p = 0;
  while (p < buf.length) {
    if (p + 8 <= buf.length && buf.subarray(p, p + 8).equals(SNAPPY_MAGIC)) {
      p += 16;
      continue;
    }
    if (p + 4 > buf.length) throw new Error('snappy: truncated chunk header');
    const n = buf.readInt32BE(p);
    p += 4;
    if (n < 0 || p + n > buf.length) throw new Error('snappy: truncated chunk');
    parts.push(snappyUncompress(buf.subarray(p, p + n)));
    p += n;
  }
  return Buffer.concat(parts);
}

/** Transform producing a snappy-java stream (32 KiB input blocks). */
export class SnappyFramer extends Transform {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private started = false;

  private emitBlock(b: Buffer): void {
    const c = snappyCompress(b);
    const h = Buffer.alloc(4);
    h.writeInt32BE(c.length);
    this.push(h);
    this.push(c);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.started) {
      this.started = true;
      this.push(snappyStreamHeader());
    }
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    if (this.pendingLen >= BLOCK) {
      const all = Buffer.concat(this.pending, this.pendingLen);
      let off = 0;
      for (; off + BLOCK <= all.length; off += BLOCK) this.emitBlock(all.subarray(off, off + BLOCK));
      const rest = all.subarray(off);
      this.pending = rest.length ? [Buffer.from(rest)] : [];
      this.pendingLen = rest.length;
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (!this.started) this.push(snappyStreamHeader());
    if (this.pendingLen > 0) this.emitBlock(Buffer.concat(this.pending, this.pendingLen));
    cb();
  }
}
