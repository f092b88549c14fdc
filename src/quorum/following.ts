// FOLLOWING / OBSERVING: a Zab learner core (zab/learner.ts) bound to the connection to the leader,
// the txn log and a ZooKeeperServer in the learner role. Every Ready is carried out by the shared
// executor (zab/executor.ts); this file is the host. A SNAP's snapshot stream is parsed as it
// arrives (snapstream.ts) and made durable before the core hears SNAP, so the core's
// `installSnapshot` finds it in place.
import { componentLogger, Logger } from '../util/log';
import { Progress } from '../util/progress';
import * as net from 'node:net';
import { peerAuth } from './peerauth';
import { quorumConnect } from './transport';
import { DataTree } from '../data/datatree';
import { serverMetrics } from '../util/metrics';
import { deserializeTxn } from '../data/txn';
import { LearnerZooKeeperServer } from '../server/learnerzk';
import { ElectionDecision } from './election';
import { RoleContext } from './role';
import { SnapStreamReader } from './snapstream';
import { GroupCommit } from './zkdb';
import { SnapshotBodyWriter } from '../persistence';
import { StreamScan, streamScanInWorker } from '../persistence/snapcheck';
import { digestEnabled, TreeDigest } from '../data/digest';
import { ReadyLoop, ZabHost } from './zab/executor';
import { ZabFollower, ZabLearner, ZabObserver } from './zab/learner';
import { PacketBatcher, PacketType as T, QuorumPacket, QuorumPacketDecoder } from './zab/packets';
import { RevalidateReply } from './zab/payloads';
import { ZabTxn } from './zab/ready';
import { monotonicNow, msSince } from '../util/clock';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Until when a learner keeps trying to reach the leader it elected: initLimit, at most 5 s (a leader that never answers is gone). */
export function leaderConnectDeadline(ctx: RoleContext): number {
  return monotonicNow() + Math.min(ctx.config.initLimit * ctx.config.tickTime, 5000);
}

/** Learner.connectToLeader: keep trying until `deadline` (leaderConnectDeadline). */
export async function connectToLeader(ctx: RoleContext, leaderId: number, deadline: number): Promise<net.Socket> {
  const leader = ctx.config.servers.get(leaderId)!;
  for (;;) {
    const sock = await new Promise<net.Socket | null>((resolve) => {
      const s = quorumConnect(
        ctx.config,
        componentLogger(ctx.logger, 'Learner'),
        leader.host,
        leader.quorumPort,
        (ready) => resolve(ready),
        () => {
          s.destroy();
          resolve(null);
        },
      );
    });
    if (sock) {
      // Learner.connectToLeader: quorum SASL before FOLLOWERINFO
      const auth = peerAuth(ctx.config, ctx.logger);
      if (!auth) return sock;
      try {
        await auth.learner(sock);
        return sock;
      } catch (e) {
        sock.destroy();
        // closed (or silent) before the leader said a word, so no refusal of our credentials: as
        // a refused connect, try again (LearnerRole.unanswered says why a connect ends that way)
        if (sock.bytesRead > 0) throw new Error(`quorum SASL with leader ${leaderId} failed: ${(e as Error).message}`);
      }
    }
    if (ctx.stopping || monotonicNow() >= deadline) throw new Error(`could not connect to leader ${leaderId} at ${leader.host}:${leader.quorumPort}`);
    await sleep(50);
  }
}

export class LearnerRole implements ZabHost {
  readonly core: ZabLearner;
  private readonly loop: ReadyLoop;
  private readonly log: GroupCommit;
  private readonly logger: Logger;
  private readonly out: PacketBatcher;
  private readonly observer: boolean;
  private zk: LearnerZooKeeperServer;
  private ended = false;
  private ticker: NodeJS.Timeout | null = null;
  private done!: () => void;
  private readonly finished = new Promise<void>((r) => (this.done = r));
  private readonly syncStart = monotonicNow();
  // SNAP: the stream that follows the packet, read before the core sees the packet
  private readonly stream = new QuorumPacketDecoder();
  private snapPending: QuorumPacket | null = null;
  private snapReader: SnapStreamReader | null = null;
  private snapFile: SnapshotBodyWriter | null = null;
  /** the SNAP body's Adler-32 and tree digest, taken in a worker thread as the bytes come */
  private snapScan: StreamScan | null = null;
  private snapProgress: Progress | null = null;
  private busy = false;
  /** the leader has sent something on this connection (see `unanswered`) */
  private heard = false;

