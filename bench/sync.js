#!/usr/bin/env node
// What linearizableSync costs: sync latency on a 3-peer zk-server ensemble (separate processes on
// loopback, tickTime 2000), through the leader and through a follower, with the key off (ZooKeeper's
// behaviour) and on, N sequential syncs each, interleaved rounds.
//   node bench/sync.js [--n 2000] [--rounds 3]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { zkServerArgv } = require('./standalone-util.js');
const { JuteWriter, JuteReader } = require('../dist/jute/archive.js');
const { writeConnectRequest } = require('../dist/jute/records.js');

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const N = Number(opt('--n', 2000));
const ROUNDS = Number(opt('--rounds', 3));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePorts(n) {
  const out = [];
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = net.createServer();
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    out.push(s.address().port);
    servers.push(s);
  }
  for (const s of servers) await new Promise((r) => s.close(r));
  return out;
}

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

/** A minimal client: connect, then sequential syncs; resolves with per-sync latencies in µs. */
function syncs(port, n) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let connected = false;
    let k = 0;
    let t0 = 0n;
    const lat = [];
    const send = () => {
      const w = new JuteWriter(64);
      const at = w.beginFrame();
      w.writeInt(k + 1).writeInt(9).writeString('/');
      w.endFrame(at);
      t0 = process.hrtime.bigint();
      sock.write(w.finish());
    };
    sock.on('connect', () => {
      const w = new JuteWriter(64);
      const at = w.beginFrame();
      writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
      w.endFrame(at);
      sock.write(w.finish());
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const len = buf.readInt32BE(0);
        const frame = buf.subarray(4, 4 + len);
        buf = buf.subarray(4 + len);
        if (!connected) {
          connected = true;
          send();
          continue;
        }
        const r = new JuteReader(frame);
        const xid = r.readInt();
        if (xid !== k + 1) continue;
        lat.push(Number(process.hrtime.bigint() - t0) / 1000);
        if (++k >= n) {
          sock.destroy();
          resolve(lat);
          return;
        }
        send();
      }
    });
    sock.on('error', reject);
  });
}

async function ensemble(linearizable) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-syncbench-'));
  const ports = await freePorts(9);
  const procs = [];
  for (let i = 1; i <= 3; i++) {
    const dir = path.join(root, `n${i}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'myid'), `${i}\n`);
    const cfg = path.join(root, `zoo${i}.cfg`);
    fs.writeFileSync(
      cfg,
      [
        'tickTime=2000', 'initLimit=10', 'syncLimit=5', `dataDir=${dir}`, `clientPort=${ports[3 * i - 3]}`, 'clientPortAddress=127.0.0.1',
        '4lw.commands.whitelist=*', 'admin.enableServer=false', `linearizableSync=${linearizable}`,
        ...[1, 2, 3].map((j) => `server.${j}=127.0.0.1:${ports[3 * j - 2]}:${ports[3 * j - 1]}`),
      ].join('\n') + '\n',
    );
    procs.push(spawn(process.execPath, zkServerArgv(cfg), { stdio: 'ignore' }));
  }
  const client = [1, 2, 3].map((i) => ports[3 * i - 3]);
  for (let t = 0; t < 300; t++) {
    const modes = await Promise.all(client.map(async (p) => /Mode: (\w+)/.exec(await ask(p, 'srvr'))?.[1]));
    if (modes.filter((m) => m === 'leader').length === 1 && modes.filter((m) => m === 'follower').length === 2) {
      const leader = client[modes.indexOf('leader')];
      const follower = client[modes.indexOf('follower')];
      return { leader, follower, stop: () => procs.forEach((p) => p.kill('SIGKILL')) };
    }
    await sleep(100);
  }
  procs.forEach((p) => p.kill('SIGKILL'));
  throw new Error('ensemble did not form');
}

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

(async () => {
  const rows = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const lin of [false, true]) {
      const e = await ensemble(lin);
      try {
        await syncs(e.follower, 200); // warm-up
        for (const [where, port] of [['leader', e.leader], ['follower', e.follower]]) {
          const lat = await syncs(port, N);
          const key = `${lin ? 'linearizableSync=true ' : 'linearizableSync=false'} via ${where}`;
          (rows[key] ??= []).push({ p50: pct(lat, 0.5), p99: pct(lat, 0.99) });
        }
      } finally {
        e.stop();
      }
    }
  }
  console.log(`sync latency, ${N} sequential syncs per cell, ${ROUNDS} rounds (µs, p50 / p99 per round)`);
  for (const [k, v] of Object.entries(rows)) console.log(`${k.padEnd(34)} ${v.map((x) => `${Math.round(x.p50)}/${Math.round(x.p99)}`).join('  ')}`);
})();
