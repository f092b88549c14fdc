// The container image (docker/) without a container engine: these machines have the docker client
// only, no daemon, so the image itself is never built or run here. What can be checked outside it:
//   - docker/docker-entrypoint.sh, run with ZOO_CONF_DIR / ZOO_DATA_DIR / ... pointed at temp dirs
//     and a no-op command, writes zoo.cfg and myid byte for byte as the official image's
//     docker-entrypoint.sh does for the same environment (EXPECTED below), and zk-server accepts
//     the zoo.cfg it writes;
//   - its root drop (chown, then setpriv to `zookeeper`): with stand-in id/chown/setpriv on the
//     PATH always, and for real when the tests run as root on a machine with a `zookeeper` user;
//   - bin/zk-healthcheck.js (the image's HEALTHCHECK) against a zk-server started from such a
//     zoo.cfg, and against a closed port;
//   - docker/Dockerfile, .dockerignore and docker/docker-compose.yml, read as text: every COPY
//     source exists and is in the build context, the official image's ENV, ports and CMD.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load';
import { freePort, requireDist } from './helpers/peers';

const execFileP = promisify(execFile);
const ROOT = path.join(__dirname, '..');
const ENTRYPOINT = path.join(ROOT, 'docker', 'docker-entrypoint.sh');
const HEALTHCHECK = path.join(ROOT, 'bin', 'zk-healthcheck.js');
const BIN = path.join(ROOT, 'bin', 'zk-server.js');

// The ENV of the official image's Dockerfile (31z4/zookeeper-docker 3.8.6/Dockerfile, the source of
// docker-library's `zookeeper:3.8`): inside the container every run of the entrypoint sees these.
const IMAGE_ENV: Record<string, string> = {
  ZOO_TICK_TIME: '2000',
  ZOO_INIT_LIMIT: '5',
  ZOO_SYNC_LIMIT: '2',
  ZOO_AUTOPURGE_PURGEINTERVAL: '0',
  ZOO_AUTOPURGE_SNAPRETAINCOUNT: '3',
  ZOO_MAX_CLIENT_CNXNS: '60',
  ZOO_STANDALONE_ENABLED: 'true',
  ZOO_ADMINSERVER_ENABLED: 'true',
};

const ENSEMBLE = 'server.1=zoo1:2888:3888;2181 server.2=zoo2:2888:3888;2181 server.3=zoo3:2888:3888;2181';
const BASE = (servers: string, extra = ''): string =>
  'dataDir=@DIR@/data\ndataLogDir=@DIR@/datalog\ntickTime=2000\ninitLimit=5\nsyncLimit=2\n' +
  'autopurge.snapRetainCount=3\nautopurge.purgeInterval=0\nmaxClientCnxns=60\nstandaloneEnabled=true\nadmin.enableServer=true\n' +
  servers +
  extra;

interface Case {
  name: string;
  env: Record<string, string>; // on top of IMAGE_ENV
  preCfg?: string; // a zoo.cfg already in ZOO_CONF_DIR
  preMyid?: string; // a myid already in ZOO_DATA_DIR
  cfg: string; // expected zoo.cfg, @DIR@ standing for the case's directory
  myid: string; // expected myid
  loads: boolean; // zk-server accepts the zoo.cfg (with the myid)
}

