// LEGACY: the first Zab leader core, still driven by src/quorum/peer.ts until that adapter moves to
// ZabLeader (../leader.ts). New code should use ../leader.ts.
// The leader's side of Zab (ZooKeeper's Leader + LearnerHandler) as a pure state machine:
// discovery (new epoch), synchronisation (DIFF / TRUNC / SNAP then NEWLEADER), broadcast
// (PROPOSAL, ACK, COMMIT, INFORM) and liveness (PING, step down without a quorum).
import { emptyReady, epochOf, intData, makeZxid, Packet, Pkt, Proposal, Ready, ZabState } from '../types';

export interface LeaderOptions {
  myid: number;
  voters: number[];
  observers?: number[];
  acceptedEpoch: number;
  currentEpoch: number;
  /** last zxid in the leader's txn log */
  lastZxid: number;
  /** the most recent committed proposals (the leader's log tail), oldest first */
  committedLog: Proposal[];
  initLimitTicks: number;
  syncLimitTicks: number;
}

interface LearnerState {
  sid: number;
  observer: boolean;
  acceptedEpoch: number;
  /** from ACKEPOCH */
  lastZxid?: number;
  /** sync packets sent and NEWLEADER queued: it receives live proposals from now on */
  forwarding: boolean;
  ackedNewLeader: boolean;
  upToDate: boolean;
  lastHeardTick: number;
}

export class LeaderCore {
  state: ZabState = 'DISCOVERY';
  newEpoch = -1;
  private readonly learners = new Map<number, LearnerState>();
  private readonly voters: Set<number>;
  private readonly observers: Set<number>;
  private ready = emptyReady();
  private tickNo = 0;
  private readonly committed: Proposal[];
  /** proposed and not yet committed, in zxid order */
  private readonly outstanding: { p: Proposal; acks: Set<number> }[] = [];
  lastProposed: number;
  lastCommitted: number;
  private persistedUpTo: number;
  private established = false;
  /** sync requests waiting for the commit of a zxid */
  private readonly pendingSyncs: { sid: number; zxid: number }[] = [];

  constructor(private readonly o: LeaderOptions) {
    this.voters = new Set(o.voters);
    this.observers = new Set(o.observers ?? []);
    this.committed = [...o.committedLog];
    this.lastProposed = o.lastZxid;
    this.lastCommitted = o.lastZxid;
    this.persistedUpTo = o.lastZxid;
  }

  private quorum(ids: Iterable<number>): boolean {
    let n = 0;
    for (const id of ids) if (this.voters.has(id)) n++;
    return n * 2 > this.voters.size;
  }

  takeReady(): Ready {
    const r = this.ready;
    this.ready = emptyReady();
    return r;
  }

  private send(to: number, type: number, zxid: number, data: Buffer | null = null): void {
    this.ready.send.push({ to, p: { type, zxid, data } });
  }

  private stepDown(reason: string): void {
    if (this.state === 'LOOKING') return;
    this.state = 'LOOKING';
    this.ready.state = 'LOOKING';
    this.ready.serving = false;
    this.ready.reason = reason;
  }

  /** A learner's connection closed. */
  disconnected(sid: number): void {
    this.learners.delete(sid);
    this.forgetAcks(sid);
  }

  /** A learner that reconnects is synced again (maybe TRUNCated): its earlier ACKs no longer count. */
  private forgetAcks(sid: number): void {
    for (const o of this.outstanding) o.acks.delete(sid);
  }

  step(from: number, p: Packet): void {
    if (this.state === 'LOOKING') return;
    const l = this.learners.get(from);
    if (l) l.lastHeardTick = this.tickNo;
    switch (p.type) {
      case Pkt.FOLLOWERINFO:
      case Pkt.OBSERVERINFO:
        return this.onInfo(from, p);
      case Pkt.ACKEPOCH:
        return this.onAckEpoch(from, p);
      case Pkt.ACK:
        return this.onAck(from, p.zxid);
      case Pkt.REQUEST:
        if (p.data) this.ready.requests.push({ from, data: p.data, authinfo: p.authinfo ?? [] });
        return;
      case Pkt.PING:
        this.ready.touches.push({ from, data: p.data });
        return;
      default:
        return;
    }
  }

