// ZooKeeperServer: the request pipeline every role shares, and the standalone server itself.
//   receive (framing, handshake, decode) -> prep (txn for writes) -> log (durable, group commit)
//   -> final (apply to the DataTree, reply).
// The quorum roles change a few stages (as ZooKeeper's LeaderZooKeeperServer and
// FollowerZooKeeperServer do): leaderzk.ts proposes txns to Zab and applies them when Zab pushes a
// commit; learnerzk.ts forwards writes to the leader and applies what the leader commits.
// Reads run when they reach the head of their connection's queue, so a client always sees its own
// earlier writes and replies leave in request order. No sockets here: connections are `Cnxn`s.
import { quotaExceeded, serverMetrics } from '../util/metrics';
import { ServerConfig } from '../config/types';
import { ExitCode, fatal } from '../util/fatal';
import { JuteReader, JuteWriter, JuteError } from '../jute/archive';
import {
  readConnectRequest,
  readCreateRequest,
  TxnHeader,
  writeConnectResponse,
  writeReplyHeader,
} from '../jute/records';
import { AuthPolicy, authPolicy } from './auth';
import { SaslServerSetup, saslSetupFor } from '../security/sasl';
import { AuthContext, answerAuth, answerSasl, enforceAuthentication } from './authreq';
import { Err, KeeperError, OpCode, Xid } from '../data/constants';
import { DataTree } from '../data/datatree';
import { PrepRequestProcessor, readMultiOps } from './prep';
import { generatePasswd, SessionTracker } from '../data/session';
import { Txn, TxnDigest } from '../data/txn';
import { DIGEST_VERSION, digestEnabled } from '../data/digest';
import { topNamespace } from '../data/quotas';
import { Cnxn, CnxnIO, Logger, opAbbrev, Request, ServerStats, silentLogger } from './cnxn';
import { runRead } from './reads';
import { buildSyncReply, buildWriteReply, writeWriteReply } from './replies';
import { monotonicNow } from '../util/clock';

export { Cnxn, opAbbrev, ServerStats } from './cnxn';
export type { CnxnIO, Logger } from './cnxn';

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
  /** the auth schemes (authProvider.<n>) and their options; default ip and digest */
  auth?: AuthPolicy;
  /** SASL on the client port (a JAAS Server section), when configured */
  sasl?: SaslServerSetup;
  /** enforce.auth.enabled / sessionRequireClientSASLAuth: the schemes a session must have an id of */
  enforceAuthSchemes?: readonly string[];
  /** allowSaslFailedClients */
  allowSaslFailedClients?: boolean;
  containerCheckIntervalMs: number;
  containerMaxPerMinute: number;
  /** zookeeper.enforceQuota */
  enforceQuota?: boolean;
  /** localSessionsEnabled (quorum roles only): new sessions live on this server alone */
  localSessionsEnabled?: boolean;
  /** localSessionsUpgradingEnabled: a local session that creates an ephemeral becomes global (else EPHEMERALONLOCALSESSION) */
  localSessionsUpgradingEnabled?: boolean;
}

/** Where txns go before they are applied: memory (nothing), the txn log, or Zab. */
export interface TxnLogSink {
  /** `digest`: the TxnDigest trailer (the tree digest after this txn), when digests are on */
  append(hdr: TxnHeader, txn: Txn, digest?: TxnDigest | null): void;
  /** Resolves once everything appended before the call is durable. */
  commit(): Promise<void>;
}

export class MemoryLog implements TxnLogSink {
  append(): void {}
  commit(): Promise<void> {
    return Promise.resolve();
  }
}

export interface PendingTxn {
  hdr: TxnHeader;
  txn: Txn;
  cnxn: Cnxn | null;
  req: Request | null;
  /** the tree digest expected after it (TxnDigest); none for error txns */
  digest?: TxnDigest | null;
}

/** the largest spare output writer kept for the next connection (bytes) */
const SPARE_WRITER_MAX = 1 << 20;

/** Request.reply of a write whose reply went straight into its connection's output (applyTxn) */
const REPLY_WRITTEN: Buffer = Buffer.alloc(0);

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