// EXPECTED: what the official entrypoint writes. Obtained on 2026-12-04 by running
// 3.8.6/docker-entrypoint.sh of github.com/31z4/zookeeper-docker at 52a8364 (the repository
// docker-library's `zookeeper` image is built from; "Upgrade Zookeeper to 3.8.6") by hand with bash
// 5.2 on Debian 12: the script copied to a temp dir with its chown/gosu block (lines 5-9) deleted,
// run as `env -i PATH=/usr/bin:/bin ZOO_CONF_DIR=<d>/conf ZOO_DATA_DIR=<d>/data
// ZOO_DATA_LOG_DIR=<d>/datalog ZOO_LOG_DIR=<d>/logs <IMAGE_ENV> <case env> ./entrypoint.sh true`
// in fresh directories (holding preCfg / preMyid where given), then <d> replaced by @DIR@ in the
// zoo.cfg it wrote. The strings are its files, byte for byte.
const CASES: Case[] = [
  { name: 'image defaults', env: {}, cfg: BASE('server.1=localhost:2888:3888;2181\n'), myid: '1\n', loads: true },
  {
    name: "the tutorial's 3 servers, ZOO_MY_ID=2",
    env: { ZOO_MY_ID: '2', ZOO_SERVERS: ENSEMBLE },
    cfg: BASE('server.1=zoo1:2888:3888;2181\nserver.2=zoo2:2888:3888;2181\nserver.3=zoo3:2888:3888;2181\n'),
    myid: '2\n',
    loads: true,
  },
  {
    name: 'every scalar variable changed',
    env: {
      ZOO_TICK_TIME: '3000',
      ZOO_INIT_LIMIT: '10',
      ZOO_SYNC_LIMIT: '4',
      ZOO_AUTOPURGE_PURGEINTERVAL: '1',
      ZOO_AUTOPURGE_SNAPRETAINCOUNT: '5',
      ZOO_MAX_CLIENT_CNXNS: '0',
      ZOO_STANDALONE_ENABLED: 'false',
      ZOO_ADMINSERVER_ENABLED: 'false',
    },
    cfg:
      'dataDir=@DIR@/data\ndataLogDir=@DIR@/datalog\ntickTime=3000\ninitLimit=10\nsyncLimit=4\nautopurge.snapRetainCount=5\n' +
      'autopurge.purgeInterval=1\nmaxClientCnxns=0\nstandaloneEnabled=false\nadmin.enableServer=false\nserver.1=localhost:2888:3888;2181\n',
    myid: '1\n',
    loads: true,
  },
  {
    name: 'ZOO_CFG_EXTRA (the Prometheus example of the image page)',
    env: { ZOO_CFG_EXTRA: 'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider metricsProvider.httpPort=7070' },
    cfg: BASE(
      'server.1=localhost:2888:3888;2181\n',
      'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpPort=7070\n',
    ),
    myid: '1\n',
    loads: true,
  },
  {
    name: 'ZOO_4LW_COMMANDS_WHITELIST',
    env: { ZOO_4LW_COMMANDS_WHITELIST: 'ruok,srvr,mntr' },
    cfg: BASE('server.1=localhost:2888:3888;2181\n', '4lw.commands.whitelist=ruok,srvr,mntr\n'),
    myid: '1\n',
    loads: true,
  },
  {
    name: 'tabs and newlines between words, whitelist *, extras after the whitelist',
    env: {
      ZOO_MY_ID: '3',
      ZOO_SERVERS: '\tserver.1=zoo1:2888:3888;2181\n  server.2=zoo2:2888:3888;2181   server.3=zoo3:2888:3888:observer;2181 ',
      ZOO_4LW_COMMANDS_WHITELIST: '*',
      ZOO_CFG_EXTRA: 'reconfigEnabled=true\nskipACL=no  4lw.commands.whitelist=stat',
    },
    cfg: BASE(
      'server.1=zoo1:2888:3888;2181\nserver.2=zoo2:2888:3888;2181\nserver.3=zoo3:2888:3888:observer;2181\n',
      '4lw.commands.whitelist=*\nreconfigEnabled=true\nskipACL=no\n4lw.commands.whitelist=stat\n',
    ),
    myid: '3\n',
    loads: true,
  },
  {
    name: 'ZOO_MY_ID and ZOO_SERVERS set but empty',
    env: { ZOO_MY_ID: '', ZOO_SERVERS: '' },
    cfg: BASE('server.1=localhost:2888:3888;2181\n'),
    myid: '1\n',
    loads: true,
  },
  {
    name: 'an existing zoo.cfg is left alone (myid is still written)',
    env: { ZOO_MY_ID: '4', ZOO_CFG_EXTRA: 'x=1' },
    preCfg: '# mine\ntickTime=1000\ndataDir=/somewhere\nclientPort=2191\n',
    cfg: '# mine\ntickTime=1000\ndataDir=/somewhere\nclientPort=2191\n',
    myid: '4\n',
    loads: false,
  },
  {
    name: 'an existing myid is left alone',
    env: { ZOO_MY_ID: '3', ZOO_SERVERS: ENSEMBLE },
    preMyid: '2\n',
    cfg: BASE('server.1=zoo1:2888:3888;2181\nserver.2=zoo2:2888:3888;2181\nserver.3=zoo3:2888:3888;2181\n'),
    myid: '2\n',
    loads: true, // and zk-server is server 2, not 3
  },
];

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-docker-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

