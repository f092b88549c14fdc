// The leader's side of Zab (ZooKeeper's Leader + LearnerHandler) as a pure state machine:
// discovery (new epoch = 1 + max acceptedEpoch), synchronisation (DIFF / TRUNC / SNAP, NEWLEADER,
// UPTODATE), broadcast (PROPOSAL, ACK, COMMIT, INFORM) and liveness (PING, step down without a
// synced quorum). Time comes in as `now` (ms); see ready.ts for what the caller does with a Ready.
//
// Durable before each leader message (the Ready order guarantees it):
//   LEADERINFO  acceptedEpoch = newEpoch            (a restarted leader never reuses an epoch)
//   sync / NEWLEADER  currentEpoch = newEpoch       (after a quorum of ACKEPOCHs)
//   COMMIT / INFORM / client reply  a quorum of participants has the txn durable (their ACKs, and
//               the leader's own ACK counts only after `persisted` covers the zxid)
//
// Sessions (SessionTrackerImpl in LeaderZooKeeperServer) live here too: the tracker is touched by
// the leader's own clients (`touchSession`), by the touches learners report in PING replies, and by
// REVALIDATE; every session of the DataTree gets a fresh timeout when the epoch is established; a
// tick hands the expired ones to the caller (`Ready.expired`), which closes them with a
// closeSession txn. The caller adds and removes sessions as createSession / closeSession txns apply.
import { Id } from '../../jute/records';
import { counterOf, epochOf, intData, makeZxid, MAX_COUNTER, packet, PacketType as T, PROTOCOL_VERSION, QuorumPacket, readIntData, zxidHex } from './packets';
import { decodeRequest, decodeRevalidate, decodeSessionTouches, encodeDesignatedLeader, encodeRevalidateReply } from './payloads';
import { emptyReady, Ready, ZabTxn, ZabState, ZabTiming } from './ready';
import { chooseSync } from './sync';
import { SessionTracker } from '../../data/session';
import { majorityVerifier, QuorumVerifier } from '../verifier';

export interface LeaderOptions extends ZabTiming {
  myid: number;
  /** participants (voting members), the leader included */
  voters: number[];
  /** which sets of voters are a quorum (default: a majority of `voters`) */
  verifier?: QuorumVerifier;
  acceptedEpoch: number;
  currentEpoch: number;
  /** lastProcessedZxid: the DataTree (loaded from snapshot + the whole txn log) is at this zxid */
  lastZxid: number;
  /** tail of the leader's history, oldest first, ending at lastZxid (may be empty) */
  committedLog: ZabTxn[];
  /** committedLog window size (zookeeper.commitLogCount, default 500) */
  committedLogCount?: number;
  /** zookeeper.forceSnapshotSync */
  forceSnapshotSync?: boolean;
  /** NEWLEADER payload (the last-seen config text), null by default */
  config?: Buffer | null;
  /** the version of the membership in force (the zxid of the reconfig that made it; 0 at first) */
  configVersion?: number;
  /**
   * ZOOKEEPER-1783: the initial membership (version 0) gets the new epoch's first zxid as its
   * version when this leader establishes its epoch; this gives its text at a version
   */
  versionedConfig?: (version: number) => Buffer;
  /**
   * a reconfig this server logged and never saw committed (its last seen membership, newer than
   * `configVersion`): NEWLEADER carries it, a quorum of both memberships must acknowledge
   * NEWLEADER, and it is in force once the epoch is established (Leader.lead)
   */
  lastSeen?: Reconfig & { version: number };
  now: number;
  /** the global sessions of the DataTree (id, timeout ms): each gets a fresh timeout once established */
  sessions?: Iterable<[bigint, number]>;
  /**
   * the clock of the caller's `now` values, read when the leader's own clients touch a session
   * between calls (the server passes util/clock.ts monotonicNow, never the wall clock); without it
   * the latest `now` passed in is used
   */
  clock?: () => number;
  /** SIMULATOR SELF-TEST ONLY: commit once the leader itself has logged, without a quorum */
  unsafeCommitWithoutQuorum?: boolean;
  /** SIMULATOR SELF-TEST ONLY: commit while a reconfig is pending with a quorum of the membership in force only */
  unsafeReconfigOldQuorumOnly?: boolean;
  /** SIMULATOR SELF-TEST ONLY: a new leader keeps no fresh timeout for the sessions it inherits */
  unsafeNoFreshSessionTimeout?: boolean;
  /** SIMULATOR SELF-TEST ONLY: a learner's pending syncs outlive its connection (the bug of session 31) */
  unsafeKeepSyncsOfLostConnection?: boolean;
}

