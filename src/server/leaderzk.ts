// LeaderZooKeeperServer: the pipeline of the quorum's leader. Its log stage is Zab: every txn is
// proposed (the TxnLogSink of LeaderRole, src/quorum/leading.ts) and applied only when Zab pushes
// its commit (`commitUpTo`, from the executor's apply step through LeaderRole's SnapSender, which
// holds commits while a SNAP stream is encoded so the stream is the tree at its zxid). Sessions
// are the Zab core's tracker: the core expires them on its ticks and the leader closes each with
// `expireSession`. Writes its learners forward arrive through `submitRemote`.
import { JuteReader } from '../jute/archive';
import { Id, TxnHeader } from '../jute/records';
import { Err, KeeperError, OpCode } from '../data/constants';
import { DataTree } from '../data/datatree';
import { SessionTracker } from '../data/session';
import { Txn } from '../data/txn';
import { Cnxn, Logger, Request } from './cnxn';
import { PendingTxn, ServerRole, ServerSettings, TxnLogSink, ZooKeeperServer } from './zkserver';

export class LeaderZooKeeperServer extends ZooKeeperServer {
  /** the last zxid commitHeld looked at */
  private sessionsTrackedUpTo = 0;
  /** the highest zxid Zab committed while its application was held (commitHeld) */
  private committedHeld = 0;
  /** the highest zxid commitUpTo applied the txns up to */
  private committedApplied = 0;
  /** syncs of this leader's own clients that wait for held commits to be applied, oldest first */
  private readonly heldSyncs: { zxid: number; cnxn: Cnxn; req: Request }[] = [];

  constructor(
    tree: DataTree,
    settings: ServerSettings,
    proposals: TxnLogSink,
    logger: Logger,
    sessions: SessionTracker,
    /**
     * linearizableSync (zk-server only): a sync is answered once a no-op txn proposed after it
     * commits — a quorum has acknowledged this leader since the sync arrived, so a read after it
     * sees every write committed before the sync began, even if this leader was paused or cut off
     */
    private readonly linearizableSync = false,
  ) {
    super(tree, settings, proposals, logger, undefined, sessions);
  }

  /** A sync is ordered with the connection's other requests as a write is (a read after it waits for it). */
  protected override isWrite(type: number): boolean {
    return super.isWrite(type) || type === OpCode.sync;
  }

  /**
   * A sync of this leader's own client. ZooKeeper's leader answers it at once (its CommitProcessor
   * does not match syncs): every txn committed by then is applied there. Here the application of
   * commits can be held while a SNAP stream is encoded (snapsend.ts), and a follower or observer
   * may already have answered a write the leader's tree does not show yet: the sync then waits
   * until the tree has every txn committed before it, so that a read after it sees that write.
   */
  protected override submitWrite(c: Cnxn, req: Request): void {
    if (req.type !== OpCode.sync) return super.submitWrite(c, req);
    if (this.linearizableSync) return this.queueTxn(this.noop(c.sessionId, req.xid, c, req));
    if (this.committedApplied >= this.committedHeld) return this.answerSync(c, req);
    this.heldSyncs.push({ zxid: this.committedHeld, cnxn: c, req });
  }

  /** linearizableSync: a no-op txn (an error txn with code 0, as a top-level check makes) for a learner's sync. */
  proposeNoop(): void {
    this.queueTxn(this.noop(0n, 0, null, null));
  }

  private noop(sessionId: bigint, cxid: number, cnxn: Cnxn | null, req: Request | null): PendingTxn {
    const hdr: TxnHeader = { clientId: sessionId, cxid, zxid: this.nextZxid(), time: Date.now(), type: OpCode.error };
    return { hdr, txn: { type: OpCode.error, err: 0 }, cnxn, req };
  }

  override get role(): ServerRole {
    return 'leader';
  }

  /** The Zab core expires sessions (Ready.expired -> expireSession); only containers have a timer here. */
  override startTimers(): void {
    this.startContainerTimer();
    this.startLocalSessionTimer();
  }

  /** Txns wait for Zab's commit (`commitUpTo`) instead of a local fsync. */
  protected override logged(): void {}

  /** Leader of a new epoch: the next txn gets zxid base + 1. */
  setZxidBase(zxid: number): void {
    this.lastZxidAssigned = zxid;
  }

  /** Zab committed everything up to `zxid`: apply those txns now, in order, and answer their clients. */
  commitUpTo(zxid: number): void {
    let i = 0;
    const q = this.pendingTxns;
    while (i < q.length && q[i].hdr.zxid <= zxid) this.applyTxn(q[i++]);
    if (i > 0) this.pendingTxns = i === q.length ? [] : q.slice(i);
    if (zxid > this.committedApplied) this.committedApplied = zxid;
    // syncs waiting for commits up to this one (the tree has every txn of them this leader proposed)
    const s = this.heldSyncs;
    while (s.length > 0 && s[0].zxid <= zxid) {
      const { cnxn, req } = s.shift()!;
      this.answerSync(cnxn, req);
    }
  }

  /**
   * Zab committed everything up to `zxid`, but the txns wait to be applied (LeaderRole holds them
   * while a SNAP stream is encoded): the sessions they create are tracked now, as their commit
   * would have done, so that a learner's REVALIDATE or PING for one is not answered "unknown"
   * meanwhile (a client that reconnected at once lost its session). ZooKeeper's leader tracks a
   * session from its prep on. Applying the txn later tracks it again, which only touches it.
   * A sync of this leader's own client waits for these txns (submitWrite).
   */
  commitHeld(zxid: number): void {
    if (zxid > this.committedHeld) this.committedHeld = zxid;
    const q = this.pendingTxns;
    // from the first txn not looked at yet (binary search: the queue is in zxid order)
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q[mid].hdr.zxid <= this.sessionsTrackedUpTo) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < q.length && q[i].hdr.zxid <= zxid; i++) {
      const p = q[i];
      if (p.hdr.type === OpCode.createSession) this.sessions.add(p.hdr.clientId, (p.txn as { timeOut: number }).timeOut);
    }
    if (zxid > this.sessionsTrackedUpTo) this.sessionsTrackedUpTo = zxid;
  }

  /** A write a learner forwarded (REQUEST). Its reply is the learner's job. */
  submitRemote(sessionId: bigint, cxid: number, type: number, body: Buffer, authIds: Id[]): void {
    const zxid = this.nextZxid();
    const hdr: TxnHeader = { clientId: sessionId, cxid, zxid, time: Date.now(), type };
    let txn: Txn;
    if (type === OpCode.createSession) {
      txn = { type: OpCode.createSession, timeOut: body.length >= 4 ? body.readInt32BE(0) : this.settings.minSessionTimeout };
    } else if (type === OpCode.closeSession) {
      txn = this.prep.prepCloseSession(sessionId, zxid);
      const s = this.sessions.sessions.get(sessionId);
      if (s) s.closing = true;
    } else {
      try {
        txn = this.prep.prepare({ sessionId, type, body: new JuteReader(body), authIds }, zxid, hdr.time);
      } catch (e) {
        hdr.type = OpCode.error;
        txn = { type: OpCode.error, err: e instanceof KeeperError ? e.code : Err.MARSHALLINGERROR };
      }
      if (txn.type === OpCode.check) {
        hdr.type = OpCode.error;
        txn = { type: OpCode.error, err: 0 };
      }
    }
    this.queueTxn({ hdr, txn, cnxn: null, req: null });
  }
}
