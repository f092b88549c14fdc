#!/usr/bin/env node
// Durable write throughput of a standalone server at 1, 8 and 64 outstanding setData requests, and
// the fsyncs per second it took (mntr zk_cnt_fsynctime), for zk-server and, when the Debian package
// is installed, Apache ZooKeeper 3.8 on the same machine and file system with the same load
// generator. Runs are interleaved (A B A B) and reported as medians and ratios; only ratios compare.
//   node bench/durable.js [--rounds 3] [--duration 3] [--out docs/benchmarks-durable.md]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { JuteWriter, JuteReader } = require('../dist/jute/archive.js');
const { writeConnectRequest } = require('../dist/jute/records.js');

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const ROUNDS = Number(opt('--rounds', 3));
const DURATION = Number(opt('--duration', 3)) * 1000;
const OUT = opt('--out', path.join(__dirname, '..', 'docs', 'benchmarks-durable.md'));
const DEPTHS = [1, 8, 64];
const ZK_JAR = '/usr/share/java/zookeeper.jar';

const { sleep, freePort, ask, waitServing, zkServerArgv } = require('./standalone-util');

async function fsyncCount(port) {
  const m = /zk_cnt_fsynctime\t(\d+)/.exec(await ask(port, 'mntr'));
  return m ? Number(m[1]) : NaN;
}

function cfgText(dataDir, port) {
  return `tickTime=2000\ndataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\nforceSync=yes\n`;
}

const systems = {
  'zk-server': async (dataDir, port) => {
    const cfg = path.join(dataDir, '..', 'zoo.cfg');
    fs.writeFileSync(cfg, cfgText(dataDir, port));
    return spawn(process.execPath, zkServerArgv(cfg), { stdio: 'ignore', env: { ...process.env, ZK_LOG_LEVEL: 'warn' } });
  },
  zookeeper: async (dataDir, port) => {
    const cfg = path.join(dataDir, '..', 'zoo.cfg');
    fs.writeFileSync(cfg, cfgText(dataDir, port));
    return spawn('java', ['-Xmx1000m', '-cp', '/usr/share/java/*:/etc/zookeeper/conf', '-Dzookeeper.log.threshold=WARN', 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], { stdio: 'ignore' });
  },
};

// one session, `depth` setData requests always in flight on a pool of 100 znodes
function load(port, depth, durationMs) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let connected = false;
    let xid = 1;
    let done = 0;
    let errors = 0;
    let measuring = false;
    let stopAt = 0;
    const lat = [];
    const sent = new Map();
    const data = Buffer.alloc(100, 7);
    const frame = (type, body) => {
      const w = new JuteWriter(256);
      const at = w.beginFrame();
      const x = xid++;
      w.writeInt(x);
      w.writeInt(type);
      body(w);
      w.endFrame(at);
      sent.set(x, process.hrtime.bigint());
      sock.write(w.finish());
    };
    const setData = (i) =>
      frame(5, (w) => {
        w.writeString(`/bench-${i % 100}`);
        w.writeBuffer(data);
        w.writeInt(-1);
      });
    const create = (i) =>
      frame(1, (w) => {
        w.writeString(`/bench-${i}`);
        w.writeBuffer(data);
        w.writeInt(1);
        w.writeInt(31);
        w.writeString('world');
        w.writeString('anyone');
        w.writeInt(0);
      });
    let phase = 'create';
    let created = 0;
    sock.on('connect', () => {
      const w = new JuteWriter();
      const at = w.beginFrame();
      writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
      w.endFrame(at);
      sock.write(w.finish());
    });
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 4) {
        const len = buf.readInt32BE(0);
        if (buf.length < 4 + len) return;
        const f = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (!connected) {
          connected = true;
          for (let i = 0; i < 100; i++) create(i);
          continue;
        }
        const r = new JuteReader(f);
        const x = r.readInt();
        r.readLong();
        const err = r.readInt();
        if (x < 0) continue;
        const t0 = sent.get(x);
        sent.delete(x);
        if (phase === 'create') {
          if (++created === 100) {
            phase = 'run';
            setTimeout(() => {
              measuring = true;
              stopAt = Date.now() + durationMs;
              t.start = Date.now();
            }, 500);
            for (let i = 0; i < depth; i++) setData(i);
          }
          continue;
        }
        if (err !== 0 && err !== -110) errors++;
        if (measuring) {
          done++;
          lat.push(Number(process.hrtime.bigint() - t0) / 1000);
        }
        if (measuring && Date.now() >= stopAt) {
          measuring = false;
          const secs = (Date.now() - t.start) / 1000;
          sock.destroy();
          lat.sort((a, b) => a - b);
          resolve({ opsPerSec: done / secs, p50: lat[Math.floor(lat.length * 0.5)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0, errors, secs });
          return;
        }
        if (phase === 'run') setData(x);
      }
    });
    const t = { start: 0 };
  });
}

