// PrepRequestProcessor: turns a write request into a txn, checking it against the tree plus every
// change that is prepared but not yet applied (ZooKeeper's outstandingChanges). Pure: no I/O.
import { JuteReader } from '../jute/archive';
import {
  ACL,
  Id,
  readCreateRequest,
  readMultiHeader,
  readPathVersion,
  readSetACLRequest,
  readSetDataRequest,
} from '../jute/records';
import { AuthPolicy, checkACL, fixupACL } from './auth';
import {
  CONTAINER_EPHEMERAL_OWNER,
  Err,
  KeeperError,
  MAX_TTL,
  OpCode,
  ownerTtl,
  Perms,
  ttlOwner,
} from '../data/constants';
import { DataNode, DataTree, parentOf, SYSTEM_PATHS } from '../data/datatree';
import { DigestedNode, digestEnabled, nodeDigest, TreeDigest } from '../data/digest';
import { limitPath, StatsTrack, statPath } from '../data/quotas';
import { pathProblem } from '../data/paths';
import { PathMap } from '../data/pathmap';
import { Txn } from '../data/txn';
import { Membership, MembershipError, nextMembership, textOf } from '../config/membership';

/** A znode as a prepared change leaves it: its persisted stat and data (what its digest covers). */
export type NodeState = DigestedNode;

export interface ChangeRecord {
  zxid: number;
  path: string;
  /** null once deleted */
  stat: NodeState | null;
  childCount: number;
  acl: ACL[];
  /** the znode's digest in this state (0 once deleted); -1 until computed */
  nodeDigest: number;
  /** the digest of the state this change replaces (0: none, as for a create); -1 in a record not made to be added */
  replaced: number;
  /** the tree digest once this change and every earlier outstanding one are applied (set by add) */
  treeDigest: TreeDigest | null;
}

export interface PrepSettings {
  extendedTypesEnabled: boolean;
  /** zookeeper.enforceQuota: a hard quota limit refuses the write (QUOTAEXCEEDED); any exceeded limit is logged */
  enforceQuota?: boolean;
  /** a quota limit was exceeded (ZooKeeperServer.checkQuota's log line; `hard`: the write is refused) */
  onQuotaExceeded?: (message: string, path: string, hard: boolean) => void;
  skipACL: boolean;
  reconfigEnabled: boolean;
  /** the auth schemes this server has (default: ip and digest) */
  auth?: AuthPolicy;
}

/** What the leader tells its pipeline for a reconfig (LeaderZooKeeperServer's view of QuorumPeer). */
export interface ReconfigContext {
  /** the membership in force */
  committed(): Membership;
  /** the newest one proposed (the committed one unless a reconfig is in flight) */
  lastSeen(): Membership;
  /** Leader.isQuorumSynced: the leader and its synced followers that vote in `m` are a quorum of it */
  quorumSynced(m: Membership): boolean;
  standaloneEnabled: boolean;
}

export interface PrepInput {
  sessionId: bigint;
  type: number;
  body: JuteReader;
  authIds: readonly Id[];
}

export class PrepRequestProcessor {
  /**
   * path -> its newest outstanding change. A PathMap, not a Map: this table fills and empties with
   * every burst of writes, and each time a Map's table grows or shrinks V8 allocates a new one and
   * leaves a link to it in the old (for iterators in progress). Once a table has been moved to the
   * old generation by a full GC and then replaced, that link holds every later table, and the
   * records in them, through each scavenge until the next full GC: measured under setData at 16 in
   * flight, 21% of all that the server allocated survived each scavenge (2.5 MB, 4-9 ms pauses;
   * 0.3 MB, ~1 ms with this table). A PathMap's arrays hold no link to their successors.
   */
  private readonly outstanding = new PathMap<ChangeRecord>();
  private readonly outstandingList: ChangeRecord[] = [];
  /** outstandingList[0, outstandingHead) are applied and waiting to be dropped in bulk */
  private outstandingHead = 0;
  /** set while preparing a multi: the records it replaced, for rollback */
  private multiUndo: Map<string, ChangeRecord | undefined> | null = null;

