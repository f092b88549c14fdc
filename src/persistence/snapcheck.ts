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

/** What the worker thread is given. */
export interface ScanRequest {
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
