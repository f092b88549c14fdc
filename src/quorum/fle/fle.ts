// FastLeaderElection (wire-quorum.md §4) as a pure state machine for one peer: notifications and
// time go in, notifications to send come out. Votes order by (peerEpoch, zxid, sid).
import { Notification, PeerState } from './notification';
import { majorityVerifier, QuorumVerifier } from '../verifier';

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

interface Vote {
  leader: number;
  zxid: number;
  peerEpoch: number;
  electionEpoch: number;
  state: number;
}

export interface FleOptions {
  myid: number;
  voters: number[];
  isObserver?: boolean;
  /** which sets of voters are a quorum (default: a majority of `voters`) */
  verifier?: QuorumVerifier;
  config?: string;
  finalizeWaitMs?: number;
  minNotificationIntervalMs?: number;
  maxNotificationIntervalMs?: number;
}

const MIN = Number.MIN_SAFE_INTEGER;

export class FastLeaderElection {
  logicalclock = 0;
  private proposal = { leader: MIN, zxid: MIN, peerEpoch: MIN };
  private recvset = new Map<number, Vote>();
  private outofelection = new Map<number, Vote>();
  private decided: Decision | null = null;
  private looking = false;
  private finalizeAt = -1;
  /** the last LOOKING notification from each voter while this peer was not looking (startElection) */
  private heldWhileDecided = new Map<number, Notification>();
  private lastSend = 0;
  private interval: number;
  private myZxid = -1;
  private myEpoch = -1;
  private voters: Set<number>;
  private qv: QuorumVerifier;
  private isObserver: boolean | undefined;
  private lastSeen: QuorumVerifier | null = null;
  private config: string;
  /**
   * Voters known to be down: the connection manager saw the connection to them close or fail to
   * open, and nothing has come from them since. Their vote cannot come, so finalizeWait does not
   * wait for it (see `nothingToWaitFor`).
   */
  private down = new Set<number>();
  /**
   * Voters this peer has had a connection with or a notification from since it started. Only
   * these can be down: a refused connect to a peer never heard from may mean it is starting this
   * very moment (three peers of a pseudo-cluster started together), and its vote is then the one
   * finalizeWait is for. Counted as down, a peer decided on a quorum of stale votes while the
   * others went on to elect the late peer: it led without followers until initLimit ran out
   * (20 s), or followed a leader that never led (5 s), in 3 of 30 such starts here.
   */
  private heard = new Set<number>();

  constructor(private readonly o: FleOptions) {
    this.voters = new Set(o.voters);
    this.qv = o.verifier ?? majorityVerifier(o.voters);
    this.isObserver = o.isObserver;
    this.config = o.config ?? '';
    this.interval = o.minNotificationIntervalMs ?? 200;
  }

  /** A new membership is in force (a reconfig): count and elect by it from the next election on. */
  setMembership(voters: number[], verifier: QuorumVerifier, isObserver: boolean, config: string): void {
    this.voters = new Set(voters);
    this.qv = verifier;
    this.isObserver = isObserver;
    this.config = config;
  }

  /**
   * A reconfig this peer logged but has not seen committed (QuorumPeer's lastSeenQuorumVerifier):
   * until it is in force, a leader needs a quorum of both memberships, and the voters of both
   * take part (FastLeaderElection.getVoteTracker, QuorumPeer.getCurrentAndNextConfigVoters).
   */
  setLastSeen(verifier: QuorumVerifier | null): void {
    this.lastSeen = verifier;
  }

  /** voting members of the membership in force or of the pending one */
  private isVoter(sid: number): boolean {
    return this.voters.has(sid) || (this.lastSeen?.voters.has(sid) ?? false);
  }

  decision(): Decision | null {
    return this.decided;
  }

  private get observer(): boolean {
    return this.isObserver ?? !this.voters.has(this.o.myid);
  }

  private better(a: { leader: number; zxid: number; peerEpoch: number }, b: { leader: number; zxid: number; peerEpoch: number }): boolean {
    // a voter of weight 0 (hierarchical quorums) is never elected (totalOrderPredicate)
    if (!this.voters.has(a.leader) || this.qv.weight(a.leader) === 0) return false;
    return a.peerEpoch > b.peerEpoch || (a.peerEpoch === b.peerEpoch && (a.zxid > b.zxid || (a.zxid === b.zxid && a.leader > b.leader)));
  }

  private msg(state: number, v: { leader: number; zxid: number; peerEpoch: number }, electionEpoch: number): Notification {
    return { state, leader: v.leader, zxid: v.zxid, electionEpoch, peerEpoch: v.peerEpoch, version: 2, config: this.config };
  }

  private broadcast(now: number): Outgoing[] {
    this.lastSend = now;
    const m = this.msg(PeerState.LOOKING, this.proposal, this.logicalclock);
    return [...new Set([...this.voters, ...(this.lastSeen?.voters ?? [])])].map((to) => ({ to, msg: m }));
  }