interface Peer {
  sid: number;
  observer: boolean;
  /** ACKEPOCH received: the learner's lastLoggedZxid */
  peerLastZxid: number | null;
  /** its ACKEPOCH counts towards the epoch quorum */
  countsForEpoch: boolean;
  /** sync packets queued: live PROPOSAL/COMMIT/INFORM go to it from now on */
  forwarding: boolean;
  ackedNewLeader: boolean;
  upToDate: boolean;
  lastHeard: number;
  /** when its sync packets were queued */
  syncedAt: number;
}

interface Outstanding {
  txn: ZabTxn;
  acks: Set<number>;
  proposedAt: number;
  /** a quorum of each must ACK (the one in force, and a proposed membership while it is pending) */
  verifiers: QuorumVerifier[];
  /** a reconfig: the membership it proposes and its text */
  reconfig?: Reconfig;
}

/** A membership change: its verifier and text (what the reconfig txn sets /zookeeper/config to). */
export interface Reconfig {
  verifier: QuorumVerifier;
  config: Buffer;
}

export class ZabLeader {
  private st: ZabState = 'DISCOVERY';
  private ready = emptyReady();
  private qv: QuorumVerifier;
  private qvVersion: number;
  /** the newest membership proposed (Leader's lastSeenQuorumVerifier), `qv` unless a reconfig is pending */
  private lastSeen: { verifier: QuorumVerifier; version: number; config: Buffer | null };
  /** the text of the membership in force */
  private committedConfig: Buffer | null;
  /** false once a reconfig committed that hands leadership to another server (Leader.allowedToCommit) */
  private allowedToCommit = true;
  private readonly peers = new Map<number, Peer>();
  /** participants that sent FOLLOWERINFO while the epoch was open */
  private readonly connecting = new Set<number>();
  private maxAccepted: number;
  private epoch = -1;
  private deadline: number;
  private isEstablished = false;
  private readonly window: ZabTxn[];
  private readonly windowMax: number;
  private readonly outstanding: Outstanding[] = [];
  private proposed: number;
  private committed: number;
  private persistedUpTo: number;
  private readonly pendingSyncs: { sid: number; zxid: number }[] = [];
  /** the latest time the caller passed in */
  private now: number;
  /** every global session and its deadline (SessionTrackerImpl) */
  readonly sessions: SessionTracker;
  private inherited: [bigint, number][];

  constructor(private readonly o: LeaderOptions) {
    this.now = o.now;
    const clock = o.clock;
    this.sessions = new SessionTracker(o.tickTime, o.myid, clock ? () => Math.max(this.now, clock()) : () => this.now);
    this.inherited = o.sessions ? [...o.sessions] : [];
    this.qv = o.verifier ?? majorityVerifier(o.voters);
    this.qvVersion = o.configVersion ?? 0;
    this.committedConfig = o.config ?? null;
    this.lastSeen = o.lastSeen && o.lastSeen.version > this.qvVersion ? { ...o.lastSeen } : { verifier: this.qv, version: this.qvVersion, config: o.config ?? null };
    this.maxAccepted = o.acceptedEpoch;
    this.windowMax = Math.max(1, o.committedLogCount ?? 500);
    this.window = o.committedLog.slice(-this.windowMax);
    this.proposed = this.committed = this.persistedUpTo = o.lastZxid;
    this.now = o.now;
    this.deadline = o.now + o.initLimit * o.tickTime;
    this.ready.stateChange = 'DISCOVERY';
    if (this.isQuorum([o.myid])) {
      // the only voter (standaloneEnabled=false with one server line, observers aside) is a quorum
      // by itself, as Leader.lead finds at once: every phase completes without a learner
      this.openEpoch(o.now);
      this.beginSync(o.now);
      this.checkEstablished();
    }
  }

