// QuorumPeer: the process-level loop of an ensemble member. LOOKING (FastLeaderElection) →
// LEADING / FOLLOWING / OBSERVING (the Zab cores bound to the quorum port, the txn log and a
// ZooKeeperServer in the matching role) → back to LOOKING when that ends.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type pino from 'pino';
import { JuteReader, JuteWriter } from '../jute/archive';
import { ServerConfig } from '../config/types';
import { prepareDataDirs, readTxnLog, restore, saveSnapshot, truncateLog, TxnLogWriter } from '../persistence';
import { DataTree } from '../server/datatree';
import { OpCode } from '../server/constants';
import { deserializeTxn, serializeTxn } from '../server/txn';
import { FourLetterContext } from '../server/fourlw';
import { ClientListener } from '../server/net';
import { ServerSettings, TxnLogSink, ZooKeeperServer } from '../server/zkserver';
import { TxnHeader } from '../jute/records';
import { ACCEPTED_EPOCH, CURRENT_EPOCH, loadEpochs, writeEpochFile } from './epochs';
import { ElectionDecision, ElectionService } from './election';
import { parseSnapStream, serializeSnapStream } from './snapstream';
import { LeaderCore } from './zab/leader';
import { LearnerCore } from './zab/learner';
import { Packet, Pkt, Proposal, Ready, makeZxid } from './zab/types';
import { encodePacket, PacketStream } from './zab/wire';

