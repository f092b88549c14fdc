// ZooKeeper 3.8 transaction log files: <dataLogDir>/version-2/log.<hex zxid of first txn>.
// Layout (disk-format.md §4): FileHeader "ZKLG",2,dbid 0; records `long adler32 | int len | entry | 0x42`;
// zero padding (preallocated space). All paths taken here are the version-2 directory itself.
import { fsyncThresholdExceeded, serverMetrics } from '../util/metrics';
import { defaultFileIO, FileIO, LogFile } from './fileio';
import * as fs from 'fs';
import * as path from 'path';
import { JuteReader, JuteWriter, DEFAULT_MAX_BUFFER } from '../jute/archive';
import { readTxnHeader, TxnHeader } from '../jute/records';
import { deserializeTxn, Txn, TxnDigest, writeTxn } from '../data/txn';
import {
  adler32,
  FORMAT_VERSION,
  listDataFiles,
  LOG_PREFIX,
  logFileName,
  NamedFile,
  silentLogger,
  PersistenceError,
  Logger,
  TXNLOG_MAGIC,
  zxidHex,
} from './util';
import { monotonicNow, msSince } from '../util/clock';

export const FILE_HEADER_SIZE = 16;
export const RECORD_OVERHEAD = 13;
const EOR = 0x42;
/** FilePadding: grow when fewer than this many bytes of preallocated space remain. */
const PAD_MARGIN = 4096;
export const DEFAULT_PREALLOC_SIZE = 64 * 1024 * 1024;

export interface TxnLogWriterOptions {
  /** Preallocation step in bytes (zookeeper.preAllocSize is in KiB; default 64 MiB). 0 disables. */
  preAllocSize?: number;
  /** each flush durable before it resolves (zookeeper.forceSync, default true): the file is O_DSYNC */
  forceSync?: boolean;
  /** Warn when an fsync takes longer (zookeeper.fsync.warningthresholdms, default 1000). */
  fsyncWarningThresholdMs?: number;
  /** Roll to a new file after a flush once the current file holds more than this many bytes (-1 = off). */
  txnLogSizeLimit?: number;
  logger?: Logger;
  /** the file operations (tests inject disk faults here; default: node:fs, or ZK_FAULT_INJECT's) */
  io?: FileIO;
}

export function fileHeader(magic: number, dbid: bigint): Buffer {
  const h = Buffer.alloc(FILE_HEADER_SIZE);
  h.writeInt32BE(magic, 0);
  h.writeInt32BE(FORMAT_VERSION, 4);
  h.writeBigInt64BE(dbid, 8);
  return h;
}

/**
 * What one flush writes to one file: its records framed back to back in one buffer, so a txn is
 * serialized once, into the place it is written from (a record per Buffer cost three copies and
 * three allocations per txn: the serialization, its framing, and the concatenation of a batch).
 */
interface Segment {
  /** first zxid: when set, this segment starts a new log file */
  newFileZxid: number | null;
  out: JuteWriter;
  /** each record's length in `out`, in order: the file grows (padding) before a record */
  lengths: number[];
}

/** A segment's buffer is kept for the next one up to this size (a burst's larger one goes). */
const SPARE_SEGMENT_BYTES = 1 << 20;

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Append-only writer with group commit. `append` only buffers; `commit()`/`flush()` writes everything
 * appended before the call with one positional write per file (forceSync: to an O_DSYNC file, so the
 * write is the fdatasync), off the event loop, and resolves when it is durable. Appends made while a
 * flush is in flight are covered by the next one.
 */
export class TxnLogWriter {
  readonly preAllocSize: number;
  readonly forceSync: boolean;
  private readonly fsyncWarnMs: number;
  private readonly sizeLimit: number;
  private readonly log: Logger;

  private segments: Segment[] = [];
  private rollRequested = true; // no file open yet
  private appendSeq = 0;
  private durableSeq = 0;
  private waiters: Waiter[] = [];
  private loop: Promise<void> | null = null;
  private failed: unknown = null;
  private closed = false;

  // current file state (owned by the flush loop)
  private fh: LogFile | null = null;
  private readonly io: FileIO;
  private curPath: string | null = null;
  private position = 0;
  private currentSize = 0;

