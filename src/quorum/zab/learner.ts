// A follower's or observer's side of Zab (Learner.syncWithLeader, Follower, Observer) as a pure
// state machine. Construct it when the connection to the leader is up: it sends FOLLOWERINFO /
// OBSERVERINFO at once. See ready.ts for what the caller does with a Ready.
//
// Durable before each learner message (ZOOKEEPER-3911 / 4643 / 4646 / 4685 fixed):
//   ACKEPOCH       acceptedEpoch = the leader's epoch (when it rose)
//   NEWLEADER ACK  1. every txn received during sync (TRUNC / the SNAP snapshot included) is in the
//                     durable txn log — the core waits for `persisted` to cover them;
//                  2. then currentEpoch = newEpoch (never before 1: a newer epoch over a shorter
//                     log would let this peer win an election without committed txns);
//                  txns of the new epoch received before NEWLEADER are logged only after 2, so the
//                  log never holds a txn of an epoch above currentEpoch except synced history
//                  (≤ acceptedEpoch; on restart take currentEpoch := max(currentEpoch, epoch of the
//                  last logged zxid)).
//   ACK(zxid)      the proposal is in the durable log (`persisted` covers it), and never before the
//                  NEWLEADER ACK (ZOOKEEPER-4685).
//   PING reply     nothing (carries the session touches since the last ping).
import { Id } from '../../jute/records';
import { encodeLearnerInfo, epochOf, makeZxid, packet, PacketType as T, PROTOCOL_VERSION, intData, QuorumPacket, readIntData, zxidHex } from './packets';
import { decodeDesignatedLeader, decodeRevalidateReply, encodeRequest, encodeRevalidate, encodeSessionTouches, ForwardedRequest, reconfigData, SessionTouch } from './payloads';
import { emptyReady, Ready, ZabTxn, ZabState, ZabTiming } from './ready';



export interface LearnerOptions extends ZabTiming {
  myid: number;
  leader: number;
  acceptedEpoch: number;
  currentEpoch: number;
  /** the last zxid of the durable txn log; the DataTree was rebuilt from it (and the snapshot) */
  lastLoggedZxid: number;
  /** LearnerInfo.configVersion */
  configVersion?: number;
  now: number;
  /** SIMULATOR SELF-TEST ONLY: ACK proposals as they arrive, before they are durable */
  unsafeAckBeforePersist?: boolean;
  /** SIMULATOR SELF-TEST ONLY (ZOOKEEPER-4643): write currentEpoch and ACK NEWLEADER before the synced txns are durable */
  unsafeAckNewLeaderBeforePersist?: boolean;
  /** SIMULATOR SELF-TEST ONLY: PING replies carry no session touches (the follower-session bug of issue 11) */
  unsafeDropTouches?: boolean;
}

type SyncMode = 'DIFF' | 'TRUNC' | 'SNAP';

export class ZabLearner {
  private st: ZabState = 'DISCOVERY';
  private ready = emptyReady();
  private accepted: number;
  private current: number;
  private epoch = -1;
  private mode: SyncMode | null = null;
  private lastHeard: number;
  /** highest zxid received in a PROPOSAL / INFORM (or the log end) */
  private lastReceived: number;
  /** highest zxid handed to logAppend (or the log end after TRUNC / SNAP) */
  private lastAppended: number;
  private persistedUpTo: number;
  private committed: number;
  /** proposals received and not yet committed, in zxid order */
  private readonly pending: ZabTxn[] = [];
  /** new-epoch txns waiting for currentEpoch to be written */
  private readonly held: ZabTxn[] = [];
  /** NEWLEADER received, its ACK waiting for the synced txns to be durable */
  private newLeaderZxid = -1;
  private newLeaderAcked = false;
  private ackedUpTo = -1;
  /**
   * Proposals to ACK once durable, in order, committed or not: a Java leader's LearnerHandler
   * (SyncLimitCheck) waits for an ACK of each proposal it tracks and drops a follower that skips
   * one after syncLimit ticks, even when the other followers' ACKs already committed it.
   */
  private toAck: number[] = [];
  /** the membership NEWLEADER carried: it comes into force at UPTODATE (Learner.syncWithLeader) */
  private newLeaderConfig: Buffer | null = null;
  private readonly touched = new Map<bigint, number>();

