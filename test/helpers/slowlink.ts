// A slow network link for tests, as a TCP proxy on loopback: what it reads from either side it
// delivers to the other `delayMs` later, in order, and while `stall()` holds it delivers nothing
// (a link whose packets are lost and retransmitted, a congested switch, a cross-zone hop that
// slows down). Nothing is dropped: a stall ends with everything held delivered at once. No root,
// no netem: a peer's zoo.cfg names the proxy's port instead of the other peer's.
import * as net from 'node:net';

interface Held {
  due: number;
  buf: Buffer | null; // null: the sender ended its side
}

/** One direction of one proxied connection. */
class Pipe {
  private held: Held[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly link: SlowLink,
    private readonly to: net.Socket,
  ) {}

  push(buf: Buffer | null): void {
    this.held.push({ due: Date.now() + this.link.delayMs, buf });
    this.pump();
  }

  pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.link.stalled) return;
    const now = Date.now();
    while (this.held.length > 0 && this.held[0].due <= now) {
      const h = this.held.shift()!;
      if (this.to.destroyed) return;
      if (h.buf) this.to.write(h.buf);
      else this.to.end();
    }
    if (this.held.length > 0) this.timer = setTimeout(() => this.pump(), this.held[0].due - now);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.held = [];
  }
}

export class SlowLink {
  /** one-way delay of every byte, each direction */
  delayMs = 0;
  stalled = false;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly pipes = new Set<Pipe>();

  constructor(readonly targetPort: number) {}

  /** Listen on `port` of 127.0.0.1 (0: one the OS picks); returns the port. */
  async listen(port = 0): Promise<number> {
    const server = net.createServer((a) => this.accept(a));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.address() as net.AddressInfo).port;
  }

  private accept(a: net.Socket): void {
    const b = net.connect(this.targetPort, '127.0.0.1');
    const ab = new Pipe(this, b);
    const ba = new Pipe(this, a);
    for (const [s, p] of [
      [a, ab],
      [b, ba],
    ] as const) {
      this.sockets.add(s);
      this.pipes.add(p);
      s.setNoDelay(true);
      s.on('data', (d: Buffer) => p.push(d));
      s.on('end', () => p.push(null));
      s.on('error', () => {});
      s.on('close', () => {
        // a reset (or a close after both ends finished) ends the whole connection
        this.sockets.delete(s);
        this.pipes.delete(p);
        p.stop();
        a.destroy();
        b.destroy();
      });
    }
  }

  /** Hold everything from now on until `release()`. */
  stall(): void {
    this.stalled = true;
  }

  release(): void {
    this.stalled = false;
    for (const p of this.pipes) p.pump();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