async function runSystem(name, depth) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `zk-bench-${name}-`));
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(dataDir);
  const port = await freePort();
  const proc = await systems[name](dataDir, port);
  try {
    await waitServing(port, proc);
    const f0 = await fsyncCount(port);
    const r = await load(port, depth, DURATION);
    const f1 = await fsyncCount(port);
    r.fsyncsPerSec = (f1 - f0) / r.secs; // includes the warm-up; close enough for a ratio
    return r;
  } finally {
    proc.kill('SIGKILL');
    await new Promise((res) => (proc.exitCode !== null ? res() : proc.once('exit', res)));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

(async () => {
  const names = fs.existsSync(ZK_JAR) ? ['zookeeper', 'zk-server'] : ['zk-server'];
  if (names.length === 1) console.error('Apache ZooKeeper (Debian package zookeeper) not installed: measuring zk-server only');
  const results = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const depth of DEPTHS) {
      for (const n of names) {
        const r = await runSystem(n, depth);
        (results[`${n}/${depth}`] ??= []).push(r);
        console.error(`round ${round} ${n} outstanding=${depth}: ${r.opsPerSec.toFixed(0)} ops/s, ${r.fsyncsPerSec.toFixed(0)} fsyncs/s, p50 ${r.p50.toFixed(0)} us, errors ${r.errors}`);
      }
    }
  }
  const fmt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
  let md = `# Durable write throughput (standalone)\n\n- ${new Date().toISOString()}, ${os.hostname()}: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}\n- command: \`npm run bench:durable\` (\`node bench/durable.js --rounds ${ROUNDS} --duration ${DURATION / 1000}\`)\n- one session keeps N setData requests (100 bytes) in flight; forceSync=yes; same load generator and file system for both; medians of ${ROUNDS} interleaved rounds. fsyncs/s from mntr \`zk_cnt_fsynctime\`.\n\n`;
  md += '| outstanding | ' + names.map((n) => `${n} ops/s | ${n} fsyncs/s | ${n} p50 µs`).join(' | ') + (names.length > 1 ? ' | ops/s zk-server / zookeeper |' : ' |') + '\n';
  md += '|---|' + names.map(() => '---|---|---').join('|') + (names.length > 1 ? '|---|' : '|') + '\n';
  for (const depth of DEPTHS) {
    const cells = names.map((n) => {
      const rs = results[`${n}/${depth}`];
      return `${fmt(median(rs.map((r) => r.opsPerSec)))} | ${fmt(median(rs.map((r) => r.fsyncsPerSec)))} | ${fmt(median(rs.map((r) => r.p50)))}`;
    });
    let ratio = '';
    if (names.length > 1) {
      ratio = ` | ${(median(results[`zk-server/${depth}`].map((r) => r.opsPerSec)) / median(results[`zookeeper/${depth}`].map((r) => r.opsPerSec))).toFixed(2)}`;
    }
    md += `| ${depth} | ${cells.join(' | ')}${ratio} |\n`;
  }
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, md);
  process.stdout.write(md);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
