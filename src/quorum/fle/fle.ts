// FastLeaderElection (wire-quorum.md §4; FastLeaderElection.lookForLeader + WorkerReceiver of
// ZooKeeper 3.8) as a pure state machine for one peer: notifications and time go in, notifications
// to send come out. No sockets, timers, clocks or randomness: the caller passes `now` (ms) and
// calls tick() at or after nextDeadline().
import { NOTIFICATION_VERSION, Notification, PeerState } from './notification';

export interface Outgoing {
  to: number;
  msg: Notification;
}

export type DecidedState = 'LEADING' | 'FOLLOWING' | 'OBSERVING';

export interface Decision {
  state: DecidedState;
  leader: number;
  zxid: number;
  peerEpoch: number;
  electionEpoch: number;
}

export interface FleOptions {
  myid: number;
  /** the voting members (participants) of the current config */
  voters: number[];
  /** observer / non-voter: votes (MIN, MIN, MIN) and decides OBSERVING. Default: myid not in voters. */
  isObserver?: boolean;
  /** DataTree.lastProcessedZxid after loading (-1: empty, untrusted database). startElection may override. */
  lastLoggedZxid?: number;
  /** currentEpoch file value. startElection may override. */
  currentEpoch?: number;
  /** own QuorumVerifier text, sent in every notification */
  config?: string;
  finalizeWaitMs?: number;
  minNotificationIntervalMs?: number;
  maxNotificationIntervalMs?: number;
}

/** Long.MIN_VALUE (exact as a double): the vote of observers / non-voters. */
export const MIN_VOTE = -9223372036854775808;

/** A vote as kept in recvset / outofelection (Q/Vote.java). */
export interface Vote {
  version: number;
  leader: number;
  zxid: number;
  electionEpoch: number;
  peerEpoch: number;
  state: number;
}

