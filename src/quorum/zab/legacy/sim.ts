// The simulator for the Zab cores src/quorum/peer.ts runs today (leader-core.ts, learner-core.ts).
// A deterministic simulator for the Zab cores: N peers, a network of FIFO connections with random
// delays, disks with a durable prefix (a crash loses or tears what was not fsynced), crashes and
// restarts, and client proposals, all driven by one seed. After every step it checks Zab's
// invariants; a failing seed replays exactly.
import { LeaderCore } from './leader-core';
import { LearnerCore } from './learner-core';
import { epochOf, makeZxid, Packet, Pkt, Proposal, Ready } from '../types';

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

interface Disk {
  /** durable records */
  log: Proposal[];
  /** appended, not yet fsynced */
  buffer: Proposal[];
  accepted: number;
  current: number;
}

interface Node {
  id: number;
  up: boolean;
  disk: Disk;
  leader: LeaderCore | null;
  learner: LearnerCore | null;
  /** connection generation: messages of older generations are dropped */
  gen: number;
  fsyncAt: number;
  restartAt: number;
  syncApplied: Proposal[];
}

interface Msg {
  from: number;
  to: number;
  p: Packet;
  at: number;
  gen: number;
  /** SNAP: the leader's committed log at send time */
  snap?: Proposal[];
}

export interface SimOptions {
  nodes?: number;
  steps?: number;
  crashRate?: number;
  unsafeAckBeforePersist?: boolean;
}

export class Violation extends Error {}

export class ZabSim {
  readonly nodes: Node[] = [];
  private readonly rnd: () => number;
  private now = 0;
  private msgs: Msg[] = [];
  /** globally committed txns, in order */
  readonly committed: Proposal[] = [];
  private readonly committedByZxid = new Map<number, string>();
  private readonly leadersByEpoch = new Map<number, number>();
  private nextData = 1;
  private lastTick = 0;
  readonly log: string[] = [];

  constructor(
    readonly seed: number,
    readonly opts: SimOptions = {},
  ) {
    this.rnd = prng(seed);
    const n = opts.nodes ?? 3;
    for (let i = 1; i <= n; i++) {
      this.nodes.push({ id: i, up: true, disk: { log: [], buffer: [], accepted: 0, current: 0 }, leader: null, learner: null, gen: 0, fsyncAt: -1, restartAt: -1, syncApplied: [] });
    }
  }

  private get voters(): number[] {
    return this.nodes.map((n) => n.id);
  }

  private lastLogged(n: Node): number {
    const all = n.disk.buffer.length ? n.disk.buffer : n.disk.log;
    return all.length ? all[all.length - 1].zxid : 0;
  }

  private node(id: number): Node {
    return this.nodes[id - 1];
  }

  private fail(msg: string): never {
    throw new Violation(`seed ${this.seed} at t=${this.now}: ${msg}\n${this.log.slice(-30).join('\n')}`);
  }

  /** Drop the node's volatile state (role change or crash). */
  private reset(n: Node, crash: boolean): void {
    n.leader = null;
    n.learner = null;
    n.gen++;
    n.syncApplied = [];
    if (crash) {
      // a crash keeps a random prefix of what was not fsynced (torn tail)
      const keep = Math.floor(this.rnd() * (n.disk.buffer.length + 1));
      n.disk.log.push(...n.disk.buffer.slice(0, keep));
    } else {
      n.disk.log.push(...n.disk.buffer);
    }
    n.disk.buffer = [];
    n.fsyncAt = -1;
  }

  private activeLeader(): Node | null {
    for (const n of this.nodes) if (n.up && n.leader && n.leader.state !== 'LOOKING') return n;
    return null;
  }

  /** A simplified FastLeaderElection: the best (currentEpoch, lastZxid, sid) of the live peers, if they are a quorum. */
  private elect(): void {
    if (this.activeLeader()) return;
    const live = this.nodes.filter((n) => n.up);
    if (live.length * 2 <= this.nodes.length) return;
    for (const n of live) this.reset(n, false);
    live.sort((a, b) => b.disk.current - a.disk.current || this.lastLogged(b) - this.lastLogged(a) || b.id - a.id);
    const l = live[0];
    l.leader = new LeaderCore({
      myid: l.id,
      voters: this.voters,
      acceptedEpoch: l.disk.accepted,
      currentEpoch: l.disk.current,
      lastZxid: this.lastLogged(l),
      committedLog: l.disk.log.slice(-20),
      initLimitTicks: 10,
      syncLimitTicks: 5,
    });
    this.log.push(`t=${this.now} elect ${l.id} (epoch ${l.disk.current}, zxid ${this.lastLogged(l).toString(16)})`);
    for (const n of live.slice(1)) {
      n.learner = new LearnerCore({
        myid: n.id,
        leader: l.id,
        observer: false,
        acceptedEpoch: n.disk.accepted,
        currentEpoch: n.disk.current,
        lastLoggedZxid: this.lastLogged(n),
        initLimitTicks: 10,
        syncLimitTicks: 5,
        unsafeAckBeforePersist: this.opts.unsafeAckBeforePersist,
      });
      n.learner.start();
      this.process(n);
    }
  }

