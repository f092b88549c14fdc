// A small ZooKeeper client: one session over a connect string of several servers, the session
// handshake, requests matched to replies by xid (replies come back in request order), pings at a
// third of the negotiated timeout, watch notifications, auth packets replayed after a reconnect, and
// failover to the next server with the same session. Multi is not spoken here.
import * as net from 'node:net';
import { JuteReader, JuteWriter } from '../jute/archive';
import { ACL, readACLs, readConnectResponse, readReplyHeader, readStat, readWatcherEvent, Stat, writeACLs, writeConnectRequest, writeMultiHeader } from '../jute/records';
import { Err, EventType, OpCode, Xid } from '../data/constants';
import { ConnectString, HostPort, parseConnectString } from './connectstring';
import { KeeperException, validatePath } from './errors';
import { BodyWriter, createBody, FrameSplitter, pathBool } from './requests';
import { ClientEventType, WatchRegistry } from './watches';
import { monotonicNow } from '../util/clock';

/** ZooKeeper.States as the Java client names them (zkCli's prompt shows them). */
export type ClientState = 'CONNECTING' | 'CONNECTED' | 'CONNECTEDREADONLY' | 'CLOSED' | 'AUTH_FAILED';

/** Watcher.Event.KeeperState names. */
export type KeeperStateName = 'Disconnected' | 'SyncConnected' | 'AuthFailed' | 'ConnectedReadOnly' | 'Expired' | 'Closed';

export interface WatchedEvent {
  state: KeeperStateName;
  /** Watcher.Event.EventType name: None, NodeCreated, ..., DataWatchRemoved, ... */
  type: string;
  path: string | null;
}

const EVENT_TYPE_NAMES: Record<number, string> = {
  [EventType.None]: 'None',
  [EventType.NodeCreated]: 'NodeCreated',
  [EventType.NodeDeleted]: 'NodeDeleted',
  [EventType.NodeDataChanged]: 'NodeDataChanged',
  [EventType.NodeChildrenChanged]: 'NodeChildrenChanged',
  [ClientEventType.DataWatchRemoved]: 'DataWatchRemoved',
  [ClientEventType.ChildWatchRemoved]: 'ChildWatchRemoved',
  [ClientEventType.PersistentWatchRemoved]: 'PersistentWatchRemoved',
};

export interface ClientOptions {
  /** requested session timeout, ms */
  sessionTimeout?: number;
  /** accept a read-only server (zkCli -r) */
  readOnly?: boolean;
}

/** CreateMode flags as sent in the request. */
export const CreateFlags = { PERSISTENT: 0, EPHEMERAL: 1, PERSISTENT_SEQUENTIAL: 2, EPHEMERAL_SEQUENTIAL: 3, CONTAINER: 4, PERSISTENT_WITH_TTL: 5, PERSISTENT_SEQUENTIAL_WITH_TTL: 6 } as const;

type Body = BodyWriter;

interface Packet {
  xid: number;
  type: number;
  body?: Body;
  /** the client path, for error messages */
  path?: string;
  resolve: (r: JuteReader, err: number) => void;
  reject: (e: Error) => void;
}

const CONFIG_NODE = '/zookeeper/config';

export class ZkClient {
  private readonly cs: ConnectString;
  private readonly hosts: HostPort[];
  private hostIndex = 0;
  private sock: net.Socket | null = null;
  private frames = new FrameSplitter();
  private handshaken = false;
  private nextXid = 1;
  private readonly outgoing: Packet[] = [];
  private readonly pending: Packet[] = [];
  private readonly auth: { scheme: string; data: Buffer | null }[] = [];
  private pingTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private lastHeard = 0;
  private closing = false;
  private readonly closedWaiters: (() => void)[] = [];
  readonly watches = new WatchRegistry();
  state: ClientState = 'CONNECTING';
  sessionId = 0n;
  private passwd = Buffer.alloc(16);
  negotiatedTimeout = 0;
  lastZxid = 0;
  /** the server this client is talking to (host:port), for status output */
  currentServer = '';

  constructor(
    readonly connectString: string,
    private readonly onEvent: (e: WatchedEvent) => void,
    private readonly opts: ClientOptions = {},
  ) {
    this.cs = parseConnectString(connectString);
    // shuffled like StaticHostProvider, so clients spread over the ensemble
    this.hosts = [...this.cs.hosts].sort(() => Math.random() - 0.5);
    this.connectNext();
  }

