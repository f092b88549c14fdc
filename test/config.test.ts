// zoo.cfg loading: the seed tutorials' configs, and a catalogue of broken ones whose messages must
// name the file, the line and the key.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseJvmFlags, parseProperties, resolveConfigPath } from '../src/config/load';
import { ConfigError } from '../src/config/types';

function write(text: string, myid?: string): { file: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cfg-'));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  if (myid !== undefined) fs.writeFileSync(path.join(data, 'myid'), myid);
  const file = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(file, text.replace(/DATA/g, data));
  return { file, dir };
}

function fails(text: string, myid?: string): ConfigError {
  const { file } = write(text, myid);
  try {
    loadConfig(file, { jvmFlags: '' });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('config was accepted');
}

describe('parseProperties', () => {
  it('reads = : and space separators, comments, continuations and trailing comments', () => {
    const p = parseProperties('# c\n! c2\na=1\nb: 2\nc 3\n  d = x y \ne=long\\\n  er\nadmin.enableServer=false # disable\n');
    expect(p.map((x) => [x.key, x.value, x.line])).toEqual([
      ['a', '1', 3],
      ['b', '2', 4],
      ['c', '3', 5],
      ['d', 'x y', 6],
      ['e', 'longer', 7],
      ['admin.enableServer', 'false', 9],
    ]);
  });
  it('parses -D flags', () => {
    expect([...parseJvmFlags('-Xmx1g -Dzookeeper.snapCount=5 -Dznode.container.checkIntervalMs=1000')]).toEqual([
      ['zookeeper.snapCount', '5'],
      ['znode.container.checkIntervalMs', '1000'],
    ]);
  });
});

describe('loadConfig: the tutorials', () => {
  it('standalone: tickTime, dataDir, clientPort with ZooKeeper defaults', () => {
    const { file } = write('tickTime=2000\ndataDir=DATA\nclientPort=2181\n');
    const c = loadConfig(file, { jvmFlags: '' });
    expect(c.tickTime).toBe(2000);
    expect(c.clientPort).toBe(2181);
    expect(c.minSessionTimeout).toBe(4000);
    expect(c.maxSessionTimeout).toBe(40000);
    expect(c.maxClientCnxns).toBe(60);
    expect(c.fourLetterWhitelist).toEqual(new Set(['srvr']));
    expect(c.snapCount).toBe(100000);
    expect(c.forceSync).toBe(true);
    expect(c.preAllocSize).toBe(64 * 1024 * 1024);
    expect(c.servers.size).toBe(0);
    expect(c.adminEnableServer).toBe(true);
    expect(c.containerCheckIntervalMs).toBe(60000);
  });

  it('zoo_sample.cfg style with comments, autopurge and trailing comments', () => {
    const { file } = write(
      '# The number of milliseconds of each tick\ntickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=DATA\nclientPort=2181\n#maxClientCnxns=60\nautopurge.snapRetainCount=3\nautopurge.purgeInterval=1\nadmin.enableServer=false # no jetty\n4lw.commands.whitelist=stat, ruok, conf, isro\n',
    );
    const c = loadConfig(file, { jvmFlags: '' });
    expect(c.adminEnableServer).toBe(false);
    expect(c.autopurgePurgeInterval).toBe(1);
    expect(c.fourLetterWhitelist).toEqual(new Set(['stat', 'ruok', 'conf', 'isro']));
  });

  it('pseudo-cluster with myid, and the ;clientPort form', () => {
    const { file } = write(
      'tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=DATA\nserver.1=127.0.0.1:2888:3888;2181\nserver.2=127.0.0.1:2889:3889;2182\nserver.3=127.0.0.1:2890:3890:observer;127.0.0.1:2183\n',
      '2\n',
    );
    const c = loadConfig(file, { jvmFlags: '' });
    expect(c.myid).toBe(2);
    expect(c.clientPort).toBe(2182);
    expect(c.servers.get(3)).toMatchObject({ host: '127.0.0.1', quorumPort: 2890, electionPort: 3890, type: 'observer', clientPort: 2183 });
  });

  it('keys without the zookeeper. prefix, with it, and from JVMFLAGS', () => {
    const { file } = write('dataDir=DATA\nclientPort=2181\nsnapCount=10\nzookeeper.forceSync=no\npreAllocSize=16\nskipACL=yes\nextendedTypesEnabled=true\nznode.container.checkIntervalMs=1000\nsomething.unknown=1\n');
    const c = loadConfig(file, { jvmFlags: '-Dzookeeper.snapshot.compression.method=gz -Djute.maxbuffer=2000000' });
    expect(c.snapCount).toBe(10);
    expect(c.forceSync).toBe(false);
    expect(c.preAllocSize).toBe(16384);
    expect(c.skipACL).toBe(true);
    expect(c.extendedTypesEnabled).toBe(true);
    expect(c.containerCheckIntervalMs).toBe(1000);
    expect(c.snapshotCompressionMethod).toBe('gz');
    expect(c.juteMaxBuffer).toBe(2000000);
    expect(c.ignoredKeys).toContain('something.unknown');
  });

  it('resolves a bare config name in conf/ as zkServer.sh does', () => {
    const conf = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-conf-'));
    expect(resolveConfigPath('zoo_2181.cfg', conf)).toBe(path.join(conf, 'zoo_2181.cfg'));
    expect(resolveConfigPath(undefined, conf)).toBe(path.join(conf, 'zoo.cfg'));
  });

  it('accepts the shipped conf/ files', () => {
    for (const f of ['zoo.cfg', 'zoo_2181.cfg']) {
      const text = fs.readFileSync(path.join(__dirname, '..', 'conf', f), 'utf8');
      expect(parseProperties(text).some((p) => p.key === 'clientPort')).toBe(true);
    }
  });
});

describe('loadConfig: broken configs name file, line and key', () => {
  const cases: [string, string, string | undefined, string, number, RegExp][] = [
    ['missing dataDir', 'clientPort=2181\n', undefined, 'dataDir', 0, /dataDir is not set/],
    ['non-numeric port', 'dataDir=DATA\nclientPort=abc\n', undefined, 'clientPort', 2, /integer port/],
    ['port out of range', 'dataDir=DATA\nclientPort=70000\n', undefined, 'clientPort', 2, /1-65535/],
    ['non-numeric tickTime', 'tickTime=fast\ndataDir=DATA\n', undefined, 'tickTime', 1, /expected/],
    ['bad boolean', 'dataDir=DATA\nclientPort=1\nstandaloneEnabled=maybe\n', undefined, 'standaloneEnabled', 3, /Choose 'true' or 'false/],
    ['min > max session timeout', 'dataDir=DATA\nclientPort=1\nminSessionTimeout=9000\nmaxSessionTimeout=5000\n', undefined, 'minSessionTimeout', 3, /must not be larger/],
    ['clientPortAddress without clientPort', 'dataDir=DATA\nclientPortAddress=127.0.0.1\n', undefined, 'clientPortAddress', 2, /clientPort is not set/],
    ['bad electionAlg', 'dataDir=DATA\nclientPort=1\nelectionAlg=1\n', undefined, 'electionAlg', 3, /Only 3/],
    ['bad server line', 'dataDir=DATA\ninitLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2888\nserver.2=127.0.0.1:2889:3889\n', '1', 'server.1', 4, /host:quorumPort:electionPort/],
    ['non-numeric server port', 'dataDir=DATA\ninitLimit=5\nsyncLimit=2\nserver.1=h:x:3888\nserver.2=h:2889:3889\n', '1', 'server.1', 4, /quorum port "x"/],
    ['same quorum and election port', 'dataDir=DATA\ninitLimit=5\nsyncLimit=2\nserver.1=h:2888:2888\nserver.2=h:2889:3889\n', '1', 'server.1', 4, /must be different/],
    ['duplicate ports', 'dataDir=DATA\ninitLimit=5\nsyncLimit=2\nserver.1=h:2888:3888\nserver.2=h:2888:3889\n', '1', 'server.2', 5, /used twice/],
    ['bad server id', 'dataDir=DATA\nserver.x=h:2888:3888\n', '1', 'server.x', 2, /must be a number/],
    ['missing initLimit', 'dataDir=DATA\nsyncLimit=2\nserver.1=h:2888:3888\nserver.2=h:2889:3889\n', '1', 'initLimit', 0, /initLimit is not set/],
  ];
  it.each(cases)('%s', (_name, text, myid, key, line, msg) => {
    const e = fails(text, myid);
    expect(e.key).toBe(key);
    expect(e.line).toBe(line);
    expect(e.message).toMatch(msg);
    expect(e.message).toContain('zoo.cfg');
    if (line > 0) expect(e.message).toContain(`zoo.cfg:${line}: ${key}:`);
  });

  it('myid missing, not a number, out of range, not in the server list', () => {
    const q = 'dataDir=DATA\ninitLimit=5\nsyncLimit=2\nserver.1=h:2888:3888\nserver.2=h:2889:3889\n';
    expect(fails(q).message).toMatch(/myid file is missing/);
    expect(fails(q, 'abc').message).toMatch(/myid.*not a number/);
    expect(fails(q, '0').message).toMatch(/out of range/);
    expect(fails(q, '256').message).toMatch(/out of range/);
    expect(fails(q + 'extendedTypesEnabled=true\n', '255').message).toMatch(/Cannot be larger than 254/);
    expect(fails(q, '7').message).toMatch(/My id 7 not in the peer list/);
    expect(fails(q, '7').file).toMatch(/myid$/);
  });

  it('missing file', () => {
    expect(() => loadConfig('/nonexistent/zoo.cfg')).toThrow(/nonexistent\/zoo.cfg: cannot read/);
  });
});