  private deliverAt(): number {
    return this.now + 1 + Math.floor(this.rnd() * 5);
  }

  /** Carry out a core's Ready: epochs, truncation, appends, sends, commits; check invariants. */
  private process(n: Node): void {
    const core = n.leader ?? n.learner;
    if (!core) return;
    const r: Ready = core.takeReady();
    if (r.epochs.accepted !== undefined) n.disk.accepted = r.epochs.accepted;
    if (r.epochs.current !== undefined) n.disk.current = r.epochs.current;
    if (r.truncateTo !== undefined) {
      const t = r.truncateTo;
      n.disk.log = n.disk.log.filter((p) => p.zxid <= t);
      n.disk.buffer = n.disk.buffer.filter((p) => p.zxid <= t);
    }
    for (const p of r.append) {
      const last = this.lastLogged(n);
      if (p.zxid <= last) continue; // already logged (replayed sync)
      n.disk.buffer.push(p);
    }
    if (n.disk.buffer.length && n.fsyncAt < 0) n.fsyncAt = this.now + 1 + Math.floor(this.rnd() * 3);
    for (const s of r.send) {
      const m: Msg = { from: n.id, to: s.to, p: s.p, at: this.deliverAt(), gen: this.node(s.to).gen };
      if (s.p.type === Pkt.SNAP) m.snap = [...n.disk.log, ...n.disk.buffer].filter((p) => p.zxid <= s.p.zxid);
      // FIFO per connection: never deliver before an earlier message on the same pair
      for (const o of this.msgs) if (o.from === m.from && o.to === m.to && o.at > m.at) m.at = o.at;
      this.msgs.push(m);
    }
    for (const c of r.commit) {
      // a learner applies sync-phase commits before its leader is established; they are checked
      // once it serves (BROADCAST), when the leader's history counts as committed
      if (n.learner && n.learner.state !== 'BROADCAST') n.syncApplied.push(c);
      else this.onCommit(n, c);
    }
    if (n.learner && n.learner.state === 'BROADCAST' && n.syncApplied.length) {
      for (const c of n.syncApplied.splice(0)) this.onCommit(n, c);
    }
    if (r.state === 'BROADCAST' && n.leader) {
      const e = n.leader.newEpoch;
      const prev = this.leadersByEpoch.get(e);
      if (prev !== undefined && prev !== n.id) this.fail(`two leaders in epoch ${e}: ${prev} and ${n.id}`);
      this.leadersByEpoch.set(e, n.id);
      // no committed txn is lost: the new leader's log has all of them
      const logged = [...n.disk.log, ...n.disk.buffer];
      const mine = new Map(logged.map((p) => [p.zxid, p.data.toString()]));
      for (const c of this.committed) {
        if (mine.get(c.zxid) !== c.data.toString()) this.fail(`leader ${n.id} of epoch ${e} lacks committed txn ${c.zxid.toString(16)}`);
      }
      // its history is now committed too (Zab adopts the new leader's log); below the last
      // committed txn it must hold nothing that was never committed
      const lastC = this.committed.length ? this.committed[this.committed.length - 1].zxid : -1;
      for (const p of logged) {
        if (this.committedByZxid.has(p.zxid)) continue;
        if (p.zxid < lastC) this.fail(`leader ${n.id} holds uncommitted ${p.zxid.toString(16)} below committed ${lastC.toString(16)}`);
        this.committed.push(p);
        this.committedByZxid.set(p.zxid, p.data.toString());
      }
      this.log.push(`t=${this.now} leader ${n.id} established epoch ${e}`);
    }
    if (r.state === 'LOOKING') {
      this.log.push(`t=${this.now} node ${n.id} LOOKING: ${r.reason}`);
    }
  }

  private onCommit(n: Node, c: Proposal): void {
    const data = c.data.toString();
    if (n.leader) {
      const known = this.committedByZxid.get(c.zxid);
      if (known === undefined) {
        const last = this.committed.length ? this.committed[this.committed.length - 1].zxid : -1;
        if (c.zxid <= last) this.fail(`leader ${n.id} committed ${c.zxid.toString(16)} after ${last.toString(16)}`);
        this.committed.push(c);
        this.committedByZxid.set(c.zxid, data);
      } else if (known !== data) this.fail(`zxid ${c.zxid.toString(16)} committed twice with different data`);
      return;
    }
    const known = this.committedByZxid.get(c.zxid);
    if (known === undefined) this.fail(`node ${n.id} applied ${c.zxid.toString(16)} which no leader committed`);
    if (known !== data) this.fail(`node ${n.id} applied ${c.zxid.toString(16)} with different data`);
  }

