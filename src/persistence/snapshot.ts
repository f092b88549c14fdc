// ZooKeeper 3.8 snapshot files: <dataDir>/version-2/snapshot.<hex zxid>[.gz|.snappy] (disk-format.md §7).
import * as fs from 'fs';
import * as path from 'path';
import { Progress } from '../util/progress';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import * as zlib from 'zlib';
import { JuteReader, JuteWriter } from '../jute/archive';
import { DataNode, DataTree, parentOf } from '../data/datatree';
import { DIGEST_VERSION, digestEnabled, TreeDigest } from '../data/digest';
import { scanInWorker, WorkerScan } from './snapcheck';
import { adlerInThread, inline } from './adlerthread';
import { SNAPPY_MAGIC, SnappyFramer, snappyStreamDecode } from './snappy';
import { fileHeader } from './txnlog';
import { BodySink, encodeTreeBody, TreeBodyError, TreeBodyParser } from './treebody';

export { clearTree, indexNodeOwner, writeStatPersisted } from './treebody';
import {
  Adler32,
  listDataFiles,
  silentLogger,
  PersistenceError,
  Logger,
  SNAP_MAGIC,
  SNAP_PREFIX,
  SnapCompression,
  snapFileName,
  streamModeOf,
  yieldToEventLoop,
  zxidFromName,
} from './util';

export interface WriteSnapshotOptions {
  compression?: SnapCompression;
  /** fsync the file (and the directory after the rename) before resolving */
  fsync?: boolean;
  /** write `<name>.tmp` then rename (default true) */
  atomic?: boolean;
  /** yield to the event loop after every this many nodes (default: after SLICE_MS of work) */
  yieldEvery?: number;
  logger?: Logger;
}

export interface SnapshotInfo {
  file: string;
  zxid: number;
  nodeCount: number;
  sessionCount: number;
  /** ZxidDigest section if present */
  digest: { zxid: number; version: number; digest: bigint } | null;
  /** 3.9 lastProcessedZxid section if present */
  storedLastProcessedZxid: number | null;
}

/**
 * How the writer shares the one thread with the requests a busy server keeps serving. A snapshot
 * written under load takes as many event-loop turns as it yields, and each turn also carries that
 * turn's requests (a few ms under a saturating load): yielding every 1000 znodes and every 256 KB
 * chunk, a 1M-znode snapshot took ~1000 turns, 4.5 s under bench/scale.js's create load where the
 * encoding itself is ~0.6 s, so snapshots were skipped ("Too busy to snap") and restarts replayed
 * more log. Now it works in slices of SLICE_MS and hands the file stream 1 MB at a time: ~200
 * turns, and requests wait at most a slice (ZooKeeper's snapshot thread takes a core instead).
 * (4 MB chunks wrote slower: 0.6-1.0 s against 0.45-0.5 s for 1M znodes, fresh large buffers.)
 */
const CHUNK = 1024 * 1024;
/** snappy compresses in JS, synchronously: smaller chunks, so that it never holds the thread long */
const SNAPPY_CHUNK = 256 * 1024;
const SLICE_MS = 4;
/** from this many znodes (~1.5 MB and up) a snapshot's checksum is taken in the worker thread */
const ADLER_THREAD_FROM = 10_000;
/** the encoder pauses this often so that the writer can look at the clock */
const NODES_PER_CHECK = 1000;

/** Sum w's bytes from `from` on into `crc`, then write the seal; returns where the seal ends. */
function writeSeal(w: JuteWriter, crc: Adler32, from: number): number {
  // everything written since the last seal goes into the checksum, then the seal itself
  crc.update(w.buf, from, w.offset);
  const end = w.offset;
  w.writeLong(crc.value);
  w.writeString('/');
  return end;
}

/**
 * What follows the tree body in a file, written into `w` (fresh: `crc` holds everything before
 * it): the seal, and with digests on the digest section and its seal.
 */
function writeTrailer(w: JuteWriter, crc: Adler32, tree: DataTree): void {
  const summed = writeSeal(w, crc, 0);
  if (digestEnabled()) {
    // the digest after the last txn applied, read at the end of the fuzzy write
    // (DataTree.serializeZxidDigest): a reader compares it once replay reaches that zxid. Empty
    // (zeros) when no txn was applied since the tree was loaded, as ZooKeeper writes it then.
    const z = tree.lastProcessedZxidDigest;
    w.writeLong(z ? z.zxid : 0);
    w.writeInt(DIGEST_VERSION);
    w.writeBigLong(z ? z.digest : 0n);
    writeSeal(w, crc, summed);
  }
}