let seq = 0;
/** fresh conf/data/datalog/logs under one directory */
function dirs(): { dir: string; conf: string; data: string; datalog: string; logs: string } {
  const dir = path.join(tmpRoot, `c${++seq}`);
  const d = { dir, conf: path.join(dir, 'conf'), data: path.join(dir, 'data'), datalog: path.join(dir, 'datalog'), logs: path.join(dir, 'logs') };
  for (const p of [d.conf, d.data, d.datalog, d.logs]) fs.mkdirSync(p, { recursive: true });
  return d;
}

/** docker-entrypoint.sh CMD... with only PATH, the dirs and `env` in its environment */
async function entrypoint(
  d: ReturnType<typeof dirs>,
  env: Record<string, string>,
  cmd: string[] = ['true'],
  opts: { pathPrefix?: string } = {},
): Promise<{ code: number; out: string }> {
  const PATH = (opts.pathPrefix ? opts.pathPrefix + ':' : '') + (process.env.PATH ?? '/usr/bin:/bin');
  try {
    const r = await execFileP(ENTRYPOINT, cmd, {
      cwd: d.dir,
      timeout: 20000,
      env: { PATH, ZOO_CONF_DIR: d.conf, ZOO_DATA_DIR: d.data, ZOO_DATA_LOG_DIR: d.datalog, ZOO_LOG_DIR: d.logs, ...env },
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { code: typeof x.code === 'number' ? x.code : -1, out: (x.stdout ?? '') + (x.stderr ?? '') };
  }
}

const read = (f: string): string => fs.readFileSync(f, 'utf8');

describe('docker-entrypoint.sh writes what the official one writes', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const d = dirs();
      if (c.preCfg !== undefined) fs.writeFileSync(path.join(d.conf, 'zoo.cfg'), c.preCfg);
      if (c.preMyid !== undefined) fs.writeFileSync(path.join(d.data, 'myid'), c.preMyid);
      const r = await entrypoint(d, { ...IMAGE_ENV, ...c.env });
      expect(r).toEqual({ code: 0, out: '' });
      expect(read(path.join(d.conf, 'zoo.cfg'))).toBe(c.cfg.replaceAll('@DIR@', d.dir));
      expect(read(path.join(d.data, 'myid'))).toBe(c.myid);
      // nothing else in conf (the aside file was renamed)
      expect(fs.readdirSync(d.conf)).toEqual(['zoo.cfg']);
      const file = path.join(d.conf, 'zoo.cfg');
      if (c.loads) {
        const cfg = loadConfig(file);
        expect(cfg.dataDir).toBe(d.data);
        expect(cfg.dataLogDir).toBe(d.datalog);
        expect(cfg.clientPort).toBe(2181);
        // an ensemble's member reads its myid; a lone server with standaloneEnabled runs standalone
        if ((c.env.ZOO_SERVERS ?? '').trim().split(/\s+/).length > 1) expect(cfg.myid).toBe(Number(c.myid.trim()));
        else expect(cfg.servers.size <= 1).toBe(true);
      }
    });
  }

  it('run outside the image with no ZOO_* variables at all, it writes what the image defaults give', async () => {
    const d = dirs();
    expect(await entrypoint(d, {})).toEqual({ code: 0, out: '' });
    expect(read(path.join(d.conf, 'zoo.cfg'))).toBe(CASES[0].cfg.replaceAll('@DIR@', d.dir));
    expect(read(path.join(d.data, 'myid'))).toBe('1\n');
  });

  it('a second start leaves both files as the first one wrote them, whatever the environment says now', async () => {
    const d = dirs();
    await entrypoint(d, { ...IMAGE_ENV, ZOO_MY_ID: '2', ZOO_SERVERS: ENSEMBLE });
    const before = [read(path.join(d.conf, 'zoo.cfg')), read(path.join(d.data, 'myid'))];
    expect(await entrypoint(d, { ...IMAGE_ENV, ZOO_MY_ID: '3', ZOO_TICK_TIME: '1' })).toEqual({ code: 0, out: '' });
    expect([read(path.join(d.conf, 'zoo.cfg')), read(path.join(d.data, 'myid'))]).toEqual(before);
  });

  it('a word of ZOO_CFG_EXTRA that names files of the working directory is written as it is', async () => {
    const d = dirs();
    fs.writeFileSync(path.join(d.dir, 'a=1'), ''); // would be what `a=*` expands to, unquoted, without set -f
    await entrypoint(d, { ...IMAGE_ENV, ZOO_CFG_EXTRA: 'a=*' });
    expect(read(path.join(d.conf, 'zoo.cfg')).endsWith('server.1=localhost:2888:3888;2181\na=*\n')).toBe(true);
  });

  it('execs the command with its arguments, ZOOCFGDIR pointing at the conf dir', async () => {
    const d = dirs();
    const r = await entrypoint(d, IMAGE_ENV, ['sh', '-c', 'printf "%s|%s|%s" "$ZOOCFGDIR" "$1" "$2"', 'sh', 'a b', 'c']);
    expect(r).toEqual({ code: 0, out: `${d.conf}|a b|c` });
  });

  it('fails when the conf dir cannot take zoo.cfg, as the official one does', async () => {
    const d = dirs();
    const r = await entrypoint({ ...d, conf: path.join(d.dir, 'absent') }, IMAGE_ENV);
    expect(r.code).not.toBe(0);
  });
});

