// The client-port adapter (ZooKeeper's NIOServerCnxnFactory): accepts sockets, cuts the byte stream
// into frames, answers four-letter words, and hands frames to the ZooKeeperServer.
import { serverMetrics } from '../util/metrics';
import * as net from 'node:net';
import { FourLetterContext, fourLetterWord, runFourLetterWord } from './fourlw';
import { Cnxn, Logger, ZooKeeperServer } from './zkserver';

export interface ListenOptions {
  host: string;
  port: number;
  maxClientCnxns: number;
  maxBuffer: number;
  backlog?: number;
  /** close connections that have not sent a ConnectRequest within this many ms */
  sessionlessTimeoutMs?: number;
}

/** Splits a stream into length-prefixed frames; any chunking of the input yields the same frames. */
export class FrameReader {
  private chunks: Buffer[] = [];
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
    return this.chunks[0].readInt32BE(0);
  }

  private compact(): void {
    if (this.chunks.length > 1) {
      this.chunks = [Buffer.concat(this.chunks, this.size)];
    }
  }

  /**
   * Next frame payload, null if incomplete. Throws on a length outside 0..maxBuffer.
   */
  next(maxBuffer: number): Buffer | null {
    if (this.size < 4) return null;
    this.compact();
    const b = this.chunks[0];
    const len = b.readInt32BE(0);
    if (len < 0 || len > maxBuffer) throw new RangeError(`Len error ${len}`);
    if (this.size < 4 + len) return null;
    const frame = b.subarray(4, 4 + len);
    const rest = b.subarray(4 + len);
    this.size -= 4 + len;
    this.chunks = rest.length ? [rest] : [];
    return frame;
  }

  /** Consume n raw bytes (4lw). */
  take(n: number): Buffer | null {
    if (this.size < n) return null;
    this.compact();
    const b = this.chunks[0];
    const out = b.subarray(0, n);
    const rest = b.subarray(n);
    this.size -= n;
    this.chunks = rest.length ? [rest] : [];
    return out;
  }
}

export class ClientListener {
  private server: net.Server | null = null;
  private readonly perIp = new Map<string, number>();
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly zk: () => ZooKeeperServer | null,
    private readonly fourlw: FourLetterContext,
    private readonly opts: ListenOptions,
    private readonly logger: Logger,
  ) {}

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ noDelay: true }, (s) => this.accept(s));
      srv.once('error', reject);
      srv.listen({ host: this.opts.host, port: this.opts.port, backlog: this.opts.backlog }, () => {
        srv.removeListener('error', reject);
        srv.on('error', (e) => this.logger.warn({ err: String(e) }, 'client listener error'));
        resolve();
      });
      this.server = srv;
    });
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

  private accept(sock: net.Socket): void {
    const ip = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    const max = this.opts.maxClientCnxns;
    const n = this.perIp.get(ip) ?? 0;
    if (max > 0 && n >= max) {
      this.logger.warn({ ip, max }, `Too many connections from /${ip} - max is ${max}`);
      sock.destroy();
      return;
    }
    this.perIp.set(ip, n + 1);
    this.sockets.add(sock);
    sock.setNoDelay(true);
    const frames = new FrameReader();
    let cnxn: Cnxn | null = null;
    let closed = false;
    let first = true;
    const sessionless = setTimeout(() => {
      if (!cnxn || cnxn.state === 'new') {
        this.logger.info({ ip }, 'closing connection that sent no ConnectRequest in time');
        sock.destroy();
      }
    }, this.opts.sessionlessTimeoutMs ?? 10000);
    sessionless.unref();

    const onClose = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(sessionless);
      this.sockets.delete(sock);
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
      const zk = this.zk();
      if (cnxn && zk) zk.cnxnClosed(cnxn);
    };
    sock.on('close', onClose);
    sock.on('error', () => sock.destroy());

    sock.on('data', (chunk: Buffer) => {
      serverMetrics.bytes_received_count.add(chunk.length);
      frames.push(chunk);
      if (first) {
        const v = frames.peekInt();
        if (v === undefined) return;
        first = false;
        const word = fourLetterWord(v);
        if (word) {
          this.answerFourLetterWord(sock, frames, word);
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
        cnxn = zk.newCnxn({
          remoteAddress: sock.remoteAddress ?? '',
          remotePort: sock.remotePort ?? 0,
          write: (b) => {
            if (!sock.destroyed) sock.write(b);
          },
          close: () => {
            if (!sock.destroyed) sock.end();
            setTimeout(() => sock.destroy(), 1000).unref();
          },
          pause: () => sock.pause(),
          resume: () => sock.resume(),
        });
      }
      try {
        for (;;) {
          if (cnxn.state === 'closed') return;
          const f = frames.next(this.opts.maxBuffer);
          if (!f) break;
          zk.receive(cnxn, f);
        }
      } catch (e) {
        this.logger.warn({ ip, err: String(e) }, 'bad frame length, closing connection');
        zk.closeCnxn(cnxn);
        sock.destroy();
      }
    });
  }

  private answerFourLetterWord(sock: net.Socket, frames: FrameReader, word: string): void {
    const finish = (arg?: bigint): void => {
      // the asking connection is itself listed by stat and cons, as in ZooKeeper
      const zk = this.zk();
      const self = zk?.newCnxn({
        remoteAddress: sock.remoteAddress ?? '',
        remotePort: sock.remotePort ?? 0,
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
