// LearnerZooKeeperServer (a follower's or an observer's pipeline, as ZooKeeper's
// FollowerZooKeeperServer / ObserverZooKeeperServer): reads are served from the local DataTree;
// writes, syncs and session creation go to the leader as Zab REQUESTs (the Forwarder, bound to
// the learner core by LearnerRole in src/quorum/following.ts); the txns the leader commits are
// applied in zxid order (`applyCommitted`), answering the local client that asked for each. A
// reconnecting session is revalidated with the leader (REVALIDATE) before it is answered, and
// every use of a session is reported to the core for the next PING reply.
import { Id, TxnHeader } from '../jute/records';
import { OpCode } from '../data/constants';
import { DataTree } from '../data/datatree';
import { Txn, TxnDigest } from '../data/txn';
import { Cnxn, Logger, Request } from './cnxn';
import { ServerRole, ServerSettings, ZooKeeperServer } from './zkserver';

/** How a learner talks to its leader: writes go as Zab REQUESTs, session activity in PING replies. */
export interface Forwarder {
  forward(sessionId: bigint, cxid: number, type: number, body: Buffer, authIds: Id[]): void;
  /** a client of this learner used its session: report it to the leader (LearnerSessionTracker.touchSession) */
  touch(sessionId: bigint, timeoutMs: number): void;
  /** a client reconnected with this session: ask the leader (REVALIDATE); the answer comes to `revalidated` */
  revalidate(sessionId: bigint, timeoutMs: number): void;
}

export class LearnerZooKeeperServer extends ZooKeeperServer {
  /**
   * Writes sent to the leader, waiting for their commit: by session, then cxid. Every committed txn
   * is looked up here (most are other servers'), so no key string is built for it; a session's
   * table goes when its closeSession is applied, with whatever a lost leader never committed.
   */
  private readonly forwarded = new Map<bigint, Map<number, { cnxn: Cnxn; req: Request }>>();
  /** sync requests waiting for the leader's SYNC, oldest first */
  private readonly pendingSyncs: { cnxn: Cnxn; req: Request }[] = [];
  /** reconnects waiting for the leader's REVALIDATE answer, by session */
  private readonly revalidating = new Map<bigint, Cnxn[]>();

  constructor(
    tree: DataTree,
    settings: ServerSettings,
    private readonly leader: Forwarder,
    logger: Logger,
  ) {
    super(tree, settings, undefined, logger);
  }

  override get role(): ServerRole {
    return 'learner';
  }

  /** The leader expires global sessions and deletes containers; local sessions expire here. */
  override startTimers(): void {
    this.startLocalSessionTimer();
  }

  protected override isWrite(type: number): boolean {
    return super.isWrite(type) || type === OpCode.sync;
  }

  protected override touchSession(c: Cnxn): void {
    super.touchSession(c);
    this.leader.touch(c.sessionId, c.sessionTimeout);
  }

  protected override createSession(_c: Cnxn, id: bigint, timeout: number): void {
    const body = Buffer.alloc(4);
    body.writeInt32BE(timeout, 0);
    this.leader.touch(id, timeout);
    this.leader.forward(id, 0, OpCode.createSession, body, []);
  }

  /** LearnerZooKeeperServer.revalidateSession: the leader's session tracker decides. */
  protected override revalidateSession(c: Cnxn, sessionId: bigint, timeout: number): boolean {
    c.sessionId = sessionId;
    c.state = 'handshake';
    const waiting = this.revalidating.get(sessionId);
    if (waiting) waiting.push(c);
    else {
      this.revalidating.set(sessionId, [c]);
      this.leader.revalidate(sessionId, timeout);
    }
    return true;
  }

  /** The leader answered a REVALIDATE. */
  revalidated(sessionId: bigint, valid: boolean): void {
    const waiting = this.revalidating.get(sessionId);
    if (!waiting) return;
    this.revalidating.delete(sessionId);
    for (const c of waiting) {
      if (c.state !== 'handshake' || !this.cnxns.has(c)) continue;
      if (!valid) {
        this.logger.info({ sessionId: '0x' + BigInt.asUintN(64, sessionId).toString(16) }, 'the leader says the session is invalid; refusing the reconnect');
        this.sendConnectResponse(c, 0, 0n, Buffer.alloc(16));
        this.closeCnxn(c);
        continue;
      }
      const old = this.bySession.get(sessionId);
      if (old && old !== c) this.closeCnxn(old);
      const s = this.sessions.sessions.get(sessionId);
      if (s) s.timeout = c.sessionTimeout;
      this.leader.touch(sessionId, c.sessionTimeout);
      this.openSession(c, sessionId, c.sessionTimeout);
    }
  }

  protected override submitWrite(c: Cnxn, req: Request): void {
    if (req.type === OpCode.closeSession) req.closeAfter = true;
    const body = req.body.buf.subarray(req.body.offset, req.body.end);
    if (req.type === OpCode.sync) this.pendingSyncs.push({ cnxn: c, req });
    else {
      let mine = this.forwarded.get(c.sessionId);
      if (mine === undefined) this.forwarded.set(c.sessionId, (mine = new Map()));
      if (mine.get(req.xid)?.cnxn === c) {
        // the commit is matched to its request by session and xid: a client that sends a second
        // write with the xid of one still outstanding breaks the protocol (its replies would go
        // to the wrong request), so that connection is closed
        this.logger.warn({ remote: c.io.remoteAddress, xid: req.xid }, 'a write reuses the xid of one still outstanding, closing connection');
        this.closeCnxn(c);
        return;
      }
      mine.set(req.xid, { cnxn: c, req });
    }
    this.leader.forward(c.sessionId, req.xid, req.type, body, c.authIds);
  }

  /** A txn Zab committed, in zxid order. Answers the local client that asked for it. */
  applyCommitted(hdr: TxnHeader, txn: Txn, digest: TxnDigest | null = null): void {
    const mine = this.forwarded.get(hdr.clientId);
    let f = hdr.type === OpCode.createSession ? undefined : mine?.get(hdr.cxid);
    // the txn of the request waiting under this xid, or an error txn for it; a txn of another type
    // answers another request (one sent with the same xid on an earlier connection of the session)
    if (f && hdr.type !== f.req.type && hdr.type !== OpCode.error) f = undefined;
    if (f) mine!.delete(hdr.cxid);
    if (hdr.type === OpCode.closeSession) this.forwarded.delete(hdr.clientId);
    if (hdr.zxid > this.lastZxidAssigned) this.lastZxidAssigned = hdr.zxid;
    this.applyTxn({ hdr, txn, cnxn: f?.cnxn ?? null, req: f?.req ?? null, digest });
  }

  /** The leader's SYNC arrived: the oldest pending sync is answered. */
  syncDone(): void {
    const p = this.pendingSyncs.shift();
    if (p) this.answerSync(p.cnxn, p.req);
  }
}
