// The DataTree as ZooKeeper serializes it (SerializeUtils.serializeSnapshot + DataTree.serialize):
// the sessions (count, then id and timeout each), the ACL cache (count, then reference and ACL list
// each), then every znode, each after its parent — path (the root as ""), data, ACL reference,
// StatPersisted — ended by the path "/". ZooKeeper writes the znodes depth first; its reader (and
// ours) needs only each parent before its children, and we write them in the DataTree map's order.
// Snapshot files wrap it in a file header and Adler-32 seals (snapshot.ts); the SNAP sync stream sends it raw, followed by the signature "BenWasHere" (quorum/snapstream.ts).
// This file is the one encoder and the one parser of that body for both.
import { JuteError, JuteReader, JuteWriter } from '../jute/archive';
import { ACL, readACLs, writeACLs } from '../jute/records';
import { AclCache, DataNode, DataTree } from '../data/datatree';
import { CONTAINER_EPHEMERAL_OWNER, ownerTtl } from '../data/constants';
import { Logger, silentLogger } from './util';
import { nodeDigest, recordDigest, TreeDigest } from '../data/digest';

export function writeStatPersisted(w: JuteWriter, n: DataNode): void {
  w.writeLong(n.czxid);
  w.writeLong(n.mzxid);
  w.writeLong(n.ctime);
  w.writeLong(n.mtime);
  w.writeInt(n.version);
  w.writeInt(n.cversion);
  w.writeInt(n.aversion);
  w.writeBigLong(n.ephemeralOwner);
  w.writeLong(n.pzxid);
}

/** Where the encoder writes; the caller may swap `w` for a fresh writer whenever the encoder pauses. */
export interface BodySink {
  w: JuteWriter;
}

export interface EncodeOptions {
  /** pause (yield) once the writer holds this many bytes */
  chunk?: number;
  /** also pause after this many znodes (the caller yields to the event loop there) */
  nodesPerPause?: number;
  /**
   * a fuzzy snapshot of a tree that keeps changing while the caller yields (ZooKeeper's snapshots):
   * the snapshot's zxid. Znodes created during the walk are left out (log replay creates them
   * again, and their ACL lists may be missing from the map written first); znodes deleted
   * meanwhile are skipped.
   */
  fuzzyZxid?: number;
}

/**
 * Write the tree body into `sink.w`. A generator: it pauses (yields) when the writer holds
 * `chunk` bytes or after `nodesPerPause` znodes, so the caller can take the bytes or yield to the
 * event loop; it returns the number of znodes written. Sessions and the ACL map are copied first.
 */
export function* encodeTreeBody(tree: DataTree, sink: BodySink, opts: EncodeOptions = {}): Generator<void, number, void> {
  const chunk = opts.chunk ?? Infinity;
  const perPause = opts.nodesPerPause ?? Infinity;
  const sessions = [...tree.sessions];
  sink.w.writeInt(sessions.length);
  for (const [id, to] of sessions) {
    sink.w.writeBigLong(id);
    sink.w.writeInt(to);
  }
  const acls = new Map<number, ACL[]>(tree.acls.byRef);
  sink.w.writeInt(acls.size);
  for (const [ref, list] of acls) {
    sink.w.writeLong(ref);
    writeACLs(sink.w, list);
    if (sink.w.offset >= chunk) yield;
  }
  // Left out: znodes created after the walk started, whose czxid is above every czxid then (a
  // node created through a txn gets the txn's zxid, and zxids only grow). Not simply those above
  // the snapshot's zxid: a tree loaded from a fuzzy snapshot holds znodes newer than its name until
  // the log is replayed, and they must not be lost if it is written before that.
  const fuzzy = opts.fuzzyZxid === undefined ? undefined : Math.max(opts.fuzzyZxid, tree.maxCzxid);
  let count = 0;
  let sincePause = 0;
  // The DataTree's map holds every znode after its parent (a znode is created, or read from a
  // snapshot, only once its parent exists, and a parent cannot go while it has children), so its
  // insertion order is an order ZooKeeper's reader accepts (it needs each parent first). Walking it
  // builds and hashes no child path again as a depth-first walk does: a 1M-znode write took
  // 0.85-1.4 s instead of 2.5-3.5 s.
  const walk = tree.nodes.walk();
  try {
    while (walk.next()) {
      const p = walk.key;
      const n = walk.value;
      // a fuzzy snapshot leaves out what was created during the walk (log replay creates it again),
      // so that a znode deleted and created again meanwhile, appended to the map, is not written twice
      if (fuzzy !== undefined && n.czxid > fuzzy) continue;
      const w = sink.w;
      w.writeString(p === '/' ? '' : p);
      w.writeLatin1(n.raw);
      w.writeLong(n.aclRef);
      writeStatPersisted(w, n);
      count++;
      if (w.offset >= chunk || ++sincePause >= perPause) {
        sincePause = 0;
        yield;
      }
    }
  } finally {
    walk.close();
  }
  sink.w.writeString('/');
  return count;
}