  get state(): ZabState {
    return this.st;
  }
  /** the epoch being established (-1 until a quorum of participants connected) */
  get newEpoch(): number {
    return this.epoch;
  }
  get established(): boolean {
    return this.isEstablished;
  }
  get lastProposed(): number {
    return this.proposed;
  }
  get lastCommitted(): number {
    return this.committed;
  }

  takeReady(): Ready {
    const r = this.ready;
    this.ready = emptyReady();
    return r;
  }

  /** sids and progress of the connected learners (for mntr and tests) */
  learners(): { sid: number; observer: boolean; upToDate: boolean }[] {
    return [...this.peers.values()].map((p) => ({ sid: p.sid, observer: p.observer, upToDate: p.upToDate }));
  }

  private isQuorum(ids: Iterable<number>): boolean {
    return this.qv.containsQuorum(ids);
  }

  private send(to: number, type: number, zxid: number, data: Buffer | null = null, authinfo: Id[] | null = null): void {
    this.ready.send.push({ to, packet: packet(type, zxid, data, authinfo) });
  }

  private setState(s: ZabState): void {
    this.st = s;
    this.ready.stateChange = s;
  }

  private drop(sid: number, reason: string): void {
    this.forget(sid);
    this.ready.close.push(sid);
    this.ready.reason = reason;
  }

  private stepDown(reason: string): void {
    if (this.st === 'LOOKING') return;
    this.setState('LOOKING');
    this.ready.serving = false;
    this.ready.reason = reason;
    for (const sid of this.peers.keys()) this.ready.close.push(sid);
    this.peers.clear();
  }

  /** The connection to a learner closed. */
  disconnected(sid: number): void {
    this.forget(sid);
  }

  /**
   * A learner's connection is gone (or replaced): so are the SYNCs owed to it. As in ZooKeeper, where
   * a LearnerSyncRequest is answered through the LearnerHandler that forwarded it, a SYNC for the
   * old connection must not reach the next one, whose learner would take it for the answer to a
   * sync of its own it forwarded later, and answer that one before the commits it waits for.
   */
  private forget(sid: number): void {
    this.peers.delete(sid);
    if (this.o.unsafeKeepSyncsOfLostConnection) return;
    for (let i = this.pendingSyncs.length - 1; i >= 0; i--) if (this.pendingSyncs[i].sid === sid) this.pendingSyncs.splice(i, 1);
  }

  step(from: number, p: QuorumPacket, now: number): void {
    if (this.st === 'LOOKING') return;
    this.now = Math.max(this.now, now);
    const peer = this.peers.get(from);
    if (peer) peer.lastHeard = now;
    switch (p.type) {
      case T.FOLLOWERINFO:
      case T.OBSERVERINFO:
        return this.onInfo(from, p.type, p.zxid, now);
      case T.ACKEPOCH:
        if (peer) this.onAckEpoch(peer, p.zxid, readIntData(p.data) ?? -1, now);
        return;
      case T.ACK:
        if (peer) this.onAck(peer, p.zxid);
        return;
      case T.REQUEST:
        if (!peer) return;
        try {
          this.ready.requests.push({ from, request: decodeRequest(p.data), authinfo: p.authinfo ?? [] });
        } catch (e) {
          this.ready.protocolError = `bad REQUEST from ${from}: ${(e as Error).message}`;
        }
        return;
      case T.PING:
        // LearnerHandler: the sessions the learner's clients used since the last PING
        if (!peer) return;
        try {
          for (const t of decodeSessionTouches(p.data)) this.touch(t.sessionId, t.timeoutMs);
        } catch (e) {
          this.ready.protocolError = `bad PING from ${from}: ${(e as Error).message}`;
        }
        return;
      case T.REVALIDATE: {
        // a client reconnected to that learner: valid = the session is live (and it is touched)
        if (!peer) return;
        let session;
        try {
          session = decodeRevalidate(p.data);
        } catch (e) {
          this.ready.protocolError = `bad REVALIDATE from ${from}: ${(e as Error).message}`;
          return;
        }
        const valid = this.isEstablished && this.touch(session.sessionId, session.timeoutMs);
        this.ready.revalidations.push({ from, session, valid });
        this.send(from, T.REVALIDATE, -1, encodeRevalidateReply({ sessionId: session.sessionId, valid }));
        return;
      }
      default:
        this.ready.protocolError = `unexpected packet type ${p.type} from ${from}`;
    }
  }