export type ServerRole = 'standalone' | 'leader' | 'learner' | 'read-only';

export class ZooKeeperServer {
  readonly prep: PrepRequestProcessor;
  readonly sessions: SessionTracker;
  /**
   * localSessionsEnabled: sessions made on this server and known only here (no createSession txn,
   * expired here, closed here) until one creates an ephemeral and is upgraded to a global session
   * (LocalSessionTracker / UpgradeableSessionTracker).
   */
  readonly localSessions: SessionTracker | null;
  readonly cnxns = new Set<Cnxn>();
  readonly bySession = new Map<bigint, Cnxn>();
  readonly stats = new ServerStats();
  protected lastZxidAssigned: number;
  protected pendingTxns: PendingTxn[] = [];
  private committing = false;
  private dirty: Cnxn[] = [];
  private flushQueued = false;
  /** the spare output writer (borrowWriter), free while no connection fills it */
  private spare: JuteWriter | null = null;
  /**
   * Runs before queued client replies go out. The leader flushes its COMMIT and INFORM packets
   * here, so learners hear of a txn before its client does (as 3.8's Leader.commit precedes
   * the FinalRequestProcessor's reply): another client reading on a learner right after sees it.
   */
  beforeReplies: (() => void) | null = null;
  protected timers: NodeJS.Timeout[] = [];
  /** create sessions waiting for their txn: sessionId -> connection */
  protected readonly creating = new Map<bigint, Cnxn>();
  /** wall-clock start (shown as a date); uptime is measured from `startedAt` */
  readonly startTime = Date.now();
  readonly startedAt = monotonicNow();
  running = true;

  constructor(
    readonly tree: DataTree,
    readonly settings: ServerSettings,
    readonly log: TxnLogSink = new MemoryLog(),
    readonly logger: Logger = silentLogger,
    readonly now: () => number = monotonicNow,
    /** the session tracker to use (a leader passes its Zab core's); by default its own */
    sessions?: SessionTracker,
  ) {
    let lastQuotaLog = 0;
    this.prep = new PrepRequestProcessor(tree, {
      ...settings,
      onQuotaExceeded: (message, path, hard) => {
        // RateLogger: at most one line a minute per kind of message
        if (Date.now() - lastQuotaLog > 60_000) {
          lastQuotaLog = Date.now();
          logger.warn({ path }, message);
        }
        if (hard) quotaExceeded(topNamespace(path));
      },
    });
    tree.onDigestMismatch = digestMismatchLogger(logger, tree);
    this.sessions = sessions ?? new SessionTracker(settings.tickTime, settings.serverId, now);
    this.localSessions = settings.localSessionsEnabled ? new SessionTracker(settings.tickTime, settings.serverId, now) : null;
    this.lastZxidAssigned = tree.lastProcessedZxid;
    // sessions restored from disk get a fresh full timeout
    for (const [id, timeout] of tree.sessions) this.sessions.add(id, timeout);
  }

  /** standalone, leader or learner (mntr, srvr) */
  get role(): ServerRole {
    return 'standalone';
  }

  /** reads.ts: what a read runs against */
  get skipACL(): boolean {
    return this.settings.skipACL;
  }

  get auth(): AuthPolicy | undefined {
    return this.settings.auth;
  }

  get lastProcessedZxid(): number {
    return this.tree.lastProcessedZxid;
  }

  get outstandingRequests(): number {
    let n = 0;
    for (const c of this.cnxns) n += c.queue.length;
    return n;
  }

  /** Start the session expiry and container timers. */
  startTimers(): void {
    const t = setInterval(() => this.expireSessions(), this.settings.tickTime);
    t.unref();
    this.timers.push(t);
    this.startContainerTimer();
    this.startLocalSessionTimer();
  }

  /** Local sessions expire here, every tick, without a txn: their connection is closed. */
  protected startLocalSessionTimer(): void {
    if (this.localSessions) this.expireLocallyEveryTick(this.localSessions);
  }

