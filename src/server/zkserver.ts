// ZooKeeperServer: the request pipeline of a standalone server.
//   receive (framing, handshake, decode) -> prep (txn for writes) -> log (durable, group commit)
//   -> final (apply to the DataTree, reply).
// Reads run when they reach the head of their connection's queue, so a client always sees its own
// earlier writes and replies leave in request order. No sockets here: connections are `Cnxn`s.
import { serverMetrics } from '../util/metrics';
import { JuteReader, JuteWriter, JuteError } from '../jute/archive';
import {
  Id,
  readAuthPacket,
  readConnectRequest,
  readPathType,
  readPathWatch,
  readSetWatches,
  TxnHeader,
  writeACLs,
  writeConnectResponse,
  writeMultiHeader,
  writeReplyHeader,
  writeStat,
  writeWatcherEvent,
} from '../jute/records';
import { checkACL, digestOf, hasPerm } from './auth';
import { AddWatchMode, Err, KeeperError, OP_NAMES, OpCode, Perms, WatcherType, Xid } from '../data/constants';
import { DataTree, ProcessResult } from '../data/datatree';
import { PrepRequestProcessor, readMultiOps } from './prep';
import { generatePasswd, SessionTracker } from '../data/session';
import { Txn } from '../data/txn';
import { Watcher } from '../data/watches';

export interface ServerSettings {
  serverId: number;
  tickTime: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  maxBuffer: number;
  /** a connection with this many requests in flight is not read until half of them are answered */
  globalOutstandingLimit?: number;
  extendedTypesEnabled: boolean;
  skipACL: boolean;
  reconfigEnabled: boolean;
  superDigest?: string;
  containerCheckIntervalMs: number;
  containerMaxPerMinute: number;
}

/** Where txns go before they are applied: memory (nothing), the txn log, or Zab. */
export interface TxnLogSink {
  append(hdr: TxnHeader, txn: Txn): void;
  /** Resolves once everything appended before the call is durable. */
  commit(): Promise<void>;
}

export class MemoryLog implements TxnLogSink {
  append(): void {}
  commit(): Promise<void> {
    return Promise.resolve();
  }
}

/** A client connection as the protocol sees it; the net adapter implements the I/O. */
export interface CnxnIO {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Queue bytes for the socket (one frame or more). */
  write(buf: Buffer): void;
  /** Flush what is queued, then close. */
  close(): void;
  /** Stop / resume reading from the socket (throttling). */
  pause?(): void;
  resume?(): void;
}

export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
}

const silentLogger: Logger = { info() {}, warn() {}, debug() {} };

interface Request {
  xid: number;
  type: number;
  body: JuteReader;
  /** set when the reply is ready (or the request needs none) */
  done: boolean;
  reply: Buffer | null;
  isWrite: boolean;
  started: number;
  /** close the connection after this reply */
  closeAfter: boolean;
}

interface PendingTxn {
  hdr: TxnHeader;
  txn: Txn;
  cnxn: Cnxn | null;
  req: Request | null;
}

/** Per-connection protocol state. */
export class Cnxn implements Watcher {
  sessionId = 0n;
  sessionTimeout = 0;
  authIds: Id[] = [];
  /** 'new' until the ConnectRequest, 'handshake' while the session is being created */
  state: 'new' | 'handshake' | 'open' | 'closed' = 'new';
  /** whether the client sent the readOnly byte */
  sentReadOnly = false;
  /** reading is paused: too many requests in flight */
  throttled = false;
  readonly queue: Request[] = [];
  /** frames that arrived while the handshake was pending */
  held: Buffer[] = [];
  readonly established = Date.now();
  packetsReceived = 0;
  packetsSent = 0;
  lastOp = 'NA';
  lastCxid = -1;
  lastZxid = -1;
  lastResponseTime = 0;
  lastLatency = 0;
  minLatency = Number.MAX_SAFE_INTEGER;
  maxLatency = 0;
  totalLatency = 0;
  latencyCount = 0;
  private out: JuteWriter | null = null;
  private flushScheduled = false;

  constructor(
    readonly io: CnxnIO,
    private readonly server: ZooKeeperServer,
  ) {
    this.authIds.push({ scheme: 'ip', id: io.remoteAddress.replace(/^::ffff:/, '') });
  }

  /** A writer for the next outgoing frame(s); flushed with one socket write per batch. */
  writer(): JuteWriter {
    if (!this.out) this.out = new JuteWriter(512);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.server.scheduleFlush(this);
    }
    return this.out;
  }

  flush(): void {
    this.flushScheduled = false;
    const w = this.out;
    if (w && w.offset > 0 && this.state !== 'closed') {
      this.out = null;
      this.io.write(w.finish());
    }
  }

  process(type: number, state: number, path: string): void {
    if (this.state === 'closed') return;
    const w = this.writer();
    const at = w.beginFrame();
    writeReplyHeader(w, Xid.NOTIFICATION, -1, 0);
    writeWatcherEvent(w, { type, state, path });
    w.endFrame(at);
    this.packetsSent++;
    this.server.stats.packetsSent++;
  }
}

