// QuorumCnxManager (wire-quorum.md §2): the election-port I/O adapter.
//  * listens on this peer's election address, dials peers on demand;
//  * the initiator writes the initial message (V1: protocol version, sid, `host:port`);
//  * tie-break: only a connection initiated by the larger sid survives — an initiator with the
//    smaller sid writes its initial message, closes and waits to be dialled; an acceptor with the
//    larger sid closes the incoming socket and dials back; an acceptor with the smaller sid keeps
//    it, replacing any older connection to that peer;
//  * messages are int32-length framed (a length ≤ 0 or > 512 KiB drops the connection);
//  * per peer a send queue of capacity 1 (the newest message replaces an unsent older one); a new
//    connection with nothing queued re-sends the last message sent to that peer;
//  * messages to self are looped back without a socket.
// Emits 'message' (sid, payload). FLE logic lives in fle.ts; this file only moves bytes.
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import type { QuorumServerSpec } from '../../config/types';
import {
  encodeInitialMessage,
  formatHostPort,
  InitialMessageError,
  isWildcardHost,
  OBSERVER_ID,
  parseHostPort,
  parseInitialMessage,
} from './notification';

/** PACKETMAXSIZE */
export const PACKET_MAX_SIZE = 512 * 1024;

export interface PeerAddress {
  host: string;
  port: number;
}

export interface CnxManagerOptions {
  myid: number;
  /** this peer's election address; port 0 binds a free port (see address()) */
  listen: PeerAddress;
  /** election addresses of the other servers (may be completed later with setPeerAddress) */
  peers?: Map<number, PeerAddress>;
  /** zookeeper.cnxTimeout (5000 ms) */
  connectTimeoutMs?: number;
  /** time allowed for the initial message on an accepted socket (tickTime×syncLimit in Java) */
  handshakeTimeoutMs?: number;
  /** the address advertised in the initial message; defaults to the bound listen address */
  advertise?: PeerAddress;
  /** diagnostics */
  log?: (msg: string) => void;
}

interface Worker {
  sid: number;
  sock: net.Socket;
  initiatedByMe: boolean;
  chunks: Buffer[];
  buffered: number;
  dead: boolean;
}

/** Incremental int32-length frame splitter; returns null on a bad length. */
function takeFrames(w: Worker): Buffer[] | null {
  const out: Buffer[] = [];
  for (;;) {
    if (w.buffered < 4) return out;
    let head = w.chunks[0];
    if (head.length < 4) {
      head = Buffer.concat(w.chunks);
      w.chunks = [head];
    }
    const len = head.readInt32BE(0);
    if (len <= 0 || len > PACKET_MAX_SIZE) return null;
    if (w.buffered < 4 + len) return out;
    const all = w.chunks.length === 1 ? head : Buffer.concat(w.chunks);
    out.push(Buffer.from(all.subarray(4, 4 + len)));
    const rest = all.subarray(4 + len);
    w.chunks = rest.length ? [rest] : [];
    w.buffered = rest.length;
  }
}

export function frame(payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(4 + payload.length);
  b.writeInt32BE(payload.length, 0);
  payload.copy(b, 4);
  return b;
}

export class QuorumCnxManager extends EventEmitter {
  readonly myid: number;
  private readonly peers: Map<number, PeerAddress>;
  private readonly connectTimeoutMs: number;
  private readonly handshakeTimeoutMs: number;
  private server: net.Server | null = null;
  private bound: PeerAddress | null = null;
  private readonly workers = new Map<number, Worker>();
  private readonly inProgress = new Set<number>();
  /** capacity-1 send queues; a key exists for every peer ever sent to (connectAll dials those) */
  private readonly queues = new Map<number, Buffer | null>();
  private readonly lastSent = new Map<number, Buffer>();
  private readonly sockets = new Set<net.Socket>();
  private observerCounter = -1;
  private closed = false;

  constructor(private readonly o: CnxManagerOptions) {
    super();
    this.myid = o.myid;
    this.peers = new Map(o.peers ?? []);
    this.connectTimeoutMs = o.connectTimeoutMs ?? 5000;
    this.handshakeTimeoutMs = o.handshakeTimeoutMs ?? 5000;
  }