/**
 * A snapshot file written from a tree body that arrives as bytes: a learner's SNAP, whose stream
 * from the leader is the body of a snapshot file (snapstream.ts). The bytes go to
 * `snapshot.<zxid>[.gz|.snappy].tmp` as they arrive, while the tree is still being parsed from
 * them, instead of the parsed tree being encoded again once it is whole (1M znodes: the encoding
 * and the write took ~1.1 s after the last byte came). `write` queues each chunk (the caller must
 * not change it afterwards) and adds it to the Adler-32 (of the uncompressed bytes, as in every
 * snapshot); with `compression` the bytes pass through the compressor on their way to the file, as
 * a periodic snapshot's do (ZooKeeper's follower snapshots after a SNAP with the configured method
 * too). Every `syncEvery` bytes written an fdatasync goes in the queue, so the disk takes the file
 * as it comes rather than all of it in the final fsync. `finish` appends what writeSnapshot writes
 * after the body, waits for the writes and fsyncs; `commit` renames the file into place and fsyncs
 * the directory; `abort` removes it. The file is opened in the background: a stalled disk holds
 * the writes, not the event loop.
 */
export class SnapshotBodyWriter {
  readonly path: string;
  private readonly tmp: string;
  /** the file's descriptor, once open */
  private readonly opened: Promise<number>;
  private fd: number | null = null;
  private finished = false;
  private readonly compressor: zlib.Gzip | SnappyFramer | null;
  private crc = new Adler32();
  /** false once the caller takes the checksum of the body (handOffChecksum) */
  private ownChecksum = true;
  /** bytes of the snapshot queued (header included; before compression) */
  private pos = 0;
  /** bytes handed to the kernel */
  private written = 0;
  private synced = 0;
  /** queued, not yet written: all of it goes in the next writev (the queue never lags behind) */
  private pending: Buffer[] = [];
  private running: Promise<void> | null = null;
  private error: unknown = null;

  constructor(
    snapDir: string,
    zxid: number,
    private readonly syncEvery = 64 * 2 ** 20,
    compression: SnapCompression = '',
  ) {
    this.path = path.join(snapDir, snapFileName(zxid, compression));
    this.tmp = this.path + '.tmp';
    this.opened = new Promise<number>((res, rej) => fs.open(this.tmp, 'w', (e, fd) => (e ? rej(e) : res((this.fd = fd)))));
    this.opened.catch((e: unknown) => void (this.error ??= e));
    if (compression === '') this.compressor = null;
    else {
      const c = compressorFor(compression);
      c.on('data', (b: Buffer) => this.queue(b));
      c.on('error', (e: unknown) => void (this.error ??= e));
      this.compressor = c;
    }
    this.write(fileHeader(SNAP_MAGIC, -1n));
  }

  /** the bytes of the snapshot queued so far, header included (before compression) */
  get size(): number {
    return this.pos;
  }

  /** The next bytes of the body. */
  write(b: Buffer): void {
    if (b.length === 0) return;
    if (this.ownChecksum) this.crc.update(b);
    this.append(b);
  }

  /**
   * The Adler-32 of what was written so far (the header); from now on the caller takes the
   * checksum of the body it writes (a learner does, off its main thread) and hands it back with
   * `setChecksum` before `finish`.
   */
  handOffChecksum(): number {
    this.ownChecksum = false;
    return this.crc.value;
  }

  /** The Adler-32 of everything written, taken by the caller after handOffChecksum. */
  setChecksum(value: number): void {
    this.crc = Adler32.resume(value);
  }

  private append(b: Buffer): void {
    if (this.finished) throw new Error(`${this.tmp}: written after it was finished`);
    this.pos += b.length;
    if (this.compressor) this.compressor.write(b);
    else this.queue(b);
  }

  /** Bytes for the file itself (compressed, if it is). */
  private queue(b: Buffer): void {
    this.pending.push(b);
    this.running ??= this.drain();
  }

