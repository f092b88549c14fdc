// LEGACY: the first Zab learner core, still driven by src/quorum/peer.ts until that adapter moves to
// ZabFollower/ZabObserver (../learner.ts). New code should use ../learner.ts.
// A follower's or observer's side of Zab (ZooKeeper's Learner.syncWithLeader, Follower, Observer)
// as a pure state machine. What must be durable before each ACK (ZOOKEEPER-3911/4643/4646):
//  - ACKEPOCH goes out only after acceptedEpoch is written (Ready.epochs precedes Ready.send);
//  - currentEpoch is written, and the NEWLEADER ACK sent, only after every proposal received during
//    sync is in the txn log (persisted);
//  - a PROPOSAL is ACKed only after `persisted` covers its zxid.
import { emptyReady, epochOf, intData, learnerInfo, makeZxid, Packet, Pkt, Proposal, Ready, ZabState } from '../types';

export interface LearnerOptions {
  myid: number;
  leader: number;
  observer: boolean;
  acceptedEpoch: number;
  currentEpoch: number;
  lastLoggedZxid: number;
  initLimitTicks: number;
  syncLimitTicks: number;
  /** unsafe rule switch for the simulator's self-test: ACK proposals before they are persisted */
  unsafeAckBeforePersist?: boolean;
}

export class LearnerCore {
  state: ZabState = 'DISCOVERY';
  private ready = emptyReady();
  acceptedEpoch: number;
  currentEpoch: number;
  newEpoch = -1;
  lastLogged: number;
  lastCommitted = -1;
  private persistedUpTo: number;
  /** logged (or to be logged) proposals not yet committed, in zxid order */
  private readonly pending: Proposal[] = [];
  /** zxids committed during sync whose proposals are not yet applied */
  private syncing = false;
  private snapMode = false;
  /** NEWLEADER seen: waiting for the sync proposals to be persisted before the ACK */
  private newLeaderAckAt = -1;
  private ticksSinceHeard = 0;
  /** highest zxid appended while syncing (must be durable before the NEWLEADER ACK) */
  private syncAppendMax = -1;
  private ackedUpTo = -1;
  /** proposals received after NEWLEADER, logged once currentEpoch is written */
  private readonly held: Proposal[] = [];
  private established = false;

  constructor(private readonly o: LearnerOptions) {
    this.acceptedEpoch = o.acceptedEpoch;
    this.currentEpoch = o.currentEpoch;
    this.lastLogged = o.lastLoggedZxid;
    this.persistedUpTo = o.lastLoggedZxid;
  }

  takeReady(): Ready {
    const r = this.ready;
    this.ready = emptyReady();
    return r;
  }

  private send(type: number, zxid: number, data: Buffer | null = null): void {
    this.ready.send.push({ to: this.o.leader, p: { type, zxid, data } });
  }

  private fail(reason: string): void {
    if (this.state === 'LOOKING') return;
    this.state = 'LOOKING';
    this.ready.state = 'LOOKING';
    this.ready.serving = false;
    this.ready.reason = reason;
  }

  /** The connection to the leader is up: introduce ourselves. */
  start(): void {
    this.send(this.o.observer ? Pkt.OBSERVERINFO : Pkt.FOLLOWERINFO, makeZxid(this.acceptedEpoch, 0), learnerInfo(this.o.myid));
  }

  /** The connection to the leader closed. */
  disconnected(): void {
    this.fail('connection to the leader closed');
  }

