// ReadOnlyZooKeeperServer: what a peer serves while it has no quorum, with readonlymode.enabled
// (QuorumPeer starts it after LOOKING for max(2000 ms, tickTime) and stops it when the peer joins
// a leader again). Only clients that asked for read-only (ConnectRequest.readOnly) are taken; they
// read the tree as this peer last had it, and every write and sync gets NOTREADONLY
// (ReadOnlyRequestProcessor). Sessions made here are local to this peer, never logged, and gone
// with the read-only server; a global session that reconnects here is refused, as ZooKeeper does,
// so that it fails over to a peer with a quorum instead.
//
// ZooKeeper 3.8.0 gives new clients a session here only with localSessionsEnabled=true (without it
// the createSession request itself is refused and the client sees ConnectionLoss); zk-server
// always makes them local sessions, so the read-only options of the clients work without it.
import { Err, OpCode } from '../data/constants';
import { DataTree } from '../data/datatree';
import { SessionTracker } from '../data/session';
import { Cnxn, Logger, Request } from './cnxn';
import { MemoryLog, replyHeaderFrame, ServerRole, ServerSettings, ZooKeeperServer } from './zkserver';
import { monotonicNow } from '../util/clock';

export class ReadOnlyZooKeeperServer extends ZooKeeperServer {
  constructor(tree: DataTree, settings: ServerSettings, logger: Logger) {
    // its sessions are local by construction: the localSessions machinery stays off
    super(tree, { ...settings, localSessionsEnabled: false }, new MemoryLog(), logger, undefined, new SessionTracker(settings.tickTime, settings.serverId, monotonicNow));
    // the base adds the tree's global sessions; they are not this server's to track or expire
    for (const id of tree.sessions.keys()) this.sessions.remove(id);
  }

  override get role(): ServerRole {
    return 'read-only';
  }

  protected override get readOnly(): boolean {
    return true;
  }

  protected override acceptsClient(readOnlyRequested: boolean): boolean {
    return readOnlyRequested;
  }

  /** local session: no txn */
  protected override createSession(c: Cnxn, id: bigint, timeout: number): void {
    this.creating.delete(id);
    this.sessions.add(id, timeout);
    this.openSession(c, id, timeout);
  }

  /** "Refusing global session reconnection in RO mode": the client goes on to another server */
  protected override revalidateSession(c: Cnxn, sessionId: bigint): boolean {
    if (!this.tree.sessions.has(sessionId)) return false;
    this.logger.info({ remote: c.io.remoteAddress, sessionId: '0x' + BigInt.asUintN(64, sessionId).toString(16) }, 'Refusing global session reconnection in RO mode');
    this.closeCnxn(c);
    return true;
  }

  protected override isWrite(type: number): boolean {
    return super.isWrite(type) || type === OpCode.sync;
  }

  protected override submitWrite(c: Cnxn, req: Request): void {
    if (req.type === OpCode.closeSession) {
      // a local session: closed here, without a txn
      this.sessions.remove(c.sessionId);
      req.reply = replyHeaderFrame(req.xid, this.tree.lastProcessedZxid, Err.OK);
      req.closeAfter = true;
    } else {
      req.reply = replyHeaderFrame(req.xid, this.tree.lastProcessedZxid, Err.NOTREADONLY);
    }
    req.done = true;
    this.drain(c);
  }

  /** Local sessions expire here, without a txn; no container or TTL deletions (they would be writes). */
  override startTimers(): void {
    this.expireLocallyEveryTick(this.sessions);
  }
}
