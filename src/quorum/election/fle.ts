// FastLeaderElection (wire-quorum.md §4; Q/FastLeaderElection.java lookForLeader + WorkerReceiver)
// as a deterministic state machine for one peer, in the etcd-raft style: notifications and the
// time (`now`, ms, supplied by the caller) go in; notifications to send and, eventually, a
// decision come out. No sockets, timers, clocks or files here.
//
// Mapping onto the Java threads:
//  * receive() first does what WorkerReceiver does (immediate replies to non-voters, to lagging
//    LOOKING peers, and — when this peer is not LOOKING — to LOOKING peers), then runs one
//    iteration of the lookForLeader loop for the notification (if an election is running).
//  * The `recvqueue.poll(notTimeout)` of lookForLeader becomes a deadline: every notification that
//    reaches the loop restarts it; tick() past it is the poll timeout (re-send, double the timeout).
//  * The finalize loop `while ((n = poll(finalizeWait)) != null) if (better) { requeue; break; }`
//    becomes the 'finalizing' phase: a notification that does not beat the proposal is consumed
//    and restarts the 200 ms wait; one that beats it ends the phase and is processed normally;
//    tick() past the deadline decides.
//
// Not modelled: reconfiguration (the last-seen "next" config and processReconfig), hierarchical
// quorum weights (majority only: strictly more than half of the voters), QuorumOracleMaj.
import { LONG_MIN, NOTIFICATION_VERSION, Notification, ServerState, ServerStateName } from './notification';

export const FINALIZE_WAIT_MS = 200;
export const MIN_NOTIFICATION_INTERVAL_MS = 200;
export const MAX_NOTIFICATION_INTERVAL_MS = 60000;

export type PeerState = ServerStateName;

/** A vote as QuorumPeer.getCurrentVote() holds it. */
export interface Vote {
  leader: number;
  zxid: number;
  electionEpoch: number;
  peerEpoch: number;
}

export interface Outgoing {
  to: number;
  msg: Notification;
}

export interface Decision {
  state: 'LEADING' | 'FOLLOWING' | 'OBSERVING';
  leader: number;
  zxid: number;
  peerEpoch: number;
  electionEpoch: number;
}

/** What one input produced. */
export interface Step {
  send: Outgoing[];
  /** set once, when this input ended the election */
  decided?: Decision;
  /**
   * tick() only: the notification timeout expired and `send` holds the re-sent notifications.
   * A transport that still has undelivered messages should reconnect instead of sending them
   * (Java: `if (manager.haveDelivered()) sendNotifications(); else manager.connectAll();`).
   */
  timedOut?: boolean;
}

export interface FleOptions {
  myid: number;
  /** voting members (participants) of the current config */
  voters: Iterable<number>;
  /** observers of the current config (informational; they never count) */
  observers?: Iterable<number>;
  /** learner type; defaults to "myid is not a voter" */
  isObserver?: boolean;
  /** DataTree.lastProcessedZxid after loading (−1 = untrusted/empty database) */
  lastLoggedZxid: number;
  /** contents of the currentEpoch file */
  currentEpoch: number;
  /** QuorumVerifier text sent in every notification (e.g. `server.1=…\nversion=0`) */
  configText?: string;
  finalizeWait?: number;
  minNotificationInterval?: number;
  maxNotificationInterval?: number;
}

/** A vote as stored in recvset/outofelection (Q/Vote.java with version and state). */
interface TrackedVote {
  id: number;
  zxid: number;
  electionEpoch: number;
  peerEpoch: number;
  state: number;
  version: number;
}

/** Q/Vote.java equals. */
export function voteEquals(a: TrackedVote, b: TrackedVote): boolean {
  if (a.state === ServerState.LOOKING || b.state === ServerState.LOOKING) {
    return a.id === b.id && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch;
  }
  if (a.version > 0 !== b.version > 0) return a.id === b.id;
  return a.id === b.id && a.peerEpoch === b.peerEpoch;
}

/** totalOrderPredicate(new, cur) for a majority config (every weight is 1). */
export function totalOrder(newId: number, newZxid: number, newEpoch: number, curId: number, curZxid: number, curEpoch: number): boolean {
  return newEpoch > curEpoch || (newEpoch === curEpoch && (newZxid > curZxid || (newZxid === curZxid && newId > curId)));
}

type Phase = 'idle' | 'looking' | 'finalizing';

