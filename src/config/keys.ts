// The zoo.cfg key table, the one source of truth for configuration: every key ZooKeeper 3.8 reads,
// with where ZooKeeper reads it from, its type, its default, what it means and which part of
// zk-server reads it (or that zk-server accepts, validates and ignores it, and why when the feature
// is unsupported). From it come:
//  * load.ts: parsing into ServerConfig and the type/range/enum validation (file:line: key: ...);
//  * the structural keys (server.N, group.N, weight.N, the myid file) in FAMILIES, parsed by load.ts;
//  * the `conf` four-letter word's lines and their order (CONF_LINES, as ZooKeeper 3.8 prints them)
//    and the admin `configuration` command's fields (ADMIN_CONF_FIELDS);
//  * docs/configuration.md's tables (`npm run docs:config`, checked by test/config-docs.test.ts).

/**
 * qpc: parsed by QuorumPeerConfig.parseProperties (not a system property);
 * sys: read as the system property `zookeeper.<key>` (zoo.cfg or -Dzookeeper.<key>);
 * jvm: a system property without the prefix (-D<key>); zk-server also accepts it in zoo.cfg.
 */
import type { ServerConfig } from './types';

export type Origin = 'qpc' | 'sys' | 'jvm';
/**
 * int/long: 32/64-bit integers (with `min`); port: 1-65535; port0: 0 (unset) or 1-65535;
 * bool: true/false; yesno: yes/no; double: a decimal number; enum: one of `values` (case-insensitive);
 * path: a file or directory (relative to the working directory); host: a host name or address;
 * list: a comma-separated list; string: anything else.
 */
export type Kind = 'int' | 'long' | 'port' | 'port0' | 'bool' | 'yesno' | 'double' | 'enum' | 'path' | 'host' | 'list' | 'string';
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
  /** enum: the accepted values, lower case ('' = empty value allowed) */
  values?: string[];
  /** enum: the error for another value; `{v}` is the value given (default: expected a, b or c, got "v") */
  badValue?: string;
  /** not implemented, and the feature it turns on is missing: why (docs; the key is still accepted) */
  unsupported?: string;
  /** a zk-server extension ZooKeeper does not know (ZooKeeper would make it a system property) */
  zkOnly?: boolean;
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

/** An enum key: `K(...)` plus its values (and ZooKeeper's error text for another value). */
const E = (spec: KeySpec, values: string[], badValue?: string): KeySpec => ({ ...spec, kind: 'enum', values, badValue });
/** An unimplemented key whose feature zk-server does not have. */
const U = (spec: KeySpec, why: string): KeySpec => ({ ...spec, unsupported: why });
/** A zk-server extension. */
const X = (spec: KeySpec): KeySpec => ({ ...spec, zkOnly: true });

