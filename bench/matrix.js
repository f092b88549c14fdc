#!/usr/bin/env node
// Side-by-side benchmark matrix: a zk-server ensemble against an Apache ZooKeeper 3.8 ensemble
// (Debian package) started with the same zoo.cfg, driven by the same load generator
// (bench/ZkLoad.java, the ZooKeeper Java client's async API, compiled here with javac).
// Only one system runs at a time; runs are interleaved A B A B (ZooKeeper, zk-server) per round
// and ensemble size; the report holds medians over rounds and the ratios zk-server / ZooKeeper.
//
//   node bench/matrix.js [--rounds 5] [--duration 5] [--warmup 5] [--sessions 6] [--nodes 1,3]
//                        [--quick] [--cells get:16,set:256,...] [--dir DATA_PARENT]
//                        [--out docs/benchmarks.md] [--systems zookeeper,zk-server] [--aa|--no-aa]
//                        [--tls-nodes 1] [--tls-cells get:16,set:256] [--no-tls] [--tls]
//
// Every run first measures this machine's floor (fdatasync of a 4 KB append in the data directory,
// the loopback round trip), reports the servers' CPU seconds per 100,000 operations (from
// /proc/PID/stat, all peers summed) and, with --aa (the default unless --quick), runs ZooKeeper
// twice per round so the report gives the A/A noise band beside each ratio.
// After the plaintext sizes, a TLS group: clients connect to each node's secureClientPort (TLS,
// client certificates, x509 auth; ZooKeeper with its Netty factory, as its TLS needs) on the
// --tls-nodes sizes with the --tls-cells; certificates made at run time with openssl and keytool.
// --no-tls leaves it out; --tls runs the whole matrix over TLS only, reported to
// docs/benchmarks-tls.md unless --out says otherwise.
//
// --quick: 6 cells, 1 round, 2 s measured after 0.5 s warm-up, no A/A run (each flag overrides).
//
// Ports: ZooKeeper on 22000+, zk-server on 22100+, the A/A ZooKeeper on 22200+ (node i: client
// BASE+i, quorum BASE+10+i, election BASE+20+i, TLS client BASE+30+i), all on 127.0.0.1;
// BENCH_PORT_BASE moves them all (zk-server at +100, A/A at +200).
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { sleep, track, killAll, usage, zkServerNodeFlags, zkServerArgv } = require('./standalone-util.js');

const ROOT = path.join(__dirname, '..');
const JAVA_DIR = '/usr/share/java';
const CLIENT_JARS = ['zookeeper', 'zookeeper-jute', 'slf4j-api', 'netty-handler', 'netty-transport', 'netty-common', 'netty-buffer', 'netty-resolver', 'netty-codec', 'netty-transport-native-epoll', 'netty-transport-native-unix-common'];
const SERVER_EXTRA_JARS = ['commons-cli', 'snappy-java', 'metrics-core', 'jetty-server', 'jetty-servlet', 'jetty-util', 'jetty-http', 'jetty-io', 'jetty-security', 'javax.servlet-api', 'jackson-databind', 'jackson-core', 'jackson-annotations'];

// ---------- options ----------
const argv = process.argv.slice(2);
function opt(name, dflt) {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) die(`${name} needs a value`);
  return v;
}
function die(msg) {
  console.error(`bench/matrix: ${msg}`);
  process.exit(1);
}
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(usage(__filename));
  process.exit(0);
}
const QUICK = argv.includes('--quick');
const FULL_CELLS = ['get:1', 'get:16', 'get:256', 'set:1', 'set:16', 'set:256', 'mixed:16', 'watch', 'churn', 'create:1', 'create:16', 'create:256'];
// creates come last: they leave the most znodes behind in the ensemble for the cells after them
const QUICK_CELLS = ['get:16', 'set:256', 'mixed:16', 'watch', 'churn', 'create:256'];
const ROUNDS = Number(opt('--rounds', QUICK ? 1 : 5));
const DURATION = Number(opt('--duration', QUICK ? 2 : 5));
// a JVM needs seconds of load before its JIT has compiled the hot paths: 5 s per cell by default
const WARMUP = Number(opt('--warmup', QUICK ? 0.5 : 5));
const SESSIONS = Number(opt('--sessions', 6));
const NODES = opt('--nodes', '1,3').split(',').map(Number);
const CELLS = opt('--cells', (QUICK ? QUICK_CELLS : FULL_CELLS).join(',')).split(',');
const TLS_ONLY = argv.includes('--tls');
const TLS_NODES = argv.includes('--no-tls') || TLS_ONLY ? [] : opt('--tls-nodes', '1').split(',').map(Number);
const TLS_CELLS = opt('--tls-cells', 'get:16,set:256').split(',');
/** what runs, in order: each ensemble size in plaintext (or over TLS with --tls), then the TLS group */
const GROUPS = [
  ...NODES.map((n) => ({ n, tls: TLS_ONLY, cells: CELLS, key: TLS_ONLY ? `${n} TLS` : String(n) })),
  ...TLS_NODES.map((n) => ({ n, tls: true, cells: TLS_CELLS, key: `${n} TLS` })),
];
const OUT = path.resolve(opt('--out', path.join(ROOT, 'docs', TLS_ONLY ? 'benchmarks-tls.md' : 'benchmarks.md')));
/** the PKI of the TLS groups (made in the work directory) */
let PKI = null;
const DATA_PARENT = path.resolve(opt('--dir', os.tmpdir()));
// --aa: ZooKeeper runs a second time in each round as its own ensemble ('zookeeper-aa'); the
// spread of its ratios to the first run is the noise band a zk-server ratio must leave to count
const AA = argv.includes('--aa') || (!QUICK && !argv.includes('--no-aa'));
const SYSTEMS = opt('--systems', 'zookeeper,zk-server').split(',').concat(AA ? ['zookeeper-aa'] : []);
const PORT_BASE = Number(process.env.BENCH_PORT_BASE ?? 22000);
const BASES = { zookeeper: PORT_BASE, 'zk-server': PORT_BASE + 100, 'zookeeper-aa': PORT_BASE + 200 };
for (const [k, v] of Object.entries({ '--rounds': ROUNDS, '--duration': DURATION, '--sessions': SESSIONS })) {
  if (!(v > 0)) die(`${k} must be a positive number`);
}
if (!(WARMUP >= 0)) die('--warmup must be ≥ 0');
for (const n of [...NODES, ...TLS_NODES]) if (!(n >= 1 && n <= 9)) die('--nodes and --tls-nodes take sizes from 1 to 9');
for (const s of SYSTEMS) if (!BASES[s]) die(`unknown system ${s} (zookeeper, zk-server)`);
for (const c of [...CELLS, ...TLS_CELLS]) if (!/^(create|set|get|mixed):\d+$|^(watch|churn)$/.test(c)) die(`bad cell ${c}: create|set|get|mixed:N, watch or churn`);

