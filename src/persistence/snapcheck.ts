// The checks of a snapshot file that need no DataTree: the Adler-32 of the file up to the end of
// its tree body (the first seal covers exactly that) and the tree digest (the sum of the znodes'
// digests, data/digest.ts). Both only read the bytes, so while the main thread builds the tree
// from the file (treebody.ts), a worker thread (snapcheck-worker.ts) does them on the same bytes,
// shared: on a 1M-znode snapshot they were ~0.45 s of the ~2 s a load took on one thread.
//
// The scan walks the body's layout (sessions, ACL map, znode records up to the path "/"), the same
// layout TreeBodyParser parses; it does not judge what it walks (a missing parent, a bad path):
// the parser, which reads the same bytes, reports those with its own messages. A scan that cannot
// walk the bytes (a length past the end) returns an error, and the load fails on whichever of the
// two reports first.
import * as path from 'path';
import * as fs from 'fs';
import { Worker } from 'worker_threads';
import { JuteReader } from '../jute/archive';
import { nodeDigest, recordDigest, setDigestEnabled, TreeDigest } from '../data/digest';
import { Adler32 } from './util';

export interface BodyScan {
  /** file offset just after the body's end marker (where the first seal is) */
  end: number;
  /** Adler-32 of the file's bytes [0, end) */
  adler: number;
  /** the sum of every znode record's digest (AdHash), as TreeDigest.value */
  digest: bigint;
  /** znode records scanned */
  records: number;
}

export type BodyScanResult = BodyScan | { error: string; offset: number };

const STAT_BYTES = 60; // StatPersisted: 4 longs, 3 ints, ephemeralOwner, pzxid

/** Scan the tree body that starts at `start` in `buf` (a whole snapshot file, decompressed). */
export function scanSnapshotBody(buf: Buffer, start: number): BodyScanResult {
  const len = buf.length;
  let o = start;
  const need = (n: number): boolean => n >= 0 && o + n <= len;
  const bad = (msg: string): BodyScanResult => ({ error: msg, offset: o });
  // a length-prefixed field (a jute string or buffer, -1 for null): skip it and return where its
  // bytes start, or -1 when it is cut off or its length is impossible (o then stays at the length)
  const field = (): number => {
    if (!need(4)) return -1;
    const n = buf.readInt32BE(o);
    if (n < -1 || !need(4 + Math.max(n, 0))) return -1;
    o += 4;
    const at = o;
    o += Math.max(n, 0);
    return at;
  };
  // sessions: count, then id (8) and timeout (4) each
  if (!need(4)) return bad('truncated session count');
  const sessions = buf.readInt32BE(o);
  o += 4;
  if (sessions < 0 || !need(sessions * 12)) return bad(`bad session count ${sessions}`);
  o += sessions * 12;
  // the ACL map: count, then a reference (8) and a list of ACLs (perms, scheme, id) each
  if (!need(4)) return bad('truncated ACL map size');
  const refs = buf.readInt32BE(o);
  o += 4;
  if (refs < 0) return bad(`bad ACL map size ${refs}`);
  for (let i = 0; i < refs; i++) {
    if (!need(12)) return bad('truncated ACL map');
    const n = buf.readInt32BE(o + 8);
    o += 12;
    for (let k = 0; k < n; k++) {
      if (!need(4)) return bad('truncated ACL');
      o += 4; // perms
      if (field() < 0) return bad('truncated ACL scheme');
      if (field() < 0) return bad('truncated ACL id');
    }
  }
  // znode records: path, data, ACL reference (8), stat; ended by the path "/"
  const digest = new TreeDigest();
  let records = 0;
  for (;;) {
    const at = o;
    const pathStart = field();
    if (pathStart < 0) return bad('truncated znode path');
    const pathEnd = o;
    if (pathEnd - pathStart === 1 && buf[pathStart] === 0x2f) break;
    const dataStart = field();
    if (dataStart < 0) return bad('truncated znode data');
    const dataEnd = o;
    if (!need(8 + STAT_BYTES)) return bad('truncated znode stat');
    const statStart = o + 8;
    o = statStart + STAT_BYTES;
    let d = recordDigest(buf, pathStart, pathEnd, dataStart, dataEnd, statStart);
    if (d < 0) d = nodeDigest(...decodeRecord(buf, at));
    digest.add(d);
    records++;
  }
  const end = o;
  return { end, adler: new Adler32().update(buf, 0, end).value, digest: digest.value, records };
}

/**
 * The same scan over a body that arrives in pieces (a learner's SNAP stream, which is the body of
 * the snapshot file it writes): `push` the body's bytes in order, `end` when the body is complete.
 * Adler-32 of every byte pushed, resumed from `adlerSeed` (the file header's), and the digest of
 * every whole znode record. It stops at the end marker; a record it cannot walk stops it too (the
 * parser on the main thread reports the corruption).
 */
