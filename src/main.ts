// Starting and stopping a server process from a parsed config.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { componentLogger, Logger } from './util/log';
import { ServerConfig } from './config/types';
import { DataTree } from './data/datatree';
import { FourLetterContext } from './server/fourlw';
import { ClientListener, ClientTls } from './server/net';
import { clientTlsSettings, serverContextOptions } from './security/tls';
import { MemoryLog, serverSettings, TxnLogSink, ZooKeeperServer } from './server/zkserver';
import { DurableLog, startAutopurge } from './server/durable';
import { killDeadSessions, prepareDataDirs, removeUnfinishedSnapshots, restore } from './persistence';
import { AdminContext, RunningHttpServer, startAdminServer, startMetricsServer } from './admin';
import { QuorumPeer } from './quorum/peer';
import { setDigestEnabled } from './data/digest';
import { serverMetrics } from './util/metrics';
import { msSince } from './util/clock';

export interface RunningServer {
  zk: ZooKeeperServer;
  listener: ClientListener;
  /** the secureClientPort's listener */
  secureListener?: ClientListener;
  config: ServerConfig;
  port: number;
  securePort?: number;
  durable: DurableLog | null;
  peer?: QuorumPeer;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  /** keep everything in memory (tests of the protocol alone); default: the txn log and snapshots */
  inMemory?: boolean;
  onStop?: () => Promise<void>;
}

export async function startStandalone(config: ServerConfig, opts: StartOptions): Promise<RunningServer> {
  const logger = opts.logger;
  setDigestEnabled(config.digestEnabled);
  logConfigNotes(config, logger);
  let tree: DataTree;
  let log: TxnLogSink;
  let durable: DurableLog | null = null;
  let purgeTimer: NodeJS.Timeout | null = null;
  if (opts.inMemory) {
    fs.mkdirSync(path.join(config.dataDir, 'version-2'), { recursive: true });
    tree = new DataTree();
    log = new MemoryLog();
  } else {
    const t0 = Date.now();
    const { logDir, snapDir } = prepareDataDirs(config.dataDir, config.dataLogDir);
    removeUnfinishedSnapshots(snapDir, logger);
    const r = await restore(config.dataDir, config.dataLogDir, componentLogger(logger, 'FileTxnSnapLog'), {
      snapshot: { compression: config.snapshotCompressionMethod },
    });
    tree = r.tree;
    const dead = killDeadSessions(tree);
    logger.info(
      {
        snapshot: r.snapshotFile,
        txnsReplayed: r.txnsReplayed,
        nodes: tree.nodeCount + 1,
        sessions: tree.sessions.size,
        zxid: '0x' + tree.lastProcessedZxid.toString(16),
        ms: Date.now() - t0,
      },
      'data restored',
    );
    serverMetrics.dbinittime.add(Date.now() - t0);
    // no full GC here: at 1M znodes it held clients off for ~150 ms; the idle collector (launch.ts)
    // compacts the heap once the server is idle, a few seconds after it serves
    if (dead.length) logger.info({ sessions: dead.length }, 'removed ephemerals of sessions without a session record');
    durable = new DurableLog(
      tree,
      {
        dataDir: config.dataDir,
        logDir,
        snapCount: config.snapCount,
        forceSync: config.forceSync,
        preAllocSize: config.preAllocSize,
        fsyncWarningThresholdMs: config.fsyncWarningThresholdMs,
        compression: config.snapshotCompressionMethod,
        snapshotZxid: r.snapshotFile ? r.snapshotZxid : -1,
      },
      componentLogger(logger, 'SyncRequestProcessor'),
    );
    log = durable;
    // as ZooKeeperServer.loadData: a snapshot of what was loaded, so the next start reads less log;
    // written in the background like the periodic ones (ZooKeeper writes it before serving: for a
    // 1M-znode tree that held clients off for seconds)
    if (r.txnsReplayed > 0 || dead.length > 0) durable.takeSnapshot();
    purgeTimer = startAutopurge(config.dataDir, config.dataLogDir, config.autopurgeSnapRetainCount, config.autopurgePurgeInterval, componentLogger(logger, 'DatadirCleanupManager'));
  }
  const zk = new ZooKeeperServer(
    tree,
    // local sessions are a quorum feature; a standalone server's sessions are all global
    { ...serverSettings(config, config.myid ?? 1), localSessionsEnabled: false },
    log,
    componentLogger(logger, 'ZooKeeperServer'),
  );
  const ctx: FourLetterContext = {
    zk,
    config,
    mode: () => 'standalone',
    traceMask: { value: 0n },
  };
  const [listener, secureListener] = clientListeners(() => zk, ctx, config, logger);
  await listener.listen();
  await secureListener?.listen();
  zk.startTimers();
  const http = await startHttpEndpoints(ctx, config, logger);
  const port = listener.address()?.port ?? config.clientPort;
  logger.info({ address: config.clientPortAddress, port }, 'serving clients (standalone)');
  const securePort = secureListener?.address()?.port;
  if (securePort) logger.info({ address: config.secureClientPortAddress, port: securePort }, 'serving TLS clients');
  return {
    zk,
    listener,
    secureListener,
    config,
    port,
    securePort,
    durable,
    async stop() {
      zk.shutdown();
      await listener.close();
      await secureListener?.close();
      for (const h of http) await h.close();
      if (purgeTimer) clearInterval(purgeTimer);
      if (durable) await durable.close({ snapshot: true });
      if (opts.onStop) await opts.onStop();
    },
  };
}

