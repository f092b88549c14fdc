// TLS on the client port (secureClientPort, client.portUnification) and the x509 auth scheme,
// beside Apache ZooKeeper 3.8 (Netty factory): certificates made here with openssl and keytool
// (a throwaway CA, a server certificate for 127.0.0.1, trusted and untrusted client certificates).
//  - the Java client with a PKCS12 key and trust store gets `x509:<RFC 2253 subject>`, uses x509:
//    ACLs, the x509 super user bypasses them; an untrusted certificate, no certificate under
//    ssl.clientAuth=need and a plaintext client are refused — the same on both servers;
//  - Curator (test/clients/CuratorSecure.java) with x509 ids and ACLs, and kazoo (use_ssl with PEM
//    files) over TLS; an untrusted certificate refused; PEM key stores; client.portUnification;
//  - the subject text matches Java's X500Principal for unusual names; broken stores stop the start
//    with the key that is wrong.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { certSubjectRfc2253 } from '../src/security/x509name';
import { loadConfig } from '../src/config/load';
import { killStarted } from './helpers/apache-zk';
import { freePorts, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';
import { eventsLast, zkCli } from './helpers/zkcli';
import { Side as BaseSide, startApacheSide, startOursSide } from './helpers/sidebyside';
import { pythonJson } from './helpers/mixed';
import { runJava } from './helpers/javaclient';
import { HAVE_TOOLS, makeTestPki } from './helpers/pki';


const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-tls-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const f = (n: string): string => path.join(dir, n);
const run = (cmd: string, args: string[]): void => {
  execFileSync(cmd, args, { cwd: dir, stdio: 'ignore' });
};

function makePki(): void {
  makeTestPki(dir);
}

const serverSsl = (store = 'server.p12', pw = 'serverpw'): string[] => [
  'authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider',
  `ssl.keyStore.location=${f(store)}`,
  `ssl.keyStore.password=${pw}`,
  `ssl.trustStore.location=${f('trust.p12')}`,
  'ssl.trustStore.password=trustpw',
];

const clientFlags = (who: string | null): string =>
  [
    '-Dzookeeper.client.secure=true',
    '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    ...(who ? [`-Dzookeeper.ssl.keyStore.location=${f(`${who}.p12`)}`, `-Dzookeeper.ssl.keyStore.password=${who}pw`] : []),
    `-Dzookeeper.ssl.trustStore.location=${f('trust.p12')}`,
    '-Dzookeeper.ssl.trustStore.password=trustpw',
  ].join(' ');

interface Side extends BaseSide {
  securePort: number;
}

async function startApache(lines: string[], flags: string[] = []): Promise<Side> {
  const [securePort] = await freePorts(1);
  // ZooKeeper serves TLS clients only with its Netty connection factory
  const side = await startApacheSide(dir, [`secureClientPort=${securePort}`, ...lines], ['-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory', ...flags]);
  return { ...side, securePort };
}

async function startOurs(lines: string[], flags: string[] = [], secure = true): Promise<Side> {
  const [securePort] = await freePorts(1);
  const side = await startOursSide([...(secure ? [`secureClientPort=${securePort}`] : []), ...lines], flags);
  return { ...side, securePort };
}

/** kazoo over TLS with PEM files: what it saw. */
function kazoo(port: number, who: string | null, script: string): Promise<Record<string, unknown>> {
  const certs = who ? `certfile=${JSON.stringify(f(`${who}.crt`))}, keyfile=${JSON.stringify(f(`${who}.key`))},` : '';
  const py = `
import json, os
from kazoo.client import KazooClient
zk = KazooClient(hosts='127.0.0.1:${port}', use_ssl=True, ${certs} ca=${JSON.stringify(f('ca.crt'))}, verify_certs=True, timeout=6, connection_retry={'max_tries': 0})
out = {}
try:
    zk.start(timeout=10)
    out['state'] = zk.state
${script
  .split('\n')
  .map((l) => '    ' + l)
  .join('\n')}
    zk.stop()
except Exception as e:
    out['error'] = type(e).__name__
print(json.dumps(out, sort_keys=True), flush=True)
os._exit(0)
`;
  return pythonJson(py);
}

describe.skipIf(!HAVE_TOOLS)('TLS configuration and x509 names', () => {
  beforeAll(() => makePki(), 60_000);

  it('subjects read as Java prints them (RFC 2253): order, escaping, multi-valued names, other attributes', () => {
    run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'odd.key', '-out', 'odd.crt', '-days', '2', '-subj', '/C=US/O=Zk, Inc./OU=Test+UID=42/CN=client one/emailAddress=a@b.c']);
    const subject = (file: string): string => certSubjectRfc2253(new X509Certificate(fs.readFileSync(f(file))).raw);
    // what Java 17's X500Principal.getName() prints for the same files
    expect(subject('odd.crt')).toBe('1.2.840.113549.1.9.1=#16056140622e63,CN=client one,OU=Test+UID=42,O=Zk\\, Inc.,C=US');
    expect(subject('client.crt')).toBe('CN=client');
  });

  it('a wrong password, a JKS store, a missing key store and an unknown protocol stop the start, naming the key', () => {
    const data = fs.mkdtempSync(path.join(dir, 'cfg-'));
    const cfg = (lines: string[]): string => {
      const file = path.join(data, 'zoo.cfg');
      fs.writeFileSync(file, [`dataDir=${data}`, 'clientPort=2181', 'secureClientPort=2281', ...lines].join('\n') + '\n');
      return file;
    };
    expect(() => loadConfig(cfg(serverSsl()))).not.toThrow();
    expect(() => loadConfig(cfg(serverSsl('server.pem', '')))).not.toThrow();
    expect(() => loadConfig(cfg(serverSsl('server.p12', 'wrong')))).toThrow(/zoo.cfg:6: ssl.keyStore.password: cannot use the key store .*server.p12: mac verify failure/);
    expect(() => loadConfig(cfg(serverSsl('server.jks')))).toThrow(/ssl.keyStore.location: .*server.jks is a JKS key store, which zk-server does not read; convert it .*keytool -importkeystore -srckeystore .*server.jks -srcstoretype JKS -destkeystore .*server.p12 -deststoretype PKCS12/);
    expect(() => loadConfig(cfg([]))).toThrow(/zoo.cfg: ssl.keyStore.location: a TLS port needs a key store/);
    expect(() => loadConfig(cfg([...serverSsl(), 'ssl.protocol=SSLv3']))).toThrow(/ssl.protocol: unknown protocol "SSLv3"/);
    expect(() => loadConfig(cfg([...serverSsl(), 'ssl.clientAuth=maybe']))).toThrow(/ssl.clientAuth: expected none, want or need, got "maybe"/);
  });
});

