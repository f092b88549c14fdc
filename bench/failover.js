#!/usr/bin/env node
// Leader failover: a 3-peer ensemble (zk-server, and Apache ZooKeeper 3.8 when installed) on
// loopback; kill -9 the leader and time until a write through a surviving server succeeds.
//   node bench/failover.js [--rounds 3] [--out docs/benchmarks-failover.md]
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
const OUT = opt('--out', path.join(__dirname, '..', 'docs', 'benchmarks-failover.md'));
const BASE = Number(opt('--base', 24000));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ask(port, word) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(word));
    let out = '';
    s.setTimeout(1000, () => s.destroy());
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(''));
  });
}
const modeOf = async (port) => /Mode: (\w+)/.exec(await ask(port, 'srvr'))?.[1] ?? 'none';

/** One create on a fresh session; resolves to the error code, or -4 on connection loss/timeout. */
function tryCreate(port, p) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let stage = 0;
    const done = (v) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(2000, () => done(-4));
    sock.on('error', () => done(-4));
    sock.on('close', () => done(-4));
    sock.on('connect', () => {
      const w = new JuteWriter();
      const at = w.beginFrame();
      writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 10000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
      w.endFrame(at);
      sock.write(w.finish());
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const f = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = buf.subarray(4 + f.length);
        if (stage === 0) {
          stage = 1;
          const w = new JuteWriter();
          const at = w.beginFrame();
          w.writeInt(1);
          w.writeInt(1);
          w.writeString(p);
          w.writeBuffer(Buffer.from('x'));
          w.writeInt(1);
          w.writeInt(31);
          w.writeString('world');
          w.writeString('anyone');
          w.writeInt(0);
          w.endFrame(at);
          sock.write(w.finish());
        } else {
          const r = new JuteReader(f);
          if (r.readInt() !== 1) continue;
          r.readLong();
          done(r.readInt());
        }
      }
    });
  });
}

function setup(system, root) {
  fs.rmSync(root, { recursive: true, force: true });
  const cfgs = [];
  for (let i = 1; i <= 3; i++) {
    const d = path.join(root, `n${i}`);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'myid'), `${i}\n`);
    const servers = [1, 2, 3].map((j) => `server.${j}=127.0.0.1:${BASE + 10 + j}:${BASE + 20 + j}`).join('\n');
    const cfg = path.join(root, `zoo${i}.cfg`);
    fs.writeFileSync(cfg, `tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=${d}\nclientPort=${BASE + i}\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n${servers}\n`);
    cfgs.push(cfg);
  }
  return cfgs;
}

function startNode(system, cfg) {
  if (system === 'zk-server') return spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'zk-server.js'), 'start-foreground', cfg], { stdio: 'ignore', env: { ...process.env, ZK_LOG_LEVEL: 'warn' } });
  return spawn('java', ['-Xmx512m', '-cp', '/usr/share/java/*:/etc/zookeeper/conf', '-Dzookeeper.log.threshold=WARN', 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], { stdio: 'ignore' });
}

async function round(system, n) {
  const root = path.join(os.tmpdir(), `zk-failover-${system}`);
  const cfgs = setup(system, root);
  const procs = cfgs.map((c) => startNode(system, c));
  try {
    let leader = -1;
    for (let t = 0; t < 600 && leader < 0; t++) {
      const modes = await Promise.all([1, 2, 3].map((i) => modeOf(BASE + i)));
      if (modes.filter((m) => m === 'follower').length === 2 && modes.includes('leader')) leader = modes.indexOf('leader');
      else await sleep(100);
    }
    if (leader < 0) throw new Error(`${system}: no leader`);
    const survivor = [0, 1, 2].find((i) => i !== leader);
    if ((await tryCreate(BASE + survivor + 1, `/warm-${n}`)) !== 0) throw new Error('warm-up write failed');
    const t0 = process.hrtime.bigint();
    procs[leader].kill('SIGKILL');
    let i = 0;
    for (;;) {
      const err = await tryCreate(BASE + survivor + 1, `/after-${n}-${i++}`);
      if (err === 0) break;
      await sleep(10);
      if (Number(process.hrtime.bigint() - t0) / 1e9 > 120) throw new Error(`${system}: no write within 120 s`);
    }
    return Number(process.hrtime.bigint() - t0) / 1e6;
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await sleep(500);
  }
}

(async () => {
  const systems = fs.existsSync('/usr/share/java/zookeeper.jar') ? ['zookeeper', 'zk-server'] : ['zk-server'];
  const res = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of systems) {
      const ms = await round(s, r);
      (res[s] ??= []).push(ms);
      console.error(`round ${r + 1} ${s}: ${ms.toFixed(0)} ms from kill -9 of the leader to the first write`);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  let md = `# Leader failover\n\n- ${new Date().toISOString()}, ${os.hostname()}, ${os.cpus().length} CPUs, Node ${process.version}; \`node bench/failover.js --rounds ${ROUNDS}\`\n- 3 peers on loopback, tickTime=2000, initLimit=10, syncLimit=5; kill -9 of the leader, then a fresh session on a surviving peer retries a create every 10 ms until one succeeds.\n\n| system | median ms | all rounds (ms) |\n|---|---|---|\n`;
  for (const s of systems) md += `| ${s} | ${med(res[s]).toFixed(0)} | ${res[s].map((x) => x.toFixed(0)).join(', ')} |\n`;
  fs.writeFileSync(OUT, md);
  process.stdout.write(md);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