// ---------- prerequisites ----------
function onPath(cmd) {
  return (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, cmd)));
}
const missing = [];
for (const j of ['zookeeper', 'zookeeper-jute', 'slf4j-api', 'slf4j-simple', 'netty-handler']) {
  if (!fs.existsSync(`${JAVA_DIR}/${j}.jar`)) missing.push(`${JAVA_DIR}/${j}.jar (Debian package libzookeeper-java)`);
}
if (!onPath('java') || !onPath('javac')) missing.push('java and javac (Debian package default-jdk-headless)');
if (missing.length) {
  die(`Apache ZooKeeper 3.8 and a JDK from Debian are needed, missing:\n  ${missing.join('\n  ')}\nInstall them with: sudo bash scripts/install-test-deps.sh`);
}
if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) die('zk-server is not built: run `npm run build` first');
let CLK_TCK = 100;
try {
  CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* Linux's usual value */
}
const jars = (names) => names.map((j) => `${JAVA_DIR}/${j}.jar`).filter((j) => fs.existsSync(j));
const CLIENT_CP = jars([...CLIENT_JARS, 'slf4j-nop']).join(':');
// the server logs through slf4j-simple at WARN on stderr (zk-server likewise at warn): equal footing
const SERVER_CP = jars([...CLIENT_JARS, ...SERVER_EXTRA_JARS, 'slf4j-simple']).join(':');

// ---------- helpers ----------
let workDir = null; // removed on the way out, whatever the way
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  });
}
process.on('exit', killAll);

function ask(port, word, ms = 2000) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(word));
    let out = '';
    const t = setTimeout(() => s.destroy(), ms);
    s.on('data', (d) => (out += d));
    s.on('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.on('error', () => resolve(''));
  });
}

