// zk-server command line, in the style of zkServer.sh:
//   start | start-foreground | stop | restart | status | print-cmd | version [CFG]
import { Command } from 'commander';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig, parseJvmFlags, parseProperties, resolveConfigPath } from './config/load';
import { parseFileSize, RotatingFile } from './util/rotatingfile';
import { ConfigError, ServerConfig } from './config/types';
import { createLogger, LogFormat, logFormatOf } from './logger';
import { MembershipError, membershipOf, nextMembership, textOf } from './config/membership';
import { dynamicFileContent } from './config/dynamic';
import { purge, truncateDataDir } from './persistence';
import { startServerProcess } from './launch';
import { missingServerNodeFlags, SERVER_NODE_FLAGS } from './nodeflags';
import { PACKAGE_VERSION, VERSION_STRING } from './version';
import { PeerAddress, statusOf, statusTable, summary } from './clusterstatus';
import { askFourLetterWord } from './util/fourletter';
import { runShell } from './shell';

const PROJECT_DIR = path.resolve(__dirname, '..');
const CONF_DIR = process.env.ZOOCFGDIR ? path.resolve(process.env.ZOOCFGDIR) : path.join(PROJECT_DIR, 'conf');

function configOrExit(arg: string | undefined): { file: string; config: ServerConfig } {
  const file = resolveConfigPath(arg, CONF_DIR);
  try {
    return { file, config: loadConfig(file) };
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`Invalid config, exiting abnormally: ${e.message}\n`);
    } else {
      process.stderr.write(`Invalid config, exiting abnormally: ${file}: ${String(e)}\n`);
    }
    process.exit(2);
  }
}

function pidFile(config: ServerConfig): string {
  return process.env.ZOOPIDFILE ?? path.join(config.dataDir, 'zookeeper_server.pid');
}