export type PeerMode = 'leader' | 'follower' | 'observer' | 'looking';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class QuorumPeer {
  mode: PeerMode = 'looking';
  zk: ZooKeeperServer | null = null;
  private stopped = false;
  private election!: ElectionService;
  listener!: ClientListener;
  private snapDir: string;
  private logDir: string;
  private endRole: (() => void) | null = null;
  readonly myid: number;
  /** leader only: learners connected, followers synced */
  leaderStats = { learners: 0, syncedFollowers: 0, syncedObservers: 0, pendingSyncs: 0, since: 0 };

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

  private async loadDb(): Promise<DataTree> {
    const r = await restore(this.config.dataDir, this.config.dataLogDir, (lvl, msg) => {
      if (lvl === 'warn' || lvl === 'error') this.logger.warn(msg);
      else this.logger.debug(msg);
    });
    this.initConfigNode(r.tree);
    return r.tree;
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

  private lastLoggedZxid(tree: DataTree): number {
    return tree.lastProcessedZxid;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.mode = 'looking';
      this.zk = null;
      try {
        const tree = await this.loadDb();
        const epochs = loadEpochs(this.snapDir, tree.lastProcessedZxid, (m) => this.logger.info(m));
        const t0 = Date.now();
        const d = await this.election.lookForLeader(this.lastLoggedZxid(tree), epochs.current);
        if (this.stopped) return;
        this.logger.info({ leader: d.leader, state: d.state, ms: Date.now() - t0 }, 'election finished');
        if (d.state === 'LEADING') await this.lead(tree, epochs.accepted, epochs.current);
        else await this.follow(d, tree, epochs.accepted, epochs.current);
      } catch (e) {
        this.logger.warn({ err: String((e as Error).stack ?? e) }, 'peer role ended with an error');
      }
      (this.zk as ZooKeeperServer | null)?.shutdown();
      this.zk = null;
      this.mode = 'looking';
      if (!this.stopped) await sleep(10);
    }
  }

  private writeEpochs(r: Ready): void {
    if (r.epochs.accepted !== undefined) writeEpochFile(this.snapDir, ACCEPTED_EPOCH, r.epochs.accepted);
    if (r.epochs.current !== undefined) writeEpochFile(this.snapDir, CURRENT_EPOCH, r.epochs.current);
  }

  private committedTail(): Proposal[] {
    const out: Proposal[] = [];
    for (const e of readTxnLog(this.logDir, 0)) {
      out.push({ zxid: e.hdr.zxid, data: Buffer.from(e.entry) });
      if (out.length > 1000) out.splice(0, out.length - 500);
    }
    return out.slice(-500);
  }

  // ------------------------------------------------------------------------------- leading
  private async lead(tree: DataTree, accepted: number, current: number): Promise<void> {
    const me = this.config.servers.get(this.myid)!;
    const writer = new TxnLogWriter(this.logDir, { preAllocSize: this.config.preAllocSize, forceSync: this.config.forceSync });
    const core = new LeaderCore({
      myid: this.myid,
      voters: this.voters,
      observers: this.observers,
      acceptedEpoch: accepted,
      currentEpoch: current,
      lastZxid: tree.lastProcessedZxid,
      committedLog: this.committedTail(),
      initLimitTicks: this.config.initLimit,
      syncLimitTicks: this.config.syncLimit,
    });
    const sockets = new Map<number, net.Socket>();
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    let ended = false;
    let zk: ZooKeeperServer | null = null;
    const commitWaiters: { zxid: number; resolve: () => void }[] = [];
    let lastAppended = 0;
    const flushState = { flushing: false };
    let appendedMax = -1;

    const sink: TxnLogSink = {
      append: (hdr: TxnHeader, txn) => {
        const data = serializeTxn(hdr, txn);
        const z = core.propose(data);
        if (z !== hdr.zxid) throw new Error(`zxid mismatch: core ${z.toString(16)} vs pipeline ${hdr.zxid.toString(16)}`);
        lastAppended = z;
        process(core.takeReady());
      },
      commit: () =>
        new Promise<void>((resolve) => {
          if (core.lastCommitted >= lastAppended) resolve();
          else commitWaiters.push({ zxid: lastAppended, resolve });
        }),
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
      this.writeEpochs(r);
      for (const p of r.append) {
        writer.append(p.data, p.zxid);
        appendedMax = p.zxid;
      }
      if (r.append.length) void flush();
      const snapFor = new Set(r.snapshotFor ?? []);
      for (const s of r.send) {
        const sock = sockets.get(s.to);
        if (!sock || sock.destroyed) continue;
        sock.write(encodePacket(s.p));
        if (s.p.type === Pkt.SNAP && snapFor.has(s.to)) sock.write(serializeSnapStream(tree));
      }
      if (r.commit.length) {
        while (commitWaiters.length && commitWaiters[0].zxid <= core.lastCommitted) commitWaiters.shift()!.resolve();
      }
      for (const q of r.requests) this.onRequest(core, zk, q.from, q.data, q.authinfo);
      for (const t of r.touches) {
        if (!zk || !t.data) continue;
        const rd = new JuteReader(t.data);
        while (rd.remaining() >= 12) zk.touchRemote(rd.readBigLong(), rd.readInt());
      }
      if (r.serving && !zk) {
        zk = new ZooKeeperServer(tree, this.settings(), sink, this.logger);
        zk.role = 'leader';
        zk.setZxidBase(makeZxid(core.newEpoch, 0));
        zk.startTimers();
        this.zk = zk;
        this.mode = 'leader';
        this.ctx.zk = zk;
        this.logger.info({ epoch: core.newEpoch }, 'LEADING: serving clients');
      }
      if (r.state === 'LOOKING') {
        this.logger.warn({ reason: r.reason }, 'leader stepping down');
        end();
      }
    };

    const server = net.createServer((sock) => {
      sock.setNoDelay(true);
      const stream = new PacketStream();
      let sid = -1;
      sock.on('data', (chunk: Buffer) => {
        stream.push(chunk);
        try {
          for (let p = stream.next(); p; p = stream.next()) {
            if (sid < 0) {
              if ((p.type !== Pkt.FOLLOWERINFO && p.type !== Pkt.OBSERVERINFO) || !p.data || p.data.length < 8) {
                sock.destroy();
                return;
              }
              sid = Number(p.data.readBigInt64BE(0));
              sockets.get(sid)?.destroy();
              sockets.set(sid, sock);
            }
            if (p.type === Pkt.REQUEST && p.data && p.data.length >= 16 && p.data.readInt32BE(12) === OpCode.sync) {
              core.syncRequest(sid);
            } else core.step(sid, p);
            process(core.takeReady());
          }
        } catch (e) {
          this.logger.warn({ sid, err: String(e) }, 'bad packet from learner; closing its connection');
          sock.destroy();
        }
      });
      sock.on('close', () => {
        if (sockets.get(sid) === sock) {
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
      this.ctx.zk = null;
      this.zk = null;
      void writer.close().catch(() => {});
      done();
    };
    this.endRole = end;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(me.quorumPort, this.config.quorumListenOnAllIPs ? '0.0.0.0' : me.host, () => resolve());
    });
    this.election.setDecided('LEADING', this.myid);
    const ticker = setInterval(() => {
      core.tick();
      process(core.takeReady());
      const st = core.learnerStats();
      this.leaderStats = { ...st, pendingSyncs: 0, since: this.leaderStats.since };
    }, this.config.tickTime);
    this.leaderStats = { learners: 0, syncedFollowers: 0, syncedObservers: 0, pendingSyncs: 0, since: Date.now() };
    // the leader takes part in its own quorums: its log is already durable
    process(core.takeReady());
    await finished;
  }

  private onRequest(core: LeaderCore, zk: ZooKeeperServer | null, from: number, data: Buffer, authinfo: { scheme: string; id: string }[]): void {
    if (!zk || data.length < 16) return;
    const sessionId = data.readBigInt64BE(0);
    const cxid = data.readInt32BE(8);
    const type = data.readInt32BE(12);
    void core;
    void from;
    zk.submitRemote(sessionId, cxid, type, Buffer.from(data.subarray(16)), authinfo);
  }

  // ------------------------------------------------------------------------------- following
  private async follow(d: ElectionDecision, tree: DataTree, accepted: number, current: number): Promise<void> {
    const leader = this.config.servers.get(d.leader)!;
    const observer = d.state === 'OBSERVING';
    let sock: net.Socket | null = null;
    const deadline = Date.now() + this.config.initLimit * this.config.tickTime;
    while (!sock && Date.now() < deadline && !this.stopped) {
      sock = await new Promise<net.Socket | null>((resolve) => {
        const s = net.connect({ host: leader.host, port: leader.quorumPort });
        s.once('connect', () => resolve(s));
        s.once('error', () => {
          s.destroy();
          resolve(null);
        });
      });
      if (!sock) await sleep(50);
    }
    if (!sock) throw new Error(`could not connect to leader ${d.leader} at ${leader.host}:${leader.quorumPort}`);
    sock.setNoDelay(true);
    this.election.setDecided(observer ? 'OBSERVING' : 'FOLLOWING', d.leader);
    let writer = new TxnLogWriter(this.logDir, { preAllocSize: this.config.preAllocSize, forceSync: this.config.forceSync });
    const core = new LearnerCore({
      myid: this.myid,
      leader: d.leader,
      observer,
      acceptedEpoch: accepted,
      currentEpoch: current,
      lastLoggedZxid: tree.lastProcessedZxid,
      initLimitTicks: this.config.initLimit,
      syncLimitTicks: this.config.syncLimit,
    });
    let zk = new ZooKeeperServer(tree, this.settings(), { append() {}, commit: () => Promise.resolve() }, this.logger);
    const setupZk = (z: ZooKeeperServer): void => {
      z.role = 'learner';
      z.forwarder = {
        forward: (sessionId, cxid, type, body, authIds) => {
          const w = new JuteWriter(body.length + 16);
          w.writeBigLong(sessionId);
          w.writeInt(cxid);
          w.writeInt(type);
          w.writeRaw(body);
          core.request(Buffer.from(w.finish()), authIds);
          process(core.takeReady());
        },
      };
    };
    setupZk(zk);
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    let ended = false;
    let appendedMax = -1;
    const flushState = { flushing: false };
    const s = sock;

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
      this.writeEpochs(r);
      if (r.truncateTo !== undefined) {
        void writer.close().catch(() => {});
        truncateLog(this.logDir, r.truncateTo);
        // a snapshot newer than the cut would bring the cut txns back on reload
        for (const f of fs.readdirSync(this.snapDir)) {
          const m = /^snapshot\.([0-9a-f]+)/.exec(f);
          if (m && parseInt(m[1], 16) > r.truncateTo) fs.unlinkSync(path.join(this.snapDir, f));
        }
        writer = new TxnLogWriter(this.logDir, { preAllocSize: this.config.preAllocSize, forceSync: this.config.forceSync });
        throw new TruncRestart();
      }
      for (const p of r.append) {
        writer.append(p.data, p.zxid);
        appendedMax = Math.max(appendedMax, p.zxid);
      }
      if (r.append.length) void flush();
      for (const x of r.send) {
        if (x.p.type === Pkt.PING && x.p.data === null) x.p.data = touches();
        s.write(encodePacket(x.p));
      }
      for (const c of r.commit) {
        const { hdr, txn } = deserializeTxn(c.data);
        zk.applyCommitted(hdr, txn);
      }
      for (let i = 0; i < r.syncs; i++) zk.syncDone();
      if (r.serving) {
        this.zk = zk;
        this.ctx.zk = zk;
        this.mode = observer ? 'observer' : 'follower';
        this.logger.info({ leader: d.leader }, `${observer ? 'OBSERVING' : 'FOLLOWING'}: serving clients`);
      }
      if (r.state === 'LOOKING') {
        this.logger.warn({ reason: r.reason }, 'learner lost its leader');
        end();
      }
    };
    const touches = (): Buffer | null => {
      if (zk.touched.size === 0) return null;
      const w = new JuteWriter(zk.touched.size * 12);
      for (const [id, to] of zk.touched) {
        w.writeBigLong(id);
        w.writeInt(to);
      }
      zk.touched.clear();
      return Buffer.from(w.finish());
    };
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearInterval(ticker);
      s.destroy();
      zk.shutdown();
      this.ctx.zk = null;
      this.zk = null;
      void writer.close().catch(() => {});
      done();
    };
    this.endRole = end;
    const stream = new PacketStream();
    let snapPending: Packet | null = null;
    let busy = false;
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          if (ended) return;
          if (snapPending) {
            const parsed = parseSnapStream(stream.raw(), 0, snapPending.zxid);
            if (!parsed) return;
            stream.consume(parsed.end);
            // the leader's tree replaces ours: persist it, and drop log files it supersedes
            await writer.close();
            for (const f of fs.readdirSync(this.logDir)) if (f.startsWith('log.')) fs.unlinkSync(path.join(this.logDir, f));
            await saveSnapshot(parsed.tree, this.config.dataDir, {});
            writer = new TxnLogWriter(this.logDir, { preAllocSize: this.config.preAllocSize, forceSync: this.config.forceSync });
            tree = parsed.tree;
            this.initConfigNode(tree);
            zk.shutdown();
            zk = new ZooKeeperServer(tree, this.settings(), { append() {}, commit: () => Promise.resolve() }, this.logger);
            setupZk(zk);
            core.step(snapPending);
            core.snapshotLoaded(snapPending.zxid);
            snapPending = null;
            process(core.takeReady());
            continue;
          }
          const p = stream.next();
          if (!p) return;
          if (p.type === Pkt.SNAP) {
            snapPending = p;
            continue;
          }
          core.step(p);
          process(core.takeReady());
        }
      } catch (e) {
        if (!(e instanceof TruncRestart)) this.logger.warn({ err: String(e) }, 'sync with the leader failed');
        end();
      } finally {
        busy = false;
      }
    };
    s.on('data', (chunk: Buffer) => {
      stream.push(chunk);
      void pump();
    });
    s.on('close', () => {
      core.disconnected();
      try {
        process(core.takeReady());
      } catch {
        end();
      }
      end();
    });
    s.on('error', () => s.destroy());
    const ticker = setInterval(() => {
      core.tick();
      try {
        process(core.takeReady());
      } catch {
        end();
      }
    }, this.config.tickTime);
    core.start();
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

/** A TRUNC sync cuts the txn log; the simplest correct follow-up is to reload and rejoin. */
class TruncRestart extends Error {}