/** Vote.equals of ZooKeeper: full compare if either is LOOKING, else id (+ peerEpoch unless exactly one has version 0). */
export function voteEquals(a: Vote, b: Vote): boolean {
  if (a.state === PeerState.LOOKING || b.state === PeerState.LOOKING) {
    return a.leader === b.leader && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch;
  }
  if (a.version > 0 !== b.version > 0) return a.leader === b.leader;
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

interface Proposal {
  leader: number;
  zxid: number;
  peerEpoch: number;
}

const STATE_NAME: Record<DecidedState, number> = {
  LEADING: PeerState.LEADING,
  FOLLOWING: PeerState.FOLLOWING,
  OBSERVING: PeerState.OBSERVING,
};

export class FastLeaderElection {
  private clock = 0;
  private proposal: Proposal = { leader: MIN_VOTE, zxid: MIN_VOTE, peerEpoch: MIN_VOTE };
  private recvset = new Map<number, Vote>();
  private outofelection = new Map<number, Vote>();
  private decided: Decision | null = null;
  /** inside lookForLeader */
  private looking = false;
  /** QuorumPeer.currentVote: the initial self vote until the first decision, then the decided vote */
  private current: Vote;
  /** >= 0 while draining the queue after a quorum (the finalizeWait poll) */
  private finalizeAt = -1;
  /** start of the current notification-timeout poll */
  private pollStart = 0;
  private notTimeout: number;
  private lastLoggedZxid: number;
  private currentEpoch: number;
  private readonly voterSet: Set<number>;
  private readonly finalizeWait: number;
  private readonly minInterval: number;
  private readonly maxInterval: number;

  constructor(private readonly o: FleOptions) {
    this.voterSet = new Set(o.voters);
    this.finalizeWait = o.finalizeWaitMs ?? 200;
    this.minInterval = o.minNotificationIntervalMs ?? 200;
    this.maxInterval = o.maxNotificationIntervalMs ?? 60000;
    this.notTimeout = this.minInterval;
    this.lastLoggedZxid = o.lastLoggedZxid ?? -1;
    this.currentEpoch = o.currentEpoch ?? 0;
    this.current = {
      version: 0,
      leader: o.myid,
      zxid: this.lastLoggedZxid,
      electionEpoch: -1,
      peerEpoch: this.currentEpoch,
      state: PeerState.LOOKING,
    };
  }

  /** The current round (logicalclock). */
  get logicalclock(): number {
    return this.clock;
  }

  get myid(): number {
    return this.o.myid;
  }

  /** The decision of the last finished election (null while LOOKING or before any). */
  decision(): Decision | null {
    return this.decided;
  }

  /** The wire state of this peer. */
  state(): number {
    if (this.looking || !this.decided) return PeerState.LOOKING;
    return STATE_NAME[this.decided.state];
  }

  /** The vote this peer is proposing in the running election (or its last proposal). */
  proposedVote(): { leader: number; zxid: number; peerEpoch: number } {
    return { ...this.proposal };
  }

  /** QuorumPeer.getCurrentVote. */
  currentVote(): Vote {
    return { ...this.current };
  }

  private get observer(): boolean {
    return this.o.isObserver ?? !this.voterSet.has(this.o.myid);
  }

  private validVoter(sid: number): boolean {
    return this.voterSet.has(sid);
  }

  /** QuorumMaj: strictly more than half of the voting members; only voters are counted. */
  private hasQuorum(votes: Map<number, Vote>, v: Vote): boolean {
    let n = 0;
    for (const [sid, x] of votes) if (this.validVoter(sid) && voteEquals(x, v)) n++;
    return n * 2 > this.voterSet.size;
  }

  /** totalOrderPredicate(new, cur): (peerEpoch, zxid, sid), and the new leader must be a voter. */
  private better(n: Proposal, cur: Proposal): boolean {
    if (!this.validVoter(n.leader)) return false;
    return n.peerEpoch > cur.peerEpoch || (n.peerEpoch === cur.peerEpoch && (n.zxid > cur.zxid || (n.zxid === cur.zxid && n.leader > cur.leader)));
  }

  private initVote(): Proposal {
    if (this.observer) return { leader: MIN_VOTE, zxid: MIN_VOTE, peerEpoch: MIN_VOTE };
    return { leader: this.o.myid, zxid: this.lastLoggedZxid, peerEpoch: this.currentEpoch };
  }

  private msg(state: number, leader: number, zxid: number, electionEpoch: number, peerEpoch: number): Notification {
    return { state, leader, zxid, electionEpoch, peerEpoch, version: NOTIFICATION_VERSION, config: this.o.config ?? '' };
  }

  /** sendNotifications: the proposal to every voter, self included when a voter. */
  private sendNotifications(): Outgoing[] {
    const p = this.proposal;
    return [...this.voterSet].map((to) => ({ to, msg: this.msg(PeerState.LOOKING, p.leader, p.zxid, this.clock, p.peerEpoch) }));
  }

  /**
   * lookForLeader: logicalclock++, propose self (observers: MIN vote), notify every voter.
   * lastLoggedZxid / currentEpoch, when given, replace the constructor's values from now on.
   */
  startElection(now: number, lastLoggedZxid?: number, currentEpoch?: number): Outgoing[] {
    if (lastLoggedZxid !== undefined) this.lastLoggedZxid = lastLoggedZxid;
    if (currentEpoch !== undefined) this.currentEpoch = currentEpoch;
    if (!this.decided && this.current.electionEpoch === -1) {
      this.current = { ...this.current, zxid: this.lastLoggedZxid, peerEpoch: this.currentEpoch };
    }
    this.clock++;
    this.looking = true;
    this.decided = null;
    this.finalizeAt = -1;
    this.recvset = new Map();
    this.outofelection = new Map();
    this.notTimeout = this.minInterval;
    this.pollStart = now;
    this.proposal = this.initVote();
    return this.sendNotifications();
  }

  /**
   * Take up a role decided elsewhere (or confirm one): stop LOOKING and answer LOOKING peers with
   * this vote. Fields not given default to the current vote's when it names the same leader.
   */
  setDecided(state: DecidedState, leader: number, v: { zxid?: number; peerEpoch?: number; electionEpoch?: number } = {}): void {
    const same = this.current.leader === leader;
    const zxid = v.zxid ?? (same ? this.current.zxid : -1);
    const peerEpoch = v.peerEpoch ?? (same ? this.current.peerEpoch : this.currentEpoch);
    const electionEpoch = v.electionEpoch ?? this.clock;
    this.decided = { state, leader, zxid, peerEpoch, electionEpoch };
    this.current = { version: 0, leader, zxid, electionEpoch, peerEpoch, state: STATE_NAME[state] };
    this.proposal = { leader, zxid, peerEpoch };
    this.looking = false;
    this.finalizeAt = -1;
  }

  /** QuorumPeer.updateElectionVote: once the role is established, the vote carries the new epoch. */
  updateElectionVote(newEpoch: number): void {
    this.current = { ...this.current, peerEpoch: newEpoch };
    if (this.decided) this.decided = { ...this.decided, peerEpoch: newEpoch };
  }

  private decide(leader: number, zxid: number, electionEpoch: number, peerEpoch: number): void {
    const state: DecidedState = leader === this.o.myid ? 'LEADING' : this.observer ? 'OBSERVING' : 'FOLLOWING';
    this.decided = { state, leader, zxid, peerEpoch, electionEpoch };
    this.current = { version: 0, leader, zxid, electionEpoch, peerEpoch, state: STATE_NAME[state] };
    this.proposal = { leader, zxid, peerEpoch };
    this.looking = false;
    this.finalizeAt = -1;
  }

  /** A notification from sid `from` (WorkerReceiver, then the lookForLeader loop). */
  receive(from: number, n: Notification, now: number): Outgoing[] {
    if (n.state < 0 || n.state > 3) return [];
    const myState = this.state();
    if (!this.validVoter(from)) {
      // non-voter (observer): answer at once with the current vote, my round and my state
      const c = this.current;
      return [{ to: from, msg: this.msg(myState, c.leader, c.zxid, this.clock, c.peerEpoch) }];
    }
    if (!this.looking) {
      if (!this.decided) return []; // not started yet
      if (n.state !== PeerState.LOOKING) return [];
      const c = this.current;
      return [{ to: from, msg: this.msg(myState, c.leader, c.zxid, c.electionEpoch, c.peerEpoch) }];
    }
    const out: Outgoing[] = [];
    if (n.state === PeerState.LOOKING && n.electionEpoch < this.clock) {
      const p = this.proposal;
      out.push({ to: from, msg: this.msg(PeerState.LOOKING, p.leader, p.zxid, this.clock, p.peerEpoch) });
    }
    // the poll returned a notification
    this.pollStart = now;
    if (this.finalizeAt >= 0) {
      // draining after a quorum: only a better vote interrupts; others are dropped
      if (!this.better(n, this.proposal)) {
        this.finalizeAt = now + this.finalizeWait;
        return out;
      }
      this.finalizeAt = -1;
    }
    out.push(...this.process(from, n, now));
    return out;
  }

  private process(from: number, n: Notification, now: number): Outgoing[] {
    if (!this.validVoter(from) || !this.validVoter(n.leader)) return [];
    const out: Outgoing[] = [];
    switch (n.state) {
      case PeerState.LOOKING: {
        const init = this.initVote();
        if (init.zxid === -1 || n.zxid === -1) return out;
        if (n.electionEpoch > this.clock) {
          this.clock = n.electionEpoch;
          this.recvset.clear();
          this.proposal = this.better(n, init) ? { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch } : init;
          out.push(...this.sendNotifications());
        } else if (n.electionEpoch < this.clock) {
          return out;
        } else if (this.better(n, this.proposal)) {
          this.proposal = { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch };
          out.push(...this.sendNotifications());
        }
        this.recvset.set(from, {
          version: 0,
          leader: n.leader,
          zxid: n.zxid,
          electionEpoch: n.electionEpoch,
          peerEpoch: n.peerEpoch,
          state: PeerState.LOOKING,
        });
        const p = this.proposal;
        const mine: Vote = { version: 0, leader: p.leader, zxid: p.zxid, electionEpoch: this.clock, peerEpoch: p.peerEpoch, state: PeerState.LOOKING };
        if (this.hasQuorum(this.recvset, mine)) this.finalizeAt = now + this.finalizeWait;
        return out;
      }
      case PeerState.OBSERVING:
        return out;
      case PeerState.FOLLOWING:
      case PeerState.LEADING: {
        const theirs: Vote = {
          version: n.version,
          leader: n.leader,
          zxid: n.zxid,
          electionEpoch: n.electionEpoch,
          peerEpoch: n.peerEpoch,
          state: n.state,
        };
        if (n.electionEpoch === this.clock) {
          this.recvset.set(from, { ...theirs, version: 0 });
          if (this.hasQuorum(this.recvset, theirs) && this.checkLeader(this.recvset, n.leader, n.electionEpoch)) {
            this.decide(n.leader, n.zxid, n.electionEpoch, n.peerEpoch);
            return out;
          }
        }
        this.outofelection.set(from, theirs);
        if (this.hasQuorum(this.outofelection, theirs) && this.checkLeader(this.outofelection, n.leader, n.electionEpoch)) {
          this.clock = n.electionEpoch;
          this.decide(n.leader, n.zxid, n.electionEpoch, n.peerEpoch);
        }
        return out;
      }
      default:
        return out;
    }
  }

  /** The leader must have said LEADING itself; if it is me, the round must match. */
  private checkLeader(votes: Map<number, Vote>, leader: number, electionEpoch: number): boolean {
    if (leader !== this.o.myid) {
      const v = votes.get(leader);
      return v !== undefined && v.state === PeerState.LEADING;
    }
    return this.clock === electionEpoch;
  }

  /** When tick() next has something to do (null: nothing pending). */
  nextDeadline(): number | null {
    if (!this.looking) return null;
    if (this.finalizeAt >= 0) return this.finalizeAt;
    return this.pollStart + this.notTimeout;
  }

  /** Decide after finalizeWait without a better vote; re-send on the notification timeout (doubling). */
  tick(now: number): Outgoing[] {
    if (!this.looking) return [];
    if (this.finalizeAt >= 0) {
      if (now >= this.finalizeAt) {
        const p = this.proposal;
        this.decide(p.leader, p.zxid, this.clock, p.peerEpoch);
      }
      return [];
    }
    if (now - this.pollStart >= this.notTimeout) {
      this.pollStart = now;
      this.notTimeout = Math.min(this.notTimeout * 2, this.maxInterval);
      return this.sendNotifications();
    }
    return [];
  }
}