export class BodyStreamScanner {
  private readonly adler: Adler32;
  private readonly digest = new TreeDigest();
  /** bytes not scanned yet (a record cut by the end of the last piece) */
  private carry: Buffer = Buffer.alloc(0);
  private phase: 'sessionCount' | 'sessions' | 'aclCount' | 'acls' | 'nodes' | 'done' = 'sessionCount';
  private left = 0;
  records = 0;

  constructor(adlerSeed = 1) {
    this.adler = Adler32.resume(adlerSeed);
  }

  push(piece: Uint8Array): void {
    const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    this.adler.update(chunk);
    if (this.phase === 'done') return;
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const o = this.scan(buf);
    // what is left is less than a record: copied, so the piece's memory can go
    this.carry = Buffer.from(buf.subarray(o));
  }

  end(): { adler: number; digest: bigint; records: number } {
    return { adler: this.adler.value, digest: this.digest.value, records: this.records };
  }

  /** Scan the whole items (session, ACL entry, znode record) at the start of `buf`; the offset after them. */
  private scan(buf: Buffer): number {
    const len = buf.length;
    let o = 0;
    // the end of the length-prefixed field at `at`: CUT when it is not all here, BAD for a negative length
    const field = (at: number): number => {
      if (at + 4 > len) return CUT;
      const n = buf.readInt32BE(at);
      if (n < -1) return BAD;
      const end = at + 4 + Math.max(n, 0);
      return end <= len ? end : CUT;
    };
    for (;;) {
      const phase = this.phase;
      if (phase === 'done') return len;
      if (phase === 'sessionCount' || phase === 'aclCount') {
        if (o + 4 > len) return o;
        this.left = buf.readInt32BE(o);
        if (this.left < 0) return this.stop(len);
        o += 4;
        this.phase = phase === 'sessionCount' ? 'sessions' : 'acls';
      } else if (phase === 'sessions') {
        if (this.left === 0) this.phase = 'aclCount';
        else {
          if (o + 12 > len) return o;
          o += 12;
          this.left--;
        }
      } else if (phase === 'acls') {
        if (this.left === 0) this.phase = 'nodes';
        else {
          // a reference (8), then a list of (perms, scheme, id)
          if (o + 12 > len) return o;
          const n = buf.readInt32BE(o + 8);
          let p = o + 12;
          for (let k = 0; k < n && p >= 0; k++) {
            p = p + 4 <= len ? field(p + 4) : CUT;
            if (p >= 0) p = field(p);
          }
          if (p === BAD) return this.stop(len);
          if (p < 0) return o;
          o = p;
          this.left--;
        }
      } else {
        const pathEnd = field(o);
        if (pathEnd === BAD) return this.stop(len);
        if (pathEnd < 0) return o;
        const pathStart = o + 4;
        if (pathEnd - pathStart === 1 && buf[pathStart] === 0x2f) return this.stop(len);
        const dataEnd = field(pathEnd);
        if (dataEnd === BAD) return this.stop(len);
        if (dataEnd < 0) return o;
        const statStart = dataEnd + 8;
        if (statStart + STAT_BYTES > len) return o;
        let d = recordDigest(buf, pathStart, pathEnd, pathEnd + 4, dataEnd, statStart);
        if (d < 0) d = nodeDigest(...decodeRecord(buf, o));
        this.digest.add(d);
        this.records++;
        o = statStart + STAT_BYTES;
      }
    }
  }

  /** The end marker, or bytes it cannot walk (the parser reports those): the scan is over. */
  private stop(len: number): number {
    this.phase = 'done';
    return len;
  }
}

const CUT = -1;
const BAD = -2;

/** A record whose path is not ASCII, parsed for nodeDigest (which takes the path's UTF-8 bytes). */
function decodeRecord(buf: Buffer, at: number): Parameters<typeof nodeDigest> {
  const r = new JuteReader(buf, at, buf.length, Number.MAX_SAFE_INTEGER);
  const p = r.readStr();
  const raw = r.readBuffer();
  r.readLong(); // ACL reference
  const czxid = r.readLong();
  const mzxid = r.readLong();
  const ctime = r.readLong();
  const mtime = r.readLong();
  const version = r.readInt();
  const cversion = r.readInt();
  const aversion = r.readInt();
  const ephemeralOwner = r.readBigLong();
  const pzxid = r.readLong();
  return [p, { raw, czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner }];
}

/** What the worker thread is given: a snapshot file to scan, or (`stream`) a body to scan as it comes. */
export type WorkerRequest = ScanRequest | StreamScanRequest;

export interface StreamScanRequest {
  stream: true;
  adlerSeed: number;
  digestEnabled: boolean;
}