function cfgText(dataDir, base, i, n, tls) {
  const lines = [
    'tickTime=2000',
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${dataDir}`,
    `clientPort=${base + i}`,
    'clientPortAddress=127.0.0.1',
    'maxClientCnxns=0',
    'forceSync=yes',
    'admin.enableServer=false',
    '4lw.commands.whitelist=*',
  ];
  if (n > 1) for (let k = 0; k < n; k++) lines.push(`server.${k + 1}=127.0.0.1:${base + 10 + k}:${base + 20 + k}`);
  if (tls) {
    lines.push(
      `secureClientPort=${base + 30 + i}`,
      'secureClientPortAddress=127.0.0.1',
      'authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider',
      `ssl.keyStore.location=${path.join(PKI, 'server.p12')}`,
      'ssl.keyStore.password=serverpw',
      `ssl.trustStore.location=${path.join(PKI, 'trust.p12')}`,
      'ssl.trustStore.password=trustpw',
    );
  }
  return lines.join('\n') + '\n';
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, in PKCS12 stores. */
function makePki(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const run = (cmd, args) => execFileSync(cmd, args, { cwd: dir, stdio: 'ignore' });
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=bench CA']);
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const [name, subj, ext] of [['server', '/CN=localhost', true], ['client', '/CN=bench-client', false]]) {
    run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
    run('openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...(ext ? ['-extfile', 'san.ext'] : [])]);
    run('openssl', ['pkcs12', '-export', '-in', `${name}.crt`, '-inkey', `${name}.key`, '-certfile', 'ca.crt', '-out', `${name}.p12`, '-passout', `pass:${name}pw`]);
  }
  run('keytool', ['-importcert', '-noprompt', '-alias', 'ca', '-file', 'ca.crt', '-keystore', 'trust.p12', '-storetype', 'PKCS12', '-storepass', 'trustpw']);
  return dir;
}

/** The load generator's JVM flags for TLS connections. */
function clientTlsFlags(tls) {
  if (!tls) return [];
  return [
    '-Dzookeeper.client.secure=true',
    '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    `-Dzookeeper.ssl.keyStore.location=${path.join(PKI, 'client.p12')}`,
    '-Dzookeeper.ssl.keyStore.password=clientpw',
    `-Dzookeeper.ssl.trustStore.location=${path.join(PKI, 'trust.p12')}`,
    '-Dzookeeper.ssl.trustStore.password=trustpw',
  ];
}

function startNode(system, dir, base, i, n, tls) {
  const dataDir = path.join(dir, `node${i + 1}`, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  if (n > 1) fs.writeFileSync(path.join(dataDir, 'myid'), `${i + 1}\n`);
  const cfg = path.join(dir, `node${i + 1}`, 'zoo.cfg');
  fs.writeFileSync(cfg, cfgText(dataDir, base, i, n, tls));
  const log = fs.openSync(path.join(dir, `node${i + 1}`, 'server.log'), 'w');
  let proc;
  if (system.startsWith('zookeeper')) {
    proc = spawn(
      'java',
      [
        '-Xmx1000m',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-Dorg.slf4j.simpleLogger.showDateTime=true',
        // ZooKeeper serves TLS clients only with its Netty connection factory
        ...(tls ? ['-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory'] : []),
        '-cp',
        SERVER_CP,
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        cfg,
      ],
      { stdio: ['ignore', log, log] },
    );
  } else {
    // BENCH_NODE_ARGS: extra node flags for zk-server (profiling by hand: --trace-gc, --cpu-prof ...)
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    proc = spawn(process.execPath, zkServerArgv(cfg, nodeArgs), {
      stdio: ['ignore', log, log],
      env: { ...process.env, ZK_LOG_LEVEL: 'warn' },
    });
  }
  fs.closeSync(log);
  return { proc: track(proc), port: base + i, securePort: base + 30 + i, log: path.join(dir, `node${i + 1}`, 'server.log') };
}

async function startEnsemble(system, n, dir, tls) {
  const base = BASES[system];
  // a server already answering on one of our ports (another bench run, say) would be measured in
  // place of ours: refuse rather than report someone else's ensemble
  for (let i = 0; i < n; i++) {
    if (await ask(base + i, 'ruok', 500)) throw new Error(`port ${base + i} already answers (another bench run?): set BENCH_PORT_BASE to a free range`);
  }
  const nodes = [];
  for (let i = 0; i < n; i++) nodes.push(startNode(system, dir, base, i, n, tls));
  const deadline = Date.now() + 60000;
  const modes = [];
  for (const node of nodes) {
    for (;;) {
      if (node.proc.exitCode !== null || node.proc.signalCode !== null) {
        throw new Error(`${system} node on port ${node.port} exited (${node.proc.exitCode ?? node.proc.signalCode}); log ${node.log}:\n${tail(node.log)}`);
      }
      const m = /Mode: (\w+)/.exec(await ask(node.port, 'srvr'));
      if (m) {
        modes.push(m[1]);
        break;
      }
      if (Date.now() > deadline) throw new Error(`${system} node on port ${node.port} does not serve after 60 s; log ${node.log}:\n${tail(node.log)}`);
      await sleep(100);
    }
  }
  return { nodes, modes, tls, connect: nodes.map((x) => `127.0.0.1:${tls ? x.securePort : x.port}`).join(',') };
}

async function stopEnsemble(ens) {
  await Promise.all(
    ens.nodes.map(async ({ proc }) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    }),
  );
}

function tail(file, lines = 20) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// lines at ERROR level or worse from a node's log: zk-server logs pino JSON lines (level ≥ 50), so
// any other line there (an uncaught exception's stack, say) counts too; ZooKeeper logs through
// slf4j-simple ("date [thread] LEVEL class - msg").
function problemLines(file, system) {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let bad;
    if (system === 'zk-server') {
      try {
        bad = Number(JSON.parse(line).level) >= 50;
      } catch {
        bad = true;
      }
    } else {
      bad = /\] (ERROR|FATAL) /.test(line);
    }
    if (bad) out.push(line.length > 400 ? line.slice(0, 400) + '…' : line);
  }
  return out;
}

function compileLoad(tmp) {
  const classes = path.join(tmp, 'classes');
  fs.mkdirSync(classes, { recursive: true });
  execFileSync('javac', ['-nowarn', '-encoding', 'UTF-8', '-cp', CLIENT_CP, '-d', classes, path.join(__dirname, 'ZkLoad.java')], { stdio: ['ignore', 'inherit', 'inherit'] });
  return classes;
}

function runLoad(classes, connect, cells, logFile, tls, pids) {
  return new Promise((resolve, reject) => {
    const args = ['-Xmx1500m', ...clientTlsFlags(tls), '-cp', `${classes}:${CLIENT_CP}`, 'ZkLoad', '--connect', connect, '--cells', cells.join(','), '--sessions', String(SESSIONS), '--duration', String(DURATION), '--warmup', String(WARMUP), '--server-pids', pids.join(','), '--clk-tck', String(CLK_TCK)];
    const p = track(spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    const log = fs.createWriteStream(logFile);
    p.stdout.on('data', (d) => {
      out += d;
      log.write(d);
    });
    p.stderr.on('data', (d) => log.write(d));
    const limit = setTimeout(() => p.kill('SIGKILL'), (cells.length * (DURATION + WARMUP + 60) + 60) * 1000);
    p.on('error', reject);
    p.on('exit', (code, sig) => {
      clearTimeout(limit);
      log.end();
      const rows = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      if (rows.length === 0) reject(new Error(`load generator exited ${code ?? sig} without results; see ${logFile}:\n${tail(logFile)}`));
      else resolve(rows);
    });
  });
}

function machine(dir) {
  let fsType = '?';
  try {
    const df = execFileSync('df', ['-T', dir], { encoding: 'utf8' }).trim().split('\n').pop().split(/\s+/);
    fsType = `${df[1]} (${df[0]}, mounted on ${df[6]})`;
  } catch {
    /* no df */
  }
  let cpu = os.cpus()[0]?.model ?? '?';
  let nproc = os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    /* keep os.cpus */
  }
  let zkVersion = '3.8';
  try {
    const real = fs.realpathSync(`${JAVA_DIR}/zookeeper.jar`);
    zkVersion = /zookeeper-([\d.]+)\.jar/.exec(real)?.[1] ?? zkVersion;
  } catch {
    /* keep */
  }
  return { nproc, cpu, ramGiB: (os.totalmem() / 2 ** 30).toFixed(1), fsType, kernel: os.release(), node: process.version, java: javaVersion(), zkVersion };
}

function javaVersion() {
  try {
    const r = require('node:child_process').spawnSync('java', ['-version'], { encoding: 'utf8' });
    return /version "([^"]+)"/.exec(r.stderr)?.[1] ?? '?';
  } catch {
    return '?';
  }
}

// ---------- the floor ----------
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** fdatasync latency (µs) of a 4 KB append in `dir`: what one durable write costs at least. */
function fsyncFloor(dir, samples = 300) {
  const file = path.join(dir, 'floor.bin');
  const fd = fs.openSync(file, 'a');
  const block = Buffer.alloc(4096, 7);
  const us = [];
  try {
    for (let i = 0; i < samples; i++) {
      const t = process.hrtime.bigint();
      fs.writeSync(fd, block);
      fs.fdatasyncSync(fd);
      us.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  return { p50: pct(us, 0.5), p99: pct(us, 0.99) };
}

/** Loopback TCP round trip (µs): 8 bytes there and back, one at a time, after a warm-up. */
function rttFloor(samples = 3000) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((c) => {
      c.setNoDelay(true);
      c.on('data', (d) => c.write(d));
    });
    server.listen(0, '127.0.0.1', () => {
      const c = net.connect(server.address().port, '127.0.0.1');
      c.setNoDelay(true);
      const us = [];
      let t = 0n;
      let n = 0;
      const ping = () => {
        t = process.hrtime.bigint();
        c.write(Buffer.alloc(8));
      };
      c.on('data', () => {
        if (n++ >= 200) us.push(Number(process.hrtime.bigint() - t) / 1000); // the first 200 warm up
        if (us.length < samples) return ping();
        c.destroy();
        server.close();
        resolve({ p50: pct(us, 0.5), p99: pct(us, 0.99) });
      });
      c.on('connect', ping);
      c.on('error', reject);
    });
  });
}

/**
 * Round trips on the critical path of one durable write with one request in flight. 1 node: the
 * client's. 3 nodes: most sessions (4 of 6) are on followers: client → follower, forwarded to the
 * leader, PROPOSAL and ACK, COMMIT back to the follower, reply: 3 round trips; a session on the
 * leader needs 2. The fsyncs of leader and followers overlap: one counts.
 */
const floorTrips = (n) => (n === 1 ? 1 : 3);

// ---------- report ----------
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const fmtR = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const cellLabel = (c) => {
  const [w, o] = c.split(':');
  if (w === 'watch') return 'watch notify';
  if (w === 'churn') return 'ephemeral churn';
  if (w === 'mixed') return 'mixed 90/10 get/set';
  return w === 'set' ? 'setData' : w === 'get' ? 'getData' : 'create';
};
/** '3' → '3 nodes', '1 TLS' → '1 node over TLS' */
const groupLabel = (key) => {
  const [n, t] = key.split(' ');
  return `${n} node${n === '1' ? '' : 's'}${t ? ' over TLS' : ''}`;
};
const shape = (c, r) => {
  if (!r) return '';
  const [w] = c.split(':');
  if (w === 'watch') return `${r.sessions} watchers × ${r.outstanding} znodes`;
  if (w === 'churn') return `${r.sessions} loops`;
  return `${r.sessions}×${r.outstanding}`;
};

function summarize(results) {
  // results[nodes][cell][system] = array of per-round rows
  const s = {};
  for (const n of Object.keys(results)) {
    for (const c of Object.keys(results[n])) {
      const per = {};
      for (const sys of SYSTEMS) {
        const rows = results[n][c][sys] ?? [];
        const clean = rows.filter((r) => !r.failed && r.errors === 0);
        per[sys] = {
          rows,
          clean,
          errors: rows.reduce((a, r) => a + (r.failed ? 1 : r.errors), 0),
          ops: median(clean.map((r) => r.ops_per_sec)),
          p50: median(clean.map((r) => r.p50_us)),
          p99: median(clean.map((r) => r.p99_us)),
          p999: median(clean.map((r) => r.p999_us)),
          cpu: median(clean.map((r) => r.client_cpu_pct)),
          // the servers' CPU seconds (all peers) per 100,000 operations of the cell's headline op
          scpu: median(clean.map((r) => (Number.isFinite(r.server_cpu_s) && r.ops_per_sec > 0 ? (r.server_cpu_s / (r.ops_per_sec * r.window_s)) * 1e5 : NaN))),
          min: Math.min(...clean.map((r) => r.ops_per_sec)),
          max: Math.max(...clean.map((r) => r.ops_per_sec)),
        };
      }
      (s[n] ??= {})[c] = per;
    }
  }
  return s;
}

function ratio(per, key) {
  const a = per.zookeeper?.[key];
  const b = per['zk-server']?.[key];
  return Number.isFinite(a) && Number.isFinite(b) && a > 0 ? b / a : NaN;
}

/** ops/s of `sys` over ZooKeeper's, round by round (rounds where either had errors left out) */
function pairedRatios(per, sys = 'zk-server') {
  const a = per.zookeeper?.rows ?? [];
  const b = per[sys]?.rows ?? [];
  const rs = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i].failed || b[i].failed || a[i].errors || b[i].errors) continue;
    rs.push(b[i].ops_per_sec / a[i].ops_per_sec);
  }
  return rs;
}

/** [round number (1-based), ops ratio] of `sys` over ZooKeeper, for the rounds where both ran clean */
function pairedByRound(per, sys = 'zk-server') {
  const a = per.zookeeper?.rows ?? [];
  const b = per[sys]?.rows ?? [];
  const rs = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i].failed || b[i].failed || a[i].errors || b[i].errors) continue;
    rs.push([i + 1, b[i].ops_per_sec / a[i].ops_per_sec]);
  }
  return rs;
}

function pairedRange(per, sys = 'zk-server') {
  const rs = pairedRatios(per, sys);
  return rs.length ? `${fmtR(Math.min(...rs))}–${fmtR(Math.max(...rs))}` : '–';
}

/** zk-server's ops ratio against the A/A band: 'level' inside it, else faster or slower */
function verdictVsNoise(per) {
  const band = pairedRatios(per, 'zookeeper-aa');
  const r = ratio(per, 'ops');
  if (!band.length || !Number.isFinite(r)) return '–';
  const lo = Math.min(...band, 1);
  const hi = Math.max(...band, 1);
  return r > hi ? 'faster' : r < lo ? 'slower' : 'level';
}

function goals(S) {
  const out = [];
  const three = S['3'];
  const verdict = (ok) => (ok === null ? 'not measured' : ok ? '**met**' : '**not met**');
  if (three) {
    const w = ['set:256', 'create:256'].filter((c) => three[c]);
    const rs = w.map((c) => [c, ratio(three[c], 'ops')]);
    const ok = rs.length ? rs.every(([, r]) => r >= 1.5) : null;
    out.push(`- Writes on 3 nodes at 256 outstanding ≥ 1.5× ZooKeeper's ops/s: ${verdict(ok)} (${rs.map(([c, r]) => `${cellLabel(c)} ${fmtR(r)}×`).join(', ') || 'no such cells'}).`);
    const g = ['get:1', 'get:16', 'get:256'].filter((c) => three[c]);
    const gr = g.map((c) => [c, ratio(three[c], 'ops'), ratio(three[c], 'p99')]);
    const gok = gr.length ? gr.every(([, r, p]) => r >= 1.2 && p <= 1) : null;
    out.push(
      `- Reads on 3 nodes ≥ 1.2× ZooKeeper's ops/s with p99 ≤ ZooKeeper's at every concurrency: ${verdict(gok)} (${gr.map(([c, r, p]) => `${c.split(':')[1]} outstanding: ops ${fmtR(r)}×, p99 ${fmtR(p)}×`).join('; ') || 'no such cells'}).`,
    );
  }
  const wr = Object.keys(S)
    .filter((n) => S[n].watch)
    .map((n) => [n, ratio(S[n].watch, 'p99')]);
  const wok = wr.length ? wr.every(([, p]) => p <= 1) : null;
  out.push(`- Watch notification p99 ≤ ZooKeeper's: ${verdict(wok)} (${wr.map(([n, p]) => `${groupLabel(n)}: p99 ${fmtR(p)}×`).join(', ') || 'not measured'}).`);
  const tl = Object.keys(S).filter((k) => k.endsWith(' TLS'));
  if (tl.length) {
    const rows = tl.flatMap((k) => Object.keys(S[k]).map((c) => `${groupLabel(k)} ${cellLabel(c)} ${shape(c, anyRow(S[k][c]))}: ops ${fmtR(ratio(S[k][c], 'ops'))}×, p99 ${fmtR(ratio(S[k][c], 'p99'))}×`));
    out.push(`- Over TLS (ZooKeeper's Netty TLS against ours): ${rows.join('; ')}.`);
  }
  return out.join('\n');
}