  private onInfo(sid: number, p: Packet): void {
    const observer = p.type === Pkt.OBSERVERINFO || this.observers.has(sid);
    const acceptedEpoch = epochOf(p.zxid);
    this.forgetAcks(sid);
    this.learners.set(sid, {
      sid,
      observer,
      acceptedEpoch,
      forwarding: false,
      ackedNewLeader: false,
      upToDate: false,
      lastHeardTick: this.tickNo,
    });
    if (this.newEpoch < 0) {
      const infos = [...this.learners.values()].filter((x) => !x.observer).map((x) => x.sid);
      if (this.quorum([this.o.myid, ...infos])) {
        let max = this.o.acceptedEpoch;
        for (const x of this.learners.values()) if (!x.observer) max = Math.max(max, x.acceptedEpoch);
        this.newEpoch = max + 1;
        this.ready.epochs.accepted = this.newEpoch;
        // the first txn of the new epoch is counter 1
        this.lastProposed = makeZxid(this.newEpoch, 0);
        for (const x of this.learners.values()) this.send(x.sid, Pkt.LEADERINFO, makeZxid(this.newEpoch, 0), intData(0x10000));
      }
    } else {
      this.send(sid, Pkt.LEADERINFO, makeZxid(this.newEpoch, 0), intData(0x10000));
    }
  }

  private onAckEpoch(sid: number, p: Packet): void {
    const l = this.learners.get(sid);
    if (!l || this.newEpoch < 0) return;
    const theirCurrent = p.data && p.data.length >= 4 ? p.data.readInt32BE(0) : -1;
    // a learner more recent than the leader cannot follow it
    const mine = { e: this.o.currentEpoch, z: this.o.lastZxid };
    if (theirCurrent !== -1 && (theirCurrent > mine.e || (theirCurrent === mine.e && p.zxid > mine.z))) {
      this.ready.reason = `Follower ${sid} is ahead of the leader`;
      this.learners.delete(sid);
      return;
    }
    l.lastZxid = p.zxid;
    if (this.state === 'DISCOVERY') {
      const acked = [...this.learners.values()].filter((x) => x.lastZxid !== undefined && !x.observer).map((x) => x.sid);
      if (this.quorum([this.o.myid, ...acked])) {
        this.ready.epochs.current = this.newEpoch;
        this.state = 'SYNCHRONIZATION';
        this.ready.state = 'SYNCHRONIZATION';
        for (const x of this.learners.values()) if (x.lastZxid !== undefined && !x.forwarding) this.syncLearner(x);
        return;
      }
    } else {
      this.syncLearner(l);
    }
  }

  /** LearnerHandler.syncFollower: DIFF, TRUNC or SNAP, then the proposals it lacks, then NEWLEADER. */
  private syncLearner(l: LearnerState): void {
    if (this.state === 'DISCOVERY' || l.lastZxid === undefined) return;
    const peer = l.lastZxid;
    const log = this.committed;
    const maxC = log.length ? log[log.length - 1].zxid : this.lastCommitted;
    const minC = log.length ? log[0].zxid : this.lastCommitted;
    let from = -1; // index of the first proposal to send
    if (peer === this.lastCommitted) {
      this.send(l.sid, Pkt.DIFF, peer);
      from = log.length;
    } else if (peer > maxC) {
      this.send(l.sid, Pkt.TRUNC, maxC);
      from = log.length;
    } else if (peer >= minC && log.length > 0) {
      let i = 0;
      while (i < log.length && log[i].zxid < peer) i++;
      if (i < log.length && log[i].zxid === peer) {
        this.send(l.sid, Pkt.DIFF, maxC);
        from = i + 1;
      } else if (i > 0 && epochOf(log[i - 1].zxid) === epochOf(peer)) {
        // the peer has txns the leader does not: cut them
        this.send(l.sid, Pkt.TRUNC, log[i - 1].zxid);
        from = i;
      }
    }
    if (from < 0) {
      this.send(l.sid, Pkt.SNAP, this.lastCommitted);
      (this.ready.snapshotFor ??= []).push(l.sid);
      from = log.length;
    }
    for (let i = from; i < log.length; i++) {
      this.send(l.sid, Pkt.PROPOSAL, log[i].zxid, log[i].data);
      this.send(l.sid, Pkt.COMMIT, log[i].zxid);
    }
    // proposals in flight reach participants too (startForwarding); observers only get them committed
    if (!l.observer) for (const o of this.outstanding) this.send(l.sid, Pkt.PROPOSAL, o.p.zxid, o.p.data);
    this.send(l.sid, Pkt.NEWLEADER, makeZxid(this.newEpoch, 0), null);
    l.forwarding = true;
  }

