#!/usr/bin/env node
// Scale runs: a standalone zk-server and a standalone Apache ZooKeeper 3.8 (Debian package,
// `java -Xmx1000m … ZooKeeperServerMain`, zkServer.sh's default heap), one at a time, same zoo.cfg
// (forceSync=yes, snapCount default), driven by the same client (this file, over the project's
// jute codec):
//   1. N znodes of 100 bytes (default 1,000,000, under 10 parents): load time, resident memory
//      after the load has settled, bytes per znode, the snapshot on disk and mntr's snapshottime
//   2. restart (SIGTERM, then start): time until a getData of a known znode succeeds; RSS after
//   3. 10,000 sessions held open: RSS growth
//   4. 100,000 watches (100 sessions x 1,000 getData watches): RSS growth
// Writes docs/benchmarks-scale.md.
//   node bench/scale.js [--znodes 1000000] [--sessions 10000] [--watches 100000] [--out FILE] [--systems zookeeper,zk-server]
// Ports: 127.0.0.1:23000 (ZooKeeper), 23001 (zk-server); BENCH_SCALE_PORT moves them.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { JuteWriter, JuteReader } = require('../dist/jute/archive.js');
const { writeConnectRequest, readConnectResponse } = require('../dist/jute/records.js');

const argv = process.argv.slice(2);
const opt = (k, d) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
const ROOT = path.join(__dirname, '..');
const ZNODES = Number(opt('--znodes', 1000000));
const SESSIONS = Number(opt('--sessions', 10000));
const WATCHES = Number(opt('--watches', 100000));
const OUT = path.resolve(opt('--out', path.join(ROOT, 'docs', 'benchmarks-scale.md')));
const SYSTEMS = opt('--systems', 'zookeeper,zk-server').split(',');
const PORT0 = Number(process.env.BENCH_SCALE_PORT ?? 23000);
const JARS = ['zookeeper', 'zookeeper-jute', 'slf4j-api', 'slf4j-simple', 'commons-cli', 'snappy-java', 'metrics-core', 'netty-handler', 'netty-transport', 'netty-common', 'netty-buffer', 'netty-codec', 'netty-resolver', 'netty-transport-native-unix-common', 'netty-transport-classes-epoll', 'jackson-databind', 'jackson-core', 'jackson-annotations', 'audience-annotations']
  .map((j) => `/usr/share/java/${j}.jar`)
  .filter((j) => fs.existsSync(j));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ACL = [{ perms: 31, scheme: 'world', id: 'anyone' }];
const DATA = Buffer.alloc(100, 0x61);

if (SYSTEMS.includes('zookeeper') && !fs.existsSync('/usr/share/java/zookeeper.jar')) {
  console.error('bench/scale: Apache ZooKeeper is not installed (run scripts/install-test-deps.sh)');
  process.exit(1);
}

// ---------- a minimal pipelining client ----------
class Client {
  static open(port, opts = {}) {
    return new Promise((resolve, reject) => {
      const c = new Client();
      c.sock = net.connect(port, '127.0.0.1');
      c.sock.setNoDelay(true);
      c.buf = Buffer.alloc(0);
      c.pending = new Map();
      c.xid = 1;
      c.onHello = resolve;
      c.sock.on('error', reject);
      c.sock.on('close', () => {
        for (const p of c.pending.values()) p(-999);
        c.pending.clear();
      });
      c.sock.on('connect', () => {
        const w = new JuteWriter();
        const at = w.beginFrame();
        writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: opts.timeout ?? 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
        w.endFrame(at);
        c.sock.write(w.finish());
      });
      c.sock.on('data', (d) => c.onData(d));
    });
  }
  onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readInt32BE(0)) {
      const len = this.buf.readInt32BE(0);
      const f = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      if (this.onHello) {
        this.session = readConnectResponse(new JuteReader(f));
        const h = this.onHello;
        this.onHello = null;
        h(this);
        continue;
      }
      const r = new JuteReader(f);
      const xid = r.readInt();
      r.readLong();
      const err = r.readInt();
      if (xid < 0) continue; // watch events, pings
      const p = this.pending.get(xid);
      this.pending.delete(xid);
      if (p) p(err);
    }
  }
  call(type, body) {
    return new Promise((resolve) => {
      const xid = this.xid++;
      const w = new JuteWriter(160);
      const at = w.beginFrame();
      w.writeInt(xid);
      w.writeInt(type);
      body(w);
      w.endFrame(at);
      this.pending.set(xid, resolve);
      this.sock.write(w.finish());
    });
  }
  create(p, data = DATA) {
    return this.call(1, (w) => {
      w.writeString(p);
      w.writeBuffer(data);
      w.writeVector(ACL, (x, a) => {
        x.writeInt(a.perms);
        x.writeString(a.scheme);
        x.writeString(a.id);
      });
      w.writeInt(0);
    });
  }
  getData(p, watch = false) {
    return this.call(4, (w) => {
      w.writeString(p);
      w.writeBool(watch);
    });
  }
  close() {
    this.sock.destroy();
  }
}