  // ---- discovery ----

  private onInfo(sid: number, type: number, zxid: number, now: number): void {
    // a FOLLOWERINFO from a sid outside our voters (a peer started with more server lines, while
    // an ensemble grows by rolling restarts) is followed as a participant whose ACKs do not count:
    // PROPOSAL and COMMIT as LearnerHandler sends any PARTICIPANT; isQuorum counts only voters
    // LearnerHandler: the packet says which (a reconfig can turn an observer into a participant,
    // which then reconnects with FOLLOWERINFO)
    const observer = type === T.OBSERVERINFO;
    // a new session: ACKs of the old one no longer count (its sync may TRUNC what it acked; the
    // outstanding proposals are forwarded again and re-ACKed once durable)
    for (const o of this.outstanding) o.acks.delete(sid);
    this.forget(sid);
    this.peers.set(sid, { sid, observer, peerLastZxid: null, countsForEpoch: false, forwarding: false, ackedNewLeader: false, upToDate: false, lastHeard: now, syncedAt: now });
    if (this.isEstablished && epochOf(zxid) > this.epoch) {
      // This peer accepted a newer epoch (it proposed one as a leader and crashed before telling
      // anyone: found by the simulator, seed 55846) and will refuse ours ("Leaders epoch … is less
      // than accepted epoch …") for as long as we lead; ZooKeeper keeps it out until the leader
      // changes. Re-electing lets the next epoch exceed its promise, so the voter can rejoin.
      this.stepDown(`peer ${sid} accepted epoch ${epochOf(zxid)}, above ours (${this.epoch}): re-electing so that it can rejoin`);
      return;
    }
    if (this.epoch >= 0) {
      this.send(sid, T.LEADERINFO, makeZxid(this.epoch, 0), intData(PROTOCOL_VERSION));
      return;
    }
    // getEpochToPropose: every learner connecting while the epoch is open raises it
    this.maxAccepted = Math.max(this.maxAccepted, epochOf(zxid));
    if (!observer) this.connecting.add(sid);
    if (!this.isQuorum([this.o.myid, ...this.connecting])) return;
    this.openEpoch(now);
  }

  /** A quorum has connected: the new epoch, durable before any LEADERINFO. */
  private openEpoch(now: number): void {
    this.epoch = this.maxAccepted + 1;
    this.proposed = makeZxid(this.epoch, 0);
    this.ready.writeEpoch.accepted = this.epoch;
    this.deadline = now + this.o.initLimit * this.o.tickTime;
    for (const p of this.peers.values()) this.send(p.sid, T.LEADERINFO, makeZxid(this.epoch, 0), intData(PROTOCOL_VERSION));
  }

  private onAckEpoch(peer: Peer, lastZxid: number, theirCurrent: number, now: number): void {
    if (this.epoch < 0 || peer.peerLastZxid !== null) {
      this.ready.protocolError = `unexpected ACKEPOCH from ${peer.sid}`;
      return;
    }
    // StateSummary.isMoreRecentThan against the leader's state at election, while the epoch is
    // being decided only (Leader.waitForEpochAck returns at once once electionFinished): a learner
    // that joins later with more history — an old leader back from a partition with proposals no
    // quorum took — is synced instead, by TRUNC or SNAP. Dropping it sent it through another
    // election before the same sync (bench/failover.js --fault isolate).
    const e = this.o.currentEpoch;
    if (this.st === 'DISCOVERY' && theirCurrent !== -1 && (theirCurrent > e || (theirCurrent === e && lastZxid > this.o.lastZxid))) {
      return this.drop(peer.sid, `Follower ${peer.sid} is ahead of the leader (${theirCurrent}, 0x${zxidHex(lastZxid)})`);
    }
    peer.peerLastZxid = lastZxid;
    // Leader.waitForEpochAck: only a learner that newly accepted this epoch (currentEpoch != -1)
    // counts towards the quorum; one answering -1 already accepted it earlier and merely waits
    peer.countsForEpoch = theirCurrent !== -1 && !peer.observer;
    if (this.st !== 'DISCOVERY') return this.syncPeer(peer);
    const acked = [...this.peers.values()].filter((p) => p.countsForEpoch).map((p) => p.sid);
    if (!this.isQuorum([this.o.myid, ...acked])) return;
    this.beginSync(now);
  }

