// The zoo.cfg key table: every key ZooKeeper 3.8 reads, with where ZooKeeper reads it from, its
// type, its default, what it means and which part of zk-server reads it (or that zk-server
// accepts, validates and ignores it). load.ts parses and validates by it; docs/configuration.md's
// key tables are generated from it (`npm run docs:config`, checked by test/config-docs.test.ts).

/**
 * qpc: parsed by QuorumPeerConfig.parseProperties (not a system property);
 * sys: read as the system property `zookeeper.<key>` (zoo.cfg or -Dzookeeper.<key>);
 * jvm: a system property without the prefix (-D<key>); zk-server also accepts it in zoo.cfg.
 */
export type Origin = 'qpc' | 'sys' | 'jvm';
export type Kind = 'int' | 'long' | 'port' | 'port0' | 'bool' | 'yesno' | 'double' | 'string';
export interface KeySpec {
  origin: Origin;
  kind: Kind;
  /** implemented by zk-server (else listed in ignoredKeys) */
  impl: boolean;
  min?: number;
  /** ZooKeeper 3.8's default, as docs/configuration.md shows it */
  default: string;
  /** what the key means, in one line */
  meaning: string;
  /** the part of zk-server that reads it (undefined: accepted, validated, ignored) */
  reader?: string;
}

export const INT_MIN = -2147483648;
export const INT_MAX = 2147483647;

const K = (origin: Origin, kind: Kind, impl: boolean, min: number | undefined, dflt: string, meaning: string, reader?: string): KeySpec => ({
  origin,
  kind,
  impl,
  min,
  default: dflt,
  meaning,
  reader,
});