export class FastLeaderElection {
  readonly myid: number;
  readonly voters: ReadonlySet<number>;
  readonly observers: ReadonlySet<number>;
  readonly isObserver: boolean;
  configText: string;

  private lastLoggedZxid: number;
  private currentEpoch: number;
  private peerState: PeerState = 'LOOKING';
  private logicalclock = 0;
  private proposedLeader = LONG_MIN;
  private proposedZxid = LONG_MIN;
  private proposedEpoch = LONG_MIN;
  private currentVote: Vote;
  private recvset = new Map<number, TrackedVote>();
  private outofelection = new Map<number, TrackedVote>();
  /** notifications that arrived while LOOKING but before start() (Java's recvqueue) */
  private pending: Array<{ from: number; n: Notification }> = [];
  private phase: Phase = 'idle';
  private notTimeout: number;
  private pollDeadline = 0;
  private finalizeDeadline = 0;
  private decision: Decision | null = null;
  private readonly finalizeWait: number;
  private readonly minInterval: number;
  private readonly maxInterval: number;
  private readonly voterList: number[];

  constructor(o: FleOptions) {
    this.myid = o.myid;
    this.voters = new Set(o.voters);
    this.voterList = [...this.voters].sort((a, b) => a - b);
    this.observers = new Set(o.observers ?? []);
    this.isObserver = o.isObserver ?? !this.voters.has(o.myid);
    this.configText = o.configText ?? '';
    this.lastLoggedZxid = o.lastLoggedZxid;
    this.currentEpoch = o.currentEpoch;
    this.finalizeWait = o.finalizeWait ?? FINALIZE_WAIT_MS;
    this.minInterval = o.minNotificationInterval ?? MIN_NOTIFICATION_INTERVAL_MS;
    this.maxInterval = o.maxNotificationInterval ?? MAX_NOTIFICATION_INTERVAL_MS;
    this.notTimeout = this.minInterval;
    // QuorumPeer.startLeaderElection: currentVote = new Vote(myid, lastLoggedZxid, currentEpoch)
    this.currentVote = { leader: o.myid, zxid: o.lastLoggedZxid, electionEpoch: -1, peerEpoch: o.currentEpoch };
  }

  // ---- observation -------------------------------------------------------------------------

  getPeerState(): PeerState {
    return this.peerState;
  }
  getLogicalClock(): number {
    return this.logicalclock;
  }
  /** The current proposal while looking (Java getVote()). */
  getProposal(): Vote {
    return { leader: this.proposedLeader, zxid: this.proposedZxid, electionEpoch: this.logicalclock, peerEpoch: this.proposedEpoch };
  }
  /** QuorumPeer.getCurrentVote(): the last decided (or initial / explicitly set) vote. */
  getCurrentVote(): Vote {
    return { ...this.currentVote };
  }
  /** The decision of the last election, null while looking or before the first one. */
  getDecision(): Decision | null {
    return this.decision;
  }
  /** True between start() and the decision. */
  isLooking(): boolean {
    return this.phase !== 'idle';
  }
  /** When tick() next has something to do, or null. */
  nextDeadline(): number | null {
    if (this.phase === 'finalizing') return this.finalizeDeadline;
    if (this.phase === 'looking') return this.pollDeadline;
    return null;
  }

  // ---- control by the quorum peer ------------------------------------------------------------

  /** QuorumPeer.setCurrentVote (and optionally setPeerState): what non-LOOKING replies carry. */
  setCurrentVote(vote: Vote, state?: PeerState): void {
    this.currentVote = { ...vote };
    if (state !== undefined) this.setPeerState(state);
  }

  /**
   * QuorumPeer.setPeerState. Leaving LOOKING abandons a running election; entering LOOKING
   * without start() only queues incoming notifications until start().
   */
  setPeerState(state: PeerState): void {
    if (state !== 'LOOKING') {
      this.phase = 'idle';
      this.pending = [];
    } else if (this.peerState !== 'LOOKING') {
      this.decision = null;
    }
    this.peerState = state;
  }

  /** QuorumPeer.updateElectionVote: after the new epoch is established, carry it in the vote. */
  updateElectionVote(newEpoch: number): void {
    this.currentVote = { ...this.currentVote, peerEpoch: newEpoch };
  }

