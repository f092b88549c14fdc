// The client-port adapter (ZooKeeper's NIOServerCnxnFactory): accepts sockets, cuts the byte stream
// into frames, answers four-letter words, and hands frames to the ZooKeeperServer.
import { serverMetrics } from '../util/metrics';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Id } from '../jute/records';
import { certSubjectRfc2253 } from '../security/x509name';
import { streamStartingWith, TLS_HANDSHAKE, type TlsContextOptions } from '../security/tls';
import { addId } from './auth';
import { FourLetterContext, fourLetterWord, runFourLetterWord } from './fourlw';
import { Cnxn, Logger, ZooKeeperServer } from './zkserver';

export interface ListenOptions {
  host: string;
  port: number;
  maxClientCnxns: number;
  /** maxCnxns: connections on this port in all (0: no limit) */
  maxCnxns?: number;
  maxBuffer: number;
  backlog?: number;
  /** close connections that have not sent a ConnectRequest within this many ms */
  sessionlessTimeoutMs?: number;
  /** close a connection with this many reply bytes unsent (default 16 × maxBuffer) */
  outputLimit?: number;
}

/** Splits a stream into length-prefixed frames; any chunking of the input yields the same frames. */
export class FrameReader {
  private chunks: Buffer[] = [];
  /** bytes of chunks[0] already taken: a frame is cut without a subarray for what is left */
  private pos = 0;
  /** bytes buffered and not taken */
  private size = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  get buffered(): number {
    return this.size;
  }

  /** First 4 bytes as an int, without consuming them (undefined if fewer are buffered). */
  peekInt(): number | undefined {
    if (this.size < 4) return undefined;
    this.compact();
    return this.chunks[0].readInt32BE(this.pos);
  }

  private compact(): void {
    if (this.chunks.length > 1) {
      if (this.pos > 0) this.chunks[0] = this.chunks[0].subarray(this.pos);
      this.chunks = [Buffer.concat(this.chunks, this.size)];
      this.pos = 0;
    }
  }

  /** Take `n` bytes (the caller saw that they are in chunks[0]) from `skip` bytes on. */
  private cut(skip: number, n: number): Buffer {
    const b = this.chunks[0];
    const at = this.pos + skip;
    const out = b.subarray(at, at + n);
    this.size -= skip + n;
    if (this.size === 0) {
      this.chunks.length = 0;
      this.pos = 0;
    } else this.pos = at + n;
    return out;
  }

  /**
   * Next frame payload, null if incomplete. Throws on a length outside 0..maxBuffer.
   */
  next(maxBuffer: number): Buffer | null {
    if (this.size < 4) return null;
    this.compact();
    const len = this.chunks[0].readInt32BE(this.pos);
    if (len < 0 || len > maxBuffer) throw new RangeError(`Len error ${len}`);
    if (this.size < 4 + len) return null;
    return this.cut(4, len);
  }

  /** Consume n raw bytes (4lw). */
  take(n: number): Buffer | null {
    if (this.size < n) return null;
    this.compact();
    return this.cut(0, n);
  }
}

/** TLS on a client port (a secureClientPort, or client.portUnification on the plaintext one). */
export interface ClientTls {
  options: TlsContextOptions;
  /** the auth scheme a client certificate authenticates with (ssl.authProvider) */
  authProvider: string;
  /** the schemes that have a provider (authProvider.<n>) */
  schemes: ReadonlySet<string>;
  x509SuperUser?: string;
  /** client.portUnification: this plaintext port also takes TLS, told apart by the first byte */
  unified?: boolean;
  /** with unified: ms to wait for the first byte (ssl.handshakeDetectionTimeoutMillis) */
  detectionTimeoutMs?: number;
}

export class ClientListener {
  private server: net.Server | null = null;
  private readonly perIp = new Map<string, number>();
  private readonly sockets = new Set<net.Socket>();
  private secureContext: tls.SecureContext | null = null;

  constructor(
    private readonly zk: () => ZooKeeperServer | null,
    private readonly fourlw: FourLetterContext,
    private readonly opts: ListenOptions,
    private readonly logger: Logger,
    /** a TLS port (or, with `unified`, a port that takes both) */
    private readonly tlsOpts?: ClientTls,
  ) {}

