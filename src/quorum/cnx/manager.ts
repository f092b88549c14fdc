// QuorumCnxManager (wire-quorum.md §2): one TCP connection per pair of peers on the election port;
// only a connection initiated by the larger sid survives. Messages are int32-length framed. Each
// peer has a send queue of one (the newest message wins); a new connection re-sends the last one.
import { EventEmitter } from 'node:events';
import * as net from 'node:net';

const PROTOCOL_V1 = -65536n;
const PACKET_MAX = 512 * 1024;

export interface CnxOptions {
  myid: number;
  listenHost: string;
  listenPort: number;
  peers: Map<number, { host: string; port: number }>;
  connectTimeoutMs?: number;
  /** quorum SASL: run after the initial message, on both sides (QuorumAuthLearner / QuorumAuthServer) */
  auth?: CnxAuth;
  /** TLS (sslQuorum): how to listen and connect; default plain TCP */
  transport?: CnxTransport;
}

/** A connect to a peer's election port that failed ('down' carries it; a closed connection carries none). */
export interface ConnectFailure {
  host: string;
  port: number;
  code: string;
}

export interface CnxTransport {
  server(onSocket: (s: net.Socket) => void): net.Server;
  connect(host: string, port: number, onReady: (s: net.Socket) => void, onError: (e: Error) => void): net.Socket;
}

export interface CnxAuth {
  /** the connecting side; rejects when the connection must be dropped */
  learner(sock: net.Socket): Promise<void>;
  /** the accepting side, given the bytes read after the initial message; resolves with the bytes after the exchange */
  server(sock: net.Socket, initial: Buffer): Promise<Buffer>;
}

export function initialMessage(sid: number, host: string, port: number): Buffer {
  const addr = Buffer.from(`${host}:${port}`, 'utf8');
  const b = Buffer.alloc(20 + addr.length);
  b.writeBigInt64BE(PROTOCOL_V1, 0);
  b.writeBigInt64BE(BigInt(sid), 8);
  b.writeInt32BE(addr.length, 16);
  addr.copy(b, 20);
  return b;
}

/**
 * Parse an initial message; null until enough bytes. Returns the sid, bytes used, and the election
 * address the peer listens on (protocol version 1 and later).
 */
export function parseInitialMessage(b: Buffer): { sid: number; used: number; addr?: { host: string; port: number } } | null {
  if (b.length < 8) return null;
  const first = b.readBigInt64BE(0);
  if (first >= 0n) return { sid: Number(first), used: 8 }; // pre-3.5 peers send only their sid
  if (first !== PROTOCOL_V1 && first !== -65535n) throw new Error(`bad protocol version ${first}`);
  if (b.length < 20) return null;
  const sid = Number(b.readBigInt64BE(8));
  const len = b.readInt32BE(16);
  if (len <= 0 || len > 2048) throw new Error(`bad address length ${len}`);
  if (b.length < 20 + len) return null;
  const text = b.toString('utf8', 20, 20 + len).split('|')[0];
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { sid, used: 20 + len, addr: colon > 0 && port > 0 && port < 65536 ? { host, port } : undefined };
}

export class QuorumCnxManager extends EventEmitter {
  private server: net.Server | null = null;
  private readonly conns = new Map<number, net.Socket>();
  private readonly connecting = new Set<number>();
  private readonly pending = new Map<number, Buffer>();
  private readonly last = new Map<number, Buffer>();
  /**
   * election addresses of smaller sids outside our configuration, from their initial messages (a
   * server a reconfig removed, or one about to join): we dial them back there, as 3.8 does
   */
  private readonly learned = new Map<number, { host: string; port: number }>();
  private closed = false;

  constructor(private readonly o: CnxOptions) {
    super();
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const srv = this.o.transport ? this.o.transport.server((s) => this.accept(s)) : net.createServer((s) => this.accept(s));
      srv.once('error', reject);
      srv.listen(this.o.listenPort, this.o.listenHost, () => {
        srv.removeListener('error', reject);
        srv.on('error', () => {});
        resolve();
      });
      this.server = srv;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.conns.values()) s.destroy();
    this.conns.clear();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  haveDelivered(): boolean {
    return this.pending.size === 0;
  }

  send(sid: number, payload: Buffer): void {
    if (this.closed) return;
    if (sid === this.o.myid) {
      setImmediate(() => this.emit('message', sid, payload));
      return;
    }
    this.last.set(sid, payload);
    const s = this.conns.get(sid);
    if (s && !s.destroyed) {
      this.write(s, payload);
      return;
    }
    this.pending.set(sid, payload);
    this.connectOne(sid);
  }