export const KEYS: Record<string, KeySpec> = {
  // QuorumPeerConfig.parseProperties
  tickTime: K('qpc', 'int', true, 1, '3000', 'the length of a tick in ms; session timeouts and the init/sync limits count in ticks', 'session tracker, Zab liveness (quorum/zab), the leader\'s PING interval'),
  initLimit: K('qpc', 'int', true, 1, '— (required in a quorum)', 'ticks a learner may take to connect to and sync with the leader', 'Zab cores (quorum/zab)'),
  syncLimit: K('qpc', 'int', true, 1, '— (required in a quorum)', 'ticks a follower may lag or stay silent before the leader drops it (and a learner gives up on a silent leader)', 'Zab cores (quorum/zab)'),
  connectToLearnerMasterLimit: K('qpc', 'int', false, 0, '= initLimit', 'ticks to connect to an observer master', undefined),
  dataDir: K('qpc', 'path', true, undefined, '— (required)', 'where snapshots, myid and the epoch files live (and the txn log without dataLogDir)', 'persistence, quorum/zkdb.ts'),
  dataLogDir: K('qpc', 'path', true, undefined, '= dataDir', 'where the txn log lives', 'persistence'),
  clientPort: K('qpc', 'port0', true, undefined, 'unset', 'the client port (the `;[host:]port` of this server\'s server.N line wins)', 'server/net.ts'),
  clientPortAddress: K('qpc', 'host', true, undefined, '0.0.0.0', 'the address the client port binds', 'server/net.ts'),
  secureClientPort: K('qpc', 'port0', true, undefined, 'unset', 'the TLS client port (ssl.* keys: key and trust stores, client authentication)', 'server/net.ts, security/tls.ts'),
  secureClientPortAddress: K('qpc', 'host', true, undefined, '0.0.0.0', 'the address of the TLS client port', 'server/net.ts'),
  clientPortListenBacklog: K('qpc', 'int', true, undefined, '-1 (the OS default)', 'the client port\'s listen backlog', 'server/net.ts'),
  maxClientCnxns: K('qpc', 'int', true, 0, '60', 'connections per client IP; 0 = unlimited', 'server/net.ts'),
  minSessionTimeout: K('qpc', 'int', true, undefined, '2 × tickTime', 'the smallest session timeout granted; -1 = the default', 'server/zkserver.ts'),
  maxSessionTimeout: K('qpc', 'int', true, undefined, '20 × tickTime', 'the largest session timeout granted; -1 = the default', 'server/zkserver.ts'),
  localSessionsEnabled: K('qpc', 'bool', true, undefined, 'false', 'in an ensemble, new sessions are local: known only to the server the client connected to, created, expired and closed there without a txn (a standalone server ignores it, as ZooKeeper does)', 'server/zkserver.ts'),
  localSessionsUpgradingEnabled: K('qpc', 'bool', true, undefined, 'false', 'a local session that creates an ephemeral becomes global (a createSession txn goes first); without it that create fails with EPHEMERALONLOCALSESSION (-120)', 'server/zkserver.ts'),
  electionAlg: K('qpc', 'int', true, undefined, '3', 'the election algorithm; only 3 (FastLeaderElection) exists', 'quorum/election.ts'),
  linearizableSync: X(K('qpc', 'bool', true, undefined, 'false', 'zk-server only: a sync is answered only after the leader commits a no-op txn proposed after it arrived, so sync + read is linearizable even when an old leader is paused or partitioned (ZooKeeper answers sync without a quorum round)', 'server/leaderzk.ts, quorum/leading.ts')),
  quorumListenOnAllIPs: K('qpc', 'bool', true, undefined, 'false', 'bind the quorum and election ports on every address', 'quorum/leading.ts, quorum/cnx'),
  peerType: E(K('qpc', 'string', true, undefined, 'participant', 'participant or observer (this server\'s server.N line wins)', 'quorum/peer.ts'), ['participant', 'observer'], 'Unrecognised peertype: {v} (expected participant or observer)'),
  syncEnabled: K('qpc', 'bool', false, undefined, 'true', 'observers log and snapshot what they receive', undefined),
  observerMasterPort: U(K('qpc', 'port', false, undefined, 'unset', 'the port followers serve observers on', undefined), 'observers sync from the leader only'),
  dynamicConfigFile: K('qpc', 'path', true, undefined, 'unset', 'the file with the server.N (group.N, weight.N) lines, its version the hex suffix of its name (zoo.cfg.dynamic.100000002); a committed reconfig writes a new one and points zoo.cfg at it, as 3.8 does', 'config/load.ts, config/dynamic.ts'),
  standaloneEnabled: K('qpc', 'bool', true, undefined, 'true', 'false runs a one-server ensemble in quorum mode', 'launch.ts'),
  reconfigEnabled: K('qpc', 'bool', true, undefined, 'false', 'allow the reconfig request (a super user or skipACL: /zookeeper/config is world-readable only); with it a quorum peer keeps zoo.cfg.bak and writes its membership to zoo.cfg.dynamic.<version>', 'server/prep.ts, quorum/leading.ts, config/dynamic.ts'),
  'autopurge.snapRetainCount': K('qpc', 'int', true, undefined, '3', 'snapshots (and their logs) autopurge keeps; values below 3 become 3', 'server/durable.ts (standalone and every quorum peer)'),
  'autopurge.purgeInterval': K('qpc', 'int', true, undefined, '0 (off)', 'hours between autopurge runs (the first at start)', 'server/durable.ts (standalone and every quorum peer)'),
  sslQuorum: K('qpc', 'bool', true, undefined, 'false', 'TLS on the election and quorum ports (ssl.quorum.* keys), both ways, with client certificates', 'quorum/transport.ts, security/tls.ts'),
  portUnification: K('qpc', 'bool', true, undefined, 'false', 'the election and quorum ports accept TLS and plaintext (for a rolling switch to or from sslQuorum; needs the ssl.quorum.* stores)', 'quorum/transport.ts'),
  sslQuorumReloadCertFiles: K('qpc', 'bool', true, undefined, 'false', 'reload the quorum key and trust stores when their files change (new connections use them)', 'quorum/transport.ts'),
  'quorum.auth.enableSasl': K('qpc', 'bool', true, undefined, 'false', 'SASL DIGEST-MD5 between the peers (JAAS sections QuorumServer and QuorumLearner)', 'security/quorumauth.ts'),
  'quorum.auth.serverRequireSasl': K('qpc', 'bool', true, undefined, 'false', 'refuse election and learner connections that do not authenticate', 'security/quorumauth.ts'),
  'quorum.auth.learnerRequireSasl': K('qpc', 'bool', true, undefined, 'false', 'authenticate when connecting to another peer (the learner side)', 'security/quorumauth.ts'),
  'quorum.auth.learner.saslLoginContext': K('qpc', 'string', true, undefined, 'QuorumLearner', 'the JAAS section with this peer\'s username and password', 'security/quorumauth.ts'),
  'quorum.auth.server.saslLoginContext': K('qpc', 'string', true, undefined, 'QuorumServer', 'the JAAS section with the users other peers log in as', 'security/quorumauth.ts'),
  'quorum.auth.kerberos.servicePrincipal': U(K('qpc', 'string', false, undefined, 'zkquorum/localhost', 'the quorum Kerberos principal', undefined), 'no SASL between peers'),
  'quorum.cnxn.threads.size': U(K('qpc', 'int', false, undefined, '20', 'threads for quorum SASL handshakes', undefined), 'no SASL between peers'),
  'jvm.pause.monitor': K('qpc', 'bool', false, undefined, 'false', 'log JVM pauses', undefined),
  'jvm.pause.info-threshold.ms': K('qpc', 'long', false, undefined, '1000', 'JVM pause info threshold', undefined),
  'jvm.pause.warn-threshold.ms': K('qpc', 'long', false, undefined, '10000', 'JVM pause warn threshold', undefined),
  'jvm.pause.sleep.time.ms': K('qpc', 'long', false, undefined, '500', 'JVM pause monitor interval', undefined),
  'metricsProvider.className': K('qpc', 'string', true, undefined, 'unset', 'a PrometheusMetricsProvider class name serves /metrics', 'admin/prometheus.ts'),
  'metricsProvider.httpHost': K('qpc', 'host', true, undefined, '0.0.0.0', 'the /metrics address', 'admin/http.ts'),
  'metricsProvider.httpPort': K('qpc', 'port0', true, undefined, '7000', 'the /metrics port', 'admin/http.ts'),
  'multiAddress.enabled': U(K('qpc', 'bool', false, undefined, 'false', 'several addresses per server line', undefined), 'one address per server line (a line with `|` is rejected)'),
  'multiAddress.reachabilityCheckTimeoutMs': U(K('qpc', 'int', false, undefined, '1000', 'multi-address reachability timeout', undefined), 'one address per server line'),
  'multiAddress.reachabilityCheckEnabled': U(K('qpc', 'bool', false, undefined, 'true', 'check multi-address reachability', undefined), 'one address per server line'),
  oraclePath: U(K('qpc', 'path', false, undefined, 'unset', 'the oracle file of a two-server ensemble', undefined), 'no oracle for two-server ensembles'),

  // zookeeper.<key> system properties
  '4lw.commands.whitelist': K('sys', 'list', true, undefined, 'srvr', 'four-letter words answered: a comma list or *; srvr always', 'server/fourlw.ts'),
  'admin.enableServer': K('sys', 'bool', true, undefined, 'true', 'run the AdminServer', 'admin/http.ts'),
  'admin.serverAddress': K('sys', 'host', true, undefined, '0.0.0.0', 'the AdminServer address', 'admin/http.ts'),
  'admin.serverPort': K('sys', 'port0', true, undefined, '8080', 'the AdminServer port', 'admin/http.ts'),
  'admin.commandURL': K('sys', 'string', true, undefined, '/commands', 'the AdminServer command path', 'admin/http.ts'),
  'admin.idleTimeout': K('sys', 'int', false, undefined, '30000', 'AdminServer idle connection timeout (ms)', undefined),
  'admin.httpVersion': K('sys', 'int', false, undefined, '11', 'AdminServer HTTP version', undefined),
  'admin.portUnification': U(K('sys', 'bool', false, undefined, 'false', 'TLS and plaintext on the admin port', undefined), 'no TLS on the AdminServer'),
  'admin.forceHttps': U(K('sys', 'bool', false, undefined, 'false', 'AdminServer only over TLS', undefined), 'no TLS on the AdminServer'),
  snapCount: K('sys', 'int', true, undefined, '100000', 'txns between snapshots (randomized); values below 2 become 2', 'persistence/snapshotter.ts (standalone and every quorum peer)'),
  snapSizeLimitInKb: K('sys', 'long', false, undefined, '4194304', 'txn-log bytes between snapshots', undefined),
  txnLogSizeLimitInKb: K('sys', 'long', false, undefined, '-1', 'txn-log file size limit', undefined),
  preAllocSize: K('sys', 'long', true, 1, '65536', 'KiB the txn log preallocates', 'persistence/txnlog.ts'),
  forceSync: K('sys', 'yesno', true, undefined, 'yes', 'fdatasync the txn log before a write is acknowledged', 'persistence/txnlog.ts'),
  'fsync.warningthresholdms': K('sys', 'long', true, undefined, '1000', 'a txn-log fsync slower than this (ms) is logged at WARN and counted (admin server_stats fsync_threshold_exceed_count)', 'persistence/txnlog.ts'),
  globalOutstandingLimit: K('sys', 'int', true, 1, '1000', 'requests in flight per connection before reading pauses', 'server/zkserver.ts'),
  maxCnxns: K('sys', 'int', true, 0, '0', 'connections per client port in all; 0 = unlimited', 'server/net.ts'),
  skipACL: K('sys', 'yesno', true, undefined, 'no', 'skip every ACL check', 'server/auth.ts'),
  'DigestAuthenticationProvider.superDigest': K('sys', 'string', true, undefined, 'unset', 'super:<base64 sha1>: the super user\'s digest', 'server/zkserver.ts'),
  'DigestAuthenticationProvider.digestAlg': U(K('sys', 'string', false, undefined, 'SHA1', 'digest algorithm of the digest scheme', undefined), 'the digest scheme uses SHA1 only'),
  'DigestAuthenticationProvider.enabled': K('sys', 'bool', true, undefined, 'true', 'the digest auth scheme (addauth digest, digest: ACLs)', 'server/auth.ts'),
  superUser: K('sys', 'string', true, undefined, 'unset', 'a SASL user who is super (also every zookeeper.superUser.<x>)', 'security/sasl.ts'),
  'SASLAuthenticationProvider.superPassword': K('sys', 'string', true, undefined, 'unset', 'the SASL password of the user named super (instead of its JAAS user_super)', 'security/sasl.ts'),
  'sasl.serverconfig': K('sys', 'string', true, undefined, 'Server', 'the JAAS section with the server\'s DIGEST-MD5 users (user_<name>="<password>")', 'security/sasl.ts'),
  allowSaslFailedClients: K('sys', 'bool', true, undefined, 'false', 'keep a connection whose SASL login failed (unless SASL is enforced)', 'security/sasl.ts'),
  letAnySaslUserDoX: K('sys', 'string', true, undefined, 'unset', 'a sasl: ACL id that every SASL user matches', 'server/auth.ts'),
  'kerberos.removeHostFromPrincipal': K('sys', 'bool', true, undefined, 'false', 'drop /host from a SASL name of the form user/host@REALM', 'security/sasl.ts'),
  'kerberos.removeRealmFromPrincipal': K('sys', 'bool', true, undefined, 'false', 'drop @REALM from a SASL name of the form user[/host]@REALM', 'security/sasl.ts'),
  'enforce.auth.enabled': K('sys', 'bool', true, undefined, 'false', 'every request but auth and sasl needs an id of a scheme in enforce.auth.schemes, else SESSIONCLOSEDREQUIRESASLAUTH and the session is closed', 'server/zkserver.ts'),
  'enforce.auth.schemes': K('sys', 'list', true, undefined, 'unset', 'the schemes enforce.auth accepts (each must have a provider)', 'server/zkserver.ts'),
  sessionRequireClientSASLAuth: K('sys', 'bool', true, undefined, 'false', 'the same as enforce.auth.enabled=true with enforce.auth.schemes=sasl', 'server/zkserver.ts'),
  extendedTypesEnabled: K('sys', 'bool', true, undefined, 'false', 'TTL znodes (myid must then be ≤ 254)', 'server/prep.ts'),
  emulate353TTLNodes: U(K('sys', 'bool', false, undefined, 'false', '3.5.3 TTL node ids', undefined), 'only the 3.5.4+ TTL session-id form'),
  'digest.enabled': K('sys', 'bool', true, undefined, 'true', 'tree digests: the leader puts the digest of the tree after each txn into the proposal and the txn log, every peer compares it after applying (digest_mismatches_count), snapshots carry one, the hash command lists every 128th', 'data/digest.ts, data/datatree.ts, server/prep.ts'),
  'closeSessionTxn.enabled': K('sys', 'bool', false, undefined, 'true', 'closeSession txns list their ephemerals', undefined),
  'snapshot.compression.method': E(K('sys', 'string', true, undefined, '"" (none)', 'gz or snappy snapshots', 'persistence/snapshot.ts'), ['gz', 'snappy', ''], 'expected gz, snappy or nothing, got "{v}"'),
  'snapshot.trust.empty': K('sys', 'bool', false, undefined, 'false', 'start from a txn log without a snapshot', undefined),
  'db.autocreate': K('sys', 'bool', false, undefined, 'true', 'create an empty database when there is none', undefined),
  'datadir.autocreate': K('sys', 'bool', false, undefined, 'true', 'create dataDir when it is missing', undefined),
  commitLogCount: K('sys', 'int', false, undefined, '500', 'committed txns kept in memory for DIFF syncs (zk-server: always 500)', undefined),
  snapshotSizeFactor: K('sys', 'double', false, undefined, '0.33', 'sync from the txn log when it is this fraction of the snapshot', undefined),
  forceSnapshotSync: K('sys', 'bool', false, undefined, 'false', 'always sync learners by SNAP', undefined),
  leaderServes: K('sys', 'yesno', false, undefined, 'yes', 'the leader serves clients', undefined),
  cnxTimeout: K('sys', 'int', false, undefined, '5000', 'election connection timeout (ms)', undefined),
  quorumCnxnTimeoutMs: K('sys', 'long', true, undefined, '-1', 'ms for a quorum SASL exchange (-1: initLimit ticks)', 'security/quorumauth.ts'),
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
  'nio.sessionlessCnxnTimeout': K('sys', 'int', true, 1, '10000', 'ms a connection may take to send its ConnectRequest', 'server/net.ts'),
  largeRequestThreshold: K('sys', 'int', false, undefined, '-1', 'bytes from which a request is large', undefined),
  largeRequestMaxBytes: K('sys', 'int', false, undefined, '104857600', 'bytes of large requests in flight', undefined),
  enforceQuota: K('sys', 'bool', true, undefined, 'false', 'quotas (setquota): a create or setData past a hard limit (-N, -B) is refused with QUOTAEXCEEDED, any exceeded limit is logged; without it quotas are only counted (the stats node, listquota, the quota metrics)', 'server/prep.ts, data/datatree.ts'),
  enableEagerACLCheck: K('sys', 'bool', false, undefined, 'false', 'check ACLs before a write is queued', undefined),
  'jute.maxbuffer.extrasize': K('sys', 'int', false, undefined, '= jute.maxbuffer', 'extra bytes allowed over jute.maxbuffer', undefined),

  // TLS on the client port (ClientX509Util: zookeeper.ssl.*)
  'ssl.keyStore.location': K('sys', 'path', true, undefined, 'unset', 'the client port\'s key store: PKCS12 (.p12, .pfx) or PEM (key and chain in one file)', 'security/tls.ts'),
  'ssl.keyStore.password': K('sys', 'string', true, undefined, 'unset', 'the key store\'s password (for PEM: the private key\'s)', 'security/tls.ts'),
  'ssl.keyStore.passwordPath': K('sys', 'path', true, undefined, 'unset', 'a file holding the key store\'s password', 'security/tls.ts'),
  'ssl.keyStore.type': E(K('sys', 'string', true, undefined, 'from the file name', 'PKCS12, PEM or JKS (JKS: refused with the keytool command that converts it)', 'security/tls.ts'), ['pkcs12', 'pem', 'jks', 'bcfks', ''], 'expected PKCS12, PEM or JKS, got "{v}"'),
  'ssl.trustStore.location': K('sys', 'path', true, undefined, 'unset', 'the certificates client certificates must chain to: PKCS12 or PEM', 'security/tls.ts'),
  'ssl.trustStore.password': K('sys', 'string', true, undefined, 'unset', 'the trust store\'s password', 'security/tls.ts'),
  'ssl.trustStore.passwordPath': K('sys', 'path', true, undefined, 'unset', 'a file holding the trust store\'s password', 'security/tls.ts'),
  'ssl.trustStore.type': E(K('sys', 'string', true, undefined, 'from the file name', 'PKCS12, PEM or JKS', 'security/tls.ts'), ['pkcs12', 'pem', 'jks', 'bcfks', ''], 'expected PKCS12, PEM or JKS, got "{v}"'),
  'ssl.protocol': K('sys', 'string', true, undefined, 'TLSv1.2', 'the TLS protocol (the only one enabled unless ssl.enabledProtocols lists more)', 'security/tls.ts'),
  'ssl.enabledProtocols': K('sys', 'list', true, undefined, '= ssl.protocol', 'the TLS protocols accepted', 'security/tls.ts'),
  'ssl.ciphersuites': K('sys', 'list', true, undefined, 'the JDK\'s GCM then CBC ECDHE suites', 'the cipher suites, by their Java (IANA) names', 'security/tls.ts'),
  'ssl.clientAuth': E(K('sys', 'string', true, undefined, 'need', 'client certificates: none, want (checked when given) or need', 'security/tls.ts'), ['none', 'want', 'need', ''], 'expected none, want or need, got "{v}"'),
  'ssl.authProvider': K('sys', 'string', true, undefined, 'x509', 'the auth scheme a client certificate authenticates with (its provider must be registered by authProvider.<n>)', 'server/net.ts'),
  'ssl.hostnameVerification': K('sys', 'bool', false, undefined, 'true', 'verify peers\' host names (the client port never checks clients\' names in 3.8)', undefined),
  // TLS between peers (QuorumX509Util: zookeeper.ssl.quorum.*), used with sslQuorum=true
  'ssl.quorum.keyStore.location': K('sys', 'path', true, undefined, 'unset', 'this peer\'s key store (its certificate for the other peers): PKCS12 or PEM', 'security/tls.ts'),
  'ssl.quorum.keyStore.password': K('sys', 'string', true, undefined, 'unset', 'the quorum key store\'s password', 'security/tls.ts'),
  'ssl.quorum.keyStore.passwordPath': K('sys', 'path', true, undefined, 'unset', 'a file holding the quorum key store\'s password', 'security/tls.ts'),
  'ssl.quorum.keyStore.type': E(K('sys', 'string', true, undefined, 'from the file name', 'PKCS12, PEM or JKS', 'security/tls.ts'), ['pkcs12', 'pem', 'jks', 'bcfks', ''], 'expected PKCS12, PEM or JKS, got "{v}"'),
  'ssl.quorum.trustStore.location': K('sys', 'path', true, undefined, 'unset', 'the certificates other peers\' certificates must chain to', 'security/tls.ts'),
  'ssl.quorum.trustStore.password': K('sys', 'string', true, undefined, 'unset', 'the quorum trust store\'s password', 'security/tls.ts'),
  'ssl.quorum.trustStore.passwordPath': K('sys', 'path', true, undefined, 'unset', 'a file holding the quorum trust store\'s password', 'security/tls.ts'),
  'ssl.quorum.trustStore.type': E(K('sys', 'string', true, undefined, 'from the file name', 'PKCS12, PEM or JKS', 'security/tls.ts'), ['pkcs12', 'pem', 'jks', 'bcfks', ''], 'expected PKCS12, PEM or JKS, got "{v}"'),
  'ssl.quorum.protocol': K('sys', 'string', true, undefined, 'TLSv1.2', 'the TLS protocol between peers', 'security/tls.ts'),
  'ssl.quorum.enabledProtocols': K('sys', 'list', true, undefined, '= ssl.quorum.protocol', 'the TLS protocols accepted between peers', 'security/tls.ts'),
  'ssl.quorum.ciphersuites': K('sys', 'list', true, undefined, 'the JDK\'s GCM then CBC ECDHE suites', 'cipher suites between peers (Java names)', 'security/tls.ts'),
  'ssl.quorum.clientAuth': E(K('sys', 'string', true, undefined, 'need', 'whether a connecting peer must show a certificate', 'security/tls.ts'), ['none', 'want', 'need', ''], 'expected none, want or need, got "{v}"'),
  'ssl.quorum.hostnameVerification': K('sys', 'bool', true, undefined, 'true', 'check that a peer\'s certificate names its address (both ways)', 'quorum/transport.ts'),
  'ssl.crl': U(K('sys', 'bool', false, undefined, 'false', 'check certificate revocation lists', undefined), 'no CRL or OCSP checks'),
  'ssl.ocsp': U(K('sys', 'bool', false, undefined, 'false', 'check certificates by OCSP', undefined), 'no CRL or OCSP checks'),
  'ssl.context.supplier.class': U(K('sys', 'string', false, undefined, 'unset', 'a Java class that supplies the SSLContext', undefined), 'no Java classes'),
  'ssl.handshakeDetectionTimeoutMillis': K('sys', 'int', true, 1, '5000', 'with client.portUnification: ms to wait for a connection\'s first bytes', 'server/net.ts'),
  'client.portUnification': K('sys', 'bool', true, undefined, 'false', 'the plaintext client port also accepts TLS (told apart by the first byte)', 'server/net.ts'),
  'X509AuthenticationProvider.superUser': K('sys', 'string', true, undefined, 'unset', 'the x509 id (RFC 2253 subject) that is super', 'server/net.ts, server/auth.ts'),

  // JVM-only properties (no zookeeper. prefix), also accepted in zoo.cfg by zk-server
  'jute.maxbuffer': K('jvm', 'int', true, 1, '1048575', 'the largest request or znode (bytes)', 'server/net.ts, jute'),
  'znode.container.checkIntervalMs': K('jvm', 'int', true, 1, '60000', 'ms between container and TTL cleanups', 'server/zkserver.ts'),
  'znode.container.maxPerMinute': K('jvm', 'int', true, 1, '10000', 'containers deleted per minute at most', 'server/zkserver.ts'),
  'znode.container.maxNeverUsedIntervalMs': K('jvm', 'long', false, 0, '0', 'delete never-used containers after this long', undefined),
  'readonlymode.enabled': K('jvm', 'bool', true, undefined, 'false', 'a peer without a quorum (LOOKING for max(2 s, tickTime)) serves clients that asked for read-only: reads from its last tree, NOTREADONLY for writes and sync, local sessions (zk-server makes them local even without localSessionsEnabled, which 3.8.0 needs); `isro` answers ro', 'server/readonlyzk.ts, quorum/peer.ts'),
  'java.security.auth.login.config': K('jvm', 'path', true, undefined, 'unset', 'the JAAS file; its Server section (zookeeper.sasl.serverconfig) turns on SASL DIGEST-MD5 for clients', 'security/sasl.ts'),
  'follower.nodelay': K('jvm', 'bool', false, undefined, 'true', 'TCP_NODELAY towards the leader', undefined),
};

