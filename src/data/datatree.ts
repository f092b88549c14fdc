// The in-memory DataTree: znodes by full path, ephemerals by session, the ACL cache, and the watch
// tables. `processTxn` is the only way state changes; it is deterministic given the txn.
import { JuteWriter } from '../jute/archive';
import { ACL, Stat, TxnHeader } from '../jute/records';
import { CONTAINER_EPHEMERAL_OWNER, Err, EventType, OpCode, ownerTtl } from './constants';
import { Txn } from './txn';
import { Watcher, WatchManager, WatchMode, WatchModeT } from './watches';
import { DIGEST_LOG_INTERVAL, DIGEST_LOG_LIMIT, DIGEST_VERSION, digestEnabled, nodeDigest, TreeDigest, ZxidDigest } from './digest';
import { serverMetrics } from '../util/metrics';
import { LIMIT_NODE, QUOTA_ROOT, STAT_NODE, StatsTrack, statPath, topNamespace, trimQuotaPath } from './quotas';
import { PathMap } from './pathmap';

export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
export const READ_ACL_UNSAFE: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

/** Interns ACL lists and gives each a long reference, as ReferenceCountedACLCache does. */
export class AclCache {
  private readonly byKey = new Map<string, number>();
  readonly byRef = new Map<number, ACL[]>();
  private readonly counts = new Map<number, number>();
  private next = 1;

  static key(acl: readonly ACL[]): string {
    return acl.map((a) => `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}`).join('\u0001');
  }

  /** The list last given to ref() and its reference: creates mostly repeat one ACL. */
  private lastAcl: readonly ACL[] | null = null;
  private lastRef = 0;

  /** Reference for `acl`, counting one more user. */
  ref(acl: ACL[]): number {
    if (this.lastAcl !== null && sameAcl(acl, this.lastAcl)) {
      // the same entries as last time (and still cached: release forgets lastAcl): no key string
      const r = this.lastRef;
      this.counts.set(r, this.counts.get(r)! + 1);
      return r;
    }
    const k = AclCache.key(acl);
    let r = this.byKey.get(k);
    if (r === undefined) {
      r = this.next++;
      this.byKey.set(k, r);
      this.byRef.set(r, acl);
      this.counts.set(r, 0);
    }
    this.counts.set(r, this.counts.get(r)! + 1);
    this.lastAcl = this.byRef.get(r)!;
    this.lastRef = r;
    return r;
  }

  get(ref: number): ACL[] {
    if (ref === -1) return OPEN_ACL_UNSAFE;
    return this.byRef.get(ref) ?? OPEN_ACL_UNSAFE;
  }

  release(ref: number): void {
    if (ref === -1) return;
    const c = (this.counts.get(ref) ?? 0) - 1;
    if (c <= 0) {
      if (ref === this.lastRef) this.lastAcl = null;
      const acl = this.byRef.get(ref);
      if (acl) this.byKey.delete(AclCache.key(acl));
      this.byRef.delete(ref);
      this.counts.delete(ref);
    } else this.counts.set(ref, c);
  }

  /** Load an entry as read from a snapshot. */
  put(ref: number, acl: ACL[]): void {
    if (ref === this.lastRef) this.lastAcl = null;
    this.byKey.set(AclCache.key(acl), ref);
    this.byRef.set(ref, acl);
    if (!this.counts.has(ref)) this.counts.set(ref, 0);
    if (ref >= this.next) this.next = ref + 1;
  }

  /** Count a user of an existing ref (snapshot load). */
  addUsage(ref: number, n = 1): void {
    if (ref === -1) return;
    this.counts.set(ref, (this.counts.get(ref) ?? 0) + n);
  }

  /** Drop entries no node uses (after a snapshot load). */
  purgeUnused(): void {
    for (const [ref, c] of this.counts) if (c <= 0) this.release(ref);
  }
}

/** The same entries in the same order (what AclCache.key tells apart). */
function sameAcl(a: readonly ACL[], b: readonly ACL[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.perms !== y.perms || x.id.scheme !== y.id.scheme || x.id.id !== y.id.id) return false;
  }
  return true;
}

const NO_CHILDREN: readonly string[] = [];

/** Bytes as a one-byte (latin1) string: ~24 bytes of overhead instead of a Buffer's ~100 + pool slot. */
export function bytesToLatin1(b: Buffer | null): string | null {
  return b === null ? null : b.length === 0 ? '' : b.toString('latin1');
}

/** What only parents, ephemerals and znodes whose ACL changed need (see DataNode.ext). */
interface NodeExt {
  pzxid: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  /**
   * The children's full paths: the very strings that key them in DataTree.nodes, so a child costs
   * its entry only, and walks need not build paths again. An array while children are only added
   * (a snapshot load, a parent of sequential znodes): a push, 4 bytes per child, no hashing. The
   * first removal turns it into a Set, which stays (removal by path in O(1)). Adding never checks
   * for a duplicate: the callers add a child only when DataTree.nodes did not have its path.
   * Restart at 1M znodes under 10 parents: ~0.2-0.3 s faster than Sets (each path is hashed once,
   * by the path Map, instead of also by its parent's Set).
   */
  kids: Set<string> | string[] | null;
}