  step(): void {
    this.now++;
    const rnd = this.rnd;
    // faults
    const crashRate = this.opts.crashRate ?? 0.01;
    if (rnd() < crashRate) {
      const n = this.nodes[Math.floor(rnd() * this.nodes.length)];
      if (n.up) {
        this.log.push(`t=${this.now} crash ${n.id}`);
        const wasLeader = n.leader !== null;
        this.reset(n, true);
        n.up = false;
        n.restartAt = this.now + 5 + Math.floor(rnd() * 40);
        for (const o of this.nodes) {
          if (o.learner && (wasLeader || false) && o.up) o.learner.disconnected();
          if (o.leader) o.leader.disconnected(n.id);
          if (o.up) this.process(o);
        }
      }
    }
    for (const n of this.nodes) {
      if (!n.up && n.restartAt <= this.now) {
        n.up = true;
        this.log.push(`t=${this.now} restart ${n.id}`);
        const l = this.activeLeader();
        if (l && l.leader && l.leader.state === 'BROADCAST') {
          n.learner = new LearnerCore({
            myid: n.id,
            leader: l.id,
            observer: false,
            acceptedEpoch: n.disk.accepted,
            currentEpoch: n.disk.current,
            lastLoggedZxid: this.lastLogged(n),
            initLimitTicks: 10,
            syncLimitTicks: 5,
            unsafeAckBeforePersist: this.opts.unsafeAckBeforePersist,
          });
          n.learner.start();
          this.process(n);
        }
      }
    }
    // client writes
    const l = this.activeLeader();
    if (l && l.leader && l.leader.state === 'BROADCAST' && rnd() < 0.3) {
      const zxid = l.leader.propose(Buffer.from(`tx${this.nextData++}`));
      void zxid;
      this.process(l);
    }
    // deliveries
    const due = this.msgs.filter((m) => m.at <= this.now);
    this.msgs = this.msgs.filter((m) => m.at > this.now);
    for (const m of due) {
      const to = this.node(m.to);
      const from = this.node(m.from);
      if (!to.up || !from.up || m.gen !== to.gen) continue;
      if (to.leader && from.learner) {
        to.leader.step(m.from, m.p);
        this.process(to);
      } else if (to.learner && from.leader && m.from === this.learnerLeader(to)) {
        if (m.p.type === Pkt.SNAP && m.snap) {
          to.disk.log = [...m.snap];
          to.disk.buffer = [];
          to.learner.step(m.p);
          to.learner.snapshotLoaded(m.p.zxid);
        } else to.learner.step(m.p);
        this.process(to);
      }
    }
    // fsyncs
    for (const n of this.nodes) {
      if (n.up && n.fsyncAt >= 0 && n.fsyncAt <= this.now) {
        n.disk.log.push(...n.disk.buffer);
        n.disk.buffer = [];
        n.fsyncAt = -1;
        const last = this.lastLogged(n);
        // a restart must find currentEpoch >= the epoch of the last logged txn
        // (committed txns synced from the leader may precede the currentEpoch update; they are
        // at most acceptedEpoch, and loadEpochs adopts their epoch on restart)
        const e = epochOf(last);
        if (e > n.disk.current && e > n.disk.accepted) {
          this.fail(`node ${n.id} logged ${last.toString(16)} with currentEpoch ${n.disk.current}, acceptedEpoch ${n.disk.accepted}`);
        }
        (n.leader ?? n.learner)?.persisted(last);
        this.process(n);
      }
    }
    // ticks
    if (this.now - this.lastTick >= 10) {
      this.lastTick = this.now;
      for (const n of this.nodes) {
        if (!n.up) continue;
        (n.leader ?? n.learner)?.tick();
        this.process(n);
      }
    }
    // a learner whose leader is gone or stepped down goes LOOKING
    for (const n of this.nodes) {
      if (n.learner && n.learner.state !== 'LOOKING') {
        const ld = this.node(this.learnerLeader(n));
        if (!ld.up || !ld.leader || ld.leader.state === 'LOOKING') {
          n.learner.disconnected();
          this.process(n);
        }
      }
    }
    this.elect();
  }

  private learnerLeader(n: Node): number {
    return (n.learner as unknown as { o: { leader: number } }).o.leader;
  }

  run(steps: number): void {
    for (let i = 0; i < steps; i++) this.step();
  }

  /** After healing: every live follower's log agrees with the committed sequence. */
  checkConvergence(): void {
    for (const n of this.nodes) {
      const mine = new Map([...n.disk.log, ...n.disk.buffer].map((p) => [p.zxid, p.data.toString()]));
      for (const [z, d] of mine) {
        const c = this.committedByZxid.get(z);
        if (c !== undefined && c !== d) this.fail(`node ${n.id} logged ${z.toString(16)} differently from the committed txn`);
      }
    }
  }
}

export { epochOf, makeZxid };
