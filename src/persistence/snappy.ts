// snappy-java stream framing (SnappyOutputStream / SnappyInputStream) around raw Snappy blocks.
// The compressor emits literal-only blocks (valid Snappy, no size reduction); the decompressor is a
// complete raw-Snappy decoder, so files written by Java's snappy-java load here too.
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
    for (let i = 0; i < l; i++, op++) out[op] = out[op - off];
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
    const c = snappyCompressLiteral(b);
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