/**
 * The ServerConfig field each implemented key lands in (load.ts fills them, some with a rule of its
 * own: session-timeout defaults, KiB → bytes for preAllocSize, the server line winning for the
 * client address). test/config.test.ts checks that every implemented key has one and that the
 * defaults documented above are the values the loader produces.
 */
export const FIELD_OF: Record<string, keyof ServerConfig> = {
  tickTime: 'tickTime',
  initLimit: 'initLimit',
  syncLimit: 'syncLimit',
  dataDir: 'dataDir',
  dataLogDir: 'dataLogDir',
  clientPort: 'clientPort',
  clientPortAddress: 'clientPortAddress',
  clientPortListenBacklog: 'clientPortListenBacklog',
  maxClientCnxns: 'maxClientCnxns',
  minSessionTimeout: 'minSessionTimeout',
  maxSessionTimeout: 'maxSessionTimeout',
  electionAlg: 'electionAlg',
  linearizableSync: 'linearizableSync',
  quorumListenOnAllIPs: 'quorumListenOnAllIPs',
  peerType: 'peerType',
  standaloneEnabled: 'standaloneEnabled',
  reconfigEnabled: 'reconfigEnabled',
  // the membership's version comes from the dynamic file's name (its server lines become `servers`)
  dynamicConfigFile: 'configVersion',
  'autopurge.snapRetainCount': 'autopurgeSnapRetainCount',
  'autopurge.purgeInterval': 'autopurgePurgeInterval',
  'metricsProvider.className': 'metricsProviderClassName',
  'metricsProvider.httpHost': 'metricsProviderHttpHost',
  'metricsProvider.httpPort': 'metricsProviderHttpPort',
  '4lw.commands.whitelist': 'fourLetterWhitelist',
  'admin.enableServer': 'adminEnableServer',
  'admin.serverAddress': 'adminServerAddress',
  'admin.serverPort': 'adminServerPort',
  'admin.commandURL': 'adminCommandURL',
  snapCount: 'snapCount',
  preAllocSize: 'preAllocSize',
  forceSync: 'forceSync',
  globalOutstandingLimit: 'globalOutstandingLimit',
  skipACL: 'skipACL',
  'DigestAuthenticationProvider.superDigest': 'superDigest',
  'DigestAuthenticationProvider.enabled': 'digestAuthEnabled',
  superUser: 'saslSuperUsers',
  'SASLAuthenticationProvider.superPassword': 'saslSuperPassword',
  'sasl.serverconfig': 'saslServerSection',
  allowSaslFailedClients: 'allowSaslFailedClients',
  letAnySaslUserDoX: 'letAnySaslUserDoX',
  'kerberos.removeHostFromPrincipal': 'kerberosRemoveHost',
  'kerberos.removeRealmFromPrincipal': 'kerberosRemoveRealm',
  'enforce.auth.enabled': 'enforceAuthEnabled',
  'enforce.auth.schemes': 'enforceAuthSchemes',
  sessionRequireClientSASLAuth: 'sessionRequireClientSASLAuth',
  'java.security.auth.login.config': 'jaasConfigFile',
  maxCnxns: 'maxCnxns',
  'ssl.quorum.keyStore.location': 'sslQuorumKeyStoreLocation',
  'ssl.quorum.keyStore.password': 'sslQuorumKeyStorePassword',
  'ssl.quorum.keyStore.passwordPath': 'sslQuorumKeyStorePasswordPath',
  'ssl.quorum.keyStore.type': 'sslQuorumKeyStoreType',
  'ssl.quorum.trustStore.location': 'sslQuorumTrustStoreLocation',
  'ssl.quorum.trustStore.password': 'sslQuorumTrustStorePassword',
  'ssl.quorum.trustStore.passwordPath': 'sslQuorumTrustStorePasswordPath',
  'ssl.quorum.trustStore.type': 'sslQuorumTrustStoreType',
  'ssl.quorum.protocol': 'sslQuorumProtocol',
  'ssl.quorum.enabledProtocols': 'sslQuorumEnabledProtocols',
  'ssl.quorum.ciphersuites': 'sslQuorumCiphersuites',
  'ssl.quorum.clientAuth': 'sslQuorumClientAuth',
  'ssl.quorum.hostnameVerification': 'sslQuorumHostnameVerification',
  sslQuorum: 'sslQuorum',
  portUnification: 'portUnification',
  sslQuorumReloadCertFiles: 'sslQuorumReloadCertFiles',
  'quorum.auth.enableSasl': 'quorumSaslEnabled',
  'quorum.auth.serverRequireSasl': 'quorumServerRequireSasl',
  'quorum.auth.learnerRequireSasl': 'quorumLearnerRequireSasl',
  'quorum.auth.learner.saslLoginContext': 'quorumLearnerLoginContext',
  'quorum.auth.server.saslLoginContext': 'quorumServerLoginContext',
  quorumCnxnTimeoutMs: 'quorumCnxnTimeoutMs',
  'nio.sessionlessCnxnTimeout': 'sessionlessCnxnTimeout',
  'fsync.warningthresholdms': 'fsyncWarningThresholdMs',
  secureClientPort: 'secureClientPort',
  secureClientPortAddress: 'secureClientPortAddress',
  'ssl.keyStore.location': 'sslKeyStoreLocation',
  'ssl.keyStore.password': 'sslKeyStorePassword',
  'ssl.keyStore.passwordPath': 'sslKeyStorePasswordPath',
  'ssl.keyStore.type': 'sslKeyStoreType',
  'ssl.trustStore.location': 'sslTrustStoreLocation',
  'ssl.trustStore.password': 'sslTrustStorePassword',
  'ssl.trustStore.passwordPath': 'sslTrustStorePasswordPath',
  'ssl.trustStore.type': 'sslTrustStoreType',
  'ssl.protocol': 'sslProtocol',
  'ssl.enabledProtocols': 'sslEnabledProtocols',
  'ssl.ciphersuites': 'sslCiphersuites',
  'ssl.clientAuth': 'sslClientAuth',
  'ssl.authProvider': 'sslAuthProvider',
  'ssl.handshakeDetectionTimeoutMillis': 'sslHandshakeDetectionTimeoutMillis',
  'client.portUnification': 'clientPortUnification',
  'X509AuthenticationProvider.superUser': 'x509SuperUser',
  'digest.enabled': 'digestEnabled',
  enforceQuota: 'enforceQuota',
  'readonlymode.enabled': 'readOnlyModeEnabled',
  localSessionsEnabled: 'localSessionsEnabled',
  localSessionsUpgradingEnabled: 'localSessionsUpgradingEnabled',
  extendedTypesEnabled: 'extendedTypesEnabled',
  'snapshot.compression.method': 'snapshotCompressionMethod',
  'jute.maxbuffer': 'juteMaxBuffer',
  'znode.container.checkIntervalMs': 'containerCheckIntervalMs',
  'znode.container.maxPerMinute': 'containerMaxPerMinute',
};