  /** set on a quorum's leader: without it a reconfig is UNIMPLEMENTED (standalone, as in 3.8) */
  reconfig: ReconfigContext | null = null;

  constructor(
    private readonly tree: DataTree,
    private readonly settings: PrepSettings,
  ) {}

  get outstandingCount(): number {
    return this.outstandingList.length - this.outstandingHead;
  }

  /** Drop change records made obsolete by the txn `zxid` having been applied. */
  applied(zxid: number): void {
    const list = this.outstandingList;
    let i = this.outstandingHead;
    while (i < list.length && list[i].zxid <= zxid) {
      const c = list[i];
      if (this.outstanding.get(c.path) === c) this.outstanding.delete(c.path);
      i++;
    }
    // drop the applied prefix in bulk, not one splice per txn (O(n) each at deep pipelines)
    if (i === list.length) {
      list.length = 0;
      i = 0;
    } else if (i > 1024 && i * 2 > list.length) {
      list.splice(0, i);
      i = 0;
    }
    this.outstandingHead = i;
  }

  /** The latest state of `path` (its newest outstanding change, else the tree's znode); NONODE if none. */
  private record(path: string): ChangeRecord {
    const c = this.outstanding.get(path);
    if (c) {
      if (c.stat === null) throw new KeeperError(Err.NONODE, path);
      return c;
    }
    const n = this.tree.getNode(path);
    if (!n) throw new KeeperError(Err.NONODE, path);
    return this.fromTree(path, n, -1, -1);
  }

  /**
   * A new change of `path` at `zxid`, starting as its latest state, for the caller to modify and
   * add(); NONODE if there is none. From the tree it is one copy of the znode, not record()'s
   * copy and then dup()'s: this is every setData's and create's path.
   */
  private change(path: string, zxid: number): ChangeRecord {
    const c = this.outstanding.get(path);
    if (c) {
      if (c.stat === null) throw new KeeperError(Err.NONODE, path);
      return this.dup(c, zxid);
    }
    const n = this.tree.getNode(path);
    if (!n) throw new KeeperError(Err.NONODE, path);
    return this.fromTree(path, n, zxid, n.digest(path));
  }

  private fromTree(path: string, n: DataNode, zxid: number, replaced: number): ChangeRecord {
    return {
      zxid,
      path,
      stat: {
        czxid: n.czxid,
        mzxid: n.mzxid,
        pzxid: n.pzxid,
        ctime: n.ctime,
        mtime: n.mtime,
        version: n.version,
        cversion: n.cversion,
        aversion: n.aversion,
        ephemeralOwner: n.ephemeralOwner,
        raw: n.raw,
      },
      childCount: n.childCount,
      acl: this.tree.aclOf(n),
      nodeDigest: -1,
      replaced,
      treeDigest: null,
    };
  }

  /**
   * The tree digest once every outstanding change is applied: what a txn prepared now carries as
   * its TxnDigest (PrepRequestProcessor.getCurrentTreeDigest).
   */
  currentDigest(): bigint {
    const list = this.outstandingList;
    return list.length > this.outstandingHead ? list[list.length - 1].treeDigest!.value : this.tree.treeDigest;
  }

  private digestOf(c: ChangeRecord | undefined): number {
    if (!c || c.stat === null) return 0;
    if (c.nodeDigest < 0) c.nodeDigest = nodeDigest(c.path, c.stat);
    return c.nodeDigest;
  }

  private exists(path: string): boolean {
    const c = this.outstanding.get(path);
    if (c) return c.stat !== null;
    return this.tree.getNode(path) !== undefined;
  }

  /** Record the change `c` (its `replaced` digest says what it replaces). */
  private add(c: ChangeRecord): void {
    if (digestEnabled()) {
      const list = this.outstandingList;
      const d = new TreeDigest();
      d.set(list.length > this.outstandingHead ? list[list.length - 1].treeDigest! : this.tree.treeDigestNow);
      d.remove(c.replaced);
      c.nodeDigest = -1;
      d.add(this.digestOf(c));
      c.treeDigest = d;
    }
    if (this.multiUndo && !this.multiUndo.has(c.path)) this.multiUndo.set(c.path, this.outstanding.get(c.path));
    this.outstanding.set(c.path, c);
    this.outstandingList.push(c);
  }