  private lastZxidSeen = -1;
  /** a written segment's buffer, for the next segment (see SPARE_SEGMENT_BYTES) */
  private spare: JuteWriter | null = null;
  /** bytes and txns appended since the last roll (for snapshot triggering, §9) */
  bytesSinceRoll = 0;
  txnsSinceRoll = 0;

  constructor(readonly logDir: string, opts: TxnLogWriterOptions = {}) {
    this.preAllocSize = opts.preAllocSize ?? DEFAULT_PREALLOC_SIZE;
    this.forceSync = opts.forceSync ?? true;
    this.fsyncWarnMs = opts.fsyncWarningThresholdMs ?? 1000;
    this.sizeLimit = opts.txnLogSizeLimit ?? -1;
    this.log = opts.logger ?? silentLogger;
    this.io = opts.io ?? defaultFileIO;
  }

  /** Path of the file currently being written (null before the first flush after a roll). */
  get currentFile(): string | null {
    return this.curPath;
  }

  get lastZxid(): number {
    return this.lastZxidSeen;
  }

  /** Number of records appended but not yet durable. */
  get pendingCount(): number {
    return this.appendSeq - this.durableSeq;
  }

  /** Buffer one entry (TxnHeader + body [+ digest]) whose TxnHeader.zxid is `zxid`. */
  append(entry: Buffer, zxid: number): void {
    this.frame(zxid, entry, null, null, null);
  }

  /** append() of the txn's entry, serialized straight into the record. */
  appendTxn(hdr: TxnHeader, txn: Txn, digest?: TxnDigest | null): void {
    this.frame(hdr.zxid, null, hdr, txn, digest ?? null);
  }

  /**
   * One record in the current segment: its header, the entry (`entry`'s bytes, or the txn
   * serialized in place), the 0x42. Arguments rather than a callback: no closure per txn.
   */
  private frame(zxid: number, entry: Buffer | null, hdr: TxnHeader | null, txn: Txn | null, digest: TxnDigest | null): void {
    if (this.closed) throw new Error('TxnLogWriter is closed');
    if (this.failed) throw this.failed;
    let seg = this.segments[this.segments.length - 1];
    const rolling = this.rollRequested || !seg;
    if (rolling) seg = { newFileZxid: this.rollRequested ? zxid : null, out: this.spare ?? new JuteWriter(64 * 1024), lengths: [] };
    const w = seg.out;
    const at = w.offset;
    w.writeInt(0); // the checksum is a long: its high half is 0
    w.writeInt(0); // Adler-32 of the entry, below
    w.writeInt(0); // the entry's length, below
    try {
      if (entry !== null) w.writeRaw(entry);
      else writeTxn(w, hdr!, txn!, digest);
    } catch (e) {
      w.offset = at; // nothing of it stays, and a segment opened for it is not kept
      throw e;
    }
    if (rolling) {
      if (seg.out === this.spare) this.spare = null;
      this.segments.push(seg);
      if (this.rollRequested) {
        this.rollRequested = false;
        this.bytesSinceRoll = 0;
        this.txnsSinceRoll = 0;
      }
    }
    const len = w.offset - at - 12;
    if (zxid <= this.lastZxidSeen) {
      this.log.warn(`Current zxid ${zxidHex(zxid)} is <= ${zxidHex(this.lastZxidSeen)} for ${len}-byte txn`);
    }
    this.lastZxidSeen = zxid;
    const b = w.buf; // after the writes: a growth replaced it
    b.writeUInt32BE(adler32(b, at + 12, at + 12 + len), at + 4);
    b.writeInt32BE(len, at + 8);
    w.writeByte(EOR);
    seg.lengths.push(len + RECORD_OVERHEAD);
    this.bytesSinceRoll += len + RECORD_OVERHEAD;
    this.txnsSinceRoll++;
    this.appendSeq++;
  }

  /** Close the current file after what is already appended; the next append starts `log.<its zxid>`. */
  rollLog(): void {
    this.rollRequested = true;
  }

