// QuorumPeer: the process-level loop of an ensemble member. LOOKING (FastLeaderElection) →
// LEADING / FOLLOWING / OBSERVING (the Zab cores of src/quorum/zab bound to the quorum port, the
// txn log and a ZooKeeperServer in the matching role) → back to LOOKING when that ends.
//
// The DataTree survives a role change (ZooKeeperServer.shutdown's fastForwardDataBase): when a
// role ends, the txns logged beyond the tree are applied to it, so the next election and sync
// start at once instead of re-reading the snapshot and the whole txn log. Only a TRUNC (which
// cuts history the tree already holds) or an error makes the peer reload from disk.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type pino from 'pino';
import { ServerConfig } from '../config/types';
import { prepareDataDirs, readTxnLog, restore, saveSnapshot, truncateLog, TxnLogWriter } from '../persistence';
import { DataTree } from '../server/datatree';
import { OpCode } from '../server/constants';
import { deserializeTxn, serializeTxn } from '../server/txn';
import { FourLetterContext } from '../server/fourlw';
import { ClientListener } from '../server/net';
import { ServerSettings, TxnLogSink, ZooKeeperServer } from '../server/zkserver';
import { collectGarbage } from '../server/gc';
import { serverMetrics } from '../server/metrics';
import { TxnHeader } from '../jute/records';
import { ACCEPTED_EPOCH, CURRENT_EPOCH, loadEpochs, writeEpochFile } from './epochs';
import { ElectionDecision, ElectionService } from './election';
import { parseSnapStream, serializeSnapStream } from './snapstream';
import { ZabLeader } from './zab/leader';
import { ZabFollower, ZabLearner, ZabObserver } from './zab/learner';
import { makeZxid, PacketBatcher, PacketType as T, QuorumPacket, QuorumPacketDecoder } from './zab/packets';
import { Ready, Txn } from './zab/ready';

export type PeerMode = 'leader' | 'follower' | 'observer' | 'looking';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** zookeeper.commitLogCount: committed txns kept in memory for DIFF syncs */
const COMMIT_LOG_COUNT = 500;

export class QuorumPeer {
  mode: PeerMode = 'looking';
  zk: ZooKeeperServer | null = null;
  private stopped = false;
  private election!: ElectionService;
  listener!: ClientListener;
  private snapDir: string;
  private logDir: string;
  private endRole: (() => void) | null = null;
  /** the in-memory database, kept across roles; null = (re)load from disk */
  private tree: DataTree | null = null;
  /** the last txns applied to `tree`, oldest first (ZKDatabase.committedLog) */
  private window: Txn[] = [];
  readonly myid: number;
  private leaderCore: ZabLeader | null = null;
  private leaderSince = 0;

  /** leader only (mntr): learners connected, followers and observers in sync */
  get leaderStats(): { learners: number; syncedFollowers: number; syncedObservers: number; pendingSyncs: number; since: number } {
    const ls = this.leaderCore?.learners() ?? [];
    return {
      learners: ls.length,
      syncedFollowers: ls.filter((l) => l.upToDate && !l.observer).length,
      syncedObservers: ls.filter((l) => l.upToDate && l.observer).length,
      pendingSyncs: 0,
      since: this.leaderSince,
    };
  }

  /** voting members (mntr zk_quorum_size: QuorumPeer.getQuorumSize) */
  get quorumSize(): number {
    return this.voters.length;
  }

  constructor(
    readonly config: ServerConfig,
    readonly logger: pino.Logger,
    readonly ctx: FourLetterContext,
  ) {
    const dirs = prepareDataDirs(config.dataDir, config.dataLogDir);
    this.snapDir = dirs.snapDir;
    this.logDir = dirs.logDir;
    this.myid = config.myid!;
  }

  private get voters(): number[] {
    return [...this.config.servers.values()].filter((s) => s.type === 'participant').map((s) => s.id);
  }
  private get observers(): number[] {
    return [...this.config.servers.values()].filter((s) => s.type === 'observer').map((s) => s.id);
  }