  /** A quorum accepted the epoch: currentEpoch, then every learner that answered gets its sync. */
  private beginSync(now: number): void {
    this.ready.writeEpoch.current = this.epoch;
    if (this.qvVersion === 0 && this.lastSeen.version === 0 && this.o.versionedConfig) {
      const v = makeZxid(this.epoch, 0);
      this.lastSeen = { verifier: this.qv, version: v, config: this.o.versionedConfig(v) };
    }
    this.setState('SYNCHRONIZATION');
    this.deadline = now + this.o.initLimit * this.o.tickTime;
    for (const p of this.peers.values()) if (p.peerLastZxid !== null) this.syncPeer(p);
  }

  // ---- synchronisation ----

  /** §7.2: [SNAP+stream | DIFF | TRUNC] (PROPOSAL COMMIT)* outstanding-PROPOSAL* NEWLEADER */
  private syncPeer(peer: Peer): void {
    const plan = chooseSync(this.window, this.committed, peer.peerLastZxid!, this.o.forceSnapshotSync);
    if (plan.kind === 'SNAP') {
      this.ready.send.push({ to: peer.sid, packet: packet(T.SNAP, plan.zxid), snapshot: true });
    } else this.send(peer.sid, plan.kind === 'DIFF' ? T.DIFF : T.TRUNC, plan.zxid);
    for (const t of plan.txns) {
      this.send(peer.sid, T.PROPOSAL, t.zxid, t.data);
      this.send(peer.sid, T.COMMIT, t.zxid);
    }
    // startForwarding: proposals in flight reach participants (observers get them as INFORM)
    if (!peer.observer) for (const o of this.outstanding) if (o.txn.zxid > plan.lastQueued) this.send(peer.sid, T.PROPOSAL, o.txn.zxid, o.txn.data);
    // NEWLEADER's membership comes into force at the learner's UPTODATE: before the epoch is
    // established that is the last seen one (it is in force when UPTODATE goes out); a learner
    // that joins later gets the one in force, and a pending reconfig as its outstanding PROPOSAL
    // (3.8 sends the last seen one either way, so a late joiner could take up a reconfig that
    // never commits: found by the simulator with bulk membership changes)
    this.send(peer.sid, T.NEWLEADER, makeZxid(this.epoch, 0), this.isEstablished ? this.committedConfig : this.lastSeen.config);
    peer.forwarding = true;
    peer.syncedAt = this.now;
  }

  private onAck(peer: Peer, zxid: number): void {
    if (!peer.forwarding) {
      this.ready.protocolError = `ACK 0x${zxidHex(zxid)} from ${peer.sid} before its sync`;
      return;
    }
    if (counterOf(zxid) === 0) {
      // NEWLEADER ACK, or the final ACK after UPTODATE (ignored)
      if (zxid !== makeZxid(this.epoch, 0)) return this.drop(peer.sid, `NEWLEADER ACK from sid: ${peer.sid} is from a different epoch - current 0x${zxidHex(makeZxid(this.epoch, 0))} received 0x${zxidHex(zxid)}`);
      if (peer.ackedNewLeader) return;
      peer.ackedNewLeader = true;
      if (this.isEstablished) this.upToDate(peer);
      else this.checkEstablished();
      return;
    }
    if (peer.observer) return;
    if (!peer.ackedNewLeader) {
      // ZOOKEEPER-4685: a proposal ACK must not overtake the NEWLEADER ACK
      this.ready.protocolError = `ACK 0x${zxidHex(zxid)} from ${peer.sid} before its NEWLEADER ACK`;
      return;
    }
    const o = this.outstanding.find((x) => x.txn.zxid === zxid);
    if (!o) return; // already committed, or unknown
    o.acks.add(peer.sid);
    this.tryCommit();
  }