  /** Resolves when everything appended before this call is written (and fdatasync'ed if forceSync). */
  commit(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const target = this.appendSeq;
    if (this.durableSeq >= target && this.segments.length === 0) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ seq: target, resolve, reject }));
    if (!this.loop) this.loop = this.runLoop();
    return p;
  }

  flush(): Promise<void> {
    return this.commit();
  }

  /** Flush, sync and close the current file. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.commit();
      if (this.loop) await this.loop;
    } finally {
      this.closed = true;
      await this.closeCurrent();
    }
  }

  private async runLoop(): Promise<void> {
    try {
      while (this.segments.length > 0 || this.waiters.some((w) => w.seq > this.durableSeq)) {
        const segs = this.segments;
        this.segments = [];
        const upto = this.appendSeq;
        const t0 = monotonicNow(); // a wall-clock step must not read as a minutes-long fsync
        for (const seg of segs) await this.writeSegment(seg);
        if (this.forceSync && segs.length > 0) this.synced(msSince(t0));
        this.durableSeq = upto;
        if (this.sizeLimit > 0 && this.position > this.sizeLimit) this.rollRequested = true;
        const ready = this.waiters.filter((w) => w.seq <= this.durableSeq);
        this.waiters = this.waiters.filter((w) => w.seq > this.durableSeq);
        for (const w of ready) w.resolve();
      }
      if (this.rollRequested && this.fh) await this.closeCurrent();
    } catch (e) {
      this.failed = e;
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w.reject(e);
    } finally {
      this.loop = null;
      // appends (and commits) that arrived while the loop was ending
      if (!this.failed && this.waiters.length > 0) this.loop = this.runLoop();
    }
  }

  /**
   * A flush's writes are durable (forceSync: the file is O_DSYNC, so its writes were its
   * fdatasyncs): their time is the flush's fsync time (mntr fsynctime, the slow-fsync warning).
   */
  private synced(ms: number): void {
    serverMetrics.fsynctime.add(ms);
    if (ms > this.fsyncWarnMs) {
      fsyncThresholdExceeded.add(1);
      this.log.warn(`fsync-ing the write ahead log in ${this.curPath} took ${ms}ms which will adversely effect operation latency.`);
    }
  }

  private async closeCurrent(): Promise<void> {
    if (!this.fh) return;
    const fh = this.fh;
    this.fh = null;
    this.curPath = null;
    await fh.close();
  }

  private async writeSegment(seg: Segment): Promise<void> {
    if (seg.newFileZxid !== null) {
      await this.closeCurrent();
      const p = path.join(this.logDir, logFileName(seg.newFileZxid));
      this.log.info(`Creating new log file: ${logFileName(seg.newFileZxid)}`);
      const fh = await this.io.create(p, this.forceSync);
      this.fh = fh;
      this.curPath = p;
      await writeFully(fh, fileHeader(TXNLOG_MAGIC, 0n), 0);
      this.position = FILE_HEADER_SIZE;
      this.currentSize = FILE_HEADER_SIZE;
    }
    if (!this.fh) throw new Error('TxnLogWriter: no open log file');
    if (seg.lengths.length === 0) return;
    // FilePadding.padFile before each record; one zero byte at newSize-1 per growth
    let pos = this.position;
    let size = this.currentSize;
    for (const n of seg.lengths) {
      size = paddedSize(pos, size, this.preAllocSize);
      pos += n;
    }
    if (size !== this.currentSize) {
      await writeFully(this.fh, Buffer.alloc(1), size - 1);
      this.currentSize = size;
    }
    const data = seg.out.finish();
    await writeFully(this.fh, data, this.position);
    this.position += data.length;
    // written: the buffer can take the next segment
    if (seg.out.buf.length <= SPARE_SEGMENT_BYTES) {
      seg.out.reset();
      this.spare = seg.out;
    }
  }
}

/** FilePadding.calculateFileSizeWithPadding */
export function paddedSize(position: number, fileSize: number, preAlloc: number): number {
  if (preAlloc > 0 && position + PAD_MARGIN >= fileSize) {
    if (position > fileSize) {
      fileSize = position + preAlloc;
      fileSize -= fileSize % preAlloc;
    } else {
      fileSize += preAlloc;
    }
  }
  return fileSize;
}

/** Write all of `buf` at `position`, again for what a short write left (off the event loop: fileio.ts). */
async function writeFully(fh: LogFile, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) off += await fh.write(buf, off, buf.length - off, position + off);
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface TxnLogEntry {
  hdr: TxnHeader;
  txn: Txn;
  /** TxnHeader + body [+ digest] exactly as stored */
  entry: Buffer;
  digest: TxnDigest | null;
  file: string;
  /** byte offset of the record (its checksum field) in `file` */
  offset: number;
  /** byte offset just after the record's 0x42 */
  end: number;
}