  step(p: Packet): void {
    if (this.state === 'LOOKING') return;
    this.ticksSinceHeard = 0;
    switch (p.type) {
      case Pkt.LEADERINFO: {
        const e = epochOf(p.zxid);
        if (e > this.acceptedEpoch) {
          this.acceptedEpoch = e;
          this.ready.epochs.accepted = e;
          this.send(Pkt.ACKEPOCH, this.lastLogged, intData(this.currentEpoch));
        } else if (e === this.acceptedEpoch) {
          this.send(Pkt.ACKEPOCH, this.lastLogged, intData(-1));
        } else {
          return this.fail(`Leaders epoch, ${e} is less than accepted epoch, ${this.acceptedEpoch}`);
        }
        this.newEpoch = e;
        this.state = 'SYNCHRONIZATION';
        this.ready.state = 'SYNCHRONIZATION';
        return;
      }
      case Pkt.DIFF:
        this.syncing = true;
        return;
      case Pkt.TRUNC:
        this.syncing = true;
        this.ready.truncateTo = p.zxid;
        this.lastLogged = p.zxid;
        this.persistedUpTo = Math.min(this.persistedUpTo, p.zxid);
        return;
      case Pkt.SNAP:
        // the caller reads the snapshot stream that follows and calls snapshotLoaded
        this.syncing = true;
        this.snapMode = true;
        return;
      case Pkt.PROPOSAL:
        if (this.o.observer && this.established) return; // observers only take INFORM once synced
        this.pending.push({ zxid: p.zxid, data: p.data ?? Buffer.alloc(0) });
        if (p.zxid > this.lastLogged) this.lastLogged = p.zxid;
        if (this.established) {
          const prop = { zxid: p.zxid, data: p.data ?? Buffer.alloc(0) };
          // a new-epoch txn must not reach the log before currentEpoch does (else a restart finds
          // "current epoch older than the last zxid"): hold it until the NEWLEADER ACK
          if (this.newLeaderAckAt >= 0) this.held.push(prop);
          else this.ready.append.push(prop);
          if (this.o.unsafeAckBeforePersist) this.send(Pkt.ACK, p.zxid);
        }
        return;
      case Pkt.COMMIT:
        return this.commit(p.zxid);
      case Pkt.INFORM: {
        const prop = { zxid: p.zxid, data: p.data ?? Buffer.alloc(0) };
        this.pending.push(prop);
        if (p.zxid > this.lastLogged) this.lastLogged = p.zxid;
        if (this.newLeaderAckAt >= 0) this.held.push(prop);
        else this.ready.append.push(prop);
        return this.commit(p.zxid);
      }
      case Pkt.NEWLEADER: {
        // log everything received during sync, write currentEpoch, then ACK once persisted
        const newEpoch = epochOf(p.zxid);
        for (const prop of this.pending) {
          if (prop.zxid <= this.persistedUpTo) continue;
          // txns of the new epoch wait for currentEpoch; older ones are the history being synced
          if (epochOf(prop.zxid) >= newEpoch) {
            this.held.push(prop);
            continue;
          }
          this.ready.append.push(prop);
          if (prop.zxid > this.syncAppendMax) this.syncAppendMax = prop.zxid;
        }
        // currentEpoch is written only once these proposals are durable (ZOOKEEPER-4643/4646:
        // a crash between the two must not leave a newer epoch over a shorter log)
        this.newLeaderAckAt = p.zxid;
        this.established = true;
        this.syncing = false;
        this.maybeAckNewLeader();
        return;
      }
      case Pkt.UPTODATE:
        this.state = 'BROADCAST';
        this.ready.state = 'BROADCAST';
        this.ready.serving = true;
        this.send(Pkt.ACK, makeZxid(this.newEpoch, 0));
        return;
      case Pkt.PING:
        this.send(Pkt.PING, p.zxid, null);
        return;
      case Pkt.SYNC:
        this.ready.syncs++;
        return;
      default:
        return;
    }
  }

  /** A SNAP sync's snapshot stream was loaded: the tree is the leader's at `zxid`. */
  snapshotLoaded(zxid: number): void {
    this.lastLogged = zxid;
    this.lastCommitted = zxid;
    this.persistedUpTo = zxid;
    this.snapMode = false;
  }

  private commit(zxid: number): void {
    // commits arrive in zxid order and must match the oldest pending proposal
    while (this.pending.length > 0 && this.pending[0].zxid < zxid) {
      // an older proposal never committed cannot precede a newer commit
      return this.fail(`Committing zxid 0x${zxid.toString(16)} but next pending txn 0x${this.pending[0].zxid.toString(16)}`);
    }
    if (this.pending.length === 0 || this.pending[0].zxid !== zxid) {
      if (zxid <= this.lastCommitted) return;
      return this.fail(`Committing zxid 0x${zxid.toString(16)} with no matching proposal`);
    }
    const p = this.pending.shift()!;
    this.lastCommitted = zxid;
    if (!this.established) {
      // committed during sync: applied now, logged at NEWLEADER with the rest (its log record
      // is written before the NEWLEADER ACK)
      this.ready.append.push(p);
      this.ready.commit.push(p);
      if (p.zxid > this.syncAppendMax) this.syncAppendMax = p.zxid;
      return;
    }
    this.ready.commit.push(p);
  }

  /** The txn log is durable through zxid. */
  persisted(zxid: number): void {
    if (zxid <= this.persistedUpTo) return;
    this.persistedUpTo = zxid;
    this.maybeAckNewLeader();
    this.ackPersisted();
  }

  /** ACK every pending proposal now durable, once the NEWLEADER ACK is out (never before it). */
  private ackPersisted(): void {
    if (!this.established || this.newLeaderAckAt >= 0 || this.o.observer || this.o.unsafeAckBeforePersist) return;
    for (const p of this.pending) {
      if (p.zxid > this.ackedUpTo && p.zxid <= this.persistedUpTo) {
        this.send(Pkt.ACK, p.zxid);
        this.ackedUpTo = p.zxid;
      }
    }
  }

  private maybeAckNewLeader(): void {
    if (this.newLeaderAckAt < 0) return;
    if (this.syncAppendMax > this.persistedUpTo) return;
    this.currentEpoch = epochOf(this.newLeaderAckAt);
    this.ready.epochs.current = this.currentEpoch;
    if (!this.o.observer) this.send(Pkt.ACK, this.newLeaderAckAt);
    this.newLeaderAckAt = -1;
    // proposals that arrived after NEWLEADER go to the log now, after the epoch
    for (const p of this.held.splice(0)) this.ready.append.push(p);
    this.ackPersisted();
  }

  tick(): void {
    if (this.state === 'LOOKING') return;
    this.ticksSinceHeard++;
    const limit = this.state === 'BROADCAST' ? this.o.syncLimitTicks : this.o.initLimitTicks;
    if (this.ticksSinceHeard > limit) this.fail('no packet from the leader within the limit');
  }

  /** Forward a client write (REQUEST payload built by the caller). */
  request(data: Buffer, authinfo: { scheme: string; id: string }[] = []): void {
    this.ready.send.push({ to: this.o.leader, p: { type: Pkt.REQUEST, zxid: -1, data, authinfo } });
  }

  get isSyncing(): boolean {
    return this.syncing || this.snapMode;
  }
}