export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  minLatency = Number.MAX_SAFE_INTEGER;
  maxLatency = 0;
  totalLatency = 0;
  count = 0;
  authFailed = 0;
  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.minLatency = Number.MAX_SAFE_INTEGER;
    this.maxLatency = 0;
    this.totalLatency = 0;
    this.count = 0;
  }
}

const READ_OPS = new Set<number>([
  OpCode.exists,
  OpCode.getData,
  OpCode.getACL,
  OpCode.getChildren,
  OpCode.getChildren2,
  OpCode.getAllChildrenNumber,
  OpCode.getEphemerals,
  OpCode.sync,
  OpCode.checkWatches,
  OpCode.removeWatches,
  OpCode.addWatch,
  OpCode.setWatches,
  OpCode.setWatches2,
  OpCode.whoAmI,
  OpCode.ping,
  OpCode.multiRead,
  OpCode.sasl,
]);
const WRITE_OPS = new Set<number>([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.setData,
  OpCode.setACL,
  OpCode.check,
  OpCode.multi,
  OpCode.reconfig,
  OpCode.closeSession,
]);

/** How a learner talks to its leader: writes go as Zab REQUESTs, session activity in PING replies. */
export interface Forwarder {
  forward(sessionId: bigint, cxid: number, type: number, body: Buffer, authIds: Id[]): void;
  /** a client of this learner used its session: report it to the leader (LearnerSessionTracker.touchSession) */
  touch(sessionId: bigint, timeoutMs: number): void;
}

export type ServerRole = 'standalone' | 'leader' | 'learner';

export class ZooKeeperServer {
  readonly prep: PrepRequestProcessor;
  /** standalone and leader prepare txns; a learner forwards writes and applies what Zab commits */
  role: ServerRole = 'standalone';
  forwarder: Forwarder | null = null;
  /** learner: writes sent to the leader, by session and cxid, waiting for their commit */
  private readonly forwarded = new Map<string, { cnxn: Cnxn; req: Request }>();
  /** learner: sync requests waiting for the leader's SYNC, oldest first */
  private readonly pendingSyncs: { cnxn: Cnxn; req: Request }[] = [];
  /**
   * learner: asks the leader whether a reconnecting session is still valid (a Zab REVALIDATE);
   * the answer comes back through `revalidated`. Without it the local session table decides.
   */
  revalidator: ((sessionId: bigint, timeout: number) => void) | null = null;
  /** learner: reconnects waiting for the leader's REVALIDATE answer, by session */
  private readonly revalidating = new Map<bigint, Cnxn[]>();
  /**
   * leader: Zab decides when a txn commits and calls `commitUpTo` synchronously, so the DataTree
   * is exactly at the last committed zxid whenever the leader serializes it for a SNAP sync.
   */
  zabCommits = false;
  readonly sessions: SessionTracker;
  /** this server's own timer expires sessions (standalone); a leader's core does it otherwise */
  private readonly ownsExpiry: boolean;
  readonly cnxns = new Set<Cnxn>();
  readonly bySession = new Map<bigint, Cnxn>();
  readonly stats = new ServerStats();
  private lastZxidAssigned: number;
  private pendingTxns: PendingTxn[] = [];
  private committing = false;
  private dirty: Cnxn[] = [];
  private flushQueued = false;
  private timers: NodeJS.Timeout[] = [];
  /** create sessions waiting for their txn: sessionId -> connection */
  private readonly creating = new Map<bigint, Cnxn>();
  readonly startTime = Date.now();
  running = true;

  constructor(
    readonly tree: DataTree,
    readonly settings: ServerSettings,
    readonly log: TxnLogSink = new MemoryLog(),
    readonly logger: Logger = silentLogger,
    readonly now: () => number = () => performance.now(),
    /**
     * the session tracker to use; a leader passes its Zab core's, which expires sessions on the
     * core's ticks (Ready.expired -> `expireSession`) and takes the learners' touches
     */
    sessions?: SessionTracker,
  ) {
    this.prep = new PrepRequestProcessor(tree, settings);
    this.ownsExpiry = sessions === undefined;
    this.sessions = sessions ?? new SessionTracker(settings.tickTime, settings.serverId, now);
    this.lastZxidAssigned = tree.lastProcessedZxid;
    // sessions restored from disk get a fresh full timeout
    for (const [id, timeout] of tree.sessions) this.sessions.add(id, timeout);
  }

  get lastProcessedZxid(): number {
    return this.tree.lastProcessedZxid;
  }

  get outstandingRequests(): number {
    let n = 0;
    for (const c of this.cnxns) n += c.queue.length;
    return n;
  }

  /** Start the expiry and container timers. */
  startTimers(): void {
    if (this.role === 'learner') return;
    if (this.ownsExpiry) {
      const t = setInterval(() => this.expireSessions(), this.settings.tickTime);
      t.unref();
      this.timers.push(t);
    }
    if (this.settings.containerCheckIntervalMs > 0) {
      const c = setInterval(() => this.checkContainers(), this.settings.containerCheckIntervalMs);
      c.unref();
      this.timers.push(c);
    }
  }

