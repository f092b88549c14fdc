// The jute records of zookeeper.jute that the client protocol and the txn log use, with their
// encoders and decoders. Field order is the wire order.
import { JuteReader, JuteWriter } from './archive';

export interface Id {
  scheme: string;
  id: string;
}
export interface ACL {
  perms: number;
  id: Id;
}

/** Client-visible Stat (68 bytes). Longs that fit 2^53 are numbers; ephemeralOwner is a bigint. */
export interface Stat {
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: number;
}

export function readId(r: JuteReader): Id {
  return { scheme: r.readStr(), id: r.readStr() };
}
export function writeId(w: JuteWriter, id: Id): void {
  w.writeString(id.scheme);
  w.writeString(id.id);
}
export function readACL(r: JuteReader): ACL {
  const perms = r.readInt();
  return { perms, id: readId(r) };
}
export function writeACL(w: JuteWriter, a: ACL): void {
  w.writeInt(a.perms);
  writeId(w, a.id);
}
export function readACLs(r: JuteReader): ACL[] | null {
  return r.readVector(readACL);
}
export function writeACLs(w: JuteWriter, acls: readonly ACL[] | null): void {
  w.writeVector(acls, writeACL);
}

export function writeStat(w: JuteWriter, s: Stat): void {
  w.writeLong(s.czxid);
  w.writeLong(s.mzxid);
  w.writeLong(s.ctime);
  w.writeLong(s.mtime);
  w.writeInt(s.version);
  w.writeInt(s.cversion);
  w.writeInt(s.aversion);
  w.writeBigLong(s.ephemeralOwner);
  w.writeInt(s.dataLength);
  w.writeInt(s.numChildren);
  w.writeLong(s.pzxid);
}
export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.readLong(),
    mzxid: r.readLong(),
    ctime: r.readLong(),
    mtime: r.readLong(),
    version: r.readInt(),
    cversion: r.readInt(),
    aversion: r.readInt(),
    ephemeralOwner: r.readBigLong(),
    dataLength: r.readInt(),
    numChildren: r.readInt(),
    pzxid: r.readLong(),
  };
}

// ---- session establishment ----
export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  /** undefined when the client did not send the trailing byte (an "old" client). */
  readOnly?: boolean;
}
export function readConnectRequest(r: JuteReader): ConnectRequest {
  const req: ConnectRequest = {
    protocolVersion: r.readInt(),
    lastZxidSeen: r.readLong(),
    timeOut: r.readInt(),
    sessionId: r.readBigLong(),
    passwd: r.readBuffer() ?? Buffer.alloc(0),
  };
  if (r.remaining() >= 1) req.readOnly = r.readBool();
  return req;
}
export function writeConnectRequest(w: JuteWriter, c: ConnectRequest): void {
  w.writeInt(c.protocolVersion);
  w.writeLong(c.lastZxidSeen);
  w.writeInt(c.timeOut);
  w.writeBigLong(c.sessionId);
  w.writeBuffer(c.passwd);
  if (c.readOnly !== undefined) w.writeBool(c.readOnly);
}
export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  readOnly?: boolean;
}
export function writeConnectResponse(w: JuteWriter, c: ConnectResponse): void {
  w.writeInt(c.protocolVersion);
  w.writeInt(c.timeOut);
  w.writeBigLong(c.sessionId);
  w.writeBuffer(c.passwd);
  if (c.readOnly !== undefined) w.writeBool(c.readOnly);
}
export function readConnectResponse(r: JuteReader): ConnectResponse {
  const c: ConnectResponse = {
    protocolVersion: r.readInt(),
    timeOut: r.readInt(),
    sessionId: r.readBigLong(),
    passwd: r.readBuffer() ?? Buffer.alloc(0),
  };
  if (r.remaining() >= 1) c.readOnly = r.readBool();
  return c;
}

// ---- headers ----
export interface RequestHeader {
  xid: number;
  type: number;
}
export interface ReplyHeader {
  xid: number;
  zxid: number;
  err: number;
}
export function writeReplyHeader(w: JuteWriter, xid: number, zxid: number, err: number): void {
  w.writeInt(xid);
  w.writeLong(zxid);
  w.writeInt(err);
}
export function readReplyHeader(r: JuteReader): ReplyHeader {
  return { xid: r.readInt(), zxid: r.readLong(), err: r.readInt() };
}