async function pipelined(clients, total, depth, op) {
  let next = 0;
  let errors = 0;
  await Promise.all(
    clients.map(async (c) => {
      const inflight = new Set();
      while (next < total || inflight.size) {
        while (next < total && inflight.size < depth) {
          const i = next++;
          const p = op(c, i).then((err) => {
            if (err !== 0 && err !== -110) errors++;
            inflight.delete(p);
          });
          inflight.add(p);
        }
        await Promise.race(inflight);
      }
    }),
  );
  return errors;
}

// ---------- servers ----------
function rssMB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function fourLetter(port, word) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(word));
    let out = '';
    s.setTimeout(5000, () => s.destroy());
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(''));
  });
}

function start(system, dir, port) {
  const cfg = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(cfg, `tickTime=2000\ndataDir=${dir}/data\nclientPort=${port}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=*\nmaxSessionTimeout=120000\n`);
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const log = fs.openSync(path.join(dir, `${system}.log`), 'a');
  const p =
    system === 'zookeeper'
      ? spawn('java', ['-Xmx1000m', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', JARS.join(':'), 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], { stdio: ['ignore', log, log] })
      : spawn(process.execPath, [path.join(ROOT, 'bin', 'zk-server.js'), 'start-foreground', cfg], { stdio: ['ignore', log, log], env: { ...process.env, ZK_LOG_LEVEL: 'warn' } });
  fs.closeSync(log);
  return p;
}

async function stop(p) {
  if (p.exitCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 20000);
  await done;
  clearTimeout(t);
}

/** ms from now until a fresh session reads `probe` (the server is up and has its data) */
async function timeToFirstRead(port, probe, limitMs = 300000) {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    try {
      const c = await Promise.race([Client.open(port), sleep(2000).then(() => null)]);
      if (c) {
        const err = await c.getData(probe);
        c.close();
        if (err === 0) return Date.now() - t0;
      }
    } catch {
      /* not listening yet */
    }
    await sleep(20);
  }
  throw new Error(`no successful read of ${probe} within ${limitMs} ms`);
}

function snapshotInfo(dir) {
  const v2 = path.join(dir, 'data', 'version-2');
  const snaps = fs.readdirSync(v2).filter((f) => f.startsWith('snapshot.')).map((f) => ({ f, size: fs.statSync(path.join(v2, f)).size }));
  snaps.sort((a, b) => b.size - a.size);
  return snaps[0] ?? null;
}

function mntrValue(text, key) {
  const m = new RegExp(`^zk_${key}\\s+(\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function settle(pid, ms = 10000) {
  await sleep(ms);
  return rssMB(pid);
}

async function runSystem(system, port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zk-scale-${system}-`));
  const r = { system };
  try {
    let p = start(system, dir, port);
    await timeToFirstRead(port, '/zookeeper', 60000);
    r.rssIdle = await settle(p.pid, 3000);

    // 1. N znodes of 100 bytes
    const loaders = await Promise.all([0, 1, 2, 3].map(() => Client.open(port)));
    for (let k = 0; k < 10; k++) await loaders[0].create(`/s${k}`, Buffer.alloc(0));
    let t0 = Date.now();
    r.loadErrors = await pipelined(loaders, ZNODES, 500, (c, i) => c.create(`/s${i % 10}/n${i}`));
    r.loadMs = Date.now() - t0;
    for (const c of loaders) c.close();
    r.rssLoaded = await settle(p.pid, 15000);
    const mntr = await fourLetter(port, 'mntr');
    r.snapshottimeAvg = mntrValue(mntr, 'avg_snapshottime');
    r.snapshots = mntrValue(mntr, 'cnt_snapshottime');
    r.znodes = mntrValue(mntr, 'znode_count');

    // 2. restart
    await stop(p);
    r.snapshot = snapshotInfo(dir);
    p = start(system, dir, port);
    r.restartMs = await timeToFirstRead(port, `/s${(ZNODES - 1) % 10}/n${ZNODES - 1}`);
    r.rssRestarted = await settle(p.pid, 10000);

    // 3. sessions
    const before = rssMB(p.pid);
    const sessions = [];
    t0 = Date.now();
    for (let i = 0; i < SESSIONS; i += 200) {
      const batch = await Promise.all(Array.from({ length: Math.min(200, SESSIONS - i) }, () => Client.open(port, { timeout: 120000 })));
      sessions.push(...batch);
    }
    r.sessionsMs = Date.now() - t0;
    r.rssSessions = await settle(p.pid, 5000);
    r.perSessionKB = ((r.rssSessions - before) * 1024) / SESSIONS;
    for (const c of sessions) c.close();
    await sleep(3000);

    // 4. watches
    const watchers = await Promise.all(Array.from({ length: 100 }, () => Client.open(port, { timeout: 120000 })));
    const beforeW = rssMB(p.pid);
    const per = Math.ceil(WATCHES / watchers.length);
    await Promise.all(watchers.map((c, k) => pipelined([c], per, 200, (cc, i) => cc.getData(`/s${(k * per + i) % 10}/n${(k * per + i) % ZNODES}`, true))));
    r.rssWatches = await settle(p.pid, 5000);
    r.watchCount = mntrValue(await fourLetter(port, 'mntr'), 'watch_count');
    r.perWatchB = ((r.rssWatches - beforeW) * 1024 * 1024) / WATCHES;
    for (const c of watchers) c.close();
    await stop(p);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

(async () => {
  const results = {};
  for (const [i, s] of SYSTEMS.entries()) {
    console.error(`bench/scale: ${s} ...`);
    results[s] = await runSystem(s, PORT0 + i);
    console.error(JSON.stringify(results[s]));
  }
  const zk = results.zookeeper;
  const us = results['zk-server'];
  const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
  const ratio = (a, b) => (zk && us && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : '–');
  const row = (label, key, d = 0, goal = '') => `| ${label} | ${fmt(zk?.[key], d)} | ${fmt(us?.[key], d)} | ${ratio(us?.[key], zk?.[key])} | ${goal} |\n`;
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  let md = `# Scale: zk-server against Apache ZooKeeper 3.8 (standalone)\n\n`;
  md += `Generated by \`bench/scale.js\` (\`npm run bench:scale\`), one run, one system at a time on the same machine.\n\n`;
  md += `- date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}\n- machine: ${os.cpus().length} CPUs (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; Node ${process.version}\n`;
  md += `- command: \`node bench/scale.js --znodes ${ZNODES} --sessions ${SESSIONS} --watches ${WATCHES}\`\n`;
  md += `- both: the same zoo.cfg (forceSync=yes, snapCount default, maxClientCnxns=0), a fresh dataDir. ZooKeeper: \`java -Xmx1000m … ZooKeeperServerMain\` (zkServer.sh's default heap); zk-server: \`node bin/zk-server.js start-foreground\`.\n`;
  md += `- load: ${fmt(ZNODES)} znodes of 100 bytes under 10 parents, created by 4 sessions with 500 requests in flight each; RSS (VmRSS) read 15 s after the load, 10 s after a restart and 5 s after the sessions / watches were set up. Restart = SIGTERM, start, time until a new session's getData of the last znode succeeds.\n\n`;
  md += `| | ZooKeeper | zk-server | ratio zk-server / ZooKeeper | goal |\n|---|--:|--:|--:|---|\n`;
  md += row('RSS idle, empty tree (MB)', 'rssIdle', 0);
  md += row(`load ${fmt(ZNODES)} znodes (ms)`, 'loadMs', 0);
  md += row('RSS after the load (MB)', 'rssLoaded', 0, '≤ 0.6');
  md += `| bytes per znode ((RSS loaded − RSS idle) / N) | ${fmt(zk ? ((zk.rssLoaded - zk.rssIdle) * 2 ** 20) / ZNODES : NaN)} | ${fmt(us ? ((us.rssLoaded - us.rssIdle) * 2 ** 20) / ZNODES : NaN)} | ${ratio(us ? us.rssLoaded - us.rssIdle : NaN, zk ? zk.rssLoaded - zk.rssIdle : NaN)} | |\n`;
  md += `| snapshot on disk (MB) | ${fmt(zk?.snapshot ? zk.snapshot.size / 2 ** 20 : NaN, 1)} | ${fmt(us?.snapshot ? us.snapshot.size / 2 ** 20 : NaN, 1)} | ${ratio(us?.snapshot?.size, zk?.snapshot?.size)} | |\n`;
  md += row('snapshots taken during the load (mntr cnt_snapshottime)', 'snapshots', 0);
  md += row('snapshot write time, mean (ms, mntr avg_snapshottime)', 'snapshottimeAvg', 0);
  md += row('restart to first read (ms)', 'restartMs', 0, '≤ 0.5');
  md += row('RSS after the restart (MB)', 'rssRestarted', 0, '≤ 0.6');
  md += row(`${fmt(SESSIONS)} sessions: RSS (MB)`, 'rssSessions', 0);
  md += row('memory per session (KB)', 'perSessionKB', 1);
  md += row(`${fmt(WATCHES)} watches: RSS (MB)`, 'rssWatches', 0);
  md += row('memory per watch (bytes)', 'perWatchB', 0);
  md += `\nErrors during the load: ZooKeeper ${zk?.loadErrors ?? '–'}, zk-server ${us?.loadErrors ?? '–'}. Watch counts (mntr watch_count): ZooKeeper ${zk?.watchCount ?? '–'}, zk-server ${us?.watchCount ?? '–'}.\n`;
  fs.writeFileSync(OUT, md + (fs.existsSync(OUT) ? '' : ''));
  console.log(md);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