  /** Sessions only this server knows (local, read-only) expire here, without a txn: their connection is closed. */
  protected expireLocallyEveryTick(tracker: SessionTracker): void {
    const t = setInterval(() => {
      for (const s of tracker.expired()) {
        this.logger.info({ sessionId: '0x' + BigInt.asUintN(64, s.id).toString(16), timeout: s.timeout }, 'Expiring local session');
        serverMetrics.stale_sessions_expired.add(1);
        tracker.remove(s.id);
        const c = this.bySession.get(s.id);
        if (c) this.closeCnxn(c);
      }
    }, this.settings.tickTime);
    t.unref();
    this.timers.push(t);
  }

  protected startContainerTimer(): void {
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
    this.beforeReplies?.();
    const d = this.dirty;
    this.dirty = [];
    for (const c of d) c.flush();
  }

  /**
   * Send what one connection has queued now, without waiting for the batch of the whole turn: the
   * net adapter calls this once it has handed a connection's frames in. Output written at once
   * lets the spare writer serve the next connection, so answering reads from thousands of
   * connections in one turn does not allocate a growing buffer for each of them (garbage that
   * outlives young-generation collections and holds tens of MB of malloc'd memory until a full
   * GC). The hook that orders learners' COMMITs before client replies runs first here too.
   */
  flushNow(c: Cnxn): void {
    if (c.pendingOutput === 0) return;
    this.beforeReplies?.();
    c.flush();
  }

  borrowWriter(): JuteWriter {
    const w = this.spare;
    if (w === null) return new JuteWriter(512);
    this.spare = null;
    return w;
  }