  private checkEstablished(): void {
    if (this.isEstablished || this.st !== 'SYNCHRONIZATION') return;
    const acked = [this.o.myid, ...[...this.peers.values()].filter((p) => p.ackedNewLeader && !p.observer).map((p) => p.sid)];
    if (!this.isQuorum(acked)) return;
    // a pending membership may make voters of servers that are observers now: their NEWLEADER ACK
    // (the synced history is durable there too) counts for it; once it is in force they reconnect
    // as followers
    const ackedAll = [this.o.myid, ...[...this.peers.values()].filter((p) => p.ackedNewLeader).map((p) => p.sid)];
    if (this.lastSeen.version > this.qvVersion && !this.lastSeen.verifier.containsQuorum(ackedAll)) return;
    this.isEstablished = true;
    this.setState('BROADCAST');
    this.ready.serving = true;
    // Leader.lead: the membership NEWLEADER carried is in force once a quorum acknowledged it
    if (this.lastSeen.version > this.qvVersion && this.lastSeen.config) {
      this.qv = this.lastSeen.verifier;
      this.qvVersion = this.lastSeen.version;
      this.committedConfig = this.lastSeen.config;
      // a leader the membership leaves out hands over to a voter that acknowledged NEWLEADER
      const next = this.qv.voters.has(this.o.myid) ? this.o.myid : (acked.filter((s) => this.qv.voters.has(s) && s !== this.o.myid).sort((a, b) => a - b)[0] ?? this.o.myid);
      if (next !== this.o.myid) this.allowedToCommit = false;
      this.ready.activate = { config: this.lastSeen.config, leader: next };
    }
    // ZooKeeperServer.startup of the new leader: every session starts a full timeout from now
    for (const [id, timeout] of this.inherited) {
      const s = this.sessions.add(id, timeout);
      if (this.o.unsafeNoFreshSessionTimeout) s.expireAt = this.now;
    }
    this.inherited = [];
    for (const p of this.peers.values()) if (p.ackedNewLeader) this.upToDate(p);
  }

  private upToDate(peer: Peer): void {
    if (peer.upToDate) return;
    peer.upToDate = true;
    this.send(peer.sid, T.UPTODATE, -1);
  }

  // ---- broadcast ----

  /**
   * Propose a txn (TxnHeader + body) the request pipeline built with `zxid` = lastProposed + 1.
   * Returns false (and steps down) when the zxid counter would roll over.
   */
  propose(txnBytes: Buffer, zxid: number, reconfig?: Reconfig): boolean {
    if (this.st !== 'BROADCAST') throw new Error(`not leading (${this.st})`);
    if (zxid !== this.proposed + 1) throw new Error(`zxid 0x${zxidHex(zxid)} is not lastProposed+1 (0x${zxidHex(this.proposed + 1)})`);
    if (counterOf(zxid) >= MAX_COUNTER) {
      this.stepDown('zxid lower 32 bits have rolled over, forcing re-election, and therefore new epoch start');
      return false;
    }
    const txn = { zxid, data: txnBytes };
    this.proposed = zxid;
    // Leader.propose: from a reconfig on, until it commits, every proposal needs both quorums
    if (reconfig) {
      this.lastSeen = { verifier: reconfig.verifier, version: zxid, config: reconfig.config };
      this.ready.seen = reconfig.config;
    }
    const verifiers = this.lastSeen.version > this.qvVersion && !this.o.unsafeReconfigOldQuorumOnly ? [this.qv, this.lastSeen.verifier] : [this.qv];
    this.outstanding.push({ txn, acks: new Set(), proposedAt: this.now, verifiers, reconfig });
    this.ready.logAppend.push(txn);
    for (const p of this.peers.values()) if (p.forwarding && !p.observer) this.send(p.sid, T.PROPOSAL, zxid, txnBytes);
    return true;
  }