  private dup(c: ChangeRecord, zxid: number): ChangeRecord {
    const replaced = this.digestOf(c);
    return { zxid, path: c.path, stat: c.stat ? { ...c.stat } : null, childCount: c.childCount, acl: c.acl, nodeDigest: -1, replaced, treeDigest: null };
  }

  private check(acl: ACL[], perm: number, ids: readonly Id[]): void {
    checkACL(acl, perm, ids, this.settings.skipACL, this.settings.auth);
  }

  /**
   * ZooKeeperServer.checkQuota: with enforceQuota, a create or setData under a quota that would pass
   * a limit is logged; passing a hard limit refuses it. Counted against the applied tree's stats.
   */
  private checkQuota(path: string, lastData: string | Buffer | null, data: Buffer | null, create: boolean): void {
    if (!this.settings.enforceQuota) return;
    const prefix = this.tree.maxPrefixWithQuota(path);
    if (prefix === null) return;
    const len = data ? data.length : 0;
    const countDiff = create ? 1 : 0;
    const bytesDiff = create ? len : len - (lastData ? lastData.length : 0);
    const limitNode = this.tree.getNode(limitPath(prefix));
    if (!limitNode) return;
    const limits = new StatsTrack(limitNode.raw);
    const checkCount = countDiff !== 0 && (limits.count > -1 || limits.countHardLimit > -1);
    const checkBytes = bytesDiff !== 0 && (limits.bytes > -1 || limits.byteHardLimit > -1);
    if (!checkCount && !checkBytes) return;
    const statNode = this.tree.getNode(statPath(prefix));
    if (!statNode) return;
    const cur = new StatsTrack(statNode.raw);
    const over = (what: 'count' | 'bytes', now: number, soft: number, hardLimit: number): void => {
      const hard = hardLimit > -1;
      const limit = hard ? hardLimit : soft;
      if (now <= limit) return;
      const name = what === 'count' ? 'CountLimit' : 'ByteLimit';
      this.settings.onQuotaExceeded?.(`Quota exceeded: ${prefix} [current ${what}=${now}, ${hard ? 'hard' : 'soft'}${name}=${limit}]`, path, hard);
      if (hard) throw new KeeperError(Err.QUOTAEXCEEDED, prefix);
    };
    if (checkCount) over('count', cur.count + countDiff, limits.count, limits.countHardLimit);
    if (checkBytes) over('bytes', cur.bytes + bytesDiff, limits.bytes, limits.byteHardLimit);
  }

  private static validate(path: string): void {
    if (pathProblem(path) !== null) throw new KeeperError(Err.BADARGUMENTS, path);
  }

  private static checkAndIncVersion(current: number, expected: number): number {
    if (expected !== -1 && expected !== current) throw new KeeperError(Err.BADVERSION);
    return (current + 1) | 0;
  }

