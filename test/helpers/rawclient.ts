// A small promise-based ZooKeeper client speaking the wire protocol directly over net.Socket with
// our jute codec. Built for protocol tests: exact control of every byte sent, every reply header
// visible, notifications collected in arrival order, and raw access for bad-input tests.
import * as net from 'node:net';
import { JuteReader, JuteWriter } from '../../src/jute/archive';
import {
  ACL,
  ConnectResponse,
  readACLs,
  readConnectResponse,
  readReplyHeader,
  readStat,
  readWatcherEvent,
  ReplyHeader,
  Stat,
  WatcherEvent,
  writeACLs,
  writeConnectRequest,
  writeMultiHeader,
} from '../../src/jute/records';
import { OpCode, Xid } from '../../src/data/constants';
import { BodyWriter, createBody, FrameSplitter, pathBool, pathInt, pathOnly } from '../../src/client/requests';

export const OPEN_ACL_UNSAFE: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
export const READ_ACL_UNSAFE: ACL[] = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
export const CREATOR_ALL_ACL: ACL[] = [{ perms: 31, id: { scheme: 'auth', id: '' } }];

// the request bodies are the shell client's (src/client/requests.ts); tests import them from here
export type { BodyWriter };
export { createBody, pathBool, pathInt, pathOnly };

export interface Reply {
  header: ReplyHeader;
  reader: JuteReader;
  /** the frame payload (header included) */
  frame: Buffer;
}

export interface ConnectOptions {
  host?: string;
  /** the client's own address (another loopback address, e.g. 127.0.0.2) */
  localAddress?: string;
  /** requested session timeout, ms */
  timeout?: number;
  sessionId?: bigint;
  passwd?: Buffer;
  lastZxidSeen?: number;
  /** the trailing readOnly byte; `null` = an old client that does not send it */
  readOnly?: boolean | null;
  /** ms to wait for the ConnectResponse */
  connectTimeoutMs?: number;
}

/** One op of a multi / multiRead request. */
export interface MultiOp {
  type: number;
  write: BodyWriter;
}

/** One result of a multi / multiRead response. */
export interface MultiResult {
  type: number;
  err: number;
  path?: string;
  stat?: Stat;
  data?: Buffer | null;
  children?: string[];
}

const aclOr = (acl: ACL[] | null | undefined): ACL[] | null => (acl === undefined ? OPEN_ACL_UNSAFE : acl);
type Data = Buffer | string | null;
const toBuf = (d: Data): Buffer | null => (typeof d === 'string' ? Buffer.from(d) : d);

/** Builders for multi ops. */
export const op = {
  create(path: string, data: Data = Buffer.alloc(0), flags = 0, acl?: ACL[] | null, opcode: number = OpCode.create): MultiOp {
    return { type: opcode, write: createBody(path, toBuf(data), aclOr(acl), flags) };
  },
  create2(path: string, data: Data = Buffer.alloc(0), flags = 0, acl?: ACL[] | null): MultiOp {
    return { type: OpCode.create2, write: createBody(path, toBuf(data), aclOr(acl), flags) };
  },
  createContainer(path: string, data: Data = Buffer.alloc(0), acl?: ACL[] | null): MultiOp {
    return { type: OpCode.createContainer, write: createBody(path, toBuf(data), aclOr(acl), 4) };
  },
  createTTL(path: string, data: Data, ttl: number, flags = 5, acl?: ACL[] | null): MultiOp {
    return { type: OpCode.createTTL, write: createBody(path, toBuf(data), aclOr(acl), flags, ttl) };
  },
  delete(path: string, version = -1): MultiOp {
    return { type: OpCode.delete, write: pathInt(path, version) };
  },
  setData(path: string, data: Data, version = -1): MultiOp {
    return {
      type: OpCode.setData,
      write: (w) => {
        w.writeString(path);
        w.writeBuffer(toBuf(data));
        w.writeInt(version);
      },
    };
  },
  check(path: string, version: number): MultiOp {
    return { type: OpCode.check, write: pathInt(path, version) };
  },
  getData(path: string, watch = false): MultiOp {
    return { type: OpCode.getData, write: pathBool(path, watch) };
  },
  getChildren(path: string, watch = false): MultiOp {
    return { type: OpCode.getChildren, write: pathBool(path, watch) };
  },
};

/** MultiOperationRecord bytes: (MultiHeader(type,false,-1) + record)* + MultiHeader(-1,true,-1). */
export function writeMulti(w: JuteWriter, ops: readonly MultiOp[]): void {
  for (const o of ops) {
    writeMultiHeader(w, o.type, false, -1);
    o.write(w);
  }
  writeMultiHeader(w, -1, true, -1);
}