  private myState(): number {
    if (!this.decided) return PeerState.LOOKING;
    return this.decided.state === 'LEADING' ? PeerState.LEADING : this.decided.state === 'OBSERVING' ? PeerState.OBSERVING : PeerState.FOLLOWING;
  }

  /** Begin an election (logicalclock + 1) with this peer's last logged zxid and current epoch. */
  startElection(now: number, lastLoggedZxid: number, currentEpoch: number): Outgoing[] {
    this.logicalclock++;
    this.looking = true;
    this.decided = null;
    this.finalizeAt = -1;
    this.recvset = new Map();
    this.outofelection = new Map();
    this.interval = this.o.minNotificationIntervalMs ?? 200;
    this.myZxid = lastLoggedZxid;
    this.myEpoch = currentEpoch;
    this.proposal = this.initVote();
    const out = this.broadcast(now);
    // LOOKING notifications that came while this peer still followed or led (answered then with
    // its old vote): taken now, as if they had arrived a moment later — a delay the protocol
    // allows. Dropping them (as 3.8 does) left a peer that noticed a dead leader a few ms after
    // the others without their votes until the next resend, 200 ms on (bench/failover.js).
    const held = this.heldWhileDecided;
    this.heldWhileDecided = new Map();
    for (const [from, n] of held) out.push(...this.receive(from, n, now));
    return out;
  }

  private initVote(): { leader: number; zxid: number; peerEpoch: number } {
    // FastLeaderElection.getInitId: only a voter proposes itself (a server a reconfig removed
    // keeps its learner type and follows without a vote)
    if (this.observer || !this.voters.has(this.o.myid)) return { leader: MIN, zxid: MIN, peerEpoch: MIN };
    return { leader: this.o.myid, zxid: this.myZxid, peerEpoch: this.myEpoch };
  }

  private decide(leader: number, zxid: number, peerEpoch: number): void {
    const state = leader === this.o.myid ? 'LEADING' : this.observer ? 'OBSERVING' : 'FOLLOWING';
    this.decided = { state, leader, zxid, peerEpoch, electionEpoch: this.logicalclock };
    this.proposal = { leader, zxid, peerEpoch };
    this.looking = false;
    this.finalizeAt = -1;
  }

  /** The vote a quorum agreed on becomes the decision. */
  private decideProposal(): void {
    this.decide(this.proposal.leader, this.proposal.zxid, this.proposal.peerEpoch);
  }

  /**
   * A committed reconfig designated the leader (COMMITANDACTIVATE): take it as decided, with no
   * election (QuorumPeer.updateVote and the reconfigFlag of updateServerState).
   */
  designate(leader: number, zxid: number, peerEpoch: number): Decision {
    this.looking = false;
    this.decide(leader, zxid, peerEpoch);
    return this.decided!;
  }

  /** After sync: the decided vote carries the epoch the role runs in (QuorumPeer.updateElectionVote). */
  updateElectionVote(peerEpoch: number): void {
    if (!this.decided) return;
    this.decided = { ...this.decided, peerEpoch };
    this.proposal = { ...this.proposal, peerEpoch };
  }

  private agree(votes: Map<number, Vote>, v: { leader: number; zxid: number; peerEpoch: number }, decidedOnly: boolean): boolean {
    const agreeing: number[] = [];
    for (const [sid, x] of votes) {
      if (!this.isVoter(sid)) continue;
      const same = decidedOnly ? x.leader === v.leader : x.leader === v.leader && x.zxid === v.zxid && x.peerEpoch === v.peerEpoch;
      if (same) agreeing.push(sid);
    }
    return this.qv.containsQuorum(agreeing) && (this.lastSeen === null || this.lastSeen.containsQuorum(agreeing));
  }

  private checkLeader(votes: Map<number, Vote>, leader: number, electionEpoch: number): boolean {
    if (leader !== this.o.myid) {
      const v = votes.get(leader);
      return v !== undefined && v.state === PeerState.LEADING;
    }
    return this.logicalclock === electionEpoch;
  }

  /**
   * The connection to `sid` closed or could not be opened (a refused connect: nobody listens on its
   * election port). A vote from it cannot arrive until it comes back, so once every other voter has
   * sent the proposal a quorum agreed on, the peer decides now (`nothingToWaitFor`). Ignored for a
   * peer never heard from since this one started (`heard`).
   */
  peerDown(sid: number): void {
    if (sid === this.o.myid || !this.heard.has(sid)) return;
    this.down.add(sid);
    if (this.looking && this.finalizeAt >= 0 && this.nothingToWaitFor()) this.decideProposal();
  }

  /** A connection to `sid` is open again: its vote may come, so finalizeWait waits for it again. */
  peerUp(sid: number): void {
    this.heard.add(sid);
    this.down.delete(sid);
  }

