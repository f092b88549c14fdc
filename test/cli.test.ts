// The command line as a user drives it: start / status / stop of a standalone server, with
// zkServer.sh's outputs and exit codes, the conf/ lookup of a bare config name, and config errors.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, requireDist } from './helpers/peers';
import { SERVER_NODE_FLAGS } from '../src/nodeflags';

const execFileP = promisify(execFile);
const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'zk-server.js');
const WRAPPER = path.join(ROOT, 'bin', 'zkServer.sh');

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ out: string; code: number }> {
  try {
    const r = await execFileP(args[0] === WRAPPER ? WRAPPER : process.execPath, args[0] === WRAPPER ? args.slice(1) : [BIN, ...args], {
      timeout: 60000,
      env: { ...process.env, ...env },
    });
    return { out: r.stdout + r.stderr, code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { out: (x.stdout ?? '') + (x.stderr ?? ''), code: typeof x.code === 'number' ? x.code : -1 };
  }
}

const confDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cli-conf-'));
afterAll(async () => {
  for (const f of fs.readdirSync(confDir)) if (f.endsWith('.cfg')) await cli(['stop', path.join(confDir, f)]);
});

describe('zk-server CLI', () => {
  beforeAll(() => requireDist());
  it('start, status, stop with zkServer.sh outputs and exit codes; the wrapper finds a bare name in ZOOCFGDIR', async () => {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cli-data-'));
    const cfg = path.join(confDir, 'zoo_cli.cfg');
    fs.writeFileSync(cfg, `tickTime=2000\ndataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false # off\n`);
    const env = { ZOOCFGDIR: confDir };
    const start = await cli([WRAPPER, 'start', 'zoo_cli.cfg'], env);
    expect(start.out).toContain(`Using config: ${cfg}`);
    expect(start.out).toContain('STARTED');
    expect(start.code).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'zookeeper_server.pid'))).toBe(true);
    // the server process runs with the node flags of src/nodeflags.ts
    const pid = Number(fs.readFileSync(path.join(dataDir, 'zookeeper_server.pid'), 'utf8').trim());
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(SERVER_NODE_FLAGS.length).toBeGreaterThan(0);
    for (const f of SERVER_NODE_FLAGS) expect(argv.slice(0, argv.indexOf(BIN))).toContain(f);
    const again = await cli(['start', cfg]);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/already running/);
    // the log proper goes to a text file in ZooKeeper's line format (standalone: `[myid:]`)
    const log = fs.readFileSync(path.join(dataDir, 'zk-server-standalone.log'), 'utf8');
    expect(log).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[myid:\] - INFO  \[main\] - serving clients \(standalone\) address=127.0.0.1 port=\d+$/m);
    expect(log).toMatch(/\[FileTxnSnapLog\] - /);
    expect(log).not.toMatch(/node was started without the flags/);
    const status = await cli(['status', cfg]);
    expect(status.out).toContain('Mode: standalone');
    expect(status.code).toBe(0);
    const stop = await cli(['stop', cfg]);
    expect(stop.out).toContain('STOPPED');
    expect(stop.code).toBe(0);
    const after = await cli(['status', cfg]);
    expect(after.out).toContain('Error contacting service. It is probably not running.');
    expect(after.code).toBe(1);
    const stop2 = await cli(['stop', cfg]);
    expect(stop2.code).toBe(1);
  }, 90000);

  it('the background log file rolls over at zookeeper.log.maxfilesize, keeping zookeeper.log.maxbackupindex files', async () => {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cli-data-'));
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cli-logs-'));
    const cfg = path.join(confDir, 'zoo_roll.cfg');
    fs.writeFileSync(cfg, `dataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n`);
    // the start-up lines (100-170 bytes each) fill 250-byte files: several rollovers
    const env = { ZOO_LOG_DIR: logDir, ZOO_LOG_FILE: 'zk.log', SERVER_JVMFLAGS: '-Dzookeeper.log.maxfilesize=250 -Dzookeeper.log.maxbackupindex=2' };
    expect((await cli(['start', cfg], env)).code).toBe(0);
    expect((await cli(['stop', cfg], env)).code).toBe(0);
    const files = fs.readdirSync(logDir).filter((f) => f.startsWith('zk.log')).sort();
    expect(files).toEqual(['zk.log', 'zk.log.1', 'zk.log.2']);
    for (const f of ['zk.log.1', 'zk.log.2']) {
      const size = fs.statSync(path.join(logDir, f)).size;
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(250);
    }
    // the newest lines are in zk.log, the shutdown among them; the logback properties are the
    // logger's, not config keys the server would call ignored
    const newest = fs.readFileSync(path.join(logDir, 'zk.log'), 'utf8');
    expect(newest).toMatch(/shutting down signal=SIGTERM/);
    expect(fs.readFileSync(path.join(logDir, 'zk.log.2'), 'utf8') + fs.readFileSync(path.join(logDir, 'zk.log.1'), 'utf8') + newest).not.toContain('maxfilesize');
    // a size that is not one is refused with the flag named
    const bad = await cli(['start-foreground', cfg, '--log-file', path.join(logDir, 'x.log')], { SERVER_JVMFLAGS: '-Dzookeeper.log.maxfilesize=lots' });
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('-Dzookeeper.log.maxfilesize=lots: not a file size');
  }, 120000);

  it('a broken config exits non-zero with file, line and key', async () => {
    const cfg = path.join(confDir, 'broken.cfg.txt');
    fs.writeFileSync(cfg, 'dataDir=/tmp/x\nclientPort=abc\n');
    const r = await cli(['start-foreground', cfg]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`${cfg}:2: clientPort: expected an integer port`);
  });

  // start-foreground bad.cfg: each class of config error exits 2 and names file, line and key
  const BAD: [string, string, string][] = [
    ['a value of the wrong type', 'dataDir=/tmp/x\nclientPort=2181\ntickTime=abc\n', ':3: tickTime: expected an integer >= 1, got "abc"'],
    ['a value out of range', 'dataDir=/tmp/x\nclientPort=2181\nmaxClientCnxns=99999999999\n', ':3: maxClientCnxns: expected an integer >= 0 (32-bit), got "99999999999"'],
    ['a port out of range', 'dataDir=/tmp/x\nclientPort=70000\n', ':2: clientPort: expected an integer port 1-65535, got "70000"'],
    ['an enum value not in the table', 'dataDir=/tmp/x\nclientPort=2181\nsnapshot.compression.method=zstd\n', ':3: snapshot.compression.method: expected gz, snappy or nothing, got "zstd"'],
    ['a missing dataDir (no line to name)', 'tickTime=2000\nclientPort=2181\n', ': dataDir: dataDir is not set'],
    ['an empty dataDir', 'tickTime=2000\ndataDir=\nclientPort=2181\n', ':2: dataDir: dataDir is not set'],
    ['a bad server line', 'tickTime=2000\ninitLimit=5\nsyncLimit=2\ndataDir=/tmp/x\nserver.1=127.0.0.1:2888\nserver.2=127.0.0.1:2889:3889\n', ':5: server.1: Missing election port for server: 1'],
  ];
  it.each(BAD)('start-foreground with %s exits 2, naming file:line and key', async (_name, text, msg) => {
    const cfg = path.join(confDir, `bad-${BAD.findIndex((b) => b[1] === text)}.cfg`);
    fs.writeFileSync(cfg, text);
    const r = await cli(['start-foreground', cfg]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`Invalid config, exiting abnormally: ${cfg}${msg}`);
  });

  it('a client port in use makes start fail with the reason', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cli-data-'));
    const cfg = path.join(confDir, 'busy.cfg');
    fs.writeFileSync(cfg, `dataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n`);
    const r = await cli(['start', cfg]);
    blocker.close();
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAILED TO START/);
    expect(r.out).toMatch(/EADDRINUSE/);
  }, 60000);

  it('reconfig-preview prints the membership a reconfig would make, and refuses what reconfig refuses', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cli-preview-'));
    fs.writeFileSync(path.join(dir, 'myid'), '1\n');
    const cfg = path.join(dir, 'zoo.cfg');
    const line = (i: number, role = 'participant'): string => `server.${i}=127.0.0.1:${2887 + i}:${3887 + i}:${role};127.0.0.1:${2180 + i}`;
    fs.writeFileSync(cfg, ['tickTime=2000', 'initLimit=5', 'syncLimit=2', `dataDir=${dir}`, 'reconfigEnabled=true', line(1), line(2), line(3), ''].join('\n'));
    const r = await cli(['reconfig-preview', cfg, '--add', `${line(4)},${line(2, 'observer')}`, '--remove', '3']);
    expect(r.code, r.out).toBe(0);
    expect(r.out.split('\n')).toEqual([
      '# server.2 becomes an observer',
      '# server.4 joins as participant',
      '# server.3 leaves',
      `# ${cfg}.dynamic.<zxid of the reconfig>, as the peers will write it:`,
      line(1),
      line(2, 'observer'),
      line(4),
      '',
    ]);
    // the same refusals as the reconfig request: a clashing port, a line without a client port
    const clash = await cli(['reconfig-preview', cfg, '--add', 'server.4=127.0.0.1:2888:3999:participant;127.0.0.1:2184']);
    expect(clash.code).toBe(1);
    expect(clash.out).toContain('reconfig would be refused (BADARGUMENTS): Reconfiguration failed');
    const noClient = await cli(['reconfig-preview', cfg, '--add', 'server.4=127.0.0.1:2891:3891']);
    expect(noClient.out).toContain('each server should have 3 ports specified');
    const tooFew = await cli(['reconfig-preview', cfg, '--remove', '2,3']);
    expect(tooFew.out).toContain('new configuration must include at least 2 followers');
    // nothing was written
    expect(fs.readdirSync(dir).sort()).toEqual(['myid', 'zoo.cfg']);
  });

  it('start-foreground and cluster refuse an unknown --log-format', async () => {
    for (const cmd of [['start-foreground', '--log-format', 'xml', 'zoo.cfg'], ['cluster', '--log-format', 'xml']]) {
      const r = await cli(cmd);
      expect(r.code, r.out).toBe(2);
      expect(r.out).toContain('zk-server: unknown log format "xml" (expected text or json)');
    }
  });

  it('version and print-cmd', async () => {
    expect((await cli(['version'])).out).toMatch(/^zk-server \d+\.\d+\.\d+ \(Apache ZooKeeper 3\.8\.0/);
    const cmd = (await cli(['print-cmd', 'zoo.cfg'])).out;
    expect(cmd).toContain(path.join(ROOT, 'conf', 'zoo.cfg'));
    expect(cmd).toContain(`"${process.execPath}" ${SERVER_NODE_FLAGS.map((f) => `"${f}"`).join(' ')} "${BIN}" start-foreground`);
  });

  it('every way of starting the server passes the same node flags: bin/zk-server.js run as a program, zkServer.sh, start; a bare `node` start logs what it lacks', async () => {
    const want = SERVER_NODE_FLAGS.join(' ');
    expect(fs.readFileSync(BIN, 'utf8').split('\n').slice(0, 2)).toEqual(['#!/bin/sh', `':' //; exec node ${want} "$0" "$@"`]);
    expect(fs.readFileSync(WRAPPER, 'utf8')).toMatch(new RegExp(`^exec node ${want.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} "\\$HERE/zk-server\\.js" "\\$@"$`, 'm'));
    // run as a program (its #! line) and as `node bin/zk-server.js`: what each process got, and its log
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cli-flags-'));
    const cfg = path.join(dataDir, 'zoo.cfg');
    fs.writeFileSync(cfg, `tickTime=2000\ndataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n`);
    const run = async (file: string, args: string[]): Promise<{ argv: string[]; log: string }> => {
      const p = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZK_LOG_LEVEL: 'info', ZK_LOG_FORMAT: 'json' } });
      let log = '';
      p.stdout.on('data', (d: Buffer) => (log += d.toString()));
      p.stderr.on('data', (d: Buffer) => (log += d.toString()));
      try {
        const deadline = Date.now() + 20000;
        while (!/serving clients/.test(log)) {
          if (Date.now() > deadline || p.exitCode !== null) throw new Error(`the server did not start: ${log}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        return { argv: fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0'), log };
      } finally {
        p.kill('SIGTERM');
        await new Promise((r) => p.once('exit', r));
      }
    };
    const direct = await run(BIN, ['start-foreground', cfg]);
    for (const f of SERVER_NODE_FLAGS) expect(direct.argv.slice(0, direct.argv.indexOf(BIN))).toContain(f);
    expect(direct.log).not.toMatch(/node was started without the flags/);
    const bare = await run(process.execPath, [BIN, 'start-foreground', cfg]);
    for (const f of SERVER_NODE_FLAGS) expect(bare.argv).not.toContain(f);
    expect(bare.log).toMatch(/node was started without the flags/);
  }, 60000);
});