export const KEYS: Record<string, KeySpec> = {
  // QuorumPeerConfig.parseProperties
  tickTime: K('qpc', 'int', true, 1, '3000', 'the length of a tick in ms; session timeouts and the init/sync limits count in ticks', 'session tracker, Zab liveness (quorum/zab), the leader\'s PING interval'),
  initLimit: K('qpc', 'int', true, 1, '— (required in a quorum)', 'ticks a learner may take to connect to and sync with the leader', 'Zab cores (quorum/zab)'),
  syncLimit: K('qpc', 'int', true, 1, '— (required in a quorum)', 'ticks a follower may lag or stay silent before the leader drops it (and a learner gives up on a silent leader)', 'Zab cores (quorum/zab)'),
  connectToLearnerMasterLimit: K('qpc', 'int', false, 0, '= initLimit', 'ticks to connect to an observer master', undefined),
  dataDir: K('qpc', 'string', true, undefined, '— (required)', 'where snapshots, myid and the epoch files live (and the txn log without dataLogDir)', 'persistence, quorum/zkdb.ts'),
  dataLogDir: K('qpc', 'string', true, undefined, '= dataDir', 'where the txn log lives', 'persistence'),
  clientPort: K('qpc', 'port0', true, undefined, 'unset', 'the client port (the `;[host:]port` of this server\'s server.N line wins)', 'server/net.ts'),
  clientPortAddress: K('qpc', 'string', true, undefined, '0.0.0.0', 'the address the client port binds', 'server/net.ts'),
  secureClientPort: K('qpc', 'port0', false, undefined, 'unset', 'the TLS client port', undefined),
  secureClientPortAddress: K('qpc', 'string', false, undefined, '0.0.0.0', 'the address of the TLS client port', undefined),
  clientPortListenBacklog: K('qpc', 'int', true, undefined, '-1 (the OS default)', 'the client port\'s listen backlog', 'server/net.ts'),
  maxClientCnxns: K('qpc', 'int', true, 0, '60', 'connections per client IP; 0 = unlimited', 'server/net.ts'),
  minSessionTimeout: K('qpc', 'int', true, undefined, '2 × tickTime', 'the smallest session timeout granted; -1 = the default', 'server/zkserver.ts'),
  maxSessionTimeout: K('qpc', 'int', true, undefined, '20 × tickTime', 'the largest session timeout granted; -1 = the default', 'server/zkserver.ts'),
  localSessionsEnabled: K('qpc', 'bool', false, undefined, 'false', 'sessions that live on one server until they create an ephemeral', undefined),
  localSessionsUpgradingEnabled: K('qpc', 'bool', false, undefined, 'false', 'upgrade a local session to a global one on its first ephemeral', undefined),
  electionAlg: K('qpc', 'int', true, undefined, '3', 'the election algorithm; only 3 (FastLeaderElection) exists', 'quorum/election.ts'),
  linearizableSync: K('qpc', 'bool', true, undefined, 'false', 'zk-server only: a sync is answered only after the leader commits a no-op txn proposed after it arrived, so sync + read is linearizable even when an old leader is paused or partitioned (ZooKeeper answers sync without a quorum round)', 'server/leaderzk.ts, quorum/leading.ts'),
  quorumListenOnAllIPs: K('qpc', 'bool', true, undefined, 'false', 'bind the quorum and election ports on every address', 'quorum/leading.ts, quorum/cnx'),
  peerType: K('qpc', 'string', true, undefined, 'participant', 'participant or observer (this server\'s server.N line wins)', 'quorum/peer.ts'),
  syncEnabled: K('qpc', 'bool', false, undefined, 'true', 'observers log and snapshot what they receive', undefined),
  observerMasterPort: K('qpc', 'port', false, undefined, 'unset', 'the port followers serve observers on', undefined),
  dynamicConfigFile: K('qpc', 'string', false, undefined, 'unset', 'the dynamic membership file of reconfig', undefined),
  standaloneEnabled: K('qpc', 'bool', true, undefined, 'true', 'false runs a one-server ensemble in quorum mode', 'launch.ts'),
  reconfigEnabled: K('qpc', 'bool', true, undefined, 'false', 'allow the reconfig request (zk-server answers it as unimplemented)', 'server/prep.ts'),
  'autopurge.snapRetainCount': K('qpc', 'int', true, undefined, '3', 'snapshots (and their logs) autopurge keeps; values below 3 become 3', 'server/durable.ts'),
  'autopurge.purgeInterval': K('qpc', 'int', true, undefined, '0 (off)', 'hours between autopurge runs', 'server/durable.ts'),
  sslQuorum: K('qpc', 'bool', false, undefined, 'false', 'TLS between the peers', undefined),
  portUnification: K('qpc', 'bool', false, undefined, 'false', 'TLS and plaintext on one quorum port', undefined),
  sslQuorumReloadCertFiles: K('qpc', 'bool', false, undefined, 'false', 'reload the quorum TLS certificates when the files change', undefined),
  'quorum.auth.enableSasl': K('qpc', 'bool', false, undefined, 'false', 'SASL between the peers', undefined),
  'quorum.auth.serverRequireSasl': K('qpc', 'bool', false, undefined, 'false', 'the quorum server requires SASL', undefined),
  'quorum.auth.learnerRequireSasl': K('qpc', 'bool', false, undefined, 'false', 'learners authenticate with SASL', undefined),
  'quorum.auth.learner.saslLoginContext': K('qpc', 'string', false, undefined, 'QuorumLearner', 'the learners\' JAAS section', undefined),
  'quorum.auth.server.saslLoginContext': K('qpc', 'string', false, undefined, 'QuorumServer', 'the quorum server\'s JAAS section', undefined),
  'quorum.auth.kerberos.servicePrincipal': K('qpc', 'string', false, undefined, 'zkquorum/localhost', 'the quorum Kerberos principal', undefined),
  'quorum.cnxn.threads.size': K('qpc', 'int', false, undefined, '20', 'threads for quorum SASL handshakes', undefined),
  'jvm.pause.monitor': K('qpc', 'bool', false, undefined, 'false', 'log JVM pauses', undefined),
  'jvm.pause.info-threshold.ms': K('qpc', 'long', false, undefined, '1000', 'JVM pause info threshold', undefined),
  'jvm.pause.warn-threshold.ms': K('qpc', 'long', false, undefined, '10000', 'JVM pause warn threshold', undefined),
  'jvm.pause.sleep.time.ms': K('qpc', 'long', false, undefined, '500', 'JVM pause monitor interval', undefined),
  'metricsProvider.className': K('qpc', 'string', true, undefined, 'unset', 'a PrometheusMetricsProvider class name serves /metrics', 'admin/prometheus.ts'),
  'metricsProvider.httpHost': K('qpc', 'string', true, undefined, '0.0.0.0', 'the /metrics address', 'admin/http.ts'),
  'metricsProvider.httpPort': K('qpc', 'port0', true, undefined, '7000', 'the /metrics port', 'admin/http.ts'),
  'multiAddress.enabled': K('qpc', 'bool', false, undefined, 'false', 'several addresses per server line', undefined),
  'multiAddress.reachabilityCheckTimeoutMs': K('qpc', 'int', false, undefined, '1000', 'multi-address reachability timeout', undefined),
  'multiAddress.reachabilityCheckEnabled': K('qpc', 'bool', false, undefined, 'true', 'check multi-address reachability', undefined),
  oraclePath: K('qpc', 'string', false, undefined, 'unset', 'the oracle file of a two-server ensemble', undefined),

  // zookeeper.<key> system properties
  '4lw.commands.whitelist': K('sys', 'string', true, undefined, 'srvr', 'four-letter words answered: a comma list or *; srvr always', 'server/fourlw.ts'),
  'admin.enableServer': K('sys', 'bool', true, undefined, 'true', 'run the AdminServer', 'admin/http.ts'),
  'admin.serverAddress': K('sys', 'string', true, undefined, '0.0.0.0', 'the AdminServer address', 'admin/http.ts'),
  'admin.serverPort': K('sys', 'port0', true, undefined, '8080', 'the AdminServer port', 'admin/http.ts'),
  'admin.commandURL': K('sys', 'string', true, undefined, '/commands', 'the AdminServer command path', 'admin/http.ts'),
  'admin.idleTimeout': K('sys', 'int', false, undefined, '30000', 'AdminServer idle connection timeout (ms)', undefined),
  'admin.httpVersion': K('sys', 'int', false, undefined, '11', 'AdminServer HTTP version', undefined),
  'admin.portUnification': K('sys', 'bool', false, undefined, 'false', 'TLS and plaintext on the admin port', undefined),
  'admin.forceHttps': K('sys', 'bool', false, undefined, 'false', 'AdminServer only over TLS', undefined),
  snapCount: K('sys', 'int', true, undefined, '100000', 'txns between snapshots (randomized); values below 2 become 2', 'server/durable.ts'),
  snapSizeLimitInKb: K('sys', 'long', false, undefined, '4194304', 'txn-log bytes between snapshots', undefined),
  txnLogSizeLimitInKb: K('sys', 'long', false, undefined, '-1', 'txn-log file size limit', undefined),
  preAllocSize: K('sys', 'long', true, 1, '65536', 'KiB the txn log preallocates', 'persistence/txnlog.ts'),
  forceSync: K('sys', 'yesno', true, undefined, 'yes', 'fdatasync the txn log before a write is acknowledged', 'persistence/txnlog.ts'),
  'fsync.warningthresholdms': K('sys', 'long', false, undefined, '1000', 'warn when an fsync takes longer (ms)', undefined),
  globalOutstandingLimit: K('sys', 'int', true, 1, '1000', 'requests in flight per connection before reading pauses', 'server/zkserver.ts'),
  maxCnxns: K('sys', 'int', false, 0, '0', 'connections in all; 0 = unlimited', undefined),
  skipACL: K('sys', 'yesno', true, undefined, 'no', 'skip every ACL check', 'server/auth.ts'),
  'DigestAuthenticationProvider.superDigest': K('sys', 'string', true, undefined, 'unset', 'super:<base64 sha1>: the super user\'s digest', 'server/zkserver.ts'),
  'DigestAuthenticationProvider.digestAlg': K('sys', 'string', false, undefined, 'SHA1', 'digest algorithm of the digest scheme', undefined),
  'DigestAuthenticationProvider.enabled': K('sys', 'bool', false, undefined, 'true', 'the digest auth scheme', undefined),
  superUser: K('sys', 'string', false, undefined, 'unset', 'the SASL super user', undefined),
  'X509AuthenticationProvider.superUser': K('sys', 'string', false, undefined, 'unset', 'the x509 super user', undefined),
  'enforce.auth.enabled': K('sys', 'bool', false, undefined, 'false', 'sessions must authenticate', undefined),
  'enforce.auth.schemes': K('sys', 'string', false, undefined, 'unset', 'the schemes enforce.auth accepts', undefined),
  sessionRequireClientSASLAuth: K('sys', 'bool', false, undefined, 'false', 'sessions must authenticate with SASL', undefined),
  extendedTypesEnabled: K('sys', 'bool', true, undefined, 'false', 'TTL znodes (myid must then be ≤ 254)', 'server/prep.ts'),
  emulate353TTLNodes: K('sys', 'bool', false, undefined, 'false', '3.5.3 TTL node ids', undefined),
  'digest.enabled': K('sys', 'bool', false, undefined, 'true', 'tree digests in proposals and snapshots', undefined),
  'closeSessionTxn.enabled': K('sys', 'bool', false, undefined, 'true', 'closeSession txns list their ephemerals', undefined),
  'snapshot.compression.method': K('sys', 'string', true, undefined, '"" (none)', 'gz or snappy snapshots', 'persistence/snapshot.ts'),
  'snapshot.trust.empty': K('sys', 'bool', false, undefined, 'false', 'start from a txn log without a snapshot', undefined),
  'db.autocreate': K('sys', 'bool', false, undefined, 'true', 'create an empty database when there is none', undefined),
  'datadir.autocreate': K('sys', 'bool', false, undefined, 'true', 'create dataDir when it is missing', undefined),
  commitLogCount: K('sys', 'int', false, undefined, '500', 'committed txns kept in memory for DIFF syncs (zk-server: always 500)', undefined),
  snapshotSizeFactor: K('sys', 'double', false, undefined, '0.33', 'sync from the txn log when it is this fraction of the snapshot', undefined),
  forceSnapshotSync: K('sys', 'bool', false, undefined, 'false', 'always sync learners by SNAP', undefined),
  leaderServes: K('sys', 'yesno', false, undefined, 'yes', 'the leader serves clients', undefined),
  cnxTimeout: K('sys', 'int', false, undefined, '5000', 'election connection timeout (ms)', undefined),
  quorumCnxnTimeoutMs: K('sys', 'long', false, undefined, '-1', 'quorum SASL handshake timeout', undefined),
  electionPortBindRetry: K('sys', 'int', false, undefined, '3', 'retries to bind the election port', undefined),
  'fastleader.minNotificationInterval': K('sys', 'int', false, undefined, '200', 'FLE notification interval, minimum (ms)', undefined),
  'fastleader.maxNotificationInterval': K('sys', 'int', false, undefined, '60000', 'FLE notification interval, maximum (ms)', undefined),
  'observer.reconnectDelayMs': K('sys', 'long', false, undefined, '0', 'observer reconnect delay', undefined),
  'observer.election.DelayMs': K('sys', 'long', false, undefined, '200', 'observer election delay', undefined),
  'leader.maxConcurrentSnapSyncs': K('sys', 'int', false, undefined, '10', 'SNAP syncs at once', undefined),
  'leader.maxConcurrentDiffSyncs': K('sys', 'int', false, undefined, '100', 'DIFF syncs at once', undefined),
  serverCnxnFactory: K('sys', 'string', false, undefined, 'NIOServerCnxnFactory', 'the Java connection factory', undefined),
  'nio.numSelectorThreads': K('sys', 'int', false, undefined, '√(cores/2)', 'NIO selector threads', undefined),
  'nio.numWorkerThreads': K('sys', 'int', false, undefined, '2 × cores', 'NIO worker threads', undefined),
  'nio.sessionlessCnxnTimeout': K('sys', 'int', false, undefined, '10000', 'NIO timeout before a session exists', undefined),
  largeRequestThreshold: K('sys', 'int', false, undefined, '-1', 'bytes from which a request is large', undefined),
  largeRequestMaxBytes: K('sys', 'int', false, undefined, '104857600', 'bytes of large requests in flight', undefined),
  enforceQuota: K('sys', 'bool', false, undefined, 'false', 'refuse writes over a hard quota', undefined),
  enableEagerACLCheck: K('sys', 'bool', false, undefined, 'false', 'check ACLs before a write is queued', undefined),
  'jute.maxbuffer.extrasize': K('sys', 'int', false, undefined, '= jute.maxbuffer', 'extra bytes allowed over jute.maxbuffer', undefined),

  // JVM-only properties (no zookeeper. prefix), also accepted in zoo.cfg by zk-server
  'jute.maxbuffer': K('jvm', 'int', true, 1, '1048575', 'the largest request or znode (bytes)', 'server/net.ts, jute'),
  'znode.container.checkIntervalMs': K('jvm', 'int', true, 1, '60000', 'ms between container and TTL cleanups', 'server/zkserver.ts'),
  'znode.container.maxPerMinute': K('jvm', 'int', true, 1, '10000', 'containers deleted per minute at most', 'server/zkserver.ts'),
  'znode.container.maxNeverUsedIntervalMs': K('jvm', 'long', false, 0, '0', 'delete never-used containers after this long', undefined),
  'readonlymode.enabled': K('jvm', 'bool', false, undefined, 'false', 'serve reads without a quorum', undefined),
  'follower.nodelay': K('jvm', 'bool', false, undefined, 'true', 'TCP_NODELAY towards the leader', undefined),
};

/** Key families parsed by QuorumPeerConfig (not system properties). */
export const QPC_PREFIXES = ['server.', 'group.', 'weight.', 'metricsProvider.'];

export function specOf(key: string): KeySpec | undefined {
  return Object.prototype.hasOwnProperty.call(KEYS, key) ? KEYS[key] : undefined;
}

export function isQpcKey(key: string): boolean {
  return specOf(key)?.origin === 'qpc' || QPC_PREFIXES.some((p) => key.startsWith(p));
}