  /**
   * Build the txn for a write request at `zxid`. Throws KeeperError for a failed request; the caller
   * logs that as an error txn. Returns the txn and, for creates, the final path.
   */
  prepare(req: PrepInput, zxid: number, time: number): Txn {
    const r = req.body;
    switch (req.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        return this.prepCreate(req.type, readCreateRequest(r, req.type === OpCode.createTTL), req, zxid, time);
      case OpCode.delete: {
        const { path, version } = readPathVersion(r);
        return this.prepDelete(path, version, req, zxid, false);
      }
      case OpCode.deleteContainer: {
        const path = r.buf.toString('utf8', r.offset, r.end);
        return this.prepDelete(path, -1, req, zxid, true);
      }
      case OpCode.setData: {
        const s = readSetDataRequest(r);
        PrepRequestProcessor.validate(s.path);
        const nr = this.change(s.path, zxid);
        this.check(nr.acl, Perms.WRITE, req.authIds);
        this.checkQuota(s.path, nr.stat!.raw, s.data, false);
        const newVersion = PrepRequestProcessor.checkAndIncVersion(nr.stat!.version, s.version);
        nr.stat!.version = newVersion;
        nr.stat!.mzxid = zxid;
        nr.stat!.mtime = time;
        nr.stat!.raw = s.data;
        this.add(nr);
        return { type: OpCode.setData, path: s.path, data: s.data, version: newVersion };
      }
      case OpCode.setACL: {
        const s = readSetACLRequest(r);
        PrepRequestProcessor.validate(s.path);
        const acl = fixupACL(s.acl, req.authIds, this.settings.auth);
        const nr = this.change(s.path, zxid);
        this.check(nr.acl, Perms.ADMIN, req.authIds);
        const newVersion = PrepRequestProcessor.checkAndIncVersion(nr.stat!.aversion, s.version);
        nr.stat!.aversion = newVersion;
        nr.acl = acl;
        this.add(nr);
        return { type: OpCode.setACL, path: s.path, acl, version: newVersion };
      }
      case OpCode.check: {
        const { path, version } = readPathVersion(r);
        PrepRequestProcessor.validate(path);
        const rec = this.record(path);
        this.check(rec.acl, Perms.READ, req.authIds);
        return { type: OpCode.check, path, version: PrepRequestProcessor.checkAndIncVersion(rec.stat!.version, version) };
      }
      case OpCode.multi:
        return this.prepMulti(req, zxid, time);
      case OpCode.reconfig:
        return this.prepReconfig(req, zxid, time);
      default:
        throw new KeeperError(Err.UNIMPLEMENTED);
    }
  }

  /**
   * PrepRequestProcessor's reconfig: the next membership (incremental `joining`/`leaving` on a
   * majority quorum, or bulk `newMembers`), versioned by this txn's zxid, as a SetDataTxn of
   * /zookeeper/config. Only a writer of /zookeeper/config (its ACL is world:anyone:r, so a super
   * user) or skipACL may reconfigure.
   */
  private prepReconfig(req: PrepInput, zxid: number, time: number): Txn {
    if (!this.settings.reconfigEnabled) throw new KeeperError(Err.RECONFIGDISABLED);
    const ctx = this.reconfig;
    if (!ctx) throw new KeeperError(Err.UNIMPLEMENTED);
    const r = req.body;
    const joining = r.readString();
    const leaving = r.readString();
    const newMembers = r.readString();
    const curConfigId = r.readLong();
    const lastSeen = ctx.lastSeen();
    if (lastSeen.version !== ctx.committed().version) throw new KeeperError(Err.RECONFIGINPROGRESS);
    if (curConfigId !== -1 && curConfigId !== lastSeen.version) throw new KeeperError(Err.BADVERSION);
    let next: Membership;
    try {
      next = nextMembership(lastSeen, { joining, leaving, newMembers }, zxid, ctx.standaloneEnabled);
    } catch (e) {
      throw new KeeperError(Err.BADARGUMENTS, e instanceof MembershipError ? e.message : String(e));
    }
    if (!ctx.quorumSynced(next)) throw new KeeperError(Err.NEWCONFIGNOQUORUM);
    const rec = this.record('/zookeeper/config');
    this.check(rec.acl, Perms.WRITE, req.authIds);
    const data = Buffer.from(textOf(next), 'utf8');
    const nr = this.dup(rec, zxid);
    nr.stat!.version = -1;
    nr.stat!.mzxid = zxid;
    nr.stat!.mtime = time;
    nr.stat!.raw = data;
    this.add(nr);
    return { type: OpCode.reconfig, path: '/zookeeper/config', data, version: -1 };
  }