  private onAck(sid: number, zxid: number): void {
    const l = this.learners.get(sid);
    if (!l || l.observer) return;
    if (zxid === makeZxid(this.newEpoch, 0)) {
      if (!l.ackedNewLeader) {
        l.ackedNewLeader = true;
        if (this.established) this.upToDate(l);
        else this.checkEstablished();
      }
      return;
    }
    this.ackProposal(sid, zxid);
  }

  private checkEstablished(): void {
    if (this.established || this.state !== 'SYNCHRONIZATION') return;
    const acked = [...this.learners.values()].filter((x) => x.ackedNewLeader).map((x) => x.sid);
    if (!this.quorum([this.o.myid, ...acked])) return;
    this.established = true;
    this.state = 'BROADCAST';
    this.ready.state = 'BROADCAST';
    this.ready.serving = true;
    for (const x of this.learners.values()) if (x.ackedNewLeader) this.upToDate(x);
  }

  private upToDate(l: LearnerState): void {
    if (l.upToDate) return;
    l.upToDate = true;
    this.send(l.sid, Pkt.UPTODATE, -1);
  }

  /** Propose a txn (TxnHeader + body) the request pipeline built; zxid = lastProposed + 1. */
  propose(data: Buffer): number {
    if (this.state !== 'BROADCAST') throw new Error('not leading');
    const zxid = this.lastProposed + 1;
    this.lastProposed = zxid;
    const p = { zxid, data };
    this.outstanding.push({ p, acks: new Set() });
    this.ready.append.push(p);
    for (const l of this.learners.values()) if (l.forwarding && !l.observer) this.send(l.sid, Pkt.PROPOSAL, zxid, data);
    return zxid;
  }

  /** The leader's own txn log is durable through zxid: its own ACK. */
  persisted(zxid: number): void {
    if (zxid > this.persistedUpTo) this.persistedUpTo = zxid;
    for (const o of this.outstanding) if (o.p.zxid <= zxid) o.acks.add(this.o.myid);
    this.tryCommit();
  }

  private ackProposal(sid: number, zxid: number): void {
    for (const o of this.outstanding) if (o.p.zxid === zxid) o.acks.add(sid);
    this.tryCommit();
  }

  /** Commit strictly in zxid order, each once a quorum of voters has it durable. */
  private tryCommit(): void {
    while (this.outstanding.length > 0 && this.quorum(this.outstanding[0].acks)) {
      const { p } = this.outstanding.shift()!;
      this.lastCommitted = p.zxid;
      this.committed.push(p);
      if (this.committed.length > 500) this.committed.shift();
      this.ready.commit.push(p);
      for (const l of this.learners.values()) {
        if (!l.forwarding) continue;
        if (l.observer) this.send(l.sid, Pkt.INFORM, p.zxid, p.data);
        else this.send(l.sid, Pkt.COMMIT, p.zxid);
      }
      while (this.pendingSyncs.length && this.pendingSyncs[0].zxid <= p.zxid) {
        this.send(this.pendingSyncs.shift()!.sid, Pkt.SYNC, 0);
      }
    }
  }

  /** A learner forwarded a client sync: answer once everything proposed so far is committed. */
  syncRequest(sid: number): void {
    if (this.outstanding.length === 0) this.send(sid, Pkt.SYNC, 0);
    else this.pendingSyncs.push({ sid, zxid: this.lastProposed });
  }

  /** for mntr: connected learners, synced followers and observers */
  learnerStats(): { learners: number; syncedFollowers: number; syncedObservers: number } {
    let f = 0;
    let o = 0;
    for (const l of this.learners.values()) if (l.upToDate) l.observer ? o++ : f++;
    return { learners: this.learners.size, syncedFollowers: f, syncedObservers: o };
  }

  tick(): void {
    if (this.state === 'LOOKING') return;
    this.tickNo++;
    if (!this.established) {
      if (this.tickNo > this.o.initLimitTicks) this.stepDown('no quorum of learners synced within initLimit');
      return;
    }
    const synced = [this.o.myid];
    for (const l of this.learners.values()) {
      if (l.upToDate || l.ackedNewLeader) {
        if (this.tickNo - l.lastHeardTick <= this.o.syncLimitTicks) synced.push(l.sid);
      }
      this.send(l.sid, Pkt.PING, this.lastProposed);
    }
    if (!this.quorum(synced)) this.stepDown(`Not sufficient followers synced, only synced with sids: [ ${synced.join(',')} ]`);
  }
}