function readPid(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function clientHost(config: ServerConfig): string {
  const h = config.clientPortAddress;
  return !h || h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h;
}

async function cmdStart(arg: string | undefined): Promise<number> {
  const { file, config } = configOrExit(arg);
  process.stdout.write(`Using config: ${file}\n`);
  const pf = pidFile(config);
  const old = readPid(pf);
  if (old && alive(old)) {
    process.stdout.write(`zk-server already running as process ${old}.\n`);
    return 1;
  }
  fs.mkdirSync(path.dirname(pf), { recursive: true });
  const logDir = process.env.ZOO_LOG_DIR ? path.resolve(process.env.ZOO_LOG_DIR) : config.dataDir;
  fs.mkdirSync(logDir, { recursive: true });
  // as zkServer.sh: the process's own output (a crash's stack) in a .out file, the log proper in a
  // file rolled over by size (ZOO_LOG_FILE names it, as in zkServer.sh)
  const name = `zk-server-${config.myid ?? 'standalone'}`;
  const logFile = path.join(logDir, `${name}.out`);
  const rollingLog = path.join(logDir, process.env.ZOO_LOG_FILE || `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  process.stdout.write('Starting zk-server ... ');
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, path.join(PROJECT_DIR, 'bin', 'zk-server.js'), 'start-foreground', file, '--log-file', rollingLog], {
    detached: true,
    stdio: ['ignore', out, out],
    env: process.env,
  });
  fs.closeSync(out);
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? 1;
  });
  fs.writeFileSync(pf, `${child.pid}\n`);
  child.unref();
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (exited !== null) {
      process.stdout.write('FAILED TO START\n');
      const tail = [rollingLog, logFile]
        .map((f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trimEnd() : ''))
        .filter((t) => t)
        .join('\n')
        .split('\n')
        .slice(-15)
        .join('\n');
      process.stderr.write(tail + '\n');
      try {
        fs.unlinkSync(pf);
      } catch {
        /* already gone */
      }
      return 1;
    }
    // serving; or, for a quorum peer, up and answering while it waits for a quorum (zkServer.sh
    // itself only waits for the pid file: a lone peer of an ensemble is STARTED too)
    const srvr = await askFourLetterWord(clientHost(config), config.clientPort, 'srvr', 500);
    if (srvr.startsWith('Zookeeper version') || (config.servers.size > 0 && srvr.includes('not currently serving requests'))) {
      process.stdout.write('STARTED\n');
      return 0;
    }
    await sleep(100);
  }
  process.stdout.write('FAILED TO START (timed out waiting for the client port)\n');
  return 1;
}

async function cmdStop(arg: string | undefined): Promise<number> {
  const { file, config } = configOrExit(arg);
  process.stdout.write(`Using config: ${file}\n`);
  const pf = pidFile(config);
  const pid = readPid(pf);
  if (!pid) {
    process.stdout.write(`no zk-server to stop (could not find file ${pf})\n`);
    return 1;
  }
  process.stdout.write('Stopping zk-server ... ');
  if (alive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 30000;
    while (alive(pid) && Date.now() < deadline) await sleep(50);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  try {
    fs.unlinkSync(pf);
  } catch {
    /* already gone */
  }
  process.stdout.write('STOPPED\n');
  return 0;
}

async function cmdStatus(arg: string | undefined): Promise<number> {
  const { file, config } = configOrExit(arg);
  process.stdout.write(`Using config: ${file}\n`);
  const host = clientHost(config);
  process.stdout.write(`Client port found: ${config.clientPort}. Client address: ${host}. Client SSL: false.\n`);
  const out = await askFourLetterWord(host, config.clientPort, 'srvr');
  const m = /^Mode: (\S+)$/m.exec(out);
  if (!m) {
    process.stdout.write('Error contacting service. It is probably not running.\n');
    return 1;
  }
  process.stdout.write(`Mode: ${m[1]}\n`);
  return 0;
}

/**
 * One row per server: the pseudo-cluster's three configs, or the given ones. Only the client
 * address, the myid file and the currentEpoch file are read, so a peer whose config would not
 * load still gets a row.
 * Exit 0 when every peer serves and there is one leader.
 */
async function cmdClusterStatus(cfgs: string[]): Promise<number> {
  const files = cfgs.length ? cfgs.map((c) => resolveConfigPath(c, CONF_DIR)) : [1, 2, 3].map((i) => path.join(CONF_DIR, `zoo_218${i}.cfg`));
  const peers: PeerAddress[] = [];
  const epochFiles: string[] = [];
  for (const [n, file] of files.entries()) {
    let props: { key: string; value: string }[];
    try {
      props = parseProperties(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      process.stderr.write(`zk-server cluster status: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
      return 2;
    }
    const get = (k: string): string | undefined => props.filter((p) => p.key === k).pop()?.value;
    const port = Number(get('clientPort'));
    if (!Number.isInteger(port) || port <= 0) {
      process.stderr.write(`zk-server cluster status: ${file}: no clientPort\n`);
      return 2;
    }
    const addr = get('clientPortAddress');
    const host = !addr || addr === '0.0.0.0' || addr === '::' ? '127.0.0.1' : addr;
    const dataDir = get('dataDir');
    let id = String(n + 1);
    try {
      if (dataDir) id = fs.readFileSync(path.join(path.resolve(dataDir), 'myid'), 'utf8').trim() || id;
    } catch {
      /* never started: the config's position stands in */
    }
    peers.push({ id, host, port });
    epochFiles.push(dataDir ? path.join(path.resolve(dataDir), 'version-2', 'currentEpoch') : '');
  }
  const rows = await Promise.all(
    peers.map(async (p, n) => {
      const row = statusOf(p, await askFourLetterWord(p.host, p.port, 'srvr', 2000));
      try {
        const epoch = Number(fs.readFileSync(epochFiles[n], 'utf8').trim());
        if (Number.isInteger(epoch) && row.mode !== 'unreachable') row.epoch = epoch;
      } catch {
        /* another machine's peer, or never elected */
      }
      return row;
    }),
  );
  const s = summary(rows);
  process.stdout.write(statusTable(rows) + s.text + '\n');
  return s.ok ? 0 : 1;
}

/**
 * Three peers on 2181-2183, each log line prefixed with its id, in `format` (passed on through
 * ZK_LOG_FORMAT: the peers' stdout is a pipe). A peer that exits is reported with its code or
 * signal and its last lines, and started again with `restart`. Ctrl-C stops them all.
 */