  constructor(
    private readonly o: LearnerOptions,
    readonly observer = false,
  ) {
    this.accepted = o.acceptedEpoch;
    this.current = o.currentEpoch;
    this.lastHeard = o.now;
    this.lastReceived = this.lastAppended = this.persistedUpTo = this.committed = o.lastLoggedZxid;
    this.ready.stateChange = 'DISCOVERY';
    const info = encodeLearnerInfo({ sid: o.myid, protocolVersion: PROTOCOL_VERSION, configVersion: o.configVersion ?? 0 });
    this.send(observer ? T.OBSERVERINFO : T.FOLLOWERINFO, makeZxid(this.accepted, 0), info);
  }

  get state(): ZabState {
    return this.st;
  }
  get leader(): number {
    return this.o.leader;
  }
  get acceptedEpoch(): number {
    return this.accepted;
  }
  get currentEpoch(): number {
    return this.current;
  }
  /** the leader's epoch (-1 before LEADERINFO) */
  get newEpoch(): number {
    return this.epoch;
  }
  get lastCommitted(): number {
    return this.committed;
  }
  get syncMode(): SyncMode | null {
    return this.mode;
  }

  takeReady(): Ready {
    const r = this.ready;
    this.ready = emptyReady();
    return r;
  }

  private send(type: number, zxid: number, data: Buffer | null = null, authinfo: Id[] | null = null): void {
    this.ready.send.push({ to: this.o.leader, packet: packet(type, zxid, data, authinfo) });
  }

  private setState(s: ZabState): void {
    this.st = s;
    this.ready.stateChange = s;
  }

  private fail(reason: string, protocol = false): void {
    if (this.st === 'LOOKING') return;
    this.setState('LOOKING');
    this.ready.serving = false;
    this.ready.reason = reason;
    if (protocol) this.ready.protocolError = reason;
  }

  /** The connection to the leader closed. */
  disconnected(): void {
    this.fail('connection to the leader closed');
  }

  step(from: number, p: QuorumPacket, now: number): void {
    if (this.st === 'LOOKING' || from !== this.o.leader) return;
    this.lastHeard = Math.max(this.lastHeard, now);
    switch (p.type) {
      case T.LEADERINFO:
        return this.onLeaderInfo(p);
      case T.DIFF:
      case T.TRUNC:
      case T.SNAP:
        return this.onSyncOp(p);
      case T.PROPOSAL:
        if (this.observer && this.st === 'BROADCAST') return; // "Ignoring proposal"
        return this.onProposal({ zxid: p.zxid, data: p.data ?? Buffer.alloc(0) });
      case T.COMMIT:
        if (this.observer && this.st === 'BROADCAST') return;
        return this.commit(p.zxid);
      case T.INFORM:
        if (!this.observer) return this.fail(`INFORM 0x${zxidHex(p.zxid)} sent to a follower`, true);
        this.onProposal({ zxid: p.zxid, data: p.data ?? Buffer.alloc(0) });
        return this.commit(p.zxid);
      case T.COMMITANDACTIVATE:
        if (this.observer) return this.fail(`COMMITANDACTIVATE 0x${zxidHex(p.zxid)} sent to an observer`, true);
        return this.commitAndActivate(p.zxid, p.data, false);
      case T.INFORMANDACTIVATE:
        if (!this.observer) return this.fail(`INFORMANDACTIVATE 0x${zxidHex(p.zxid)} sent to a follower`, true);
        return this.commitAndActivate(p.zxid, p.data, true);
      case T.NEWLEADER:
        if (p.data && p.data.length > 1) this.newLeaderConfig = p.data;
        return this.onNewLeader(p.zxid);
      case T.UPTODATE:
        if (!this.newLeaderAcked) return this.fail('UPTODATE before our NEWLEADER ACK', true);
        if (this.st === 'BROADCAST') return;
        this.setState('BROADCAST');
        this.ready.serving = true;
        this.send(T.ACK, makeZxid(this.epoch, 0));
        if (this.newLeaderConfig) this.ready.activate = { config: this.newLeaderConfig, leader: null };
        this.newLeaderConfig = null;
        return;
      case T.PING:
        // Learner.ping: echo zxid and authinfo, carry the session touches
        if (this.st !== 'BROADCAST') return;
        this.send(T.PING, p.zxid, encodeSessionTouches(this.takeTouches()), p.authinfo);
        return;
      case T.REVALIDATE:
        try {
          this.ready.revalidated.push(decodeRevalidateReply(p.data));
        } catch (e) {
          this.fail(`bad REVALIDATE reply: ${(e as Error).message}`, true);
        }
        return;
      case T.SYNC:
        this.ready.syncs++;
        return;
      default:
        return this.fail(`unexpected packet type ${p.type}`, true);
    }
  }