  constructor(
    private readonly ctx: RoleContext,
    private readonly d: ElectionDecision,
    private tree: DataTree,
    private readonly sock: net.Socket,
    accepted: number,
    current: number,
  ) {
    this.observer = d.state === 'OBSERVING';
    this.logger = componentLogger(ctx.logger, this.observer ? 'Observer' : 'Follower');
    const c = ctx.config;
    const opts = {
      myid: ctx.myid,
      leader: d.leader,
      acceptedEpoch: accepted,
      currentEpoch: current,
      lastLoggedZxid: tree.lastProcessedZxid,
      configVersion: c.configVersion,
      tickTime: c.tickTime,
      initLimit: c.initLimit,
      syncLimit: c.syncLimit,
      now: monotonicNow(),
    };
    this.core = this.observer ? new ZabObserver(opts) : new ZabFollower(opts);
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
    sock.setNoDelay(true);
    this.out = new PacketBatcher(sock);
    this.zk = this.newZk(tree);
  }

  private newZk(tree: DataTree): LearnerZooKeeperServer {
    const zk = new LearnerZooKeeperServer(
      tree,
      this.ctx.settings(),
      {
        forward: (sessionId, cxid, type, body, authIds) => {
          if (this.ended) return;
          this.core.request({ sessionId, cxid, type, body }, authIds);
          this.loop.run();
        },
        // kept in the core until the leader's next PING, whose reply carries them
        touch: (sessionId, timeoutMs) => this.core.touchSession(sessionId, timeoutMs),
        revalidate: (sessionId, timeoutMs) => {
          if (this.ended) return;
          this.core.revalidate({ sessionId, timeoutMs });
          this.loop.run();
        },
      },
      this.logger,
    );
    zk.startTimers(); // local sessions expire here (the leader expires the global ones)
    return zk;
  }

  /** Follow until the connection or the core gives up, or the peer stops. */
  async run(): Promise<void> {
    this.ctx.decided(this.observer ? 'OBSERVING' : 'FOLLOWING', this.d.leader);
    this.sock.on('data', (chunk: Buffer) => {
      this.heard = true;
      this.stream.push(chunk);
      void this.pump();
    });
    this.sock.on('close', () => {
      this.core.disconnected();
      this.loop.run();
      this.end();
    });
    this.sock.on('error', () => this.sock.destroy());
    // ZooKeeper's learner reads with SO_TIMEOUT = syncLimit ticks, so a silent leader is given up at
    // that moment; checking once per tick let a follower wait up to a tick longer (10-12 s instead
    // of 10 s at tickTime=2000, syncLimit=5, measured by bench/failover.js --fault stop). The check
    // is a comparison: a tenth of a tick costs nothing.
    this.ticker = setInterval(
      () => {
        this.core.tick(monotonicNow());
        this.loop.run();
      },
      Math.max(10, Math.floor(this.ctx.config.tickTime / 10)),
    );
    this.loop.run();
    await this.finished;
  }

  /**
   * The connection closed before the leader sent a byte: no leader answered it, as when a connect
   * is refused. A proxy or a service mesh's sidecar between the peers accepts the connection
   * itself and then closes it when the leader does not listen yet (a follower that decided the
   * election a round trip before its leader did connects that early): the caller connects again,
   * within the same deadline, instead of giving up the leader the election chose.
   */
  get unanswered(): boolean {
    return this.ended && !this.heard;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.loop.stop();
    if (this.ticker) clearInterval(this.ticker);
    this.sock.destroy();
    this.zk.shutdown();
    this.ctx.serving('looking', null);
    // a SNAP cut off: its half-written file goes
    const file = this.snapFile;
    this.snapFile = null;
    this.snapScan?.cancel();
    this.snapScan = null;
    const closed = Promise.all([this.log.close(), file?.abort()]);
    closed.then(this.done, this.done);
  }