/**
 * The structural keys: families of keys (and the myid file) that load.ts parses specially. They are
 * part of the table so that the docs list them; `prefix` is how a zoo.cfg key belongs to the family.
 */
export interface FamilySpec {
  /** the key as the docs write it */
  key: string;
  /** zoo.cfg keys starting with this belong to the family (undefined: not a zoo.cfg key) */
  prefix?: string;
  /** the value's form */
  form: string;
  default: string;
  meaning: string;
  /** the part of zk-server that reads it (undefined: accepted, ignored) */
  reader?: string;
  unsupported?: string;
  /** 'sys': a system property family (zoo.cfg or -Dzookeeper.<prefix>…); default: QuorumPeerConfig's */
  origin?: 'sys';
}

export const FAMILIES: FamilySpec[] = [
  {
    key: 'server.<id>',
    prefix: 'server.',
    form: 'host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]',
    default: 'none (standalone)',
    meaning: 'an ensemble member: its quorum and election ports, its type and its client address',
    reader: 'config/load.ts (parseServerLine), quorum/peer.ts, quorum/election.ts',
  },
  {
    key: 'group.<gid>',
    prefix: 'group.',
    form: 'id:id:…',
    default: 'unset',
    meaning: 'the members of a hierarchical-quorum group: a quorum is a weighted majority in a majority of the groups',
    reader: 'config/load.ts, quorum/verifier.ts',
  },
  {
    key: 'weight.<id>',
    prefix: 'weight.',
    form: 'integer',
    default: '1',
    meaning: 'a member\'s vote weight in hierarchical quorums (0: votes count for nothing, never elected)',
    reader: 'config/load.ts, quorum/verifier.ts',
  },
  {
    key: 'authProvider.<n>',
    prefix: 'authProvider.',
    origin: 'sys',
    form: 'a Java class name',
    default: 'unset (ip and digest only)',
    meaning: 'an auth scheme: org.apache.zookeeper.server.auth.SASLAuthenticationProvider gives sasl:, X509AuthenticationProvider x509: (also -Dzookeeper.authProvider.<n>=…)',
    reader: 'config/load.ts, server/auth.ts',
  },
  {
    key: 'myid',
    form: 'integer 1-255 (1-254 with extendedTypesEnabled), on the first line',
    default: '— (required in quorum mode)',
    meaning: 'this server\'s id, one of the server.<id> lines (a file, not a zoo.cfg key)',
    reader: 'config/load.ts, quorum/peer.ts',
  },
];