describe('docker-entrypoint.sh drops root as the official one does', () => {
  /** stand-ins for id, chown and setpriv: uid 0, a user zookeeper (gid 4242) when `exists` */
  function shims(exists: boolean): { bin: string; log: string } {
    const bin = path.join(tmpRoot, `shim${++seq}`);
    const log = path.join(bin, 'calls.log');
    fs.mkdirSync(bin);
    const w = (name: string, body: string): void => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    w(
      'id',
      `case "$*" in
  -u) echo 0 ;;
  "-g zookeeper") ${exists ? 'echo 4242' : 'exit 1'} ;;
  zookeeper) ${exists ? 'echo "uid=4242(zookeeper)"' : 'echo "id: no such user" >&2; exit 1'} ;;
  *) exit 1 ;;
esac`,
    );
    w('chown', `echo "chown $*" >> ${log}`);
    w('setpriv', `echo "setpriv $*" >> ${log}`);
    return { bin, log };
  }

  it('root with zkServer.sh as the command: chown -R of data, datalog and logs, then itself again through setpriv', async () => {
    const d = dirs();
    const s = shims(true);
    const r = await entrypoint(d, IMAGE_ENV, ['zkServer.sh', 'start-foreground'], { pathPrefix: s.bin });
    expect(r).toEqual({ code: 0, out: '' });
    expect(read(s.log)).toBe(
      `chown -R zookeeper ${d.data} ${d.datalog} ${d.logs}\n` + `setpriv --reuid=zookeeper --regid=4242 --init-groups ${ENTRYPOINT} zkServer.sh start-foreground\n`,
    );
    // the files are written by the second run, as zookeeper: not by this one
    expect(fs.existsSync(path.join(d.conf, 'zoo.cfg'))).toBe(false);
    expect(fs.existsSync(path.join(d.data, 'myid'))).toBe(false);
  });

  it('root with any other command (sh, a no-op), or with no user zookeeper: no chown, no user switch', async () => {
    for (const [exists, cmd] of [
      [true, ['true']],
      [true, ['sh', '-c', 'exit 0']],
      [false, ['zkServer.sh', 'version']],
    ] as const) {
      const d = dirs();
      const s = shims(exists);
      // a zkServer.sh that does nothing, for the last case
      fs.writeFileSync(path.join(s.bin, 'zkServer.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      const r = await entrypoint(d, IMAGE_ENV, [...cmd], { pathPrefix: s.bin });
      expect(r.code).toBe(0);
      expect(fs.existsSync(s.log)).toBe(false);
      expect(read(path.join(d.conf, 'zoo.cfg'))).toBe(CASES[0].cfg.replaceAll('@DIR@', d.dir));
    }
  });

  // For real: needs root and a user zookeeper (the Debian zookeeper package, which the test
  // machines install for the Java-interop tests, creates one).
  const uid = process.getuid?.() ?? -1;
  let zkUser: { uid: number; gid: number } | null = null;
  try {
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('zookeeper:'));
    if (line) zkUser = { uid: Number(line.split(':')[2]), gid: Number(line.split(':')[3]) };
  } catch {
    /* no /etc/passwd */
  }
  it.skipIf(uid !== 0 || zkUser === null)('as root, for real: the volumes become zookeeper\'s and the server command runs as zookeeper', async () => {
    const d = dirs();
    fs.chmodSync(tmpRoot, 0o755);
    fs.chmodSync(d.dir, 0o755);
    fs.chownSync(d.conf, zkUser!.uid, zkUser!.gid); // as the Dockerfile does for /conf
    fs.writeFileSync(path.join(d.data, 'old-snapshot'), ''); // root's, as a host volume might be
    const bin = path.join(d.dir, 'bin');
    fs.mkdirSync(bin, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'zkServer.sh'), `#!/bin/sh\necho "$(id -u):$(id -g) $*" > "$ZOO_LOG_DIR/ran"\n`, { mode: 0o755 });
    const r = await entrypoint(d, { ...IMAGE_ENV, ZOO_MY_ID: '2', ZOO_SERVERS: ENSEMBLE }, ['zkServer.sh', 'start-foreground'], { pathPrefix: bin });
    expect(r).toEqual({ code: 0, out: '' });
    expect(read(path.join(d.logs, 'ran'))).toBe(`${zkUser!.uid}:${zkUser!.gid} start-foreground\n`);
    for (const f of [d.data, d.datalog, d.logs, path.join(d.data, 'old-snapshot'), path.join(d.data, 'myid'), path.join(d.conf, 'zoo.cfg')]) {
      expect(fs.statSync(f).uid).toBe(zkUser!.uid);
    }
    expect(read(path.join(d.conf, 'zoo.cfg'))).toBe(CASES[1].cfg.replaceAll('@DIR@', d.dir));
    expect(read(path.join(d.data, 'myid'))).toBe('2\n');
  });
});

