// zoo.cfg loading: the seed tutorials' configs, and a catalogue of broken ones whose messages must
// name the file, the line and the key.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseJvmFlags, parseProperties, resolveConfigPath } from '../src/config/load';
import { ConfigError } from '../src/config/types';
import { ADMIN_CONF_FIELDS, CONF_LINES, FAMILIES, FIELD_OF, KEYS } from '../src/config/keys';
import { confText } from '../src/server/fourlw';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** Write `text` as <tmp>/zoo.cfg; DATA in the text becomes <tmp>/data (with a myid file if given). */
function write(text: string, myid?: string): { file: string; dir: string; data: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cfg-'));
  made.push(dir);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  if (myid !== undefined) fs.writeFileSync(path.join(data, 'myid'), myid);
  const file = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(file, text.replace(/DATA/g, data));
  return { file, dir, data };
}

function load(text: string, myid?: string, jvmFlags = '') {
  return loadConfig(write(text, myid).file, { jvmFlags });
}

function fails(text: string, myid?: string, jvmFlags = ''): ConfigError {
  const { file } = write(text, myid);
  try {
    loadConfig(file, { jvmFlags });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('config was accepted');
}

const QUORUM = 'tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=DATA\nclientPort=2181\n';

describe('parseProperties', () => {
  it('reads = : and space separators, comment lines, continuations and trailing comments, with line numbers', () => {
    const p = parseProperties('# c\n! c2\na=1\nb: 2\nc 3\n  d = x y \ne=long\\\n  er\nadmin.enableServer=false # disable\n\n   \nf\n');
    expect(p.map((x) => [x.key, x.value, x.line])).toEqual([
      ['a', '1', 3],
      ['b', '2', 4],
      ['c', '3', 5],
      ['d', 'x y', 6],
      ['e', 'longer', 7],
      ['admin.enableServer', 'false', 9],
      ['f', '', 12],
    ]);
  });

  it('handles escapes, CRLF, a BOM and keeps # that is not a trailing comment', () => {
    const p = parseProperties('\uFEFFa\\:b=c\r\nu=\\u0041\\tz\r\nhash=a#b\r\nesc=x \\# y\r\nsep = = v\r\n');
    expect(p.map((x) => [x.key, x.value, x.line])).toEqual([
      ['a:b', 'c', 1],
      ['u', 'A\tz', 2],
      ['hash', 'a#b', 3],
      ['esc', 'x # y', 4],
      ['sep', '= v', 5],
    ]);
  });

  it('returns duplicates in order (loadConfig lets the last one win)', () => {
    expect(parseProperties('a=1\na=2\n').map((x) => x.value)).toEqual(['1', '2']);
    const c = load('dataDir=DATA\nclientPort=2181\nclientPort=2182\n');
    expect(c.clientPort).toBe(2182);
  });

  it('parses -D flags and ignores everything else', () => {
    expect([...parseJvmFlags('-Xmx1g -Dzookeeper.snapCount=5 -Dznode.container.checkIntervalMs=1000 -Dq="a b" -Dflag')]).toEqual([
      ['zookeeper.snapCount', '5'],
      ['znode.container.checkIntervalMs', '1000'],
      ['q', 'a b'],
      ['flag', ''],
    ]);
  });
});

describe('loadConfig: the tutorials', () => {
  it('standalone: tickTime=2000 dataDir=/var/lib/zookeeper clientPort=2181, with ZooKeeper defaults', () => {
    const { file } = write('tickTime=2000\ndataDir=/var/lib/zookeeper\nclientPort=2181\n');
    const c = loadConfig(file, { jvmFlags: '' });
    expect(c.file).toBe(file);
    expect(c.dataDir).toBe('/var/lib/zookeeper');
    expect(c.dataLogDir).toBe('/var/lib/zookeeper');
    expect(c.tickTime).toBe(2000);
    expect(c.clientPort).toBe(2181);
    expect(c.clientPortAddress).toBe('0.0.0.0');
    expect(c.minSessionTimeout).toBe(4000);
    expect(c.maxSessionTimeout).toBe(40000);
    expect(c.maxClientCnxns).toBe(60);
    expect(c.clientPortListenBacklog).toBe(-1);
    expect(c.fourLetterWhitelist).toEqual(new Set(['srvr']));
    expect(c.snapCount).toBe(100000);
    expect(c.forceSync).toBe(true);
    expect(c.skipACL).toBe(false);
    expect(c.preAllocSize).toBe(64 * 1024 * 1024);
    expect(c.snapshotCompressionMethod).toBe('');
    expect(c.autopurgeSnapRetainCount).toBe(3);
    expect(c.autopurgePurgeInterval).toBe(0);
    expect(c.juteMaxBuffer).toBe(0xfffff);
    expect(c.globalOutstandingLimit).toBe(1000);
    expect(c.servers.size).toBe(0);
    expect(c.myid).toBeUndefined();
    expect(c.peerType).toBe('participant');
    expect(c.standaloneEnabled).toBe(true);
    expect(c.electionAlg).toBe(3);
    expect(c.adminEnableServer).toBe(true);
    expect(c.adminServerAddress).toBe('0.0.0.0');
    expect(c.adminServerPort).toBe(8080);
    expect(c.adminCommandURL).toBe('/commands');
    expect(c.containerCheckIntervalMs).toBe(60000);
    expect(c.containerMaxPerMinute).toBe(10000);
    expect(c.metricsProviderHttpPort).toBe(7000);
    expect(c.ignoredKeys).toEqual([]);
  });

  it('zoo_sample.cfg with its comments, autopurge keys and a trailing comment', () => {
    const c = load(
      [
        '# The number of milliseconds of each tick',
        'tickTime=2000',
        '# The number of ticks that the initial ',
        '# synchronization phase can take',
        'initLimit=10',
        'syncLimit=5',
        '# do not use /tmp for storage, /tmp here is just ',
        'dataDir=DATA',
        'clientPort=2181',
        '#maxClientCnxns=60',
        '#autopurge.snapRetainCount=3',
        'autopurge.snapRetainCount=3',
        'autopurge.purgeInterval=1',
        '## Metrics Providers',
        '#metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
        '#metricsProvider.httpPort=7000',
        'admin.enableServer=false # no jetty',
        '4lw.commands.whitelist=stat, RUOK, conf, isro # tools',
        '',
      ].join('\n'),
    );
    expect(c.initLimit).toBe(10);
    expect(c.syncLimit).toBe(5);
    expect(c.adminEnableServer).toBe(false);
    expect(c.autopurgePurgeInterval).toBe(1);
    expect(c.autopurgeSnapRetainCount).toBe(3);
    expect(c.fourLetterWhitelist).toEqual(new Set(['srvr', 'stat', 'ruok', 'conf', 'isro']));
  });

  it('pseudo-cluster on localhost: server.1..3 and a myid file', () => {
    for (const id of [1, 2, 3]) {
      const c = load(
        `tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=DATA\nclientPort=${2180 + id}\n` +
          'server.1=localhost:2888:3888\nserver.2=localhost:2889:3889\nserver.3=localhost:2890:3890\n',
        `${id}\n`,
      );
      expect(c.myid).toBe(id);
      expect(c.clientPort).toBe(2180 + id);
      expect(c.servers.size).toBe(3);
      expect(c.servers.get(2)).toEqual({ id: 2, host: 'localhost', quorumPort: 2889, electionPort: 3889, type: 'participant', raw: 'localhost:2889:3889' });
      expect(c.initLimit).toBe(5);
      expect(c.syncLimit).toBe(2);
    }
  });

  it('server.1=127.0.0.1:2888:3888;2181: clientPort comes from this server line', () => {
    const c = load(
      'tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=DATA\nserver.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;127.0.0.1:2182\nserver.3=127.0.0.1:2890:3890:observer;2183\nserver.4=[::1]:2891:3891:participant;[::1]:2184\n',
      '2',
    );
    expect(c.myid).toBe(2);
    expect(c.clientPort).toBe(2182);
    expect(c.clientPortAddress).toBe('127.0.0.1');
    expect(c.servers.get(1)).toMatchObject({ clientHost: '0.0.0.0', clientPort: 2181 });
    expect(c.servers.get(3)).toMatchObject({ host: '127.0.0.1', quorumPort: 2890, electionPort: 3890, type: 'observer', clientPort: 2183 });
    expect(c.servers.get(4)).toMatchObject({ host: '::1', quorumPort: 2891, electionPort: 3891, clientHost: '::1', clientPort: 2184 });
    const one = load('tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=DATA\nserver.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;2182\n', '1');
    expect(one.clientPort).toBe(2181);
    expect(one.clientPortAddress).toBe('0.0.0.0');
    // a matching static clientPort is fine
    expect(load(`${QUORUM}server.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;2182\n`, '1').clientPort).toBe(2181);
  });

  it('observer from its server line; peerType is overridden by the line', () => {
    const c = load(`${QUORUM}peerType=participant\nserver.1=h1:2888:3888\nserver.2=h2:2888:3888\nserver.3=h3:2888:3888:observer\n`, '3');
    expect(c.peerType).toBe('observer');
  });

  it('one server line with standaloneEnabled (default) is standalone: myid is optional', () => {
    const c = load('dataDir=DATA\nclientPort=2181\nserver.1=127.0.0.1:2888:3888\n');
    expect(c.myid).toBeUndefined();
    expect(c.servers.size).toBe(1);
    // standaloneEnabled=false with one line is quorum mode: myid, initLimit and syncLimit are needed
    expect(fails('dataDir=DATA\nclientPort=2181\ninitLimit=5\nsyncLimit=2\nstandaloneEnabled=false\nserver.1=127.0.0.1:2888:3888\n').message).toMatch(/myid file is missing/);
    const q = load('dataDir=DATA\nclientPort=2181\ninitLimit=5\nsyncLimit=2\nstandaloneEnabled=false\nserver.1=127.0.0.1:2888:3888\n', '1');
    expect(q.standaloneEnabled).toBe(false);
    expect(q.myid).toBe(1);
  });

  it('keys without the zookeeper. prefix, with it, and from JVMFLAGS; zoo.cfg wins', () => {
    const c = load(
      'dataDir=DATA\nclientPort=2181\nsnapCount=10\nzookeeper.forceSync=no\npreAllocSize=16\nskipACL=yes\nextendedTypesEnabled=true\n' +
        'znode.container.checkIntervalMs=1000\nznode.container.maxPerMinute=50\nglobalOutstandingLimit=7\nadmin.serverPort=9090\nadmin.serverAddress=127.0.0.1\nadmin.commandURL=/cmds\n' +
        'DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\nsnapshot.compression.method=snappy\n',
      undefined,
      '-Xmx1g -Dzookeeper.snapCount=99 -Djute.maxbuffer=2000000 -Dlog4j.configuration=x -Dzookeeper.tickTime=10',
    );
    expect(c.snapCount).toBe(10);
    expect(c.forceSync).toBe(false);
    expect(c.preAllocSize).toBe(16384);
    expect(c.skipACL).toBe(true);
    expect(c.extendedTypesEnabled).toBe(true);
    expect(c.containerCheckIntervalMs).toBe(1000);
    expect(c.containerMaxPerMinute).toBe(50);
    expect(c.globalOutstandingLimit).toBe(7);
    expect(c.adminServerPort).toBe(9090);
    expect(c.adminServerAddress).toBe('127.0.0.1');
    expect(c.adminCommandURL).toBe('/cmds');
    expect(c.superDigest).toBe('super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    expect(c.snapshotCompressionMethod).toBe('snappy');
    expect(c.juteMaxBuffer).toBe(2000000);
    expect(c.tickTime).toBe(3000); // -Dzookeeper.tickTime is not a thing in ZooKeeper
    expect(c.raw.get('forceSync')).toBe('no');
    expect(c.ignoredKeys).toEqual([]);
  });

  it('JVMFLAGS and SERVER_JVMFLAGS from the environment by default', () => {
    const { file } = write('dataDir=DATA\nclientPort=2181\n');
    const c = loadConfig(file, {
      env: { JVMFLAGS: '-Dzookeeper.snapshot.compression.method=gz', SERVER_JVMFLAGS: '-Dznode.container.checkIntervalMs=1000 -Dzookeeper.4lw.commands.whitelist=*' },
    });
    expect(c.snapshotCompressionMethod).toBe('gz');
    expect(c.containerCheckIntervalMs).toBe(1000);
    expect(c.fourLetterWhitelist).toBe('*');
  });

  it('4lw whitelist: * = all, srvr always, isro with readonlymode.enabled', () => {
    expect(load('dataDir=DATA\n4lw.commands.whitelist=ruok, *\n').fourLetterWhitelist).toBe('*');
    expect(load('dataDir=DATA\n4lw.commands.whitelist=Ruok,,mntr \nreadonlymode.enabled=true\n').fourLetterWhitelist).toEqual(new Set(['srvr', 'ruok', 'mntr', 'isro']));
  });

  it('session timeouts: -1 means the tickTime defaults, explicit values are kept', () => {
    const c = load('tickTime=1000\ndataDir=DATA\nminSessionTimeout=-1\nmaxSessionTimeout=-1\n');
    expect([c.minSessionTimeout, c.maxSessionTimeout]).toEqual([2000, 20000]);
    const d = load('tickTime=1000\ndataDir=DATA\nminSessionTimeout=500\nmaxSessionTimeout=60000\n');
    expect([d.minSessionTimeout, d.maxSessionTimeout]).toEqual([500, 60000]);
  });

  it('relative dataDir/dataLogDir resolve against the working directory', () => {
    const c = load('dataDir=./data/x\ndataLogDir=logs\nclientPort=2181\n');
    expect(c.dataDir).toBe(path.resolve(process.cwd(), 'data/x'));
    expect(c.dataLogDir).toBe(path.resolve(process.cwd(), 'logs'));
  });

  it('clientPort=0 means no client port (3.8)', () => {
    expect(load('dataDir=DATA\nclientPort=0\n').clientPort).toBe(0);
    expect(load('dataDir=DATA\n').clientPort).toBe(0);
  });

  it('unknown and unimplemented keys are accepted and listed once in ignoredKeys', () => {
    const c = load('dataDir=DATA\nsomething.unknown=1\nmultiAddress.enabled=true\nmultiAddress.enabled=false\nmetricsProvider.exportJvmInfo=false\nssl.crl=true\n');
    expect(c.ignoredKeys).toEqual(['something.unknown', 'multiAddress.enabled', 'metricsProvider.exportJvmInfo', 'ssl.crl']);
    expect(c.raw.get('something.unknown')).toBe('1');
  });

  it('resolveConfigPath mirrors zkServer.sh', () => {
    const conf = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-conf-'));
    expect(resolveConfigPath(undefined, conf)).toBe(path.join(conf, 'zoo.cfg'));
    expect(resolveConfigPath('zoo_2181.cfg', conf)).toBe(path.join(conf, 'zoo_2181.cfg'));
    const { file } = write('dataDir=DATA\n');
    expect(resolveConfigPath(file, conf)).toBe(file);
    expect(resolveConfigPath('package.json', conf)).toBe(path.resolve('package.json')); // exists in cwd
    expect(resolveConfigPath('nodir/zoo.cfg', conf)).toBe(path.resolve('nodir/zoo.cfg'));
  });

  it('loads the shipped conf/ files (their dataDir moved to a temp dir)', () => {
    const conf = path.join(__dirname, '..', 'conf');
    const z = parseProperties(fs.readFileSync(path.join(conf, 'zoo.cfg'), 'utf8'));
    expect(z.find((p) => p.key === 'dataDir')?.value).toBe('./data/standalone');
    for (const [f, id] of [['zoo.cfg', 0], ['zoo_2181.cfg', 1], ['zoo_2182.cfg', 2], ['zoo_2183.cfg', 3]] as const) {
      const text = fs.readFileSync(path.join(conf, f), 'utf8').replace(/^dataDir=.*$/m, 'dataDir=DATA');
      const c = load(text, id ? String(id) : undefined);
      expect(c.fourLetterWhitelist).toBe('*');
      expect(c.adminEnableServer).toBe(false);
      expect(c.clientPort).toBe(id ? 2180 + id : 2181);
      expect(c.ignoredKeys).toEqual([]);
      if (id) {
        expect(c.myid).toBe(id);
        expect([...c.servers.values()].map((s) => `${s.host}:${s.quorumPort}:${s.electionPort}`)).toEqual(['127.0.0.1:2888:3888', '127.0.0.1:2889:3889', '127.0.0.1:2890:3890']);
      }
    }
  });
});

describe('loadConfig: broken configs name file, line and key', () => {
  const Q2 = `${QUORUM}server.1=h1:2888:3888\nserver.2=h2:2888:3888\n`; // server lines at 6, 7
  // [name, text, myid, key, line, message]
  const cases: [string, string, string | undefined, string, number, RegExp][] = [
    ['missing dataDir', 'clientPort=2181\n', undefined, 'dataDir', 0, /dataDir is not set/],
    ['empty dataDir', 'dataDir=\nclientPort=2181\n', undefined, 'dataDir', 1, /dataDir is not set/],
    ['non-numeric port', 'dataDir=DATA\nclientPort=abc\n', undefined, 'clientPort', 2, /expected an integer port 1-65535, got "abc"/],
    ['port out of range', 'dataDir=DATA\nclientPort=70000\n', undefined, 'clientPort', 2, /1-65535, got "70000"/],
    ['negative port', 'dataDir=DATA\nclientPort=-1\n', undefined, 'clientPort', 2, /1-65535/],
    ['admin port out of range', 'dataDir=DATA\nadmin.serverPort=65536\n', undefined, 'admin.serverPort', 2, /1-65535/],
    ['non-numeric tickTime', 'tickTime=fast\ndataDir=DATA\n', undefined, 'tickTime', 1, /expected an integer >= 1, got "fast"/],
    ['zero tickTime', 'tickTime=0\ndataDir=DATA\n', undefined, 'tickTime', 1, />= 1/],
    ['int overflow', 'dataDir=DATA\nmaxClientCnxns=99999999999\n', undefined, 'maxClientCnxns', 2, /32-bit/],
    ['negative maxClientCnxns', 'dataDir=DATA\nmaxClientCnxns=-1\n', undefined, 'maxClientCnxns', 2, />= 0/],
    ['non-numeric snapCount (no prefix)', 'dataDir=DATA\nsnapCount=lots\n', undefined, 'snapCount', 2, /expected an integer/],
    ['non-numeric preAllocSize (zookeeper. prefix)', 'dataDir=DATA\nzookeeper.preAllocSize=64M\n', undefined, 'preAllocSize', 2, /got "64M"/],
    ['non-numeric jute.maxbuffer', 'dataDir=DATA\njute.maxbuffer=1MB\n', undefined, 'jute.maxbuffer', 2, /expected an integer/],
    ['non-numeric container interval', 'dataDir=DATA\nznode.container.checkIntervalMs=soon\n', undefined, 'znode.container.checkIntervalMs', 2, /expected an integer/],
    ['bad boolean', 'dataDir=DATA\nclientPort=1\nstandaloneEnabled=maybe\n', undefined, 'standaloneEnabled', 3, /Invalid option maybe for standaloneEnabled\. Choose 'true' or 'false\.'/],
    ['bad boolean (system property)', 'dataDir=DATA\nadmin.enableServer=no\n', undefined, 'admin.enableServer', 2, /Invalid option no for admin\.enableServer/],
    ['bad boolean (unimplemented key)', 'dataDir=DATA\nmultiAddress.enabled=1\n', undefined, 'multiAddress.enabled', 2, /Choose 'true' or 'false/],
    ['bad yes/no', 'dataDir=DATA\nforceSync=false\n', undefined, 'forceSync', 2, /expected yes or no, got "false"/],
    ['bad skipACL', 'dataDir=DATA\nskipACL=true\n', undefined, 'skipACL', 2, /expected yes or no/],
    ['min > max session timeout', 'dataDir=DATA\nclientPort=1\nminSessionTimeout=9000\nmaxSessionTimeout=5000\n', undefined, 'minSessionTimeout', 3, /minSessionTimeout must not be larger than maxSessionTimeout/],
    ['max below the default min', 'tickTime=2000\ndataDir=DATA\nmaxSessionTimeout=3000\n', undefined, 'maxSessionTimeout', 3, /must not be larger/],
    ['negative session timeout', 'dataDir=DATA\nminSessionTimeout=-5\n', undefined, 'minSessionTimeout', 2, /or -1/],
    ['clientPortAddress without clientPort', 'dataDir=DATA\nclientPortAddress=127.0.0.1\n', undefined, 'clientPortAddress', 2, /clientPortAddress is set but clientPort is not set/],
    ['secureClientPortAddress without port', 'dataDir=DATA\nsecureClientPortAddress=127.0.0.1\n', undefined, 'secureClientPortAddress', 2, /secureClientPort is not set/],
    ['bad electionAlg', 'dataDir=DATA\nclientPort=1\nelectionAlg=1\n', undefined, 'electionAlg', 3, /Invalid electionAlg value\. Only 3 is supported/],
    ['bad peerType', 'dataDir=DATA\npeerType=leader\n', undefined, 'peerType', 2, /Unrecognised peertype: leader/],
    ['bad compression', 'dataDir=DATA\nsnapshot.compression.method=lz4\n', undefined, 'snapshot.compression.method', 2, /gz, snappy/],
    ['bad superDigest', 'dataDir=DATA\nDigestAuthenticationProvider.superDigest=abc\n', undefined, 'DigestAuthenticationProvider.superDigest', 2, /super:<base64/],
    ['sasl combination', 'dataDir=DATA\nquorum.auth.serverRequireSasl=true\n', undefined, 'quorum.auth.serverRequireSasl', 2, /quorum\.auth\.enableSasl is disabled/],
    ['missing election port', `${QUORUM}server.1=127.0.0.1:2888\nserver.2=h2:2888:3888\n`, '1', 'server.1', 6, /Missing election port for server: 1/],
    ['server line without ports', `${QUORUM}server.1=127.0.0.1\nserver.2=h2:2888:3888\n`, '1', 'server.1', 6, /does not have the form.*host:quorumPort:electionPort/],
    ['empty server line', `${QUORUM}server.1=\nserver.2=h2:2888:3888\n`, '1', 'server.1', 6, /does not have the form/],
    ['non-numeric server port', `${QUORUM}server.1=h:x:3888\nserver.2=h:2889:3889\n`, '1', 'server.1', 6, /quorum port "x" is not a port/],
    ['server port out of range', `${QUORUM}server.1=h:2888:99999\nserver.2=h:2889:3889\n`, '1', 'server.1', 6, /election port "99999"/],
    ['same quorum and election port', `${QUORUM}server.1=h:2888:2888\nserver.2=h:2889:3889\n`, '1', 'server.1', 6, /Client and election port must be different/],
    ['bad server type', `${QUORUM}server.1=h:2888:3888:voter\nserver.2=h:2889:3889\n`, '1', 'server.1', 6, /Unrecognised peertype: voter/],
    ['two client parts', `${QUORUM}server.1=h:2888:3888;2181;2182\nserver.2=h:2889:3889\n`, '1', 'server.1', 6, /does not have the form/],
    ['bad client part', `${QUORUM}server.1=h:2888:3888;h:\nserver.2=h:2889:3889\n`, '1', 'server.1', 6, /client part "h:"/],
    ['multiple addresses', `${QUORUM}server.1=a:2888:3888|b:2888:3888\nserver.2=h:2889:3889\n`, '1', 'server.1', 6, /Multiple address feature is disabled/],
    ['bad server id', 'dataDir=DATA\nserver.x=h:2888:3888\n', '1', 'server.x', 2, /server id must be an integer.*got "x"/],
    ['server id given twice', `${QUORUM}server.1=h:2888:3888\nserver.01=h:2889:3889\n`, '1', 'server.01', 7, /given twice/],
    ['duplicate ports', `${QUORUM}server.1=h:2888:3888\nserver.2=h:2888:3889\n`, '1', 'server.2', 7, /port 2888 on h is used twice/],
    ['duplicate client port on one host', `${QUORUM}server.1=h:2888:3888;2181\nserver.2=h:2889:3889;2181\n`, '1', 'server.2', 7, /port 2181 on h is used twice/],
    ['clientPort disagrees with the server line', `${QUORUM}server.1=h1:2888:3888;2182\nserver.2=h2:2888:3888\n`, '1', 'clientPort', 5, /is different from client address/],
    ['missing initLimit', 'dataDir=DATA\nsyncLimit=2\nserver.1=h:2888:3888\nserver.2=h:2889:3889\n', '1', 'initLimit', 0, /initLimit is not set/],
    ['missing syncLimit', 'dataDir=DATA\ninitLimit=2\nserver.1=h:2888:3888\nserver.2=h:2889:3889\n', '1', 'syncLimit', 0, /syncLimit is not set/],
    ['observers without participants', 'dataDir=DATA\nserver.1=h:2888:3888:observer\n', undefined, 'server.1', 2, /Observers w\/o participants/],
    ['observers without quorum', 'dataDir=DATA\nserver.1=h:2888:3888\nserver.2=h:2889:3889:observer\n', undefined, 'server.1', 2, /Observers w\/o quorum/],
    ['server lines with dynamicConfigFile', 'dataDir=DATA\ndynamicConfigFile=/x/zoo.cfg.dynamic\nserver.1=h:2888:3888\n', undefined, 'server.1', 3, /must be in a separate dynamic config file/],
  ];
  it.each(cases)('%s', (_name, text, myid, key, line, msg) => {
    const e = fails(text, myid);
    expect(e.key).toBe(key);
    expect(e.line).toBe(line);
    expect(e.message).toMatch(msg);
    expect(e.file).toMatch(/zoo\.cfg$/);
    expect(e.message).toContain(line > 0 ? `zoo.cfg:${line}: ${key}: ` : `zoo.cfg: ${key}: `);
  });

  it('the example message from the brief, exactly', () => {
    const { file } = write('tickTime=2000\ndataDir=/tmp/zk\nclientPort=abc\n');
    expect(() => loadConfig(file, { jvmFlags: '' })).toThrow(`${file}:3: clientPort: expected an integer port 1-65535, got "abc"`);
  });

  it('a bad value from JVMFLAGS names JVMFLAGS', () => {
    const e = fails('dataDir=DATA\n', undefined, '-Dzookeeper.snapCount=x');
    expect(e.message).toMatch(/zoo\.cfg \(JVMFLAGS\): snapCount: expected an integer/);
  });

  it('myid missing, not a number, out of range, not in the server list: errors name the myid file', () => {
    expect(fails(Q2).message).toMatch(/data\/myid: myid: myid file is missing/);
    expect(fails(Q2, 'abc\n').message).toMatch(/data\/myid:1: myid: serverid abc is not a number/);
    expect(fails(Q2, '').message).toMatch(/serverid\s+is not a number/);
    expect(fails(Q2, '0').message).toMatch(/myid:1: myid: myid 0 out of range: expected an integer 1-255/);
    expect(fails(Q2, '256').message).toMatch(/out of range: expected an integer 1-255/);
    expect(fails(Q2 + 'extendedTypesEnabled=true\n', '255').message).toMatch(/Cannot be larger than 254/);
    expect(fails(Q2, '7').message).toMatch(/My id 7 not in the peer list/);
    expect(fails(Q2, '7').file).toMatch(/data\/myid$/);
    // whitespace around the id is fine; only the first line counts
    expect(load(Q2, '  2 \nrubbish\n').myid).toBe(2);
  });

  it('missing config file', () => {
    expect(() => loadConfig('/nonexistent/zoo.cfg')).toThrow(/^\/nonexistent\/zoo\.cfg: cannot read config file: .*file is missing/);
  });
});

describe('the key table drives the conf four-letter word and the admin configuration command', () => {
  // captured from Apache ZooKeeper 3.8.0 (Debian), `echo conf | nc`: a standalone server, then a
  // quorum peer (standaloneEnabled=false) whose output ends in `version=0` without a newline
  const ZK38_STANDALONE = ['clientPort', 'secureClientPort', 'dataDir', 'dataDirSize', 'dataLogDir', 'dataLogSize', 'tickTime', 'maxClientCnxns', 'minSessionTimeout', 'maxSessionTimeout', 'clientPortListenBacklog', 'serverId'];
  const ZK38_QUORUM = [...ZK38_STANDALONE, 'initLimit', 'syncLimit', 'electionAlg', 'electionPort', 'quorumPort', 'peerType', 'membership'];

  it('CONF_LINES has 3.8 order; every line and admin field names a key of the table', () => {
    expect(CONF_LINES.filter((l) => !l.quorum).map((l) => l.name)).toEqual(ZK38_STANDALONE);
    expect(CONF_LINES.map((l) => l.name)).toEqual(ZK38_QUORUM);
    const known = new Set([...Object.keys(KEYS), ...FAMILIES.map((f) => f.key)]);
    for (const l of CONF_LINES) expect(known.has(l.key), l.name).toBe(true);
    expect(ADMIN_CONF_FIELDS.map(([f]) => f)).toEqual(['client_port', 'data_dir', 'data_log_dir', 'tick_time', 'max_client_cnxns', 'min_session_timeout', 'max_session_timeout', 'server_id', 'client_port_listen_backlog']);
  });

  it('standalone conf is byte-for-byte the 3.8 form', () => {
    const c = load('tickTime=2000\ndataDir=DATA\nclientPort=2181\n');
    const v2 = path.join(c.dataDir, 'version-2');
    expect(confText(c, false)).toBe(
      `clientPort=2181\nsecureClientPort=-1\ndataDir=${v2}\ndataDirSize=0\ndataLogDir=${v2}\ndataLogSize=0\ntickTime=2000\n` +
        'maxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=0\n',
    );
  });

  it('quorum conf adds the peer lines and the membership, ending in version=0 with no newline', () => {
    const c = load(`${QUORUM}server.1=127.0.0.1:2888:3888;127.0.0.1:2181\nserver.2=127.0.0.1:2889:3889:observer\nserver.3=127.0.0.1:2890:3890\n`, '1');
    const text = confText(c, true);
    expect(text.endsWith('\nserverId=1\ninitLimit=5\nsyncLimit=2\nelectionAlg=3\nelectionPort=3888\nquorumPort=2888\npeerType=0\nmembership: \n' +
      'server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\nserver.2=127.0.0.1:2889:3889:observer\nserver.3=127.0.0.1:2890:3890:participant\nversion=0')).toBe(true);
    expect(text.split('\n').map((l) => l.replace(/[=:].*$/, '')).filter((n) => !n.startsWith('server.') && n !== 'version')).toEqual(ZK38_QUORUM);
  });

  it('enum keys are validated from the table (values case-insensitive, ZooKeeper wording kept)', () => {
    expect(load('dataDir=DATA\nsnapshot.compression.method=GZ\n').snapshotCompressionMethod).toBe('gz');
    expect(load('dataDir=DATA\npeerType=Observer\n').peerType).toBe('observer');
    const e = fails('dataDir=DATA\nclientPort=2181\nsnapshot.compression.method=zstd\n');
    expect(e.message).toMatch(/zoo\.cfg:3: snapshot\.compression\.method: expected gz, snappy or nothing, got "zstd"$/);
    for (const [key, k] of Object.entries(KEYS)) {
      if (k.kind === 'enum') expect(k.values?.length, key).toBeGreaterThan(1);
      if (k.unsupported) expect(k.impl, key).toBe(false);
    }
  });
});

describe('the key table and the loader agree', () => {
  it('every implemented key names its ServerConfig field, and only implemented keys do', () => {
    for (const [key, k] of Object.entries(KEYS)) expect(FIELD_OF[key] !== undefined, key).toBe(k.impl);
  });

  it('the documented default of each implemented key is what the loader produces', () => {
    const c = load('dataDir=DATA\n') as unknown as Record<string, unknown>;
    let checked = 0;
    for (const [key, field] of Object.entries(FIELD_OF)) {
      const d = KEYS[key].default;
      let want: unknown;
      if (/^-?\d+( \(.*\))?$/.test(d)) want = Number(d.replace(/ .*/, '')) * (key === 'preAllocSize' ? 1024 : 1); // KiB in zoo.cfg, bytes in ServerConfig
      else if (d === 'true' || d === 'yes') want = true;
      else if (d === 'false' || d === 'no') want = false;
      else if (/^[\w./]+$/.test(d) && d !== 'unset' && d !== 'srvr') want = d;
      else continue; // derived (= dataDir, 2 × tickTime), unset or required
      expect(c[field], `${key} -> ${field}`).toEqual(want);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    // the derived ones
    expect(c.minSessionTimeout).toBe(2 * 3000);
    expect(c.maxSessionTimeout).toBe(20 * 3000);
    expect(c.dataLogDir).toBe(c.dataDir);
    expect(c.fourLetterWhitelist).toEqual(new Set(['srvr']));
    expect(c.snapshotCompressionMethod).toBe('');
  });
});