/**
 * czxid and ctime are kept in three small integers (V8 Smis, stored in the object's own fields):
 * each one's low 32 bits as an int32, and both high parts packed into one number, `czH * 4096 +
 * ctH + 2048`. A number field holding a value past the Smi range (a zxid from epoch 1 on, any time
 * in ms) points to a 16-byte HeapNumber box of its own; this costs 24 bytes where two fields and
 * their boxes took 32 (standalone, epoch 0) to 48 (1M znodes: 8 to 24 MB of heap). The packed
 * number is a Smi while the epoch is below 2^19 (larger, it is boxed, still exact); a ctime whose
 * high part is outside ±2048 (before 1700 or after 2248) takes the two parts in an array.
 */
function high32(v: number): number {
  return (v - ((v | 0) >>> 0)) / 4294967296;
}
function packHigh(czxid: number, ctime: number): number | [number, number] {
  const cz = high32(czxid);
  const ct = high32(ctime);
  if (ct < -2048 || ct >= 2048) return [cz, ct];
  const h = cz * 4096 + ct + 2048;
  return h === (h | 0) ? h | 0 : h; // `| 0` makes it a Smi for V8
}

export class DataNode {
  /** the data's bytes, one char per byte (see bytesToLatin1); null = no data (see `raw`) */
  private r: string | null;
  /**
   * The znode's digest (nodeDigest) as an int32, from when it was last computed until the znode
   * changes (every setter clears it), or undefined. A change takes the digest of the znode out of
   * the tree's and puts the new one in, and prep takes it too for the precalculated digest: without
   * it a setData computed four CRCs over path, data and stat, a fifth of a write's CPU (ZooKeeper's
   * DataNode keeps its digest the same way). It costs one field (8 bytes) per znode; an int32
   * is a small integer in V8 (no box).
   */
  private dg: number | undefined = undefined;
  /**
   * Leaves never changed by a child, an ACL change or an owner (most znodes) keep no `ext`:
   * pzxid = czxid, cversion = aversion = 0, no owner, no children. That saves ~50 bytes per leaf
   * (fields and boxed doubles); the others pay ~80 bytes for the extra object.
   */
  private ext: NodeExt | null = null;
  /**
   * mzxid and mtime, or undefined while they equal czxid and ctime (a znode never set: most of
   * them). A number field points to a 16-byte HeapNumber box of its own in V8 (times, and zxids
   * from epoch 1 on, are past the small-integer range), so a never-set znode saves up to two (1M
   * znodes: up to 32 MB of heap).
   */
  private mz: number | undefined;
  private mt: number | undefined;
  /** czxid and ctime: their high parts packed, and their low 32 bits (see packHigh) */
  private readonly hi: number | [number, number];
  private readonly czL: number;
  private readonly ctL: number;
  private v: number;
  constructor(
    data: Buffer | string | null,
    public aclRef: number,
    czxid: number,
    mzxid: number,
    ctime: number,
    mtime: number,
    version: number,
    cversion: number,
    aversion: number,
    ephemeralOwner: bigint,
    pzxid: number,
  ) {
    this.hi = packHigh(czxid, ctime);
    this.czL = czxid | 0;
    this.ctL = ctime | 0;
    this.mz = mzxid === czxid ? undefined : mzxid;
    this.mt = mtime === ctime ? undefined : mtime;
    this.v = version;
    this.r = typeof data === 'string' ? data : bytesToLatin1(data);
    if (cversion !== 0 || aversion !== 0 || ephemeralOwner !== 0n || pzxid !== czxid) {
      this.ext = { pzxid, cversion, aversion, ephemeralOwner, kids: null };
    }
  }

  private x(): NodeExt {
    return (this.ext ??= { pzxid: this.czxid, cversion: 0, aversion: 0, ephemeralOwner: 0n, kids: null });
  }

  get czxid(): number {
    const h = this.hi;
    return (typeof h === 'number' ? Math.floor(h / 4096) : h[0]) * 4294967296 + (this.czL >>> 0);
  }
  get ctime(): number {
    const h = this.hi;
    return (typeof h === 'number' ? h - Math.floor(h / 4096) * 4096 - 2048 : h[1]) * 4294967296 + (this.ctL >>> 0);
  }

  get mzxid(): number {
    return this.mz === undefined ? this.czxid : this.mz;
  }
  set mzxid(v: number) {
    this.mz = v === this.czxid ? undefined : v;
    this.dg = undefined;
  }
  get mtime(): number {
    return this.mt === undefined ? this.ctime : this.mt;
  }
  set mtime(v: number) {
    this.mt = v === this.ctime ? undefined : v;
    this.dg = undefined;
  }

