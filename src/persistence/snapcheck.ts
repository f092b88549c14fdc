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
import { Worker } from 'worker_threads';
import { workerScript } from './workerscript';
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
  const scanner = new BodyScanner(new Adler32().update(buf, 0, start).value, start);
  scanner.push(buf.subarray(start));
  return scanner.result();
}

/**
 * The scan, over a body that arrives in pieces or in one (scanSnapshotBody): `push` the bytes in
 * order, then `result()`. A learner's SNAP stream is the body of the snapshot file it writes and
 * arrives in pieces; its scan runs in a worker thread (streamScanInWorker). The Adler-32 covers the
 * bytes up to the end marker, resumed from `adlerSeed` (the file header's). A piece may end
 * anywhere: the item it cuts (session, ACL entry, znode record) is carried to the next.
 */
export class BodyScanner {
  private readonly adler: Adler32;
  private readonly digest = new TreeDigest();
  /** bytes not scanned yet (an item cut by the end of the last piece), at offset `base` */
  private carry: Buffer = Buffer.alloc(0);
  private base: number;
  private phase: 'sessionCount' | 'sessions' | 'aclCount' | 'acls' | 'nodes' | 'done' = 'sessionCount';
  private left = 0;
  private records = 0;
  /** offset just after the end marker */
  private end = -1;
  private error: { error: string; offset: number } | null = null;

  constructor(adlerSeed = 1, startOffset = 0) {
    this.adler = Adler32.resume(adlerSeed);
    this.base = startOffset;
  }

  push(piece: Uint8Array): void {
    if (this.phase === 'done') return; // past the end marker (or bytes it could not walk)
    const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const fresh = this.carry.length; // where this piece starts in buf (the carry was checksummed)
    const o = this.scan(buf);
    this.adler.update(buf, fresh, this.end >= 0 ? this.end - this.base : buf.length);
    // what is left is less than an item: copied, so the piece's memory can go
    this.carry = this.end >= 0 || this.error ? Buffer.alloc(0) : Buffer.from(buf.subarray(o));
    this.base += o;
  }

  result(): BodyScanResult {
    if (this.error) return this.error;
    if (this.end < 0) return { error: `truncated ${this.phase === 'nodes' ? `znode record after ${this.records}` : this.phase}`, offset: this.base };
    return { end: this.end, adler: this.adler.value, digest: this.digest.value, records: this.records };
  }

  /** Scan the whole items at the start of `buf` (at offset `base`); the offset after them. */
  private scan(buf: Buffer): number {
    const len = buf.length;
    let o = 0;
    const bad = (msg: string): number => {
      this.error = { error: msg, offset: this.base + o };
      this.phase = 'done';
      return o;
    };
    // the end of the length-prefixed field (a jute string or buffer, -1 for null) at `at`: CUT
    // when it is not all here, BAD for an impossible length
    const field = (at: number): number => {
      if (at + 4 > len) return CUT;
      const n = buf.readInt32BE(at);
      if (n < -1) return BAD;
      const end = at + 4 + Math.max(n, 0);
      return end <= len ? end : CUT;
    };
    for (;;) {
      const phase = this.phase;
      if (phase === 'done') return o;
      if (phase === 'sessionCount' || phase === 'aclCount') {
        if (o + 4 > len) return o;
        this.left = buf.readInt32BE(o);
        if (this.left < 0) return bad(`bad ${phase === 'sessionCount' ? 'session count' : 'ACL map size'} ${this.left}`);
        o += 4;
        this.phase = phase === 'sessionCount' ? 'sessions' : 'acls';
      } else if (phase === 'sessions') {
        // id (8) and timeout (4) each
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
          if (p === BAD) return bad('bad ACL length');
          if (p < 0) return o;
          o = p;
          this.left--;
        }
      } else {
        // znode records: path, data, ACL reference (8), stat; ended by the path "/"
        const pathEnd = field(o);
        if (pathEnd === BAD) return bad('bad znode path length');
        if (pathEnd < 0) return o;
        const pathStart = o + 4;
        if (pathEnd - pathStart === 1 && buf[pathStart] === 0x2f) {
          this.end = this.base + pathEnd;
          this.phase = 'done';
          return pathEnd;
        }
        const dataEnd = field(pathEnd);
        if (dataEnd === BAD) return bad('bad znode data length');
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
      w = new Worker(workerScript('snapcheck-worker.js'), { workerData: req });
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
  /** the body is complete: where it ended, its Adler-32 (from the seed) and digest; never rejects */
  result(): Promise<BodyScanResult>;
  /** stop the thread (the sync failed) */
  cancel(): void;
}

/** bytes handed to the worker per message: ~190 messages for a 1M-znode stream instead of ~3,000 socket reads */
const STREAM_BATCH = 1 << 20;

/**
 * Scan a body that arrives in pieces in a worker thread (BodyScanner there): the learner's
 * SNAP stream, whose Adler-32 and digest took ~0.4 s of its main thread per 1M znodes.
 */
export function streamScanInWorker(adlerSeed: number, digestEnabled: boolean): StreamScan {
  let failed: string | null = null;
  let answer: ((r: BodyScanResult) => void) | null = null;
  const settle = (r: BodyScanResult): void => {
    if ('error' in r) failed ??= r.error;
    const a = answer;
    answer = null;
    a?.(r);
  };
  let w: Worker | null = null;
  try {
    const req: StreamScanRequest = { stream: true, adlerSeed, digestEnabled };
    w = new Worker(workerScript('snapcheck-worker.js'), { workerData: req });
    w.on('message', (r: BodyScanResult) => settle(r));
    w.once('error', (e) => settle({ error: `snapshot check thread: ${e.message}`, offset: 0 }));
    w.once('exit', (code) => settle({ error: `snapshot check thread exited (${code})`, offset: 0 }));
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
      if (failed || !w) return Promise.resolve({ error: failed ?? 'no snapshot check thread', offset: 0 });
      post();
      const p = new Promise<BodyScanResult>((r) => (answer = r));
      w.postMessage('end');
      return p.finally(() => void w?.terminate());
    },
    cancel(): void {
      void w?.terminate();
    },
  };
}
