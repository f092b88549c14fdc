// SASL DIGEST-MD5 on the client port (src/security), beside Apache ZooKeeper 3.8:
//  - the mechanism against RFC 2831's worked example, and our client against our server;
//  - the JAAS file and the auth keys: what loads, and the errors that stop a start (file, line, key);
//  - real clients: zkCli.sh (the Java client with a JAAS Client section), Curator
//    (test/clients/CuratorSecure.java) and kazoo (pure-sasl) log in,
//    get `sasl:<user>`, use sasl: ACLs; a wrong password, an unknown user, a client without SASL
//    under sessionRequireClientSASLAuth get the same answers from both servers, and both log the
//    same lines.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DigestMd5Client, DigestMd5Server, parseDirectives, responseValue, SaslError } from '../src/security/digestmd5';
import { parseJaas, JaasError, digestUsers } from '../src/security/jaas';
import { saslAuthorizedId, SaslServerSetup } from '../src/security/sasl';
import { loadConfig } from '../src/config/load';
import { ConfigError } from '../src/config/types';
import { killStarted } from './helpers/apache-zk';
import { requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';
import { eventsLast, zkCli } from './helpers/zkcli';
import { Side, startApacheSide, startOursSide } from './helpers/sidebyside';
import { pythonJson } from './helpers/mixed';
import { runJava } from './helpers/javaclient';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-sasl-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

describe('DIGEST-MD5', () => {
  it('computes RFC 2831 section 4 example: response and rspauth', () => {
    const p = {
      username: 'chris',
      realm: 'elwood.innosoft.com',
      password: 'secret',
      nonce: 'OA6MG9tEQGm2hh',
      cnonce: 'OA6MHXh6VqTrRk',
      nc: '00000001',
      qop: 'auth',
      digestUri: 'imap/elwood.innosoft.com',
      utf8: true,
    };
    expect(responseValue(p, 'AUTHENTICATE')).toBe('d388dad90d4bbd760a152321f2143af7');
    expect(responseValue(p, '')).toBe('ea40f60335c427b5527b84dbabcdfffd');
  });

  it('our client logs in to our server; a wrong password, an unknown user, an initial response and a replayed step fail', () => {
    const users = new Map([['bob', 'bobsecret']]);
    const login = (user: string, pw: string): DigestMd5Server => {
      const s = new DigestMd5Server({ password: (u) => users.get(u) });
      const c = new DigestMd5Client({ username: user, password: pw });
      const challenge = s.evaluate(Buffer.alloc(0));
      expect(parseDirectives(challenge.toString())).toEqual(
        new Map([['realm', 'zk-sasl-md5'], ['nonce', expect.any(String)], ['qop', 'auth'], ['charset', 'utf-8'], ['algorithm', 'md5-sess']]),
      );
      const rsp = s.evaluate(c.evaluate(challenge));
      expect(c.evaluate(rsp)).toEqual(Buffer.alloc(0));
      expect(c.complete && s.complete).toBe(true);
      return s;
    };
    expect(login('bob', 'bobsecret').authorizationID).toBe('bob');
    expect(() => login('bob', 'wrong')).toThrow(/Mismatched response/);
    expect(() => login('alice', 'x')).toThrow(/cannot acquire password for alice/);
    const s = new DigestMd5Server({ password: () => 'x' });
    expect(() => s.evaluate(Buffer.from('n,,n=bob'))).toThrow(SaslError);
    // a non-ASCII password (hashed as ISO 8859-1 when it fits, as the JDK does)
    users.set('émile', 'pässwörd');
    expect(login('émile', 'pässwörd').authorizationID).toBe('émile');
  });

  it('a response with another nonce, nonce count, qop or digest-uri is refused', () => {
    const mk = (): { s: DigestMd5Server; rsp: string } => {
      const s = new DigestMd5Server({ password: () => 'pw' });
      const c = new DigestMd5Client({ username: 'u', password: 'pw' });
      return { s, rsp: c.evaluate(s.evaluate(Buffer.alloc(0))).toString() };
    };
    for (const [re, to, why] of [
      [/nonce="[^"]*"/, 'nonce="other"', /Mismatched nonce/],
      [/nc=00000001/, 'nc=00000002', /Nonce count/],
      [/qop=auth/, 'qop=auth-conf', /unrequested qop/],
      [/digest-uri="[^"]*"/, 'digest-uri="zookeeper/elsewhere"', /Mismatched URI/],
      [/digest-uri="[^"]*"/, 'digest-uri="http/zk-sasl-md5"', /Mismatched URI/],
    ] as const) {
      const { s, rsp } = mk();
      expect(() => s.evaluate(Buffer.from(rsp.replace(re, to)))).toThrow(why);
    }
  });

  it('names: plain names as given; Kerberos-form names only lose host/realm where 3.8 would', () => {
    const none = { kerberosRemoveHost: false, kerberosRemoveRealm: false };
    const both = { kerberosRemoveHost: true, kerberosRemoveRealm: true };
    expect(saslAuthorizedId('bob', 'bob', both)).toBe('bob');
    expect(saslAuthorizedId('svc/host', 'svc/host', both)).toBe('svc/host');
    // a realm that is not the default one (no krb5.conf: '') keeps the name whole
    expect(saslAuthorizedId('bob@EXAMPLE.COM', 'bob@EXAMPLE.COM', both)).toBe('bob@EXAMPLE.COM');
    expect(saslAuthorizedId('svc/h@', 'svc/h@', none)).toBe('svc/h@');
    expect(saslAuthorizedId('svc/h@', 'svc/h@', both)).toBe('svc');
    expect(saslAuthorizedId('a@b@c', 'a@b@c', none)).toBeUndefined();
  });
});

describe('the JAAS file and the auth keys', () => {
  it('parses sections, flags, quoted and bare values and comments', () => {
    const s = parseJaas(
      [
        '/* ZooKeeper */ Server {',
        '  org.apache.zookeeper.server.auth.DigestLoginModule required',
        '  user_super="admin\\"secret" // the super user',
        '  user_bob=bobsecret;',
        '};',
        'QuorumServer { org.apache.zookeeper.server.auth.DigestLoginModule required user_zk="zkpw"; };',
      ].join('\n'),
    );
    expect([...s.keys()]).toEqual(['Server', 'QuorumServer']);
    expect(digestUsers(s.get('Server')!)).toEqual(new Map([['super', 'admin"secret'], ['bob', 'bobsecret']]));
  });

  it('a broken JAAS file stops the start with its file and line', () => {
    expect(() => parseJaas('Server {\n  a.B required\n  user_x="y"\n};', 'j.conf')).toThrow(JaasError);
    try {
      parseJaas('Server {\n  a.B required\n  user_x="y"\n};', 'j.conf');
    } catch (e) {
      expect((e as Error).message).toBe("j.conf:4: expected an option name, found '}'");
    }
    expect(() => parseJaas('Server {\n  a.B mandatory;\n};')).toThrow(/jaas.conf:2: expected a control flag/);
    const data = fs.mkdtempSync(path.join(tmp, 'd'));
    const bad = write('bad-jaas.conf', 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="x"\n');
    const cfg = write('bad.cfg', `dataDir=${data}\nclientPort=2181\n`);
    expect(() => loadConfig(cfg, { jvmFlags: `-Djava.security.auth.login.config=${bad}` })).toThrow(ConfigError);
    expect(() => loadConfig(cfg, { jvmFlags: `-Djava.security.auth.login.config=${bad}` })).toThrow(`${bad}:3: expected an option or ';', found the end of the file`);
    const other = write('other-jaas.conf', 'Client { a.B required; };\n');
    // a readable file without the Server section: no SASL for clients, as 3.8 (the file may hold the quorum's sections)
    expect(new SaslServerSetup(loadConfig(cfg, { jvmFlags: `-Djava.security.auth.login.config=${other}` })).enabled).toBe(false);
    expect(() => loadConfig(cfg, { jvmFlags: `-Djava.security.auth.login.config=${other} -Dzookeeper.sasl.serverconfig=Client` })).not.toThrow();
    const krb = write('krb-jaas.conf', 'Server { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/k" principal="zookeeper/h@R"; };\n');
    expect(() => loadConfig(cfg, { jvmFlags: `-Djava.security.auth.login.config=${krb}` })).toThrow(/Kerberos.*DIGEST-MD5 only/);
    expect(() => loadConfig(cfg, { jvmFlags: `-Djava.security.auth.login.config=${path.join(tmp, 'missing.conf')}` })).toThrow(/missing.conf: cannot read the JAAS configuration: ENOENT/);
  });

  it('authProvider.N in zoo.cfg or as -Dzookeeper.authProvider.N, superUser(.x), and enforce.auth needing a provider', () => {
    const data = fs.mkdtempSync(path.join(tmp, 'd'));
    const cfg = write(
      'auth.cfg',
      `dataDir=${data}\nclientPort=2181\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\nauthProvider.2=com.example.Mine\nsuperUser=root\n`,
    );
    const c = loadConfig(cfg, { jvmFlags: '-Dzookeeper.superUser.ops=ops -Dzookeeper.authProvider.x=org.apache.zookeeper.server.auth.X509AuthenticationProvider' });
    expect(c.authProviders).toEqual(['ip', 'digest', 'sasl', 'x509']);
    expect(c.unknownAuthProviders).toEqual(['com.example.Mine']);
    expect(c.saslSuperUsers).toEqual(['root', 'ops']);
    expect(c.ignoredKeys).not.toContain('authProvider.1');
    const noDigest = loadConfig(write('nd.cfg', `dataDir=${data}\nclientPort=2181\nDigestAuthenticationProvider.enabled=false\n`));
    expect(noDigest.authProviders).toEqual(['ip']);

    const enforce = write('enf.cfg', `dataDir=${data}\nclientPort=2181\nenforce.auth.enabled=true\nenforce.auth.schemes=sasl\n`);
    expect(() => loadConfig(enforce)).toThrow(`${enforce}:4: enforce.auth.schemes: authentication scheme sasl is not available (add authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider)`);
    const noSchemes = write('enf2.cfg', `dataDir=${data}\nclientPort=2181\nenforce.auth.enabled=true\n`);
    expect(() => loadConfig(noSchemes)).toThrow(/enf2.cfg:3: enforce.auth.enabled: enforce.auth.enabled is true: enforce.auth.schemes must be configured/);
    const req = loadConfig(cfg, { jvmFlags: '-Dzookeeper.sessionRequireClientSASLAuth=true' });
    expect([req.enforceAuthEnabled, req.enforceAuthSchemes]).toEqual([true, ['sasl']]);
  });
});

// ------------------------------------------------------------------ real clients, both servers

const SERVER_JAAS = `Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_super="adminsecret"
  user_bob="bobsecret";
};
`;
const clientJaas = (user: string, pw: string): string => `Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="${user}"
  password="${pw}";
};
`;

const startApache = (lines: string[], flags: string[]): Promise<Side> => startApacheSide(tmp, lines, flags);
const startOurs = startOursSide;

/** kazoo with DIGEST-MD5 (pure-sasl): what it saw, as JSON. */
function kazoo(port: number, user: string | null, pw: string, script: string): Promise<Record<string, unknown>> {
  const py = `
import json, os, sys
from kazoo.client import KazooClient
from kazoo.security import make_acl
opts = {'mechanism': 'DIGEST-MD5', 'username': ${JSON.stringify(user)}, 'password': ${JSON.stringify(pw)}} if ${user === null ? 'False' : 'True'} else None
zk = KazooClient(hosts='127.0.0.1:${port}', sasl_options=opts, timeout=10, connection_retry={'max_tries': 0})
out = {}
try:
    zk.start(timeout=20)
    out['state'] = zk.state
${script
  .split('\n')
  .map((l) => '    ' + l)
  .join('\n')}
    zk.stop()
except Exception as e:
    out['error'] = type(e).__name__
# kazoo's connection thread may be dead (kazoo 2.8 does not know error -124): do not wait for it
print(json.dumps(out, sort_keys=True), flush=True)
os._exit(0)
`;
  return pythonJson(py);
}

describe.skipIf(SKIP_REAL)('SASL DIGEST-MD5 with real clients, beside Apache ZooKeeper 3.8', () => {
  beforeAll(() => {
    requireApacheZk();
    requireDist();
  });
  afterEach(() => killStarted());

  const serverJaas = (): string => write('server-jaas.conf', SERVER_JAAS);
  const lines = ['authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider'];

  it('zkCli.sh logs in (whoami sasl: bob), uses sasl: ACLs, and a wrong password or unknown user gets AuthFailed; the same on both', async () => {
    const flags = [`-Djava.security.auth.login.config=${serverJaas()}`, '-Dzookeeper.superUser=super'];
    const bob = `-Djava.security.auth.login.config=${write('bob.conf', clientJaas('bob', 'bobsecret'))}`;
    const sup = `-Djava.security.auth.login.config=${write('super.conf', clientJaas('super', 'adminsecret'))}`;
    const wrong = `-Djava.security.auth.login.config=${write('wrong.conf', clientJaas('bob', 'nope'))}`;
    const nobody = `-Djava.security.auth.login.config=${write('nobody.conf', clientJaas('eve', 'x'))}`;
    const results: Record<string, string[][]> = {};
    const logs: Record<string, string> = {};
    for (const start of [startApache, startOurs]) {
      const side = await start(lines, flags);
      try {
        const r: string[][] = [];
        r.push(await zkCli(side.port, ['whoami', 'create /s data sasl:bob:cdrwa', 'getAcl /s', 'get /s'], { jvmFlags: bob, events: true }));
        // someone else (no SASL) is refused, the super user is not
        r.push(await zkCli(side.port, ['get /s', 'setAcl /s sasl:a@b@c:r'], {}));
        r.push(await zkCli(side.port, ['whoami', 'get /s'], { jvmFlags: sup }));
        r.push(await zkCli(side.port, ['get /s'], { jvmFlags: wrong, events: true }));
        r.push(await zkCli(side.port, ['get /s'], { jvmFlags: nobody, events: true }));
        results[side.name] = r;
        logs[side.name] = side.log();
      } finally {
        await side.stop();
      }
    }
    const ours = results['zk-server'];
    expect(ours[0]).toContain('sasl: bob');
    expect(ours[0]).toContain("'sasl,'bob");
    expect(ours[0]).toContain('WatchedEvent state:SaslAuthenticated type:None path:null');
    expect(ours[1]).toContain('Insufficient permission : /s');
    expect(ours[2]).toContain('sasl: super');
    expect(ours[2]).toContain('data');
    expect(ours[3]).toContain('WatchedEvent state:AuthFailed type:None path:null');
    // the client's event thread prints WatchedEvent lines whenever it gets to them: compare the
    // commands' output in order, and the events as a set
    expect(ours.map(eventsLast)).toEqual(results.zookeeper.map(eventsLast));
    for (const l of [
      'adding SASL authorization for authorizationID: bob',
      "Authenticated Id 'super' as super user",
      'failed to SASL authenticate',
      'Closing client connection due to SASL authentication failure.',
    ]) {
      expect(logs.zookeeper, l).toContain(l);
      expect(logs['zk-server'], l).toContain(l);
    }
  }, 240_000);

  it('Curator logs in with DIGEST-MD5 and uses a sasl: ACL; a wrong password is refused — the same on both', async () => {
    const flags = [`-Djava.security.auth.login.config=${serverJaas()}`];
    const bob = `-Djava.security.auth.login.config=${write('bob.conf', clientJaas('bob', 'bobsecret'))}`;
    const wrong = `-Djava.security.auth.login.config=${write('wrong.conf', clientJaas('bob', 'nope'))}`;
    const results: Record<string, string[][]> = {};
    for (const start of [startApache, startOurs]) {
      const side = await start(lines, flags);
      try {
        const cs = `127.0.0.1:${side.port}`;
        results[side.name] = [await runJava('CuratorSecure', [bob], [cs, '/cur', 'sasl', 'bob']), await runJava('CuratorSecure', [wrong], [cs, '/cur-wrong', 'sasl', 'bob'])];
      } finally {
        await side.stop();
      }
    }
    const ours = results['zk-server'];
    expect(ours[0]).toEqual(['connected: true', 'whoami: ip:127.0.0.1,sasl:bob', 'create: /cur', 'getAcl: sasl:bob:31', 'get: curator', 'setData: 1', 'states: CONNECTED']);
    expect(ours[0]).toEqual(results.zookeeper[0]);
    // a wrong password: every operation fails, the first with AUTHFAILED, on both servers; what
    // follows depends on when Curator gives up the handle (SUSPENDED, LOST, a new session that
    // fails again): not compared line by line
    for (const side of [ours[1], results.zookeeper[1]]) {
      const ops = side.filter((l) => /^(whoami|create|getAcl|get|setData): /.test(l));
      expect(ops.length, side.join('\n')).toBe(5);
      expect(ops.every((l) => l.includes(': error ')), side.join('\n')).toBe(true);
      expect(side, side.join('\n')).toContain('create: error AUTHFAILED');
    }
  }, 240_000);

  it('kazoo (pure-sasl) logs in and uses sasl: ACLs; a wrong password and, under sessionRequireClientSASLAuth, no SASL at all are refused the same way', async () => {
    const flags = [`-Djava.security.auth.login.config=${serverJaas()}`];
    const script = [
      "zk.create('/k', b'v', acl=[make_acl('sasl', 'bob', all=True)])",
      "out['acl'] = [(a.id.scheme, a.id.id, a.perms) for a in zk.get_acls('/k')[0]]",
      "out['get'] = zk.get('/k')[0].decode()",
    ].join('\n');
    const results: Record<string, unknown[]> = {};
    const logs: Record<string, string> = {};
    for (const start of [startApache, startOurs]) {
      const side = await start(lines, flags);
      const r: unknown[] = [];
      try {
        r.push(await kazoo(side.port, 'bob', 'bobsecret', script));
        r.push(await kazoo(side.port, 'bob', 'wrong', script));
        r.push(await kazoo(side.port, null, '', "out['get'] = zk.get('/k')[0].decode()"));
        logs[`${side.name} plain`] = side.log();
      } finally {
        await side.stop();
      }
      const strict = await start(lines, [...flags, '-Dzookeeper.sessionRequireClientSASLAuth=true']);
      try {
        r.push(await kazoo(strict.port, null, '', "out['exists'] = zk.exists_async('/').get(timeout=5) is not None"));
        r.push(await kazoo(strict.port, 'bob', 'bobsecret', "out['exists'] = zk.exists_async('/').get(timeout=5) is not None"));
        r.push(await kazoo(strict.port, 'bob', 'wrong', "out['exists'] = zk.exists_async('/').get(timeout=5) is not None"));
        logs[strict.name] = strict.log();
      } finally {
        await strict.stop();
      }
      results[side.name] = r;
    }
    const ours = results['zk-server'];
    expect(ours[0]).toEqual({ state: 'CONNECTED', acl: [['sasl', 'bob', 31]], get: 'v' });
    // a wrong password is refused. kazoo reports CONNECTED before its SASL exchange (connection.py
    // _connect), and zk.start() then checks that it is still connected: when the failed SASL reply
    // and the close come first, start() raises KazooTimeoutError instead of the create failing
    // with AuthFailedError. Both are the refusal; which one is the client's thread timing (seen on
    // both servers, in CI runs). The server's log shows the refusal.
    const refusals = [{ state: 'CONNECTED', error: 'AuthFailedError' }, { error: 'KazooTimeoutError' }];
    expect(refusals).toContainEqual(ours[1]);
    expect(logs['zk-server plain']).toContain('failed to SASL authenticate');
    expect(ours[2]).toEqual({ state: 'CONNECTED', error: 'NoAuthError' });
    // kazoo 2.8 does not know error -124 (SESSIONCLOSEDREQUIRESASLAUTH): its connection thread dies
    expect(ours[3]).toEqual({ state: 'CONNECTED', error: 'KazooTimeoutError' });
    expect(ours[4]).toEqual({ state: 'CONNECTED', exists: true });
    expect(ours[5]).toEqual({ state: 'CONNECTED', error: 'ConnectionLoss' });
    // the rest as the reference's; the wrong password's refusal may take either form on each side
    const ref = [...results.zookeeper];
    ref[1] = ours[1];
    expect(refusals).toContainEqual(results.zookeeper[1]);
    expect(ours).toEqual(ref);
    for (const l of ['does not match with any of the expected authentication scheme', 'Closing client connection due to server requires client SASL']) {
      expect(logs.zookeeper, l).toContain(l);
      expect(logs['zk-server'], l).toContain(l);
    }
  }, 240_000);
});