export interface TxnLogReadOptions {
  logger?: Logger;
  /** jute.maxbuffer (default 0xfffff); records longer than this + 1024 are "Unreasonable length". */
  maxBuffer?: number;
}

/** FileTxnLog.getLogFiles: the newest file starting at or before `zxid`, plus all newer ones. */
export function selectLogFiles(files: NamedFile[], zxid: number): NamedFile[] {
  const sorted = files.filter((f) => f.zxid >= 0).sort((a, b) => a.zxid - b.zxid);
  let logZxid = 0;
  for (const f of sorted) {
    if (f.zxid > zxid) break;
    if (f.zxid > logZxid) logZxid = f.zxid;
  }
  return sorted.filter((f) => f.zxid >= logZxid);
}

/** Buffered synchronous positional reader over one file. */
class FileCursor {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  readonly size: number;
  constructor(private readonly fd: number) {
    this.size = fs.fstatSync(fd).size;
  }
  /** `n` bytes at `pos`, or fewer if the file ends first. */
  read(pos: number, n: number): Buffer {
    if (pos >= this.bufStart && pos + n <= this.bufStart + this.buf.length) {
      return this.buf.subarray(pos - this.bufStart, pos - this.bufStart + n);
    }
    const want = Math.max(n, 1 << 20);
    const avail = Math.max(0, Math.min(want, this.size - pos));
    const b = Buffer.allocUnsafe(avail);
    let got = 0;
    while (got < avail) {
      const r = fs.readSync(this.fd, b, got, avail - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    this.buf = b.subarray(0, got);
    this.bufStart = pos;
    return this.buf.subarray(0, Math.min(n, got));
  }
}

type RawRecord =
  | { kind: 'record'; offset: number; end: number; entry: Buffer; crcOk: boolean; stored: number }
  | { kind: 'eof'; offset: number; torn: boolean; reason: string };

function readRawRecord(c: FileCursor, off: number, maxLen: number, file: string): RawRecord {
  const head = c.read(off, 12);
  if (head.length < 12) {
    return { kind: 'eof', offset: off, torn: head.some((b) => b !== 0), reason: 'EOF in record header' };
  }
  const stored = head.readBigInt64BE(0);
  const len = head.readInt32BE(8);
  if (len === 0) return { kind: 'eof', offset: off, torn: stored !== 0n, reason: 'zero length (preallocated space)' };
  if (len < 0 || len > maxLen) {
    throw new PersistenceError(`Unreasonable length = ${len} in ${file} at offset ${off}`, file, off);
  }
  const body = c.read(off + 12, len + 1);
  if (body.length < len + 1) return { kind: 'eof', offset: off, torn: true, reason: 'EOF inside record' };
  if (body[len] !== EOR) return { kind: 'eof', offset: off, torn: true, reason: 'missing end-of-record marker' };
  // a view into the cursor's chunk (each refill allocates a new one, so it stays valid); whoever
  // keeps it copies it (readTxnLog): the records a replay skips cost no allocation
  const entry = body.subarray(0, len);
  const crcOk = BigInt(adler32(entry)) === stored;
  return { kind: 'record', offset: off, end: off + 12 + len + 1, entry, crcOk, stored: Number(stored) };
}

export function parseLogEntry(entry: Buffer): { hdr: TxnHeader; txn: Txn; digest: TxnDigest | null } {
  return deserializeTxn(entry, new JuteReader(entry, 0, entry.length, entry.length));
}

interface RawIterItem {
  file: NamedFile;
  rec: { offset: number; end: number; entry: Buffer };
  hdr: TxnHeader;
}

/**
 * Iterate over the raw records of `files` in order, applying the end-of-log rules of §4:
 * len 0 / EOF / bad trailing byte end a file; a CRC mismatch is fatal unless it is the last record of
 * the last file (a torn write), which is ignored with a warning.
 */
function* iterateRecords(files: NamedFile[], allLast: NamedFile | undefined, opts: TxnLogReadOptions): Generator<RawIterItem> {
  const log = opts.logger ?? silentLogger;
  const maxLen = (opts.maxBuffer ?? DEFAULT_MAX_BUFFER) + 1024;
  let lastGood = -1;
  for (const f of files) {
    const isLastFile = allLast !== undefined && f.path === allLast.path;
    const fd = fs.openSync(f.path, 'r');
    try {
      const c = new FileCursor(fd);
      const hdr = c.read(0, FILE_HEADER_SIZE);
      if (hdr.length < FILE_HEADER_SIZE) {
        if (isLastFile) {
          log.warn(`Ignoring empty or truncated last txn log file ${f.path} (${c.size} bytes)`);
          continue;
        }
        throw new PersistenceError(`Transaction log: ${f.path} is truncated (${c.size} bytes, no file header)`, f.path, 0);
      }
      const magic = hdr.readInt32BE(0);
      if (magic !== TXNLOG_MAGIC) {
        throw new PersistenceError(`Transaction log: ${f.path} has invalid magic number ${magic} != ${TXNLOG_MAGIC}`, f.path, 0);
      }
      let off = FILE_HEADER_SIZE;
      for (;;) {
        const r = readRawRecord(c, off, maxLen, f.path);
        if (r.kind === 'eof') {
          if (r.torn) log.warn(`Ignoring torn record in ${f.path} at offset ${r.offset}: ${r.reason}`);
          break;
        }
        if (!r.crcOk) {
          const next = isLastFile ? readRawRecordSafe(c, r.end, maxLen, f.path) : null;
          if (isLastFile && next !== null && next.kind === 'eof') {
            log.warn(`Ignoring torn final record in ${f.path} at offset ${r.offset}: CRC check failed`);
            break;
          }
          // not a torn tail: acknowledged txns may follow, so never drop them silently
          const after = lastGood >= 0 ? `0x${zxidHex(lastGood)}` : null;
          throw new PersistenceError(
            `CRC check failed in ${f.path} at offset ${r.offset}${after ? ` (after zxid ${after})` : ''}. ` +
              `Refusing to start: txns acknowledged to clients may follow this record. ` +
              (after
                ? `To keep the log up to the last good txn, run \`zk-server truncate-log ${after} <zoo.cfg>\` ` +
                  '(a peer of an ensemble then gets the rest from the leader); '
                : '') +
              `or, on a member of a healthy ensemble, remove the version-2 directories of its dataDir/dataLogDir (myid stays) and let it resync by SNAP.`,
            f.path,
            r.offset,
          );
        }
        let h: TxnHeader;
        try {
          h = readTxnHeader(new JuteReader(r.entry));
        } catch (e) {
          throw new PersistenceError(`Bad txn header in ${f.path} at offset ${r.offset}: ${(e as Error).message}`, f.path, r.offset);
        }
        yield { file: f, rec: r, hdr: h };
        lastGood = h.zxid;
        off = r.end;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

function readRawRecordSafe(c: FileCursor, off: number, maxLen: number, file: string): RawRecord | null {
  try {
    return readRawRecord(c, off, maxLen, file);
  } catch {
    return null;
  }
}

/**
 * All txns with zxid >= `fromZxid` from the log files in `logDir` (the version-2 directory), in order.
 * Throws PersistenceError (with file and offset) on corruption other than a torn final record.
 */
export function* readTxnLog(logDir: string, fromZxid: number, opts: TxnLogReadOptions = {}): Generator<TxnLogEntry> {
  const all = listDataFiles(logDir, LOG_PREFIX).filter((f) => f.zxid >= 0);
  const files = selectLogFiles(all, fromZxid);
  for (const it of iterateRecords(files, all[all.length - 1], opts)) {
    if (it.hdr.zxid < fromZxid) continue;
    let parsed;
    try {
      parsed = parseLogEntry(it.rec.entry);
    } catch (e) {
      throw new PersistenceError(
        `Cannot decode txn zxid ${zxidHex(it.hdr.zxid)} in ${it.file.path} at offset ${it.rec.offset}: ${(e as Error).message}`,
        it.file.path,
        it.rec.offset,
      );
    }
    // the fields one by one: an object spread of `parsed` here cost ~3 us a txn (a replay of 182k
    // txns onto a 1M-znode tree: 1.54 s -> 0.91 s)
    const { hdr, txn, digest } = parsed;
    yield { hdr, txn, digest, entry: Buffer.from(it.rec.entry), file: it.file.path, offset: it.rec.offset, end: it.rec.end };
  }
}

/** Object-style wrapper over readTxnLog. */
export class TxnLogReader {
  constructor(readonly logDir: string, readonly opts: TxnLogReadOptions = {}) {}
  read(fromZxid: number): Generator<TxnLogEntry> {
    return readTxnLog(this.logDir, fromZxid, this.opts);
  }
  getLastLoggedZxid(): number {
    return getLastLoggedZxid(this.logDir, this.opts);
  }
  truncate(zxid: number): boolean {
    return truncateLog(this.logDir, zxid, this.opts);
  }
}

/** FileTxnLog.getLastLoggedZxid: -1 if there are no log files; else the zxid of the last readable txn. */
export function getLastLoggedZxid(logDir: string, opts: TxnLogReadOptions = {}): number {
  const all = listDataFiles(logDir, LOG_PREFIX).filter((f) => f.zxid >= 0);
  if (all.length === 0) return -1;
  const newest = all[all.length - 1];
  let zxid = newest.zxid;
  try {
    for (const it of iterateRecords([newest], newest, opts)) zxid = it.hdr.zxid;
  } catch (e) {
    (opts.logger ?? silentLogger).warn(`Unexpected exception reading ${newest.path}: ${(e as Error).message}`);
  }
  return zxid;
}

/**
 * Remove every logged txn with a zxid above `zxid` (whole files, and the tail of the file that
 * holds both), durably: the files are fsync'ed and so is the directory. Unlike `truncateLog` (TRUNC:
 * keep up to a zxid the log holds), the log need not contain `zxid` itself. Used before a SNAP is
 * installed: a txn above the leader's snapshot that this log holds was never committed.
 */
export function dropLogAfter(logDir: string, zxid: number, opts: TxnLogReadOptions = {}): number {
  const all = listDataFiles(logDir, LOG_PREFIX).filter((f) => f.zxid >= 0);
  let dropped = 0;
  const log = opts.logger ?? silentLogger;
  for (const f of all) {
    if (f.zxid > zxid) {
      fs.unlinkSync(f.path);
      dropped++;
      continue;
    }
    // the last record at or below zxid ends where this file is cut
    let keepEnd = -1;
    let over = false;
    for (const it of iterateRecords([f], f, opts)) {
      if (it.hdr.zxid > zxid) {
        over = true;
        break;
      }
      keepEnd = it.rec.end;
    }
    if (!over) continue;
    const cutAt = keepEnd < 0 ? FILE_HEADER_SIZE : keepEnd;
    const fd = fs.openSync(f.path, 'r+');
    try {
      fs.ftruncateSync(fd, cutAt);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    log.info(`Dropped the txns above 0x${zxidHex(zxid)} from ${f.path}`);
    dropped++;
  }
  if (dropped > 0) fsyncDirSync(logDir);
  return dropped;
}

function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * FileTxnLog.truncate: keep everything up to and including the first record with zxid >= `zxid`,
 * cut the file right after it and delete all later log files. Returns false if no record >= zxid exists.
 */
export function truncateLog(logDir: string, zxid: number, opts: TxnLogReadOptions = {}): boolean {
  const all = listDataFiles(logDir, LOG_PREFIX).filter((f) => f.zxid >= 0);
  const files = selectLogFiles(all, zxid);
  if (files.length === 0) {
    throw new PersistenceError(
      'No log files found to truncate! This could happen if you still have snapshots from an old setup or log files were deleted accidentally or dataLogDir was changed in zoo.cfg.',
    );
  }
  let hit: { file: NamedFile; end: number } | null = null;
  for (const it of iterateRecords(files, all[all.length - 1], opts)) {
    if (it.hdr.zxid >= zxid) {
      hit = { file: it.file, end: it.rec.end };
      break;
    }
  }
  if (!hit) return false;
  fs.truncateSync(hit.file.path, hit.end);
  const log = opts.logger ?? silentLogger;
  for (const f of all) {
    if (f.zxid > hit.file.zxid) {
      try {
        fs.unlinkSync(f.path);
      } catch (e) {
        log.warn(`Unable to truncate ${f.path}: ${(e as Error).message}`);
      }
    }
  }
  return true;
}
