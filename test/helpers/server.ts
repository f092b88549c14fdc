// Start a standalone zk-server in this process on a free loopback port, for tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { ServerConfig } from '../../src/config/types';
import { RunningServer, startStandalone } from '../../src/main';

export function testConfig(over: Partial<ServerConfig> = {}): ServerConfig {
  const dataDir = over.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zk-test-'));
  return {
    file: '<test>',
    dataDir,
    dataLogDir: dataDir,
    tickTime: 2000,
    initLimit: 10,
    syncLimit: 5,
    clientPort: 0,
    clientPortAddress: '127.0.0.1',
    maxClientCnxns: 60,
    minSessionTimeout: 4000,
    maxSessionTimeout: 40000,
    clientPortListenBacklog: -1,
    fourLetterWhitelist: '*',
    adminEnableServer: false,
    adminServerAddress: '0.0.0.0',
    adminServerPort: 8080,
    adminCommandURL: '/commands',
    extendedTypesEnabled: true,
    digestEnabled: true,
    enforceQuota: false,
    readOnlyModeEnabled: false,
    localSessionsEnabled: false,
    localSessionsUpgradingEnabled: false,
    containerCheckIntervalMs: 1000,
    containerMaxPerMinute: 10000,
    skipACL: false,
    digestAuthEnabled: true,
    authProviders: ['ip', 'digest'],
    unknownAuthProviders: [],
    saslServerSection: 'Server',
    saslSuperUsers: [],
    allowSaslFailedClients: false,
    kerberosRemoveHost: false,
    kerberosRemoveRealm: false,
    enforceAuthEnabled: false,
    enforceAuthSchemes: [],
    sessionRequireClientSASLAuth: false,
    secureClientPortAddress: '0.0.0.0',
    maxCnxns: 0,
    sslQuorum: false,
    sslQuorumReloadCertFiles: false,
    sslQuorumProtocol: 'TLSv1.2',
    sslQuorumClientAuth: 'need',
    sslQuorumHostnameVerification: true,
    quorumSaslEnabled: false,
    quorumServerRequireSasl: false,
    quorumLearnerRequireSasl: false,
    quorumLearnerLoginContext: 'QuorumLearner',
    quorumServerLoginContext: 'QuorumServer',
    quorumCnxnTimeoutMs: -1,
    sessionlessCnxnTimeout: 10000,
    sslProtocol: 'TLSv1.2',
    sslClientAuth: 'need',
    sslAuthProvider: 'x509',
    sslHandshakeDetectionTimeoutMillis: 5000,
    clientPortUnification: false,
    snapCount: 100000,
    forceSync: true,
    preAllocSize: 65536 * 1024,
    snapshotCompressionMethod: '',
    autopurgeSnapRetainCount: 3,
    autopurgePurgeInterval: 0,
    juteMaxBuffer: 0xfffff,
    globalOutstandingLimit: 1000,
    servers: new Map(),
    peerType: 'participant',
    standaloneEnabled: true,
    quorumListenOnAllIPs: false,
    linearizableSync: false,
    reconfigEnabled: false,
    electionAlg: 3,
    metricsProviderHttpPort: 7000,
    metricsProviderHttpHost: '0.0.0.0',
    raw: new Map(),
    ignoredKeys: [],
    ...over,
  };
}

export async function startTestServer(over: Partial<ServerConfig> = {}): Promise<RunningServer> {
  const logger = pino({ level: process.env.ZK_TEST_LOG ?? 'silent' });
  return startStandalone(testConfig(over), { logger });
}
