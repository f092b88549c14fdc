// A minimal pipelining ZooKeeper client on our own codec, for load and crash tests.
import * as net from 'node:net';
import { JuteReader, JuteWriter } from '../../src/jute/archive';
import { readConnectResponse, readReplyHeader, readStat, readWatcherEvent, Stat, writeConnectRequest } from '../../src/jute/records';
import { OpCode } from '../../src/data/constants';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export class MiniClient {
  private sock!: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private handshaken = false;
  private xid = 1;
  private pending: { xid: number; resolve: (r: { err: number; body: JuteReader; zxid: number }) => void; reject: (e: Error) => void }[] = [];
  private connected!: (v: void) => void;
  private failed!: (e: Error) => void;
  sessionId = 0n;
  passwd: Buffer = Buffer.alloc(16);
  timeout = 0;
  closed = false;
  /** watch notifications received: [type, path] */
  readonly events: [number, string][] = [];
  /** every reply/notification in arrival order, as 'xid' or 'event:type:path' (ordering checks) */
  readonly arrivals: string[] = [];
  /** resolves when the server closes the connection */
  readonly closedPromise: Promise<void>;
  private onClosed!: () => void;

  constructor() {
    this.closedPromise = new Promise((r) => (this.onClosed = r));
  }

  /** `readOnly`: the ConnectRequest's canBeReadOnly flag (a read-only server takes only such clients) */
  static async connect(port: number, timeoutMs = 10000, sessionId = 0n, passwd: Buffer = Buffer.alloc(16), host = '127.0.0.1', readOnly = false): Promise<MiniClient> {
    const c = new MiniClient();
    await c.open(port, timeoutMs, sessionId, passwd, host, readOnly);
    return c;
  }

  private open(port: number, timeoutMs: number, sessionId: bigint, passwd: Buffer, host: string, readOnly: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.connected = resolve;
      this.failed = reject;
      this.sock = net.connect({ host, port });
      this.sock.setNoDelay(true);
      this.sock.on('connect', () => {
        const w = new JuteWriter();
        const at = w.beginFrame();
        writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: timeoutMs, sessionId, passwd, readOnly });
        w.endFrame(at);
        this.sock.write(w.finish());
      });
      this.sock.on('data', (d: Buffer) => this.onData(d));
      const fail = (): void => {
        this.closed = true;
        this.onClosed();
        const e = new Error('connection closed');
        this.failed(e);
        for (const p of this.pending.splice(0)) p.reject(e);
      };
      this.sock.on('close', fail);
      this.sock.on('error', () => this.sock.destroy());
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 4) {
      const len = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + len) return;
      const frame = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      const r = new JuteReader(frame);
      if (!this.handshaken) {
        const resp = readConnectResponse(r);
        this.handshaken = true;
        this.sessionId = resp.sessionId;
        this.passwd = resp.passwd;
        this.timeout = resp.timeOut;
        this.connected();
        continue;
      }
      const h = readReplyHeader(r);
      if (h.xid === -1) {
        const ev = readWatcherEvent(r);
        this.events.push([ev.type, ev.path]);
        this.arrivals.push(`event:${ev.type}:${ev.path}`);
        continue;
      }
      if (h.xid === -2) continue;
      this.arrivals.push(String(h.xid));
      const p = this.pending.shift();
      if (p) p.resolve({ err: h.err, body: r, zxid: h.zxid });
    }
  }

  /** Send raw bytes (bad-input tests). */
  sendRaw(b: Buffer): void {
    this.sock.write(b);
  }

  call(type: number, body: (w: JuteWriter) => void, xidOverride?: number): Promise<{ err: number; body: JuteReader; zxid: number }> {
    const w = new JuteWriter();
    const at = w.beginFrame();
    const xid = xidOverride ?? this.xid++;
    w.writeInt(xid);
    w.writeInt(type);
    body(w);
    w.endFrame(at);
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'));
      this.pending.push({ xid, resolve, reject });
      this.sock.write(w.finish());
    });
  }

  async create(path: string, data: Buffer, flags = 0): Promise<number> {
    return (await this.create2(path, data, flags, OpCode.create)).err;
  }

  /** create with any opcode/ACL; returns err and the reply body reader */
  async create2(
    path: string,
    data: Buffer | null,
    flags = 0,
    op: number = OpCode.create2,
    acl: { perms: number; id: { scheme: string; id: string } }[] = OPEN,
    ttl?: number,
  ): Promise<{ err: number; body: JuteReader }> {
    return this.call(op, (w) => {
      w.writeString(path);
      w.writeBuffer(data);
      w.writeVector(acl, (x, a) => {
        x.writeInt(a.perms);
        x.writeString(a.id.scheme);
        x.writeString(a.id.id);
      });
      w.writeInt(flags);
      if (ttl !== undefined) w.writeLong(ttl);
    });
  }

  async setData(path: string, data: Buffer, version = -1): Promise<number> {
    const r = await this.call(OpCode.setData, (w) => {
      w.writeString(path);
      w.writeBuffer(data);
      w.writeInt(version);
    });
    return r.err;
  }

  async getData(path: string): Promise<{ err: number; data: Buffer | null; stat: Stat | null }> {
    const r = await this.call(OpCode.getData, (w) => {
      w.writeString(path);
      w.writeBool(false);
    });
    if (r.err !== 0) return { err: r.err, data: null, stat: null };
    const data = r.body.readBuffer();
    return { err: 0, data, stat: readStat(r.body) };
  }

  /** sync(path): resolves with the error code once the server answered */
  async sync(path: string): Promise<number> {
    return (await this.call(OpCode.sync, (w) => void w.writeString(path))).err;
  }

  async getChildren(path: string): Promise<string[]> {
    const r = await this.call(OpCode.getChildren, (w) => {
      w.writeString(path);
      w.writeBool(false);
    });
    if (r.err !== 0) throw new Error(`getChildren ${path}: ${r.err}`);
    return r.body.readVector((x) => x.readStr()) ?? [];
  }

  /** Ping every third of the session timeout, as the Java client does when idle; returns the stop. */
  startPinging(): () => void {
    const t = setInterval(() => {
      if (this.closed) return;
      const w = new JuteWriter(16);
      const at = w.beginFrame();
      w.writeInt(-2).writeInt(OpCode.ping);
      w.endFrame(at);
      this.sendRaw(w.finish());
    }, Math.floor(this.timeout / 3));
    return () => clearInterval(t);
  }

  close(): void {
    this.closed = true;
    this.sock.destroy();
  }
}