describe.skipIf(SKIP_REAL || !HAVE_TOOLS)('TLS with real clients, beside Apache ZooKeeper 3.8', () => {
  beforeAll(() => {
    requireApacheZk();
    requireDist();
    if (!fs.existsSync(f('ca.crt'))) makePki();
  }, 60_000);
  afterEach(() => killStarted());

  it('the Java client: x509 ids and ACLs, the x509 super user; untrusted, missing and plaintext clients refused — the same on both', async () => {
    const results: Record<string, string[][]> = {};
    const logs: Record<string, string> = {};
    for (const start of [startApache, startOurs]) {
      const side = await start(serverSsl(), ['-Dzookeeper.X509AuthenticationProvider.superUser=CN=admin']);
      try {
        const r: string[][] = [];
        const cli = (who: string | null, cmds: string[]): Promise<string[]> => zkCli(side.securePort, cmds, { jvmFlags: clientFlags(who), netty: true, events: true, timeoutMs: 40_000 });
        r.push(await cli('client', ['whoami', 'create /t data x509:CN=client:cdrwa', 'getAcl /t', 'get /t']));
        r.push(await cli('admin', ['whoami', 'get /t', 'set /t by-admin']));
        // the plaintext port: no x509 id, refused by the ACL
        r.push(await zkCli(side.port, ['whoami', 'get /t']));
        // a certificate the trust store does not vouch for, and none at all (ssl.clientAuth=need)
        // a refused client's Disconnected and, at quit, Closed events print only if its event
        // thread gets to them before the JVM exits: not part of the comparison
        const refused = (lines: string[]): string[] => lines.filter((l) => !/^WatchedEvent state:(Disconnected|Closed)/.test(l));
        r.push(refused(await cli('rogue', ['get /t'])));
        r.push(refused(await cli(null, ['get /t'])));
        results[side.name] = r;
        logs[side.name] = side.log();
      } finally {
        await side.stop();
      }
    }
    const ours = results['zk-server'];
    expect(ours[0]).toContain('x509: CN=client');
    expect(ours[0]).toContain("'x509,'CN=client");
    expect(ours[0]).toContain('data');
    expect(ours[1]).toEqual(expect.arrayContaining(['super: ', 'x509: CN=admin', 'data']));
    expect(ours[2]).toContain('Insufficient permission : /t');
    expect(ours[3]).toContain('KeeperErrorCode = ConnectionLoss for /t');
    expect(ours[4]).toContain('KeeperErrorCode = ConnectionLoss for /t');
    // the client's event thread prints WatchedEvent lines whenever it gets to them: compare the
    // commands' output in order, and the events as a set
    expect(ours.map(eventsLast)).toEqual(results.zookeeper.map(eventsLast));
    for (const l of ["Authenticated Id 'CN=client' for Scheme 'x509'", "Authenticated Id 'CN=admin' as super user", 'Unsuccessful handshake']) {
      expect(logs.zookeeper, l).toContain(l);
      expect(logs['zk-server'], l).toContain(l);
    }
  }, 300_000);

  it('Curator over TLS: x509 id and ACL; an untrusted certificate is refused — the same on both', async () => {
    const results: Record<string, string[][]> = {};
    for (const start of [startApache, startOurs]) {
      const side = await start(serverSsl());
      try {
        const curator = (who: string): Promise<string[]> => runJava('CuratorSecure', clientFlags(who).split(' '), [`127.0.0.1:${side.securePort}`, `/cur-${who}`, 'x509', `CN=${who}`]);
        results[side.name] = [await curator('client'), await curator('rogue')];
      } finally {
        await side.stop();
      }
    }
    const ours = results['zk-server'];
    expect(ours[0]).toEqual([
      'connected: true',
      'whoami: ip:127.0.0.1,x509:CN=client',
      'create: /cur-client',
      'getAcl: x509:CN=client:31',
      'get: curator',
      'setData: 1',
      'states: CONNECTED',
    ]);
    expect(ours[0]).toEqual(results.zookeeper[0]);
    // the untrusted certificate never connects, on both (the connection states Curator reports
    // meanwhile depend on its timers, and are not compared)
    expect(ours[1][0]).toBe('connected: false');
    expect(results.zookeeper[1][0]).toBe('connected: false');
  }, 300_000);

  it('kazoo over TLS with PEM files uses an x509: ACL; an untrusted certificate is refused — the same on both', async () => {
    const script = [
      'from kazoo.security import make_acl',
      "zk.create('/k', b'v', acl=[make_acl('x509', 'CN=client', all=True)])",
      "out['get'] = zk.get('/k')[0].decode()",
      "out['acl'] = [[a.id.scheme, a.id.id, a.perms] for a in zk.get_acls('/k')[0]]",
    ].join('\n');
    const results: Record<string, unknown[]> = {};
    for (const start of [startApache, startOurs]) {
      const side = await start(serverSsl());
      try {
        results[side.name] = [await kazoo(side.securePort, 'client', script), await kazoo(side.securePort, 'rogue', script)];
      } finally {
        await side.stop();
      }
    }
    expect(results['zk-server']).toEqual([{ state: 'CONNECTED', get: 'v', acl: [['x509', 'CN=client', 31]] }, { error: expect.stringMatching(/Timeout|ConnectionLoss|SSL/) }]);
    expect(results['zk-server']).toEqual(results.zookeeper);
  }, 180_000);

  it('zk-server: a PEM key store, ssl.clientAuth=none, and client.portUnification (TLS and plaintext on one port)', async () => {
    const pem = await startOurs([...serverSsl('server.pem', ''), 'ssl.clientAuth=none', 'client.portUnification=true']);
    try {
      // TLS without a client certificate: no x509 id
      const tlsOut = await zkCli(pem.securePort, ['whoami', 'create /p x'], { jvmFlags: clientFlags(null), netty: true, timeoutMs: 40_000 });
      expect(tlsOut).toEqual(['Auth scheme: User', 'ip: 127.0.0.1', 'Created /p']);
      // the plaintext port takes TLS clients too, and plaintext ones
      const unified = await zkCli(pem.port, ['get /p'], { jvmFlags: clientFlags('client'), netty: true, timeoutMs: 40_000 });
      expect(unified).toEqual(['x']);
      expect(await zkCli(pem.port, ['get /p'])).toEqual(['x']);
      // and four-letter words over TLS
      const srvr = await new Promise<string>((resolve, reject) => {
        let out = '';
        const s = tls.connect({ host: '127.0.0.1', port: pem.securePort, ca: fs.readFileSync(f('ca.crt')), servername: 'localhost' }, () => s.write('srvr'));
        s.on('data', (d) => (out += d));
        s.on('end', () => resolve(out));
        s.on('error', reject);
      });
      expect(srvr).toMatch(/Mode: standalone/);
    } finally {
      await pem.stop();
    }
  }, 180_000);
});