  private onLeaderInfo(p: QuorumPacket): void {
    if (this.st !== 'DISCOVERY') return this.fail('LEADERINFO out of order', true);
    const version = readIntData(p.data) ?? 0;
    if (version < PROTOCOL_VERSION) return this.fail(`leader protocol version ${version.toString(16)} is not supported`, true);
    const e = epochOf(p.zxid);
    if (e > this.accepted) {
      this.accepted = e;
      this.ready.writeEpoch.accepted = e;
      this.send(T.ACKEPOCH, this.lastAppended, intData(this.current));
    } else if (e === this.accepted) {
      this.send(T.ACKEPOCH, this.lastAppended, intData(-1));
    } else {
      return this.fail(`Leaders epoch, ${e} is less than accepted epoch, ${this.accepted}`);
    }
    this.epoch = e;
    this.setState('SYNCHRONIZATION');
  }

  private onSyncOp(p: QuorumPacket): void {
    if (this.st !== 'SYNCHRONIZATION' || this.mode) return this.fail(`sync packet type ${p.type} out of order`, true);
    if (p.type === T.DIFF) {
      this.mode = 'DIFF';
      return;
    }
    const z = p.type === T.TRUNC ? Math.min(p.zxid, this.lastAppended) : p.zxid;
    if (p.type === T.TRUNC) {
      this.mode = 'TRUNC';
      this.ready.truncate = z;
    } else {
      // the adapter has read the snapshot stream that followed SNAP; the caller installs it
      this.mode = 'SNAP';
      this.ready.snapshot = { receive: z };
    }
    this.lastReceived = this.lastAppended = this.committed = z;
    this.persistedUpTo = Math.min(this.persistedUpTo, z);
    if (p.type === T.SNAP) this.persistedUpTo = z;
  }

  private onProposal(t: ZabTxn): void {
    if (!this.mode) return this.fail(`proposal 0x${zxidHex(t.zxid)} before DIFF/TRUNC/SNAP`, true);
    if (t.zxid <= this.lastReceived) return this.fail(`proposal 0x${zxidHex(t.zxid)} not after 0x${zxidHex(this.lastReceived)}`, true);
    this.lastReceived = t.zxid;
    this.pending.push(t);
    const seen = reconfigData(t.data);
    if (seen) this.ready.seen = seen;
    if (!this.observer) this.toAck.push(t.zxid);
    if (!this.newLeaderAcked && epochOf(t.zxid) >= this.epoch && !this.o.unsafeAckNewLeaderBeforePersist) this.held.push(t);
    else this.append(t);
    if (this.o.unsafeAckBeforePersist && !this.observer && this.newLeaderAcked) {
      this.send(T.ACK, t.zxid);
      this.ackedUpTo = t.zxid;
    }
  }

  private append(t: ZabTxn): void {
    this.ready.logAppend.push(t);
    this.lastAppended = t.zxid;
  }

  private commit(zxid: number): void {
    const head = this.pending[0];
    if (!head || head.zxid !== zxid) {
      // Follower exits with UNMATCHED_TXN_COMMIT (code 12)
      return this.fail(`Committing zxid 0x${zxidHex(zxid)} but next pending txn ${head ? zxidHex(head.zxid) : 'none'}`, true);
    }
    this.pending.shift();
    // committed during sync: the NEWLEADER ACK covers it (Learner.syncWithLeader's packetsCommitted)
    if (!this.newLeaderAcked && this.toAck[0] === zxid) this.toAck.shift();
    this.committed = zxid;
    this.ready.commit.push(head);
  }

