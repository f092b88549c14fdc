// Session ids, passwords and expiry (ZooKeeper's SessionTrackerImpl and ExpiryQueue): deadlines are
// rounded up to the next tick so that one timer per tick checks every session.

const SUPER_SECRET = 0xb3415c00n;
const MULT = 0x5deece66dn;
const MASK48 = (1n << 48n) - 1n;

/** The 16-byte password ZooKeeper derives from a session id (java.util.Random(id ^ superSecret)). */
export function generatePasswd(sessionId: bigint): Buffer {
  let seed = (BigInt.asIntN(64, sessionId ^ SUPER_SECRET) ^ MULT) & MASK48;
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; ) {
    seed = (seed * MULT + 0xbn) & MASK48;
    let rnd = Number(BigInt.asIntN(32, seed >> 16n));
    for (let n = Math.min(16 - i, 4); n-- > 0; rnd >>= 8) out[i++] = rnd & 0xff;
  }
  return out;
}

/** First session id of a server: (serverId << 56) | ((nowMs mod 2^40) << 16). */
export function initialSessionId(serverId: number, nowMs: number): bigint {
  let id = (BigInt(Math.floor(nowMs)) << 24n) & ((1n << 64n) - 1n);
  id = id >> 8n;
  id = BigInt.asIntN(64, id | (BigInt(serverId & 0xff) << 56n));
  if (id === -0x8000000000000000n) id += 1n;
  return id;
}

export interface Session {
  id: bigint;
  timeout: number;
  /** tick-rounded deadline, ms on the monotonic clock */
  expireAt: number;
  closing: boolean;
}

export class SessionTracker {
  readonly sessions = new Map<bigint, Session>();
  private nextId: bigint;

  constructor(
    readonly tickTime: number,
    serverId: number,
    private readonly now: () => number,
  ) {
    this.nextId = initialSessionId(serverId, now());
  }

  roundToTick(t: number): number {
    return (Math.floor(t / this.tickTime) + 1) * this.tickTime;
  }

  /**
   * The next id of the counter, skipping one a live session holds (a restored session whose id the
   * counter meets again, which the time in the seed makes unlikely but a wall clock stepped back
   * across a restart allows) and the container marker.
   */
  newSessionId(): bigint {
    for (;;) {
      const id = this.nextId;
      this.nextId = BigInt.asIntN(64, this.nextId + 1n);
      if (id !== -0x8000000000000000n && !this.sessions.has(id)) return id;
    }
  }

  add(id: bigint, timeout: number): Session {
    let s = this.sessions.get(id);
    if (!s) {
      s = { id, timeout, expireAt: 0, closing: false };
      this.sessions.set(id, s);
    }
    s.timeout = timeout;
    this.touch(id);
    return s;
  }

  /** Extend a live session; false if it is unknown or closing. */
  touch(id: bigint): boolean {
    const s = this.sessions.get(id);
    if (!s || s.closing) return false;
    s.expireAt = this.roundToTick(this.now() + s.timeout);
    return true;
  }

  remove(id: bigint): void {
    this.sessions.delete(id);
  }

  /** Sessions whose deadline has passed; they are marked closing. */
  expired(): Session[] {
    const now = this.now();
    const out: Session[] = [];
    for (const s of this.sessions.values()) {
      if (!s.closing && s.expireAt <= now) {
        s.closing = true;
        out.push(s);
      }
    }
    return out;
  }
}
