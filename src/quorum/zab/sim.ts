// A deterministic simulator for the Zab cores (ZabLeader, ZabFollower, ZabObserver). One seed drives
// everything: a network of FIFO connections with random delays (reordering only across
// connections), losses when a connection closes, partitions, disks whose non-fsynced suffix a crash
// loses or tears and whose fsyncs may fail (the peer exits), crashes in the middle of carrying out a Ready, restarts, a simplified
// FastLeaderElection, client proposals, client sessions that ping through whichever peer they
// are connected to, and client syncs on learners (`syncRate`). Zab's invariants, the session rule
// and the syncs' answers are checked after every event; a failing seed replays exactly
// (`new ZabSim(seed, opts).run()`).
//
// Every Ready is carried out by the executor the QuorumPeer uses (executor.ts: `ReadyLoop` and
// `carryOut`), through a host that models the disk, the network and the DataTree; a crash part-way
// through a Ready is the host stopping the executor between two operations.
//
// Client sessions and the session rule live in sim-sessions.ts.
//
// Longer than 600 lines on purpose: the network, disks, crashes, elections and invariant checks
// share one seeded state and one event order, and are read together when a seed fails.
import { hierarchicalVerifier, majorityVerifier, QuorumVerifier } from '../verifier';
import { ReadyLoop, ZabHost } from './executor';
import { parseSessionTxn, SessionTxn, SimSessions } from './sim-sessions';
import { ZabLeader } from './leader';
import { ZabFollower, ZabLearner, ZabObserver } from './learner';
import { epochOf, PacketType as T, QuorumPacket, zxidHex } from './packets';
import { Ready, ZabTxn } from './ready';
import { membershipTextOf, parseSimMembership, randomChange, reconfigTxn, simMembership, SimMembership } from './sim-reconfig';

