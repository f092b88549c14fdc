// Shared helpers for the on-disk formats (docs/persistence.md, /work/shared/docs/disk-format.md):
// Adler-32, file naming (P/Util.java), loggers.
import * as fs from 'fs';
import * as path from 'path';

/** Optional logging/progress callback used by all persistence functions. */
import { Logger, silentLogger } from '../util/log';

export { silentLogger };
export type { Logger };

export const VERSION_DIR = 'version-2';
export const LOG_PREFIX = 'log';
export const SNAP_PREFIX = 'snapshot';
export const TXNLOG_MAGIC = 0x5a4b4c47; // "ZKLG"
export const SNAP_MAGIC = 0x5a4b534e; // "ZKSN"
export const FORMAT_VERSION = 2;

/** Incremental Adler-32 (java.util.zip.Adler32). */
export class Adler32 {
  private a = 1;
  private b = 0;

  /** An Adler-32 that goes on from `value`, the checksum of the bytes before (two sums, 16 bits each). */
  static resume(value: number): Adler32 {
    const c = new Adler32();
    c.a = value % 65536;
    c.b = Math.floor(value / 65536);
    return c;
  }

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let a = this.a;
    let b = this.b;
    let i = start;
    // The sums are reduced once per block rather than per byte. Blocks of 3800 bytes keep `b`
    // below 2^31 (65520 * 3800 + 255 * 3800^2 / 2 < 2^31), so V8 keeps it an int32 instead of a
    // double, and four bytes per turn of the loop: together 1.6x the bytes per second of 5552-byte
    // blocks (zlib's largest) one byte at a time.
    while (i < end) {
      const stop = Math.min(end, i + 3800);
      for (const stop4 = stop - 3; i < stop4; i += 4) {
        a += buf[i];
        b += a;
        a += buf[i + 1];
        b += a;
        a += buf[i + 2];
        b += a;
        a += buf[i + 3];
        b += a;
      }
      for (; i < stop; i++) {
        a += buf[i];
        b += a;
      }
      a %= 65521;
      b %= 65521;
    }
    this.a = a;
    this.b = b;
    return this;
  }
  /** Unsigned 32-bit value (what Java's getValue() returns as a non-negative long). */
  get value(): number {
    return this.b * 65536 + this.a;
  }
}

export function adler32(buf: Uint8Array, start = 0, end = buf.length): number {
  return new Adler32().update(buf, start, end).value;
}

import { zxidHex } from '../data/zxid';

export { zxidHex };

/** Util.getZxidFromName: split on '.', need >= 2 parts and part[0] == prefix; -1 on failure. */
export function zxidFromName(name: string, prefix: string): number {
  const parts = name.split('.');
  if (parts.length < 2 || parts[0] !== prefix) return -1;
  const p = parts[1];
  if (!/^[+-]?[0-9a-fA-F]+$/.test(p)) return -1;
  const v = BigInt.asIntN(64, BigInt((p.startsWith('-') ? '-0x' : '0x') + p.replace(/^[+-]/, '')));
  // Long.parseLong rejects values outside the signed range
  const raw = BigInt((p.startsWith('-') ? '-0x' : '0x') + p.replace(/^[+-]/, ''));
  if (raw !== v) return -1;
  return Number(v);
}

export function logFileName(zxid: number): string {
  return `${LOG_PREFIX}.${zxidHex(zxid)}`;
}

export type SnapCompression = '' | 'gz' | 'snappy';

export function snapFileName(zxid: number, compression: SnapCompression = ''): string {
  return `${SNAP_PREFIX}.${zxidHex(zxid)}${compression ? '.' + compression : ''}`;
}

/** SnapStream.getStreamMode(String): by the last '.'-suffix. */
export function streamModeOf(name: string): SnapCompression {
  const i = name.lastIndexOf('.');
  const ext = i >= 0 ? name.substring(i + 1) : '';
  return ext === 'gz' ? 'gz' : ext === 'snappy' ? 'snappy' : '';
}

export interface NamedFile {
  path: string;
  name: string;
  zxid: number;
}

/** Files in `dir` whose name starts with `prefix.`, sorted by name-zxid (ascending unless `descending`). */
export function listDataFiles(dir: string, prefix: string, descending = false): NamedFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: NamedFile[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix + '.')) continue;
    out.push({ path: path.join(dir, name), name, zxid: zxidFromName(name, prefix) });
  }
  out.sort((x, y) => (descending ? y.zxid - x.zxid : x.zxid - y.zxid));
  return out;
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Raised for unrecoverable on-disk corruption; names the file and byte offset when known. */
export class PersistenceError extends Error {
  constructor(message: string, readonly file?: string, readonly offset?: number) {
    super(message);
    this.name = 'PersistenceError';
  }
}
