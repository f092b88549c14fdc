// The parsed form of a zoo.cfg. Every field has ZooKeeper 3.8's default; see docs/configuration.md (the keys: src/config/keys.ts).

export interface QuorumServerSpec {
  id: number;
  host: string;
  quorumPort: number;
  electionPort: number;
  type: 'participant' | 'observer';
  clientHost?: string;
  clientPort?: number;
  /** the raw value after `server.N=` */
  raw: string;
}

export interface ServerConfig {
  /** absolute path of the config file read */
  file: string;
  /** absolute path of dataDir */
  dataDir: string;
  /** absolute path of dataLogDir (= dataDir when unset) */
  dataLogDir: string;
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  clientPort: number;
  clientPortAddress: string;
  secureClientPort?: number;
  maxClientCnxns: number;
  /** -1 in the file means 2 x tickTime; resolved here */
  minSessionTimeout: number;
  /** -1 in the file means 20 x tickTime; resolved here */
  maxSessionTimeout: number;
  clientPortListenBacklog: number;
  /** lower-case 4lw names allowed; '*' = all. `srvr` is always allowed. */
  fourLetterWhitelist: Set<string> | '*';
  adminEnableServer: boolean;
  adminServerAddress: string;
  adminServerPort: number;
  adminCommandURL: string;
  extendedTypesEnabled: boolean;
  containerCheckIntervalMs: number;
  containerMaxPerMinute: number;
  /** `super:<base64 sha1>` from zookeeper.DigestAuthenticationProvider.superDigest */
  superDigest?: string;
  skipACL: boolean;
  /** DigestAuthenticationProvider.enabled: the digest scheme exists */
  digestAuthEnabled: boolean;
  /** the schemes of the authProvider.<n> classes zk-server knows (sasl, x509, …), in key order */
  authProviders: string[];
  /** authProvider.<n> classes zk-server does not have (3.8 logs "Problems loading" and goes on) */
  unknownAuthProviders: string[];
  /** java.security.auth.login.config */
  jaasConfigFile?: string;
  /** zookeeper.sasl.serverconfig: the JAAS section of the server's SASL users */
  saslServerSection: string;
  /** zookeeper.superUser and every zookeeper.superUser.<x> */
  saslSuperUsers: string[];
  saslSuperPassword?: string;
  allowSaslFailedClients: boolean;
  letAnySaslUserDoX?: string;
  kerberosRemoveHost: boolean;
  kerberosRemoveRealm: boolean;
  /** enforce.auth.enabled (or sessionRequireClientSASLAuth) */
  enforceAuthEnabled: boolean;
  /** enforce.auth.schemes (just sasl with sessionRequireClientSASLAuth) */
  enforceAuthSchemes: string[];
  sessionRequireClientSASLAuth: boolean;
  /** sslQuorum: TLS on the election and quorum ports, with the ssl.quorum.* stores */
  sslQuorum: boolean;
  /** portUnification: the quorum ports accept TLS and plaintext */
  portUnification: boolean;
  /** sslQuorumReloadCertFiles: reload the quorum stores when their files change */
  sslQuorumReloadCertFiles: boolean;
  sslQuorumKeyStoreLocation?: string;
  sslQuorumKeyStorePassword?: string;
  sslQuorumKeyStorePasswordPath?: string;
  sslQuorumKeyStoreType?: string;
  sslQuorumTrustStoreLocation?: string;
  sslQuorumTrustStorePassword?: string;
  sslQuorumTrustStorePasswordPath?: string;
  sslQuorumTrustStoreType?: string;
  sslQuorumProtocol: string;
  sslQuorumEnabledProtocols?: string[];
  sslQuorumCiphersuites?: string[];
  sslQuorumClientAuth: 'none' | 'want' | 'need';
  sslQuorumHostnameVerification: boolean;
  /** quorum.auth.*: SASL DIGEST-MD5 between peers */
  quorumSaslEnabled: boolean;
  quorumServerRequireSasl: boolean;
  quorumLearnerRequireSasl: boolean;
  quorumLearnerLoginContext: string;
  quorumServerLoginContext: string;
  quorumCnxnTimeoutMs: number;
  /** zookeeper.maxCnxns: connections per client port in all (0: no limit) */
  maxCnxns: number;
  /** fsync.warningthresholdms: a txn-log fsync slower than this (ms) is logged at WARN and counted */
  fsyncWarningThresholdMs: number;
  /** nio.sessionlessCnxnTimeout: ms before a connection without a ConnectRequest is closed */
  sessionlessCnxnTimeout: number;
  /** secureClientPortAddress (default 0.0.0.0) */
  secureClientPortAddress: string;
  sslKeyStoreLocation?: string;
  sslKeyStorePassword?: string;
  sslKeyStorePasswordPath?: string;
  sslKeyStoreType?: string;
  sslTrustStoreLocation?: string;
  sslTrustStorePassword?: string;
  sslTrustStorePasswordPath?: string;
  sslTrustStoreType?: string;
  sslProtocol: string;
  sslEnabledProtocols?: string[];
  sslCiphersuites?: string[];
  sslClientAuth: 'none' | 'want' | 'need';
  /** the scheme a client certificate authenticates with (ssl.authProvider) */
  sslAuthProvider: string;
  sslHandshakeDetectionTimeoutMillis: number;
  /** client.portUnification: TLS and plaintext on the client port */
  clientPortUnification: boolean;
  /** X509AuthenticationProvider.superUser */
  x509SuperUser?: string;
  snapCount: number;
  forceSync: boolean;
  /** bytes */
  preAllocSize: number;
  snapshotCompressionMethod: '' | 'gz' | 'snappy';
  autopurgeSnapRetainCount: number;
  /** hours; 0 = off */
  autopurgePurgeInterval: number;
  juteMaxBuffer: number;
  globalOutstandingLimit: number;
  /** quorum */
  servers: Map<number, QuorumServerSpec>;
  /** hierarchical quorums (group.N=sid:sid:…): gid → members; empty for majority quorums */
  groups: Map<number, number[]>;
  /** weight.N: sid → vote weight (hierarchical quorums; default 1) */
  weights: Map<number, number>;
  /** the membership's version (the zxid of the reconfig that made it; 0 for the first one) */
  configVersion: number;
  /** from dataDir/myid when servers are configured */
  myid?: number;
  peerType: 'participant' | 'observer';
  standaloneEnabled: boolean;
  quorumListenOnAllIPs: boolean;
  /** zk-server only (docs/reliability.md): sync waits for a committed no-op, a quorum round */
  linearizableSync: boolean;
  /** zookeeper.digest.enabled: tree digests in txns and snapshots (data/digest.ts) */
  digestEnabled: boolean;
  /** localSessionsEnabled / localSessionsUpgradingEnabled (quorum roles) */
  localSessionsEnabled: boolean;
  localSessionsUpgradingEnabled: boolean;
  /** readonlymode.enabled (a JVM flag): serve read-only clients while there is no quorum */
  readOnlyModeEnabled: boolean;
  /** zookeeper.enforceQuota: hard quota limits refuse writes (QUOTAEXCEEDED) */
  enforceQuota: boolean;
  reconfigEnabled: boolean;
  electionAlg: number;
  metricsProviderClassName?: string;
  metricsProviderHttpPort: number;
  metricsProviderHttpHost: string;
  /** every key as written (after removing the zookeeper. prefix where ZooKeeper allows it) */
  raw: Map<string, string>;
  /** keys read but not implemented, each reported once at start */
  ignoredKeys: string[];
}

/** A config problem: names the file, the line (1-based, 0 when not tied to a line) and the key. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly key: string,
    readonly detail: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${key ? `${key}: ` : ''}${detail}`);
    this.name = 'ConfigError';
  }
}