export function prng(seed: number): () => number {
  let a = seed >>> 0 || 1;
  return () => {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimOptions {
  voters?: number;
  observers?: number;
  /** steps of run(); one step is one time unit, tickTime is 10 */
  steps?: number;
  /** per step: crash a random peer */
  crashRate?: number;
  /** per Ready: crash part-way through carrying it out */
  midReadyCrashRate?: number;
  /** per step: start a partition */
  partitionRate?: number;
  /** per step: cut the link between two random peers (a partial partition: both may still reach the others) */
  linkCutRate?: number;
  /** per step and leader: a client proposal */
  proposeRate?: number;
  committedLogCount?: number;
  /** check at each commit that a quorum holds the txn durably (off in the self-tests, to show the end-to-end checks catch it) */
  checkDurableQuorum?: boolean;
  unsafeAckBeforePersist?: boolean;
  unsafeAckNewLeaderBeforePersist?: boolean;
  unsafeCommitWithoutQuorum?: boolean;
  /** SELF-TEST: learners' PING replies carry no session touches */
  unsafeDropTouches?: boolean;
  /** SELF-TEST: a new leader gives inherited sessions no fresh timeout */
  unsafeNoFreshSessionTimeout?: boolean;
  /** per fsync: it fails (EIO/ENOSPC); the peer exits, as ZooKeeper's SyncRequestProcessor makes it */
  diskFaultRate?: number;
  /** SELF-TEST: a failed fsync is ignored ("fsyncgate"): its pages are lost, the peer believes them durable and ACKs */
  unsafeIgnoreFsyncError?: boolean;
  /** per step: a client creates a session (at most `maxSessions` live) */
  sessionRate?: number;
  maxSessions?: number;
  /** hierarchical quorums: the voters' groups (and weights, default 1); majority when unset */
  groups?: number[][];
  weights?: [number, number][];
  /** servers outside the first membership (a reconfig may add them) */
  spares?: number;
  /** lines of the transcript kept (default 60) */
  trailLength?: number;
  /** per step and established leader: propose a random reconfig (majority quorums only) */
  reconfigRate?: number;
  /** SELF-TEST: a leader commits with the quorum of the membership in force while a reconfig is pending */
  unsafeReconfigOldQuorumOnly?: boolean;
  /** SELF-TEST: an election ignores a pending reconfig (a quorum of the membership in force elects) */
  unsafeElectIgnoringPending?: boolean;
  /** per step and serving learner: a client sync, forwarded to the leader (default 0: none) */
  syncRate?: number;
  /** SELF-TEST: the leader keeps a learner's pending syncs across its reconnect */
  unsafeKeepSyncsOfLostConnection?: boolean;
}

export class Violation extends Error {}

interface Rec extends ZabTxn {
  torn?: boolean;
}

interface Disk {
  /** durable records */
  log: Rec[];
  /** written, not yet fsynced */
  buffer: ZabTxn[];
  accepted: number;
  current: number;
}

interface Conn {
  id: number;
  learner: number;
  leader: number;
  lastAt: Map<number, number>;
}

interface Msg {
  seq: number;
  conn: Conn;
  from: number;
  to: number;
  at: number;
  /** null: the connection closed (EOF after everything sent before) */
  packet: QuorumPacket | null;
  snapshot?: ZabTxn[];
}

interface SimNode {
  id: number;
  /** a self-quorum leader: established once its currentEpoch write is carried out */
  establishOnEpochWrite?: boolean;
  /** the membership in force here (durable: the dynamic config file) */
  config: SimMembership;
  /** a reconfig logged or proposed here, not yet in force (durable: zoo.cfg.dynamic.next) */
  lastSeen: SimMembership | null;
  up: boolean;
  disk: Disk;
  leader: ZabLeader | null;
  learner: ZabLearner | null;
  /** learner: its connection; leader: one per learner */
  conn: Conn | null;
  conns: Map<number, Conn>;
  /** the DataTree as the sequence of applied txns */
  tree: ZabTxn[];
  /** tree[0..checked) verified against the committed sequence */
  checked: number;
  fsyncAt: number;
  restartAt: number;
  serving: boolean;
  /** a snapshot that arrived with SNAP, for the Ready that installs it */
  inbound?: ZabTxn[];
  createdSeq: number;
  /** the executor of the current core */
  loop: ReadyLoop | null;
  /** the global sessions of the DataTree: id -> timeout */
  sessions: Map<bigint, number>;
  /** leader: when it was established, and when each session was added to its tracker */
  establishedAt: number;
  sessionSince: Map<bigint, number>;
  /** a crash decided for the Ready being carried out: stop before this operation */
  crashAt: number;
  /** the Ready being carried out brings a membership into force or records a pending one */
  reconfigReady?: boolean;
  /** a committed reconfig designated this server as the leader: it leads without an election */
  designated?: boolean;
  /** learner: its clients' syncs forwarded by the current core and not answered yet, oldest first */
  syncs: number[];
}


/** OpCode.sync */
const OP_SYNC = 9;
const TICK = 10;
const TIMING = { tickTime: TICK, initLimit: 10, syncLimit: 5 };

export class ZabSim {
  readonly nodes: SimNode[] = [];
  readonly rnd: () => number;
  now = 0;
  private msgs: Msg[] = [];
  private seq = 0;
  private connIds = 0;
  private coreSeq = 0;
  private partition: Set<number> | null = null;
  private partitionEnd = 0;
  /** the committed sequence (every applied sequence must be a prefix of it) */
  readonly committed: ZabTxn[] = [];
  private readonly proposed = new Map<number, string>();
  /** a client sync's id -> the last txn its leader had applied when the sync reached it */
  private readonly syncNeed = new Map<number, number>();
  private syncIds = 0;
  /** client syncs draw from a generator of their own: runs without them keep their schedules */
  private readonly syncRnd: () => number;
  private readonly leadersByEpoch = new Map<number, number>();
  /** the highest epoch established so far */
  private maxEpoch = -1;
  private readonly voterCount: number;
  /** the quorum rule every leader and the checks use */
  readonly verifier: QuorumVerifier;
  private faults = true;
  private proposals = true;
  private readonly trail: string[] = [];
  readonly stats = { syncs: 0, reconfigs: 0, activations: 0, handovers: 0, designated: 0, reconfigCrashes: 0, DIFF: 0, TRUNC: 0, SNAP: 0, elections: 0, crashes: 0, midReadyCrashes: 0, diskFaults: 0, partitions: 0, linkCuts: 0, sessions: 0, touches: 0, expired: 0 };
  /** the client sessions and the session rule (sim-sessions.ts) */
  readonly sessions: SimSessions = new SimSessions(this);
  /** every partition so far: a set cut from the rest, or (`pair`) one cut link; start, end */
  readonly partitions: { set: Set<number>; pair?: [number, number]; start: number; end: number }[] = [];
  /** links cut now, each until `end` */
  private cuts: { a: number; b: number; end: number; rec: { end: number } }[] = [];

  constructor(
    readonly seed: number,
    readonly opts: SimOptions = {},
  ) {
    this.rnd = prng(seed);
    this.syncRnd = prng(seed ^ 0x5ca1ab1e);
    this.voterCount = opts.voters ?? 3;
    const voterIds = Array.from({ length: this.voterCount }, (_, i) => i + 1);
    this.verifier = opts.groups ? hierarchicalVerifier(voterIds, new Map(opts.groups.map((g, i) => [i + 1, g])), new Map(opts.weights ?? [])) : majorityVerifier(voterIds);
    const members = this.voterCount + (opts.observers ?? 0);
    const total = members + (opts.spares ?? 0);
    const first = simMembership(0, voterIds, Array.from({ length: members - this.voterCount }, (_, i) => this.voterCount + i + 1), this.verifier);
    for (let id = 1; id <= total; id++) {
      this.nodes.push({
        id,
        config: first,
        lastSeen: null,
        up: true,
        disk: { log: [], buffer: [], accepted: 0, current: 0 },
        leader: null,
        learner: null,
        conn: null,
        conns: new Map(),
        tree: [],
        checked: 0,
        fsyncAt: -1,
        restartAt: -1,
        serving: false,
        createdSeq: 0,
        loop: null,
        sessions: new Map(),
        establishedAt: -1,
        sessionSince: new Map(),
        crashAt: -1,
        syncs: [],
      });
    }
  }

  // ---- helpers ----

  note(s: string): void {
    this.trail.push(`t=${this.now} ${s}`);
    if (this.trail.length > (this.opts.trailLength ?? 60)) this.trail.shift();
  }

  fail(msg: string): never {
    throw new Violation(`seed ${this.seed}: t=${this.now}: ${msg}\n  ${this.trail.join('\n  ')}`);
  }

  node(id: number): SimNode {
    return this.nodes[id - 1];
  }

  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }

  private blocked(a: number, b: number): boolean {
    if (this.partition !== null && this.partition.has(a) !== this.partition.has(b)) return true;
    for (const c of this.cuts) if ((c.a === a && c.b === b) || (c.a === b && c.b === a)) return true;
    return false;
  }

  private lastLogged(n: SimNode): number {
    if (n.disk.buffer.length) return n.disk.buffer[n.disk.buffer.length - 1].zxid;
    const l = n.disk.log;
    return l.length ? l[l.length - 1].zxid : 0;
  }

  private lastDurable(n: SimNode): number {
    const l = n.disk.log;
    return l.length ? l[l.length - 1].zxid : 0;
  }

  /** membership changes are simulated (majority quorums only: the membership text has no groups) */
  get reconfigOn(): boolean {
    return !!this.opts.reconfigRate && !this.opts.groups;
  }

  /** an observer in the membership in force here (a server outside it follows as a participant without a vote) */
  isObserver(n: SimNode): boolean {
    return n.config.observers.includes(n.id);
  }

  core(n: SimNode): ZabLeader | ZabLearner | null {
    return n.leader ?? n.learner;
  }

  /** an active leader: up, not LOOKING */
  leaders(): SimNode[] {
    return this.nodes.filter((n) => n.up && n.leader && n.leader.state !== 'LOOKING');
  }

  // ---- network ----

  private send(conn: Conn, from: number, to: number, packet: QuorumPacket | null, snapshot?: ZabTxn[]): void {
    const at = Math.max(this.now + 1 + this.int(6), conn.lastAt.get(to) ?? 0);
    conn.lastAt.set(to, at);
    this.msgs.push({ seq: this.seq++, conn, from, to, at, packet, snapshot });
  }

  private attached(n: SimNode, conn: Conn): boolean {
    return n.up && (n.conn === conn || n.conns.get(conn.learner) === conn);
  }

  /** `closer` drops the connection: what it sent still arrives, then EOF; what it is sent is lost. */
  private close(conn: Conn, closer: number): void {
    const n = this.node(closer);
    if (n.conn === conn) n.conn = null;
    if (n.conns.get(conn.learner) === conn) n.conns.delete(conn.learner);
    const other = closer === conn.leader ? conn.learner : conn.leader;
    this.send(conn, closer, other, null);
  }

  private connect(learner: SimNode, leader: SimNode): Conn {
    const conn: Conn = { id: this.connIds++, learner: learner.id, leader: leader.id, lastAt: new Map() };
    // the leader learns who is calling from FOLLOWERINFO / OBSERVERINFO (attach, in deliver)
    learner.conn = conn;
    return conn;
  }

  private deliver(): void {
    const due = this.msgs.filter((m) => m.at <= this.now && !this.blocked(m.from, m.to));
    if (!due.length) return;
    const dueSet = new Set(due);
    this.msgs = this.msgs.filter((m) => !dueSet.has(m));
    due.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const m of due) {
      const to = this.node(m.to);
      if (to.up && to.leader && m.packet && (m.packet.type === T.FOLLOWERINFO || m.packet.type === T.OBSERVERINFO) && this.node(m.from).conn === m.conn) {
        // a new session from that learner replaces the old one
        const old = to.conns.get(m.from);
        if (old && old !== m.conn) this.close(old, to.id);
        to.conns.set(m.from, m.conn);
      }
      if (!this.attached(to, m.conn)) continue;
      if (m.packet === null) {
        if (to.learner) to.learner.disconnected();
        if (to.leader) to.leader.disconnected(m.from);
        to.conns.delete(m.from);
        if (to.conn === m.conn) to.conn = null;
      } else if (to.leader) {
        to.leader.step(m.from, m.packet, this.now);
      } else if (to.learner) {
        if (m.packet.type === T.SNAP) to.inbound = m.snapshot;
        to.learner.step(m.from, m.packet, this.now);
      }
      this.process(to);
    }
  }

  // ---- disks and crashes ----

  private flush(n: SimNode): void {
    if (!n.disk.buffer.length) return;
    n.disk.log.push(...n.disk.buffer);
    n.disk.buffer = [];
    this.checkEpochFiles(n);
  }

  private checkEpochFiles(n: SimNode): void {
    const d = n.disk;
    const last = this.lastDurable(n);
    if (d.current > d.accepted) this.fail(`node ${n.id}: currentEpoch ${d.current} > acceptedEpoch ${d.accepted}`);
    if (epochOf(last) > d.accepted) this.fail(`node ${n.id}: logged 0x${zxidHex(last)} above acceptedEpoch ${d.accepted}`);
  }

  private crash(n: SimNode, why: string): void {
    this.stats.crashes++;
    this.note(`CRASH ${n.id} (${why})`);
    for (const c of [...(n.conn ? [n.conn] : []), ...n.conns.values()]) this.close(c, n.id);
    // the non-fsynced suffix: a random prefix survives, the next record may be torn
    const b = n.disk.buffer;
    const keep = this.int(b.length + 1);
    n.disk.log.push(...b.slice(0, keep));
    if (keep < b.length && this.rnd() < 0.5) n.disk.log.push({ ...b[keep], torn: true });
    n.disk.buffer = [];
    n.up = false;
    n.loop?.stop();
    n.loop = null;
    n.leader = null;
    n.learner = null;
    n.serving = false;
    n.fsyncAt = -1;
    n.inbound = undefined;
    n.designated = false;
    n.restartAt = this.now + 5 + this.int(60);
  }

  private restart(n: SimNode): void {
    n.up = true;
    // recovery: drop a torn record (bad checksum) and everything after it
    const torn = n.disk.log.findIndex((r) => r.torn);
    if (torn >= 0) n.disk.log.length = torn;
    // QuorumPeer.loadDataBase with synced history of epochs above currentEpoch (learner.ts)
    const e = epochOf(this.lastDurable(n));
    if (e > n.disk.current) n.disk.current = e;
    this.checkEpochFiles(n);
    this.rebuild(n);
    this.note(`restart ${n.id} (epochs ${n.disk.accepted}/${n.disk.current}, last 0x${zxidHex(this.lastDurable(n))})`);
  }

  private rebuild(n: SimNode): void {
    n.tree = n.disk.log.map((r) => ({ zxid: r.zxid, data: r.data }));
    n.checked = 0;
    n.sessions = new Map();
    for (const t of n.tree) this.applySession(n, t);
  }

  /** A createSession / closeSession txn reaching a DataTree: its session table follows. */
  private applySession(n: SimNode, t: ZabTxn): SessionTxn | null {
    const x = parseSessionTxn(t);
    if (x?.timeout !== undefined) n.sessions.set(x.id, x.timeout);
    else if (x) n.sessions.delete(x.id);
    return x;
  }

  /** The core gave up (LOOKING): close its connections, flush the log, reload the DataTree. */
  private retire(n: SimNode): void {
    for (const c of [...(n.conn ? [n.conn] : []), ...n.conns.values()]) this.close(c, n.id);
    n.loop?.stop();
    n.loop = null;
    n.leader = null;
    n.learner = null;
    n.serving = false;
    n.syncs = [];
    n.fsyncAt = -1;
    this.flush(n);
    this.rebuild(n);
  }

  // ---- carrying out a Ready: the server's executor, with this host ----

  process(n: SimNode): void {
    const core = this.core(n);
    if (!core || !n.up || !n.loop) return;
    n.loop.run();
    if (!n.up || this.core(n) !== core) return; // crashed part-way
    if (n.serving) this.checkTree(n);
    if (core.state === 'LOOKING') this.retire(n);
  }

  private host(n: SimNode): ZabHost {
    return {
      begin: (r: Ready) => {
        // the leader is established when its core decides so (a quorum acked NEWLEADER), whatever
        // happens to the rest of this Ready; a leader that is a quorum by itself (a weighty voter
        // of a hierarchical quorum) writes its epoch in this very Ready, and is established only
        // once that write is carried out (a crash before it leaves the epoch unpromised)
        n.establishOnEpochWrite = false;
        if (r.stateChange === 'BROADCAST' && n.leader) {
          if (r.writeEpoch.current === undefined) this.established(n, n.leader);
          else n.establishOnEpochWrite = true;
        }
        n.crashAt = -1;
        n.reconfigReady = r.activate !== undefined || r.seen !== undefined;
      },
      proceed: (op, ops) => {
        if (op === 0 && this.faults && this.rnd() < (this.opts.midReadyCrashRate ?? 0.003) && ops > 1) n.crashAt = this.int(ops);
        if (op !== n.crashAt) return true;
        this.stats.midReadyCrashes++;
        if (n.reconfigReady) this.stats.reconfigCrashes++;
        this.crash(n, `mid-Ready after ${op}/${ops} ops`);
        return false;
      },
      truncate: (z) => this.truncate(n, z),
      installSnapshot: (z) => this.installSnapshot(n, z),
      writeAcceptedEpoch: (e) => ((n.disk.accepted = e), this.checkEpochFiles(n)),
      writeCurrentEpoch: (e) => {
        n.disk.current = e;
        this.checkEpochFiles(n);
        if (n.establishOnEpochWrite && n.leader) this.established(n, n.leader);
        n.establishOnEpochWrite = false;
      },
      append: (t) => this.append(n, t),
      apply: (t) => this.apply(n, t),
      seen: (config) => {
        const m = parseSimMembership(config.toString('utf8'));
        if (m.version > Math.max(n.config.version, n.lastSeen?.version ?? 0)) n.lastSeen = m;
      },
      activate: (config, leader) => this.activate(n, parseSimMembership(config.toString('utf8')), leader),
      send: (to, p, snapshot) => this.sendFrom(n, to, p, snapshot),
      close: (sid) => {
        const c = n.conns.get(sid);
        if (c) this.close(c, n.id);
      },
      expire: (ids) => this.sessions.expire(n, ids),
      forwarded: (reqs) => {
        // the leader's pipeline: a learner's sync is ordered after every txn proposed so far
        for (const q of reqs) {
          if (q.request.type !== OP_SYNC || !n.leader) continue;
          this.syncNeed.set(q.request.cxid, n.tree.length ? n.tree[n.tree.length - 1].zxid : 0);
          n.leader.syncRequest(q.from);
        }
      },
      synced: (count) => {
        for (let i = 0; i < count; i++) {
          const id = n.syncs.shift();
          if (id === undefined) continue;
          const need = this.syncNeed.get(id);
          if (need === undefined) this.fail(`node ${n.id}: sync ${id} answered before its leader saw it`);
          const at = n.tree.length ? n.tree[n.tree.length - 1].zxid : 0;
          if (at < need) this.fail(`node ${n.id}: sync ${id} answered at 0x${zxidHex(at)}, before 0x${zxidHex(need)} its leader had applied when the sync reached it`);
          this.stats.syncs++;
        }
      },
      serving: (on) => (n.serving = on),
      stateChanged: (st, reason) => this.note(`node ${n.id} ${n.leader ? 'leader' : 'learner'} → ${st}${reason ? ` (${reason})` : ''}`),
      protocolError: (msg) => {
        if (!this.unsafe()) this.fail(`node ${n.id}: protocol error: ${msg}`);
      },
    };
  }

  /** QuorumPeer.processReconfig: a newer membership comes into force; a learner whose role or leader changes re-elects. */
  private activate(n: SimNode, m: SimMembership, leader: number | null): void {
    if (m.version <= n.config.version) return;
    this.stats.activations++;
    if (n.leader && leader !== null && leader !== n.id) this.stats.handovers++;
    this.note(`node ${n.id}: membership 0x${zxidHex(m.version)} in force (${membershipTextOf(m)}), leader ${leader}`);
    n.config = m;
    if (n.lastSeen && n.lastSeen.version <= m.version) n.lastSeen = null;
    const l = n.learner;
    if (!l) return;
    const member = m.voters.includes(n.id) || m.observers.includes(n.id);
    if (member && m.observers.includes(n.id) !== l.observer) l.leave('reconfig: role changed');
    else if (leader !== null ? leader !== l.leader : !m.voters.includes(l.leader)) {
      // 3.8's reconfigFlag (following.ts): the designated server leads without an election; the
      // others follow whichever leader they find (join)
      if (leader === n.id && m.voters.includes(n.id)) n.designated = true;
      l.leave('reconfig: leader changed');
    }
  }

  private unsafe(): boolean {
    return !!(
      this.opts.unsafeAckBeforePersist ||
      this.opts.unsafeAckNewLeaderBeforePersist ||
      this.opts.unsafeCommitWithoutQuorum ||
      this.opts.unsafeIgnoreFsyncError ||
      this.opts.unsafeReconfigOldQuorumOnly ||
      this.opts.unsafeElectIgnoringPending
    );
  }

  private truncate(n: SimNode, z: number): void {
    this.stats.TRUNC++;
    n.disk.log = n.disk.log.filter((r) => r.zxid <= z);
    n.disk.buffer = n.disk.buffer.filter((r) => r.zxid <= z);
    n.tree = n.tree.filter((t) => t.zxid <= z);
    n.checked = Math.min(n.checked, n.tree.length);
  }

  private installSnapshot(n: SimNode, z: number): void {
    this.stats.SNAP++;
    const s = n.inbound;
    n.inbound = undefined;
    if (!s) this.fail(`node ${n.id}: SNAP without a snapshot stream`);
    const last = s.length ? s[s.length - 1].zxid : 0;
    if (last !== z) this.fail(`node ${n.id}: snapshot ends at 0x${zxidHex(last)}, SNAP says 0x${zxidHex(z)}`);
    n.disk.log = s.map((t) => ({ ...t }));
    n.disk.buffer = [];
    n.tree = s.slice();
    n.checked = 0;
    n.sessions = new Map();
    for (const t of n.tree) this.applySession(n, t);
    this.checkEpochFiles(n);
  }

  private append(n: SimNode, t: ZabTxn): void {
    const last = this.lastLogged(n);
    if (t.zxid <= last) this.fail(`node ${n.id}: appends 0x${zxidHex(t.zxid)} after 0x${zxidHex(last)}`);
    n.disk.buffer.push(t);
    if (n.fsyncAt < 0) n.fsyncAt = this.now + 1 + this.int(4);
  }

  private sendFrom(n: SimNode, to: number, p: QuorumPacket, snapshot: boolean): void {
    if (p.type === T.DIFF) this.stats.DIFF++;
    const conn = n.leader ? n.conns.get(to) : n.conn;
    if (!conn) return;
    let snap: ZabTxn[] | undefined;
    if (snapshot) {
      snap = n.tree.slice();
      const last = snap.length ? snap[snap.length - 1].zxid : 0;
      if (last !== p.zxid) this.fail(`leader ${n.id}: SNAP 0x${zxidHex(p.zxid)} but its DataTree is at 0x${zxidHex(last)}`);
    }
    this.send(conn, n.id, to, p, snap);
  }

  // ---- invariants ----

  private apply(n: SimNode, t: ZabTxn): void {
    const prev = n.tree.length ? n.tree[n.tree.length - 1].zxid : 0;
    if (t.zxid <= prev) this.fail(`node ${n.id}: applies 0x${zxidHex(t.zxid)} after 0x${zxidHex(prev)}`);
    if (this.proposed.get(t.zxid) !== t.data.toString()) this.fail(`node ${n.id}: applies 0x${zxidHex(t.zxid)} that nobody proposed with these bytes`);
    n.tree.push(t);
    const sess = this.applySession(n, t);
    if (sess) {
      if (sess.timeout === undefined) this.sessions.closed(sess.id);
      if (n.leader) {
        if (sess.timeout !== undefined) {
          n.leader.addSession(sess.id, sess.timeout, this.now);
          n.sessionSince.set(sess.id, this.now);
        } else n.leader.removeSession(sess.id);
      }
    }
    if (n.leader) {
      if (this.opts.checkDurableQuorum !== false) this.checkDurableQuorum(n, t);
      if (n.leader.established) this.checkTree(n);
    } else if (n.learner && n.learner.state === 'BROADCAST') {
      // a follower's applied sequence is a prefix of its leader's
      const ld = this.node(n.learner.leader);
      const i = n.tree.length - 1;
      if (ld.up && ld.leader && ld.leader.newEpoch === n.learner.newEpoch) {
        const lt = ld.tree[i];
        if (!lt || lt.zxid !== t.zxid || !lt.data.equals(t.data)) this.fail(`node ${n.id} applied 0x${zxidHex(t.zxid)} at ${i}, its leader ${ld.id} has ${lt ? zxidHex(lt.zxid) : 'nothing'}`);
      }
    }
  }

  private checkDurableQuorum(leader: SimNode, t: ZabTxn): void {
    const holders: number[] = [];
    for (const x of this.nodes) {
      const log = x.disk.log;
      for (let i = log.length - 1; i >= 0 && log[i].zxid >= t.zxid; i--) {
        if (log[i].zxid === t.zxid && !log[i].torn && log[i].data.equals(t.data)) {
          holders.push(x.id);
          break;
        }
      }
    }
    // the membership in force at the leader (a reconfig txn itself is counted by the old one; the
    // core also needs the new one, which the ends-of-run checks cover)
    if (!leader.config.verifier.containsQuorum(holders)) this.fail(`leader ${leader.id} committed 0x${zxidHex(t.zxid)} held durably only by voters [${holders}], no quorum`);
  }

  /** Every applied sequence is a prefix of the committed one; the established leader extends it. */
  private checkTree(n: SimNode): void {
    const c = this.committed;
    for (let i = n.checked; i < n.tree.length; i++) {
      const t = n.tree[i];
      if (i < c.length) {
        if (c[i].zxid !== t.zxid || !c[i].data.equals(t.data)) this.fail(`node ${n.id} has 0x${zxidHex(t.zxid)} at ${i} where 0x${zxidHex(c[i].zxid)} was committed`);
      } else if (n.leader && n.leader.established && n.leader.newEpoch === this.maxEpoch) {
        if (this.proposed.get(t.zxid) !== t.data.toString()) this.fail(`leader ${n.id} commits 0x${zxidHex(t.zxid)} that was never proposed`);
        c.push(t);
      } else {
        this.fail(`node ${n.id} serves 0x${zxidHex(t.zxid)} that no leader of the newest epoch committed`);
      }
    }
    n.checked = n.tree.length;
  }

  private established(n: SimNode, l: ZabLeader): void {
    const e = l.newEpoch;
    const prev = this.leadersByEpoch.get(e);
    if (prev !== undefined && prev !== n.id) this.fail(`two leaders established in epoch ${e}: ${prev} and ${n.id}`);
    this.leadersByEpoch.set(e, n.id);
    n.checked = 0;
    if (e < this.maxEpoch) {
      // a late NEWLEADER quorum for an older epoch (ACKs that crossed a healed partition after
      // their senders moved on): harmless as long as its history is a prefix of what is committed
      // and it commits nothing new (checkTree fails if it tries)
      this.note(`leader ${n.id} established epoch ${e} after epoch ${this.maxEpoch}`);
      return this.checkTree(n);
    }
    this.maxEpoch = e;
    n.establishedAt = this.now;
    n.sessionSince = new Map([...n.sessions.keys()].map((id) => [id, this.now]));
    // no committed txn is lost: the new leader's history holds all of them, in order
    const c = this.committed;
    if (n.tree.length < c.length) this.fail(`leader ${n.id} of epoch ${e} lacks committed 0x${zxidHex(c[n.tree.length].zxid)} (has ${n.tree.length} of ${c.length})`);
    n.checked = 0;
    this.checkTree(n);
  }

  // ---- roles ----

  private best(a: SimNode, b: SimNode): number {
    return b.disk.current - a.disk.current || this.lastDurable(b) - this.lastDurable(a) || b.id - a.id;
  }

  /**
   * FastLeaderElection's gossip: every notification carries its sender's membership, and a LOOKING
   * peer takes up a newer one it hears (QuorumPeer.processReconfig from WorkerReceiver).
   */
  private gossip(): void {
    for (const n of this.nodes) {
      if (!n.up || this.core(n)) continue;
      let newest = n.config;
      for (const x of this.nodes) if (x.up && x.config.version > newest.version && !this.blocked(x.id, n.id)) newest = x.config;
      if (newest !== n.config) this.activate(n, newest, null);
    }
  }

  private elect(): void {
    this.gossip();
    const groups = this.partition ? [[...this.partition], this.nodes.map((n) => n.id).filter((id) => !this.partition!.has(id))] : [this.nodes.map((n) => n.id)];
    for (const g of groups) {
      // a LOOKING observer sends its vote too (for the best it hears): a peer counts it when it votes
      // in that peer's pending membership (with reconfig; without, observers are left out as before)
      const cands = g.map((id) => this.node(id)).filter((n) => n.up && (!this.isObserver(n) || this.reconfigOn) && !this.core(n));
      const candIds = cands.map((n) => n.id);
      if (!cands.some((n) => n.config.verifier.containsQuorum(candIds)) || this.rnd() > 0.3) continue;
      // the newest membership among them (after gossip, theirs unless a cut link kept one apart)
      const view = cands.reduce((a, n) => (n.config.version > a.version ? n.config : a), cands[0].config);
      // FLE settles on the best vote among the quorum that finalised first
      const q = this.opts.groups ? 1 : Math.floor(view.voters.length / 2) + 1;
      const size = q + this.int(cands.length - q + 1);
      const shuffled = cands.slice();
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = this.int(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      // the voters that elect together must all hear each other (a cut link splits them)
      const pool: SimNode[] = [];
      for (const n of shuffled) if (pool.every((m) => !this.blocked(m.id, n.id))) pool.push(n);
      const sub = pool.slice(0, size);
      const ids = sub.map((n) => n.id);
      if (pool.length < size || !view.verifier.containsQuorum(ids)) continue;
      // each peer decides by its own memberships: a quorum of the one in force and of a pending one
      const decides = (m: SimNode): boolean =>
        m.config.verifier.containsQuorum(ids) && (m.lastSeen === null || this.opts.unsafeElectIgnoringPending === true || m.lastSeen.verifier.containsQuorum(ids));
      // only a voter of weight > 0 is elected (FastLeaderElection.totalOrderPredicate)
      const electable = sub.filter((n) => n.config.voters.includes(n.id) && n.config.verifier.weight(n.id) > 0 && decides(n));
      if (!electable.length) continue;
      const chosen = electable.sort((a, b) => this.best(a, b))[0];
      this.stats.elections++;
      this.note(`elect ${chosen.id} from [${ids}] (epochs ${chosen.disk.accepted}/${chosen.disk.current}, last 0x${zxidHex(this.lastDurable(chosen))}${this.reconfigOn ? `, membership 0x${zxidHex(chosen.config.version)}${chosen.lastSeen ? `, pending 0x${zxidHex(chosen.lastSeen.version)}` : ''}` : ''})`);
      this.lead(chosen);
      // the peers that elected it follow it (FOLLOWING); the rest find it later
      for (const f of sub) if (f !== chosen && chosen.leader && decides(f)) this.follow(f, chosen);
    }
  }

  /** `chosen` takes up the leader's role (elected, or designated by a reconfig). */
  private lead(chosen: SimNode): void {
    const c = chosen.config;
    chosen.leader = new ZabLeader({
      ...TIMING,
      myid: chosen.id,
      voters: c.voters,
      verifier: c.verifier,
      configVersion: c.version,
      // NEWLEADER carries the membership with reconfig on (as the server does with reconfigEnabled)
      config: this.reconfigOn ? Buffer.from(membershipTextOf(c), 'utf8') : null,
      lastSeen: chosen.lastSeen ? { verifier: chosen.lastSeen.verifier, version: chosen.lastSeen.version, config: Buffer.from(membershipTextOf(chosen.lastSeen), 'utf8') } : undefined,
      versionedConfig: this.reconfigOn ? (v) => Buffer.from(membershipTextOf({ ...c, version: v }), 'utf8') : undefined,
      acceptedEpoch: chosen.disk.accepted,
      currentEpoch: chosen.disk.current,
      lastZxid: this.lastDurable(chosen),
      committedLog: chosen.tree.slice(-(this.opts.committedLogCount ?? 20)),
      committedLogCount: this.opts.committedLogCount ?? 20,
      now: this.now,
      sessions: chosen.sessions,
      unsafeCommitWithoutQuorum: this.opts.unsafeCommitWithoutQuorum,
      unsafeReconfigOldQuorumOnly: this.opts.unsafeReconfigOldQuorumOnly,
      unsafeNoFreshSessionTimeout: this.opts.unsafeNoFreshSessionTimeout,
      unsafeKeepSyncsOfLostConnection: this.opts.unsafeKeepSyncsOfLostConnection,
    });
    chosen.createdSeq = ++this.coreSeq;
    chosen.loop = new ReadyLoop(chosen.leader, this.host(chosen));
    this.process(chosen);
  }

  /** An established leader in BROADCAST proposes a random membership change (as prep.ts checks it). */
  private proposeReconfig(l: SimNode): void {
    const core = l.leader!;
    const v = core.configVersions;
    if (!core.established || v.lastSeen !== v.committed) return; // RECONFIGINPROGRESS
    const zxid = core.lastProposed + 1;
    const next = randomChange(l.config, this.nodes.length, zxid, (n) => this.int(n));
    if (!next || !core.isQuorumSynced(next.verifier, l.config.observers)) return; // NEWCONFIGNOQUORUM
    const txn = reconfigTxn(zxid, next);
    if (this.proposed.get(zxid) !== undefined) this.fail(`zxid 0x${zxidHex(zxid)} proposed twice (by ${l.id})`);
    this.proposed.set(zxid, txn.toString());
    this.stats.reconfigs++;
    this.note(`leader ${l.id} proposes reconfig 0x${zxidHex(zxid)}: ${membershipTextOf(next)}`);
    if (core.propose(txn, zxid, { verifier: next.verifier, config: Buffer.from(membershipTextOf(next), 'utf8') })) this.process(l);
  }

  private join(): void {
    for (const n of this.nodes) {
      if (!n.up || this.core(n) || this.rnd() > 0.4) continue;
      const ls = this.leaders().filter((l) => !this.blocked(l.id, n.id));
      if (!ls.length) continue;
      this.follow(n, ls.reduce((a, b) => (b.createdSeq > a.createdSeq ? b : a)));
    }
  }

  private follow(n: SimNode, l: SimNode): void {
    {
      this.connect(n, l);
      const o = {
        ...TIMING,
        myid: n.id,
        leader: l.id,
        acceptedEpoch: n.disk.accepted,
        currentEpoch: n.disk.current,
        lastLoggedZxid: this.lastDurable(n),
        now: this.now,
        unsafeAckBeforePersist: this.opts.unsafeAckBeforePersist,
        unsafeAckNewLeaderBeforePersist: this.opts.unsafeAckNewLeaderBeforePersist,
        unsafeDropTouches: this.opts.unsafeDropTouches,
      };
      n.learner = this.isObserver(n) ? new ZabObserver(o) : new ZabFollower(o);
      n.syncs = [];
      n.createdSeq = ++this.coreSeq;
      n.loop = new ReadyLoop(n.learner, this.host(n));
      this.process(n);
    }
  }

  /** Propose a txn through an established leader in BROADCAST; false if it cannot take one now. */
  proposeThrough(l: SimNode, data: (zxid: number) => string): boolean {
    const core = l.leader;
    if (!core || core.state !== 'BROADCAST' || !l.up) return false;
    const zxid = core.lastProposed + 1;
    const d = data(zxid);
    if (this.proposed.get(zxid) !== undefined) this.fail(`zxid 0x${zxidHex(zxid)} proposed twice (by ${l.id})`);
    this.proposed.set(zxid, d);
    return core.propose(Buffer.from(d), zxid);
  }

  /** Clients of serving learners sync: each is forwarded to the leader and answered by its SYNC. */
  private clientSyncs(): void {
    const rate = this.opts.syncRate ?? 0;
    if (rate <= 0) return;
    for (const n of this.nodes) {
      const core = n.learner;
      if (!n.up || !core || !n.serving || core.state !== 'BROADCAST' || this.syncRnd() >= rate) continue;
      const id = ++this.syncIds;
      n.syncs.push(id);
      core.request({ sessionId: 0n, cxid: id, type: OP_SYNC, body: Buffer.alloc(0) });
      this.process(n);
    }
  }

  // ---- the step ----

  step(): void {
    this.now++;
    const rnd = this.rnd;
    if (this.faults) {
      if (rnd() < (this.opts.crashRate ?? 0.004)) {
        const n = this.nodes[this.int(this.nodes.length)];
        if (n.up) this.crash(n, 'random');
      }
      if (!this.partition && rnd() < (this.opts.partitionRate ?? 0.002)) {
        this.partition = new Set(this.nodes.filter(() => rnd() < 0.5).map((n) => n.id));
        this.partitionEnd = this.now + 20 + this.int(200);
        this.partitions.push({ set: this.partition, start: this.now, end: Infinity });
        this.stats.partitions++;
        this.note(`partition [${[...this.partition]}] until ${this.partitionEnd}`);
      }
    }
    if (this.faults && rnd() < (this.opts.linkCutRate ?? 0.002) && this.nodes.length > 2) {
      const a = 1 + this.int(this.nodes.length);
      let b = 1 + this.int(this.nodes.length - 1);
      if (b >= a) b++;
      const end = this.now + 20 + this.int(200);
      const rec = { set: new Set<number>(), pair: [a, b] as [number, number], start: this.now, end: Infinity };
      this.partitions.push(rec);
      this.cuts.push({ a, b, end, rec });
      this.stats.linkCuts++;
      this.note(`cut link ${a}-${b} until ${end}`);
    }
    for (const c of this.cuts.filter((x) => x.end <= this.now)) {
      c.rec.end = this.now;
      this.note(`link ${c.a}-${c.b} healed`);
    }
    this.cuts = this.cuts.filter((x) => x.end > this.now);
    if (this.partition && this.now >= this.partitionEnd) {
      for (const p of this.partitions) if (p.end === Infinity && !p.pair) p.end = this.now;
      this.partition = null;
      this.note('partition healed');
    }
    for (const n of this.nodes) if (!n.up && n.restartAt <= this.now) this.restart(n);
    if (this.proposals) {
      for (const l of this.leaders()) {
        const core = l.leader!;
        if (core.state !== 'BROADCAST' || rnd() > (this.opts.proposeRate ?? 0.15)) continue;
        const zxid = core.lastProposed + 1;
        const data = `s${this.seed}-n${l.id}-z0x${zxidHex(zxid)}-${this.int(1e9)}`;
        const known = this.proposed.get(zxid);
        if (known !== undefined) this.fail(`zxid 0x${zxidHex(zxid)} proposed twice (by ${l.id})`);
        this.proposed.set(zxid, data);
        core.propose(Buffer.from(data), zxid);
        this.process(l);
      }
      if (this.reconfigOn) {
        for (const l of this.leaders()) if (l.leader!.state === 'BROADCAST' && rnd() < this.opts.reconfigRate!) this.proposeReconfig(l);
      }
      this.sessions.create();
    }
    this.sessions.ping();
    if (this.proposals) this.clientSyncs();
    this.deliver();
    for (const n of this.nodes) {
      if (!n.up || n.fsyncAt < 0 || n.fsyncAt > this.now) continue;
      n.fsyncAt = -1;
      if (this.faults && n.disk.buffer.length && this.rnd() < (this.opts.diskFaultRate ?? 0.003)) {
        this.stats.diskFaults++;
        if (this.opts.unsafeIgnoreFsyncError) {
          // the kernel dropped the dirty pages; the peer reports them durable all the same
          const lost = n.disk.buffer;
          n.disk.buffer = [];
          this.note(`FSYNC-EIO ${n.id} ignored: ${lost.length} records lost`);
          this.core(n)?.persisted(lost[lost.length - 1].zxid);
          this.process(n);
          continue;
        }
        // what the failed write or fsync got onto the disk is what a crash leaves: crash() decides
        this.crash(n, 'fsync failed (EIO): exits as ZooKeeper does');
        continue;
      }
      this.flush(n);
      this.core(n)?.persisted(this.lastDurable(n));
      this.process(n);
    }
    if (this.now % TICK === 0) {
      for (const n of this.nodes) {
        const c = this.core(n);
        if (!n.up || !c) continue;
        c.tick(this.now);
        this.process(n);
      }
    }
    for (const n of this.nodes) {
      if (!n.designated) continue;
      n.designated = false;
      if (!n.up || this.core(n)) continue;
      this.note(`node ${n.id} leads as the reconfig designated, without an election`);
      this.stats.designated++;
      this.lead(n);
    }
    this.join();
    this.elect();
  }

  run(steps = this.opts.steps ?? 2000): this {
    for (let i = 0; i < steps; i++) this.step();
    return this;
  }

  /**
   * Stop the faults and the clients, heal, restart everyone and run on: Zab must then reach one
   * leader with every peer serving the same DataTree. Returns why not, or null.
   */
  settle(steps = 1500): string | null {
    this.faults = false;
    for (const p of this.partitions) if (p.end === Infinity) p.end = this.now;
    this.partition = null;
    this.cuts = [];
    for (const n of this.nodes) if (!n.up) n.restartAt = this.now;
    for (let i = 0; i < steps; i++) {
      this.proposals = i < steps / 3;
      this.step();
    }
    const ls = this.leaders().filter((l) => l.leader!.established);
    if (ls.length !== 1) return `${ls.length} established leaders after settling`;
    const l = ls[0];
    for (const n of this.nodes) {
      if (!n.serving) return `node ${n.id} is not serving after settling`;
      if (n.tree.length !== l.tree.length) return `node ${n.id} has ${n.tree.length} txns, leader ${l.id} ${l.tree.length}`;
      this.checkTree(n);
    }
    return null;
  }

  get transcript(): string {
    return this.trail.join('\n');
  }
}