async function healthcheck(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  try {
    const r = await execFileP(process.execPath, [HEALTHCHECK, ...args], { timeout: 20000, env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { code: typeof x.code === 'number' ? x.code : -1, out: (x.stdout ?? '') + (x.stderr ?? '') };
  }
}

function askRaw(port: number, word: string): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(word));
    s.on('data', (c) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    s.on('error', () => resolve(''));
  });
}

describe('the image HEALTHCHECK (bin/zk-healthcheck.js) against zk-server started from the entrypoint', () => {
  const children: ChildProcess[] = [];
  beforeAll(() => requireDist());
  afterAll(() => {
    for (const c of children) c.kill('SIGTERM');
  });

  /** entrypoint (zoo.cfg for one server on a free loopback port) then zk-server start-foreground */
  async function serve(env: Record<string, string>): Promise<{ port: number; conf: string }> {
    const d = dirs();
    const [port, q, e] = [await freePort(), await freePort(), await freePort()];
    const full = { ...IMAGE_ENV, ZOO_ADMINSERVER_ENABLED: 'false', ZOO_SERVERS: `server.1=127.0.0.1:${q}:${e};127.0.0.1:${port}`, ...env };
    // the command as the image runs it, through node rather than zkServer.sh so that no user switch
    // can happen here; the server finds zoo.cfg through the ZOOCFGDIR the entrypoint exports
    const child = spawn(ENTRYPOINT, [process.execPath, BIN, 'start-foreground', '--log-format', 'json'], {
      cwd: d.dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { PATH: process.env.PATH, ZOO_CONF_DIR: d.conf, ZOO_DATA_DIR: d.data, ZOO_DATA_LOG_DIR: d.datalog, ZOO_LOG_DIR: d.logs, ...full },
    });
    children.push(child);
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (ok) return { port, conf: d.conf };
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`zk-server did not listen on ${port}`);
  }

  it('ruok whitelisted: imok, exit 0, with the port given or read from ZOOCFGDIR/zoo.cfg', async () => {
    const { port, conf } = await serve({ ZOO_4LW_COMMANDS_WHITELIST: 'ruok' });
    expect(await healthcheck([String(port)])).toEqual({ code: 0, out: '' });
    expect(await healthcheck([`127.0.0.1:${port}`])).toEqual({ code: 0, out: '' });
    expect(await healthcheck([], { ZOOCFGDIR: conf })).toEqual({ code: 0, out: '' });
  });

  it("the default whitelist (srvr only, as the image's default zoo.cfg has): healthy through srvr", async () => {
    const { port, conf } = await serve({});
    expect(await askRaw(port, 'ruok')).toBe('ruok is not executed because it is not in the whitelist.\n');
    expect(await healthcheck([], { ZOOCFGDIR: conf })).toEqual({ code: 0, out: '' });
    expect(await healthcheck([String(port)])).toEqual({ code: 0, out: '' });
  });

  it('a closed port: exit 1, saying so', async () => {
    const port = await freePort();
    const r = await healthcheck([String(port)]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`127.0.0.1:${port}: no answer to ruok`);
    expect((await healthcheck(['no-port'])).code).toBe(2);
  });
});