/** Replace the tree's state by an empty one (no nodes, no sessions, fresh ACL cache). */
export function clearTree(tree: DataTree): void {
  tree.nodes.clear();
  tree.ephemerals.clear();
  tree.containers.clear();
  tree.ttls.clear();
  tree.sessions.clear();
  (tree as unknown as { acls: AclCache }).acls = new AclCache();
  tree.approximateDataSize = 0;
  tree.maxCzxid = 0;
}

/** Register `path` in the ephemerals/containers/ttls indexes exactly as DataTree.createNode does. */
export function indexNodeOwner(tree: DataTree, p: string, owner: bigint): void {
  if (owner === 0n) return; // most znodes: no BigInt arithmetic for them
  if (owner === CONTAINER_EPHEMERAL_OWNER) tree.containers.add(p);
  else if (ownerTtl(owner) >= 0) tree.ttls.add(p);
  else {
    let s = tree.ephemerals.get(owner);
    if (!s) tree.ephemerals.set(owner, (s = new Set()));
    s.add(p);
  }
}

export type ParseState = 'done' | 'more' | 'paused';

/** The smallest ACL on the wire: perms, then the scheme and id strings' lengths. */
const MIN_ACL_BYTES = 12;

/** A malformed tree body: the message names where (`where` of the parser) and the stream offset. */
export class TreeBodyError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const EMPTY = Buffer.alloc(0);

/** A znode record's bytes after its data: the ACL reference (8) and StatPersisted (60). */
const RECORD_TAIL_BYTES = 68;

/**
 * Whether buf[at, end) holds a whole znode record (or the end marker "/"), from its two length
 * fields alone. A length the parse will reject (negative path, past `maxLen`) counts as whole: the
 * parse reports it.
 */
function wholeNodeRecord(buf: Buffer, at: number, end: number, maxLen: number): boolean {
  if (end - at < 4) return false;
  const pathLen = buf.readInt32BE(at);
  if (pathLen < 0 || pathLen > maxLen) return true;
  let p = at + 4 + pathLen;
  if (p > end) return false;
  if (pathLen === 1 && buf[at + 4] === 0x2f) return true; // "/": nothing follows it
  if (end - p < 4) return false;
  const dataLen = buf.readInt32BE(p);
  if (dataLen > maxLen) return true;
  p += 4 + Math.max(dataLen, 0);
  return end - p >= RECORD_TAIL_BYTES;
}

/**
 * An incremental parser of the tree body into a DataTree: feed it bytes as they come (`push`),
 * call `parse()`; it returns 'more' when it needs bytes, 'paused' after `maxNodes` znodes, 'done'
 * at the end of the body. Each record is parsed once: a record cut off by the end of the bytes so
 * far is parsed again, whole, when more arrive (so the work is linear in the body's size, however
 * the bytes are chunked). Errors (a znode whose parent is missing, a negative count, bad jute)
 * throw a TreeBodyError naming `where` and the offset.
 *
 * A stream cannot tell a record cut short from a corrupt length that points past the bytes so far,
 * so lengths are bounded the way ZooKeeper's BinaryInputArchive bounds them (`maxLen`: jute.maxbuffer
 * plus its extra size): a string or buffer longer than that, or an ACL list whose entries could not
 * fit in it, is an error at once instead of a wait for bytes that never come. Files (parsed with
 * `final`) need no bound: there a cut record is already an error.
 */