  /** Election addresses from config server lines (`server.N=host:qp:ep`), excluding myid. */
  static peersFromServers(servers: Iterable<QuorumServerSpec>, myid: number): Map<number, PeerAddress> {
    const m = new Map<number, PeerAddress>();
    for (const s of servers) if (s.id !== myid) m.set(s.id, { host: s.host, port: s.electionPort });
    return m;
  }

  /** Bind the election port. */
  listen(): Promise<PeerAddress> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer((s) => this.accept(s));
      srv.once('error', reject);
      srv.listen(this.o.listen.port, this.o.listen.host, () => {
        srv.removeListener('error', reject);
        srv.on('error', (e) => this.log(`listener error: ${e.message}`));
        const a = srv.address() as net.AddressInfo;
        this.bound = { host: this.o.listen.host, port: a.port };
        this.server = srv;
        resolve(this.bound);
      });
    });
  }

  /** The bound election address (after listen()). */
  address(): PeerAddress {
    if (!this.bound) throw new Error('not listening');
    return this.bound;
  }

  setPeerAddress(sid: number, addr: PeerAddress): void {
    this.peers.set(sid, addr);
  }

  /** Queue `payload` for `sid` (replacing an unsent older message) and make sure we connect. */
  send(sid: number, payload: Buffer): void {
    if (this.closed) return;
    if (sid === this.myid) {
      const copy = Buffer.from(payload);
      setImmediate(() => {
        if (!this.closed) this.emit('message', sid, copy);
      });
      return;
    }
    this.queues.set(sid, payload);
    const w = this.workers.get(sid);
    if (w && !w.dead) this.flush(w);
    else this.connectOne(sid);
  }

  /** True when no send queue holds an unsent message (Java haveDelivered). */
  haveDelivered(): boolean {
    for (const b of this.queues.values()) if (b) return false;
    return true;
  }

  /** Dial every peer we have ever had something to send to. */
  connectAll(): void {
    for (const sid of this.queues.keys()) this.connectOne(sid);
  }

  /** Live connections: which peer, and whether this side dialled it. */
  connections(): Array<{ sid: number; initiatedByMe: boolean }> {
    return [...this.workers.values()].filter((w) => !w.dead).map((w) => ({ sid: w.sid, initiatedByMe: w.initiatedByMe }));
  }

  /** Open a connection to `sid` unless one exists or is being opened. */
  connectOne(sid: number, addrOverride?: PeerAddress): void {
    if (this.closed || sid === this.myid) return;
    const existing = this.workers.get(sid);
    if ((existing && !existing.dead) || this.inProgress.has(sid)) return;
    const addr = addrOverride ?? this.peers.get(sid);
    if (!addr) {
      this.log(`no election address for server ${sid}`);
      return;
    }
    this.inProgress.add(sid);
    const sock = net.connect({ host: addr.host, port: addr.port });
    this.track(sock);
    let done = false;
    const fail = (why: string): void => {
      if (done) return;
      done = true;
      this.inProgress.delete(sid);
      this.log(`cannot open channel to ${sid} at ${formatHostPort(addr.host, addr.port)}: ${why}`);
      sock.destroy();
    };
    const onError = (e: Error): void => fail(e.message);
    const onClose = (): void => fail('closed');
    sock.setTimeout(this.connectTimeoutMs, () => fail('connect timeout'));
    sock.on('error', onError);
    sock.once('close', onClose);
    sock.once('connect', () => {
      if (done || this.closed) return fail('closing');
      done = true;
      this.inProgress.delete(sid);
      sock.setTimeout(0);
      sock.setNoDelay(true);
      sock.removeListener('close', onClose);
      sock.removeListener('error', onError);
      sock.on('error', () => {});
      const me = this.o.advertise ?? this.bound ?? this.o.listen;
      const init = encodeInitialMessage(this.myid, formatHostPort(me.host, me.port));
      if (sid > this.myid) {
        // "Have smaller server identifier, so dropping the connection": the peer dials back.
        sock.end(init);
        return;
      }
      sock.write(init);
      this.startWorker(sid, sock, true, Buffer.alloc(0));
    });
  }

  /** Close the listener and every connection. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.workers.clear();
    this.inProgress.clear();
    const srv = this.server;
    this.server = null;
    if (!srv) return Promise.resolve();
    return new Promise((resolve) => srv.close(() => resolve()));
  }

  // ---- internals ---------------------------------------------------------------------------

  private log(msg: string): void {
    this.o.log?.(`[cnx ${this.myid}] ${msg}`);
  }

  private track(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.once('close', () => this.sockets.delete(sock));
  }

  private accept(sock: net.Socket): void {
    if (this.closed) {
      sock.destroy();
      return;
    }
    this.track(sock);
    sock.setNoDelay(true);
    sock.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      this.log('initial message timed out');
      sock.destroy();
    }, this.handshakeTimeoutMs);
    const onData = (d: Buffer): void => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let parsed;
      try {
        parsed = parseInitialMessage(buf);
      } catch (e) {
        clearTimeout(timer);
        this.log(`bad initial message: ${(e as InitialMessageError).message}`);
        sock.destroy();
        return;
      }
      if (!parsed) return;
      clearTimeout(timer);
      sock.removeListener('data', onData);
      sock.removeListener('close', onClose);
      let sid = parsed.msg.sid;
      if (sid === OBSERVER_ID) sid = this.observerCounter--; // an observer not in our config
      let electionAddr: PeerAddress | undefined;
      for (const a of parsed.msg.addresses) {
        const hp = parseHostPort(a);
        if (hp && !isWildcardHost(hp.host)) {
          electionAddr = hp;
          break;
        }
      }
      if (electionAddr && !this.peers.has(sid) && sid >= 0) this.peers.set(sid, electionAddr);
      this.handleConnection(sid, sock, buf.subarray(parsed.used), electionAddr);
    };
    const onClose = (): void => clearTimeout(timer);
    sock.on('data', onData);
    sock.once('close', onClose);
  }

  private handleConnection(sid: number, sock: net.Socket, rest: Buffer, electionAddr: PeerAddress | undefined): void {
    if (this.closed) {
      sock.destroy();
      return;
    }
    if (sid < this.myid) {
      // We win the challenge: drop theirs (and any connection we believe is up) and dial back.
      const old = this.workers.get(sid);
      if (old) this.finish(old);
      sock.destroy();
      this.connectOne(sid, electionAddr);
    } else if (sid === this.myid) {
      this.log('connection request from a server with our own id: configuration error?');
      sock.destroy();
    } else {
      this.startWorker(sid, sock, false, rest);
    }
  }

  private startWorker(sid: number, sock: net.Socket, initiatedByMe: boolean, rest: Buffer): void {
    const old = this.workers.get(sid);
    if (old) this.finish(old);
    const w: Worker = { sid, sock, initiatedByMe, chunks: [], buffered: 0, dead: false };
    this.workers.set(sid, w);
    if (!this.queues.has(sid)) this.queues.set(sid, null);
    const onData = (d: Buffer): void => {
      if (w.dead) return;
      w.chunks.push(d);
      w.buffered += d.length;
      const frames = takeFrames(w);
      if (frames === null) {
        this.log(`bad frame length from ${sid}; dropping the connection`);
        this.finish(w);
        return;
      }
      for (const f of frames) {
        if (w.dead || this.closed) return;
        this.emit('message', sid, f);
      }
    };
    sock.on('data', onData);
    sock.once('close', () => this.finish(w));
    // Nothing newer queued: re-send the last message (the peer may have missed it).
    if (!this.queues.get(sid)) {
      const last = this.lastSent.get(sid);
      if (last) sock.write(frame(last));
    }
    this.flush(w);
    if (rest.length) onData(rest);
  }

  private flush(w: Worker): void {
    const b = this.queues.get(w.sid);
    if (!b || w.dead) return;
    this.queues.set(w.sid, null);
    this.lastSent.set(w.sid, b);
    w.sock.write(frame(b));
  }

  private finish(w: Worker): void {
    if (w.dead) return;
    w.dead = true;
    w.sock.destroy();
    if (this.workers.get(w.sid) === w) this.workers.delete(w.sid);
  }
}
