// Runs a standalone zk-server (from dist/) in a child process for crash tests:
//   node child-server.js '<json overrides of ServerConfig>'
// Prints "listening PORT" once it serves.
'use strict';
const path = require('node:path');
const pino = require('pino');
const { startStandalone } = require(path.join(__dirname, '..', '..', 'dist', 'main.js'));
const over = JSON.parse(process.argv[2] || '{}');
const config = {
  file: '<child>', dataDir: over.dataDir, dataLogDir: over.dataLogDir || over.dataDir, tickTime: 2000, initLimit: 10,
  syncLimit: 5, clientPort: 0, clientPortAddress: '127.0.0.1', maxClientCnxns: 0, minSessionTimeout: 4000,
  maxSessionTimeout: 40000, clientPortListenBacklog: -1, fourLetterWhitelist: '*', adminEnableServer: false,
  adminServerAddress: '127.0.0.1', adminServerPort: 8080, adminCommandURL: '/commands', extendedTypesEnabled: true,
  containerCheckIntervalMs: 60000, containerMaxPerMinute: 10000, skipACL: false, snapCount: 100000, forceSync: true,
  preAllocSize: 64 * 1024 * 1024, snapshotCompressionMethod: '', autopurgeSnapRetainCount: 3, autopurgePurgeInterval: 0,
  juteMaxBuffer: 0xfffff, globalOutstandingLimit: 1000, servers: new Map(), groups: new Map(), weights: new Map(), configVersion: 0, peerType: 'participant',
  standaloneEnabled: true, quorumListenOnAllIPs: false, linearizableSync: false, digestEnabled: true, digestAuthEnabled: true, authProviders: ['ip', 'digest'], unknownAuthProviders: [], saslServerSection: 'Server', saslSuperUsers: [], allowSaslFailedClients: false, kerberosRemoveHost: false, kerberosRemoveRealm: false, enforceAuthEnabled: false, enforceAuthSchemes: [], sessionRequireClientSASLAuth: false, secureClientPortAddress: '0.0.0.0', maxCnxns: 0, sslQuorum: false, sslQuorumReloadCertFiles: false, portUnification: false, sslQuorumProtocol: 'TLSv1.2', sslQuorumClientAuth: 'need', sslQuorumHostnameVerification: true, quorumSaslEnabled: false, quorumServerRequireSasl: false, quorumLearnerRequireSasl: false, quorumLearnerLoginContext: 'QuorumLearner', quorumServerLoginContext: 'QuorumServer', quorumCnxnTimeoutMs: -1, sessionlessCnxnTimeout: 10000, sslProtocol: 'TLSv1.2', sslClientAuth: 'need', sslAuthProvider: 'x509', sslHandshakeDetectionTimeoutMillis: 5000, clientPortUnification: false, enforceQuota: false, readOnlyModeEnabled: false, localSessionsEnabled: false, localSessionsUpgradingEnabled: false, reconfigEnabled: false, electionAlg: 3,
  metricsProviderHttpPort: 7000, metricsProviderHttpHost: '127.0.0.1', raw: new Map(), ignoredKeys: [],
  ...over,
};
startStandalone(config, { logger: pino({ level: process.env.ZK_TEST_LOG || 'silent' }) }).then(
  (s) => process.stdout.write(`listening ${s.port}\n`),
  (e) => {
    process.stderr.write(String((e && e.stack) || e) + '\n');
    process.exit(1);
  },
);
