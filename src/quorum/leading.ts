// LEADING: the Zab leader core (zab/leader.ts) bound to the quorum port, the txn log and a
// ZooKeeperServer in the leader role. Every Ready is carried out by the shared executor
// (zab/executor.ts); this file is the host: sockets, the log, the DataTree and the pipeline.
import { componentLogger, Logger } from '../util/log';
import { Progress, progressIntervalMs } from '../util/progress';
import { quorumVerifier } from './verifier';
import { membershipText } from '../config/load';
import { Membership, membershipOf, parseMembership, textOf } from '../config/membership';
import * as net from 'node:net';
import { peerAuth } from './peerauth';
import { quorumServer } from './transport';
import { OpCode } from '../data/constants';
import { BufferStats, serverMetrics } from '../util/metrics';
import { serializeTxn } from '../data/txn';
import { LeaderZooKeeperServer } from '../server/leaderzk';
import { TxnLogSink } from '../server/zkserver';
import { DataTree } from '../data/datatree';
import { Id, TxnHeader } from '../jute/records';
import { RoleContext } from './role';
import { SnapSend, SnapSender } from './snapsend';
import { GroupCommit, COMMIT_LOG_COUNT } from './zkdb';
import { ReadyLoop, ZabHost } from './zab/executor';
import { ZabLeader } from './zab/leader';
import { makeZxid, PacketBatcher, PacketType as T, QuorumPacket, QuorumPacketDecoder } from './zab/packets';
import { ForwardedRequest } from './zab/payloads';
import { ZabTxn } from './zab/ready';
import { monotonicNow } from '../util/clock';

export class LeaderRole implements ZabHost {
  readonly core: ZabLeader;
  readonly since = monotonicNow();
  /** the size of each proposal's txn (header, record, digest), as Leader.propose measures it (stat, mntr) */
  readonly proposalSizes = new BufferStats();
  private readonly loop: ReadyLoop;
  private readonly log: GroupCommit;
  private readonly logger: Logger;
  private readonly sockets = new Map<number, net.Socket>();
  private readonly outs = new Map<net.Socket, PacketBatcher>();
  private server: net.Server | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private zk: LeaderZooKeeperServer | null = null;
  /** SNAP streams; commits reach the tree through it (held while a stream is encoded) */
  private readonly snaps: SnapSender;
  private ended = false;
  /** a reconfig proposed and not yet in force */
  private pendingMembership: Membership | null = null;
  private done!: () => void;
  private readonly finished = new Promise<void>((r) => (this.done = r));

  constructor(
    private readonly ctx: RoleContext,
    private readonly tree: DataTree,
    accepted: number,
    current: number,
  ) {
    this.logger = componentLogger(ctx.logger, 'Leader');
    const c = ctx.config;
    this.core = new ZabLeader({
      myid: ctx.myid,
      voters: ctx.voters,
      verifier: quorumVerifier(c),
      configVersion: c.configVersion,
      // NEWLEADER carries the membership (Leader: lastSeenQuorumVerifier), with reconfig on
      config: c.reconfigEnabled ? Buffer.from(membershipText(c), 'utf8') : null,
      lastSeen: ctx.lastSeenMembership
        ? { verifier: quorumVerifier(ctx.lastSeenMembership), version: ctx.lastSeenMembership.version, config: Buffer.from(textOf(ctx.lastSeenMembership), 'utf8') }
        : undefined,
      versionedConfig: c.reconfigEnabled ? (version) => Buffer.from(membershipText({ ...c, configVersion: version }), 'utf8') : undefined,
      acceptedEpoch: accepted,
      currentEpoch: current,
      lastZxid: tree.lastProcessedZxid,
      committedLog: ctx.db.committedLog(),
      committedLogCount: COMMIT_LOG_COUNT,
      tickTime: c.tickTime,
      initLimit: c.initLimit,
      syncLimit: c.syncLimit,
      now: monotonicNow(),
      sessions: tree.sessions,
      clock: monotonicNow,
    });
    this.pendingMembership = ctx.lastSeenMembership;
    // the pipeline applies the txns it proposed, and answers their clients
    this.snaps = new SnapSender(tree, (zxid) => this.zk?.commitUpTo(zxid));
    this.loop = new ReadyLoop(this.core, this);
    this.log = ctx.db.roleLog(
      this.logger,
      (upTo) => {
        this.core.persisted(upTo);
        this.loop.run();
      },
      () => this.ended,
      () => this.end(),
    );
  }