async function cmdCluster(o: { restart: boolean; format: LogFormat }): Promise<number> {
  const files: string[] = [];
  for (let i = 1; i <= 3; i++) {
    const file = path.join(CONF_DIR, `zoo_218${i}.cfg`);
    // each peer's dataDir gets its myid before the config (which checks it) is loaded
    const dataDir = parseProperties(fs.readFileSync(file, 'utf8')).find((p) => p.key === 'dataDir')?.value;
    if (dataDir) {
      fs.mkdirSync(path.resolve(dataDir), { recursive: true });
      const myid = path.join(path.resolve(dataDir), 'myid');
      if (!fs.existsSync(myid)) fs.writeFileSync(myid, `${i}\n`);
    }
    configOrExit(file);
    files[i] = file;
  }
  let stopping = false;
  const running = new Map<number, ReturnType<typeof spawn>>();
  const TAIL = 10;
  const run = (i: number): Promise<void> =>
    new Promise((done) => {
      const tail: string[] = [];
      const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, path.join(PROJECT_DIR, 'bin', 'zk-server.js'), 'start-foreground', files[i]], {
        cwd: process.cwd(),
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ZK_LOG_FORMAT: o.format },
      });
      const prefix = (stream: NodeJS.ReadableStream, out: NodeJS.WriteStream): void => {
        let rest = '';
        stream.on('data', (d: Buffer) => {
          const lines = (rest + d.toString('utf8')).split('\n');
          rest = lines.pop() ?? '';
          for (const l of lines) {
            out.write(`[${i}] ${l}\n`);
            tail.push(l);
            if (tail.length > TAIL) tail.shift();
          }
        });
      };
      prefix(child.stdout!, process.stdout);
      prefix(child.stderr!, process.stderr);
      running.set(i, child);
      child.once('exit', (code, signal) => {
        running.delete(i);
        if (stopping) return done();
        const how = signal ? `signal ${signal}` : `code ${code}`;
        process.stderr.write(`[cluster] peer ${i} (127.0.0.1:218${i}) exited with ${how}; its last lines:\n${tail.map((l) => `[cluster]   ${l}`).join('\n')}\n`);
        if (!o.restart) {
          process.stderr.write(`[cluster] the other peers go on (zk-server cluster --restart starts an exited peer again)\n`);
          return done();
        }
        process.stderr.write(`[cluster] starting peer ${i} again\n`);
        setTimeout(() => (stopping ? done() : void run(i).then(done)), 1000);
      });
    });
  const all = Promise.all([1, 2, 3].map(run));
  process.stdout.write('pseudo-cluster: 127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183 (Ctrl-C stops it)\n');
  const stopAll = (): void => {
    stopping = true;
    for (const c of running.values()) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  await all;
  return 0;
}

/** The log format `--log-format` asks for (or the default); an unknown one exits 2. */
function logFormatOrExit(option: string | undefined, tty = Boolean(process.stdout.isTTY)): LogFormat {
  try {
    return logFormatOf(option, process.env, tty);
  } catch (e) {
    process.stderr.write(`zk-server: ${(e as Error).message}\n`);
    process.exit(2);
  }
}

/** The background server's log file, rolled over as ZooKeeper's ROLLINGFILE appender does. */
function logFileOrExit(file: string): RotatingFile {
  const flags = parseJvmFlags(`${process.env.JVMFLAGS ?? ''} ${process.env.SERVER_JVMFLAGS ?? ''}`);
  const size = flags.get('zookeeper.log.maxfilesize') ?? '256MB';
  const backups = flags.get('zookeeper.log.maxbackupindex') ?? '20';
  const maxBytes = parseFileSize(size);
  if (maxBytes === null || maxBytes <= 0) {
    process.stderr.write(`zk-server: -Dzookeeper.log.maxfilesize=${size}: not a file size (e.g. 256MB, 10KB, 1GB)\n`);
    process.exit(2);
  }
  if (!/^\d+$/.test(backups)) {
    process.stderr.write(`zk-server: -Dzookeeper.log.maxbackupindex=${backups}: not a number\n`);
    process.exit(2);
  }
  try {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return new RotatingFile(path.resolve(file), { maxBytes, backups: Number(backups) });
  } catch (e) {
    process.stderr.write(`zk-server: cannot open the log file ${file}: ${(e as Error).message}\n`);
    process.exit(2);
  }
}