export interface ScanRequest {
  stream?: undefined;
  /** the snapshot's bytes, in a SharedArrayBuffer (so the main thread parses the same memory) */
  bytes: Uint8Array;
  start: number;
  digestEnabled: boolean;
}

/**
 * The worker's script. The tests run the TypeScript sources, which a worker thread cannot load:
 * they take the compiled file (scripts/test.sh builds before it runs them).
 */
function workerScript(): string {
  const here = path.join(__dirname, 'snapcheck-worker.js');
  if (fs.existsSync(here)) return here;
  return path.join(__dirname, '..', '..', 'dist', 'persistence', 'snapcheck-worker.js');
}

/** The worker's side: scan and answer. */
export function runScanRequest(req: ScanRequest): BodyScanResult {
  setDigestEnabled(req.digestEnabled);
  const b = req.bytes;
  return scanSnapshotBody(Buffer.from(b.buffer, b.byteOffset, b.byteLength), req.start);
}

export interface WorkerScan {
  /** the scan, or an error result when the thread itself failed; never rejects */
  result: Promise<BodyScanResult>;
  /** stop the thread (the load failed and will not ask for the result) */
  cancel(): void;
}

/** Scan `bytes` (backed by a SharedArrayBuffer) in a worker thread. */
export function scanInWorker(bytes: Buffer, start: number, digestEnabled: boolean): WorkerScan {
  let w: Worker | undefined;
  const result = new Promise<BodyScanResult>((resolve) => {
    let settled = false;
    const done = (r: BodyScanResult): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    try {
      const req: ScanRequest = { bytes, start, digestEnabled };
      w = new Worker(workerScript(), { workerData: req });
    } catch (e) {
      done({ error: `cannot start the snapshot check thread: ${(e as Error).message}`, offset: start });
      return;
    }
    w.once('message', (r: BodyScanResult) => done(r));
    w.once('error', (e) => done({ error: `snapshot check thread: ${e.message}`, offset: start }));
    w.once('exit', (code) => done({ error: `snapshot check thread exited (${code})`, offset: start }));
  });
  return { result, cancel: () => void w?.terminate() };
}

export interface StreamScan {
  /** the body's next bytes (copied: the caller may reuse them) */
  push(b: Uint8Array): void;
  /** the body is complete: its Adler-32 (from the seed) and digest; never rejects */
  result(): Promise<{ adler: number; digest: bigint; records: number } | { error: string }>;
  /** stop the thread (the sync failed) */
  cancel(): void;
}

/** bytes handed to the worker per message: ~190 messages for a 1M-znode stream instead of ~3,000 socket reads */
const STREAM_BATCH = 1 << 20;

/**
 * Scan a body that arrives in pieces in a worker thread (BodyStreamScanner there): the learner's
 * SNAP stream, whose Adler-32 and digest took ~0.4 s of its main thread per 1M znodes.
 */
export function streamScanInWorker(adlerSeed: number, digestEnabled: boolean): StreamScan {
  let failed: string | null = null;
  let answer: ((r: { adler: number; digest: bigint; records: number } | { error: string }) => void) | null = null;
  const settle = (r: { adler: number; digest: bigint; records: number } | { error: string }): void => {
    if ('error' in r) failed ??= r.error;
    const a = answer;
    answer = null;
    a?.(r);
  };
  let w: Worker | null = null;
  try {
    const req: StreamScanRequest = { stream: true, adlerSeed, digestEnabled };
    w = new Worker(workerScript(), { workerData: req });
    w.on('message', (r: { adler: number; digest: bigint; records: number }) => settle(r));
    w.once('error', (e) => settle({ error: `snapshot check thread: ${e.message}` }));
    w.once('exit', (code) => settle({ error: `snapshot check thread exited (${code})` }));
  } catch (e) {
    failed = `cannot start the snapshot check thread: ${(e as Error).message}`;
  }
  let batch = new Uint8Array(STREAM_BATCH);
  let used = 0;
  const post = (): void => {
    if (used === 0 || !w || failed) return;
    const full = used === batch.length ? batch : batch.slice(0, used);
    w.postMessage(full, [full.buffer]);
    batch = new Uint8Array(STREAM_BATCH);
    used = 0;
  };
  return {
    push(b: Uint8Array): void {
      for (let at = 0; at < b.length; ) {
        const n = Math.min(b.length - at, batch.length - used);
        batch.set(b.subarray(at, at + n), used);
        used += n;
        at += n;
        if (used === batch.length) post();
      }
    },
    result() {
      if (failed || !w) return Promise.resolve({ error: failed ?? 'no snapshot check thread' });
      post();
      const p = new Promise<{ adler: number; digest: bigint; records: number } | { error: string }>((r) => (answer = r));
      w.postMessage('end');
      return p.finally(() => void w?.terminate());
    },
    cancel(): void {
      void w?.terminate();
    },
  };
}