  private prepCreate(type: number, c: ReturnType<typeof readCreateRequest>, req: PrepInput, zxid: number, time: number): Txn {
    let flags = c.flags;
    if (type === OpCode.createContainer) flags = 4;
    if (flags < 0 || flags > 6) throw new KeeperError(Err.BADARGUMENTS);
    const isTTL = flags === 5 || flags === 6;
    const sequential = flags === 2 || flags === 3 || flags === 6;
    const ephemeral = flags === 1 || flags === 3;
    if (isTTL && !this.settings.extendedTypesEnabled) throw new KeeperError(Err.UNIMPLEMENTED);
    if (isTTL) {
      if (type !== OpCode.createTTL || c.ttl <= 0 || c.ttl > MAX_TTL) throw new KeeperError(Err.BADARGUMENTS);
    } else if (type === OpCode.createTTL && c.ttl >= 0) {
      throw new KeeperError(Err.BADARGUMENTS);
    }
    if (flags === 4 && type !== OpCode.createContainer) flags = 0; // container needs its own opcode
    let path = c.path;
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1 || path.indexOf('\u0000') !== -1) throw new KeeperError(Err.BADARGUMENTS);
    const parentPath = lastSlash === 0 ? '/' : path.substring(0, lastSlash);
    const acl = fixupACL(c.acl, req.authIds, this.settings.auth);
    const np = this.change(parentPath, zxid); // the parent, changed below once every check passed
    this.check(np.acl, Perms.CREATE, req.authIds);
    const parentCVersion = np.stat!.cversion;
    if (sequential) path = path + formatSeq(parentCVersion);
    PrepRequestProcessor.validate(path);
    if (this.exists(path)) throw new KeeperError(Err.NODEEXISTS, path);
    const powner = np.stat!.ephemeralOwner;
    if (powner !== 0n && powner !== CONTAINER_EPHEMERAL_OWNER && ownerTtl(powner) < 0) {
      throw new KeeperError(Err.NOCHILDRENFOREPHEMERALS, path);
    }
    const newCversion = parentCVersion + 1;
    this.checkQuota(path, null, c.data, true);
    let owner = 0n;
    let txn: Txn;
    if (type === OpCode.createContainer) {
      owner = CONTAINER_EPHEMERAL_OWNER;
      txn = { type: OpCode.createContainer, path, data: c.data, acl, parentCVersion: newCversion };
    } else if (isTTL) {
      owner = ttlOwner(c.ttl);
      txn = { type: OpCode.createTTL, path, data: c.data, acl, parentCVersion: newCversion, ttl: c.ttl };
    } else {
      if (ephemeral) owner = req.sessionId;
      txn = {
        type: type === OpCode.create2 ? OpCode.create2 : OpCode.create,
        path,
        data: c.data,
        acl,
        ephemeral,
        parentCVersion: newCversion,
      };
    }
    np.childCount++;
    np.stat!.cversion = newCversion;
    np.stat!.pzxid = zxid;
    this.add(np);
    const stat: NodeState = {
      czxid: zxid,
      mzxid: zxid,
      pzxid: zxid,
      ctime: time,
      mtime: time,
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: owner,
      raw: c.data,
    };
    this.add({ zxid, path, stat, childCount: 0, acl, nodeDigest: -1, replaced: 0, treeDigest: null });
    return txn;
  }

  private prepDelete(path: string, version: number, req: PrepInput, zxid: number, container: boolean): Txn {
    const lastSlash = path.lastIndexOf('/');
    if (lastSlash === -1 || path.indexOf('\u0000') !== -1 || SYSTEM_PATHS.has(path)) {
      throw new KeeperError(Err.BADARGUMENTS, path);
    }
    const parentPath = lastSlash === 0 ? '/' : path.substring(0, lastSlash);
    let parent: ChangeRecord;
    let node: ChangeRecord;
    if (container) {
      node = this.record(path);
      if (node.childCount > 0) throw new KeeperError(Err.NOTEMPTY, path);
      const o = node.stat!.ephemeralOwner;
      if (o !== 0n && o !== CONTAINER_EPHEMERAL_OWNER && ownerTtl(o) < 0) throw new KeeperError(Err.BADVERSION, path);
      parent = this.record(parentPath);
    } else {
      // 3.6+: the parent's DELETE permission is checked before the node is looked up
      parent = this.record(parentPath);
      this.check(parent.acl, Perms.DELETE, req.authIds);
      node = this.record(path);
      PrepRequestProcessor.checkAndIncVersion(node.stat!.version, version);
      if (node.childCount > 0) throw new KeeperError(Err.NOTEMPTY, path);
    }
    const np = this.dup(parent, zxid);
    np.childCount--;
    np.stat!.pzxid = zxid;
    this.add(np);
    this.add(deleted(zxid, path, this.digestOf(node)));
    return { type: container ? OpCode.deleteContainer : OpCode.delete, path };
  }

  private prepMulti(req: PrepInput, zxid: number, time: number): Txn {
    const ops = readMultiOps(req.body, false);
    const txns: Txn[] = [];
    this.multiUndo = new Map();
    const undo = this.multiUndo;
    const listMark = this.outstandingList.length;
    let failed = false;
    try {
      for (const op of ops) {
        if (failed) {
          txns.push({ type: OpCode.error, err: Err.RUNTIMEINCONSISTENCY });
          continue;
        }
        try {
          txns.push(this.prepare({ sessionId: req.sessionId, type: op.type, body: op.body, authIds: req.authIds }, zxid, time));
        } catch (e) {
          if (!(e instanceof KeeperError)) throw e;
          failed = true;
          txns.push({ type: OpCode.error, err: e.code });
          // roll back what the earlier ops of this multi prepared
          for (const [p, prev] of undo) {
            if (prev === undefined) this.outstanding.delete(p);
            else this.outstanding.set(p, prev);
          }
          this.outstandingList.splice(listMark);
        }
      }
    } finally {
      this.multiUndo = null;
    }
    return { type: OpCode.multi, txns };
  }

  /** closeSession: the ephemerals to delete, including ones still being created. */
  prepCloseSession(sessionId: bigint, zxid: number): Txn {
    const es = new Set(this.tree.ephemerals.get(sessionId) ?? []);
    for (let i = this.outstandingHead; i < this.outstandingList.length; i++) {
      const c = this.outstandingList[i];
      if (c.stat === null) es.delete(c.path);
      else if (c.stat.ephemeralOwner === sessionId) es.add(c.path);
    }
    for (const p of es) {
      try {
        const parent = this.record(parentOf(p));
        const np = this.dup(parent, zxid);
        np.childCount--;
        np.stat!.pzxid = zxid;
        this.add(np);
      } catch {
        // parent gone: nothing to track
      }
      let node: ChangeRecord | undefined;
      try {
        node = this.record(p);
      } catch {
        // already gone
      }
      this.add(deleted(zxid, p, this.digestOf(node)));
    }
    return { type: OpCode.closeSession, paths: [...es] };
  }
}