export async function main(argv: string[]): Promise<void> {
  // zkCli's options are single-dash words (-server, -timeout) that commander would read as bundles of
  // short flags: everything after `cli` goes to the shell untouched
  if (argv[2] === 'cli') {
    process.exit(await runShell(argv.slice(3)));
  }
  const program = new Command();
  program.name('zk-server').description('A ZooKeeper-compatible coordination server').version(PACKAGE_VERSION, '--version');
  program
    .command('start-foreground [cfg]')
    .description('run the server in this process until SIGINT/SIGTERM')
    .option('--log-format <format>', 'text (one readable line per event) or json (JSON lines); default: text on a terminal, json otherwise, or ZK_LOG_FORMAT')
    .option('--log-file <file>', 'write the log to this file, rolled over by size (zookeeper.log.maxfilesize, zookeeper.log.maxbackupindex in SERVER_JVMFLAGS); text unless --log-format json')
    .action(async (cfg: string | undefined, opts: { logFormat?: string; logFile?: string }) => {
      // a log file is read by people (tail -f) as ZooKeeper's zookeeper.log is: text by default
      const format = logFormatOrExit(opts.logFormat, opts.logFile ? true : undefined);
      const { config } = configOrExit(cfg);
      const file = opts.logFile ? logFileOrExit(opts.logFile) : undefined;
      const logger = createLogger({ myid: config.myid, format, file });
      const missing = missingServerNodeFlags();
      if (missing.length > 0) {
        logger.info({ missing }, 'node was started without the flags bin/zk-server.js and bin/zkServer.sh start the server with: more full GCs while the heap is small (docs/operations.md, "The node process")');
      }
      try {
        await startServerProcess(config, logger);
      } catch (e) {
        logger.error({ err: String(e) }, 'failed to start');
        process.exit(1);
      }
    });
  program
    .command('start [cfg]')
    .description('start the server in the background; returns once it serves')
    .action(async (cfg?: string) => process.exit(await cmdStart(cfg)));
  program
    .command('stop [cfg]')
    .description('stop the server started with `start` and wait for it to exit')
    .action(async (cfg?: string) => process.exit(await cmdStop(cfg)));
  program
    .command('restart [cfg]')
    .description('stop, then start')
    .action(async (cfg?: string) => {
      await cmdStop(cfg);
      process.exit(await cmdStart(cfg));
    });
  program
    .command('status [cfg]')
    .description('print the Mode of the server (standalone, leader, follower, observer)')
    .action(async (cfg?: string) => process.exit(await cmdStatus(cfg)));
  program
    .command('print-cmd [cfg]')
    .description('print the command that `start` runs')
    .action((cfg?: string) => {
      const file = resolveConfigPath(cfg, CONF_DIR);
      const flags = SERVER_NODE_FLAGS.map((f) => `"${f}" `).join('');
      process.stdout.write(`"${process.execPath}" ${flags}"${path.join(PROJECT_DIR, 'bin', 'zk-server.js')}" start-foreground "${file}"\n`);
    });
  program
    .command('cluster [action] [cfg...]')
    .description("run the tutorial's three-node pseudo-cluster (conf/zoo_2181.cfg .. zoo_2183.cfg) until Ctrl-C; `cluster status [cfg...]` prints a table of its peers (or of the servers the given configs describe)")
    .option('--restart', 'start a peer again when it exits')
    .option('--log-format <format>', 'the peers\' log format: text or json (default: text on a terminal, json otherwise)')
    .action(async (action: string | undefined, cfgs: string[], opts: { restart?: boolean; logFormat?: string }) => {
      if (action === 'status') process.exit(await cmdClusterStatus(cfgs));
      if (action !== undefined) {
        process.stderr.write(`zk-server cluster: unknown action "${action}" (expected nothing, to run the pseudo-cluster, or status)\n`);
        process.exit(2);
      }
      const format = logFormatOrExit(opts.logFormat);
      process.exit(await cmdCluster({ restart: opts.restart === true, format }));
    })
  program
    .command('cleanup [cfg]')
    .description('delete old snapshots and txn logs, keeping the newest COUNT snapshots (zkCleanup.sh)')
    .option('-n, --count <count>', 'snapshots to keep (at least 3)', '3')
    .action((cfg: string | undefined, opts: { count: string }) => {
      const { config } = configOrExit(cfg);
      const n = Number(opts.count);
      if (!Number.isInteger(n) || n < 3) {
        process.stderr.write('count should be greater than or equal to 3\n');
        process.exit(2);
      }
      const removed = purge(config.dataDir, config.dataLogDir, n);
      for (const f of removed) process.stdout.write(`Removing file: ${new Date().toString()}\t${f}\n`);
      process.exit(0);
    });
  program
    .command('truncate-log <zxid> [cfg]')
    .description('cut the txn log after ZXID (hex 0x.. or decimal) and drop later snapshots, as a TRUNC does; for a log a CRC error names')
    .action((zxidText: string, cfg: string | undefined) => {
      const { config } = configOrExit(cfg);
      const zxid = /^0x[0-9a-f]+$/i.test(zxidText) ? parseInt(zxidText.slice(2), 16) : /^\d+$/.test(zxidText) ? Number(zxidText) : NaN;
      if (!Number.isSafeInteger(zxid) || zxid < 0) {
        process.stderr.write(`truncate-log: ${zxidText} is not a zxid (0x... or a decimal number)\n`);
        process.exit(2);
      }
      try {
        const cut = truncateDataDir(config.dataDir, config.dataLogDir, zxid);
        process.stdout.write(cut ? `Truncated the txn log after zxid 0x${zxid.toString(16)}\n` : `The txn log holds no zxid 0x${zxid.toString(16)}; nothing cut\n`);
        process.exit(cut ? 0 : 1);
      } catch (e) {
        process.stderr.write(`truncate-log: ${(e as Error).message}\n`);
        process.exit(1);
      }
    });
  program
    .command('reconfig-preview [cfg]')
    .description('print the membership and the dynamic config file a reconfig would produce from this zoo.cfg (nothing is changed)')
    .option('--add <servers>', 'servers joining or changing role: "server.4=host:2888:3888:participant;host:2181,server.5=…"')
    .option('--remove <ids>', 'server ids leaving: "3,5"')
    .option('--members <servers>', 'the whole new list of server lines (comma or newline separated)')
    .action((cfg: string | undefined, opts: { add?: string; remove?: string; members?: string }) => {
      const { config } = configOrExit(cfg);
      if (!opts.add && !opts.remove && !opts.members) {
        process.stderr.write('reconfig-preview: give --add, --remove or --members\n');
        process.exit(2);
      }
      const from = membershipOf(config);
      try {
        const next = nextMembership(from, { joining: opts.add ?? null, leaving: opts.remove ?? null, newMembers: opts.members ?? null }, from.version, config.standaloneEnabled);
        const before = new Map([...from.servers].map(([id, sv]) => [id, sv.type]));
        for (const [id, sv] of [...next.servers].sort((a, b) => a[0] - b[0])) {
          const was = before.get(id);
          if (was === undefined) process.stdout.write(`# server.${id} joins as ${sv.type}\n`);
          else if (was !== sv.type) process.stdout.write(`# server.${id} becomes ${sv.type === 'observer' ? 'an observer' : 'a participant'}\n`);
        }
        for (const id of before.keys()) if (!next.servers.has(id)) process.stdout.write(`# server.${id} leaves\n`);
        process.stdout.write(`# ${config.file}.dynamic.<zxid of the reconfig>, as the peers will write it:\n${dynamicFileContent(textOf(next))}\n`);
        process.exit(0);
      } catch (e) {
        if (!(e instanceof MembershipError)) throw e;
        process.stderr.write(`reconfig would be refused (BADARGUMENTS): ${e.message}\n`);
        process.exit(1);
      }
    });
  program
    .command('cli')
    .description('a ZooKeeper shell like zkCli.sh: cli [-server host:port,...] [-timeout ms] [-r] [-waitforconnection] [cmd args...]')
    .helpOption(false)
    .allowUnknownOption()
    .argument('[args...]');
  program
    .command('version')
    .description('print the version')
    .action(() => {
      process.stdout.write(`zk-server ${PACKAGE_VERSION} (Apache ZooKeeper ${VERSION_STRING})\n`);
    });
  await program.parseAsync(argv);
}