/** What the configuration asks for that zk-server does not do, logged once at start-up. */
function logConfigNotes(config: ServerConfig, logger: Logger): void {
  for (const k of config.ignoredKeys) logger.info({ key: k }, 'config key accepted but not implemented; ignored');
  // ProviderRegistry: a provider class that cannot be loaded is logged and skipped
  for (const cls of config.unknownAuthProviders) logger.warn({ class: cls }, `Problems loading ${cls}: zk-server has the sasl, x509, digest and ip providers only`);
  if (config.enforceAuthEnabled) logger.info({ schemes: config.enforceAuthSchemes }, `zookeeper.enforce.auth.enabled = true, schemes [${config.enforceAuthSchemes.join(', ')}]`);
  if (config.jaasConfigFile) logger.info({ file: config.jaasConfigFile, section: config.saslServerSection }, 'SASL DIGEST-MD5 for clients, users from the JAAS file');
}

/** The AdminServer and the Prometheus endpoint, when configured. A port in use is logged, not fatal (as ZooKeeper). */
export async function startHttpEndpoints(ctx: FourLetterContext, config: ServerConfig, root: Logger): Promise<RunningHttpServer[]> {
  const logger = componentLogger(root, 'AdminServer');
  const out: RunningHttpServer[] = [];
  if (config.adminEnableServer) {
    try {
      const a = await startAdminServer(
        ctx,
        { address: config.adminServerAddress, port: config.adminServerPort, commandURL: config.adminCommandURL },
        logger,
      );
      logger.info({ address: config.adminServerAddress, port: a.port, url: config.adminCommandURL }, 'AdminServer started');
      out.push(a);
    } catch (e) {
      logger.warn({ err: String(e) }, 'Problem starting AdminServer');
    }
  }
  if (config.metricsProviderClassName && /Prometheus/i.test(config.metricsProviderClassName)) {
    try {
      const mlog = componentLogger(root, 'PrometheusMetricsProvider');
      const m = await startMetricsServer(ctx, { host: config.metricsProviderHttpHost, port: config.metricsProviderHttpPort }, mlog);
      mlog.info({ host: config.metricsProviderHttpHost, port: m.port }, 'Prometheus metrics served at /metrics');
      out.push(m);
    } catch (e) {
      root.warn({ err: String(e) }, 'Cannot start /metrics server');
    }
  }
  return out;
}