function deleted(zxid: number, path: string, replaced: number): ChangeRecord {
  return { zxid, path, stat: null, childCount: -1, acl: [], nodeDigest: 0, replaced, treeDigest: null };
}

export function formatSeq(n: number): string {
  if (n < 0) return '-' + String(-n).padStart(9, '0');
  return String(n).padStart(10, '0');
}

export interface MultiOp {
  type: number;
  body: JuteReader;
}

/** the ops a write multi may hold (MultiOperationRecord), and a read multi (MultiReadRecord) */
const MULTI_WRITE_OPS = new Set<number>([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.setData,
  OpCode.check,
]);
const MULTI_READ_OPS = new Set<number>([OpCode.getChildren, OpCode.getData]);

/** Split a MultiOperationRecord into ops; each op's reader covers exactly its record. */
export function readMultiOps(r: JuteReader, read: boolean): MultiOp[] {
  const ops: MultiOp[] = [];
  const allowed = read ? MULTI_READ_OPS : MULTI_WRITE_OPS;
  for (;;) {
    const h = readMultiHeader(r);
    if (h.done) break;
    if (!allowed.has(h.type)) throw new KeeperError(Err.MARSHALLINGERROR, `invalid multi op type ${h.type}`);
    const start = r.offset;
    skipOpRecord(h.type, r);
    ops.push({ type: h.type, body: new JuteReader(r.buf, start, r.offset) });
  }
  return ops;
}

function skipOpRecord(type: number, r: JuteReader): void {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      readCreateRequest(r, type === OpCode.createTTL);
      return;
    case OpCode.delete:
    case OpCode.check:
      readPathVersion(r);
      return;
    case OpCode.setData:
      readSetDataRequest(r);
      return;
    case OpCode.getChildren:
    case OpCode.getData:
      r.readStr();
      r.readBool();
      return;
  }
}