  /** Lead until the core steps down or the peer stops. */
  async run(): Promise<void> {
    const me = this.ctx.config.servers.get(this.ctx.myid)!;
    const server = quorumServer(this.ctx.config, this.logger, (sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(me.quorumPort, this.ctx.config.quorumListenOnAllIPs ? '0.0.0.0' : me.host, () => resolve());
    });
    this.ctx.decided('LEADING', this.ctx.myid);
    // Leader.lead pings the learners every half tick; a follower reports its sessions' activity in
    // each PING reply, so a touch reaches the session tracker within tickTime / 2
    this.ticker = setInterval(() => {
      this.core.tick(monotonicNow());
      this.loop.run();
    }, Math.max(1, Math.floor(this.ctx.config.tickTime / 2)));
    this.loop.run();
    await this.finished;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.loop.stop();
    if (this.ticker) clearInterval(this.ticker);
    this.server?.close();
    for (const s of this.sockets.values()) s.destroy();
    // the commits held for a SNAP stream reach the tree before the pipeline closes
    this.snaps.stop();
    this.zk?.shutdown();
    this.ctx.serving('looking', null);
    this.log.close().then(this.done, this.done);
  }

  private accept(sock: net.Socket): void {
    sock.setNoDelay(true);
    sock.on('error', () => sock.destroy());
    const auth = peerAuth(this.ctx.config, this.logger);
    if (!auth) return this.serveLearner(sock, Buffer.alloc(0));
    // LearnerHandler: quorum SASL before the learner's first packet
    auth.server(sock, Buffer.alloc(0)).then(
      (rest) => {
        if (!this.ended && !sock.destroyed) this.serveLearner(sock, rest);
      },
      (e) => {
        this.logger.error({ err: String(e) }, 'Server failed to authenticate quorum learner, closing connection');
        sock.destroy();
      },
    );
  }

  private serveLearner(sock: net.Socket, initial: Buffer): void {
    this.outs.set(sock, new PacketBatcher(sock));
    const stream = new QuorumPacketDecoder();
    let sid = -1;
    const onData = (chunk: Buffer): void => {
      stream.push(chunk);
      try {
        for (let p = stream.next(); p; p = stream.next()) {
          if (this.ended) return;
          if (sid < 0) {
            sid = this.identify(sock, p);
            if (sid < 0) return;
          }
          this.core.step(sid, p, monotonicNow());
          this.loop.run();
        }
      } catch (e) {
        this.logger.warn({ sid, err: String(e) }, 'bad packet from learner; closing its connection');
        sock.destroy();
      }
    };
    sock.on('data', onData);
    if (initial.length) onData(initial);
    sock.on('close', () => {
      this.outs.delete(sock);
      if (sid >= 0 && this.sockets.get(sid) === sock) {
        this.sockets.delete(sid);
        this.core.disconnected(sid);
      }
    });
  }

  /** The first packet names the learner (FOLLOWERINFO / OBSERVERINFO); a new connection replaces its old one. */
  private identify(sock: net.Socket, p: QuorumPacket): number {
    if ((p.type !== T.FOLLOWERINFO && p.type !== T.OBSERVERINFO) || !p.data || p.data.length < 8) {
      sock.destroy();
      return -1;
    }
    const sid = Number(p.data.readBigInt64BE(0));
    const old = this.sockets.get(sid);
    if (old) {
      this.sockets.delete(sid);
      old.destroy();
      this.core.disconnected(sid);
    }
    this.sockets.set(sid, sock);
    return sid;
  }

  // ---- ZabHost ----