export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}
export function writeWatcherEvent(w: JuteWriter, e: WatcherEvent): void {
  w.writeInt(e.type);
  w.writeInt(e.state);
  w.writeString(e.path);
}
export function readWatcherEvent(r: JuteReader): WatcherEvent {
  return { type: r.readInt(), state: r.readInt(), path: r.readStr() };
}

// ---- requests ----
export interface CreateRequest {
  path: string;
  data: Buffer | null;
  acl: ACL[] | null;
  flags: number;
  ttl: number; // -1 unless createTTL
}
export function readCreateRequest(r: JuteReader, withTtl: boolean): CreateRequest {
  const path = r.readStr();
  const data = r.readBuffer();
  const acl = readACLs(r);
  const flags = r.readInt();
  const ttl = withTtl ? r.readLong() : -1;
  return { path, data, acl, flags, ttl };
}
export function writeCreateRequest(w: JuteWriter, c: CreateRequest, withTtl: boolean): void {
  w.writeString(c.path);
  w.writeBuffer(c.data);
  writeACLs(w, c.acl);
  w.writeInt(c.flags);
  if (withTtl) w.writeLong(c.ttl);
}
export interface PathVersion {
  path: string;
  version: number;
}
export function readPathVersion(r: JuteReader): PathVersion {
  return { path: r.readStr(), version: r.readInt() };
}
export function writePathVersion(w: JuteWriter, p: PathVersion): void {
  w.writeString(p.path);
  w.writeInt(p.version);
}
export interface PathWatch {
  path: string;
  watch: boolean;
}
export function readPathWatch(r: JuteReader): PathWatch {
  return { path: r.readStr(), watch: r.readBool() };
}
export interface SetDataRequest {
  path: string;
  data: Buffer | null;
  version: number;
}
export function readSetDataRequest(r: JuteReader): SetDataRequest {
  return { path: r.readStr(), data: r.readBuffer(), version: r.readInt() };
}
export function writeSetDataRequest(w: JuteWriter, s: SetDataRequest): void {
  w.writeString(s.path);
  w.writeBuffer(s.data);
  w.writeInt(s.version);
}
export interface SetACLRequest {
  path: string;
  acl: ACL[] | null;
  version: number;
}
export function readSetACLRequest(r: JuteReader): SetACLRequest {
  return { path: r.readStr(), acl: readACLs(r), version: r.readInt() };
}
export interface PathType {
  path: string;
  type: number;
}
export function readPathType(r: JuteReader): PathType {
  return { path: r.readStr(), type: r.readInt() };
}
export interface SetWatches {
  relativeZxid: number;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}
export function readSetWatches(r: JuteReader, v2: boolean): SetWatches {
  const rd = (): string[] => r.readVector((x) => x.readStr()) ?? [];
  const relativeZxid = r.readLong();
  const dataWatches = rd();
  const existWatches = rd();
  const childWatches = rd();
  const persistentWatches = v2 ? rd() : [];
  const persistentRecursiveWatches = v2 ? rd() : [];
  return { relativeZxid, dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches };
}
export interface AuthPacket {
  type: number;
  scheme: string;
  auth: Buffer;
}
export function readAuthPacket(r: JuteReader): AuthPacket {
  return { type: r.readInt(), scheme: r.readStr(), auth: r.readBuffer() ?? Buffer.alloc(0) };
}

// ---- multi ----
export interface MultiHeader {
  type: number;
  done: boolean;
  err: number;
}
export function readMultiHeader(r: JuteReader): MultiHeader {
  return { type: r.readInt(), done: r.readBool(), err: r.readInt() };
}
export function writeMultiHeader(w: JuteWriter, type: number, done: boolean, err: number): void {
  w.writeInt(type);
  w.writeBool(done);
  w.writeInt(err);
}

// ---- txns (txn log, Zab proposals) ----
export interface TxnHeader {
  clientId: bigint;
  cxid: number;
  zxid: number;
  time: number;
  type: number;
}
export function writeTxnHeader(w: JuteWriter, h: TxnHeader): void {
  w.writeBigLong(h.clientId);
  w.writeInt(h.cxid);
  w.writeLong(h.zxid);
  w.writeLong(h.time);
  w.writeInt(h.type);
}
export function readTxnHeader(r: JuteReader): TxnHeader {
  return { clientId: r.readBigLong(), cxid: r.readInt(), zxid: r.readLong(), time: r.readLong(), type: r.readInt() };
}