  connectAll(): void {
    for (const sid of this.o.peers.keys()) if (sid !== this.o.myid && !this.conns.has(sid)) this.connectOne(sid);
  }

  private write(s: net.Socket, payload: Buffer): void {
    const h = Buffer.alloc(4);
    h.writeInt32BE(payload.length, 0);
    s.write(Buffer.concat([h, payload]));
  }

  private connectOne(sid: number): void {
    if (this.closed || this.connecting.has(sid) || this.conns.has(sid)) return;
    const peer = this.o.peers.get(sid) ?? this.learned.get(sid);
    if (!peer) return;
    this.connecting.add(sid);
    // a failure before the connection is made means the peer cannot be reached ('down'); after
    // it, the socket may still be reset by the tie-break (a larger sid drops ours and dials back)
    let made = false;
    const onReady = (s: net.Socket): void => {
      made = true;
      clearTimeout(t);
      s.write(initialMessage(this.o.myid, this.o.listenHost, this.o.listenPort));
      const decide = (): void => {
        this.connecting.delete(sid);
        if (sid > this.o.myid) {
          // "Have smaller server identifier, so dropping the connection": the larger sid dials back
          s.end();
          return;
        }
        this.established(sid, s);
      };
      if (!this.o.auth) return decide();
      // the learner authenticates before either side decides whose connection survives
      this.o.auth.learner(s).then(decide, () => {
        this.connecting.delete(sid);
        s.destroy();
      });
    };
    const onError = (e?: Error): void => {
      clearTimeout(t);
      this.connecting.delete(sid);
      s.destroy();
      // why the connect failed (ENOTFOUND: the name does not resolve; ETIMEDOUT: no answer in time)
      const why: ConnectFailure = { host: peer.host, port: peer.port, code: (e as NodeJS.ErrnoException | undefined)?.code ?? (e ? e.message : 'ETIMEDOUT') };
      if (!made && !this.closed && !this.conns.has(sid)) this.emit('down', sid, why);
    };
    const s = this.o.transport
      ? this.o.transport.connect(peer.host, peer.port, onReady, onError)
      : net.connect({ host: peer.host, port: peer.port }).once('connect', () => onReady(s)).once('error', onError);
    s.setNoDelay(true);
    // no answer in time: a failed connect like any other (onReady clears the timer once it is made)
    const t = setTimeout(() => onError(), this.o.connectTimeoutMs ?? 5000);
  }

  private accept(s: net.Socket): void {
    s.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let init;
      try {
        init = parseInitialMessage(buf);
      } catch {
        s.destroy();
        return;
      }
      if (!init) return;
      s.removeListener('data', onData);
      const rest = buf.subarray(init.used);
      if (init.addr && !this.o.peers.has(init.sid)) this.learned.set(init.sid, init.addr);
      if (!this.o.auth) return this.accepted(s, init.sid, rest);
      this.o.auth.server(s, rest).then(
        (after) => this.accepted(s, init.sid, after),
        () => s.destroy(),
      );
    };
    s.on('data', onData);
    s.on('error', () => s.destroy());
  }

  /** After the initial message (and quorum SASL): keep the connection, or dial back a smaller sid. */
  private accepted(s: net.Socket, sid: number, rest: Buffer): void {
    if (s.destroyed || this.closed) return;
    if (sid < this.o.myid) {
      // only connections from larger sids survive: dial it ourselves
      s.destroy();
      this.connectOne(sid);
      return;
    }
    if (sid === this.o.myid) {
      s.destroy();
      return;
    }
    this.established(sid, s, rest);
  }

  private established(sid: number, s: net.Socket, initial: Buffer = Buffer.alloc(0)): void {
    const old = this.conns.get(sid);
    if (old && old !== s) old.destroy();
    this.conns.set(sid, s);
    this.emit('up', sid);
    let buf: Buffer = initial;
    const drain = (): void => {
      while (buf.length >= 4) {
        const len = buf.readInt32BE(0);
        if (len <= 0 || len > PACKET_MAX) {
          s.destroy();
          return;
        }
        if (buf.length < 4 + len) return;
        const payload = Buffer.from(buf.subarray(4, 4 + len));
        buf = buf.subarray(4 + len);
        this.emit('message', sid, payload);
      }
    };
    s.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      drain();
    });
    s.on('close', () => {
      if (this.conns.get(sid) !== s) return; // replaced by a newer connection: the peer is still there
      this.conns.delete(sid);
      if (!this.closed) this.emit('down', sid);
    });
    s.on('error', () => s.destroy());
    const msg = this.pending.get(sid) ?? this.last.get(sid);
    this.pending.delete(sid);
    if (msg) this.write(s, msg);
    drain();
  }
}