/** a row of either system that ran, to show the cell's shape */
function anyRow(per) {
  return (per.zookeeper?.rows ?? []).concat(per['zk-server']?.rows ?? []).find((r) => !r.failed);
}

function floorSection(S, floor) {
  if (!floor) return '';
  let md = `## The floor\n\nMeasured at the start of this run: fdatasync of a 4 KB append in the data directory p50 ${fmt(floor.fsync.p50)} µs (p99 ${fmt(floor.fsync.p99)} µs); loopback TCP round trip p50 ${fmt(floor.rtt.p50)} µs (p99 ${fmt(floor.rtt.p99)} µs). A durable write with one request in flight cannot return before its round trips and one fsync: 1 node, 1 round trip (client ↔ server); 3 nodes, 3 round trips, i.e. 6 one-way hops for a session on a follower: client → follower, follower → leader (the forwarded request), leader → follower PROPOSAL, follower → leader ACK (after the follower's fsync), leader → follower COMMIT, follower → client reply. Sessions are spread evenly, session k on node k mod N, so with 3 nodes 2 of every 3 sessions sit on a follower and the p50 is a follower session's; a session on the leader needs 2 round trips (client → leader, PROPOSAL, ACK, reply). The leader's own fsync runs alongside the follower's, so one fsync counts; the loopback round trip is the one measured here (p50), with no per-hop processing. How far each system's p50 sits above that floor:\n\n`;
  md += '| nodes | workload | N×M | floor µs | ZK p50 µs | above floor | zk-server p50 µs | above floor | ratio of the distances |\n|---|---|---|--:|--:|--:|--:|--:|--:|\n';
  let any = false;
  for (const n of Object.keys(S)) {
    if (n.includes('TLS')) continue;
    for (const c of ['set:1', 'create:1']) {
      const per = S[n][c];
      if (!per) continue;
      any = true;
      const f = floorTrips(Number(n)) * floor.rtt.p50 + floor.fsync.p50;
      const z = per.zookeeper?.p50;
      const k = per['zk-server']?.p50;
      const dz = z - f;
      const dk = k - f;
      md += `| ${n} | ${cellLabel(c)} | ${shape(c, (per.zookeeper?.rows ?? []).find((r) => !r.failed))} | ${fmt(f)} | ${fmt(z)} | ${fmt(dz)} | ${fmt(k)} | ${fmt(dk)} | ${dz > 0 ? fmtR(dk / dz) : '–'} |\n`;
    }
  }
  return any ? md + '\n' : md + '(no durable write cell with 1 request in flight in this run)\n\n';
}