  get pzxid(): number {
    return this.ext === null ? this.czxid : this.ext.pzxid;
  }
  set pzxid(v: number) {
    if (this.ext !== null || v !== this.czxid) this.x().pzxid = v;
    this.dg = undefined;
  }
  get cversion(): number {
    return this.ext === null ? 0 : this.ext.cversion;
  }
  set cversion(v: number) {
    if (this.ext !== null || v !== 0) this.x().cversion = v;
    this.dg = undefined;
  }
  get aversion(): number {
    return this.ext === null ? 0 : this.ext.aversion;
  }
  set aversion(v: number) {
    if (this.ext !== null || v !== 0) this.x().aversion = v;
    this.dg = undefined;
  }
  get ephemeralOwner(): bigint {
    return this.ext === null ? 0n : this.ext.ephemeralOwner;
  }
  set ephemeralOwner(v: bigint) {
    if (this.ext !== null || v !== 0n) this.x().ephemeralOwner = v;
    this.dg = undefined;
  }

  get version(): number {
    return this.v;
  }
  set version(v: number) {
    this.v = v;
    this.dg = undefined;
  }

  get raw(): string | null {
    return this.r;
  }
  set raw(r: string | null) {
    this.r = r;
    this.dg = undefined;
  }

  /** nodeDigest(path, this), kept until the znode changes (`dg`); `path` is this znode's. */
  digest(path: string): number {
    const d = this.dg;
    if (d !== undefined && digestEnabled()) return d >>> 0;
    const n = nodeDigest(path, this);
    if (digestEnabled()) this.dg = n | 0;
    return n;
  }

  /** A digest computed elsewhere (from the znode's snapshot record) for `digest` to keep. */
  keepDigest(d: number): void {
    this.dg = d | 0;
  }

  /** A copy of the data as a Buffer (writers use `raw` with JuteWriter.writeLatin1 instead). */
  get data(): Buffer | null {
    return this.raw === null ? null : Buffer.from(this.raw, 'latin1');
  }

  set data(b: Buffer | null) {
    this.raw = bytesToLatin1(b);
  }

  get dataLength(): number {
    return this.raw === null ? 0 : this.raw.length;
  }

  /** The children's full paths (in the order they were added). */
  get childPaths(): Iterable<string> {
    return this.ext?.kids ?? NO_CHILDREN;
  }

  get childCount(): number {
    const k = this.ext?.kids;
    return k == null ? 0 : k instanceof Set ? k.size : k.length;
  }

  /** The children's names (the last path component), made on demand. */
  *childNames(): IterableIterator<string> {
    for (const p of this.childPaths) yield p.substring(p.lastIndexOf('/') + 1);
  }

  hasChild(path: string): boolean {
    const k = this.ext?.kids;
    return k == null ? false : k instanceof Set ? k.has(path) : k.includes(path);
  }

  /**
   * `path`: the child's full path (pass the string that keys it in DataTree.nodes); the caller
   * knows it is not a child yet.
   */
  addChild(path: string): void {
    const e = this.x();
    if (e.kids === null) e.kids = [path];
    else if (e.kids instanceof Set) e.kids.add(path);
    else e.kids.push(path);
  }

  removeChild(path: string): void {
    const e = this.ext;
    if (!e || !e.kids) return;
    const kids = e.kids instanceof Set ? e.kids : (e.kids = new Set(e.kids));
    kids.delete(path);
    if (kids.size === 0) e.kids = null;
  }

  /** The owner a Stat shows: only a normal ephemeral's (containers and TTL znodes show 0). */
  private get visibleOwner(): bigint {
    const owner = this.ephemeralOwner;
    return owner === CONTAINER_EPHEMERAL_OWNER || ownerTtl(owner) >= 0 ? 0n : owner;
  }

  /**
   * What writeStat(w, this.stat()) writes, without the Stat object and its boxed numbers: reads and
   * write replies answer with this.
   */
  writeStat(w: JuteWriter): void {
    const n = this.childCount;
    w.writeLong(this.czxid);
    w.writeLong(this.mzxid);
    w.writeLong(this.ctime);
    w.writeLong(this.mtime);
    w.writeInt(this.version);
    w.writeInt(this.cversion * 2 - n);
    w.writeInt(this.aversion);
    w.writeBigLong(this.visibleOwner);
    w.writeInt(this.dataLength);
    w.writeInt(n);
    w.writeLong(this.pzxid);
  }

  /** The client-visible Stat (ZooKeeper's DataNode.copyStat). */
  stat(): Stat {
    const n = this.childCount;
    return {
      czxid: this.czxid,
      mzxid: this.mzxid,
      ctime: this.ctime,
      mtime: this.mtime,
      version: this.version,
      cversion: this.cversion * 2 - n,
      aversion: this.aversion,
      ephemeralOwner: this.visibleOwner,
      dataLength: this.dataLength,
      numChildren: n,
      pzxid: this.pzxid,
    };
  }
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.substring(0, i);
}
export function childName(path: string): string {
  return path.substring(path.lastIndexOf('/') + 1);
}

