// The snapshot stream a leader sends after SNAP (LearnerHandler: ZKDatabase.serializeSnapshot,
// then the string "BenWasHere"; Learner.syncWithLeader reads it back with deserializeSnapshot and
// readString("signature")): the tree body of src/persistence/treebody.ts, raw — no file header, no
// checksum — followed by the signature. One codec with snapshot files.
import { DEFAULT_MAX_BUFFER, JuteError, JuteReader, JuteWriter } from '../jute/archive';
import { DataTree } from '../data/datatree';
import { encodeTreeBody, TreeBodyError, TreeBodyParser } from '../persistence/treebody';
import { Logger } from '../util/log';

export const SNAP_SIGNATURE = 'BenWasHere';

const WHERE = 'the SNAP stream from the leader';

/**
 * The stream's size, estimated from the tree (paths and data, as DataTree.approximateDataSize counts
 * them, plus each record's lengths, ACL reference and StatPersisted, plus sessions), with room to
 * spare: 966 MB for a 945 MB stream of 5M znodes.
 */
export function snapStreamSizeEstimate(tree: DataTree): number {
  return tree.approximateDataSize + tree.nodes.size * 80 + tree.sessions.size * 12 + (1 << 20);
}

/**
 * The SNAP stream of `tree` as it is now (synchronously: no txn is applied meanwhile), in one buffer
 * allocated at its estimated size and returned as a view, not copied. One allocation matters at
 * scale: V8 counts Buffer memory as external and answers each large rise of it with a full GC of
 * the whole heap; grown by doubling and copied (or in 1 MB chunks) the 5M-znode stream set off ten
 * or more 0.6 s mark-compacts, 6-13 s in all, long enough for the other followers to give the
 * leader up; at its size it takes 2.5 s with one.
 */
export function serializeSnapStream(tree: DataTree): Buffer {
  const sink = { w: new JuteWriter(snapStreamSizeEstimate(tree)) };
  const body = encodeTreeBody(tree, sink);
  while (!body.next().done);
  sink.w.writeString(SNAP_SIGNATURE);
  return sink.w.finish();
}

export interface SnapStreamOptions {
  /**
   * jute.maxbuffer: strings and buffers longer than it plus its extra size (at least 1024 bytes, by
   * default as much again — BinaryInputArchive's bound) make the stream corrupt.
   */
  maxBuffer?: number;
  /**
   * Handed the body's bytes in order, each once, as soon as they are parsed (the records are
   * whole): with a SnapshotBodyWriter, the learner's snapshot file is written while the stream
   * still arrives. Never the signature or what follows it.
   */
  bodySink?: (bytes: Buffer) => void;
  /**
   * The caller takes the tree digest from the body's bytes itself (a learner does, in a worker
   * thread: snapcheck.ts) and calls `tree.loaded(digest)` once the tree is read; the parser then
   * leaves the records' digests out.
   */
  externalDigest?: boolean;
}

/**
 * Reads a SNAP stream incrementally: `push` the bytes as they arrive; `read()` returns the tree
 * (at `zxid`) once the body and the signature are complete, null while more bytes are needed; a
 * corrupt stream throws (TreeBodyError, or "Missing signature"). Bytes are parsed once, as they
 * come — nothing is re-read from the start. `end()` says no more bytes will come: a stream cut short
 * is an error there. `remainder()` then holds the bytes that followed the stream (the next packets).
 */
export class SnapStreamReader {
  private readonly body: TreeBodyParser;
  private tail: Buffer = Buffer.alloc(0);
  private done = false;
  private readonly bodySink: ((bytes: Buffer) => void) | undefined;
  /** for bodySink: the chunks pushed whose bytes were not all handed on yet, and how far it got */
  private held: Buffer[] = [];
  private heldStart = 0;
  private handed = 0;

  constructor(
    private readonly zxid: number,
    log?: Logger,
    opts: SnapStreamOptions = {},
  ) {
    this.bodySink = opts.bodySink;
    const max = opts.maxBuffer ?? DEFAULT_MAX_BUFFER;
    this.body = new TreeBodyParser(new DataTree(), WHERE, log, 0, max + Math.max(1024, max));
    this.body.digestRecords = !opts.externalDigest;
  }

  get nodeCount(): number {
    return this.body.nodeCount;
  }

  /** stream bytes parsed so far */
  get offset(): number {
    return this.body.offset;
  }

  push(chunk: Buffer): void {
    if (this.done) this.tail = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    else {
      this.body.push(chunk);
      if (this.bodySink && chunk.length) this.held.push(chunk);
    }
  }

  /** Hand bodySink the bytes from where it got to up to stream offset `upto`. */
  private handOn(upto: number): void {
    const sink = this.bodySink;
    if (!sink) return;
    while (this.handed < upto && this.held.length) {
      const c = this.held[0];
      const end = this.heldStart + c.length;
      const stop = Math.min(end, upto);
      sink(c.subarray(this.handed - this.heldStart, stop - this.heldStart));
      this.handed = stop;
      if (stop === end) {
        this.held.shift();
        this.heldStart = end;
      }
    }
  }

  read(): DataTree | null {
    if (this.done) return this.body.tree;
    const state = this.body.parse();
    this.handOn(this.body.offset);
    if (state !== 'done') return null;
    this.held = [];
    const rest = this.body.remainder();
    if (rest.length < 4) return null;
    // the signature's length tells at once whether it can be "BenWasHere"
    const len = rest.readInt32BE(0);
    if (len !== SNAP_SIGNATURE.length) throw new Error(`Missing signature in ${WHERE} at offset ${this.body.offset} (a string of length ${len})`);
    const r = new JuteReader(rest, 0, rest.length, SNAP_SIGNATURE.length);
    let sig: string;
    try {
      sig = r.readStr();
    } catch (e) {
      if (e instanceof JuteError && e.message.startsWith('record truncated')) return null;
      throw e;
    }
    if (sig !== SNAP_SIGNATURE) throw new Error(`Missing signature in ${WHERE} at offset ${this.body.offset} (got ${JSON.stringify(sig)})`);
    this.done = true;
    this.tail = rest.subarray(r.offset);
    this.body.tree.lastProcessedZxid = this.zxid;
    return this.body.tree;
  }

  /** No more bytes will come (the connection closed): the tree, or an error if the stream was cut short. */
  end(): DataTree {
    const tree = this.read();
    if (tree) return tree;
    const at = this.body.offset + this.body.remainder().length;
    const where = this.body.done ? 'before its signature' : this.body.state;
    throw new TreeBodyError(`${WHERE} ended early, ${where}, at offset ${at}`, at);
  }

  /** the bytes after the stream (once `read()` returned the tree) */
  remainder(): Buffer {
    return this.tail;
  }
}

/** Parse a complete SNAP stream from `buf` at `offset`: the tree and the offset after it, or null if incomplete. */
export function parseSnapStream(buf: Buffer, offset: number, zxid: number, opts: SnapStreamOptions = {}): { tree: DataTree; end: number } | null {
  const reader = new SnapStreamReader(zxid, undefined, opts);
  reader.push(buf.subarray(offset));
  const tree = reader.read();
  if (!tree) return null;
  return { tree, end: buf.length - reader.remainder().length };
}