  /** The leader's txn log is durable through `upToZxid`: its own ACK. */
  persisted(upToZxid: number): void {
    if (upToZxid <= this.persistedUpTo) return;
    this.persistedUpTo = upToZxid;
    for (const o of this.outstanding) if (o.txn.zxid <= upToZxid) o.acks.add(this.o.myid);
    this.tryCommit();
  }

  /** Commit strictly in zxid order, each once a quorum of participants has it durable. */
  private tryCommit(): void {
    while (this.outstanding.length && this.st === 'BROADCAST') {
      const head = this.outstanding[0];
      if (!this.allowedToCommit) return;
      const ok = this.o.unsafeCommitWithoutQuorum ? head.acks.has(this.o.myid) : head.verifiers.every((v) => v.containsQuorum(head.acks));
      if (!ok) return;
      this.outstanding.shift();
      const t = head.txn;
      this.committed = t.zxid;
      this.window.push(t);
      if (this.window.length > this.windowMax) this.window.shift();
      this.ready.commit.push(t);
      if (head.reconfig) {
        this.activate(head);
      } else {
        for (const p of this.peers.values()) {
          if (!p.forwarding) continue;
          if (p.observer) this.send(p.sid, T.INFORM, t.zxid, t.data);
          else this.send(p.sid, T.COMMIT, t.zxid);
        }
      }
      while (this.pendingSyncs.length && this.pendingSyncs[0].zxid <= t.zxid) this.send(this.pendingSyncs.shift()!.sid, T.SYNC, 0);
    }
  }

  /**
   * A reconfig committed (Leader.tryToCommit): the new membership is in force here, followers get
   * COMMITANDACTIVATE and observers INFORMANDACTIVATE with the designated leader — this server if
   * it still votes, otherwise the new voter that acknowledged the most. A leader that hands over
   * commits nothing more; its followers leave it for the designated one, and it steps down when
   * its tick finds no synced quorum.
   */
  private activate(head: Outstanding): void {
    const rc = head.reconfig!;
    const t = head.txn;
    const designated = this.designatedLeader(head);
    this.qv = rc.verifier;
    this.qvVersion = t.zxid;
    this.committedConfig = rc.config;
    this.ready.activate = { config: rc.config, leader: designated };
    for (const p of this.peers.values()) {
      if (!p.forwarding) continue;
      if (p.observer) this.send(p.sid, T.INFORMANDACTIVATE, t.zxid, encodeDesignatedLeader(designated, t.data));
      else this.send(p.sid, T.COMMITANDACTIVATE, t.zxid, encodeDesignatedLeader(designated));
    }
    if (designated !== this.o.myid) {
      this.allowedToCommit = false;
      this.ready.reason = `reconfig 0x${zxidHex(t.zxid)} committed; server ${designated} is the designated leader, this one commits nothing more`;
    }
  }

  /** Leader.getDesignatedLeader */
  private designatedLeader(head: Outstanding): number {
    const next = head.reconfig!.verifier;
    if (next.voters.has(this.o.myid)) return this.o.myid;
    let candidates = [...head.acks].filter((sid) => next.voters.has(sid) && sid !== this.o.myid).sort((a, b) => a - b);
    let best = candidates[0] ?? this.o.myid;
    for (const o of this.outstanding) {
      candidates = candidates.filter((sid) => o.acks.has(sid));
      if (candidates.length === 0) return best;
      best = candidates[0];
      if (candidates.length === 1) return best;
    }
    return best;
  }

  /** the membership in force and the newest proposed one (versions) */
  get configVersions(): { committed: number; lastSeen: number } {
    return { committed: this.qvVersion, lastSeen: this.lastSeen.version };
  }