  /** Packets from the leader, in order; a SNAP waits for its whole snapshot stream. */
  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        if (this.ended) return;
        if (this.snapPending) {
          if (!(await this.receiveSnapshot())) return;
          continue;
        }
        const p = this.stream.next();
        if (!p) return;
        if (p.type === T.SNAP) {
          this.snapPending = p;
          continue;
        }
        if (p.type === T.PROPOSAL) serverMetrics.learner_proposal_received_count.add(1);
        else if (p.type === T.COMMIT || p.type === T.INFORM) serverMetrics.learner_commit_received_count.add(1);
        this.core.step(this.d.leader, p, monotonicNow());
        this.loop.run();
      }
    } catch (e) {
      this.logger.warn({ err: String(e) }, 'sync with the leader failed');
      this.ctx.db.invalidate();
      this.end();
    } finally {
      this.busy = false;
    }
  }

  /** Feed the snapshot stream after SNAP to its incremental reader; once complete, make it durable, then step SNAP. */
  private async receiveSnapshot(): Promise<boolean> {
    const snap = this.snapPending!;
    // lengths bounded by jute.maxbuffer as Learner's BinaryInputArchive bounds them: a corrupt one fails at once
    // the stream is the body of the snapshot file this peer must write: it goes to disk as it comes
    this.snapFile ??= this.ctx.db.snapshotFileFor(snap.zxid);
    const file = this.snapFile;
    // its checksum and the tree digest are a worker's (~0.4 s of this thread per 1M znodes)
    const scan = (this.snapScan ??= streamScanInWorker(file.handOffChecksum(), digestEnabled()));
    const reader = (this.snapReader ??= new SnapStreamReader(snap.zxid, this.logger, {
      maxBuffer: this.ctx.config.juteMaxBuffer,
      externalDigest: true,
      bodySink: (b) => {
        file.write(b);
        scan.push(b);
      },
    }));
    // the stream carries no length: a big one shows bytes, znodes and rate, not a percentage
    this.snapProgress ??= new Progress(this.logger, `receiving a SNAP at zxid 0x${snap.zxid.toString(16)} from leader ${this.d.leader}`, { unit: 'bytes' });
    const b = this.stream.buffered();
    if (b.length) {
      reader.push(Buffer.from(b)); // buffered() is only valid until the decoder's next push
      this.stream.consume(b.length);
    }
    const tree = reader.read();
    if (!tree) {
      this.snapProgress.update(reader.offset, { znodes: reader.nodeCount });
      return false;
    }
    this.snapProgress = null;
    // the decoder is empty: what followed the stream are the next packets
    this.stream.push(reader.remainder());
    this.snapReader = null;
    const bodyEnd = reader.offset; // the tree is read: where its body ended
    const checked = await scan.result();
    this.snapScan = null;
    if (this.ended) return false;
    if ('error' in checked) throw new Error(`the check of the SNAP stream failed: ${checked.error} at offset ${checked.offset}`);
    if (checked.end !== bodyEnd || checked.records !== reader.nodeCount) {
      throw new Error(`the check of the SNAP stream ended at offset ${checked.end} after ${checked.records} znodes, its parse at ${bodyEnd} after ${reader.nodeCount}`);
    }
    tree.loaded(TreeDigest.of(checked.digest));
    file.setChecksum(checked.adler);
    await this.log.close();
    this.snapFile = null;
    await this.ctx.db.installSnapshot(tree, file);
    if (this.ended) return false;
    this.log.setWriter(this.ctx.db.newWriter());
    this.tree = tree;
    this.zk.shutdown();
    this.zk = this.newZk(this.tree);
    this.snapPending = null;
    this.core.step(this.d.leader, snap, monotonicNow());
    this.loop.run();
    return true;
  }

  // ---- ZabHost ----

  proceed(): boolean {
    return !this.ended;
  }
  truncate(zxid: number): void {
    // the tree holds txns the leader does not have: cut the log, reload from disk and rejoin
    this.ctx.db.truncate(zxid);
    this.logger.info({ zxid: zxid.toString(16) }, 'TRUNC: txn log cut; reloading and rejoining');
    this.end();
  }
  installSnapshot(zxid: number): void {
    // receiveSnapshot made it durable before the core saw SNAP
    if (this.tree.lastProcessedZxid !== zxid) throw new Error(`SNAP at ${zxid.toString(16)} but the installed tree is at ${this.tree.lastProcessedZxid.toString(16)}`);
  }
  writeAcceptedEpoch(e: number): void {
    this.ctx.db.writeAcceptedEpoch(e);
  }
  writeCurrentEpoch(e: number): void {
    this.ctx.db.writeCurrentEpoch(e);
  }
  append(t: ZabTxn): void {
    this.log.append(t);
  }
  apply(t: ZabTxn): void {
    const { hdr, txn, digest } = deserializeTxn(t.data);
    this.zk.applyCommitted(hdr, txn, digest);
    this.ctx.db.remember(t);
  }
  /**
   * QuorumPeer.processReconfig on a learner: the membership comes into force; if this server's
   * role changed (participant, observer, or gone) or its leader did (the designated one, or the
   * current leader no longer votes), the role ends and an election follows.
   */
  seen(config: Buffer): void {
    this.ctx.seeMembership(config);
  }
  activate(config: Buffer, leader: number | null): void {
    if (!this.ctx.activateMembership(config)) return;
    const servers = this.ctx.config.servers;
    const me = servers.get(this.ctx.myid);
    // a server the reconfig removed keeps its role, without a vote, until it is shut down
    const roleChanged = me !== undefined && (me.type === 'observer') !== this.observer;
    const cur = this.d.leader;
    const leaderChanged = leader !== null ? leader !== cur : servers.get(cur)?.type !== 'participant';
    if (!me) this.logger.warn({}, 'reconfig: this server is no longer a member of the ensemble; it follows without a vote until it is shut down');
    if (roleChanged) this.core.leave(`reconfig: this server is now a${me!.type === 'observer' ? 'n observer' : ' participant'}`);
    else if (leaderChanged) {
      // 3.8 goes straight to the designated leader (reconfigFlag); so do we, and Java followers
      // do likewise: a designated zk-server leads without waiting for an election they skip
      if (leader !== null && servers.get(leader)?.type === 'participant') this.ctx.designated(leader);
      this.core.leave(`reconfig: the leader is now ${leader ?? 'to be elected'} (was ${cur})`);
    }
  }
  send(_to: number, packet: QuorumPacket): void {
    this.out.send(packet);
  }
  close(): void {}
  revalidated(replies: RevalidateReply[]): void {
    for (const v of replies) this.zk.revalidated(v.sessionId, v.valid);
  }
  synced(count: number): void {
    for (let i = 0; i < count; i++) this.zk.syncDone();
  }
  serving(on: boolean): void {
    if (!on) return;
    (this.observer ? serverMetrics.observer_sync_time : serverMetrics.follower_sync_time).add(msSince(this.syncStart));
    this.ctx.serving(this.observer ? 'observer' : 'follower', this.zk);
    this.ctx.updateElectionVote(this.core.newEpoch);
    this.logger.info({ leader: this.d.leader, sync: this.core.syncMode }, `${this.observer ? 'OBSERVING' : 'FOLLOWING'}: serving clients`);
  }
  stateChanged(state: string, reason: string | undefined): void {
    if (state !== 'LOOKING') return;
    this.logger.warn({ reason }, 'learner lost its leader');
    this.end();
  }
  protocolError(message: string): void {
    this.logger.warn({ err: message }, 'Zab protocol error from the leader');
  }
}