export interface ProcessResult {
  err: number;
  type: number;
  path?: string;
  /**
   * The znode as a create, setData or setACL left it, for the reply's Stat: read it before the
   * next txn is applied (no Stat object is made for a txn nobody answers: learners, replay).
   */
  node?: DataNode;
  /** A multi's results carry the Stat taken right after their op instead (a later op may change the znode). */
  stat?: Stat;
  multi?: ProcessResult[];
}

export const SYSTEM_PATHS = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

export class DataTree {
  readonly nodes = new PathMap<DataNode>();
  readonly ephemerals = new Map<bigint, Set<string>>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  readonly acls = new AclCache();
  readonly dataWatches = new WatchManager();
  readonly childWatches = new WatchManager();
  /** global sessions and their timeouts, as the snapshot records them */
  readonly sessions = new Map<bigint, number>();
  lastProcessedZxid = 0;
  approximateDataSize = 0;
  /**
   * The highest czxid of any znode ever put in the tree (created or loaded): a snapshot walk leaves
   * out znodes created after it started, i.e. above this value as it was then (treebody.ts).
   */
  maxCzxid = 0;
  /** the sum of every znode's digest (digest.ts), kept up to date by every change */
  private readonly digest = new TreeDigest();
  /** the zxid of the last txn applied with digests recorded (-1: none since the load; see lastProcessedZxidDigest) */
  private lastDigestedZxid = -1;
  /** the digests of every 128th zxid, the last 1024 (the `hash` command) */
  readonly digestLog: ZxidDigest[] = [];
  /**
   * A snapshot's recorded digest, pending until replay reaches its zxid (a fuzzy snapshot records
   * the digest of a later zxid than its name). Txn digests are not compared while it is pending.
   */
  digestFromLoadedSnapshot: ZxidDigest | null = null;
  /** the paths that have a quota (a zookeeper_limits node under /zookeeper/quota): DataTree.pTrie */
  readonly quotaPaths = new Set<string>();
  /** txns (or snapshots) whose digest did not match this tree: divergence */
  digestMismatches = 0;
  /** the first mismatch is logged in full; set by the owner to route it to its logger */
  onDigestMismatch: ((zxid: number, expected: bigint, actual: bigint) => void) | null = null;

  constructor() {
    // ZooKeeper gives the root and system nodes empty (not null) data
    const mk = (): DataNode => new DataNode('', -1, 0, 0, 0, 0, 0, 0, 0, 0n, 0);
    this.nodes.set('/', mk());
    this.addSystemChild('/', 'zookeeper', mk());
    this.addSystemChild('/zookeeper', 'quota', mk());
    const cfg = mk();
    cfg.aclRef = this.acls.ref(READ_ACL_UNSAFE);
    cfg.aversion = -1;
    cfg.raw = '';
    this.addSystemChild('/zookeeper', 'config', cfg);
    this.recomputeDigest();
  }