  proceed(): boolean {
    return !this.ended;
  }
  truncate(): void {
    throw new Error('a leader never truncates');
  }
  installSnapshot(): void {
    throw new Error('a leader never installs a snapshot');
  }
  writeAcceptedEpoch(e: number): void {
    this.ctx.db.writeAcceptedEpoch(e);
  }
  writeCurrentEpoch(e: number): void {
    this.ctx.db.writeCurrentEpoch(e);
  }
  append(t: ZabTxn): void {
    serverMetrics.proposal_count.add(1);
    this.proposalSizes.add(t.data.length);
    this.log.append(t);
  }
  apply(t: ZabTxn): void {
    serverMetrics.commit_count.add(1);
    this.ctx.db.remember(t);
    this.snaps.commit(t.zxid);
    if (this.snaps.holding) this.zk?.commitHeld(t.zxid);
  }
  seen(config: Buffer): void {
    this.ctx.seeMembership(config);
  }
  activate(config: Buffer, leader: number | null): void {
    this.pendingMembership = null;
    this.ctx.activateMembership(config);
    if (leader !== null && leader !== this.ctx.myid) {
      this.logger.info({ designated: leader }, 'reconfig: this server no longer leads; waiting for its followers to move to the designated leader');
    }
  }
  send(to: number, packet: QuorumPacket, snapshot: boolean): void {
    const sock = this.sockets.get(to);
    if (!sock || sock.destroyed) return;
    const out = this.outs.get(sock)!;
    if (packet.type === T.SNAP) serverMetrics.snap_count.add(1);
    else if (packet.type === T.DIFF || packet.type === T.TRUNC) serverMetrics.diff_count.add(1);
    out.send(packet);
    // the tree is exactly at the packet's zxid here (the executor applies before it sends), or is
    // held at another zxid for a stream in progress, and the SnapSender waits for it
    if (snapshot) this.reportSnapSend(to, sock, this.snaps.send(packet.zxid, out, () => sock.destroyed));
  }
  /** Progress of a big SNAP on its way to a learner, every 5 s until the socket has taken it all. */
  private reportSnapSend(sid: number, sock: net.Socket, s: SnapSend): void {
    if (s.complete && s.taken >= s.encoded) return;
    const progress = new Progress(this.logger, `sending a SNAP to learner ${sid}`, { unit: 'bytes', everyMs: 0 });
    const t = setInterval(() => {
      if (sock.destroyed || (s.complete && s.taken >= s.encoded)) return clearInterval(t);
      progress.update(s.taken);
    }, progressIntervalMs());
    t.unref();
  }
  close(sid: number): void {
    const sock = this.sockets.get(sid);
    if (sock) {
      this.sockets.delete(sid);
      sock.destroy();
    }
  }
  forwarded(reqs: { from: number; request: ForwardedRequest; authinfo: Id[] }[]): void {
    for (const q of reqs) {
      const { sessionId, cxid, type, body } = q.request;
      if (type === OpCode.sync) {
        // linearizableSync: the SYNC waits for a no-op proposed now, i.e. for a quorum round
        if (this.ctx.config.linearizableSync) this.zk?.proposeNoop();
        this.core.syncRequest(q.from);
      }
      else this.zk?.submitRemote(sessionId, cxid, type, body, q.authinfo);
    }
  }
  expire(ids: bigint[]): void {
    for (const id of ids) this.zk?.expireSession(id);
  }
  revalidations(rs: { valid: boolean }[]): void {
    serverMetrics.revalidate_count.add(rs.length);
  }
  serving(on: boolean): void {
    if (!on || this.zk) return;
    const sink: TxnLogSink = {
      append: (hdr: TxnHeader, txn, digest) => {
        if (this.ended || this.core.state !== 'BROADCAST') return; // stepping down: the client hears it from the closed connection
        let reconfig;
        if (txn.type === OpCode.reconfig && txn.data) {
          const m = parseMembership(txn.data.toString('utf8'));
          this.pendingMembership = m;
          reconfig = { verifier: quorumVerifier(m), config: txn.data };
        }
        if (!this.core.propose(serializeTxn(hdr, txn, digest), hdr.zxid, reconfig)) return;
        this.loop.run();
      },
      // never used: the leader's server waits for commitUpTo
      commit: () => Promise.resolve(),
    };
    const zk = new LeaderZooKeeperServer(this.tree, this.ctx.settings(), sink, this.logger, this.core.sessions, this.ctx.config.linearizableSync);
    zk.setZxidBase(makeZxid(this.core.newEpoch, 0));
    const c = this.ctx.config;
    zk.prep.reconfig = {
      committed: () => membershipOf(c),
      lastSeen: () => this.pendingMembership ?? membershipOf(c),
      quorumSynced: (m) => this.core.isQuorumSynced(quorumVerifier(m), [...c.servers.values()].filter((x) => x.type === 'observer').map((x) => x.id)),
      standaloneEnabled: c.standaloneEnabled,
    };
    zk.beforeReplies = () => {
      for (const out of this.outs.values()) out.flush();
    };
    zk.startTimers();
    this.zk = zk;
    this.ctx.serving('leader', zk);
    this.ctx.updateElectionVote(this.core.newEpoch);
    this.logger.info({ epoch: this.core.newEpoch }, 'LEADING: serving clients');
  }
  stateChanged(state: string, reason: string | undefined): void {
    if (state !== 'LOOKING') return;
    this.logger.warn({ reason }, 'leader stepping down');
    this.end();
  }
  protocolError(message: string): void {
    this.logger.warn({ err: message }, 'Zab protocol error from a learner');
  }
  dropped(reason: string): void {
    this.logger.info({ reason }, 'leader dropped a learner');
  }
}