  /**
   * Begin an election (lookForLeader): state LOOKING, logicalclock++, propose myself (or the
   * MIN vote when not a voter) and notify every voter, this peer included when it is one.
   * Notifications queued while LOOKING before the start are then processed.
   */
  start(now: number, data?: { lastLoggedZxid?: number; currentEpoch?: number }): Step {
    if (data?.lastLoggedZxid !== undefined) this.lastLoggedZxid = data.lastLoggedZxid;
    if (data?.currentEpoch !== undefined) this.currentEpoch = data.currentEpoch;
    this.peerState = 'LOOKING';
    this.decision = null;
    this.recvset = new Map();
    this.outofelection = new Map();
    this.notTimeout = this.minInterval;
    this.logicalclock++;
    this.updateProposal(this.initId(), this.initZxid(), this.initEpoch());
    this.phase = 'looking';
    this.pollDeadline = now + this.notTimeout;
    const send = this.notifications();
    const queued = this.pending;
    this.pending = [];
    for (const { from, n } of queued) {
      const d = this.step(from, n, now, send);
      if (d) return { send, decided: d };
    }
    return { send };
  }

  /** A notification from `fromSid` (already decoded). */
  receive(fromSid: number, n: Notification, now: number): Step {
    const send: Outgoing[] = [];
    // WorkerReceiver: a non-voting sender gets our current vote at once, nothing more.
    if (!this.voters.has(fromSid)) {
      const v = this.currentVote;
      send.push({ to: fromSid, msg: this.msg(ServerState[this.peerState], v.leader, v.zxid, this.logicalclock, v.peerEpoch) });
      return { send };
    }
    if (!(n.state >= 0 && n.state <= 3)) return { send };
    if (this.peerState === 'LOOKING') {
      if (n.state === ServerState.LOOKING && n.electionEpoch < this.logicalclock) {
        // the sender lags: tell it our proposal and round
        send.push({ to: fromSid, msg: this.msg(ServerState.LOOKING, this.proposedLeader, this.proposedZxid, this.logicalclock, this.proposedEpoch) });
      }
      if (this.phase === 'idle') {
        if (this.pending.length >= 1000) this.pending.shift();
        this.pending.push({ from: fromSid, n });
        return { send };
      }
      const decided = this.step(fromSid, n, now, send);
      return decided ? { send, decided } : { send };
    }
    // Not LOOKING: answer a LOOKING sender with the vote we hold (its own electionEpoch).
    if (n.state === ServerState.LOOKING) {
      const v = this.currentVote;
      send.push({ to: fromSid, msg: this.msg(ServerState[this.peerState], v.leader, v.zxid, v.electionEpoch, v.peerEpoch) });
    }
    return { send };
  }

  /** Time passes: the finalize wait and the notification timeout. */
  tick(now: number): Step {
    if (this.phase === 'finalizing') {
      if (now >= this.finalizeDeadline) {
        return { send: [], decided: this.decide(this.proposedLeader, this.proposedZxid, this.logicalclock, this.proposedEpoch) };
      }
      return { send: [] };
    }
    if (this.phase === 'looking' && now >= this.pollDeadline) {
      const send = this.notifications();
      this.notTimeout = Math.min(this.notTimeout * 2, this.maxInterval);
      this.pollDeadline = now + this.notTimeout;
      return { send, timedOut: true };
    }
    return { send: [] };
  }

  /** The current notification timeout (doubles on every expiry, 200 ms → 60 s). */
  getNotificationTimeout(): number {
    return this.notTimeout;
  }

  // ---- internals ---------------------------------------------------------------------------

  private initId(): number {
    return this.voters.has(this.myid) ? this.myid : LONG_MIN;
  }
  private initZxid(): number {
    return this.voters.has(this.myid) ? this.lastLoggedZxid : LONG_MIN;
  }
  private initEpoch(): number {
    return this.voters.has(this.myid) ? this.currentEpoch : LONG_MIN;
  }

  private updateProposal(leader: number, zxid: number, epoch: number): void {
    this.proposedLeader = leader;
    this.proposedZxid = zxid;
    this.proposedEpoch = epoch;
  }

  private msg(state: number, leader: number, zxid: number, electionEpoch: number, peerEpoch: number): Notification {
    return { state, leader, zxid, electionEpoch, peerEpoch, version: NOTIFICATION_VERSION, config: this.configText };
  }

  /** sendNotifications(): the proposal to every voter. */
  private notifications(): Outgoing[] {
    const m = this.msg(ServerState.LOOKING, this.proposedLeader, this.proposedZxid, this.logicalclock, this.proposedEpoch);
    return this.voterList.map((to) => ({ to, msg: m }));
  }