  private addSystemChild(parent: string, name: string, node: DataNode): void {
    const path = parent === '/' ? `/${name}` : `${parent}/${name}`;
    this.nodes.set(path, node);
    this.nodes.get(parent)!.addChild(path);
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  getNode(path: string): DataNode | undefined {
    return this.nodes.get(path);
  }

  aclOf(node: DataNode): ACL[] {
    return this.acls.get(node.aclRef);
  }

  ephemeralCount(): number {
    let n = 0;
    for (const s of this.ephemerals.values()) n += s.size;
    return n;
  }

  // ---- reads with watch registration ----
  /**
   * The watch tables keep the path string for as long as the watch lives; the request's path is a
   * copy decoded from the wire, the tree holds an equal one. Keeping the tree's (when the znode
   * exists) saves that copy: ~40 bytes of a watch's ~140 (1M watches on distinct znodes).
   */
  private watchPath(path: string): string {
    return this.nodes.storedKey(path) ?? path;
  }
  addDataWatch(path: string, w: Watcher): void {
    this.dataWatches.add(this.watchPath(path), w, WatchMode.STANDARD);
  }
  addChildWatch(path: string, w: Watcher): void {
    this.childWatches.add(this.watchPath(path), w, WatchMode.STANDARD);
  }
  addPersistentWatch(path: string, w: Watcher, recursive: boolean): void {
    path = this.watchPath(path);
    if (recursive) {
      this.dataWatches.add(path, w, WatchMode.PERSISTENT_RECURSIVE);
    } else {
      this.dataWatches.add(path, w, WatchMode.PERSISTENT);
      this.childWatches.add(path, w, WatchMode.PERSISTENT);
    }
  }

  removeWatcher(w: Watcher): void {
    this.dataWatches.removeWatcher(w);
    this.childWatches.removeWatcher(w);
  }

  /** Re-register watches after a reconnect (DataTree.setWatches). */
  setWatches(
    relativeZxid: number,
    data: string[],
    exist: string[],
    child: string[],
    persistent: string[],
    recursive: string[],
    w: Watcher,
  ): void {
    for (const p of data) {
      const n = this.nodes.get(p);
      if (!n) w.process(EventType.NodeDeleted, 3, p);
      else if (n.mzxid > relativeZxid) w.process(EventType.NodeDataChanged, 3, p);
      else this.addDataWatch(p, w);
    }
    for (const p of exist) {
      if (this.nodes.has(p)) w.process(EventType.NodeCreated, 3, p);
      else this.addDataWatch(p, w);
    }
    for (const p of child) {
      const n = this.nodes.get(p);
      if (!n) w.process(EventType.NodeDeleted, 3, p);
      else if (n.pzxid > relativeZxid) w.process(EventType.NodeChildrenChanged, 3, p);
      else this.addChildWatch(p, w);
    }
    for (const p of persistent) this.addPersistentWatch(p, w, false);
    for (const p of recursive) this.addPersistentWatch(p, w, true);
  }

  // ---- applying txns ----
  /**
   * Apply one txn. `digest` is the TxnDigest that came with it (the tree digest the leader
   * expected after it): compared with ours after applying, a mismatch counted (DataTree.compareDigest).
   */
  processTxn(hdr: TxnHeader, txn: Txn, digest?: { version: number; treeDigest: bigint } | null): ProcessResult {
    const res = this.applyOne(hdr, txn);
    if (hdr.zxid > this.lastProcessedZxid) this.lastProcessedZxid = hdr.zxid;
    if (digestEnabled()) {
      if (this.digestFromLoadedSnapshot !== null) this.compareSnapshotDigest(hdr.zxid);
      else this.logZxidDigest(hdr.zxid);
      if (digest && this.digestFromLoadedSnapshot === null && digest.version === DIGEST_VERSION) {
        if (!this.digest.matches(digest.treeDigest)) this.reportDigestMismatch(hdr.zxid, digest.treeDigest, this.digest.value);
      }
    }
    return res;
  }

  // ---- digests (digest.ts) ----
  /** The tree digest now (AdHash value). */
  get treeDigest(): bigint {
    return this.digest.value;
  }

  /** The tree digest now, to carry on from (no BigInt made, as treeDigest makes); not to be changed. */
  get treeDigestNow(): TreeDigest {
    return this.digest;
  }

  /** Recompute the digest from every znode (after loading a snapshot or a SNAP). */
  recomputeDigest(): void {
    this.digest.clear();
    if (!digestEnabled()) return;
    // computed afresh (not taken from the znodes' kept digests), and kept
    for (const w = this.nodes.walk(); w.next(); ) {
      const d = nodeDigest(w.key, w.value);
      w.value.keepDigest(d);
      this.digest.add(d);
    }
  }

  /** A znode put into `nodes` directly (a load's system znodes), or one just changed: count it in the tree digest. */
  digestIn(path: string, n: DataNode): void {
    this.digest.add(n.digest(path));
  }

  /** A znode about to change or go: its digest leaves the tree's. */
  private digestOut(path: string, n: DataNode): void {
    this.digest.remove(n.digest(path));
  }

  private logZxidDigest(zxid: number): void {
    this.lastDigestedZxid = zxid;
    if (zxid % DIGEST_LOG_INTERVAL === 0) {
      this.digestLog.push({ zxid, digestVersion: DIGEST_VERSION, digest: this.digest.value });
      if (this.digestLog.length > DIGEST_LOG_LIMIT) this.digestLog.shift();
    }
  }

  /**
   * The digest to record in a snapshot: the tree's now, with the zxid of the last txn applied;
   * null when no txn was applied since the tree was loaded (ZooKeeper writes zeros then).
   */
  get lastProcessedZxidDigest(): ZxidDigest | null {
    return this.lastDigestedZxid < 0 ? null : { zxid: this.lastDigestedZxid, digestVersion: DIGEST_VERSION, digest: this.digest.value };
  }

  /**
   * A snapshot was loaded whose digest was recorded at `z.zxid` (DataTree.deserializeZxidDigest):
   * an empty one (zxid 0) or one older than the snapshot itself is ignored; otherwise it is
   * compared once the tree reaches that zxid, at once if it already has.
   */
  setSnapshotDigest(z: ZxidDigest | null, snapshotZxid: number): void {
    this.digestFromLoadedSnapshot = digestEnabled() && z && z.zxid > 0 && z.zxid >= snapshotZxid ? z : null;
    if (this.digestFromLoadedSnapshot) this.compareSnapshotDigest(this.lastProcessedZxid);
  }

  private compareSnapshotDigest(zxid: number): void {
    const z = this.digestFromLoadedSnapshot!;
    if (zxid !== z.zxid) return;
    this.digestFromLoadedSnapshot = null;
    if (z.digestVersion !== DIGEST_VERSION) return;
    const actual = this.digest.value;
    if (actual !== z.digest) this.reportDigestMismatch(zxid, z.digest, actual);
  }

  private reportDigestMismatch(zxid: number, expected: bigint, actual: bigint): void {
    this.digestMismatches++;
    serverMetrics.digest_mismatches_count.add(1);
    this.onDigestMismatch?.(zxid, expected, actual);
  }

  private applyOne(hdr: TxnHeader, txn: Txn): ProcessResult {
    const type = txn.type;
    try {
      switch (txn.type) {
        case OpCode.create:
        case OpCode.create2:
          this.createNode(txn.path, txn.data, txn.acl, txn.ephemeral ? hdr.clientId : 0n, txn.parentCVersion, hdr.zxid, hdr.time);
          return { err: 0, type, path: txn.path, node: this.nodes.get(txn.path)! };
        case OpCode.createContainer:
          this.createNode(txn.path, txn.data, txn.acl, CONTAINER_EPHEMERAL_OWNER, txn.parentCVersion, hdr.zxid, hdr.time);
          return { err: 0, type, path: txn.path, node: this.nodes.get(txn.path)! };
        case OpCode.createTTL:
          this.createNode(txn.path, txn.data, txn.acl, BigInt.asIntN(64, 0xff00000000000000n | BigInt(txn.ttl)), txn.parentCVersion, hdr.zxid, hdr.time);
          return { err: 0, type, path: txn.path, node: this.nodes.get(txn.path)! };
        case OpCode.delete:
        case OpCode.deleteContainer:
          this.deleteNode(txn.path, hdr.zxid);
          return { err: 0, type, path: txn.path };
        case OpCode.setData:
        case OpCode.reconfig: {
          // a reconfig is a SetDataTxn of /zookeeper/config (version -1, as 3.8 writes it)
          const node = this.setData(txn.path, txn.data, txn.version, hdr.zxid, hdr.time);
          return { err: 0, type, path: txn.path, node };
        }
        case OpCode.setACL: {
          const n = this.nodes.get(txn.path);
          if (!n) return { err: Err.NONODE, type };
          this.acls.release(n.aclRef);
          n.aclRef = this.acls.ref(txn.acl);
          this.digestOut(txn.path, n);
          n.aversion = txn.version;
          this.digestIn(txn.path, n);
          return { err: 0, type, path: txn.path, node: n };
        }
        case OpCode.check:
          return { err: 0, type, path: txn.path };
        case OpCode.error:
          return { err: txn.err, type };
        case OpCode.createSession:
          this.sessions.set(hdr.clientId, txn.timeOut);
          return { err: 0, type };
        case OpCode.closeSession: {
          this.sessions.delete(hdr.clientId);
          this.killSession(hdr.clientId, hdr.zxid, txn.paths);
          return { err: 0, type };
        }
        case OpCode.multi:
          return this.applyMulti(hdr, txn.txns);
      }
    } catch (e) {
      if (e instanceof TreeError) return { err: e.code, type };
      throw e;
    }
  }

  private applyMulti(hdr: TxnHeader, txns: Txn[]): ProcessResult {
    // A failed multi is logged with ErrorTxns in it and changes nothing.
    const failed = txns.some((t) => t.type === OpCode.error);
    const results: ProcessResult[] = [];
    for (const t of txns) {
      if (failed) {
        results.push({ err: t.type === OpCode.error ? t.err : 0, type: OpCode.error });
        continue;
      }
      const r = this.applyOne(hdr, t);
      if (r.node !== undefined) {
        r.stat = r.node.stat();
        r.node = undefined;
      }
      results.push(r);
    }
    return { err: 0, type: OpCode.multi, multi: results };
  }

  killSession(sessionId: bigint, zxid: number, paths: string[] | null): void {
    const eph = this.ephemerals.get(sessionId);
    const list = paths ?? (eph ? [...eph] : []);
    // deepest first so that parents go after their children
    const sorted = [...list].sort((a, b) => b.length - a.length);
    for (const p of sorted) {
      try {
        this.deleteNode(p, zxid);
      } catch (e) {
        if (!(e instanceof TreeError)) throw e;
      }
    }
    this.ephemerals.delete(sessionId);
  }

  createNode(
    path: string,
    data: Buffer | null,
    acl: ACL[],
    ephemeralOwner: bigint,
    parentCVersion: number,
    zxid: number,
    time: number,
  ): void {
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (!parent) throw new TreeError(Err.NONODE);
    const name = childName(path);
    if (this.nodes.has(path)) {
      // a replayed create after a fuzzy snapshot still advances the parent
      if (parentCVersion > parent.cversion) {
        this.digestOut(parentPath, parent);
        parent.cversion = parentCVersion;
        parent.pzxid = zxid;
        this.digestIn(parentPath, parent);
      }
      throw new TreeError(Err.NODEEXISTS);
    }
    if (parentCVersion === -1) parentCVersion = parent.cversion + 1;
    const node = new DataNode(data, this.acls.ref(acl), zxid, zxid, time, time, 0, 0, 0, ephemeralOwner, zxid);
    if (parentCVersion > parent.cversion) {
      this.digestOut(parentPath, parent);
      parent.cversion = parentCVersion;
      parent.pzxid = zxid;
      this.digestIn(parentPath, parent);
    }
    parent.addChild(path);
    this.nodes.set(path, node);
    if (zxid > this.maxCzxid) this.maxCzxid = zxid;
    this.digestIn(path, node);
    if (parentPath.startsWith(QUOTA_ROOT)) {
      if (name === LIMIT_NODE) this.quotaPaths.add(trimQuotaPath(parentPath));
      if (name === STAT_NODE) this.updateQuotaForPath(trimQuotaPath(parentPath));
    }
    const q = this.maxPrefixWithQuota(path);
    if (q !== null) this.updateQuotaStat(q, data ? data.length : 0, 1);
    this.approximateDataSize += path.length + (data ? data.length : 0);
    if (ephemeralOwner === CONTAINER_EPHEMERAL_OWNER) this.containers.add(path);
    else if (ownerTtl(ephemeralOwner) >= 0) this.ttls.add(path);
    else if (ephemeralOwner !== 0n) {
      let s = this.ephemerals.get(ephemeralOwner);
      if (!s) this.ephemerals.set(ephemeralOwner, (s = new Set()));
      s.add(path);
    }
    this.dataWatches.trigger(path, EventType.NodeCreated);
    this.childWatches.trigger(parentPath, EventType.NodeChildrenChanged);
  }

  deleteNode(path: string, zxid: number): void {
    const node = this.nodes.get(path);
    if (!node) throw new TreeError(Err.NONODE);
    const parentPath = parentOf(path);
    const parent = this.nodes.get(parentPath);
    if (!parent) throw new TreeError(Err.NONODE);
    this.nodes.delete(path);
    this.digestOut(path, node);
    const name = childName(path);
    parent.removeChild(path);
    if (name === LIMIT_NODE && parentPath.startsWith('/zookeeper')) this.quotaPaths.delete(trimQuotaPath(parentPath));
    const q = this.maxPrefixWithQuota(path);
    if (q !== null) this.updateQuotaStat(q, -node.dataLength, -1);
    if (zxid > parent.pzxid) {
      this.digestOut(parentPath, parent);
      parent.pzxid = zxid;
      this.digestIn(parentPath, parent);
    }
    this.acls.release(node.aclRef);
    this.approximateDataSize -= path.length + node.dataLength;
    const owner = node.ephemeralOwner;
    if (owner === CONTAINER_EPHEMERAL_OWNER) this.containers.delete(path);
    else if (ownerTtl(owner) >= 0) this.ttls.delete(path);
    else if (owner !== 0n) {
      const s = this.ephemerals.get(owner);
      if (s) {
        s.delete(path);
        if (s.size === 0) this.ephemerals.delete(owner);
      }
    }
    const fired = this.dataWatches.trigger(path, EventType.NodeDeleted);
    this.childWatches.trigger(path, EventType.NodeDeleted, fired);
    this.childWatches.trigger(parentPath, EventType.NodeChildrenChanged);
  }

  setData(path: string, data: Buffer | null, version: number, zxid: number, time: number): DataNode {
    const n = this.nodes.get(path);
    if (!n) throw new TreeError(Err.NONODE);
    const q = this.maxPrefixWithQuota(path);
    if (q !== null) this.updateQuotaStat(q, (data ? data.length : 0) - n.dataLength, 0);
    this.approximateDataSize += (data ? data.length : 0) - n.dataLength;
    this.digestOut(path, n);
    n.data = data;
    n.version = version;
    n.mzxid = zxid;
    n.mtime = time;
    this.digestIn(path, n);
    this.dataWatches.trigger(path, EventType.NodeDataChanged);
    return n;
  }

  // ---- quotas (quotas.ts) ----
  /** The deepest path at or above `path` with a quota; never the root (getMaxPrefixWithQuota). */
  maxPrefixWithQuota(path: string): string | null {
    if (this.quotaPaths.size === 0) return null;
    let p = path;
    for (;;) {
      if (p !== '/' && this.quotaPaths.has(p)) return p;
      const i = p.lastIndexOf('/');
      if (i <= 0) return null;
      p = p.substring(0, i);
    }
  }

  /** A change under a quota: the stats node's counts move (locally, as every peer applies the txn). */
  private updateQuotaStat(prefix: string, bytesDiff: number, countDiff: number): void {
    const n = this.nodes.get(statPath(prefix));
    if (!n) return; // ZooKeeper logs "Missing node for stat"
    const st = new StatsTrack(n.raw);
    st.count = st.count + countDiff;
    st.bytes = st.bytes + bytesDiff;
    n.raw = st.toString();
  }

  /** The stats node of the quota on `path` := the count and bytes of its subtree, itself included. */
  private updateQuotaForPath(path: string): void {
    let count = 0;
    let bytes = 0;
    const stack = [path];
    while (stack.length) {
      const p = stack.pop()!;
      const n = this.nodes.get(p);
      if (!n) continue;
      count++;
      bytes += n.dataLength;
      for (const c of n.childPaths) stack.push(c);
    }
    const stats = this.nodes.get(statPath(path));
    if (!stats) return; // ZooKeeper logs "Missing quota stat node"
    const st = new StatsTrack();
    st.bytes = bytes;
    st.count = count;
    stats.raw = st.toString();
  }

  /** After a load (snapshot, SNAP): find every quota and recount its stats (DataTree.setupQuota). */
  setupQuota(): void {
    this.quotaPaths.clear();
    const stack = [QUOTA_ROOT];
    while (stack.length) {
      const p = stack.pop()!;
      const n = this.nodes.get(p);
      if (!n) continue;
      if (n.childCount === 0) {
        const end = `/${LIMIT_NODE}`;
        if (p.endsWith(end)) {
          const real = p.substring(QUOTA_ROOT.length, p.indexOf(end));
          this.updateQuotaForPath(real);
          this.quotaPaths.add(real);
        }
        continue;
      }
      for (const c of n.childPaths) stack.push(c);
    }
  }

  /**
   * QuotaMetricsUtils' gauge sets: by top-level namespace, the sum of the count and byte limits (a
   * hard limit where set) and of the counted usage of every quota under it.
   */
  quotaGauges(): Record<'quota_count_limit_per_namespace' | 'quota_bytes_limit_per_namespace' | 'quota_count_usage_per_namespace' | 'quota_bytes_usage_per_namespace', Map<string, number>> {
    const out = {
      quota_count_limit_per_namespace: new Map<string, number>(),
      quota_bytes_limit_per_namespace: new Map<string, number>(),
      quota_count_usage_per_namespace: new Map<string, number>(),
      quota_bytes_usage_per_namespace: new Map<string, number>(),
    };
    const add = (m: Map<string, number>, ns: string, v: number): void => void m.set(ns, (m.get(ns) ?? 0) + v);
    const stack = [QUOTA_ROOT];
    while (stack.length) {
      const p = stack.pop()!;
      const n = this.nodes.get(p);
      if (!n) continue;
      if (n.childCount > 0) {
        for (const c of n.childPaths) stack.push(c);
        continue;
      }
      const limit = p.endsWith(`/${LIMIT_NODE}`);
      if (!limit && !p.endsWith(`/${STAT_NODE}`)) continue;
      const ns = topNamespace(trimQuotaPath(p));
      if (ns === null || n.raw === null) continue;
      const st = new StatsTrack(n.raw);
      if (limit) {
        add(out.quota_count_limit_per_namespace, ns, st.countHardLimit > -1 ? st.countHardLimit : st.count);
        add(out.quota_bytes_limit_per_namespace, ns, st.byteHardLimit > -1 ? st.byteHardLimit : st.bytes);
      } else {
        add(out.quota_count_usage_per_namespace, ns, st.count);
        add(out.quota_bytes_usage_per_namespace, ns, st.bytes);
      }
    }
    return out;
  }

  /**
   * A tree was loaded from bytes (snapshot file or SNAP stream): set up what the znodes imply. `digest`: the sum of their digests when the loader
   * already took it (treebody.ts does, from the records' bytes); otherwise it is computed here.
   */
  loaded(digest?: TreeDigest): void {
    if (digest && digestEnabled()) this.digest.set(digest);
    else this.recomputeDigest();
    this.setupQuota();
  }

  /** Every path at or below `path`, parents before children. */
  *walk(path: string): Generator<[string, DataNode]> {
    const n = this.nodes.get(path);
    if (!n) return;
    yield [path, n];
    for (const c of n.childPaths) yield* this.walk(c);
  }

  countDescendants(path: string): number {
    const n = this.nodes.get(path);
    if (!n) return 0;
    let total = 0;
    const stack: string[] = [path];
    while (stack.length) {
      const p = stack.pop()!;
      const node = this.nodes.get(p);
      if (!node) continue;
      for (const c of node.childPaths) {
        total++;
        stack.push(c);
      }
    }
    return total;
  }
}

export class TreeError extends Error {
  constructor(readonly code: number) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // an expected outcome (NODEEXISTS on replay, ...): no stack trace
    super(`tree error ${code}`);
    Error.stackTraceLimit = limit;
  }
}

export function isWatchModeRecursive(m: WatchModeT | undefined): boolean {
  return m === WatchMode.PERSISTENT_RECURSIVE;
}