/** Parse a MultiResponse body. */
export function readMultiResponse(r: JuteReader): MultiResult[] {
  const out: MultiResult[] = [];
  for (;;) {
    const type = r.readInt();
    const done = r.readBool();
    const err = r.readInt();
    if (done) break;
    switch (type) {
      case -1:
        out.push({ type, err: r.readInt() });
        break;
      case OpCode.create:
        out.push({ type, err, path: r.readStr() });
        break;
      case OpCode.create2:
        out.push({ type, err, path: r.readStr(), stat: readStat(r) });
        break;
      case OpCode.delete:
      case OpCode.check:
        out.push({ type, err });
        break;
      case OpCode.setData:
        out.push({ type, err, stat: readStat(r) });
        break;
      case OpCode.getData: {
        const data = r.readBuffer();
        out.push({ type, err, data, stat: readStat(r) });
        break;
      }
      case OpCode.getChildren:
        out.push({ type, err, children: r.readVector((x) => x.readStr()) ?? [] });
        break;
      default:
        throw new Error(`unexpected multi result type ${type}`);
    }
  }
  return out;
}

interface Pending {
  xid: number;
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `f` (which may answer asynchronously, e.g. from a four-letter word) until true; throws after `ms`. */
export async function until(f: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await sleep(5);
  }
}

export class RawClient {
  readonly sock: net.Socket;
  private readonly frames = new FrameSplitter();
  private handshaken = false;
  private nextXid = 1;
  private readonly pending: Pending[] = [];
  /** ConnectResponse as parsed, and its raw payload (to check the optional readOnly byte) */
  connectResponse: ConnectResponse | null = null;
  connectResponseRaw: Buffer | null = null;
  sessionId = 0n;
  passwd: Buffer = Buffer.alloc(16);
  timeout = 0;
  /** highest zxid seen in reply headers (for setWatches relativeZxid / lastZxidSeen) */
  lastZxid = 0;
  /** watch notifications, in arrival order */
  readonly events: WatcherEvent[] = [];
  /** zxid field of each notification header, parallel to `events` */
  readonly eventZxids: number[] = [];
  /** replies ('r:<xid>:<err>') and notifications ('e:<type>:<path>') in arrival order */
  readonly arrivals: string[] = [];
  /** replies whose xid was not the oldest outstanding request (ZooKeeper's "Xid out of order") */
  readonly outOfOrder: number[] = [];
  /** frames that matched no pending request */
  readonly unexpected: Buffer[] = [];
  isClosed = false;
  /** resolves when the socket is closed (by either side) */
  readonly closed: Promise<void>;
  private onClosed!: () => void;
  private handshakeDone!: (r: ConnectResponse) => void;
  private handshakeFailed!: (e: Error) => void;
  readonly handshake: Promise<ConnectResponse>;

  private constructor(port: number, host: string, localAddress?: string) {
    this.closed = new Promise((r) => (this.onClosed = r));
    this.handshake = new Promise((res, rej) => {
      this.handshakeDone = res;
      this.handshakeFailed = rej;
    });
    this.handshake.catch(() => {});
    this.sock = net.connect({ host, port, localAddress });
    this.sock.setNoDelay(true);
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('error', () => this.sock.destroy());
    this.sock.on('close', () => {
      this.isClosed = true;
      const e = new Error('connection closed');
      this.handshakeFailed(e);
      for (const p of this.pending.splice(0)) p.reject(e);
      this.onClosed();
    });
  }