export class TreeBodyParser {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** stream offset of buf[0] */
  private base: number;
  private phase: 'sessionCount' | 'sessions' | 'aclCount' | 'acls' | 'nodes' | 'done' = 'sessionCount';
  private left = 0;
  nodeCount = 0;
  sessionCount = 0;
  // siblings come one after another (depth-first order): the last parent looked up
  private lastParentPath = '';
  private lastParent: DataNode | undefined;
  // ACL reference counts, added per run of equal refs (most znodes share one ACL)
  private runRef = -1;
  private runCount = 0;
  private runKnown = true;
  /** the sum of the znodes' digests, taken from their records as they are parsed */
  private readonly digest = new TreeDigest();
  /**
   * false: the caller takes the tree digest some other way (a snapshot file's is taken from the
   * same bytes in a worker thread, snapcheck.ts) and calls `tree.loaded(digest)` itself once the
   * parse is done; the parser then leaves the records' digests out.
   */
  digestRecords = true;

  constructor(
    readonly tree: DataTree,
    private readonly where: string,
    private readonly log: Logger = silentLogger,
    /** stream offset of the first byte pushed (for messages and `offset`) */
    startOffset = 0,
    /** the longest string or buffer accepted (BinaryInputArchive's maxBuffer + extraMaxBuffer) */
    private readonly maxLen = Number.MAX_SAFE_INTEGER,
  ) {
    this.base = startOffset;
    this.maxAcls = Math.floor(maxLen / MIN_ACL_BYTES);
    clearTree(tree);
  }

  private readonly maxAcls: number;

