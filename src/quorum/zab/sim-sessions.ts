// The simulator's client sessions and the session rule (see sim.ts for the rest of the world).
//
// A createSession txn is "S+<id>:<timeout>|…", a closeSession txn "S-<id>|…". Clients attach to a
// serving peer whose DataTree holds their session and touch it every timeout/4 (the leader's core
// directly, a learner's core for its next PING reply), and move when their peer stops serving.
// The rule: no leader expires a session within its timeout of a touch made through a path that
// stayed intact (the peer in BROADCAST under that leader, the connection between them never closed
// or partitioned) and had time to arrive (one leader PING interval and two network delays); and no
// leader expires a session before a full timeout since it took the session over (its epoch
// established, or the createSession applied).
import { ZabLeader } from './leader';
import { ZabLearner } from './learner';
import { zxidHex } from './packets';
import { ZabTxn } from './ready';

/** the part of a simulated connection the rule looks at */
export interface SessionConn {
  leader: number;
  learner: number;
}

/** the part of a simulated peer the session model uses */
export interface SessionNode {
  id: number;
  up: boolean;
  serving: boolean;
  leader: ZabLeader | null;
  learner: ZabLearner | null;
  conn: SessionConn | null;
  conns: Map<number, SessionConn>;
  createdSeq: number;
  /** the global sessions of its DataTree: id -> timeout */
  sessions: Map<bigint, number>;
  /** leader: when it took each session over */
  sessionSince: Map<bigint, number>;
}

/** what the session model needs from the simulator */
export interface SessionWorld {
  readonly now: number;
  readonly seed: number;
  readonly opts: { sessionRate?: number; maxSessions?: number };
  readonly stats: { sessions: number; touches: number; expired: number };
  readonly nodes: SessionNode[];
  readonly partitions: { set: Set<number>; pair?: [number, number]; start: number; end: number }[];
  rnd(): number;
  int(n: number): number;
  node(id: number): SessionNode;
  core(n: SessionNode): ZabLeader | ZabLearner | null;
  leaders(): SessionNode[];
  proposeThrough(l: SessionNode, data: (zxid: number) => string): boolean;
  process(n: SessionNode): void;
  fail(msg: string): never;
  note(s: string): void;
}

export interface SessionTxn {
  id: bigint;
  /** set for a createSession */
  timeout?: number;
}

/** A createSession / closeSession txn of the simulator, or null. */
export function parseSessionTxn(t: ZabTxn): SessionTxn | null {
  const m = /^S([+-])(\d+)(?::(\d+))?\|/.exec(t.data.toString());
  if (!m) return null;
  return m[1] === '+' ? { id: BigInt(m[2]), timeout: Number(m[3]) } : { id: BigInt(m[2]) };
}

interface Touch {
  at: number;
  /** the peer the client touched, and that peer's core (createdSeq) */
  node: number;
  coreSeq: number;
  /** learner: its connection to the leader then; leader: null */
  conn: SessionConn | null;
}

interface SimClient {
  id: bigint;
  timeout: number;
  node: number | null;
  nextPing: number;
  touches: Touch[];
  closed: boolean;
}

const SESSION_TOUCH_ARRIVAL = 10 /* the leader's PING interval (one tick here) */ + 2 * 6; /* two network delays */

export class SimSessions {
  readonly clients = new Map<bigint, SimClient>();
  private nextSession = 1n;

  constructor(private readonly w: SessionWorld) {}

  /** A closeSession committed: its client is done. */
  closed(id: bigint): void {
    const c = this.clients.get(id);
    if (c) c.closed = true;
  }