  settings(): ServerSettings {
    const c = this.config;
    return {
      serverId: this.myid,
      tickTime: c.tickTime,
      minSessionTimeout: c.minSessionTimeout,
      maxSessionTimeout: c.maxSessionTimeout,
      maxBuffer: c.juteMaxBuffer,
      globalOutstandingLimit: c.globalOutstandingLimit,
      extendedTypesEnabled: c.extendedTypesEnabled,
      skipACL: c.skipACL,
      reconfigEnabled: c.reconfigEnabled,
      superDigest: c.superDigest,
      containerCheckIntervalMs: c.containerCheckIntervalMs,
      containerMaxPerMinute: c.containerMaxPerMinute,
    };
  }

  private newWriter(): TxnLogWriter {
    return new TxnLogWriter(this.logDir, { preAllocSize: this.config.preAllocSize, forceSync: this.config.forceSync });
  }

  async start(): Promise<void> {
    this.election = new ElectionService(this.config, this.logger);
    await this.election.start();
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.endRole?.();
    this.zk?.shutdown();
    await this.election.stop();
  }

  /** Snapshot + txn log → DataTree (ZKDatabase.loadDataBase), and the committed-log window. */
  private async loadDb(): Promise<DataTree> {
    const t0 = Date.now();
    const r = await restore(this.config.dataDir, this.config.dataLogDir, (lvl, msg) => {
      if (lvl === 'warn' || lvl === 'error') this.logger.warn(msg);
      else this.logger.debug(msg);
    });
    this.initConfigNode(r.tree);
    this.window = [];
    for (const e of readTxnLog(this.logDir, r.snapshotZxid + 1)) {
      if (e.hdr.zxid > r.tree.lastProcessedZxid) break;
      this.remember({ zxid: e.hdr.zxid, data: Buffer.from(e.entry) });
    }
    serverMetrics.dbinittime.add(Date.now() - t0);
    collectGarbage();
    return r.tree;
  }

  private remember(t: Txn): void {
    this.window.push(t);
    if (this.window.length > 2 * COMMIT_LOG_COUNT) this.window.splice(0, this.window.length - COMMIT_LOG_COUNT);
  }

  /** ZKDatabase.fastForwardDataBase: apply what the txn log holds beyond the tree. */
  private fastForward(tree: DataTree): void {
    let n = 0;
    for (const e of readTxnLog(this.logDir, tree.lastProcessedZxid + 1)) {
      if (e.hdr.zxid <= tree.lastProcessedZxid) continue;
      tree.processTxn(e.hdr, e.txn);
      this.remember({ zxid: e.hdr.zxid, data: Buffer.from(e.entry) });
      n++;
    }
    if (n) this.logger.info({ txns: n, zxid: tree.lastProcessedZxid.toString(16) }, 'fast-forwarded the database from the txn log');
  }

  /** The membership text ZooKeeper keeps in /zookeeper/config (QuorumMaj.toString). */
  configText(): string {
    const lines = [...this.config.servers.values()]
      .sort((a, b) => a.id - b.id)
      .map((sv) => `server.${sv.id}=${sv.host}:${sv.quorumPort}:${sv.electionPort}:${sv.type}${sv.clientPort !== undefined ? `;${sv.clientHost}:${sv.clientPort}` : ''}`);
    return lines.join('\n') + '\nversion=0';
  }