  get sessionTimeout(): number {
    return this.opts.sessionTimeout ?? 30000;
  }

  /** Alive = not closed and not failed authentication (States.isAlive). */
  get isAlive(): boolean {
    return this.state !== 'CLOSED' && this.state !== 'AUTH_FAILED';
  }

  get isConnected(): boolean {
    return this.state === 'CONNECTED' || this.state === 'CONNECTEDREADONLY';
  }

  // ------------------------------------------------------------------ connection

  private connectNext(): void {
    if (this.closing || this.state === 'CLOSED') return;
    const hp = this.hosts[this.hostIndex++ % this.hosts.length];
    this.frames = new FrameSplitter();
    this.handshaken = false;
    const sock = net.connect({ host: hp.host, port: hp.port });
    this.sock = sock;
    sock.setNoDelay(true);
    // a server that takes no TCP connection or gives no ConnectResponse: try the next one
    sock.setTimeout(Math.max(1000, Math.floor(this.sessionTimeout / this.hosts.length)), () => sock.destroy());
    sock.on('connect', () => {
      this.currentServer = `${hp.host}:${hp.port}`;
      this.sendConnectRequest();
    });
    sock.on('data', (d: Buffer) => this.onData(sock, d));
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.onSocketClosed(sock));
  }

  private sendConnectRequest(): void {
    const w = new JuteWriter(64);
    const at = w.beginFrame();
    writeConnectRequest(w, {
      protocolVersion: 0,
      lastZxidSeen: this.lastZxid,
      timeOut: this.sessionTimeout,
      sessionId: this.sessionId,
      passwd: this.passwd,
      readOnly: this.opts.readOnly ?? false,
    });
    w.endFrame(at);
    this.sock?.write(Buffer.from(w.finish()));
  }

  private onSocketClosed(sock: net.Socket): void {
    if (sock !== this.sock) return;
    this.sock = null;
    this.stopPings();
    const wasConnected = this.isConnected;
    if (this.state === 'AUTH_FAILED') {
      // the server refused our credentials and hung up: the client is done, and says why
      this.failPending(Err.AUTHFAILED);
      for (const p of this.outgoing.splice(0)) p.reject(new KeeperException(Err.AUTHFAILED, p.path));
      return;
    }
    this.failPending(Err.CONNECTIONLOSS);
    if (this.closing || this.state === 'CLOSED') {
      this.finishClose();
      return;
    }
    this.state = 'CONNECTING';
    if (wasConnected) this.emit('Disconnected', EventType.None, null);
    // a short pause between attempts, longer once every server has been tried
    const delay = this.hostIndex % this.hosts.length === 0 ? 1000 : 50;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connectNext();
    }, delay);
  }

  private failPending(code: number): void {
    for (const p of this.pending.splice(0)) p.reject(new KeeperException(code, p.path));
  }

  private onData(sock: net.Socket, d: Buffer): void {
    if (sock !== this.sock) return;
    this.lastHeard = monotonicNow();
    for (const frame of this.frames.push(d)) {
      // a frame may end this connection (a reply out of order): the rest is not for the next one
      if (sock !== this.sock) return;
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Buffer): void {
    const r = new JuteReader(frame);
    if (!this.handshaken) {
      this.handshaken = true;
      this.onConnectResponse(r);
      return;
    }
    const h = readReplyHeader(r);
    if (h.zxid > 0 && h.xid !== Xid.NOTIFICATION) this.lastZxid = h.zxid;
    if (h.xid === Xid.NOTIFICATION) {
      const ev = readWatcherEvent(r);
      const path = this.clientPath(ev.path);
      if (this.watches.fire(ev.type, path)) this.emit('SyncConnected', ev.type, path);
      return;
    }
    if (h.xid === Xid.PING || h.xid === Xid.SET_WATCHES) return;
    if (h.xid === Xid.AUTH) {
      if (h.err === Err.AUTHFAILED) {
        this.state = 'AUTH_FAILED';
        this.emit('AuthFailed', EventType.None, null);
      }
      return;
    }
    const p = this.pending.shift();
    if (!p) return;
    if (p.xid !== h.xid) {
      // the server broke the ordering guarantee: nothing more on this connection can be trusted
      p.reject(new KeeperException(Err.CONNECTIONLOSS, p.path));
      this.sock?.destroy();
      return;
    }
    p.resolve(r, h.err);
  }

  private onConnectResponse(r: JuteReader): void {
    const resp = readConnectResponse(r);
    if (resp.timeOut <= 0) {
      // the session is gone: the client is done for good (a new ZooKeeper object is needed)
      this.state = 'CLOSED';
      this.emit('Expired', EventType.None, null);
      for (const p of this.outgoing.splice(0)) p.reject(new KeeperException(Err.SESSIONEXPIRED, p.path));
      this.sock?.destroy();
      return;
    }
    this.sock?.setTimeout(0);
    this.sessionId = resp.sessionId;
    this.passwd = Buffer.from(resp.passwd);
    this.negotiatedTimeout = resp.timeOut;
    this.state = resp.readOnly ? 'CONNECTEDREADONLY' : 'CONNECTED';
    this.restoreWatches();
    for (const a of this.auth) this.writePacket(authPacket(a.scheme, a.data));
    this.startPings();
    this.emit(resp.readOnly ? 'ConnectedReadOnly' : 'SyncConnected', EventType.None, null);
    this.flush();
  }

  /** After a reconnect, the server learns again which watches this session holds (setWatches). */
  private restoreWatches(): void {
    const w = this.watches;
    if (w.empty) return;
    const list = (s: Set<string>): string[] => [...s].map((p) => this.serverPath(p));
    // setWatches2 only when there are persistent watches, as the Java client: older servers know only setWatches
    const v2 = w.persistent.size > 0 || w.recursive.size > 0;
    const sets = v2 ? [w.data, w.exist, w.child, w.persistent, w.recursive] : [w.data, w.exist, w.child];
    this.writePacket({
      xid: Xid.SET_WATCHES,
      type: v2 ? OpCode.setWatches2 : OpCode.setWatches,
      body: (x) => {
        x.writeLong(this.lastZxid);
        for (const s of sets) x.writeVector(list(s), (y, p) => y.writeString(p));
      },
      resolve: () => {},
      reject: () => {},
    });
  }

  private startPings(): void {
    this.stopPings();
    this.lastHeard = monotonicNow();
    const every = Math.max(100, Math.floor(this.negotiatedTimeout / 3));
    this.pingTimer = setInterval(() => {
      // silence for two thirds of the timeout: this server is gone, try another before the session expires
      if (monotonicNow() - this.lastHeard > (this.negotiatedTimeout * 2) / 3) {
        this.sock?.destroy();
        return;
      }
      this.writePacket({ xid: Xid.PING, type: OpCode.ping, resolve: () => {}, reject: () => {} });
    }, every);
    this.pingTimer.unref();
  }

  private stopPings(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private emit(state: KeeperStateName, type: number, path: string | null): void {
    this.onEvent({ state, type: EVENT_TYPE_NAMES[type] ?? String(type), path });
  }

  // ------------------------------------------------------------------ requests

  private writePacket(p: Packet): void {
    const w = new JuteWriter(128);
    const at = w.beginFrame();
    w.writeInt(p.xid);
    w.writeInt(p.type);
    p.body?.(w);
    w.endFrame(at);
    this.sock?.write(Buffer.from(w.finish()));
  }

  private flush(): void {
    while (this.isConnected && this.outgoing.length) {
      const p = this.outgoing.shift()!;
      p.xid = this.nextXid++;
      this.pending.push(p);
      this.writePacket(p);
    }
  }

  /** Queue a request (sent at once when connected, else after the handshake); resolves with the reply body. */
  private submit(type: number, path: string | undefined, body?: Body): Promise<JuteReader> {
    return new Promise((resolve, reject) => {
      if (!this.isAlive) return reject(new KeeperException(Err.SESSIONEXPIRED, path));
      this.outgoing.push({
        xid: 0,
        type,
        body,
        path,
        resolve: (r, err) => (err === 0 ? resolve(r) : reject(new KeeperException(err, path))),
        reject,
      });
      this.flush();
    });
  }

  private serverPath(p: string): string {
    if (!this.cs.chroot) return p;
    return p === '/' ? this.cs.chroot : this.cs.chroot + p;
  }

  private clientPath(p: string): string {
    const c = this.cs.chroot;
    if (!c || !p.startsWith(c)) return p;
    return p.length === c.length ? '/' : p.substring(c.length);
  }

  async create(path: string, data: Buffer | null, acl: ACL[], flags: number, ttl = -1): Promise<string> {
    validatePath(path, (flags & 2) !== 2 ? false : true);
    const op = flags === CreateFlags.CONTAINER ? OpCode.createContainer : ttl >= 0 ? OpCode.createTTL : OpCode.create;
    const r = await this.submit(op, path, createBody(this.serverPath(path), data, acl, flags, op === OpCode.createTTL ? ttl : undefined));
    return this.clientPath(r.readStr());
  }

  async delete(path: string, version = -1): Promise<void> {
    validatePath(path);
    await this.submit(OpCode.delete, path, (w) => {
      w.writeString(this.serverPath(path));
      w.writeInt(version);
    });
  }

  /** The node's Stat, or null when it does not exist (an exists watch then waits for its creation). */
  async exists(path: string, watch = false): Promise<Stat | null> {
    validatePath(path);
    try {
      const r = await this.submit(OpCode.exists, path, pathBool(this.serverPath(path), watch));
      if (watch) this.watches.data.add(path);
      return readStat(r);
    } catch (e) {
      if (e instanceof KeeperException && e.code === Err.NONODE) {
        if (watch) this.watches.exist.add(path);
        return null;
      }
      throw e;
    }
  }

  async getData(path: string, watch = false): Promise<{ data: Buffer | null; stat: Stat }> {
    validatePath(path);
    return this.readData(path, this.serverPath(path), watch);
  }

  private async readData(path: string, serverPath: string, watch: boolean): Promise<{ data: Buffer | null; stat: Stat }> {
    const r = await this.submit(OpCode.getData, path, pathBool(serverPath, watch));
    if (watch) this.watches.data.add(path);
    const data = r.readBuffer();
    return { data: data && Buffer.from(data), stat: readStat(r) };
  }

  /** The ensemble's dynamic configuration (/zookeeper/config, never under the chroot). */
  getConfig(watch = false): Promise<{ data: Buffer | null; stat: Stat }> {
    return this.readData(CONFIG_NODE, CONFIG_NODE, watch);
  }

  async setData(path: string, data: Buffer | null, version = -1): Promise<Stat> {
    validatePath(path);
    const r = await this.submit(OpCode.setData, path, (w) => {
      w.writeString(this.serverPath(path));
      w.writeBuffer(data);
      w.writeInt(version);
    });
    return readStat(r);
  }

  async getChildren(path: string, watch = false): Promise<{ children: string[]; stat: Stat }> {
    validatePath(path);
    const r = await this.submit(OpCode.getChildren2, path, pathBool(this.serverPath(path), watch));
    if (watch) this.watches.child.add(path);
    const children = r.readVector((x) => x.readStr()) ?? [];
    return { children, stat: readStat(r) };
  }

  async getACL(path: string): Promise<{ acl: ACL[]; stat: Stat }> {
    validatePath(path);
    const r = await this.submit(OpCode.getACL, path, (w) => void w.writeString(this.serverPath(path)));
    const acl = readACLs(r) ?? [];
    return { acl, stat: readStat(r) };
  }

  async setACL(path: string, acl: ACL[], version = -1): Promise<Stat> {
    validatePath(path);
    const r = await this.submit(OpCode.setACL, path, (w) => {
      w.writeString(this.serverPath(path));
      writeACLs(w, acl);
      w.writeInt(version);
    });
    return readStat(r);
  }

  async sync(path: string): Promise<void> {
    validatePath(path);
    await this.submit(OpCode.sync, path, (w) => void w.writeString(this.serverPath(path)));
  }

  async getAllChildrenNumber(path: string): Promise<number> {
    validatePath(path);
    const r = await this.submit(OpCode.getAllChildrenNumber, path, (w) => void w.writeString(this.serverPath(path)));
    return r.readInt();
  }

  /** The session's ephemerals under `prefix` (all of them for '/'), chroot and all. */
  async getEphemerals(prefix = '/'): Promise<string[]> {
    validatePath(prefix);
    const r = await this.submit(OpCode.getEphemerals, prefix, (w) => void w.writeString(this.serverPath(prefix)));
    // the paths come back as the server names them, chroot included, as the Java client leaves them
    return r.readVector((x) => x.readStr()) ?? [];
  }

  async whoAmI(): Promise<{ scheme: string; user: string }[]> {
    const r = await this.submit(OpCode.whoAmI, undefined);
    return r.readVector((x) => ({ scheme: x.readStr(), user: x.readStr() })) ?? [];
  }

  /** A persistent (mode 0) or persistent recursive (mode 1) watch. */
  async addWatch(path: string, mode: number): Promise<void> {
    validatePath(path);
    await this.submit(OpCode.addWatch, path, (w) => {
      w.writeString(this.serverPath(path));
      w.writeInt(mode);
    });
    (mode === 1 ? this.watches.recursive : this.watches.persistent).add(path);
  }

  /**
   * Remove this client's watches of `type` on `path`. The client must hold one (NoWatcher otherwise);
   * with `local` the watches go even when the server cannot be asked. Each kind of watch removed is
   * reported to the watcher as a …WatchRemoved event.
   */
  async removeWatches(path: string, type: number, local = false): Promise<void> {
    validatePath(path);
    if (!this.watches.holds(path, type)) throw new KeeperException(Err.NOWATCHER, path);
    try {
      // -l without a server: nothing to wait for
      if (!local || this.isConnected) await this.submit(OpCode.removeWatches, path, (w) => {
        w.writeString(this.serverPath(path));
        w.writeInt(type);
      });
    } catch (e) {
      // with `local` the client forgets its watches whatever the server said (or if it could not be asked)
      if (!(e instanceof KeeperException) || !local) throw e;
    }
    const removed = this.watches.remove(path, type);
    if (!removed) throw new KeeperException(Err.NOWATCHER, path);
    for (const t of removed) this.emit('SyncConnected', t, path);
  }

  /**
   * Delete several znodes in one multi, atomically (ZKUtil.deleteRecursive's batches). Resolves
   * to the multi's error code: 0 when every delete was done.
   */
  async multiDelete(paths: string[]): Promise<number> {
    for (const p of paths) validatePath(p);
    try {
      await this.submit(OpCode.multi, paths[0], (w) => {
        for (const p of paths) {
          writeMultiHeader(w, OpCode.delete, false, -1);
          w.writeString(this.serverPath(p));
          w.writeInt(-1);
        }
        writeMultiHeader(w, -1, true, -1);
      });
      return 0;
    } catch (e) {
      if (e instanceof KeeperException) return e.code;
      throw e;
    }
  }

  /** addAuthInfo: sent now if connected, and again after every reconnect. No reply is awaited. */
  addAuthInfo(scheme: string, data: Buffer | null): void {
    this.auth.push({ scheme, data });
    if (this.isConnected) this.writePacket(authPacket(scheme, data));
  }

  /** reconfig (ZooKeeperAdmin.reconfigure): the new configuration's data and stat. */
  async reconfig(joining: string | null, leaving: string | null, members: string | null, version: number): Promise<{ data: Buffer | null; stat: Stat }> {
    // ZooKeeperAdmin names no path in its exceptions: "" (zkCli prints "Insufficient permission : ")
    const r = await this.submit(OpCode.reconfig, '', (w) => {
      w.writeString(joining);
      w.writeString(leaving);
      w.writeString(members);
      w.writeLong(version);
    });
    const data = r.readBuffer();
    return { data: data && Buffer.from(data), stat: readStat(r) };
  }

  /** Close the session (closeSession), then the socket; the watcher hears state Closed. */
  async close(ms = 2000): Promise<void> {
    // closed already, or refused by the server (AUTH_FAILED): nothing to close, nothing to tell
    if (!this.isAlive) {
      this.sock?.destroy();
      return;
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.isConnected && this.sock) {
      const done = new Promise<void>((res) => this.closedWaiters.push(res));
      const reply = this.submit(OpCode.closeSession, undefined).catch(() => {});
      this.closing = true;
      const t = setTimeout(() => this.sock?.destroy(), ms);
      await reply;
      this.sock?.destroy();
      await done;
      clearTimeout(t);
    } else {
      this.closing = true;
      this.sock?.destroy();
      this.finishClose();
    }
  }

  private finishClose(): void {
    if (this.state === 'CLOSED' && !this.closing) return;
    this.stopPings();
    this.closing = false;
    this.state = 'CLOSED';
    for (const p of this.outgoing.splice(0)) p.reject(new KeeperException(Err.CONNECTIONLOSS, p.path));
    this.emit('Closed', EventType.None, null);
    for (const w of this.closedWaiters.splice(0)) w();
  }
}

function authPacket(scheme: string, data: Buffer | null): Packet {
  return {
    xid: Xid.AUTH,
    type: OpCode.auth,
    body: (w) => {
      w.writeInt(0);
      w.writeString(scheme);
      w.writeBuffer(data);
    },
    resolve: () => {},
    reject: () => {},
  };
}