  create(): void {
    const live = [...this.clients.values()].filter((c) => !c.closed).length;
    if (live >= (this.w.opts.maxSessions ?? 4) || this.w.rnd() > (this.w.opts.sessionRate ?? 0.01)) return;
    const ls = this.w.leaders().filter((l) => l.leader!.state === 'BROADCAST');
    if (!ls.length) return;
    const l = ls[this.w.int(ls.length)];
    const id = this.nextSession++;
    const timeout = 60 + 10 * this.w.int(10);
    if (!this.w.proposeThrough(l, (z) => `S+${id}:${timeout}|s${this.w.seed}-z0x${zxidHex(z)}`)) return;
    this.clients.set(id, { id, timeout, node: null, nextPing: 0, touches: [], closed: false });
    this.w.stats.sessions++;
    this.w.process(l);
  }

  /** Each live client (re)attaches to a serving peer that knows its session and pings every timeout/4. */
  ping(): void {
    for (const c of this.clients.values()) {
      if (c.closed) continue;
      let n = c.node === null ? null : this.w.node(c.node);
      if (n && !(n.up && n.serving && this.w.core(n) && n.sessions.has(c.id))) {
        n = null;
        c.node = null;
      }
      if (!n) {
        if (this.w.rnd() > 0.5) continue;
        const cands = this.w.nodes.filter((x) => x.up && x.serving && this.w.core(x) && x.sessions.has(c.id));
        if (!cands.length) continue;
        n = cands[this.w.int(cands.length)];
        c.node = n.id;
        c.nextPing = this.w.now; // connecting touches the session
      }
      if (this.w.now < c.nextPing) continue;
      c.nextPing = this.w.now + Math.floor(c.timeout / 4);
      this.w.stats.touches++;
      if (n.leader) {
        if (n.leader.state !== 'BROADCAST') continue;
        n.leader.touchSession(c.id, this.w.now);
        c.touches.push({ at: this.w.now, node: n.id, coreSeq: n.createdSeq, conn: null });
      } else if (n.learner && n.learner.state === 'BROADCAST') {
        n.learner.touchSession(c.id, c.timeout);
        c.touches.push({ at: this.w.now, node: n.id, coreSeq: n.createdSeq, conn: n.conn });
      }
      if (c.touches.length > 40) c.touches.splice(0, c.touches.length - 40);
    }
  }

  /** Was the path from `n` (core `coreSeq`, connection `conn`) to leader `l` unbroken from `at` until now? */
  private intact(t: Touch, l: SessionNode): boolean {
    const n = this.w.node(t.node);
    if (!n.up || n.createdSeq !== t.coreSeq) return false;
    if (t.conn === null) return n === l;
    if (t.conn.leader !== l.id || n.conn !== t.conn || l.conns.get(n.id) !== t.conn) return false;
    for (const p of this.w.partitions) {
      if (p.end < t.at || p.start > this.w.now) continue;
      if (p.pair) {
        if ((p.pair[0] === n.id && p.pair[1] === l.id) || (p.pair[0] === l.id && p.pair[1] === n.id)) return false;
      } else if (p.set.has(n.id) !== p.set.has(l.id)) return false;
    }
    return true;
  }

  /** The leader's core says these sessions are past their deadline: check the rule, then close them. */
  expire(l: SessionNode, ids: bigint[]): void {
    for (const id of ids) {
      this.w.stats.expired++;
      const c = this.clients.get(id);
      const timeout = l.sessions.get(id);
      if (c && timeout !== undefined) {
        const since = l.sessionSince.get(id);
        if (since !== undefined && this.w.now < since + timeout) {
          this.w.fail(`leader ${l.id} expired session ${id} at ${this.w.now}, ${this.w.now - since} after taking it over (timeout ${timeout})`);
        }
        for (const t of c.touches) {
          if (t.at <= this.w.now - timeout || t.at + SESSION_TOUCH_ARRIVAL > this.w.now) continue;
          if (this.intact(t, l)) {
            this.w.fail(`leader ${l.id} expired session ${id} (timeout ${timeout}) although it was touched through node ${t.node} at ${t.at} over an intact path`);
          }
        }
      }
      this.w.note(`leader ${l.id} expires session ${id}`);
      this.w.proposeThrough(l, (z) => `S-${id}|s${this.w.seed}-z0x${zxidHex(z)}`);
    }
  }
}