  /** Open a socket without sending anything (raw / bad-input tests). */
  static async open(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawClient> {
    const c = new RawClient(port, host, localAddress);
    await new Promise<void>((resolve, reject) => {
      c.sock.once('connect', () => resolve());
      c.sock.once('error', reject);
    });
    return c;
  }

  /** Connect and complete the session handshake. Rejects if the server closes instead. */
  static async connect(port: number, opts: ConnectOptions = {}): Promise<RawClient> {
    const c = await RawClient.open(port, opts.host, opts.localAddress);
    c.sendConnect(opts);
    await c.waitHandshake(opts.connectTimeoutMs ?? 5000);
    return c;
  }

  /** Send a ConnectRequest frame. */
  sendConnect(opts: ConnectOptions = {}): void {
    const w = new JuteWriter(64);
    const at = w.beginFrame();
    writeConnectRequest(w, {
      protocolVersion: 0,
      lastZxidSeen: opts.lastZxidSeen ?? 0,
      timeOut: opts.timeout ?? 30000,
      sessionId: opts.sessionId ?? 0n,
      passwd: opts.passwd ?? Buffer.alloc(16),
      readOnly: opts.readOnly === null ? undefined : (opts.readOnly ?? false),
    });
    w.endFrame(at);
    this.sendBytes(w.finish());
  }

  async waitHandshake(ms = 5000): Promise<ConnectResponse> {
    let t: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.handshake,
        new Promise<never>((_, rej) => {
          t = setTimeout(() => rej(new Error('no ConnectResponse')), ms);
        }),
      ]);
    } finally {
      clearTimeout(t);
    }
  }

  /** Reconnect options for this client's session (id + password). */
  sessionOpts(extra: ConnectOptions = {}): ConnectOptions {
    return { sessionId: this.sessionId, passwd: this.passwd, timeout: this.timeout, ...extra };
  }

  private onData(d: Buffer): void {
    for (const frame of this.frames.push(d)) this.onFrame(frame);
  }

  private onFrame(frame: Buffer): void {
    const r = new JuteReader(frame);
    if (!this.handshaken) {
      this.handshaken = true;
      this.connectResponseRaw = frame;
      const resp = readConnectResponse(r);
      this.connectResponse = resp;
      this.sessionId = resp.sessionId;
      this.passwd = resp.passwd;
      this.timeout = resp.timeOut;
      this.handshakeDone(resp);
      return;
    }
    const header = readReplyHeader(r);
    if (header.xid === Xid.NOTIFICATION) {
      const ev = readWatcherEvent(r);
      this.events.push(ev);
      this.eventZxids.push(header.zxid);
      this.arrivals.push(`e:${ev.type}:${ev.path}`);
      return;
    }
    if (header.zxid > this.lastZxid) this.lastZxid = header.zxid;
    this.arrivals.push(`r:${header.xid}:${header.err}`);
    const i = this.pending.findIndex((p) => p.xid === header.xid);
    if (i < 0) {
      this.unexpected.push(frame);
      return;
    }
    // ping and auth replies are exempt from the ordering check, as in ClientCnxn
    if (i !== 0 && header.xid !== Xid.PING && header.xid !== Xid.AUTH) this.outOfOrder.push(header.xid);
    const [p] = this.pending.splice(i, 1);
    p.resolve({ header, reader: r, frame });
  }

  /** Write raw bytes to the socket. */
  sendBytes(b: Buffer): void {
    if (!this.sock.destroyed) this.sock.write(b);
  }

  /** Send a request frame (RequestHeader + body) without waiting. */
  send(type: number, writeBody?: BodyWriter, xid?: number): Promise<Reply> {
    const x = xid ?? this.nextXid++;
    const w = new JuteWriter(128);
    const at = w.beginFrame();
    w.writeInt(x);
    w.writeInt(type);
    writeBody?.(w);
    w.endFrame(at);
    return new Promise<Reply>((resolve, reject) => {
      if (this.isClosed) return reject(new Error('connection closed'));
      this.pending.push({ xid: x, resolve, reject });
      this.sendBytes(w.finish());
    });
  }

  /** Register interest in the reply with `xid` without sending anything (the bytes go by sendBytes). */
  awaitReply(xid: number): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      if (this.isClosed) return reject(new Error('connection closed'));
      this.pending.push({ xid, resolve, reject });
    });
  }

  /** Send a request and wait for its reply. Several calls may be in flight (pipelining). */
  call(type: number, xid?: number, writeBody?: BodyWriter): Promise<Reply> {
    return this.send(type, writeBody, xid);
  }

  /** Wait (polling) for a notification matching `pred`; returns it. */
  async waitFor(pred: (e: WatcherEvent) => boolean, ms = 5000): Promise<WatcherEvent> {
    let found: WatcherEvent | undefined;
    await until(() => (found = this.events.find(pred)) !== undefined, ms, 'notification');
    return found!;
  }

  /** Wait until at least `n` notifications have arrived. */
  async waitEvents(n: number, ms = 5000): Promise<WatcherEvent[]> {
    await until(() => this.events.length >= n, ms, `${n} notifications`);
    return this.events;
  }

  /** Resolves true if the server closes the connection within `ms`, else false. */
  async closedWithin(ms: number): Promise<boolean> {
    let t: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.closed.then(() => true), new Promise<boolean>((res) => (t = setTimeout(() => res(false), ms)))]);
    clearTimeout(t);
    return r;
  }

  // ------------------------------------------------------------------ convenience ops
  ping(): Promise<Reply> {
    return this.send(OpCode.ping, undefined, Xid.PING);
  }

  async auth(scheme: string, auth: string | Buffer): Promise<ReplyHeader> {
    const r = await this.send(
      OpCode.auth,
      (w) => {
        w.writeInt(0);
        w.writeString(scheme);
        w.writeBuffer(typeof auth === 'string' ? Buffer.from(auth) : auth);
      },
      Xid.AUTH,
    );
    return r.header;
  }

  async create(
    path: string,
    data: Buffer | string | null = Buffer.alloc(0),
    acl: ACL[] | null = OPEN_ACL_UNSAFE,
    flags = 0,
    opcode: number = OpCode.create,
    ttl?: number,
  ): Promise<{ err: number; zxid: number; path?: string; stat?: Stat }> {
    const d = typeof data === 'string' ? Buffer.from(data) : data;
    const r = await this.send(opcode, createBody(path, d, acl, flags, ttl));
    if (r.header.err !== 0) return { err: r.header.err, zxid: r.header.zxid };
    const p = r.reader.readStr();
    const withStat = opcode === OpCode.create2 || opcode === OpCode.createContainer || opcode === OpCode.createTTL;
    return { err: 0, zxid: r.header.zxid, path: p, stat: withStat ? readStat(r.reader) : undefined };
  }

  create2(path: string, data: Buffer | string | null = Buffer.alloc(0), flags = 0, acl: ACL[] | null = OPEN_ACL_UNSAFE) {
    return this.create(path, data, acl, flags, OpCode.create2);
  }

  createTTL(path: string, data: Buffer | string | null, ttl: number, flags = 5, acl: ACL[] | null = OPEN_ACL_UNSAFE) {
    return this.create(path, data, acl, flags, OpCode.createTTL, ttl);
  }

  createContainer(path: string, data: Buffer | string | null = Buffer.alloc(0), acl: ACL[] | null = OPEN_ACL_UNSAFE) {
    return this.create(path, data, acl, 4, OpCode.createContainer);
  }

  async getData(path: string, watch = false): Promise<{ err: number; zxid: number; data?: Buffer | null; stat?: Stat }> {
    const r = await this.send(OpCode.getData, pathBool(path, watch));
    if (r.header.err !== 0) return { err: r.header.err, zxid: r.header.zxid };
    const data = r.reader.readBuffer();
    return { err: 0, zxid: r.header.zxid, data, stat: readStat(r.reader) };
  }

  async setData(path: string, data: Buffer | string | null, version = -1): Promise<{ err: number; zxid: number; stat?: Stat }> {
    const d = typeof data === 'string' ? Buffer.from(data) : data;
    const r = await this.send(OpCode.setData, (w) => {
      w.writeString(path);
      w.writeBuffer(d);
      w.writeInt(version);
    });
    if (r.header.err !== 0) return { err: r.header.err, zxid: r.header.zxid };
    return { err: 0, zxid: r.header.zxid, stat: readStat(r.reader) };
  }

  async exists(path: string, watch = false): Promise<{ err: number; zxid: number; stat?: Stat }> {
    const r = await this.send(OpCode.exists, pathBool(path, watch));
    if (r.header.err !== 0) return { err: r.header.err, zxid: r.header.zxid };
    return { err: 0, zxid: r.header.zxid, stat: readStat(r.reader) };
  }

  async delete(path: string, version = -1): Promise<{ err: number; zxid: number; bodyLength: number }> {
    const r = await this.send(OpCode.delete, pathInt(path, version));
    return { err: r.header.err, zxid: r.header.zxid, bodyLength: r.reader.remaining() };
  }

  async getChildren(path: string, watch = false): Promise<{ err: number; zxid: number; children?: string[] }> {
    const r = await this.send(OpCode.getChildren, pathBool(path, watch));
    if (r.header.err !== 0) return { err: r.header.err, zxid: r.header.zxid };
    return { err: 0, zxid: r.header.zxid, children: r.reader.readVector((x) => x.readStr()) ?? [] };
  }

  async getChildren2(path: string, watch = false): Promise<{ err: number; zxid: number; children?: string[]; stat?: Stat }> {
    const r = await this.send(OpCode.getChildren2, pathBool(path, watch));
    if (r.header.err !== 0) return { err: r.header.err, zxid: r.header.zxid };
    const children = r.reader.readVector((x) => x.readStr()) ?? [];
    return { err: 0, zxid: r.header.zxid, children, stat: readStat(r.reader) };
  }

  async getACL(path: string): Promise<{ err: number; acl?: ACL[] | null; stat?: Stat }> {
    const r = await this.send(OpCode.getACL, pathOnly(path));
    if (r.header.err !== 0) return { err: r.header.err };
    const acl = readACLs(r.reader);
    return { err: 0, acl, stat: readStat(r.reader) };
  }

  async setACL(path: string, acl: ACL[] | null, version = -1): Promise<{ err: number; zxid: number; stat?: Stat }> {
    const r = await this.send(OpCode.setACL, (w) => {
      w.writeString(path);
      writeACLs(w, acl);
      w.writeInt(version);
    });
    if (r.header.err !== 0) return { err: r.header.err, zxid: r.header.zxid };
    return { err: 0, zxid: r.header.zxid, stat: readStat(r.reader) };
  }

  async multi(ops: readonly MultiOp[], opcode: number = OpCode.multi): Promise<{ err: number; zxid: number; results: MultiResult[] }> {
    const r = await this.send(opcode, (w) => writeMulti(w, ops));
    if (r.header.err !== 0) return { err: r.header.err, zxid: r.header.zxid, results: [] };
    return { err: 0, zxid: r.header.zxid, results: readMultiResponse(r.reader) };
  }

  multiRead(ops: readonly MultiOp[]) {
    return this.multi(ops, OpCode.multiRead);
  }

  async sync(path: string): Promise<{ err: number; path?: string }> {
    const r = await this.send(OpCode.sync, pathOnly(path));
    if (r.header.err !== 0) return { err: r.header.err };
    return { err: 0, path: r.reader.readStr() };
  }

  /** addWatch; `body` is the raw reply body (ZooKeeper sends ErrorResponse{0}: 4 zero bytes). */
  async addWatch(path: string, mode: number): Promise<{ err: number; body: Buffer }> {
    const r = await this.send(OpCode.addWatch, pathInt(path, mode));
    return { err: r.header.err, body: r.frame.subarray(r.reader.offset) };
  }

  async removeWatches(path: string, type: number): Promise<{ err: number }> {
    const r = await this.send(OpCode.removeWatches, pathInt(path, type));
    return { err: r.header.err };
  }

  async checkWatches(path: string, type: number): Promise<{ err: number }> {
    const r = await this.send(OpCode.checkWatches, pathInt(path, type));
    return { err: r.header.err };
  }

  /** setWatches (101), or setWatches2 (105) when persistent lists are given. xid -8. */
  async setWatches(
    relativeZxid: number,
    dataWatches: string[],
    existWatches: string[],
    childWatches: string[],
    persistent?: string[],
    recursive?: string[],
  ): Promise<ReplyHeader> {
    const v2 = persistent !== undefined || recursive !== undefined;
    const strs = (w: JuteWriter, l: string[]): void => void w.writeVector(l, (x, s) => x.writeString(s));
    const r = await this.send(
      v2 ? OpCode.setWatches2 : OpCode.setWatches,
      (w) => {
        w.writeLong(relativeZxid);
        strs(w, dataWatches);
        strs(w, existWatches);
        strs(w, childWatches);
        if (v2) {
          strs(w, persistent ?? []);
          strs(w, recursive ?? []);
        }
      },
      Xid.SET_WATCHES,
    );
    return r.header;
  }

  async whoAmI(): Promise<{ err: number; infos?: { scheme: string; user: string }[] }> {
    const r = await this.send(OpCode.whoAmI);
    if (r.header.err !== 0) return { err: r.header.err };
    return { err: 0, infos: r.reader.readVector((x) => ({ scheme: x.readStr(), user: x.readStr() })) ?? [] };
  }

  async getEphemerals(prefix: string | null): Promise<{ err: number; paths?: string[] }> {
    const r = await this.send(OpCode.getEphemerals, pathOnly(prefix));
    if (r.header.err !== 0) return { err: r.header.err };
    return { err: 0, paths: r.reader.readVector((x) => x.readStr()) ?? [] };
  }

  async getAllChildrenNumber(path: string): Promise<{ err: number; count?: number }> {
    const r = await this.send(OpCode.getAllChildrenNumber, pathOnly(path));
    if (r.header.err !== 0) return { err: r.header.err };
    return { err: 0, count: r.reader.readInt() };
  }

  /** closeSession (-11): waits for the reply and for the server to close the socket. */
  async close(ms = 5000): Promise<ReplyHeader | null> {
    if (this.isClosed) return null;
    const reply = this.send(OpCode.closeSession).then(
      (r) => r.header,
      () => null,
    );
    const h = await reply;
    if (!(await this.closedWithin(ms))) this.destroy();
    return h;
  }

  /** Drop the socket without closing the session. */
  destroy(): void {
    this.sock.destroy();
  }
}
