#!/usr/bin/env node
// Bytes allocated per request by a standalone zk-server under load, and what that costs in young
// collections (scavenges and their pause time per 100,000 requests): a measure that stays put on a
// shared or noisy machine where throughput and CPU time swing by tens of percent from run to run.
// Each cell starts a fresh server with bench/alloc-probe.js loaded, drives it with bench/ZkLoad.java
// (the ZooKeeper Java client) and samples the server's heap for `--duration` seconds in the middle
// of the load; requests are counted from mntr's zk_packets_received over the same window.
// `--build DIR` (repeatable) compares other builds (a git worktree with `npx tsc` run in it)
// against this one, alternated cell by cell and round by round.
//   node bench/alloc.js [--cells set:16,create:16,get:16] [--rounds 2] [--duration 3] [--top 8]
//                       [--build /path/to/other/checkout ...]
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const CELLS = opt('--cells', 'set:16,create:16,get:16').split(',');
const ROUNDS = Number(opt('--rounds', 2));
const DURATION = Number(opt('--duration', 3));
const TOP = Number(opt('--top', 8));
const ROOT = path.join(__dirname, '..');
const BUILDS = [ROOT, ...args.flatMap((a, i) => (a === '--build' ? [path.resolve(args[i + 1])] : []))];
const WARMUP = 5; // ZkLoad's warm-up, and the server's JIT's
const JAVA_DIR = '/usr/share/java';
const CLIENT_JARS = ['zookeeper', 'zookeeper-jute', 'slf4j-api', 'netty-handler', 'netty-transport', 'netty-common', 'netty-buffer', 'netty-resolver', 'netty-codec', 'netty-transport-native-epoll', 'netty-transport-native-unix-common', 'slf4j-nop'];
const CLIENT_CP = CLIENT_JARS.map((j) => `${JAVA_DIR}/${j}.jar`).filter((j) => fs.existsSync(j)).join(':');

for (const b of BUILDS) {
  if (!fs.existsSync(path.join(b, 'dist', 'cli.js'))) {
    console.error(`bench/alloc: ${b} is not built (npx tsc -p tsconfig.json there)`);
    process.exit(2);
  }
}
if (!fs.existsSync(`${JAVA_DIR}/zookeeper.jar`)) {
  console.error('bench/alloc: the ZooKeeper Java client is needed: sudo bash scripts/install-test-deps.sh');
  process.exit(2);
}

const { sleep, freePort, ask, waitServing } = require('./standalone-util');

async function packetsReceived(port) {
  const m = /zk_packets_received\s+(\d+)/.exec(await ask(port, 'mntr'));
  if (!m) throw new Error('no zk_packets_received in mntr');
  return Number(m[1]);
}
function reply(proc) {
  return new Promise((resolve) => proc.once('message', resolve));
}

async function measure(build, cell, classes) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-alloc-'));
  fs.writeFileSync(
    path.join(dir, 'zoo.cfg'),
    `tickTime=2000\ndataDir=${dir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=*\n`,
  );
  const server = spawn(process.execPath, ['--require', path.join(__dirname, 'alloc-probe.js'), path.join(build, 'bin', 'zk-server.js'), 'start-foreground', path.join(dir, 'zoo.cfg')], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  let load = null;
  try {
    await waitServing(port, server);
    load = spawn('java', ['-Xmx1500m', '-cp', `${classes}:${CLIENT_CP}`, 'ZkLoad', '--connect', `127.0.0.1:${port}`, '--cells', cell, '--sessions', '6', '--duration', String(DURATION + 4), '--warmup', String(WARMUP)], { stdio: 'ignore' });
    await sleep((WARMUP + 2) * 1000);
    const p0 = await packetsReceived(port);
    server.send({ cmd: 'start' });
    const started = await reply(server);
    if (started.error) throw new Error(started.error);
    await sleep(DURATION * 1000);
    server.send({ cmd: 'stop', top: TOP });
    const r = await reply(server);
    if (r.error) throw new Error(r.error);
    const ops = (await packetsReceived(port)) - p0;
    return { ops, bytesPerOp: r.bytes / ops, scavengesPer100k: (r.scavenges / ops) * 1e5, scavengeMsPer100k: (r.scavengeMs / ops) * 1e5, cpuUsPerOp: r.cpuUs / ops, top: r.top, opsPerSec: ops / DURATION };
  } finally {
    load?.kill('SIGKILL');
    server.kill('SIGKILL');
    await new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', r)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-alloc-load-'));
  const classes = path.join(tmp, 'classes');
  fs.mkdirSync(classes);
  execFileSync('javac', ['-nowarn', '-encoding', 'UTF-8', '-cp', CLIENT_CP, '-d', classes, path.join(__dirname, 'ZkLoad.java')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const results = new Map(); // cell -> build -> runs
  for (let round = 1; round <= ROUNDS; round++) {
    for (const cell of CELLS) {
      // alternate the order of the builds from round to round
      const order = round % 2 ? BUILDS : [...BUILDS].reverse();
      for (const b of order) {
        const r = await measure(b, cell, classes);
        const byBuild = results.get(cell) ?? new Map();
        results.set(cell, byBuild);
        byBuild.set(b, [...(byBuild.get(b) ?? []), r]);
        console.error(`round ${round} ${cell} ${path.relative(process.cwd(), b) || '.'}: ${Math.round(r.bytesPerOp)} B/op, ${r.scavengesPer100k.toFixed(1)} scavenges and ${r.scavengeMsPer100k.toFixed(0)} ms of them per 100k ops, ${r.cpuUsPerOp.toFixed(1)} µs CPU/op, ${Math.round(r.opsPerSec)} ops/s`);
      }
    }
  }
  const lines = [
    `Allocation per request, standalone zk-server, ZkLoad with 6 sessions; ${DURATION} s sampled after ${WARMUP + 2} s of load; medians of ${ROUNDS} round(s) (${os.cpus().length} CPUs, Node ${process.version})`,
    '',
    '| cell | build | bytes / op | scavenges / 100k ops | scavenge ms / 100k ops | CPU µs / op | ops/s |',
    '|---|---|--:|--:|--:|--:|--:|',
  ];
  for (const [cell, byBuild] of results) {
    for (const [b, runs] of byBuild) {
      const m = (k) => median(runs.map((r) => r[k]));
      lines.push(`| ${cell} | ${b === ROOT ? 'this checkout' : b} | ${Math.round(m('bytesPerOp')).toLocaleString('en-US')} | ${m('scavengesPer100k').toFixed(1)} | ${m('scavengeMsPer100k').toFixed(0)} | ${m('cpuUsPerOp').toFixed(1)} | ${Math.round(m('opsPerSec')).toLocaleString('en-US')} |`);
    }
  }
  if (TOP > 0) {
    lines.push('', `Top allocation sites (last round, this checkout), share of the bytes sampled:`);
    for (const [cell, byBuild] of results) {
      const runs = byBuild.get(ROOT);
      const last = runs[runs.length - 1];
      lines.push('', `${cell}:`);
      for (const [site, bytes] of last.top) lines.push(`  ${((100 * bytes) / (last.bytesPerOp * last.ops)).toFixed(1).padStart(5)} %  ${site}`);
    }
  }
  console.log(lines.join('\n'));
  fs.rmSync(tmp, { recursive: true, force: true });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