function cpuSection(S) {
  let md = `## CPU per operation\n\nThe servers' CPU seconds (user + system, every peer of the ensemble summed, from /proc/PID/stat over the measured window) per 100,000 operations of the cell (notifications for watch, sessions for churn); median over the clean rounds. The client's CPU is not in it. Ratio < 1: zk-server uses less.\n\n`;
  md += '| nodes | workload | N×M | ZooKeeper CPU s / 100k ops | zk-server CPU s / 100k ops | ratio |\n|---|---|---|--:|--:|--:|\n';
  const kinds = { reads: [], writes: [] };
  for (const n of Object.keys(S)) {
    for (const c of Object.keys(S[n])) {
      const per = S[n][c];
      const r = ratio(per, 'scpu');
      const any = (per.zookeeper?.rows ?? []).find((x) => !x.failed);
      md += `| ${n} | ${cellLabel(c)} | ${shape(c, any)} | ${fmtR(per.zookeeper?.scpu)} | ${fmtR(per['zk-server']?.scpu)} | ${fmtR(r)} |\n`;
      if (Number.isFinite(r) && !n.includes('TLS')) {
        if (c.startsWith('get:')) kinds.reads.push(r);
        else if (/^(set|create):/.test(c)) kinds.writes.push(r);
      }
    }
  }
  const sum = (xs) => (xs.length ? `median ${fmtR(median(xs))}× (${fmtR(Math.min(...xs))}–${fmtR(Math.max(...xs))}) over ${xs.length} cells` : 'not measured');
  md += `\nReads (getData cells): ${sum(kinds.reads)}; writes (setData and create cells): ${sum(kinds.writes)}.\n\n`;
  return md;
}

