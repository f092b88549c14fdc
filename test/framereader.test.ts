// FrameReader (src/server/net.ts): cutting a TCP byte stream into length-prefixed frames must not
// depend on how the stream was chunked; bad length prefixes are errors (the server closes).
import { describe, expect, it } from 'vitest';
import { FrameReader } from '../src/server/net';

const MAX = 0xfffff;

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function frame(payload: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(payload.length);
  return Buffer.concat([len, payload]);
}

function randomFrames(rnd: () => number, allowBig = true): Buffer[] {
  const n = 1 + Math.floor(rnd() * 12);
  const frames: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    // mostly small, sometimes empty, sometimes a few KB
    const r = rnd();
    const size = r < 0.1 ? 0 : r < 0.9 || !allowBig ? Math.floor(rnd() * 64) : Math.floor(rnd() * 5000);
    const f = Buffer.alloc(size);
    for (let j = 0; j < size; j++) f[j] = Math.floor(rnd() * 256);
    frames.push(f);
  }
  return frames;
}

/** Feed `stream` in random pieces, draining after each; returns the frames in order (copied). */
function feed(stream: Buffer, rnd: () => number, maxPiece: number): Buffer[] {
  const fr = new FrameReader();
  const got: Buffer[] = [];
  let pos = 0;
  while (pos < stream.length) {
    const n = 1 + Math.floor(rnd() * maxPiece);
    fr.push(stream.subarray(pos, pos + n));
    pos += n;
    for (let f = fr.next(MAX); f; f = fr.next(MAX)) got.push(Buffer.from(f));
  }
  expect(fr.buffered).toBe(0);
  expect(fr.next(MAX)).toBeNull();
  return got;
}

describe('FrameReader', () => {
  it('yields the same frames for any split of the stream (seeded, 2000 iterations)', () => {
    const rnd = prng(0x5eed);
    for (let iter = 0; iter < 2000; iter++) {
      const maxPiece = [1, 3, 7, 64, 9000][iter % 5];
      // (byte-sized pieces of multi-KB frames only cost time, not coverage)
      const frames = randomFrames(rnd, maxPiece >= 64);
      const stream = Buffer.concat(frames.map(frame));
      const got = feed(stream, rnd, maxPiece);
      // compare as hex (vitest's deep equality over Buffers is slow)
      expect(got.map((b) => b.toString('hex'))).toEqual(frames.map((b) => b.toString('hex')));
    }
  });

  it('one byte at a time and all at once agree', () => {
    const rnd = prng(7);
    const frames = randomFrames(rnd).concat([Buffer.alloc(0), Buffer.from('tail')]);
    const stream = Buffer.concat(frames.map(frame));
    expect(feed(stream, () => 0, 1)).toEqual(frames);
    const fr = new FrameReader();
    fr.push(stream);
    const got: Buffer[] = [];
    for (let f = fr.next(MAX); f; f = fr.next(MAX)) got.push(Buffer.from(f));
    expect(got).toEqual(frames);
  });

  it('an incomplete frame stays buffered until its last byte arrives', () => {
    const fr = new FrameReader();
    const f = frame(Buffer.from('hello'));
    fr.push(f.subarray(0, 2));
    expect(fr.next(MAX)).toBeNull();
    expect(fr.peekInt()).toBeUndefined();
    fr.push(f.subarray(2, 8));
    expect(fr.peekInt()).toBe(5);
    expect(fr.next(MAX)).toBeNull();
    expect(fr.buffered).toBe(8);
    fr.push(f.subarray(8));
    expect(fr.next(MAX)?.toString()).toBe('hello');
    expect(fr.buffered).toBe(0);
  });

  it('a frame of exactly jute.maxbuffer bytes is accepted', () => {
    const big = Buffer.alloc(MAX, 0xab);
    const fr = new FrameReader();
    const f = frame(big);
    fr.push(f.subarray(0, 1000));
    expect(fr.next(MAX)).toBeNull();
    fr.push(f.subarray(1000));
    expect(fr.next(MAX)?.equals(big)).toBe(true);
  });

  it('a length above jute.maxbuffer throws as soon as the prefix is complete', () => {
    const fr = new FrameReader();
    fr.push(Buffer.from('0010', 'hex'));
    expect(fr.next(MAX)).toBeNull(); // prefix incomplete: no verdict yet
    fr.push(Buffer.from('0000', 'hex')); // 0x00100000 = maxbuffer + 1
    expect(() => fr.next(MAX)).toThrow(/Len error/);
    const huge = new FrameReader();
    huge.push(Buffer.from('7fffffff', 'hex'));
    expect(() => huge.next(MAX)).toThrow(/Len error/);
  });

  it('a negative length throws', () => {
    for (const h of ['ffffffff', '80000000', 'fffffffe']) {
      const fr = new FrameReader();
      fr.push(Buffer.from(h, 'hex'));
      expect(() => fr.next(MAX)).toThrow(/Len error/);
    }
  });

  it('a bad prefix after good frames: the good frames come out first', () => {
    const fr = new FrameReader();
    fr.push(Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('bc')), Buffer.from('ffffffff00', 'hex')]));
    expect(fr.next(MAX)?.toString()).toBe('a');
    expect(fr.next(MAX)?.toString()).toBe('bc');
    expect(() => fr.next(MAX)).toThrow(/Len error/);
  });

  it('take() and peekInt() for four-letter words', () => {
    const fr = new FrameReader();
    fr.push(Buffer.from('st'));
    fr.push(Buffer.from('mk'));
    expect(fr.peekInt()).toBe(0x73746d6b);
    fr.push(Buffer.from('0000000000000010', 'hex'));
    expect(fr.take(13)).toBeNull();
    const b = fr.take(12)!;
    expect(b.toString('latin1', 0, 4)).toBe('stmk');
    expect(b.readBigInt64BE(4)).toBe(16n);
    expect(fr.buffered).toBe(0);
  });
});
