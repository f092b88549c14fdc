// A client connection as the request pipeline sees it (ServerCnxn): session, auth ids, the queue
// of requests in reply order, batched output, per-connection statistics. No sockets here: the
// net adapter (net.ts) implements CnxnIO.
import { JuteReader, JuteWriter } from '../jute/archive';
import { Id, writeReplyHeader, writeWatcherEvent } from '../jute/records';
import { OP_NAMES, OpCode, Xid } from '../data/constants';
import { Watcher } from '../data/watches';
import type { DigestMd5Server } from '../security/digestmd5';
import { addId } from './auth';
import { BufferStats, resetServerMetrics, serverMetrics } from '../util/metrics';

/** A client connection as the protocol sees it; the net adapter implements the I/O. */
export interface CnxnIO {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Queue bytes for the socket (one frame or more). True when the socket took them all at once
   * (written through, nothing kept): the caller may then write over the buffer.
   */
  write(buf: Buffer): boolean | void;
  /** Flush what is queued, then close. */
  close(): void;
  /** Stop / resume reading from the socket (throttling). */
  pause?(): void;
  resume?(): void;
}

export type { Logger } from '../util/log';
export { silentLogger } from '../util/log';

export interface Request {
  xid: number;
  type: number;
  body: JuteReader;
  /** set when the reply is ready (or the request needs none) */
  done: boolean;
  /** a reply made before the request's turn (writes, refusals); a read run at the head of the
   * queue writes its reply straight into the connection's output instead */
  reply: Buffer | null;
  isWrite: boolean;
  started: number;
  /** close the connection after this reply */
  closeAfter: boolean;
}

/** What a connection needs from its server: output batching and the server-wide counters. */
export interface CnxnOwner {
  scheduleFlush(c: Cnxn): void;
  readonly stats: ServerStats;
  /** an output writer to fill (the server's spare one when it is free) */
  borrowWriter(): JuteWriter;
  /** a writer whose bytes the socket has taken: the server may hand it out again */
  returnWriter(w: JuteWriter): void;
}

/** Per-connection protocol state. */
export class Cnxn implements Watcher {
  sessionId = 0n;
  sessionTimeout = 0;
  authIds: Id[] = [];
  /** 'new' until the ConnectRequest, 'handshake' while the session is being created */
  state: 'new' | 'handshake' | 'open' | 'closed' = 'new';
  /** the connection's SASL exchange, once the client started one */
  saslServer?: DigestMd5Server;
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
    private readonly server: CnxnOwner,
  ) {
    addId(this, { scheme: 'ip', id: io.remoteAddress.replace(/^::ffff:/, '') });
  }

  /** ServerCnxn.resetStats (crst, connection_stat_reset): the counters and the last request's details. */
  resetStats(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.minLatency = Number.MAX_SAFE_INTEGER;
    this.maxLatency = 0;
    this.lastOp = 'NA';
    this.lastCxid = -1;
    this.lastZxid = -1;
    this.lastResponseTime = 0;
    this.lastLatency = 0;
    this.totalLatency = 0;
    this.latencyCount = 0;
  }

  /** A writer for the next outgoing frame(s); flushed with one socket write per batch. */
  writer(): JuteWriter {
    if (!this.out) this.out = this.server.borrowWriter();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.server.scheduleFlush(this);
    }
    return this.out;
  }

  /** Reply bytes written but not yet handed to the socket (the next flush). */
  get pendingOutput(): number {
    return this.out?.offset ?? 0;
  }

  flush(): void {
    this.flushScheduled = false;
    const w = this.out;
    if (w && w.offset > 0 && this.state !== 'closed') {
      this.out = null;
      if (this.io.write(w.finish()) === true) this.server.returnWriter(w);
    }
  }

  process(type: number, state: number, path: string): void {
    if (this.state === 'closed') return;
    const w = this.writer();
    const at = w.beginFrame();
    writeReplyHeader(w, Xid.NOTIFICATION, -1, 0);
    writeWatcherEvent(w, { type, state, path });
    serverMetrics.watch_bytes.add(this.endPacket(w, at));
  }

  /**
   * End the packet begun at `at` in `w` and count it as ServerCnxn.sendResponse does (one more sent,
   * its size without the 4-byte length in the client response sizes); returns that size. For the
   * packets sent outside the request queue: notifications, auth and SASL answers.
   */
  endPacket(w: JuteWriter, at: number): number {
    w.endFrame(at);
    const size = w.offset - at - 4;
    this.server.stats.clientResponses.add(size);
    this.packetsSent++;
    this.server.stats.packetsSent++;
    return size;
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
  /**
   * Sizes of the packets sent to clients, without their 4-byte length (ServerCnxn.sendResponse):
   * replies, pings, notifications, auth and SASL answers; not the ConnectResponse.
   */
  readonly clientResponses = new BufferStats();
  /** ServerStats.reset (srst, stat_reset): latency, packet counts, response sizes and every ServerMetrics value */
  reset(): void {
    this.packetsReceived = 0;
    this.packetsSent = 0;
    this.minLatency = Number.MAX_SAFE_INTEGER;
    this.maxLatency = 0;
    this.totalLatency = 0;
    this.count = 0;
    this.clientResponses.reset();
    resetServerMetrics();
  }
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