  /**
   * finalizeWait (200 ms in FastLeaderElection) waits for a better vote than the quorum agreed on.
   * When every voter that is not down has sent this very vote, no better one can come: a voter's
   * vote only grows within a round, so a better vote would have to start from some live voter's
   * own credentials, and each live voter is already on record voting for this one. Then the wait
   * would only delay the decision: in a failover after kill -9 of the leader, whose election port
   * refuses connections at once, it was 200 ms of the ~300 ms. A quorum alone is not enough (the
   * votes in hand can be stale: two peers could each hold a quorum for a different leader and
   * decide apart, which the election tests' lossy runs found). Safety does not rest on the wait: a
   * leader still needs a quorum of followers to accept its epoch (Zab). ZooKeeper 3.8 always waits.
   */
  private nothingToWaitFor(): boolean {
    const p = this.proposal;
    const settled = (sid: number): boolean => {
      if (this.down.has(sid)) return true;
      const v = this.recvset.get(sid);
      return v !== undefined && v.leader === p.leader && v.zxid === p.zxid && v.peerEpoch === p.peerEpoch;
    };
    for (const v of this.voters) if (!settled(v)) return false;
    if (this.lastSeen) for (const v of this.lastSeen.voters) if (!settled(v)) return false;
    return true;
  }

  receive(from: number, n: Notification, now: number): Outgoing[] {
    const out: Outgoing[] = [];
    this.heard.add(from);
    this.down.delete(from);
    if (!this.isVoter(from)) {
      // an observer or non-voter asks: tell it our current vote
      const v = this.decided ?? this.proposal;
      out.push({ to: from, msg: this.msg(this.myState(), v, this.decided ? this.decided.electionEpoch : this.logicalclock) });
      return out;
    }
    if (!this.looking) {
      if (n.state === PeerState.LOOKING && this.decided) {
        out.push({ to: from, msg: this.msg(this.myState(), this.decided, this.decided.electionEpoch) });
        this.heldWhileDecided.set(from, n);
      }
      return out;
    }
    const vote: Vote = { leader: n.leader, zxid: n.zxid, peerEpoch: n.peerEpoch, electionEpoch: n.electionEpoch, state: n.state };
    switch (n.state) {
      case PeerState.LOOKING: {
        if (!this.voters.has(n.leader)) return out;
        if (this.myZxid === -1 || n.zxid === -1) return out;
        if (n.electionEpoch > this.logicalclock) {
          this.logicalclock = n.electionEpoch;
          this.recvset = new Map();
          const mine = this.initVote();
          this.proposal = this.better(vote, mine) ? { leader: vote.leader, zxid: vote.zxid, peerEpoch: vote.peerEpoch } : mine;
          this.finalizeAt = -1;
          out.push(...this.broadcast(now));
        } else if (n.electionEpoch < this.logicalclock) {
          out.push({ to: from, msg: this.msg(PeerState.LOOKING, this.proposal, this.logicalclock) });
          return out;
        } else if (this.better(vote, this.proposal)) {
          this.proposal = { leader: vote.leader, zxid: vote.zxid, peerEpoch: vote.peerEpoch };
          this.finalizeAt = -1;
          out.push(...this.broadcast(now));
        }
        this.recvset.set(from, vote);
        if (this.agree(this.recvset, this.proposal, false)) {
          if (this.finalizeAt < 0) this.finalizeAt = now + (this.o.finalizeWaitMs ?? 200);
          if (this.nothingToWaitFor()) this.decideProposal();
        } else this.finalizeAt = -1;
        return out;
      }
      case PeerState.OBSERVING:
        return out;
      default: {
        if (n.electionEpoch === this.logicalclock) {
          this.recvset.set(from, vote);
          if (this.agree(this.recvset, vote, true) && this.checkLeader(this.recvset, n.leader, n.electionEpoch)) {
            this.decide(n.leader, n.zxid, n.peerEpoch);
            return out;
          }
        }
        this.outofelection.set(from, vote);
        if (this.agree(this.outofelection, vote, true) && this.checkLeader(this.outofelection, n.leader, n.electionEpoch)) {
          this.logicalclock = n.electionEpoch;
          this.decide(n.leader, n.zxid, n.peerEpoch);
        }
        return out;
      }
    }
  }

  /** When the quorum's vote becomes the decision unless a better one comes first (-1: none pending). */
  get finalizeDeadline(): number {
    return this.looking ? this.finalizeAt : -1;
  }

  tick(now: number): Outgoing[] {
    if (!this.looking) return [];
    if (this.finalizeAt >= 0 && now >= this.finalizeAt) {
      this.decideProposal();
      return [];
    }
    if (now - this.lastSend >= this.interval) {
      this.interval = Math.min(this.interval * 2, this.o.maxNotificationIntervalMs ?? 60000);
      return this.broadcast(now);
    }
    return [];
  }
}