function report(results, meta) {
  const S = summarize(results);
  const m = meta.machine;
  let md = `# Benchmarks${TLS_ONLY ? ' over TLS' : ''}: zk-server against Apache ZooKeeper ${m.zkVersion}\n\n`;
  md += `Generated by \`bench/matrix.js\`; numbers from one run on one shared machine. Only the ratios, measured in the same run and interleaved, compare; absolute figures drift between runs.\n\n`;
  md += `- date: ${meta.started} – ${meta.finished} (${Math.round(meta.seconds / 60)} min)\n`;
  md += `- machine: ${m.nproc} CPUs (nproc), ${m.cpu}, ${m.ramGiB} GiB RAM, Linux ${m.kernel}; dataDir on ${m.fsType}; Node ${m.node}, Java ${m.java}\n`;
  md += `- command: \`${meta.command}\`\n`;
  md += `- both systems get the same zoo.cfg per node: tickTime=2000, initLimit=10, syncLimit=5, forceSync=yes, snapCount and preAllocSize default, maxClientCnxns=0, admin.enableServer=false, all on 127.0.0.1; servers log at WARN. ZooKeeper: \`java -Xmx1000m … org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg\` (Debian jars); zk-server: \`node ${zkServerNodeFlags().join(' ')} bin/zk-server.js start-foreground zoo.cfg\` (the flags bin/zk-server.js and bin/zkServer.sh start it with). A fresh dataDir per ensemble start.\n`;
  md += `- ${meta.rounds} round(s); each round runs, per ensemble size, the whole matrix on ZooKeeper, then on zk-server${AA ? ', then on ZooKeeper again as a separate ensemble (the A/A run)' : ''} (A B A B), one system up at a time. After each ensemble start a mixed 90/10 run at 6×16 warms up the servers' and the client's JITs and is not reported; then each cell runs ${meta.warmup} s warm-up + ${meta.duration} s measured, in the order of the tables (creates last, as they leave the most znodes behind; nothing is deleted between cells).\n`;
  md += `- load: \`bench/ZkLoad.java\` (Apache ZooKeeper Java client ${m.zkVersion}, async API, compiled at run time); ${meta.sessions} sessions, session k on server k mod N; data 100 bytes; set/get/mixed on a pool of 1,000 znodes. N×M = sessions × requests kept in flight per session. Watch: one writer session sets 8 znodes, each of the ${meta.sessions} sessions watches all 8 (getData watch, re-armed on each event); latency = from the setData call to the watcher's NodeDataChanged event; ops/s = notifications/s; a znode is set again once all watchers re-armed. Churn: 4 loops each open a session (Netty client), create 2 ephemerals, close; latency = one whole session; ops/s = sessions/s.\n`;
  const tlsScope = TLS_ONLY ? 'every client' : `in the groups marked TLS (${TLS_NODES.map((n) => groupLabel(`${n} TLS`)).join(', ')}: ${TLS_CELLS.map((c) => c.replace(':', ' ')).join(', ')}), every client`;
  if (TLS_ONLY || TLS_NODES.length) md += `- **TLS**: ${tlsScope} connects to its node's secureClientPort over TLS (ssl.protocol TLSv1.2, the JDK's default suites), with a client certificate (ssl.clientAuth=need, x509 auth); PKCS12 stores made at run time. ZooKeeper runs with \`-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\` (its TLS needs the Netty factory); the load generator uses the Netty client socket with \`zookeeper.client.secure=true\`.\n`;
  md += `- values: medians over the rounds with 0 errors; latencies in µs from the async call to its callback. **Ratios are zk-server / ZooKeeper: ops/s > 1 means zk-server is faster, latency < 1 means zk-server is faster.**\n\n`;
  md += `## Goals\n\n${goals(S)}\n\n`;
  md += floorSection(S, meta.floor);
  md += cpuSection(S);
  for (const n of Object.keys(S)) {
    md += `## ${groupLabel(n)}\n\n`;
    md += '| workload | N×M | ZooKeeper ops/s | zk-server ops/s | ratio | ZK p50 | zk-server p50 | ratio | ZK p99 | zk-server p99 | ratio | ZK p99.9 | zk-server p99.9 | ratio | errors ZK / zk-server |\n';
    md += '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n';
    for (const c of Object.keys(S[n])) {
      const per = S[n][c];
      const z = per.zookeeper ?? {};
      const k = per['zk-server'] ?? {};
      const any = (z.rows ?? []).concat(k.rows ?? []).find((r) => !r.failed);
      md += `| ${cellLabel(c)} | ${shape(c, any)} | ${fmt(z.ops)} | ${fmt(k.ops)} | ${fmtR(ratio(per, 'ops'))} | ${fmt(z.p50)} | ${fmt(k.p50)} | ${fmtR(ratio(per, 'p50'))} | ${fmt(z.p99)} | ${fmt(k.p99)} | ${fmtR(ratio(per, 'p99'))} | ${fmt(z.p999)} | ${fmt(k.p999)} | ${fmtR(ratio(per, 'p999'))} | ${z.errors ?? '–'} / ${k.errors ?? '–'} |\n`;
    }
    md += '\n';
  }
  md += `## Spread\n\nops/s min–max over the clean rounds, the per-round paired ratio (zk-server / ZooKeeper of the same round), and the load generator's CPU (median; 100 % = one core; with ${m.nproc} cores shared by client and servers, a client near ${m.nproc * 100} % is itself the limit).\n\n`;
  if (AA) md += `The A/A band is ZooKeeper against itself (a second ZooKeeper ensemble in the same round, \`--aa\`), round by round, with 1.00 always inside: a zk-server ratio inside it is **level**, not faster or slower.\n\n`;
  md += `"rounds < 1.0×" names the rounds in which zk-server had fewer ops/s than ZooKeeper ("none": no round below 1.0×); every round's row of each system is in the raw results (results.jsonl).\n\n`;
  md += `| nodes | workload | N×M | ZooKeeper ops/s | zk-server ops/s | paired ratio | ${AA ? 'A/A band | verdict | ' : ''}rounds < 1.0× | client CPU % ZK / zk-server |\n|---|---|---|--:|--:|--:|${AA ? '--:|---|' : ''}--:|--:|\n`;
  for (const n of Object.keys(S)) {
    for (const c of Object.keys(S[n])) {
      const per = S[n][c];
      const z = per.zookeeper ?? {};
      const k = per['zk-server'] ?? {};
      const rng = (x) => (x && x.clean && x.clean.length ? `${fmt(x.min)}–${fmt(x.max)}` : '–');
      const any = (z.rows ?? []).concat(k.rows ?? []).find((r) => !r.failed);
      const rounds = pairedByRound(per);
      const low = rounds.filter(([, r]) => r < 1).map(([i]) => i);
      const below = rounds.length ? `${low.length ? 'round' + (low.length > 1 ? 's ' : ' ') + low.join(', ') : 'none'} of ${rounds.length}` : '–';
      const aa = AA ? `${pairedRange(per, 'zookeeper-aa')} | ${verdictVsNoise(per)} | ` : '';
      md += `| ${n} | ${cellLabel(c)} | ${shape(c, any)} | ${rng(z)} | ${rng(k)} | ${pairedRange(per)} | ${aa}${below} | ${fmt(z.cpu)} / ${fmt(k.cpu)} |\n`;
    }
  }
  const errs = [];
  for (const n of Object.keys(results)) {
    for (const c of Object.keys(results[n])) {
      for (const sys of SYSTEMS) {
        (results[n][c][sys] ?? []).forEach((r, i) => {
          if (r.failed) errs.push(`- ${sys}, ${groupLabel(n)}, ${c}, round ${i + 1}: failed: ${r.failed}`);
          else if (r.errors) errs.push(`- ${sys}, ${groupLabel(n)}, ${c}, round ${i + 1}: ${r.errors} errors ${JSON.stringify(r.error_codes)}`);
        });
      }
    }
  }
  if (errs.length || meta.serverProblems.length) {
    md += `\n## Errors\n\nRuns with errors are left out of the medians.\n\n${errs.join('\n')}\n`;
    for (const p of meta.serverProblems) md += `- ${p}\n`;
  }
  md += `\n## Running it\n\n\`npm run bench\` builds zk-server and runs this matrix (about ${Math.max(1, Math.round(meta.seconds / 60))} min here with the defaults), then rewrites this file; \`npm run bench -- --quick\` runs 6 cells for 1 round (about 2 min). Options: \`--rounds N\` (5), \`--duration S\` (5), \`--warmup S\` (5), \`--aa\`/\`--no-aa\` (the A/A run, on unless --quick), \`--sessions K\` (6), \`--nodes 1,3\`, \`--cells get:16,set:256,watch,churn,...\`, \`--tls-nodes 1\` and \`--tls-cells get:16,set:256\` (the TLS group; \`--no-tls\` leaves it out, \`--tls\` runs everything over TLS), \`--dir PATH\` (parent of the dataDirs; its file system matters), \`--out FILE\`. Needs the Debian packages zookeeper/libzookeeper-java and a JDK (\`sudo bash scripts/install-test-deps.sh\`); ports 22000–22239 on 127.0.0.1 (\`BENCH_PORT_BASE\` moves them; a port that already answers stops the run). Every run's JSON line, the load generator's output and the servers' logs stay in the temp directory it prints.\n`;
  md += `\nOther measurements: [durable writes, standalone](benchmarks-durable.md) (\`npm run bench:durable\`), [leader failover](benchmarks-failover.md) (\`npm run bench:failover\`), [an earlier standalone comparison](benchmarks-standalone.md).\n`;
  return md;
}