  shutdown(): void {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const c of [...this.cnxns]) this.closeCnxn(c);
  }

  // ---------------------------------------------------------------- output batching
  scheduleFlush(c: Cnxn): void {
    this.dirty.push(c);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flushAll());
    }
  }

  flushAll(): void {
    this.flushQueued = false;
    const d = this.dirty;
    this.dirty = [];
    for (const c of d) c.flush();
  }

  // ---------------------------------------------------------------- connections
  newCnxn(io: CnxnIO): Cnxn {
    const c = new Cnxn(io, this);
    this.cnxns.add(c);
    return c;
  }

  /** The socket is gone (closed by either side). The session lives on until it expires. */
  cnxnClosed(c: Cnxn): void {
    if (c.state === 'closed' && !this.cnxns.has(c)) return;
    c.state = 'closed';
    this.cnxns.delete(c);
    this.tree.removeWatcher(c);
    if (c.sessionId !== 0n && this.bySession.get(c.sessionId) === c) this.bySession.delete(c.sessionId);
  }

  closeCnxn(c: Cnxn): void {
    if (c.state === 'closed') return;
    c.flush();
    this.cnxnClosed(c);
    c.io.close();
  }

  /** One complete frame (length prefix removed) from a connection. */
  receive(c: Cnxn, frame: Buffer): void {
    if (c.state === 'closed') return;
    c.packetsReceived++;
    this.stats.packetsReceived++;
    if (c.state === 'new') {
      this.handleConnect(c, frame);
      return;
    }
    if (c.state === 'handshake') {
      c.held.push(frame);
      return;
    }
    this.handleRequest(c, frame);
  }

  private handleConnect(c: Cnxn, frame: Buffer): void {
    serverMetrics.connection_request_count.add(1);
    let req;
    try {
      req = readConnectRequest(new JuteReader(frame, 0, frame.length, this.settings.maxBuffer * 2));
    } catch (e) {
      this.logger.warn({ remote: c.io.remoteAddress, err: String(e) }, 'malformed ConnectRequest, closing connection');
      this.closeCnxn(c);
      return;
    }
    c.sentReadOnly = req.readOnly !== undefined;
    if (req.lastZxidSeen > this.tree.lastProcessedZxid) {
      this.logger.info(
        { remote: c.io.remoteAddress, lastZxidSeen: req.lastZxidSeen.toString(16) },
        'client has seen a zxid newer than ours; closing so it can try another server',
      );
      this.closeCnxn(c);
      return;
    }
    const timeout = Math.min(Math.max(req.timeOut, this.settings.minSessionTimeout), this.settings.maxSessionTimeout);
    c.sessionTimeout = timeout;
    if (req.sessionId === 0n) {
      const id = this.sessions.newSessionId();
      c.sessionId = id;
      c.state = 'handshake';
      this.creating.set(id, c);
      if (this.role === 'learner') {
        const body = Buffer.alloc(4);
        body.writeInt32BE(timeout, 0);
        this.forwarder!.touch(id, timeout);
        this.forwarder!.forward(id, 0, OpCode.createSession, body, []);
        return;
      }
      this.submitTxn(
        { clientId: id, cxid: 0, zxid: 0, time: 0, type: OpCode.createSession },
        { type: OpCode.createSession, timeOut: timeout },
        c,
        null,
      );
      return;
    }
    // reconnect to an existing session
    serverMetrics.connection_revalidate_count.add(1);
    if (this.role === 'learner' && this.revalidator && req.passwd.equals(generatePasswd(req.sessionId))) {
      // LearnerZooKeeperServer.revalidateSession: the leader's session tracker decides
      c.sessionId = req.sessionId;
      c.state = 'handshake';
      const waiting = this.revalidating.get(req.sessionId);
      if (waiting) waiting.push(c);
      else {
        this.revalidating.set(req.sessionId, [c]);
        this.revalidator(req.sessionId, timeout);
      }
      return;
    }
    const s = this.sessions.sessions.get(req.sessionId);
    const ok = s !== undefined && !s.closing && req.passwd.equals(generatePasswd(req.sessionId));
    if (!ok) {
      this.logger.info({ sessionId: '0x' + BigInt.asUintN(64, req.sessionId).toString(16) }, 'invalid session or password on reconnect');
      this.sendConnectResponse(c, 0, 0n, Buffer.alloc(16));
      this.closeCnxn(c);
      return;
    }
    const old = this.bySession.get(req.sessionId);
    if (old && old !== c) this.closeCnxn(old);
    s.timeout = timeout;
    this.sessions.touch(req.sessionId);
    this.openSession(c, req.sessionId, timeout);
  }

  /** Learner: the leader answered a REVALIDATE. */
  revalidated(sessionId: bigint, valid: boolean): void {
    const waiting = this.revalidating.get(sessionId);
    if (!waiting) return;
    this.revalidating.delete(sessionId);
    for (const c of waiting) {
      if (c.state !== 'handshake' || !this.cnxns.has(c)) continue;
      if (!valid) {
        this.logger.info({ sessionId: '0x' + BigInt.asUintN(64, sessionId).toString(16) }, 'the leader says the session is invalid; refusing the reconnect');
        this.sendConnectResponse(c, 0, 0n, Buffer.alloc(16));
        this.closeCnxn(c);
        continue;
      }
      const old = this.bySession.get(sessionId);
      if (old && old !== c) this.closeCnxn(old);
      const s = this.sessions.sessions.get(sessionId);
      if (s) s.timeout = c.sessionTimeout;
      this.forwarder?.touch(sessionId, c.sessionTimeout);
      this.openSession(c, sessionId, c.sessionTimeout);
    }
  }

  private sendConnectResponse(c: Cnxn, timeout: number, id: bigint, passwd: Buffer): void {
    const w = c.writer();
    const at = w.beginFrame();
    writeConnectResponse(w, {
      protocolVersion: 0,
      timeOut: timeout,
      sessionId: id,
      passwd,
      readOnly: c.sentReadOnly ? false : undefined,
    });
    w.endFrame(at);
    c.packetsSent++;
    this.stats.packetsSent++;
  }

  private openSession(c: Cnxn, id: bigint, timeout: number): void {
    c.sessionId = id;
    c.sessionTimeout = timeout;
    c.state = 'open';
    this.bySession.set(id, c);
    this.sendConnectResponse(c, timeout, id, generatePasswd(id));
    const held = c.held;
    c.held = [];
    for (const f of held) this.handleRequest(c, f);
  }

  private handleRequest(c: Cnxn, frame: Buffer): void {
    if (frame.length < 8) {
      this.logger.warn({ remote: c.io.remoteAddress, len: frame.length }, 'request shorter than its header, closing connection');
      this.closeCnxn(c);
      return;
    }
    const xid = frame.readInt32BE(0);
    const type = frame.readInt32BE(4);
    const body = new JuteReader(frame, 8, frame.length, this.settings.maxBuffer * 2);
    this.touchSession(c);
    if (type === OpCode.ping) {
      c.lastOp = 'PING';
      this.enqueue(c, { xid, type, body, done: false, reply: null, isWrite: false, started: this.now(), closeAfter: false });
      return;
    }
    if (type === OpCode.auth) {
      this.handleAuth(c, xid, body);
      return;
    }
    const isWrite = WRITE_OPS.has(type) || (this.role === 'learner' && type === OpCode.sync);
    if (!isWrite && !READ_OPS.has(type)) {
      this.logger.warn({ remote: c.io.remoteAddress, type }, 'unknown opcode, closing connection');
      const w = new JuteWriter(32);
      const at = w.beginFrame();
      writeReplyHeader(w, xid, -1, Err.UNIMPLEMENTED);
      w.endFrame(at);
      // replies already queued for this connection go first
      this.enqueue(c, { xid, type, body, done: true, reply: w.finish(), isWrite: false, started: this.now(), closeAfter: true });
      return;
    }
    c.lastOp = opAbbrev(type);
    c.lastCxid = xid;
    const req: Request = { xid, type, body, done: false, reply: null, isWrite, started: this.now(), closeAfter: false };
    if (isWrite) {
      this.enqueue(c, req, false);
      this.submitWrite(c, req);
    } else {
      this.enqueue(c, req);
    }
  }

  private touchSession(c: Cnxn): void {
    this.sessions.touch(c.sessionId);
    if (this.role === 'learner') this.forwarder?.touch(c.sessionId, c.sessionTimeout);
  }

  private handleAuth(c: Cnxn, xid: number, body: JuteReader): void {
    let err: number = Err.OK;
    try {
      const a = readAuthPacket(body);
      const text = a.auth.toString('utf8');
      if (a.scheme === 'digest') {
        const d = digestOf(text);
        if (this.settings.superDigest && d === this.settings.superDigest) addAuthId(c, { scheme: 'super', id: '' });
        addAuthId(c, { scheme: 'digest', id: d });
      } else if (a.scheme === 'ip') {
        addAuthId(c, { scheme: 'ip', id: c.io.remoteAddress.replace(/^::ffff:/, '') });
      } else {
        err = Err.AUTHFAILED;
      }
    } catch {
      err = Err.AUTHFAILED;
    }
    // the auth reply is sent at once (ZooKeeper answers it outside the request pipeline)
    const w = c.writer();
    const at = w.beginFrame();
    writeReplyHeader(w, Xid.AUTH, 0, err);
    w.endFrame(at);
    c.packetsSent++;
    if (err !== Err.OK) {
      this.stats.authFailed++;
      this.logger.warn({ remote: c.io.remoteAddress }, 'authentication failed, closing connection');
      this.closeCnxn(c);
    }
  }

  private enqueue(c: Cnxn, req: Request, drain = true): void {
    c.queue.push(req);
    const limit = this.settings.globalOutstandingLimit ?? 1000;
    if (!c.throttled && c.queue.length >= limit && c.io.pause) {
      c.throttled = true;
      c.io.pause();
    }
    if (drain) this.drain(c);
  }

  /** Send replies from the head of the queue; run reads that reach the head. */
  private drain(c: Cnxn): void {
    const q = c.queue;
    while (q.length > 0 && c.state === 'open') {
      const head = q[0];
      if (!head.done) {
        if (head.isWrite) return;
        this.runRead(c, head);
      }
      q.shift();
      if (c.throttled && q.length < (this.settings.globalOutstandingLimit ?? 1000) / 2) {
        c.throttled = false;
        c.io.resume?.();
      }
      if (head.reply) {
        c.writer().writeRaw(head.reply);
      }
      if (head.reply || head.type === OpCode.ping || head.closeAfter) {
        this.recordLatency(c, head);
      }
      if (head.closeAfter) {
        this.closeCnxn(c);
        return;
      }
    }
  }

  private recordLatency(c: Cnxn, r: Request): void {
    const lat = Math.max(0, Math.round(this.now() - r.started));
    c.packetsSent++;
    this.stats.packetsSent++;
    c.lastLatency = lat;
    c.lastResponseTime = Date.now();
    c.lastZxid = this.tree.lastProcessedZxid;
    if (lat < c.minLatency) c.minLatency = lat;
    if (lat > c.maxLatency) c.maxLatency = lat;
    c.totalLatency += lat;
    c.latencyCount++;
    (r.isWrite ? serverMetrics.updatelatency : serverMetrics.readlatency).add(lat);
    const s = this.stats;
    if (lat < s.minLatency) s.minLatency = lat;
    if (lat > s.maxLatency) s.maxLatency = lat;
    s.totalLatency += lat;
    s.count++;
  }

  // ---------------------------------------------------------------- writes
  private nextZxid(): number {
    return ++this.lastZxidAssigned;
  }

  private submitWrite(c: Cnxn, req: Request): void {
    if (this.role === 'learner') {
      if (req.type === OpCode.closeSession) req.closeAfter = true;
      const body = req.body.buf.subarray(req.body.offset, req.body.end);
      if (req.type === OpCode.sync) this.pendingSyncs.push({ cnxn: c, req });
      else this.forwarded.set(`${c.sessionId}:${req.xid}`, { cnxn: c, req });
      this.forwarder!.forward(c.sessionId, req.xid, req.type, body, c.authIds);
      return;
    }
    const zxid = this.nextZxid();
    const hdr: TxnHeader = { clientId: c.sessionId, cxid: req.xid, zxid, time: Date.now(), type: req.type };
    let txn: Txn;
    if (req.type === OpCode.closeSession) {
      txn = this.prep.prepCloseSession(c.sessionId, zxid);
      const s = this.sessions.sessions.get(c.sessionId);
      if (s) s.closing = true;
      req.closeAfter = true;
    } else {
      try {
        txn = this.prep.prepare({ sessionId: c.sessionId, type: req.type, body: req.body, authIds: c.authIds }, zxid, hdr.time);
      } catch (e) {
        let code: number = Err.MARSHALLINGERROR;
        if (e instanceof KeeperError) code = e.code;
        else if (!(e instanceof JuteError)) {
          this.logger.warn({ err: String(e), type: req.type }, 'unexpected error preparing request');
          code = Err.SYSTEMERROR;
        }
        hdr.type = OpCode.error;
        txn = { type: OpCode.error, err: code };
      }
      if (txn.type === OpCode.check) {
        // a top-level check changes nothing; it is logged as a no-op error txn
        hdr.type = OpCode.error;
        txn = { type: OpCode.error, err: 0 };
      }
    }
    this.queueTxn({ hdr, txn, cnxn: c, req });
  }

  /** Leader of a new epoch: the next txn gets zxid base + 1. */
  setZxidBase(zxid: number): void {
    this.lastZxidAssigned = zxid;
  }

  /** Leader: a write a learner forwarded (REQUEST). Its reply is the learner's job. */
  submitRemote(sessionId: bigint, cxid: number, type: number, body: Buffer, authIds: Id[]): void {
    const zxid = this.nextZxid();
    const hdr: TxnHeader = { clientId: sessionId, cxid, zxid, time: Date.now(), type };
    let txn: Txn;
    if (type === OpCode.createSession) {
      txn = { type: OpCode.createSession, timeOut: body.length >= 4 ? body.readInt32BE(0) : this.settings.minSessionTimeout };
    } else if (type === OpCode.closeSession) {
      txn = this.prep.prepCloseSession(sessionId, zxid);
      const s = this.sessions.sessions.get(sessionId);
      if (s) s.closing = true;
    } else {
      try {
        txn = this.prep.prepare({ sessionId, type, body: new JuteReader(body), authIds }, zxid, hdr.time);
      } catch (e) {
        hdr.type = OpCode.error;
        txn = { type: OpCode.error, err: e instanceof KeeperError ? e.code : Err.MARSHALLINGERROR };
      }
      if (txn.type === OpCode.check) {
        hdr.type = OpCode.error;
        txn = { type: OpCode.error, err: 0 };
      }
    }
    this.queueTxn({ hdr, txn, cnxn: null, req: null });
  }

  /** Learner: a txn Zab committed, in zxid order. Answers the local client that asked for it. */
  applyCommitted(hdr: TxnHeader, txn: Txn): void {
    const key = `${hdr.clientId}:${hdr.cxid}`;
    const f = hdr.type === OpCode.createSession ? undefined : this.forwarded.get(key);
    if (f) this.forwarded.delete(key);
    if (hdr.zxid > this.lastZxidAssigned) this.lastZxidAssigned = hdr.zxid;
    this.applyTxn({ hdr, txn, cnxn: f?.cnxn ?? null, req: f?.req ?? null });
  }

  /** Learner: the leader's SYNC arrived; the oldest pending sync is answered. */
  syncDone(): void {
    const p = this.pendingSyncs.shift();
    if (!p) return;
    const w = new JuteWriter(64);
    const at = w.beginFrame();
    writeReplyHeader(w, p.req.xid, this.tree.lastProcessedZxid, 0);
    const r = p.req.body;
    const path = r.remaining() >= 4 ? r.readStr() : '/';
    w.writeString(path);
    w.endFrame(at);
    p.req.reply = w.finish();
    p.req.done = true;
    this.drain(p.cnxn);
  }

  /** Internal txns (session create/expiry, container deletion) */
  submitTxn(hdr: TxnHeader, txn: Txn, cnxn: Cnxn | null, req: Request | null): void {
    hdr.zxid = this.nextZxid();
    hdr.time = Date.now();
    this.queueTxn({ hdr, txn, cnxn, req });
  }

  private queueTxn(p: PendingTxn): void {
    this.log.append(p.hdr, p.txn);
    this.pendingTxns.push(p);
    if (!this.committing && !this.zabCommits) void this.commitLoop();
  }

  /** Leader: Zab committed everything up to `zxid`; apply those txns now, in order. */
  commitUpTo(zxid: number): void {
    let i = 0;
    const q = this.pendingTxns;
    while (i < q.length && q[i].hdr.zxid <= zxid) this.applyTxn(q[i++]);
    if (i > 0) this.pendingTxns = i === q.length ? [] : q.slice(i);
  }

  private async commitLoop(): Promise<void> {
    this.committing = true;
    try {
      while (this.pendingTxns.length > 0) {
        const batch = this.pendingTxns;
        this.pendingTxns = [];
        try {
          await this.log.commit();
        } catch (e) {
          serverMetrics.unrecoverable_error_count.add(1);
          this.logger.warn({ err: String(e) }, 'txn log write failed; stopping');
          process.exitCode = 10;
          this.shutdown();
          return;
        }
        for (const p of batch) this.applyTxn(p);
      }
    } finally {
      this.committing = false;
    }
  }

  private applyTxn(p: PendingTxn): void {
    const { hdr, txn, cnxn, req } = p;
    const rc = this.tree.processTxn(hdr, txn);
    this.prep.applied(hdr.zxid);
    switch (hdr.type) {
      case OpCode.createSession: {
        this.sessions.add(hdr.clientId, (txn as { timeOut: number }).timeOut);
        const c = this.creating.get(hdr.clientId);
        this.creating.delete(hdr.clientId);
        if (c && c.state === 'handshake') this.openSession(c, hdr.clientId, (txn as { timeOut: number }).timeOut);
        return;
      }
      case OpCode.closeSession: {
        this.sessions.remove(hdr.clientId);
        const owner = this.bySession.get(hdr.clientId);
        if (!req && owner) {
          // expired: the client learns it on reconnect
          this.closeCnxn(owner);
        }
        break;
      }
    }
    if (!cnxn || !req) return;
    req.reply = this.buildWriteReply(req, hdr, rc);
    req.done = true;
    this.drain(cnxn);
  }

  private buildWriteReply(req: Request, hdr: TxnHeader, rc: ProcessResult): Buffer {
    const w = new JuteWriter(128);
    const at = w.beginFrame();
    const zxid = this.tree.lastProcessedZxid;
    if (rc.err !== 0 || hdr.type === OpCode.error) {
      writeReplyHeader(w, req.xid, zxid, rc.err);
      w.endFrame(at);
      return w.finish();
    }
    writeReplyHeader(w, req.xid, zxid, 0);
    switch (req.type) {
      case OpCode.create:
        w.writeString(rc.path!);
        break;
      case OpCode.create2:
      case OpCode.createContainer:
      case OpCode.createTTL:
        w.writeString(rc.path!);
        writeStat(w, rc.stat!);
        break;
      case OpCode.setData:
      case OpCode.setACL:
        writeStat(w, rc.stat!);
        break;
      case OpCode.multi:
        for (const sub of rc.multi!) {
          if (sub.err !== 0 || sub.type === OpCode.error) {
            writeMultiHeader(w, -1, false, sub.err);
            w.writeInt(sub.err);
            continue;
          }
          switch (sub.type) {
            case OpCode.create:
              writeMultiHeader(w, OpCode.create, false, 0);
              w.writeString(sub.path!);
              break;
            case OpCode.create2:
            case OpCode.createContainer:
            case OpCode.createTTL:
              writeMultiHeader(w, OpCode.create2, false, 0);
              w.writeString(sub.path!);
              writeStat(w, sub.stat!);
              break;
            case OpCode.delete:
            case OpCode.deleteContainer:
              writeMultiHeader(w, OpCode.delete, false, 0);
              break;
            case OpCode.setData:
              writeMultiHeader(w, OpCode.setData, false, 0);
              writeStat(w, sub.stat!);
              break;
            case OpCode.check:
              writeMultiHeader(w, OpCode.check, false, 0);
              break;
          }
        }
        writeMultiHeader(w, -1, true, -1);
        break;
      default:
        break;
    }
    w.endFrame(at);
    return w.finish();
  }

  // ---------------------------------------------------------------- reads
  private runRead(c: Cnxn, req: Request): void {
    const w = new JuteWriter(128);
    const at = w.beginFrame();
    const zxid = this.tree.lastProcessedZxid;
    writeReplyHeader(w, req.xid, zxid, 0);
    const bodyStart = w.offset;
    let err: number = Err.OK;
    try {
      this.read(c, req, w);
    } catch (e) {
      if (e instanceof KeeperError) err = e.code;
      else if (e instanceof JuteError) err = Err.MARSHALLINGERROR;
      else {
        this.logger.warn({ err: String(e), type: req.type }, 'unexpected error serving a read');
        err = Err.SYSTEMERROR;
      }
    }
    if (req.type === OpCode.ping) {
      w.offset = bodyStart - 16;
      writeReplyHeader(w, Xid.PING, zxid, 0);
    } else if (err !== Err.OK) {
      w.offset = bodyStart - 16;
      writeReplyHeader(w, req.xid, zxid, err);
    }
    w.endFrame(at);
    req.reply = w.finish();
    req.done = true;
  }

  private node(path: string) {
    const n = this.tree.getNode(path);
    if (!n) throw new KeeperError(Err.NONODE, path);
    return n;
  }

  private read(c: Cnxn, req: Request, w: JuteWriter): void {
    const r = req.body;
    const skip = this.settings.skipACL;
    switch (req.type) {
      case OpCode.ping:
        return;
      case OpCode.exists: {
        const { path, watch } = readPathWatch(r);
        if (path.indexOf('\u0000') !== -1) throw new KeeperError(Err.BADARGUMENTS);
        if (watch) this.tree.addDataWatch(path, c);
        writeStat(w, this.node(path).stat());
        return;
      }
      case OpCode.getData: {
        const { path, watch } = readPathWatch(r);
        const n = this.node(path);
        checkACL(this.tree.aclOf(n), Perms.READ, c.authIds, skip);
        if (watch) this.tree.addDataWatch(path, c);
        w.writeLatin1(n.raw);
        writeStat(w, n.stat());
        return;
      }
      case OpCode.getChildren:
      case OpCode.getChildren2: {
        const { path, watch } = readPathWatch(r);
        const n = this.node(path);
        checkACL(this.tree.aclOf(n), Perms.READ, c.authIds, skip);
        if (watch) this.tree.addChildWatch(path, c);
        w.writeInt(n.children.size);
        for (const ch of n.children) w.writeString(ch);
        if (req.type === OpCode.getChildren2) writeStat(w, n.stat());
        return;
      }
      case OpCode.getACL: {
        const path = r.readStr();
        const n = this.node(path);
        const acl = this.tree.aclOf(n);
        checkACL(acl, Perms.READ | Perms.ADMIN, c.authIds, skip);
        if (hasPerm(acl, Perms.ADMIN, c.authIds, skip)) writeACLs(w, acl);
        else
          writeACLs(
            w,
            acl.map((a) => (a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.replace(/:.*/, ':x') } } : a)),
          );
        writeStat(w, n.stat());
        return;
      }
      case OpCode.getAllChildrenNumber: {
        const path = r.readStr();
        const n = this.node(path);
        checkACL(this.tree.aclOf(n), Perms.READ, c.authIds, skip);
        w.writeInt(this.tree.countDescendants(path));
        return;
      }
      case OpCode.getEphemerals: {
        const prefix = r.readString();
        const all = this.tree.ephemerals.get(c.sessionId) ?? new Set<string>();
        const list: string[] = [];
        const p = prefix?.trim();
        for (const e of all) if (!p || p === '/' || e.startsWith(prefix!)) list.push(e);
        w.writeVector(list, (x, s) => x.writeString(s));
        return;
      }
      case OpCode.sync: {
        w.writeString(r.readStr());
        return;
      }
      case OpCode.checkWatches:
      case OpCode.removeWatches: {
        const { path, type } = readPathType(r);
        if (type !== WatcherType.Children && type !== WatcherType.Data && type !== WatcherType.Any) {
          throw new KeeperError(Err.MARSHALLINGERROR);
        }
        const data = type !== WatcherType.Children;
        const child = type !== WatcherType.Data;
        let found = false;
        if (req.type === OpCode.checkWatches) {
          found = (data && this.tree.dataWatches.has(path, c)) || (child && this.tree.childWatches.has(path, c));
        } else {
          if (data && this.tree.dataWatches.remove(path, c)) found = true;
          if (child && this.tree.childWatches.remove(path, c)) found = true;
        }
        if (!found) throw new KeeperError(Err.NOWATCHER);
        return;
      }
      case OpCode.addWatch: {
        const path = r.readStr();
        const mode = r.readInt();
        if (mode !== AddWatchMode.PERSISTENT && mode !== AddWatchMode.PERSISTENT_RECURSIVE) {
          // WatcherMode.fromZooDef throws; FinalRequestProcessor answers MARSHALLINGERROR
          throw new KeeperError(Err.MARSHALLINGERROR);
        }
        this.tree.addPersistentWatch(path, c, mode === AddWatchMode.PERSISTENT_RECURSIVE);
        w.writeInt(0);
        return;
      }
      case OpCode.setWatches:
      case OpCode.setWatches2: {
        const s = readSetWatches(r, req.type === OpCode.setWatches2);
        this.tree.setWatches(
          s.relativeZxid,
          s.dataWatches,
          s.existWatches,
          s.childWatches,
          s.persistentWatches,
          s.persistentRecursiveWatches,
          c,
        );
        return;
      }
      case OpCode.whoAmI: {
        w.writeVector(c.authIds, (x, id) => {
          x.writeString(id.scheme);
          x.writeString(id.scheme === 'digest' ? id.id.split(':')[0] : id.scheme === 'ip' ? id.id : '');
        });
        return;
      }
      case OpCode.multiRead: {
        const ops = readMultiOps(r, true);
        for (const op of ops) {
          const { path, } = readPathWatch(op.body);
          const n = this.tree.getNode(path);
          let err: number = Err.OK;
          if (!n) err = Err.NONODE;
          else if (!hasPerm(this.tree.aclOf(n), Perms.READ, c.authIds, skip)) err = Err.NOAUTH;
          if (err !== Err.OK || !n) {
            writeMultiHeader(w, -1, false, err);
            w.writeInt(err);
            continue;
          }
          if (op.type === OpCode.getData) {
            writeMultiHeader(w, OpCode.getData, false, 0);
            w.writeLatin1(n.raw);
            writeStat(w, n.stat());
          } else {
            writeMultiHeader(w, OpCode.getChildren, false, 0);
            w.writeInt(n.children.size);
            for (const ch of n.children) w.writeString(ch);
          }
        }
        writeMultiHeader(w, -1, true, -1);
        return;
      }
      case OpCode.sasl:
        throw new KeeperError(Err.UNIMPLEMENTED);
      default:
        throw new KeeperError(Err.UNIMPLEMENTED);
    }
  }

  // ---------------------------------------------------------------- timers
  expireSessions(): void {
    for (const s of this.sessions.expired()) this.expireSession(s.id);
  }

  /** Close a session whose deadline passed (already marked closing): a closeSession txn. */
  expireSession(id: bigint): void {
    if (!this.running) return;
    const s = this.sessions.sessions.get(id);
    this.logger.info({ sessionId: '0x' + BigInt.asUintN(64, id).toString(16), timeout: s?.timeout }, 'Expiring session');
    const zxid = this.lastZxidAssigned + 1;
    const txn = this.prep.prepCloseSession(id, zxid);
    this.submitTxn({ clientId: id, cxid: 0, zxid: 0, time: 0, type: OpCode.closeSession }, txn, null, null);
  }

  /** ContainerManager: delete empty containers (that once had children) and expired TTL nodes. */
  checkContainers(): void {
    const max = Math.max(1, Math.floor((this.settings.containerMaxPerMinute * this.settings.containerCheckIntervalMs) / 60000));
    const candidates: string[] = [];
    for (const p of this.tree.containers) {
      const n = this.tree.getNode(p);
      if (n && n.children.size === 0 && n.cversion > 0) candidates.push(p);
    }
    const nowMs = Date.now();
    for (const p of this.tree.ttls) {
      const n = this.tree.getNode(p);
      if (!n || n.children.size !== 0) continue;
      const ttl = Number(BigInt.asUintN(64, n.ephemeralOwner) & 0xffffffffffn);
      if (nowMs - n.mtime > ttl) candidates.push(p);
    }
    for (const p of candidates.slice(0, max)) this.submitDeleteContainer(p);
  }

  private submitDeleteContainer(path: string): void {
    const zxid = this.lastZxidAssigned + 1;
    const body = Buffer.from(path, 'utf8');
    let txn: Txn;
    try {
      txn = this.prep.prepare({ sessionId: 0n, type: OpCode.deleteContainer, body: new JuteReader(body), authIds: [] }, zxid, Date.now());
    } catch {
      return; // it changed meanwhile; look again next round
    }
    this.submitTxn({ clientId: 0n, cxid: 0, zxid: 0, time: 0, type: OpCode.deleteContainer }, txn, null, null);
  }
}