  /** Reading stops while this many reply bytes wait to be sent: two of the largest frames. */
  private get outputHighWater(): number {
    return 2 * this.opts.maxBuffer;
  }

  /** A connection with this many reply bytes unsent is closed: sixteen of the largest frames. */
  private get outputLimit(): number {
    return this.opts.outputLimit ?? 16 * this.opts.maxBuffer;
  }

  /** Whether this port serves TLS only (a secureClientPort). */
  get secure(): boolean {
    return !!this.tlsOpts && !this.tlsOpts.unified;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      let srv: net.Server;
      if (this.tlsOpts) this.secureContext = tls.createSecureContext(this.tlsOpts.options);
      if (this.secure) {
        srv = this.tlsServer((s) => s);
        srv.prependListener('connection', (raw: net.Socket) => this.account(raw));
      } else {
        srv = net.createServer({ noDelay: true }, (s) => {
          if (!this.account(s)) return;
          if (this.tlsOpts?.unified) this.detect(s);
          else this.serve(s, []);
        });
      }
      srv.once('error', reject);
      srv.listen({ host: this.opts.host, port: this.opts.port, backlog: this.opts.backlog }, () => {
        srv.removeListener('error', reject);
        srv.on('error', (e) => this.logger.warn({ err: String(e) }, 'client listener error'));
        resolve();
      });
      this.server = srv;
    });
  }

  /** Connections open on this port, and from one address. */
  connections(ip?: string): number {
    return ip === undefined ? this.sockets.size : (this.perIp.get(ip) ?? 0);
  }

  address(): net.AddressInfo | null {
    return (this.server?.address() as net.AddressInfo) ?? null;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
    });
  }

  /** maxClientCnxns per client address (NIOServerCnxnFactory); false when the socket was refused. */
  private account(sock: net.Socket): boolean {
    const ip = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    const total = this.opts.maxCnxns ?? 0;
    if (total > 0 && this.sockets.size >= total) {
      this.logger.warn({ ip, max: total }, `Error accepting new connection: Too many connections max allowed is ${total}`);
      serverMetrics.connection_rejected.add(1);
      sock.destroy();
      return false;
    }
    const max = this.opts.maxClientCnxns;
    const n = this.perIp.get(ip) ?? 0;
    if (max > 0 && n >= max) {
      this.logger.warn({ ip, max }, `Too many connections from /${ip} - max is ${max}`);
      serverMetrics.connection_rejected.add(1);
      sock.destroy();
      return false;
    }
    this.perIp.set(ip, n + 1);
    this.sockets.add(sock);
    sock.setNoDelay(true);
    let counted = true;
    sock.once('close', () => {
      if (!counted) return;
      counted = false;
      this.sockets.delete(sock);
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    });
    sock.on('error', () => sock.destroy());
    return true;
  }

  private handshakeFailed(e: Error, s: net.Socket | tls.TLSSocket): void {
    this.zk()?.stats && this.zk()!.stats.authFailed++;
    serverMetrics.unsuccessful_handshake.add(1);
    this.logger.error({ remote: s.remoteAddress, err: e.message }, 'Unsuccessful handshake');
    s.destroy();
  }

  /**
   * After a TLS handshake (NettyServerCnxnFactory.CertificateVerifier): a client that showed a
   * certificate is authenticated by the ssl.authProvider scheme — its RFC 2253 subject becomes its
   * x509 id (and `super` for X509AuthenticationProvider.superUser); a certificate that does not
   * chain to the trust store, or no provider for the scheme, closes the connection.
   */
  private verified(s: tls.TLSSocket, then: (ids: Id[]) => void): void {
    const t = this.tlsOpts!;
    if (!t.options.requestCert) return then([]);
    const cert = s.getPeerX509Certificate();
    if (!cert) {
      // want: no certificate, no id; need: the handshake already refused it
      return then([]);
    }
    if (!s.authorized) {
      this.handshakeFailed(new Error(String(s.authorizationError)), s);
      return;
    }
    if (t.authProvider !== 'x509' || !t.schemes.has('x509')) {
      this.logger.error({ remote: s.remoteAddress }, `X509 Auth provider not found: ${t.authProvider}`);
      s.destroy();
      return;
    }
    let id: string;
    try {
      id = certSubjectRfc2253(cert.raw);
    } catch (e) {
      this.handshakeFailed(e as Error, s);
      return;
    }
    const ids: Id[] = [];
    if (t.x509SuperUser !== undefined && id === t.x509SuperUser) {
      ids.push({ scheme: 'super', id });
      this.logger.info({ remote: s.remoteAddress }, `Authenticated Id '${id}' as super user`);
    }
    ids.push({ scheme: 'x509', id });
    this.logger.info({ remote: s.remoteAddress }, `Authenticated Id '${id}' for Scheme 'x509'`);
    then(ids);
  }

  /** client.portUnification: a first byte 0x16 starts a TLS handshake on this socket, anything else is plaintext. */
  private detect(sock: net.Socket): void {
    const t = this.tlsOpts!;
    const timer = setTimeout(() => sock.destroy(), t.detectionTimeoutMs ?? 5000);
    timer.unref();
    sock.once('close', () => clearTimeout(timer));
    sock.once('data', (first: Buffer) => {
      clearTimeout(timer);
      if (first[0] !== TLS_HANDSHAKE) {
        sock.pause();
        sock.unshift(first);
        this.serve(sock, []);
        sock.resume();
        return;
      }
      // the bytes already read must reach the TLS layer: it reads from a stream that starts with them
      // (a TLSSocket over the socket itself would read its handle and miss them)
      const inner = streamStartingWith(sock, first);
      // a TLS server of its own that does not listen: handed the stream, it runs the handshake and
      // the certificate check as the secure port's server does (one per connection, so that the
      // TLS socket it makes can be tied to this raw socket's address)
      this.tlsServer(() => sock).emit('connection', inner);
    });
  }

  private tlsServer(raw: (s: tls.TLSSocket) => net.Socket): tls.Server {
    const srv = tls.createServer({ ...this.tlsOpts!.options, secureContext: this.secureContext!, handshakeTimeout: 10_000 }, (s) =>
      this.verified(s, (ids) => this.serve(s, ids, raw(s))),
    );
    srv.on('tlsClientError', (e, s) => this.handshakeFailed(e, s));
    return srv;
  }

  /** A connection's byte stream: a four-letter word, or frames for the ZooKeeperServer. */
  private serve(sock: net.Socket, ids: Id[], raw: net.Socket = sock): void {
    const ip = (raw.remoteAddress ?? '').replace(/^::ffff:/, '');
    const frames = new FrameReader();
    let cnxn: Cnxn | null = null;
    let closed = false;
    let first = true;
    const sessionless = setTimeout(() => {
      if (!cnxn || cnxn.state === 'new') {
        this.logger.info({ ip }, 'closing connection that sent no ConnectRequest in time');
        serverMetrics.sessionless_connections_expired.add(1);
        sock.destroy();
      }
    }, this.opts.sessionlessTimeoutMs ?? 10000);
    sessionless.unref();

    const onClose = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(sessionless);
      const zk = this.zk();
      if (cnxn && zk) zk.cnxnClosed(cnxn);
    };
    sock.on('close', onClose);
    sock.on('error', () => sock.destroy());

    // Reading stops while the server throttles this connection (too many requests in flight) or
    // while its replies back up unread (more than two of the largest frames queued); frames already
    // read wait too. A client that lets sixteen of the largest frames pile up anyway (watch events
    // keep coming while it does not read) is cut off.
    let throttled = false;
    let backlogged = false;
    let flushing = false;
    let pumpScheduled = false;
    const paused = (): boolean => throttled || backlogged || flushing;
    const update = (): void => {
      if (paused()) {
        sock.pause();
      } else {
        sock.resume();
        if (!pumpScheduled && frames.buffered > 0) {
          // not from inside the server's call that lifted the throttle
          pumpScheduled = true;
          setImmediate(() => {
            pumpScheduled = false;
            pump();
          });
        }
      }
    };

    /** Hand the complete frames read so far to the server, while the connection is not paused. */
    const pump = (): void => {
      const zk = this.zk();
      if (!cnxn || !zk) return;
      try {
        while (!paused()) {
          if (cnxn.state === 'closed') return;
          if (cnxn.pendingOutput + sock.writableLength > this.outputHighWater) {
            // replies of this batch are not flushed yet: go on after the flush (the write that
            // pushes the socket past the mark pauses this connection until it drains)
            if (!flushing) {
              flushing = true;
              update();
              setImmediate(() => {
                flushing = false;
                update();
              });
            }
            return;
          }
          const f = frames.next(this.opts.maxBuffer);
          if (!f) break;
          zk.receive(cnxn, f);
        }
        zk.flushNow(cnxn);
      } catch (e) {
        this.logger.warn({ ip, err: String(e) }, 'bad frame length, closing connection');
        zk.closeCnxn(cnxn);
        sock.destroy();
      }
    };

    sock.on('data', (chunk: Buffer) => {
      serverMetrics.bytes_received_count.add(chunk.length);
      frames.push(chunk);
      if (first) {
        const v = frames.peekInt();
        if (v === undefined) return;
        first = false;
        const word = fourLetterWord(v);
        if (word) {
          this.answerFourLetterWord(sock, frames, word, raw);
          return;
        }
      }
      const zk = this.zk();
      if (!zk || !zk.running) {
        // not serving: ZooKeeper closes client connections while it has no quorum
        sock.destroy();
        return;
      }
      if (!cnxn) {
        const c: Cnxn = zk.newCnxn({
          remoteAddress: raw.remoteAddress ?? '',
          remotePort: raw.remotePort ?? 0,
          write: (b) => {
            if (sock.destroyed) return false;
            sock.write(b);
            const queued = sock.writableLength;
            if (queued > this.outputLimit) {
              this.logger.warn({ ip, queued }, `client does not read its replies: ${queued} bytes queued, closing the connection`);
              zk.closeCnxn(c);
              sock.destroy();
            } else if (!backlogged && queued > this.outputHighWater) {
              backlogged = true;
              update();
              sock.once('drain', () => {
                backlogged = false;
                update();
              });
            }
            // Nothing queued after the call: the kernel took every byte in it and the buffer is free
            // to be written over. A TLS socket is left out (its handshake can keep the cleartext).
            return queued === 0 && !(sock instanceof tls.TLSSocket);
          },
          close: () => {
            if (!sock.destroyed) sock.end();
            setTimeout(() => sock.destroy(), 1000).unref();
          },
          pause: () => {
            throttled = true;
            update();
          },
          resume: () => {
            throttled = false;
            update();
          },
        });
        cnxn = c;
        for (const id of ids) addId(cnxn, id);
      }
      pump();
    });
  }

  private answerFourLetterWord(sock: net.Socket, frames: FrameReader, word: string, raw: net.Socket = sock): void {
    const finish = (arg?: bigint): void => {
      // the asking connection is itself listed by stat and cons, as in ZooKeeper
      const zk = this.zk();
      const self = zk?.newCnxn({
        remoteAddress: raw.remoteAddress ?? '',
        remotePort: raw.remotePort ?? 0,
        write: () => {},
        close: () => {},
      });
      if (self) self.packetsReceived = 1;
      let text: string;
      try {
        text = runFourLetterWord(word, this.fourlw, arg);
      } catch (e) {
        text = `Error: ${String(e)}\n`;
      } finally {
        if (zk && self) zk.cnxnClosed(self);
      }
      sock.end(text);
    };
    if (word === 'stmk') {
      const tryRead = (): void => {
        const b = frames.take(12);
        if (b) {
          sock.removeAllListeners('data');
          finish(b.readBigInt64BE(4));
        }
      };
      sock.removeAllListeners('data');
      sock.on('data', (c: Buffer) => {
        frames.push(c);
        tryRead();
      });
      tryRead();
      return;
    }
    sock.removeAllListeners('data');
    finish();
  }
}