  returnWriter(w: JuteWriter): void {
    // a writer grown by one huge reply (getChildren of a big parent, a large getData) is not kept
    if (w.buf.length > SPARE_WRITER_MAX) return;
    w.offset = 0;
    this.spare = w;
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
    if (!this.acceptsClient(req.readOnly === true)) {
      this.logger.info({ remote: c.io.remoteAddress }, 'Refusing session request for not-read-only client');
      this.closeCnxn(c);
      return;
    }
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
      if (this.localSessions) {
        this.localSessions.add(id, timeout);
        this.openSession(c, id, timeout);
        return;
      }
      c.state = 'handshake';
      this.creating.set(id, c);
      this.createSession(c, id, timeout);
      return;
    }
    // reconnect to an existing session: a local one comes back to the server that holds it; a
    // global one may be revalidated elsewhere (a learner asks the leader)
    const tracker = this.localSessions?.sessions.has(req.sessionId) ? this.localSessions : this.sessions;
    if (tracker === this.sessions) {
      serverMetrics.connection_revalidate_count.add(1);
      if (req.passwd.equals(generatePasswd(req.sessionId)) && this.revalidateSession(c, req.sessionId, timeout)) return;
    }
    const s = tracker.sessions.get(req.sessionId);
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
    tracker.touch(req.sessionId);
    this.openSession(c, req.sessionId, timeout);
  }

  /** Whether a client may connect (a read-only server takes only clients that asked for read-only). */
  protected acceptsClient(_readOnlyRequested: boolean): boolean {
    return true;
  }

  /** ConnectResponse.readOnly: this server serves reads only (ReadOnlyZooKeeperServer) */
  protected get readOnly(): boolean {
    return false;
  }

  /** A new session: its createSession txn (a learner forwards it to the leader instead). */
  protected createSession(c: Cnxn, id: bigint, timeout: number): void {
    this.submitTxn({ clientId: id, cxid: 0, zxid: 0, time: 0, type: OpCode.createSession }, { type: OpCode.createSession, timeOut: timeout }, c, null);
  }

  /**
   * A reconnect with the right password: true if someone else decides (a learner asks the leader
   * with REVALIDATE and answers later); false to decide from this server's session table.
   */
  protected revalidateSession(_c: Cnxn, _sessionId: bigint, _timeout: number): boolean {
    return false;
  }

  protected sendConnectResponse(c: Cnxn, timeout: number, id: bigint, passwd: Buffer): void {
    const w = c.writer();
    const at = w.beginFrame();
    writeConnectResponse(w, {
      protocolVersion: 0,
      timeOut: timeout,
      sessionId: id,
      passwd,
      readOnly: c.sentReadOnly ? this.readOnly : undefined,
    });
    w.endFrame(at);
    c.packetsSent++;
    this.stats.packetsSent++;
  }

  protected openSession(c: Cnxn, id: bigint, timeout: number): void {
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
    if (this.localSessions?.sessions.has(c.sessionId)) this.localSessions.touch(c.sessionId);
    else this.touchSession(c);
    if (type === OpCode.sasl) {
      this.handleSasl(c, xid, body);
      return;
    }
    if (type !== OpCode.auth && !this.enforceAuthentication(c, xid)) return;
    if (type === OpCode.ping) {
      c.lastOp = 'PING';
      this.enqueue(c, { xid, type, body, done: false, reply: null, isWrite: false, started: this.now(), closeAfter: false });
      return;
    }
    if (type === OpCode.auth) {
      this.handleAuth(c, xid, body);
      return;
    }
    const isWrite = this.isWrite(type);
    if (!isWrite && !READ_OPS.has(type)) {
      this.logger.warn({ remote: c.io.remoteAddress, type }, 'unknown opcode, closing connection');
      // replies already queued for this connection go first
      this.enqueue(c, { xid, type, body, done: true, reply: replyHeaderFrame(xid, -1, Err.UNIMPLEMENTED), isWrite: false, started: this.now(), closeAfter: true });
      return;
    }
    c.lastOp = opAbbrev(type);
    c.lastCxid = xid;
    const req: Request = { xid, type, body, done: false, reply: null, isWrite, started: this.now(), closeAfter: false };
    if (isWrite) {
      this.enqueue(c, req, false);
      if (this.localSessions?.sessions.has(c.sessionId) && this.localSessionWrite(c, req)) return;
      this.submitWrite(c, req);
    } else {
      this.enqueue(c, req);
    }
  }

  /**
   * A write on a local session (QuorumZooKeeperServer.checkUpgradeSession): closeSession is done
   * here; a create of an ephemeral (also inside a multi) first makes the session global — a
   * createSession txn ahead of the write — or, without localSessionsUpgradingEnabled, is refused
   * with EPHEMERALONLOCALSESSION. True when the request was answered here.
   */
  private localSessionWrite(c: Cnxn, req: Request): boolean {
    const local = this.localSessions!;
    if (req.type === OpCode.closeSession) {
      local.remove(c.sessionId);
      req.reply = replyHeaderFrame(req.xid, this.tree.lastProcessedZxid, Err.OK);
      req.closeAfter = true;
      req.done = true;
      this.drain(c);
      return true;
    }
    if (!createsEphemeral(req)) return false;
    if (!this.settings.localSessionsUpgradingEnabled) {
      req.reply = replyHeaderFrame(req.xid, this.tree.lastProcessedZxid, Err.EPHEMERALONLOCALSESSION);
      req.done = true;
      this.drain(c);
      return true;
    }
    const s = local.sessions.get(c.sessionId)!;
    local.remove(c.sessionId);
    this.logger.info({ sessionId: '0x' + BigInt.asUintN(64, s.id).toString(16) }, 'Upgrading local session to a global one');
    this.upgradeSession(c, s.id, s.timeout);
    return false;
  }

  /** Make a local session global: its createSession goes ahead of the write that needed it. */
  protected upgradeSession(c: Cnxn, id: bigint, timeout: number): void {
    this.createSession(c, id, timeout);
  }

  /** Requests that go through the write path (a learner adds sync, which the leader orders). */
  protected isWrite(type: number): boolean {
    return WRITE_OPS.has(type);
  }

  /** A request, ping or connect used the session. */
  protected touchSession(c: Cnxn): void {
    this.sessions.touch(c.sessionId);
  }

  private authCtx: AuthContext | null = null;

  /**
   * The auth, sasl and enforce.auth answers (authreq.ts) reach the connection through this: made
   * once (every request asks for it; its parts are readonly fields).
   */
  private get authContext(): AuthContext {
    return (this.authCtx ??= {
      settings: this.settings,
      logger: this.logger,
      stats: this.stats,
      closeCnxn: (c) => this.closeCnxn(c),
    });
  }

  private handleAuth(c: Cnxn, xid: number, body: JuteReader): void {
    answerAuth(this.authContext, c, xid, body);
  }

  private handleSasl(c: Cnxn, xid: number, body: JuteReader): void {
    answerSasl(this.authContext, c, xid, body);
  }

  private enforceAuthentication(c: Cnxn, xid: number): boolean {
    return enforceAuthentication(this.authContext, c, xid);
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

  /** A sync whose wait is over (the leader's SYNC came, or the commits it waited for are applied): its reply goes out in turn. */
  protected answerSync(c: Cnxn, req: Request): void {
    req.reply = buildSyncReply(this.tree, req);
    req.done = true;
    this.drain(c);
  }

  /** Send replies from the head of the queue; run reads that reach the head. */
  protected drain(c: Cnxn): void {
    const q = c.queue;
    while (q.length > 0 && c.state === 'open') {
      const head = q[0];
      let answered = false;
      if (!head.done) {
        if (head.isWrite) return;
        const w = c.writer();
        const before = w.offset;
        runRead(this, c, head); // writes its reply
        if (w.offset > before) this.responseSent(w.offset - before - 4);
        answered = true;
      }
      q.shift();
      if (c.throttled && q.length < (this.settings.globalOutstandingLimit ?? 1000) / 2) {
        c.throttled = false;
        c.io.resume?.();
      }
      if (head.reply !== null && head.reply !== REPLY_WRITTEN) {
        c.writer().writeRaw(head.reply);
        this.responseSent(head.reply.length - 4);
      }
      if (answered || head.reply || head.type === OpCode.ping || head.closeAfter) {
        this.recordLatency(c, head);
      }
      if (head.closeAfter) {
        this.closeCnxn(c);
        return;
      }
    }
  }

  /** A reply of `size` bytes (its length prefix not counted) went into a connection's output. */
  private responseSent(size: number): void {
    serverMetrics.response_bytes.add(size);
    this.stats.clientResponses.add(size);
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
  protected nextZxid(): number {
    return ++this.lastZxidAssigned;
  }

  protected submitWrite(c: Cnxn, req: Request): void {
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

  /** Internal txns (session create/expiry, container deletion) */
  submitTxn(hdr: TxnHeader, txn: Txn, cnxn: Cnxn | null, req: Request | null): void {
    hdr.zxid = this.nextZxid();
    hdr.time = Date.now();
    this.queueTxn({ hdr, txn, cnxn, req });
  }

  protected queueTxn(p: PendingTxn): void {
    // called right after the txn was prepared: the prepared digest is the tree's after it
    // (an error txn changes nothing and, as in ZooKeeper, carries none)
    if (p.digest === undefined) p.digest = p.hdr.type !== OpCode.error && digestEnabled() ? { version: DIGEST_VERSION, treeDigest: this.prep.currentDigest() } : null;
    this.log.append(p.hdr, p.txn, p.digest);
    this.pendingTxns.push(p);
    this.logged();
  }

  /** Txns were queued: standalone makes them durable (group commit), then applies them. */
  protected logged(): void {
    if (!this.committing) void this.commitLoop();
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
          // nothing may be acknowledged any more: stop serving, and the process exits (launch.ts)
          serverMetrics.unrecoverable_error_count.add(1);
          this.logger.error({ err: String(e) }, 'Severe unrecoverable error: the txn log could not be written or synced; exiting');
          this.shutdown();
          fatal(ExitCode.TXNLOG_ERROR, 'txn log write failed', e);
          return;
        }
        for (const p of batch) this.applyTxn(p);
      }
    } finally {
      this.committing = false;
    }
  }

  protected applyTxn(p: PendingTxn): void {
    const { hdr, txn, cnxn, req } = p;
    const rc = this.tree.processTxn(hdr, txn, p.digest);
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
    if (cnxn.queue[0] === req && cnxn.state === 'open') {
      // its turn already (nothing ahead of it in the connection's queue): the reply goes straight
      // into the connection's output, as a read's does, without a buffer of its own
      const w = cnxn.writer();
      const before = w.offset;
      writeWriteReply(w, this.tree, req, hdr, rc);
      this.responseSent(w.offset - before - 4);
      req.reply = REPLY_WRITTEN;
    } else req.reply = buildWriteReply(this.tree, req, hdr, rc);
    req.done = true;
    this.drain(cnxn);
  }

  // ---------------------------------------------------------------- timers
  expireSessions(): void {
    for (const s of this.sessions.expired()) this.expireSession(s.id);
  }

  /** Close a session whose deadline passed (already marked closing): a closeSession txn. */
  expireSession(id: bigint): void {
    if (!this.running) return;
    serverMetrics.stale_sessions_expired.add(1);
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
      if (n && n.childCount === 0 && n.cversion > 0) candidates.push(p);
    }
    const nowMs = Date.now();
    for (const p of this.tree.ttls) {
      const n = this.tree.getNode(p);
      if (!n || n.childCount !== 0) continue;
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

/**
 * The log lines of a digest mismatch (DataTree.compareDigest / reportDigestMismatch): the first in
 * full at ERROR, later ones at most once a minute with the running count.
 */
export function digestMismatchLogger(logger: Logger, tree: DataTree): (zxid: number, expected: bigint, actual: bigint) => void {
  let first = true;
  let lastWarn = 0;
  return (zxid, expected, actual) => {
    const z = '0x' + zxid.toString(16);
    if (first) {
      first = false;
      logger.error({ zxid: z, expected: expected.toString(), actual: actual.toString() }, 'First digest mismatch: this replica\'s tree differs from the leader\'s (divergence)');
    } else if (Date.now() - lastWarn > 60_000) {
      lastWarn = Date.now();
      logger.warn({ zxid: z, mismatches: tree.digestMismatches }, 'Digests are not matching');
    }
  };
}

/** The pipeline's settings from a parsed zoo.cfg. */
export function serverSettings(c: ServerConfig, serverId: number): ServerSettings {
  return {
    serverId,
    tickTime: c.tickTime,
    minSessionTimeout: c.minSessionTimeout,
    maxSessionTimeout: c.maxSessionTimeout,
    maxBuffer: c.juteMaxBuffer,
    globalOutstandingLimit: c.globalOutstandingLimit,
    extendedTypesEnabled: c.extendedTypesEnabled,
    skipACL: c.skipACL,
    reconfigEnabled: c.reconfigEnabled,
    superDigest: c.superDigest,
    auth: authPolicy(c),
    sasl: c.jaasConfigFile ? saslSetupFor(c) : undefined,
    enforceAuthSchemes: c.enforceAuthEnabled ? c.enforceAuthSchemes : undefined,
    allowSaslFailedClients: c.allowSaslFailedClients,
    containerCheckIntervalMs: c.containerCheckIntervalMs,
    containerMaxPerMinute: c.containerMaxPerMinute,
    enforceQuota: c.enforceQuota,
    localSessionsEnabled: c.localSessionsEnabled,
    localSessionsUpgradingEnabled: c.localSessionsUpgradingEnabled,
  };
}

/** A reply that is only a header (an error, or an empty OK). */
export function replyHeaderFrame(xid: number, zxid: number, err: number): Buffer {
  const w = new JuteWriter(32);
  const at = w.beginFrame();
  writeReplyHeader(w, xid, zxid, err);
  w.endFrame(at);
  return w.finish();
}

/** A create (or a multi holding one) of an EPHEMERAL or EPHEMERAL_SEQUENTIAL znode. */
function createsEphemeral(req: Request): boolean {
  const ephemeral = (flags: number): boolean => flags === 1 || flags === 3;
  try {
    const r = new JuteReader(req.body.buf, req.body.offset, req.body.end);
    if (req.type === OpCode.create || req.type === OpCode.create2) return ephemeral(readCreateRequest(r, false).flags);
    if (req.type !== OpCode.multi) return false;
    return readMultiOps(r, false).some((op) => (op.type === OpCode.create || op.type === OpCode.create2) && ephemeral(readCreateRequest(op.body, false).flags));
  } catch {
    return false; // a malformed request fails in prep as usual
  }
}
