// Election-port wire formats (wire-quorum.md §2.1 and §3):
//  * the FLE Notification (FastLeaderElection.buildMsg / WorkerReceiver), with the receiver's
//    compatibility rules for the 28-byte and 40-byte pre-3.5 forms;
//  * the QuorumCnxManager initial message (protocol version, sid, address) and the bare-sid form.
// Pure functions over Buffers; no I/O.
import { JuteError, JuteReader, JuteWriter } from '../../jute/archive';

/** ServerState ordinals as they travel on the wire. */
export const ServerState = { LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3 } as const;
export type ServerStateName = keyof typeof ServerState;
export const STATE_NAMES: readonly ServerStateName[] = ['LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING'];

/** Notification.CURRENTVERSION. */
export const NOTIFICATION_VERSION = 2;
/** Long.MIN_VALUE as a JS number (exact: -2^63); the vote of observers / non-voters. */
export const LONG_MIN = -(2 ** 63);

export interface Notification {
  /** sender's ServerState ordinal, 0..3 */
  state: number;
  /** proposed leader sid */
  leader: number;
  /** proposed leader's last zxid */
  zxid: number;
  /** sender's logical clock (round) */
  electionEpoch: number;
  /** proposed leader's epoch */
  peerEpoch: number;
  /** 2 for 3.5+ senders; 0 when decoded from the 28/40-byte forms */
  version: number;
  /** sender's QuorumVerifier text (UTF-8), '' when absent */
  config: string;
}

/** ZxidUtils.getEpochFromZxid: zxid >> 32 (arithmetic shift). */
export function epochOfZxid(zxid: number): number {
  return Math.floor(zxid / 4294967296);
}

/**
 * Encode a notification as 3.8 sends it: state, leader, zxid, electionEpoch, peerEpoch,
 * version (default 2) and, when version > 1, configLen + config bytes.
 */
export function encodeNotification(n: {
  state: number;
  leader: number;
  zxid: number;
  electionEpoch: number;
  peerEpoch: number;
  version?: number;
  config?: string | Buffer;
}): Buffer {
  const version = n.version ?? NOTIFICATION_VERSION;
  const cfg = n.config === undefined ? Buffer.alloc(0) : Buffer.isBuffer(n.config) ? n.config : Buffer.from(n.config, 'utf8');
  const w = new JuteWriter(48 + cfg.length);
  w.writeInt(n.state).writeLong(n.leader).writeLong(n.zxid).writeLong(n.electionEpoch).writeLong(n.peerEpoch).writeInt(version);
  if (version > 1) w.writeInt(cfg.length).writeRaw(cfg);
  return Buffer.from(w.finish());
}

/**
 * Decode a received notification payload following WorkerReceiver:
 * < 28 bytes → ignored (null); exactly 28 → old form, peerEpoch := epoch of zxid, version 0;
 * exactly 40 → peerEpoch present, version 0; otherwise version is read and, if > 1, configLen
 * (0..payload length) and the config bytes. A state outside 0..3 or a malformed payload → null.
 */
export function decodeNotification(buf: Buffer): Notification | null {
  const capacity = buf.length;
  if (capacity < 28) return null;
  try {
    const r = new JuteReader(buf);
    const state = r.readInt();
    const leader = r.readLong();
    const zxid = r.readLong();
    const electionEpoch = r.readLong();
    let peerEpoch: number;
    let version = 0;
    let config = '';
    if (capacity === 28) {
      peerEpoch = epochOfZxid(zxid);
    } else {
      peerEpoch = r.readLong();
      if (capacity !== 40) version = r.readInt();
    }
    if (version > 1) {
      const len = r.readInt();
      if (len < 0 || len > capacity || len > r.remaining()) return null;
      config = buf.toString('utf8', r.offset, r.offset + len);
    }
    if (state < 0 || state > 3) return null;
    return { state, leader, zxid, electionEpoch, peerEpoch, version, config };
  } catch (e) {
    if (e instanceof JuteError) return null;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// QuorumCnxManager initial message

/** Protocol version long of the 3.5+ initial message (single address). */
export const PROTOCOL_VERSION_V1 = -65536;
/** Protocol version with several '|'-joined addresses (multiAddress.enabled=true). */
export const PROTOCOL_VERSION_V2 = -65535;
/** Long.MAX_VALUE (OBSERVER_ID) as decoded into a JS number. */
export const OBSERVER_ID = 2 ** 63;
/** QuorumCnxManager.maxBuffer: largest accepted address length. */
export const INITIAL_MESSAGE_MAX_ADDR = 2048;

export interface InitialMessage {
  /** PROTOCOL_VERSION_V1 / _V2, or null for the pre-3.5 bare-sid form */
  protocolVersion: number | null;
  /** initiator's sid (OBSERVER_ID for an observer that is not in the config) */
  sid: number;
  /** initiator's election address(es), `host:port` / `[v6]:port`, as sent */
  addresses: string[];
}

export class InitialMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InitialMessageError';
  }
}

function longToBig(v: number): bigint {
  if (v >= 2 ** 63) return 0x7fffffffffffffffn;
  return BigInt(Math.trunc(v));
}

/** `host:port`, IPv6 hosts in brackets (NetUtils.formatInetAddr). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parse `host:port` / `[v6]:port`; null if malformed. */
export function parseHostPort(s: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  if (!(port > 0 && port < 65536)) return null;
  return { host: m[1], port };
}

/** True for 0.0.0.0 / :: addresses, which the receiver ignores. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

/** The initial message an initiator writes: long protocolVersion, long sid, int len, addr bytes. */
export function encodeInitialMessage(sid: number, addresses: string | readonly string[], protocolVersion = PROTOCOL_VERSION_V1): Buffer {
  const addr = Buffer.from(typeof addresses === 'string' ? addresses : addresses.join('|'), 'utf8');
  const b = Buffer.alloc(20 + addr.length);
  b.writeBigInt64BE(BigInt(protocolVersion), 0);
  b.writeBigInt64BE(longToBig(sid), 8);
  b.writeInt32BE(addr.length, 16);
  addr.copy(b, 20);
  return b;
}

/** The pre-3.5 form: the initiator's sid alone. */
export function encodeBareSidMessage(sid: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(longToBig(sid), 0);
  return b;
}

/**
 * Incrementally parse an initial message from the start of `buf`.
 * Returns null while more bytes are needed, the message and the bytes it used once complete,
 * and throws InitialMessageError for an unknown protocol version or an address length outside
 * 1..2048 (the receiver closes the connection).
 */
export function parseInitialMessage(buf: Buffer): { msg: InitialMessage; used: number } | null {
  if (buf.length < 8) return null;
  const first = buf.readBigInt64BE(0);
  if (first >= 0n) return { msg: { protocolVersion: null, sid: Number(first), addresses: [] }, used: 8 };
  const pv = Number(first);
  if (pv !== PROTOCOL_VERSION_V1 && pv !== PROTOCOL_VERSION_V2) throw new InitialMessageError(`Got invalid protocol version ${first}`);
  if (buf.length < 20) return null;
  const sid = Number(buf.readBigInt64BE(8));
  const len = buf.readInt32BE(16);
  if (len <= 0 || len > INITIAL_MESSAGE_MAX_ADDR) throw new InitialMessageError(`Unreasonable buffer length: ${len}`);
  if (buf.length < 20 + len) return null;
  const text = buf.toString('utf8', 20, 20 + len);
  const addresses = pv === PROTOCOL_VERSION_V2 ? text.split('|') : [text];
  return { msg: { protocolVersion: pv, sid, addresses }, used: 20 + len };
}