  /** SyncedLearnerTracker over `votes` for `target`: hasAllQuorums (majority of the voters). */
  private hasQuorum(votes: Map<number, TrackedVote>, target: TrackedVote): boolean {
    let count = 0;
    for (const [sid, v] of votes) if (this.voters.has(sid) && voteEquals(target, v)) count++;
    return count * 2 > this.voters.size;
  }

  private checkLeader(votes: Map<number, TrackedVote>, leader: number, electionEpoch: number): boolean {
    if (leader !== this.myid) {
      const v = votes.get(leader);
      return v !== undefined && v.state === ServerState.LEADING;
    }
    return this.logicalclock === electionEpoch;
  }

  private decide(leader: number, zxid: number, electionEpoch: number, peerEpoch: number): Decision {
    const state: Decision['state'] = leader === this.myid ? 'LEADING' : this.isObserver ? 'OBSERVING' : 'FOLLOWING';
    this.peerState = state;
    this.phase = 'idle';
    this.pending = [];
    this.currentVote = { leader, zxid, electionEpoch, peerEpoch };
    this.decision = { state, leader, zxid, peerEpoch, electionEpoch };
    return this.decision;
  }

  /** One pass of the lookForLeader loop (or of its finalize wait) for notification n. */
  private step(from: number, n: Notification, now: number, send: Outgoing[]): Decision | null {
    if (this.phase === 'finalizing') {
      if (!totalOrder(n.leader, n.zxid, n.peerEpoch, this.proposedLeader, this.proposedZxid, this.proposedEpoch)) {
        this.finalizeDeadline = now + this.finalizeWait; // consumed; poll(finalizeWait) again
        return null;
      }
      this.phase = 'looking'; // re-queued: handled by the main loop below
    }
    this.pollDeadline = now + this.notTimeout;
    if (!this.voters.has(from) || !this.voters.has(n.leader)) return null;
    switch (n.state) {
      case ServerState.LOOKING: {
        if (this.initZxid() === -1) return null; // our database is not trusted
        if (n.zxid === -1) return null; // nor is theirs
        if (n.electionEpoch > this.logicalclock) {
          this.logicalclock = n.electionEpoch;
          this.recvset.clear();
          if (totalOrder(n.leader, n.zxid, n.peerEpoch, this.initId(), this.initZxid(), this.initEpoch())) {
            this.updateProposal(n.leader, n.zxid, n.peerEpoch);
          } else {
            this.updateProposal(this.initId(), this.initZxid(), this.initEpoch());
          }
          send.push(...this.notifications());
        } else if (n.electionEpoch < this.logicalclock) {
          return null;
        } else if (totalOrder(n.leader, n.zxid, n.peerEpoch, this.proposedLeader, this.proposedZxid, this.proposedEpoch)) {
          this.updateProposal(n.leader, n.zxid, n.peerEpoch);
          send.push(...this.notifications());
        }
        this.recvset.set(from, { id: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: ServerState.LOOKING, version: 0 });
        const target: TrackedVote = {
          id: this.proposedLeader,
          zxid: this.proposedZxid,
          electionEpoch: this.logicalclock,
          peerEpoch: this.proposedEpoch,
          state: ServerState.LOOKING,
          version: 0,
        };
        if (this.hasQuorum(this.recvset, target)) {
          this.phase = 'finalizing';
          this.finalizeDeadline = now + this.finalizeWait;
        }
        return null;
      }
      case ServerState.OBSERVING:
        return null;
      default: {
        // FOLLOWING / LEADING: receivedFollowingNotification
        const nv: TrackedVote = { id: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: n.state, version: n.version };
        if (n.electionEpoch === this.logicalclock) {
          this.recvset.set(from, { ...nv, version: 0 });
          if (this.hasQuorum(this.recvset, nv) && this.checkLeader(this.recvset, n.leader, n.electionEpoch)) {
            return this.decide(n.leader, n.zxid, n.electionEpoch, n.peerEpoch);
          }
        }
        // Before joining an established ensemble, verify that a majority follows the same leader.
        this.outofelection.set(from, nv);
        if (this.hasQuorum(this.outofelection, nv) && this.checkLeader(this.outofelection, n.leader, n.electionEpoch)) {
          this.logicalclock = n.electionEpoch;
          return this.decide(n.leader, n.zxid, n.electionEpoch, n.peerEpoch);
        }
        return null;
      }
    }
  }
}