describe('docker/Dockerfile, .dockerignore and docker/docker-compose.yml, as text', () => {
  const dockerfile = read(path.join(ROOT, 'docker', 'Dockerfile'));
  // instructions: continuation lines joined, comments dropped
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const allowed = read(path.join(ROOT, '.dockerignore'))
    .split('\n')
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1));

  it('every COPY from the build context exists in the repository and is in the context .dockerignore lets through', () => {
    const copies = instructions.filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l));
    expect(copies.length).toBeGreaterThanOrEqual(2);
    for (const l of copies) {
      const words = l.split(/\s+/).slice(1).filter((w) => !w.startsWith('--'));
      for (const src of words.slice(0, -1)) {
        expect(fs.existsSync(path.join(ROOT, src)), src).toBe(true);
        expect(allowed.some((a) => src === a || src.startsWith(a + '/')), `${src} in .dockerignore's allow-list`).toBe(true);
      }
    }
    // what the build stage copies, too
    for (const l of instructions.filter((x) => /^COPY\s/.test(x) && !/--from=/.test(x))) expect(l).not.toMatch(/node_modules|dist/);
  });

  it("the official image's ENV, volumes, ports, entrypoint and CMD; zkServer.sh and the healthcheck in the image", () => {
    for (const [k, v] of Object.entries({ ZOO_CONF_DIR: '/conf', ZOO_DATA_DIR: '/data', ZOO_DATA_LOG_DIR: '/datalog', ZOO_LOG_DIR: '/logs', ...IMAGE_ENV })) {
      expect(dockerfile).toMatch(new RegExp(`\\b${k}=${v.replace('/', '\\/')}\\b`));
    }
    expect(instructions).toContain('VOLUME ["/data", "/datalog", "/logs"]');
    expect(instructions).toContain('EXPOSE 2181 2888 3888 8080');
    expect(instructions).toContain('ENTRYPOINT ["/docker-entrypoint.sh"]');
    expect(instructions).toContain('CMD ["zkServer.sh", "start-foreground"]');
    expect(dockerfile).toMatch(/ENV PATH=\$PATH:\/zk-server\/bin/);
    expect(dockerfile).toMatch(/ZOOCFGDIR=\$ZOO_CONF_DIR/);
    expect(dockerfile).toMatch(/COPY bin\/zk-server\.js bin\/zkServer\.sh bin\/zk-healthcheck\.js \.\/bin\//);
    // files the built server reads at run time from outside dist/: the dashboard's pages
    expect(dockerfile).toMatch(/^COPY src\/admin\/dashboard\/public \.\/src\/admin\/dashboard\/public$/m);
    expect(instructions.find((l) => l.startsWith('HEALTHCHECK'))).toMatch(/CMD \["node", "\/zk-server\/bin\/zk-healthcheck\.js"\]$/);
    expect(instructions.filter((l) => l.startsWith('FROM'))).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE}']);
    for (const f of [ENTRYPOINT, HEALTHCHECK, path.join(ROOT, 'bin', 'zkServer.sh'), BIN]) expect(fs.statSync(f).mode & 0o111).toBe(0o111);
  });

  it("compose: the image page's three servers, ports 2181-2183", () => {
    const compose = read(path.join(ROOT, 'docker', 'docker-compose.yml'));
    for (const [n, port] of [[1, 2181], [2, 2182], [3, 2183]]) {
      const block = compose.split(`\n  zoo${n}:\n`)[1].split(/\n  zoo\d:\n/)[0];
      expect(block).toContain(`hostname: zoo${n}`);
      expect(block).toContain(`container_name: zoo${n}`); // docker exec -it zoo2 sh
      expect(block).toContain(`- ${port}:2181`);
      expect(block).toContain(`ZOO_MY_ID: ${n}`);
      expect(block).toContain(`ZOO_SERVERS: ${ENSEMBLE}`);
      expect(block).toContain('<<: *zk-server');
    }
    expect(compose).toMatch(/build:\n\s+context: \.\.\n\s+dockerfile: docker\/Dockerfile/);
  });
});