// ---------- main ----------
(async () => {
  const t0 = Date.now();
  const started = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  fs.mkdirSync(DATA_PARENT, { recursive: true });
  const work = fs.mkdtempSync(path.join(DATA_PARENT, 'zk-bench-matrix-'));
  workDir = work;
  const logs = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-bench-logs-'));
  console.error(`bench/matrix: data under ${work}, logs and results.jsonl in ${logs}`);
  const classes = compileLoad(logs);
  if (GROUPS.some((g) => g.tls)) PKI = makePki(path.join(work, 'pki'));
  const mach = machine(work);
  const floor = { fsync: fsyncFloor(work), rtt: await rttFloor() };
  console.error(`bench/matrix: floor: fdatasync 4 KB p50 ${Math.round(floor.fsync.p50)} µs, loopback round trip p50 ${Math.round(floor.rtt.p50)} µs`);
  const results = {};
  const serverProblems = [];
  const jsonl = path.join(logs, 'results.jsonl');
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const g of GROUPS) {
        const { n, key, cells } = g;
        const tag = key.replace(' ', '-');
        for (const sys of SYSTEMS) {
          const dir = path.join(work, `${sys}-${tag}-r${round}`);
          fs.mkdirSync(dir, { recursive: true });
          const tb = Date.now();
          const ens = await startEnsemble(sys, n, dir, g.tls);
          let rows;
          let loadErr = null;
          try {
            // the first cell is an untimed warm-up (JITs of the servers and of the client), dropped
            rows = (await runLoad(classes, ens.connect, ['mixed:16', ...cells], path.join(logs, `load-${sys}-${tag}-r${round}.log`), g.tls, ens.nodes.map((x) => x.proc.pid))).slice(1);
          } catch (e) {
            loadErr = e;
            rows = [];
          }
          const crashed = ens.nodes.filter((x) => x.proc.exitCode !== null || x.proc.signalCode !== null);
          await stopEnsemble(ens);
          for (const [i, node] of ens.nodes.entries()) {
            const keep = path.join(logs, `${sys}-${tag}-r${round}-node${i + 1}.log`);
            fs.copyFileSync(node.log, keep);
            const bad = problemLines(node.log, sys);
            if (bad.length) serverProblems.push(`${sys}, ${groupLabel(key)}, round ${round}, node ${i + 1}: ${bad.length} ERROR-level log lines, first: \`${bad[0].replace(/`/g, "'")}\``);
          }
          for (const node of crashed) serverProblems.push(`${sys}, ${groupLabel(key)}, round ${round}: node on port ${node.port} exited during the load (${node.proc.exitCode ?? node.proc.signalCode})`);
          fs.rmSync(dir, { recursive: true, force: true });
          if (loadErr) {
            serverProblems.push(`${sys}, ${groupLabel(key)}, round ${round}: ${String(loadErr.message).split('\n')[0]}`);
            console.error(loadErr.message);
          }
          // match rows to cells by order (ZkLoad prints one line per cell, in order)
          cells.forEach((c, i) => {
            const r = rows[i] ?? { failed: 'no result' };
            ((results[key] ??= {})[c] ??= {});
            (results[key][c][sys] ??= []).push(r);
            fs.appendFileSync(jsonl, JSON.stringify({ system: sys, nodes: n, tls: g.tls, round, cell: c, ...r }) + '\n');
          });
          const brief = rows.map((r, i) => `${cells[i]} ${r.failed ? 'FAILED' : Math.round(r.ops_per_sec) + '/s' + (r.errors ? ` (${r.errors} errors)` : '')}`).join(', ');
          console.error(`round ${round}/${ROUNDS} ${sys} ${groupLabel(key)} [${ens.modes.join(',')}] ${Math.round((Date.now() - tb) / 1000)} s: ${brief}`);
        }
      }
    }
  } finally {
    killAll();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const seconds = (Date.now() - t0) / 1000;
  const cmdArgs = process.argv.slice(2).join(' ');
  const viaNpm = process.env.npm_lifecycle_event === 'bench';
  const command = viaNpm ? `npm run bench${cmdArgs ? ' -- ' + cmdArgs : ''}` : `node bench/matrix.js${cmdArgs ? ' ' + cmdArgs : ''}`;
  const md = report(results, {
    machine: mach,
    started,
    finished: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    seconds,
    command,
    rounds: ROUNDS,
    duration: DURATION,
    warmup: WARMUP,
    sessions: SESSIONS,
    floor,
    serverProblems,
  });
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, md);
  process.stdout.write(md);
  console.error(`bench/matrix: wrote ${OUT} after ${Math.round(seconds)} s; raw results in ${jsonl}`);
  const bad = Object.values(results).some((byCell) => Object.values(byCell).some((bySys) => Object.values(bySys).some((rs) => rs.some((r) => r.failed || r.errors))));
  process.exit(bad || serverProblems.length ? 2 : 0);
})().catch((e) => {
  console.error(`bench/matrix: ${e && e.stack ? e.stack : e}`);
  killAll();
  process.exit(1);
});