  /**
   * A reconfig committed (Follower/Observer processPacket): commit it — an observer first receives
   * it, it comes with the activation — and bring its membership into force with the designated
   * leader; the caller ends the role if this server's role or leader changes.
   */
  private commitAndActivate(zxid: number, data: Buffer | null, inform: boolean): void {
    let d;
    try {
      d = decodeDesignatedLeader(data);
    } catch (e) {
      return this.fail(`bad activation 0x${zxidHex(zxid)}: ${(e as Error).message}`, true);
    }
    if (inform) {
      this.onProposal({ zxid, data: Buffer.from(d.txn) });
      if (this.st === 'LOOKING') return;
    }
    const head = this.pending[0];
    const config = head && head.zxid === zxid ? reconfigData(head.data) : null;
    this.commit(zxid);
    if (this.st === 'LOOKING') return;
    if (!config) return this.fail(`activation 0x${zxidHex(zxid)} of a txn that is not a reconfig`, true);
    this.ready.activate = { config, leader: d.leader };
  }

  /** The host found that a new membership changes this server's role or leader: back to election. */
  leave(reason: string): void {
    this.fail(reason);
  }

  private onNewLeader(zxid: number): void {
    if (!this.mode || this.newLeaderZxid >= 0 || this.newLeaderAcked) return this.fail('NEWLEADER out of order', true);
    if (epochOf(zxid) !== this.epoch) return this.fail(`NEWLEADER epoch ${epochOf(zxid)} is not the leader's ${this.epoch}`, true);
    this.newLeaderZxid = zxid;
    this.maybeAckNewLeader();
  }

  /** The txn log is durable through `upToZxid`. */
  persisted(upToZxid: number): void {
    if (this.st === 'LOOKING' || upToZxid <= this.persistedUpTo) return;
    this.persistedUpTo = upToZxid;
    this.maybeAckNewLeader();
    this.ackPersisted();
  }

  private maybeAckNewLeader(): void {
    if (this.newLeaderZxid < 0) return;
    if (this.lastAppended > this.persistedUpTo && !this.o.unsafeAckNewLeaderBeforePersist) return;
    this.current = this.epoch;
    this.ready.writeEpoch.current = this.epoch;
    for (const t of this.held.splice(0)) this.append(t);
    this.send(T.ACK, this.newLeaderZxid);
    this.newLeaderZxid = -1;
    this.newLeaderAcked = true;
    this.ackPersisted();
  }

  /** ACK every proposal now durable, one by one (followers, after the NEWLEADER ACK only). */
  private ackPersisted(): void {
    if (!this.newLeaderAcked || this.observer) return;
    let n = 0;
    while (n < this.toAck.length && this.toAck[n] <= this.persistedUpTo) {
      const z = this.toAck[n++];
      if (z <= this.ackedUpTo) continue;
      this.send(T.ACK, z);
      this.ackedUpTo = z;
    }
    if (n) this.toAck.splice(0, n);
  }

  tick(now: number): void {
    if (this.st === 'LOOKING') return;
    // SO_TIMEOUT: initLimit ticks until NEWLEADER is acked, syncLimit ticks after
    const limit = (this.newLeaderAcked ? this.o.syncLimit : this.o.initLimit) * this.o.tickTime;
    if (now - this.lastHeard > limit) this.fail(`no packet from the leader for ${now - this.lastHeard} ms`);
  }

  // ---- requests from this server's clients ----

  /** Forward a client write (or sync, createSession, closeSession) to the leader. */
  request(req: ForwardedRequest, authinfo: Id[] = []): void {
    this.send(T.REQUEST, -1, encodeRequest(req), authinfo);
  }

  /** A client reconnected here with an existing session: ask the leader (§9). */
  revalidate(session: SessionTouch): void {
    this.send(T.REVALIDATE, -1, encodeRevalidate(session));
  }

  /** Session activity to report in the next PING reply. */
  touchSession(sessionId: bigint, timeoutMs: number): void {
    this.touched.set(sessionId, timeoutMs);
  }

  private takeTouches(): SessionTouch[] {
    if (this.o.unsafeDropTouches) this.touched.clear();
    const out = [...this.touched].map(([sessionId, timeoutMs]) => ({ sessionId, timeoutMs }));
    this.touched.clear();
    return out;
  }
}

export class ZabFollower extends ZabLearner {
  constructor(o: LearnerOptions) {
    super(o, false);
  }
}

/** Observers: OBSERVERINFO, never counted in a quorum, never ACK proposals, INFORM after UPTODATE. */
export class ZabObserver extends ZabLearner {
  constructor(o: LearnerOptions) {
    super(o, true);
  }
}