  /**
   * Leader.isQuorumSynced: this leader (if it votes in `v`) and the followers in sync with it that
   * vote in `v` are a quorum of `v` — a reconfig may only propose a membership that can commit.
   */
  isQuorumSynced(v: QuorumVerifier, observers: Iterable<number> = []): boolean {
    const ids: number[] = v.voters.has(this.o.myid) ? [this.o.myid] : [];
    const window = this.o.syncLimit * this.o.tickTime;
    // a follower the membership in force makes an observer is about to reconnect as one: it will
    // acknowledge nothing (counting it let a reconfig wait for ever on an observer's ACKs)
    const leaving = new Set(observers);
    for (const p of this.peers.values()) {
      if (p.forwarding && !p.observer && !leaving.has(p.sid) && p.ackedNewLeader && v.voters.has(p.sid) && this.now - p.lastHeard <= window) ids.push(p.sid);
    }
    return v.containsQuorum(ids);
  }

  /** A learner's forwarded sync reached the pipeline: SYNC once everything proposed so far commits. */
  syncRequest(sid: number): void {
    if (this.outstanding.length === 0) this.send(sid, T.SYNC, 0);
    else this.pendingSyncs.push({ sid, zxid: this.proposed });
  }

  // ---- sessions ----

  /** Extend a live session by its timeout (SessionTrackerImpl.touchSession); false if unknown or closing. */
  private touch(sessionId: bigint, timeoutMs: number): boolean {
    const s = this.sessions.sessions.get(sessionId);
    if (!s || s.closing) return false;
    void timeoutMs; // the session keeps the timeout it was created with, as in SessionTrackerImpl
    return this.sessions.touch(sessionId);
  }

  /** A client of the leader itself used its session. */
  touchSession(sessionId: bigint, now: number): boolean {
    this.now = Math.max(this.now, now);
    return this.sessions.touch(sessionId);
  }

  /** A createSession txn applied: track the session from now. */
  addSession(sessionId: bigint, timeoutMs: number, now: number): void {
    this.now = Math.max(this.now, now);
    this.sessions.add(sessionId, timeoutMs);
  }

  /** A closeSession txn applied. */
  removeSession(sessionId: bigint): void {
    this.sessions.remove(sessionId);
  }

  // ---- liveness ----

  tick(now: number): void {
    if (this.st === 'LOOKING') return;
    this.now = Math.max(this.now, now);
    // SessionTrackerImpl.run: sessions past their deadline are closing; the caller closes them
    if (this.isEstablished) for (const s of this.sessions.expired()) this.ready.expired.push(s.id);
    // LearnerHandler's SO_TIMEOUT until the NEWLEADER ACK: initLimit ticks per read
    for (const p of [...this.peers.values()]) {
      if (!p.ackedNewLeader && now - p.lastHeard > this.o.initLimit * this.o.tickTime) this.drop(p.sid, `learner ${p.sid} silent for initLimit during sync`);
    }
    if (!this.isEstablished) {
      if (now > this.deadline) {
        const what = this.epoch < 0 ? 'a quorum of FOLLOWERINFO' : this.st === 'DISCOVERY' ? 'a quorum of ACKEPOCH' : 'a quorum of NEWLEADER ACKs';
        this.stepDown(`Timeout while waiting for ${what} within initLimit`);
      }
      return;
    }
    const syncWindow = this.o.syncLimit * this.o.tickTime;
    const synced = [this.o.myid];
    for (const p of [...this.peers.values()]) {
      if (!p.forwarding) continue;
      if (!p.observer && p.ackedNewLeader) {
        // LearnerHandler.SyncLimitCheck: its oldest un-acked proposal may not be older than syncLimit
        const late = this.outstanding.find((o) => !o.acks.has(p.sid) && now - Math.max(o.proposedAt, p.syncedAt) > syncWindow);
        if (late) {
          this.drop(p.sid, `Closing connection to peer ${p.sid} due to transaction timeout.`);
          continue;
        }
        if (now - p.lastHeard <= syncWindow) synced.push(p.sid);
      }
      this.send(p.sid, T.PING, this.proposed);
    }
    const pending = this.lastSeen.version > this.qvVersion;
    if (!this.isQuorum(synced) || (pending && !this.lastSeen.verifier.containsQuorum(synced))) this.stepDown(`Not sufficient followers synced, only synced with sids: [ ${synced.join(',')} ]`);
  }
}