/** A quorum peer: the client port answers only while the peer is in a quorum (LEADING/FOLLOWING/OBSERVING). */
export async function startQuorumPeer(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  logConfigNotes(config, logger);
  const ctx: AdminContext = {
    zk: null,
    config,
    mode: () => (peer.mode === 'looking' ? 'looking' : peer.mode),
    traceMask: { value: 0n },
    quorumMonitor: () => {
      const out: [string, number][] = [];
      if (peer.mode === 'leader') {
        const st = peer.leaderStats;
        out.push(
          ['learners', st.learners],
          ['synced_followers', st.syncedFollowers],
          ['synced_non_voting_followers', 0],
          ['synced_observers', st.syncedObservers],
          ['pending_syncs', st.pendingSyncs],
          ['leader_uptime', msSince(st.since)],
        );
        const proposals = peer.proposalStats;
        if (proposals) out.push(['last_proposal_size', proposals.last], ['min_proposal_size', proposals.min], ['max_proposal_size', proposals.max]);
      } else if (peer.mode === 'follower') out.push(['synced_observers', 0]);
      return out;
    },
    quorumSize: () => peer.quorumSize,
    peerState: () => peer.peerState,
    proposalStats: () => peer.proposalStats,
    // the admin `leader` and `zabstate` commands (LeaderCommand, ZabStateCommand)
    leader: () => {
      const id = peer.leaderId;
      return id < 0 ? null : { id, address: config.servers.get(id)?.host ?? null };
    },
    zabState: () => peer.zabPhase,
    quorum: true,
  };
  const peer = new QuorumPeer(config, logger, ctx);
  const [listener, secureListener] = clientListeners(() => peer.zk, ctx, config, logger);
  await listener.listen();
  await secureListener?.listen();
  await peer.start();
  // QuorumPeerMain starts the DatadirCleanupManager too: every role snapshots, so every role purges
  const purgeTimer = startAutopurge(config.dataDir, config.dataLogDir, config.autopurgeSnapRetainCount, config.autopurgePurgeInterval, componentLogger(logger, 'DatadirCleanupManager'));
  const port = listener.address()?.port ?? config.clientPort;
  logger.info({ port }, 'quorum peer started'); // the logger's bindings carry myid
  const http = await startHttpEndpoints(ctx, config, logger);
  return {
    get zk() {
      return peer.zk!;
    },
    listener,
    config,
    port,
    durable: null,
    peer,
    secureListener,
    securePort: secureListener?.address()?.port,
    async stop() {
      if (purgeTimer) clearInterval(purgeTimer);
      await peer.stop();
      await listener.close();
      await secureListener?.close();
      for (const h of http) await h.close();
    },
  } as RunningServer;
}

/** The client port, and the TLS one when secureClientPort is set (they share nothing but the server). */
function clientListeners(zk: () => ZooKeeperServer | null, ctx: FourLetterContext, config: ServerConfig, logger: Logger): ClientListener[] {
  const opts = (host: string, port: number) => ({
    host,
    port,
    maxClientCnxns: config.maxClientCnxns,
    maxCnxns: config.maxCnxns,
    sessionlessTimeoutMs: config.sessionlessCnxnTimeout,
    maxBuffer: config.juteMaxBuffer,
    backlog: config.clientPortListenBacklog > 0 ? config.clientPortListenBacklog : undefined,
  });
  // the stores are read once, for both ports
  let options: ReturnType<typeof serverContextOptions> | undefined;
  const tlsOf = (unified: boolean): ClientTls => ({
    options: (options ??= serverContextOptions(clientTlsSettings(config))),
    authProvider: config.sslAuthProvider,
    schemes: new Set(config.authProviders),
    x509SuperUser: config.x509SuperUser,
    unified,
    detectionTimeoutMs: config.sslHandshakeDetectionTimeoutMillis,
  });
  const cnxLog = componentLogger(logger, 'NIOServerCnxnFactory');
  const out = [new ClientListener(zk, ctx, opts(config.clientPortAddress, config.clientPort), cnxLog, config.clientPortUnification ? tlsOf(true) : undefined)];
  if (config.secureClientPort) out.push(new ClientListener(zk, ctx, opts(config.secureClientPortAddress, config.secureClientPort), cnxLog, tlsOf(false)));
  return out;
}