  /** where the parser is, for messages about a stream that ended early */
  get state(): string {
    return this.phase === 'nodes' ? `after ${this.nodeCount} znodes` : `in the ${this.phase === 'sessionCount' || this.phase === 'sessions' ? 'sessions' : 'ACL cache'}`;
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** stream offset of the next byte to parse (after 'done': of the first byte after the body) */
  get offset(): number {
    return this.base + this.pos;
  }

  /** The next bytes of the stream (the parser keeps a reference to `chunk`; do not reuse it). */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.pos >= this.buf.length) {
      this.base += this.buf.length;
      this.buf = chunk;
    } else if (chunk.buffer === this.buf.buffer && chunk.byteOffset === this.buf.byteOffset + this.buf.length) {
      // the bytes right after these in the same memory (a file read into one buffer piece by
      // piece): one view over the rest and them, nothing copied
      this.base += this.pos;
      this.buf = Buffer.from(chunk.buffer, this.buf.byteOffset + this.pos, this.buf.length - this.pos + chunk.length);
    } else {
      const rest = this.buf.subarray(this.pos);
      this.base += this.pos;
      this.buf = Buffer.concat([rest, chunk]);
    }
    this.pos = 0;
  }

  /** The bytes pushed but not parsed (after 'done': whatever followed the body). */
  remainder(): Buffer {
    return this.buf.subarray(this.pos);
  }

  /**
   * Parse what is buffered. `final`: no more bytes will come (a file), so a record cut short is an
   * error rather than a reason to wait.
   */
  parse(maxNodes = Infinity, final = false): ParseState {
    const r = new JuteReader(this.buf, this.pos, this.buf.length, this.maxLen);
    let nodes = 0;
    for (;;) {
      const at = r.offset;
      try {
        switch (this.phase) {
          case 'done':
            return 'done';
          case 'sessionCount':
            this.left = r.readInt();
            if (this.left < 0) this.fail(`bad session count ${this.left}`, at);
            this.sessionCount = this.left;
            this.phase = 'sessions';
            break;
          case 'sessions': {
            if (this.left === 0) {
              this.phase = 'aclCount';
              break;
            }
            const id = r.readBigLong();
            this.tree.sessions.set(id, r.readInt());
            this.left--;
            break;
          }
          case 'aclCount':
            this.left = r.readInt();
            if (this.left < 0) this.fail(`bad ACL map size ${this.left}`, at);
            this.phase = 'acls';
            break;
          case 'acls': {
            if (this.left === 0) {
              this.phase = 'nodes';
              break;
            }
            const ref = r.readLong();
            const n = r.buf.length - r.offset >= 4 ? r.buf.readInt32BE(r.offset) : 0; // the list's length, peeked
            if (n < -1 || n > this.maxAcls) this.fail(`bad ACL list length ${n} for reference ${ref}`, at);
            this.tree.acls.put(ref, readACLs(r) ?? []);
            this.left--;
            break;
          }
          case 'nodes':
            if (nodes >= maxNodes) return 'paused';
            // a stream's record cut by the end of a chunk: wait without the throw and catch below
            // (one per socket read of a SNAP, ~3,000 at 1M znodes: ~0.1 s of Error construction)
            if (!final && !wholeNodeRecord(this.buf, at, this.buf.length, this.maxLen)) return 'more';
            if (!this.node(r, at)) {
              this.finish();
              this.phase = 'done';
            } else nodes++;
            break;
        }
      } catch (e) {
        // a record cut off by the end of the bytes so far: parse it again, whole, when more come
        // (a vector whose count exceeds the bytes so far is one too)
        if (!final && e instanceof JuteError && /^(record truncated|Unreasonable vector length = \d)/.test(e.message)) return 'more';
        if (e instanceof JuteError) this.fail(e.message, at);
        throw e;
      }
      this.pos = r.offset;
    }
  }

  private fail(msg: string, at: number): never {
    throw new TreeBodyError(`${msg} in ${this.where} at offset ${this.base + at}`, this.base + at);
  }

  /** One znode record; false at the end marker "/". */
  private node(r: JuteReader, at: number): boolean {
    const p = r.readStr();
    if (p === '/') return false;
    if (p !== '' && p.charCodeAt(0) !== 0x2f) this.fail(`Invalid Datatree, bad path ${JSON.stringify(p.slice(0, 80))}`, at);
    const pathEnd = r.offset;
    const data = r.readLatin1();
    const dataEnd = r.offset;
    const aclRef = r.readLong();
    const statStart = r.offset;
    const node = new DataNode(
      data,
      aclRef,
      r.readLong(), // czxid
      r.readLong(), // mzxid
      r.readLong(), // ctime
      r.readLong(), // mtime
      r.readInt(), // version
      r.readInt(), // cversion
      r.readInt(), // aversion
      r.readOwner(), // ephemeralOwner
      r.readLong(), // pzxid
    );
    const tree = this.tree;
    const key = p === '' ? '/' : p;
    if (p !== '') {
      const cut = p.lastIndexOf('/');
      let parent: DataNode | undefined;
      const lp = this.lastParentPath;
      if (this.lastParent !== undefined && cut === (lp === '/' ? 0 : lp.length) && p.startsWith(lp)) parent = this.lastParent;
      else {
        const parentPath = cut <= 0 ? '/' : p.substring(0, cut);
        parent = tree.nodes.get(parentPath);
        if (!parent) this.fail(`Invalid Datatree, unable to find parent ${parentPath} of path ${p}`, at);
        this.lastParentPath = parentPath;
        this.lastParent = parent;
      }
      // the key string itself: the children list shares it; a path seen twice (ZooKeeper's
      // HashSet of children keeps it once) replaces the znode and is not listed again
      const size = tree.nodes.size;
      tree.nodes.set(key, node);
      if (tree.nodes.size !== size) parent.addChild(key);
    } else tree.nodes.set(key, node);
    if (this.digestRecords) {
      // the znode's digest from the record's bytes (the record is whole here: its stat was read)
      const d = recordDigest(r.buf, at + 4, pathEnd, data === null ? dataEnd : dataEnd - data.length, dataEnd, statStart);
      if (d >= 0) {
        node.keepDigest(d);
        this.digest.add(d);
      } else this.digest.add(node.digest(key));
    }
    if (node.czxid > tree.maxCzxid) tree.maxCzxid = node.czxid;
    tree.approximateDataSize += key.length + (data ? data.length : 0);
    if (aclRef !== this.runRef) {
      if (this.runCount > 0) tree.acls.addUsage(this.runRef, this.runCount);
      this.runRef = aclRef;
      this.runCount = 0;
      this.runKnown = aclRef === -1 || tree.acls.byRef.has(aclRef);
    }
    this.runCount++;
    if (!this.runKnown) this.log.warn(`Ignoring acl ${aclRef} of ${key} as it does not exist in the cache (${this.where})`);
    indexNodeOwner(tree, key, node.ephemeralOwner);
    this.nodeCount++;
    return true;
  }

  private finish(): void {
    if (this.runCount > 0) this.tree.acls.addUsage(this.runRef, this.runCount);
    this.runCount = 0;
    this.tree.acls.purgeUnused();
    if (this.digestRecords) this.tree.loaded(this.digest);
  }
}