  /** Write what is pending, one writev at a time, with an fdatasync every syncEvery bytes; the first failure stops it. */
  private async drain(): Promise<void> {
    try {
      const fd = await this.opened;
      while (this.pending.length && this.error === null) {
        const bufs = this.pending;
        this.pending = [];
        let n = 0;
        for (const x of bufs) n += x.length;
        await writevAllAt(fd, bufs, this.written);
        this.written += n;
        if (this.written - this.synced >= this.syncEvery) {
          await new Promise<void>((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
          this.synced = this.written;
        }
      }
    } catch (e) {
      this.error ??= e;
    } finally {
      this.running = null;
    }
  }

  /** The body is complete: append the seal (and digest section) for `tree`, wait for the writes, fsync. */
  async finish(tree: DataTree): Promise<void> {
    const w = new JuteWriter(64);
    writeTrailer(w, this.crc, tree);
    this.append(w.finish());
    this.finished = true;
    const c = this.compressor;
    if (c) {
      // every compressed byte has been queued once the compressor ends
      const ended = new Promise<void>((res) => {
        c.once('end', res);
        c.once('error', () => res());
        c.once('close', res);
      });
      c.end();
      await ended;
    }
    while (this.running) await this.running;
    const fd = await this.opened.catch(() => null);
    if (this.error !== null) throw this.error;
    await new Promise<void>((res, rej) => fs.fsync(fd!, (e) => (e ? rej(e) : res())));
  }

  /** Rename the finished file into place and make the rename durable. */
  async commit(): Promise<string> {
    await this.close();
    await fs.promises.rename(this.tmp, this.path);
    await fsyncDir(path.dirname(this.path));
    return this.path;
  }

  /** Give up: wait for the write in progress, close and remove the file. */
  async abort(): Promise<void> {
    this.error ??= new Error('aborted');
    this.finished = true;
    this.compressor?.destroy();
    while (this.running) await this.running;
    await this.close();
    await fs.promises.unlink(this.tmp).catch(() => {});
  }

  private async close(): Promise<void> {
    await this.opened.catch(() => {});
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) await new Promise<void>((res) => fs.close(fd, () => res()));
  }
}

/** The stream a snapshot's bytes pass through on their way to a `.gz` or `.snappy` file. */
function compressorFor(method: 'gz' | 'snappy'): zlib.Gzip | SnappyFramer {
  return method === 'gz' ? zlib.createGzip() : new SnappyFramer();
}

/** writev `bufs` at `at`, again for what a short write left. */
async function writevAllAt(fd: number, bufs: Buffer[], at: number): Promise<void> {
  while (bufs.length) {
    const n = await new Promise<number>((res, rej) => fs.writev(fd, bufs, at, (e, k) => (e ? rej(e) : res(k))));
    at += n;
    let left = n;
    while (left > 0 && bufs.length) {
      if (bufs[0].length <= left) left -= bufs.shift()!.length;
      else {
        bufs[0] = bufs[0].subarray(left);
        left = 0;
      }
    }
  }
}

/**
 * Serialize `tree` as `snapshot.<hex zxid>` in `snapDir`. Streams in chunks and yields to the event
 * loop, so the tree may keep changing (fuzzy snapshot; restore replays the log from zxid + 1).
 * Returns the final file path.
 */
export async function writeSnapshot(
  tree: DataTree,
  snapDir: string,
  zxid: number,
  opts: WriteSnapshotOptions = {},
): Promise<string> {
  const compression = opts.compression ?? '';
  if (compression !== '' && compression !== 'gz' && compression !== 'snappy') {
    throw new Error(`unknown snapshot compression "${compression as string}"`);
  }
  const log = opts.logger ?? silentLogger;
  const yieldEvery = opts.yieldEvery;
  const finalPath = path.join(snapDir, snapFileName(zxid, compression));
  const atomic = opts.atomic ?? true;
  const writePath = atomic ? finalPath + '.tmp' : finalPath;
  const t0 = Date.now();
  let nodeCount = 0;

  const chunk = compression === 'snappy' ? SNAPPY_CHUNK : CHUNK;

  /**
   * The file's bytes, a chunk at a time. With `reuse` every chunk is a view of the same buffer,
   * written over once the generator is resumed: for a consumer that is done with a chunk when it
   * asks for the next (the write loop below). Otherwise each chunk has a buffer of its own (a
   * stream may hold it). A new 1 MB buffer per chunk is memory V8 counts as external, and each
   * snapshot's worth of it rising and falling set off full collections of the heap.
   */
  async function* generate(reuse: boolean): AsyncGenerator<Buffer> {
    // the body's checksum in the worker thread for all but small trees (adlerthread.ts)
    const sum = tree.nodes.size >= ADLER_THREAD_FROM ? adlerInThread() : inline();
    let w = new JuteWriter(chunk + 4096);
    const take = (): Buffer => {
      const out = w.finish();
      if (reuse) w.reset();
      else w = new JuteWriter(chunk + 4096); // out is a view of a buffer no one writes to again
      return out;
    };
    w.writeRaw(fileHeader(SNAP_MAGIC, -1n));
    // the tree body (treebody.ts); a fuzzy snapshot: the tree may change while we yield
    const sink: BodySink = { w };
    const body = encodeTreeBody(tree, sink, { chunk, nodesPerPause: yieldEvery ?? NODES_PER_CHECK, fuzzyZxid: zxid });
    let sliceStart = performance.now();
    for (let step = body.next(); ; step = body.next()) {
      if (step.done) {
        nodeCount = step.value;
        break;
      }
      if (w.offset >= chunk) {
        // the file stream takes it when it has written the last one: the event loop turns meanwhile
        const out = take();
        await sum.update(out);
        yield out;
        sink.w = w;
        sliceStart = performance.now();
      } else if (yieldEvery !== undefined || performance.now() - sliceStart >= SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
    // the seals need the checksum of everything before them: the rest of the body goes in, and
    // the trailer's few bytes are summed here, going on from the thread's value
    const rest = w.finish();
    await sum.update(rest);
    const trailer = new JuteWriter(256);
    writeTrailer(trailer, Adler32.resume(await sum.value()), tree);
    yield rest;
    yield trailer.finish();
  }

  try {
    if (compression === '') {
      // each chunk written before the next is made, so one buffer serves them all. The encoding
      // starts while the file opens, as the streams below start it: at once, not a turn later.
      const chunks = generate(true);
      const first = chunks.next();
      first.catch(() => {}); // awaited below, unless the open fails
      let fh: fs.promises.FileHandle | null = null;
      try {
        fh = await fs.promises.open(writePath, 'w');
        let at = 0;
        for (let r = await first; !r.done; r = await chunks.next()) {
          await writevAllAt(fh.fd, [r.value], at);
          at += r.value.length;
        }
      } catch (e) {
        await chunks.return(undefined).catch(() => {});
        throw e;
      } finally {
        await fh?.close();
      }
    } else {
      const src = Readable.from(generate(false), { objectMode: false });
      const out = fs.createWriteStream(writePath);
      await pipeline(src, compressorFor(compression), out);
    }
    if (opts.fsync) await fsyncFile(writePath);
    if (atomic) {
      await fs.promises.rename(writePath, finalPath);
      if (opts.fsync) await fsyncDir(snapDir);
    }
  } catch (e) {
    await fs.promises.unlink(writePath).catch(() => {});
    throw e;
  }
  log.info(`Snapshot ${path.basename(finalPath)} written: ${nodeCount} nodes in ${Date.now() - t0} ms`);
  return finalPath;
}

async function fsyncFile(p: string): Promise<void> {
  const fh = await fs.promises.open(p, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await fs.promises.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // not supported on every platform
  }
}


// ---------------------------------------------------------------------------------------------
// Reading

/** SnapStream.isValidSnapshot: cheap pre-check used to pick candidate files. */
export function isValidSnapshot(file: string): boolean {
  const name = path.basename(file);
  if (zxidFromName(name, SNAP_PREFIX) === -1) return false;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const mode = streamModeOf(name);
    if (mode === 'gz') {
      if (size < 2) return false;
      const b = Buffer.alloc(2);
      fs.readSync(fd, b, 0, 2, 0);
      return b[0] === 0x1f && b[1] === 0x8b;
    }
    if (mode === 'snappy') {
      if (size < 8) return false;
      const b = Buffer.alloc(8);
      fs.readSync(fd, b, 0, 8, 0);
      return b.equals(SNAPPY_MAGIC);
    }
    if (size < 10) return false;
    const b = Buffer.alloc(5);
    fs.readSync(fd, b, 0, 5, size - 5);
    return b.readInt32BE(0) === 1 && b[4] === 0x2f;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/** Up to `n` snapshot files passing isValidSnapshot, newest (highest name zxid) first. `.tmp` files are skipped. */
export function findValidSnapshots(snapDir: string, n: number): string[] {
  const out: string[] = [];
  for (const f of listDataFiles(snapDir, SNAP_PREFIX, true)) {
    if (out.length >= n) break;
    if (f.zxid < 0 || f.name.endsWith('.tmp')) continue;
    if (isValidSnapshot(f.path)) out.push(f.path);
  }
  return out;
}

function decodeFile(file: string, raw: Buffer): Buffer {
  const mode = streamModeOf(path.basename(file));
  try {
    if (mode === 'gz') return zlib.gunzipSync(raw);
    if (mode === 'snappy') return snappyStreamDecode(raw);
  } catch (e) {
    throw new PersistenceError(`Cannot decompress snapshot ${file}: ${(e as Error).message}`, file);
  }
  return raw;
}

async function decodeFileAsync(file: string, raw: Buffer): Promise<Buffer> {
  if (streamModeOf(path.basename(file)) === 'gz') {
    try {
      return await new Promise<Buffer>((res, rej) => zlib.gunzip(raw, (err, out) => (err ? rej(err) : res(out))));
    } catch (e) {
      throw new PersistenceError(`Cannot decompress snapshot ${file}: ${(e as Error).message}`, file);
    }
  }
  return decodeFile(file, raw);
}

/** parseSnapshot's request for more of the file's bytes (not an offset: those are >= 0) */
const MORE_BYTES = -1;

/** Parse a decompressed snapshot into `tree`; yields every `every` nodes (for the async variant). */
function* parseSnapshot(
  buf: Buffer,
  file: string,
  tree: DataTree,
  log: Logger,
  every: number,
  /** the caller takes the tree digest from a scan of the same bytes and calls tree.loaded() when asked for the first seal */
  externalDigest = false,
  /**
   * how many of `buf`'s bytes are there yet (a file still being read into it): when the parse
   * needs more it yields MORE_BYTES and goes on once the caller has more (all of them by then, or
   * past the next record)
   */
  filled: () => number = () => buf.length,
): Generator<number | undefined, SnapshotInfo, number | undefined> {
  const zxid = zxidFromName(path.basename(file), SNAP_PREFIX);
  const r = new JuteReader(buf, 0, buf.length, Number.MAX_SAFE_INTEGER);
  const fail = (msg: string): never => {
    throw new PersistenceError(`${msg} in snapshot ${file} at offset ${r.offset}`, file, r.offset);
  };
  try {
    if (buf.length < 16) fail('truncated file header');
    while (filled() < 16) yield MORE_BYTES;
    const magic = r.readInt();
    if (magic !== SNAP_MAGIC) fail(`mismatching magic headers ${magic} != ${SNAP_MAGIC}`);
    r.readInt(); // version
    r.readBigLong(); // dbid
    // the tree body (treebody.ts), parsed in place; pauses every `every` znodes
    const body = new TreeBodyParser(tree, `snapshot ${file}`, log, r.offset);
    body.digestRecords = !externalDigest;
    let pushed = r.offset;
    const pushFilled = (): void => {
      const end = filled();
      if (end <= pushed) return;
      body.push(buf.subarray(pushed, end));
      pushed = end;
    };
    pushFilled();
    const progress = new Progress(log, `loading ${path.basename(file)}`, { unit: 'bytes', total: buf.length });
    for (;;) {
      const final = pushed >= buf.length;
      const st = body.parse(every, final);
      if (st === 'done') break;
      if (st === 'more') {
        if (final) fail('truncated snapshot');
        yield MORE_BYTES;
      } else {
        progress.update(body.offset, { znodes: body.nodeCount });
        yield;
      }
      pushFilled();
    }
    // the seals after the body are read from `buf` directly: all of it is needed now
    while (filled() < buf.length) yield MORE_BYTES;
    r.offset = body.offset;
    const count = body.nodeCount;
    const nSessions = body.sessionCount;
    const seal1At = r.offset;
    const val = r.readLong();
    // the driver answers a yielded offset with the Adler-32 of the file up to it
    if (val !== (yield seal1At)) fail('CRC corruption');
    if (r.readStr() !== '/') fail('Invalid snapshot seal');
    let digest: SnapshotInfo['digest'] = null;
    let stored: number | null = null;
    if (r.remaining() > 0) {
      const dz = r.readLong();
      const dv = r.readInt();
      let dd: bigint;
      if (dv < 2) {
        const s = r.readString();
        dd = s ? BigInt.asIntN(64, BigInt('0x' + s)) : 0n;
      } else dd = r.readBigLong();
      digest = { zxid: dz, version: dv, digest: dd };
      const at = r.offset;
      const sealed = r.readLong();
      if (sealed !== (yield at)) fail('CRC corruption (digest seal)');
      if (r.readStr() !== '/') fail('Invalid snapshot seal');
      if (r.remaining() > 0) {
        stored = r.readLong(); // 3.9 lastProcessedZxid section
        const at3 = r.offset;
        const sealed3 = r.readLong();
        if (sealed3 !== (yield at3)) fail('CRC corruption (lastProcessedZxid seal)');
        r.readStr();
      }
    }
    if (!tree.nodes.has('/')) fail('snapshot has no root node');
    ensureSystemNodes(tree);
    tree.lastProcessedZxid = zxid; // the file name is authoritative
    tree.setSnapshotDigest(digest ? { zxid: digest.zxid, digestVersion: digest.version, digest: digest.digest } : null, zxid);
    return { file, zxid, nodeCount: count, sessionCount: nSessions, digest, storedLastProcessedZxid: stored };
  } catch (e) {
    if (e instanceof PersistenceError) throw e;
    if (e instanceof TreeBodyError) throw new PersistenceError(e.message, file, e.offset);
    throw new PersistenceError(`${(e as Error).message} in snapshot ${file} at offset ${r.offset}`, file, r.offset);
  }
}

function ensureSystemNodes(tree: DataTree): void {
  for (const p of ['/zookeeper', '/zookeeper/quota']) {
    if (tree.nodes.has(p)) continue;
    const parent = tree.nodes.get(parentOf(p));
    if (!parent) continue;
    const n = new DataNode('', -1, 0, 0, 0, 0, 0, 0, 0, 0n, 0);
    tree.nodes.set(p, n);
    parent.addChild(p);
    // the parent's stat is unchanged (no cversion or pzxid moves): only the new znode's digest
    tree.digestIn(p, n);
  }
}

export interface ReadSnapshotOptions {
  logger?: Logger;
  /** load into this tree instead of a new one (its state is replaced) */
  tree?: DataTree;
}

/** Synchronously load a snapshot file (verifying the Adler-32 seals) into a DataTree. */
export function readSnapshotSync(file: string, opts: ReadSnapshotOptions = {}): DataTree {
  return readSnapshotWithInfoSync(file, opts).tree;
}

export function readSnapshotWithInfoSync(file: string, opts: ReadSnapshotOptions = {}): { tree: DataTree; info: SnapshotInfo } {
  const buf = decodeFile(file, fs.readFileSync(file));
  const tree = opts.tree ?? new DataTree();
  const gen = parseSnapshot(buf, file, tree, opts.logger ?? silentLogger, 1 << 30);
  const crc = runningChecksum(buf);
  let step = gen.next();
  while (!step.done) step = gen.next(step.value === undefined ? undefined : crc(step.value));
  return { tree, info: step.value };
}

/** Adler-32 of buf[0, at) for increasing `at`, hashing each byte once (from `done`, whose checksum is `value`). */
function runningChecksum(buf: Buffer, done = 0, value = 1): (at: number) => number {
  const crc = Adler32.resume(value);
  return (at) => {
    crc.update(buf, done, at);
    done = at;
    return crc.value;
  };
}

/** Load a snapshot file, yielding to the event loop every 10 000 nodes. */
export async function readSnapshot(file: string, opts: ReadSnapshotOptions = {}): Promise<DataTree> {
  return (await readSnapshotWithInfo(file, opts)).tree;
}

/**
 * Load a snapshot file, yielding to the event loop every 10 000 nodes. The file's bytes are shared
 * with a worker thread that takes their Adler-32 and the tree digest meanwhile (snapcheck.ts).
 */
export async function readSnapshotWithInfo(file: string, opts: ReadSnapshotOptions = {}): Promise<{ tree: DataTree; info: SnapshotInfo }> {
  const src = await SharedFile.open(file);
  const buf = src.buf;
  const tree = opts.tree ?? new DataTree();
  let scan: WorkerScan | null = null;
  // (a file shorter than its header fails in parseSnapshot before anything is yielded)
  const gen = parseSnapshot(buf, file, tree, opts.logger ?? silentLogger, 10000, true, () => src.filled);
  let crc: ((at: number) => number) | null = null;
  try {
    let step = gen.next();
    while (!step.done) {
      if (step.value === undefined || step.value === MORE_BYTES) {
        if (step.value === MORE_BYTES) await src.more();
        else await yieldToEventLoop();
        // the checksum and digest scan starts on its thread once the whole file is in memory
        if (scan === null && src.complete) scan = scanInWorker(buf, FILE_HEADER_BYTES, digestEnabled());
        step = gen.next();
        continue;
      }
      if (crc === null) {
        // the first seal, right after the body: the scan's checksum and digest are needed now
        scan ??= scanInWorker(buf, FILE_HEADER_BYTES, digestEnabled());
        const s = await scan.result;
        if ('error' in s) throw new PersistenceError(`${s.error} in snapshot ${file} at offset ${s.offset}`, file, s.offset);
        if (s.end !== step.value) throw new PersistenceError(`the tree body ends at offset ${step.value} but its scan ended at ${s.end} in snapshot ${file}`, file, step.value);
        crc = runningChecksum(buf, s.end, s.adler);
        tree.loaded(TreeDigest.of(s.digest));
      }
      step = gen.next(crc(step.value));
    }
    return { tree, info: step.value };
  } finally {
    scan?.cancel();
    await src.close();
  }
}

/** The snapshot header: magic, version, dbid. */
const FILE_HEADER_BYTES = 16;

/** The piece size of a snapshot file's read (tests make it small, to cut records across pieces). */
export const snapshotReadTuning = { pieceBytes: 1 << 24 };

/**
 * A snapshot file's bytes (decompressed) in a SharedArrayBuffer, for the main thread and the scan's
 * worker to read. An uncompressed file is read in 16 MB pieces while the tree is parsed from what
 * is there (at 1M znodes the read, ~120 ms, overlaps the parse instead of preceding it); a
 * compressed one is decompressed whole first.
 */
class SharedFile {
  /** bytes of `buf` read so far */
  filled = 0;
  private failure: unknown = null;
  private wake: (() => void) | null = null;
  private reading: Promise<void> = Promise.resolve();

  private constructor(readonly buf: Buffer) {}

  get complete(): boolean {
    return this.filled >= this.buf.length;
  }

  static async open(file: string): Promise<SharedFile> {
    if (streamModeOf(path.basename(file)) !== '') {
      const plain = await decodeFileAsync(file, await fs.promises.readFile(file));
      const f = new SharedFile(Buffer.from(new SharedArrayBuffer(plain.length)));
      plain.copy(f.buf);
      f.filled = plain.length;
      return f;
    }
    const fh = await fs.promises.open(file, 'r');
    let size: number;
    try {
      size = (await fh.stat()).size;
    } catch (e) {
      await fh.close();
      throw e;
    }
    const f = new SharedFile(Buffer.from(new SharedArrayBuffer(size)));
    f.reading = f.readAll(fh, file);
    // the header and the first records before the parse begins
    if (size > 0) await f.more();
    return f;
  }

  private async readAll(fh: fs.promises.FileHandle, file: string): Promise<void> {
    try {
      const size = this.buf.length;
      while (this.filled < size) {
        const { bytesRead } = await fh.read(this.buf, this.filled, Math.min(size - this.filled, snapshotReadTuning.pieceBytes), this.filled);
        if (bytesRead === 0) throw new PersistenceError(`snapshot ${file} shrank while read: ${size} bytes expected, ${this.filled} read`, file, this.filled);
        this.filled += bytesRead;
        this.notify();
      }
    } catch (e) {
      this.failure = e;
      this.notify();
    } finally {
      await fh.close();
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Resolves once more bytes were read than now (or all were); rejects if the read failed. */
  async more(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.complete) return;
    await new Promise<void>((resolve) => {
      const prev = this.wake;
      this.wake = () => {
        prev?.();
        resolve();
      };
    });
    if (this.failure) throw this.failure;
  }

  /** Waits for the read to end (the file is closed). */
  close(): Promise<void> {
    return this.reading;
  }
}