/** A connection's auth ids are a set (ServerCnxn.authInfo): adding one twice keeps one. */
function addAuthId(c: Cnxn, id: Id): void {
  if (!c.authIds.some((x) => x.scheme === id.scheme && x.id === id.id)) c.authIds.push(id);
}

const OP_ABBREV: Record<number, string> = {
  [OpCode.create]: 'CREA',
  [OpCode.create2]: 'CRE2',
  [OpCode.createContainer]: 'CREC',
  [OpCode.createTTL]: 'CRET',
  [OpCode.delete]: 'DELE',
  [OpCode.exists]: 'EXIS',
  [OpCode.getData]: 'GETD',
  [OpCode.setData]: 'SETD',
  [OpCode.getACL]: 'GETA',
  [OpCode.setACL]: 'SETA',
  [OpCode.getChildren]: 'GETC',
  [OpCode.getChildren2]: 'GETC',
  [OpCode.sync]: 'SYNC',
  [OpCode.ping]: 'PING',
  [OpCode.multi]: 'MULT',
  [OpCode.multiRead]: 'MLTR',
  [OpCode.check]: 'CHEC',
  [OpCode.closeSession]: 'CLOS',
  [OpCode.setWatches]: 'SETW',
  [OpCode.setWatches2]: 'STW2',
  [OpCode.addWatch]: 'ADDW',
  [OpCode.whoAmI]: 'HOMI',
};

export function opAbbrev(type: number): string {
  return OP_ABBREV[type] ?? (OP_NAMES[type] ?? 'UNKNOWN').toUpperCase().substring(0, 4);
}