  /** ZKDatabase.initConfigInZKDatabase: version -1, mzxid = the config version (0). */
  initConfigNode(tree: DataTree): void {
    const n = tree.getNode('/zookeeper/config');
    if (!n) return;
    n.data = Buffer.from(this.configText(), 'utf8');
    n.version = -1;
    n.mzxid = 0;
    n.mtime = Date.now();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.mode = 'looking';
      this.zk = null;
      try {
        if (!this.tree) this.tree = await this.loadDb();
        const tree = this.tree;
        const epochs = loadEpochs(this.snapDir, tree.lastProcessedZxid, (m) => this.logger.info(m));
        const t0 = Date.now();
        serverMetrics.looking_count.add(1);
        const d = await this.election.lookForLeader(tree.lastProcessedZxid, epochs.current);
        if (this.stopped) return;
        serverMetrics.election_time.add(Date.now() - t0);
        this.logger.info({ leader: d.leader, state: d.state, ms: Date.now() - t0 }, 'election finished');
        if (d.state === 'LEADING') await this.lead(tree, epochs.accepted, epochs.current);
        else await this.follow(d, tree, epochs.accepted, epochs.current);
        if (this.tree) this.fastForward(this.tree);
      } catch (e) {
        this.logger.warn({ err: String((e as Error).stack ?? e) }, 'peer role ended with an error; reloading the database');
        this.tree = null;
      }
      (this.zk as ZooKeeperServer | null)?.shutdown();
      this.zk = null;
      this.mode = 'looking';
      if (!this.stopped) await sleep(10);
    }
  }

  private writeEpochs(r: Ready): void {
    if (r.writeEpoch.accepted !== undefined) writeEpochFile(this.snapDir, ACCEPTED_EPOCH, r.writeEpoch.accepted);
    if (r.writeEpoch.current !== undefined) writeEpochFile(this.snapDir, CURRENT_EPOCH, r.writeEpoch.current);
  }

  // ------------------------------------------------------------------------------- leading
  private async lead(tree: DataTree, accepted: number, current: number): Promise<void> {
    const me = this.config.servers.get(this.myid)!;
    const writer = this.newWriter();
    const t = this.config;
    const core = new ZabLeader({
      myid: this.myid,
      voters: this.voters,
      observers: this.observers,
      acceptedEpoch: accepted,
      currentEpoch: current,
      lastZxid: tree.lastProcessedZxid,
      committedLog: this.window.slice(-COMMIT_LOG_COUNT),
      committedLogCount: COMMIT_LOG_COUNT,
      tickTime: t.tickTime,
      initLimit: t.initLimit,
      syncLimit: t.syncLimit,
      now: Date.now(),
    });
    const sockets = new Map<number, net.Socket>();
    const outs = new Map<net.Socket, PacketBatcher>();
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    let ended = false;
    let zk: ZooKeeperServer | null = null;
    const flushState = { flushing: false };
    let appendedMax = -1;

    const sink: TxnLogSink = {
      append: (hdr: TxnHeader, txn) => {
        if (ended || core.state !== 'BROADCAST') return; // stepping down: the client hears it from the closed connection
        if (!core.propose(serializeTxn(hdr, txn), hdr.zxid)) return;
        process(core.takeReady());
      },
      // never used: zabCommits makes the server wait for commitUpTo
      commit: () => Promise.resolve(),
    };

    const flush = (): Promise<void> =>
      flushLog(
        () => writer,
        () => appendedMax,
        () => ended,
        (upTo) => {
          core.persisted(upTo);
          process(core.takeReady());
        },
        flushState,
      );

    const process = (r: Ready): void => {
      if (r.protocolError) this.logger.warn({ err: r.protocolError }, 'Zab protocol error from a learner');
      this.writeEpochs(r);
      for (const p of r.logAppend) {
        writer.append(p.data, p.zxid);
        appendedMax = p.zxid;
      }
      if (r.logAppend.length) void flush();
      for (const c of r.commit) this.remember(c);
      serverMetrics.commit_count.add(r.commit.length);
      serverMetrics.proposal_count.add(r.logAppend.length);
      if (r.commit.length && zk) zk.commitUpTo(r.commit[r.commit.length - 1].zxid);
      for (const s of r.send) {
        const sock = sockets.get(s.to);
        if (!sock || sock.destroyed) continue;
        const out = outs.get(sock)!;
        if (s.packet.type === T.SNAP) serverMetrics.snap_count.add(1);
        else if (s.packet.type === T.DIFF || s.packet.type === T.TRUNC) serverMetrics.diff_count.add(1);
        out.send(s.packet);
        if (s.snapshot) out.raw(serializeSnapStream(tree));
      }
      for (const sid of r.close) {
        const sock = sockets.get(sid);
        if (sock) {
          sockets.delete(sid);
          sock.destroy();
        }
      }
      if (r.reason && r.stateChange !== 'LOOKING') this.logger.info({ reason: r.reason }, 'leader dropped a learner');
      for (const q of r.requests) {
        if (!zk) continue;
        const { sessionId, cxid, type, body } = q.request;
        if (type === OpCode.sync) core.syncRequest(q.from);
        else zk.submitRemote(sessionId, cxid, type, body, q.authinfo);
      }
      for (const x of r.touches) if (zk) for (const s of x.sessions) zk.touchRemote(s.sessionId, s.timeoutMs);
      serverMetrics.revalidate_count.add(r.revalidations.length);
      for (const v of r.revalidations) core.revalidateReply(v.from, v.session.sessionId, !!zk && zk.revalidateRemote(v.session.sessionId, v.session.timeoutMs));
      if (r.serving && !zk) {
        zk = new ZooKeeperServer(tree, this.settings(), sink, this.logger);
        zk.role = 'leader';
        zk.zabCommits = true;
        zk.setZxidBase(makeZxid(core.newEpoch, 0));
        zk.startTimers();
        this.zk = zk;
        this.mode = 'leader';
        this.ctx.zk = zk;
        this.logger.info({ epoch: core.newEpoch }, 'LEADING: serving clients');
      }
      if (r.stateChange === 'LOOKING') {
        this.logger.warn({ reason: r.reason }, 'leader stepping down');
        end();
        return;
      }
      // replies produced while carrying out this Ready (REVALIDATE answers, SYNCs) go out now
      if (r.revalidations.length || r.requests.length) {
        const more = core.takeReady();
        if (more.send.length || more.logAppend.length || more.commit.length || more.stateChange) process(more);
      }
    };

    const server = net.createServer((sock) => {
      sock.setNoDelay(true);
      outs.set(sock, new PacketBatcher(sock));
      const stream = new QuorumPacketDecoder();
      let sid = -1;
      sock.on('data', (chunk: Buffer) => {
        stream.push(chunk);
        try {
          for (let p = stream.next(); p; p = stream.next()) {
            if (ended) return;
            if (sid < 0) {
              if ((p.type !== T.FOLLOWERINFO && p.type !== T.OBSERVERINFO) || !p.data || p.data.length < 8) {
                sock.destroy();
                return;
              }
              sid = Number(p.data.readBigInt64BE(0));
              const old = sockets.get(sid);
              if (old) {
                sockets.delete(sid);
                old.destroy();
                core.disconnected(sid);
              }
              sockets.set(sid, sock);
            }
            core.step(sid, p, Date.now());
            process(core.takeReady());
          }
        } catch (e) {
          this.logger.warn({ sid, err: String(e) }, 'bad packet from learner; closing its connection');
          sock.destroy();
        }
      });
      sock.on('close', () => {
        outs.delete(sock);
        if (sid >= 0 && sockets.get(sid) === sock) {
          sockets.delete(sid);
          core.disconnected(sid);
        }
      });
      sock.on('error', () => sock.destroy());
    });
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearInterval(ticker);
      server.close();
      for (const s of sockets.values()) s.destroy();
      if (zk) zk.shutdown();
      if (this.leaderCore === core) this.leaderCore = null;
      this.ctx.zk = null;
      this.zk = null;
      writer.close().then(done, done);
    };
    this.endRole = end;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(me.quorumPort, this.config.quorumListenOnAllIPs ? '0.0.0.0' : me.host, () => resolve());
    });
    this.election.setDecided('LEADING', this.myid);
    // Leader.lead pings the learners every half tick; a follower reports its sessions' activity in
    // each PING reply, so a touch reaches the leader's session tracker within tickTime / 2
    const ticker = setInterval(() => {
      core.tick(Date.now());
      process(core.takeReady());
    }, Math.max(1, Math.floor(this.config.tickTime / 2)));
    this.leaderCore = core;
    this.leaderSince = Date.now();
    process(core.takeReady());
    await finished;
  }

  // ------------------------------------------------------------------------------- following
  private async connectToLeader(d: ElectionDecision): Promise<net.Socket> {
    const leader = this.config.servers.get(d.leader)!;
    // Learner.connectToLeader: keep trying within initLimit; a leader that was just elected may
    // not listen yet, but one that never answers is gone (give up sooner than initLimit then)
    const deadline = Date.now() + Math.min(this.config.initLimit * this.config.tickTime, 5000);
    for (;;) {
      const sock = await new Promise<net.Socket | null>((resolve) => {
        const s = net.connect({ host: leader.host, port: leader.quorumPort });
        s.once('connect', () => resolve(s));
        s.once('error', () => {
          s.destroy();
          resolve(null);
        });
      });
      if (sock) return sock;
      if (this.stopped || Date.now() >= deadline) throw new Error(`could not connect to leader ${d.leader} at ${leader.host}:${leader.quorumPort}`);
      await sleep(50);
    }
  }

  private async follow(d: ElectionDecision, tree: DataTree, accepted: number, current: number): Promise<void> {
    const observer = d.state === 'OBSERVING';
    const s = await this.connectToLeader(d);
    const syncStart = Date.now();
    s.setNoDelay(true);
    const out = new PacketBatcher(s);
    this.election.setDecided(observer ? 'OBSERVING' : 'FOLLOWING', d.leader);
    let writer = this.newWriter();
    const t = this.config;
    const opts = {
      myid: this.myid,
      leader: d.leader,
      acceptedEpoch: accepted,
      currentEpoch: current,
      lastLoggedZxid: tree.lastProcessedZxid,
      tickTime: t.tickTime,
      initLimit: t.initLimit,
      syncLimit: t.syncLimit,
      now: Date.now(),
    };
    const core: ZabLearner = observer ? new ZabObserver(opts) : new ZabFollower(opts);
    const newZk = (tr: DataTree): ZooKeeperServer => {
      const z = new ZooKeeperServer(tr, this.settings(), { append() {}, commit: () => Promise.resolve() }, this.logger);
      z.role = 'learner';
      z.forwarder = {
        forward: (sessionId, cxid, type, body, authIds) => {
          if (ended) return;
          core.request({ sessionId, cxid, type, body }, authIds);
          process(core.takeReady());
        },
        // kept in the core until the leader's next PING, whose reply carries them
        touch: (sessionId, timeoutMs) => core.touchSession(sessionId, timeoutMs),
      };
      z.revalidator = (sessionId, timeoutMs) => {
        if (ended) return;
        core.revalidate({ sessionId, timeoutMs });
        process(core.takeReady());
      };
      return z;
    };
    let zk = newZk(tree);
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    let ended = false;
    let appendedMax = -1;
    const flushState = { flushing: false };

    const flush = (): Promise<void> =>
      flushLog(
        () => writer,
        () => appendedMax,
        () => ended,
        (upTo) => {
          core.persisted(upTo);
          process(core.takeReady());
        },
        flushState,
      );

    const process = (r: Ready): void => {
      if (ended) return;
      if (r.protocolError) this.logger.warn({ err: r.protocolError }, 'Zab protocol error from the leader');
      if (r.truncate !== undefined) {
        // the tree holds txns the leader does not have: cut the log, reload from disk and rejoin
        truncateLog(this.logDir, r.truncate);
        for (const f of fs.readdirSync(this.snapDir)) {
          const m = /^snapshot\.([0-9a-f]+)/.exec(f);
          if (m && parseInt(m[1], 16) > r.truncate) fs.unlinkSync(path.join(this.snapDir, f));
        }
        this.tree = null;
        this.logger.info({ zxid: r.truncate.toString(16) }, 'TRUNC: txn log cut; reloading and rejoining');
        end();
        return;
      }
      this.writeEpochs(r);
      for (const p of r.logAppend) {
        writer.append(p.data, p.zxid);
        appendedMax = Math.max(appendedMax, p.zxid);
      }
      if (r.logAppend.length) void flush();
      for (const c of r.commit) {
        const { hdr, txn } = deserializeTxn(c.data);
        zk.applyCommitted(hdr, txn);
        this.remember(c);
      }
      for (const x of r.send) out.send(x.packet);
      for (const v of r.revalidated) zk.revalidated(v.sessionId, v.valid);
      for (let i = 0; i < r.syncs; i++) zk.syncDone();
      if (r.serving) {
        (observer ? serverMetrics.observer_sync_time : serverMetrics.follower_sync_time).add(Date.now() - syncStart);
        this.zk = zk;
        this.ctx.zk = zk;
        this.mode = observer ? 'observer' : 'follower';
        this.logger.info({ leader: d.leader, sync: core.syncMode }, `${observer ? 'OBSERVING' : 'FOLLOWING'}: serving clients`);
      }
      if (r.stateChange === 'LOOKING') {
        this.logger.warn({ reason: r.reason }, 'learner lost its leader');
        end();
      }
    };
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearInterval(ticker);
      if (snapTimer) clearTimeout(snapTimer);
      s.destroy();
      zk.shutdown();
      this.ctx.zk = null;
      this.zk = null;
      writer.close().then(done, done);
    };
    this.endRole = end;
    const stream = new QuorumPacketDecoder();
    let snapPending: QuorumPacket | null = null;
    let snapTried = 0;
    let snapQuiet = false;
    let snapTimer: NodeJS.Timeout | null = null;
    let busy = false;
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          if (ended) return;
          if (snapPending) {
            // parsing restarts from the beginning: try again only once the buffered stream has
            // doubled, or when the bytes stop coming (so a large SNAP costs O(n), not O(n²))
            const have = stream.buffered().length;
            if (have < 2 * snapTried && !snapQuiet) {
              if (!snapTimer) snapTimer = setTimeout(() => ((snapTimer = null), (snapQuiet = true), void pump()), 20);
              return;
            }
            snapQuiet = false;
            const parsed = parseSnapStream(stream.buffered(), 0, snapPending.zxid);
            if (!parsed) {
              snapTried = have;
              return;
            }
            snapTried = 0;
            stream.consume(parsed.end);
            // the leader's tree replaces ours: persist it, and drop the log files it supersedes
            await writer.close();
            for (const f of fs.readdirSync(this.logDir)) if (f.startsWith('log.')) fs.unlinkSync(path.join(this.logDir, f));
            await saveSnapshot(parsed.tree, this.config.dataDir, {});
            if (ended) return;
            writer = this.newWriter();
            tree = parsed.tree;
            this.initConfigNode(tree);
            this.tree = tree;
            this.window = [];
            zk.shutdown();
            zk = newZk(tree);
            collectGarbage(); // the old tree and the stream's bytes
            core.step(d.leader, snapPending, Date.now());
            snapPending = null;
            process(core.takeReady());
            continue;
          }
          const p = stream.next();
          if (!p) return;
          if (p.type === T.SNAP) {
            snapPending = p;
            continue;
          }
          if (p.type === T.PROPOSAL) serverMetrics.learner_proposal_received_count.add(1);
          core.step(d.leader, p, Date.now());
          process(core.takeReady());
        }
      } catch (e) {
        this.logger.warn({ err: String(e) }, 'sync with the leader failed');
        this.tree = null;
        end();
      } finally {
        busy = false;
      }
    };
    s.on('data', (chunk: Buffer) => {
      stream.push(chunk);
      if (snapTimer) {
        clearTimeout(snapTimer);
        snapTimer = null;
      }
      void pump();
    });
    s.on('close', () => {
      core.disconnected();
      process(core.takeReady());
      end();
    });
    s.on('error', () => s.destroy());
    const ticker = setInterval(() => {
      core.tick(Date.now());
      process(core.takeReady());
    }, this.config.tickTime);
    process(core.takeReady());
    await finished;
  }
}

/**
 * Group commit for a peer's txn log: one fsync covers everything appended so far; the core hears
 * `persisted(upTo)` after it. Appends made during an fsync are covered by the next one.
 */
async function flushLog(
  writer: () => TxnLogWriter,
  appendedMax: () => number,
  ended: () => boolean,
  persisted: (upTo: number) => void,
  state: { flushing: boolean },
): Promise<void> {
  if (state.flushing) return;
  state.flushing = true;
  try {
    while (writer().pendingCount > 0) {
      const upTo = appendedMax();
      await writer().commit();
      if (ended()) return;
      persisted(upTo);
    }
  } finally {
    state.flushing = false;
  }
}