/** Key families parsed by QuorumPeerConfig (not system properties). */
export const QPC_PREFIXES = [...FAMILIES.flatMap((f) => (f.prefix && f.origin !== 'sys' ? [f.prefix] : [])), 'metricsProvider.'];

/** One line of the `conf` four-letter word (ZooKeeperServer.dumpConf, then QuorumPeer's lines). */
export interface ConfLine {
  /** the name before `=` */
  name: string;
  /** the table key (or family) it shows */
  key: string;
  /** only a quorum peer prints it */
  quorum: boolean;
  /** what the value is */
  shows: string;
}

/**
 * The `conf` four-letter word's lines, in ZooKeeper 3.8's order (server/fourlw.ts prints them; its
 * renderers are typed by `ConfLineName`, so a line here without a renderer does not compile).
 * Standalone: the first 12; a quorum peer adds the rest, ending in `version=0` without a newline.
 */
export const CONF_LINES = [
  { name: 'clientPort', key: 'clientPort', quorum: false, shows: 'the client port (the server line\'s, in a quorum)' },
  { name: 'secureClientPort', key: 'secureClientPort', quorum: false, shows: 'the TLS client port, -1 when unset' },
  { name: 'dataDir', key: 'dataDir', quorum: false, shows: 'the snapshot directory, <dataDir>/version-2' },
  { name: 'dataDirSize', key: 'dataDir', quorum: false, shows: 'bytes of the files in it' },
  { name: 'dataLogDir', key: 'dataLogDir', quorum: false, shows: 'the txn-log directory, <dataLogDir>/version-2' },
  { name: 'dataLogSize', key: 'dataLogDir', quorum: false, shows: 'bytes of the files in it' },
  { name: 'tickTime', key: 'tickTime', quorum: false, shows: 'ms' },
  { name: 'maxClientCnxns', key: 'maxClientCnxns', quorum: false, shows: 'connections per client IP' },
  { name: 'minSessionTimeout', key: 'minSessionTimeout', quorum: false, shows: 'ms, the default resolved' },
  { name: 'maxSessionTimeout', key: 'maxSessionTimeout', quorum: false, shows: 'ms, the default resolved' },
  { name: 'clientPortListenBacklog', key: 'clientPortListenBacklog', quorum: false, shows: 'the listen backlog, -1 = the OS default' },
  { name: 'serverId', key: 'myid', quorum: false, shows: 'myid; 0 standalone' },
  { name: 'initLimit', key: 'initLimit', quorum: true, shows: 'ticks' },
  { name: 'syncLimit', key: 'syncLimit', quorum: true, shows: 'ticks' },
  { name: 'electionAlg', key: 'electionAlg', quorum: true, shows: 'always 3' },
  { name: 'electionPort', key: 'server.<id>', quorum: true, shows: 'this server\'s election port' },
  { name: 'quorumPort', key: 'server.<id>', quorum: true, shows: 'this server\'s quorum port' },
  { name: 'peerType', key: 'server.<id>', quorum: true, shows: '0 participant, 1 observer' },
  { name: 'membership', key: 'server.<id>', quorum: true, shows: '`membership: ` then every server line and `version=0`' },
] as const satisfies readonly ConfLine[];
export type ConfLineName = (typeof CONF_LINES)[number]['name'];

/**
 * The admin `configuration` command's fields, in ZooKeeper 3.8's order (ZooKeeperServerConf.toMap),
 * each with the `conf` line it shares its value with.
 */
export const ADMIN_CONF_FIELDS = [
  ['client_port', 'clientPort'],
  ['data_dir', 'dataDir'],
  ['data_log_dir', 'dataLogDir'],
  ['tick_time', 'tickTime'],
  ['max_client_cnxns', 'maxClientCnxns'],
  ['min_session_timeout', 'minSessionTimeout'],
  ['max_session_timeout', 'maxSessionTimeout'],
  ['server_id', 'serverId'],
  ['client_port_listen_backlog', 'clientPortListenBacklog'],
] as const satisfies readonly (readonly [string, ConfLineName])[];

export function specOf(key: string): KeySpec | undefined {
  return Object.prototype.hasOwnProperty.call(KEYS, key) ? KEYS[key] : undefined;
}

export function isQpcKey(key: string): boolean {
  return specOf(key)?.origin === 'qpc' || QPC_PREFIXES.some((p) => key.startsWith(p));
}

