#!/usr/bin/env node
// Scale runs of zk-server against Apache ZooKeeper 3.8 (Debian package, /usr/share/java), driven by
// the same client (this file, over the project's jute codec), the same zoo.cfg, a fresh dataDir:
//   A. standalone, repeated --runs times, the systems interleaved per run (run 1 ZooKeeper first,
//      run 2 zk-server first, ...):
//        1. N znodes of 100 bytes (default 1,000,000, under 10 parents): load time, RSS after the
//           load has settled, snapshot write time (mntr snapshottime over the snapshots taken
//           during the load)
//        2. restart (SIGTERM, then start): time until a getData of the last znode succeeds; RSS
//        3. --sessions sessions held open (default 10,000): RSS
//        4. --watches watches (default 1,000,000) spread over those sessions (100 each), one per
//           distinct existing znode, alternately getData(watch) and exists(watch): RSS
//   B. SNAP: a 3-peer ensemble of each system, peers 1 and 2 up, peer 3 stopped with an empty
//      dataDir; N znodes created through the leader; then peer 3 is started and timed until a
//      getData of the last znode through its own client port succeeds (repeated --runs times, each
//      time with peer 3's dataDir emptied again); mntr follower_sync_time of peer 3 and the
//      leader's snap_count tell the sync's own duration and that it was a SNAP.
//
//   node bench/scale.js [--znodes 1000000] [--runs 3] [--sessions 10000] [--watches 1000000]
//                       [--base 25000] [--out FILE] [--systems zookeeper,zk-server]
//                       [--only standalone|snap|5m] [--snapcount N] [--heap MB] [--keep]
//   --only 5m = --znodes 5000000 --runs 1 --watches 0 --out docs/benchmarks-scale-5m.md (its own
//   file, so the 5M rows are one invocation that leaves docs/benchmarks-scale.md alone).
//   --watches 0 skips the sessions / watches rows.
//
// Heap: ZooKeeper gets -Xmx1000m (zkServer.sh's default) up to 1M znodes, above that
// 512 MB + 1 KB per znode, rounded up to 256 MB (5M: 5,632 MB); zk-server gets node's default heap
// limit (4,144 MB on this 23.5 GiB machine) up to 1M znodes, above that
// NODE_OPTIONS=--max-old-space-size of the same size (see heapMB()). --heap MB sets both.
// Live heap per znode, for scale: zk-server's DataTree ~350 B (100-byte data, in-process, after a
// full GC); ZooKeeper's is in the report (jcmd GC.class_histogram after the load).
//
// File descriptors: --sessions sessions need as many descriptors in this process and in the server
// (which inherits this process's limits). Node raises its own soft RLIMIT_NOFILE to the hard limit
// at startup but cannot raise the hard limit; if it is below sessions + 1,000 this script stops
// before starting anything: run `ulimit -n 65536` in the shell first (root can raise the hard
// limit) — an EMFILE while opening sessions says the same.
//
// Ports (all on 127.0.0.1, --base or BENCH_SCALE_PORT, default 25000): base (ZooKeeper standalone),
// base+1 (zk-server standalone); ensembles: base+100+{1,2,3} client, base+110+i quorum,
// base+120+i election (ZooKeeper), base+200+… the same for zk-server. A port that already answers
// stops the run (another bench on the same ports would be measured instead of ours).
// Writes --out (default docs/benchmarks-scale.md): the generated part is replaced, text after the
// marker line that starts "<!-- end of generated part" is kept (a file without it: from its first
// "## " heading on).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { zkServerNodeFlags, zkServerArgv } = require('./standalone-util.js');
const { JuteWriter, JuteReader } = require('../dist/jute/archive.js');
const { writeConnectRequest, readConnectResponse } = require('../dist/jute/records.js');

const argv = process.argv.slice(2);
const has = (k) => argv.includes(k);
const opt = (k, d) => (has(k) ? argv[argv.indexOf(k) + 1] : d);
const ROOT = path.join(__dirname, '..');
const ONLY = opt('--only', 'all');
if (!['all', 'standalone', 'snap', '5m'].includes(ONLY)) {
  console.error(`bench/scale: --only takes standalone, snap or 5m (got ${ONLY})`);
  process.exit(2);
}
const FIVE_M = ONLY === '5m';
const ZNODES = Number(opt('--znodes', FIVE_M ? 5000000 : 1000000));
const RUNS = Number(opt('--runs', FIVE_M ? 1 : 3));
const SESSIONS = Number(opt('--sessions', 10000));
const WATCHES = Number(opt('--watches', FIVE_M ? 0 : 1000000));
const SNAPCOUNT = has('--snapcount') ? Number(opt('--snapcount')) : null;
const OUT = path.resolve(opt('--out', path.join(ROOT, 'docs', FIVE_M ? 'benchmarks-scale-5m.md' : 'benchmarks-scale.md')));
const SYSTEMS = opt('--systems', 'zookeeper,zk-server').split(',');
const BASE = Number(opt('--base', process.env.BENCH_SCALE_PORT ?? 25000));
const KEEP = has('--keep'); // keep the dataDirs and logs (for profiling by hand; BENCH_LOG_LEVEL=info for zk-server's log)
const DO_STANDALONE = ONLY !== 'snap';
const DO_SNAP = ONLY !== 'standalone';
const JARS = ['zookeeper', 'zookeeper-jute', 'slf4j-api', 'slf4j-simple', 'commons-cli', 'snappy-java', 'metrics-core', 'netty-handler', 'netty-transport', 'netty-common', 'netty-buffer', 'netty-codec', 'netty-resolver', 'netty-transport-native-unix-common', 'netty-transport-classes-epoll', 'jackson-databind', 'jackson-core', 'jackson-annotations', 'audience-annotations']
  .map((j) => `/usr/share/java/${j}.jar`)
  .filter((j) => fs.existsSync(j));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ACL = [{ perms: 31, scheme: 'world', id: 'anyone' }];
const DATA = Buffer.alloc(100, 0x61);
const MARKER = '<!-- end of generated part: bench/scale.js replaces everything above this line and keeps what follows -->';
const LOADAVG0 = os.loadavg()[0];
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}] bench/scale:`, ...a);

if (SYSTEMS.includes('zookeeper') && !fs.existsSync('/usr/share/java/zookeeper.jar')) {
  console.error('bench/scale: Apache ZooKeeper is not installed (run scripts/install-test-deps.sh)');
  process.exit(1);
}
for (const [k, v] of Object.entries({ ZNODES, RUNS, SESSIONS, WATCHES, BASE })) {
  if (!Number.isInteger(v) || v < 0) {
    console.error(`bench/scale: ${k} must be a non-negative integer (got ${v})`);
    process.exit(2);
  }
}
if (WATCHES > 0 && SESSIONS < 1) {
  console.error('bench/scale: --watches needs --sessions ≥ 1');
  process.exit(2);
}

/** the soft "Max open files" of this process (node has already raised it to the hard limit) */
function openFilesLimit() {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : Infinity;
  } catch {
    return Infinity;
  }
}
const FD_NEEDED = WATCHES > 0 && DO_STANDALONE ? SESSIONS + 1000 : 0;
if (openFilesLimit() < FD_NEEDED) {
  console.error(
    `bench/scale: ${SESSIONS} sessions need ~${FD_NEEDED} open files in this process and in the server, but the limit is ${openFilesLimit()}.\n` +
      `  Raise it in the shell that runs the bench (root may raise the hard limit), e.g.:  ulimit -n 65536 && npm run bench:scale`,
  );
  process.exit(1);
}

/** the heap both systems get for `n` znodes (MB), or null for each system's default */
function heapMB(n) {
  if (has('--heap')) return Number(opt('--heap'));
  if (n <= 1000000) return null;
  return Math.ceil((512 + n / 1024) / 256) * 256;
}
const HEAP = heapMB(ZNODES);
const ZK_XMX = `-Xmx${HEAP ?? 1000}m`;
const NODE_OPTIONS = HEAP ? `--max-old-space-size=${HEAP}` : '';

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
      c.sock.on('error', (e) => {
        if (e.code === 'EMFILE' || e.code === 'ENFILE')
          e = new Error(`${e.code}: out of file descriptors while opening sessions (limit ${openFilesLimit()}); run \`ulimit -n 65536\` in the shell before the bench`);
        if (c.onHello) {
          c.onHello = null;
          reject(e);
        }
      });
      c.sock.on('close', () => {
        if (c.onHello) {
          c.onHello = null;
          reject(new Error('closed before the handshake'));
        }
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
  exists(p, watch = false) {
    return this.call(3, (w) => {
      w.writeString(p);
      w.writeBool(watch);
    });
  }
  /** a ping (xid -2, OpCode.ping), so an idle session does not expire; the reply is ignored */
  ping() {
    if (this.sock.destroyed) return;
    const w = new JuteWriter(16);
    const at = w.beginFrame();
    w.writeInt(-2);
    w.writeInt(11);
    w.endFrame(at);
    this.sock.write(w.finish());
  }
  close() {
    this.sock.destroy();
  }
}

const znodePath = (i) => `/s${i % 10}/n${i}`;

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

/**
 * zkCleanup.sh -n 3 on `dataDirs`: keep the 3 newest snapshots. Neither system purges by default
 * and every snapshot holds the whole tree, so a 5M-znode load (dozens of snapshots of up to ~1 GB)
 * would otherwise leave tens of GB per server on disk. The newest snapshot (possibly being
 * written) is never touched; txn logs are left alone.
 */
function purgeSnapshots(dataDirs) {
  let freed = 0;
  for (const d of dataDirs) {
    const v2 = path.join(d, 'version-2');
    let files;
    try {
      files = fs.readdirSync(v2).filter((f) => /^snapshot\.[0-9a-f]+$/.test(f));
    } catch {
      continue;
    }
    files.sort((a, b) => Number(BigInt(`0x${b.slice(9)}`) - BigInt(`0x${a.slice(9)}`)));
    for (const f of files.slice(3)) {
      try {
        freed += fs.statSync(path.join(v2, f)).size;
        fs.unlinkSync(path.join(v2, f));
      } catch {
        /* gone already */
      }
    }
  }
  return freed;
}

/** the load fails when nothing has been answered for this long (BENCH_LOAD_STALL_MS moves it) */
const LOAD_STALL_MS = Number(process.env.BENCH_LOAD_STALL_MS) || 120000;

async function load(port, n, dataDirs = []) {
  const purger = setInterval(() => purgeSnapshots(dataDirs), 10000);
  try {
    return await loadInner(port, n);
  } finally {
    clearInterval(purger);
    purgeSnapshots(dataDirs);
  }
}

async function loadInner(port, n) {
  // a server that stops answering (seen once: a new ZooKeeper leader of 2 peers left the load's
  // first requests unanswered) ends the run with an error instead of holding it for ever
  let sent = 0;
  let progressAt = Date.now();
  let watchdog;
  const stalled = new Promise((_, reject) => {
    watchdog = setInterval(() => {
      if (Date.now() - progressAt < LOAD_STALL_MS) return;
      reject(new Error(`the load stalled: nothing answered for ${LOAD_STALL_MS / 1000} s, ${sent.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} creates sent (port ${port})`));
    }, 1000);
  });
  const loaders = [];
  let t0 = 0;
  const work = async () => {
    for (let k = 0; k < 4; k++) loaders.push(await Client.open(port));
    for (let k = 0; k < 10; k++) {
      await loaders[0].create(`/s${k}`, Buffer.alloc(0));
      progressAt = Date.now();
    }
    t0 = Date.now();
    let lastLog = t0;
    return pipelined(loaders, n, 500, (c, i) => {
      sent = i;
      progressAt = Date.now(); // a create is sent when one in flight was answered
      if (Date.now() - lastLog > 30000) {
        lastLog = Date.now();
        log(`  … ${i.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} created`);
      }
      return c.create(znodePath(i));
    });
  };
  try {
    const errors = await Promise.race([work(), stalled]);
    return { ms: Date.now() - t0, errors };
  } finally {
    clearInterval(watchdog);
    for (const c of loaders) c.close();
  }
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

function portAnswers(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

async function assertFree(ports) {
  for (const p of ports) if (await portAnswers(p)) throw new Error(`127.0.0.1:${p} already answers: another run on the same ports? (--base moves them)`);
}

function zooCfg(dir, port, extra = '') {
  return (
    `tickTime=2000\ndataDir=${dir}/data\nclientPort=${port}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=*\nmaxSessionTimeout=120000\n` +
    (SNAPCOUNT ? `snapCount=${SNAPCOUNT}\n` : '') +
    extra
  );
}

// BENCH_NODE_ARGS: extra node flags for zk-server, as in matrix.js (profiling by hand: --cpu-prof,
// --trace-gc ...; node refuses --cpu-prof in NODE_OPTIONS)
const BENCH_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

function spawnServer(system, dir, cfg, quorum) {
  const logFd = fs.openSync(path.join(dir, `${system}.log`), 'a');
  const main = quorum ? 'org.apache.zookeeper.server.quorum.QuorumPeerMain' : 'org.apache.zookeeper.server.ZooKeeperServerMain';
  const p =
    system === 'zookeeper'
      ? spawn('java', [ZK_XMX, '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', JARS.join(':'), main, cfg], { stdio: ['ignore', logFd, logFd] })
      : spawn(process.execPath, zkServerArgv(cfg, BENCH_NODE_ARGS), {
          stdio: ['ignore', logFd, logFd],
          env: { ...process.env, ZK_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', ...(NODE_OPTIONS ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${NODE_OPTIONS}`.trim() } : {}) },
        });
  fs.closeSync(logFd);
  p.logFile = path.join(dir, `${system}.log`);
  p.on('exit', (code, sig) => {
    if (!p.stopping) log(`  ${system} (pid ${p.pid}) exited by itself: code ${code}, signal ${sig}; see ${p.logFile}`);
  });
  return p;
}

function start(system, dir, port) {
  const cfg = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(cfg, zooCfg(dir, port));
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  return spawnServer(system, dir, cfg, false);
}

/** SIGTERM, and wait for the exit (SIGKILL after 20 s); returns the ms from the signal to the exit */
async function stop(p) {
  p.stopping = true;
  if (p.exitCode !== null || p.signalCode !== null) return 0;
  const done = new Promise((r) => p.once('exit', r));
  const t0 = Date.now();
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 20000);
  await done;
  clearTimeout(t);
  return Date.now() - t0;
}

/** ms from t0 until a fresh session reads `probe` (the server is up and has its data) */
async function timeToFirstRead(port, probe, limitMs = 600000, t0 = Date.now(), proc = null) {
  while (Date.now() - t0 < limitMs) {
    if (proc && (proc.exitCode !== null || proc.signalCode !== null)) throw new Error(`the server exited (see ${proc.logFile})`);
    let c = null;
    try {
      const opening = Client.open(port);
      c = await Promise.race([opening, sleep(2000).then(() => null)]);
      if (!c) opening.then((x) => x.close(), () => {});
      if (c) {
        const err = await Promise.race([c.getData(probe), sleep(5000).then(() => -998)]);
        c.close();
        if (err === 0) return Date.now() - t0;
      }
    } catch {
      /* not listening yet, or not serving yet */
    }
    await sleep(20);
  }
  throw new Error(`no successful read of ${probe} on port ${port} within ${limitMs} ms`);
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

/** the JVM's live heap after a full GC (jcmd GC.class_histogram's total), MB */
function jvmLiveHeapMB(pid) {
  return new Promise((resolve) => {
    const j = spawn('jcmd', [String(pid), 'GC.class_histogram'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    j.stdout.on('data', (d) => (out += d));
    j.on('error', () => resolve(NaN));
    j.on('close', () => {
      const m = /^Total\s+\d+\s+(\d+)/m.exec(out);
      resolve(m ? Number(m[1]) / 2 ** 20 : NaN);
    });
  });
}

async function settle(pid, ms = 10000) {
  await sleep(ms);
  return rssMB(pid);
}

/**
 * open `n` sessions into `out`, 40 handshakes in flight: ZooKeeper listens with Java's default
 * backlog of 50, and a burst of hundreds of SYNs overflows it (the dropped ones come back after
 * the kernel's 1 s retransmit), which measured the backlog rather than the server
 */
async function openSessions(port, n, out = []) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(40, n) }, async () => {
      while (next < n) {
        const i = next++;
        try {
          out.push(await Client.open(port, { timeout: 120000 }));
        } catch (e) {
          throw new Error(`opening session ${i + 1} of ${n} failed: ${e.message} (a server out of file descriptors closes new connections: check its log and \`ulimit -n\`)`);
        }
      }
    }),
  );
  return out;
}

/**
 * `total` watches over `sessions`: session s sets its share on distinct znodes (watch j on znode
 * j mod N), alternately getData(watch) and exists(watch). Every session sends its whole share in one
 * write (corked) and 1,000 sessions are in flight at a time, so 1M watches are ~1,000 round trips.
 */
async function setWatches(sessions, total) {
  const per = Math.ceil(total / sessions.length);
  let errors = 0;
  const GROUP = 1000;
  for (let g = 0; g < sessions.length; g += GROUP) {
    const group = sessions.slice(g, g + GROUP);
    await Promise.all(
      group.map((c, k) => {
        const s = g + k;
        const ps = [];
        c.sock.cork();
        for (let i = 0; i < per && s * per + i < total; i++) {
          const j = s * per + i;
          const p = znodePath(j % ZNODES);
          ps.push((i % 2 === 0 ? c.getData(p, true) : c.exists(p, true)).then((err) => err !== 0 && errors++));
        }
        c.sock.uncork();
        return Promise.all(ps);
      }),
    );
  }
  return errors;
}

async function runStandalone(system, port, run) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zk-scale-${system}-`));
  const r = { system, run };
  let p = null;
  try {
    await assertFree([port]);
    p = start(system, dir, port);
    await timeToFirstRead(port, '/zookeeper', 60000, Date.now(), p);
    r.rssIdle = await settle(p.pid, 3000);
    const m0 = await fourLetter(port, 'mntr');

    // 1. N znodes of 100 bytes
    const l = await load(port, ZNODES, [path.join(dir, 'data')]);
    r.loadMs = l.ms;
    r.loadErrors = l.errors;
    r.rssLoaded = await settle(p.pid, 15000);
    const mntr = await fourLetter(port, 'mntr');
    // the snapshots taken during the load only (not the empty startup snapshot)
    r.snapshots = mntrValue(mntr, 'cnt_snapshottime') - mntrValue(m0, 'cnt_snapshottime');
    r.snapshottimeAvg = r.snapshots > 0 ? (mntrValue(mntr, 'sum_snapshottime') - mntrValue(m0, 'sum_snapshottime')) / r.snapshots : NaN;
    r.znodes = mntrValue(mntr, 'znode_count');
    if (system === 'zk-server') r.heapUsedMB = mntrValue(mntr, 'heap_used_bytes') / 2 ** 20;
    else r.liveHeapMB = await jvmLiveHeapMB(p.pid); // a full GC: after the RSS reading, and the process is restarted next

    // 2. restart
    r.stopMs = await stop(p);
    r.snapshot = snapshotInfo(dir);
    p = start(system, dir, port);
    r.restartMs = await timeToFirstRead(port, znodePath(ZNODES - 1), 600000, Date.now(), p);
    r.rssRestarted = await settle(p.pid, 10000);

    // 3. sessions, 4. watches
    if (WATCHES > 0) {
      const t0 = Date.now();
      const sessions = [];
      // 10k sessions and 1M watches can take minutes on ZooKeeper: keep every session alive
      const pinger = setInterval(() => sessions.forEach((c) => c.ping()), 20000);
      try {
        await openSessions(port, SESSIONS, sessions);
        r.sessionsMs = Date.now() - t0;
        r.rssSessions = await settle(p.pid, 5000);
        r.perSessionKB = ((r.rssSessions - r.rssRestarted) * 1024) / SESSIONS;
        const t1 = Date.now();
        r.watchErrors = await setWatches(sessions, WATCHES);
        r.watchesMs = Date.now() - t1;
        r.rssWatches = await settle(p.pid, 5000);
        r.watchCount = mntrValue(await fourLetter(port, 'mntr'), 'watch_count');
        r.perWatchB = ((r.rssWatches - r.rssSessions) * 2 ** 20) / WATCHES;
      } finally {
        clearInterval(pinger);
        for (const c of sessions) c.close();
      }
    }
    await stop(p);
  } finally {
    if (p) await stop(p).catch(() => {});
    if (KEEP) console.log(`bench/scale: kept ${system}'s dataDir ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  return r;
}

// ---------- SNAP to a peer that joins with an empty dataDir ----------
function ensemblePorts(system) {
  const off = BASE + (system === 'zookeeper' ? 100 : 200);
  return [1, 2, 3].map((i) => ({ client: off + i, quorum: off + 10 + i, election: off + 20 + i }));
}

async function modeOf(port) {
  const m = /^Mode: (\S+)/m.exec(await fourLetter(port, 'srvr'));
  return m ? m[1] : null;
}

async function runSnap(system) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `zk-scale-snap-${system}-`));
  const ports = ensemblePorts(system);
  // the joining peer has to take the snapshot and ack NEWLEADER within initLimit ticks
  const initLimit = 10 + 10 * Math.ceil(ZNODES / 1000000);
  const servers = ports.map((p, j) => `server.${j + 1}=127.0.0.1:${p.quorum}:${p.election}`).join('\n');
  const cfgs = ports.map((p, j) => {
    const d = path.join(root, `n${j + 1}`);
    fs.mkdirSync(path.join(d, 'data'), { recursive: true });
    fs.writeFileSync(path.join(d, 'data', 'myid'), `${j + 1}\n`);
    const cfg = path.join(d, 'zoo.cfg');
    fs.writeFileSync(cfg, zooCfg(d, p.client, `initLimit=${initLimit}\nsyncLimit=5\n${servers}\n`));
    return { dir: d, cfg };
  });
  const procs = [];
  const r = { system, joins: [], initLimit };
  try {
    await assertFree(ports.flatMap((p) => [p.client, p.quorum, p.election]));
    procs[0] = spawnServer(system, cfgs[0].dir, cfgs[0].cfg, true);
    procs[1] = spawnServer(system, cfgs[1].dir, cfgs[1].cfg, true);
    let leader = -1;
    for (let t = 0; t < 1200 && leader < 0; t++) {
      const modes = await Promise.all([0, 1].map((i) => modeOf(ports[i].client)));
      if (modes.includes('leader') && modes.includes('follower')) leader = modes.indexOf('leader');
      else await sleep(100);
    }
    if (leader < 0) throw new Error(`${system}: peers 1 and 2 elected no leader within 120 s`);
    log(`  ${system} ensemble: peer ${leader + 1} leads; loading ${ZNODES.toLocaleString('en-US')} znodes through it`);
    const l = await load(ports[leader].client, ZNODES, [0, 1].map((i) => path.join(cfgs[i].dir, 'data')));
    r.loadMs = l.ms;
    r.loadErrors = l.errors;
    await sleep(5000);
    const probe = znodePath(ZNODES - 1);
    for (let run = 1; run <= RUNS; run++) {
      fs.rmSync(path.join(cfgs[2].dir, 'data', 'version-2'), { recursive: true, force: true });
      const snaps0 = mntrValue(await fourLetter(ports[leader].client, 'mntr'), 'snap_count');
      const t0 = Date.now();
      procs[2] = spawnServer(system, cfgs[2].dir, cfgs[2].cfg, true);
      const ms = await timeToFirstRead(ports[2].client, probe, 600000, t0, procs[2]);
      const m3 = await fourLetter(ports[2].client, 'mntr');
      const snaps1 = mntrValue(await fourLetter(ports[leader].client, 'mntr'), 'snap_count');
      const j = { run, ms, syncMs: mntrValue(m3, 'max_follower_sync_time'), snapsSent: snaps1 - snaps0, mode: await modeOf(ports[2].client), rss: await settle(procs[2].pid, 5000) };
      r.joins.push(j);
      log(`  ${system} join ${run}: ${JSON.stringify(j)}`);
      await stop(procs[2]);
    }
  } finally {
    for (const p of procs) if (p) await stop(p).catch(() => {});
    if (KEEP) console.log(`bench/scale: kept ${system}'s ensemble directory ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  }
  return r;
}

// ---------- report ----------
const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
const ratioOf = (us, zk) => (Number.isFinite(us) && Number.isFinite(zk) && zk !== 0 ? us / zk : NaN);

/** one row: per run "ZooKeeper / zk-server (ratio)", the worst ratio, the goal and whether every run met it */
function runRow(label, pairs, goal, d = 0, noRatio = false) {
  const ratios = pairs.map(([zk, us]) => (noRatio ? NaN : ratioOf(us, zk)));
  const cells = pairs.map(([zk, us], i) => `${fmt(zk, d)} / ${fmt(us, d)}${noRatio ? '' : ` (${fmt(ratios[i], 2)})`}`);
  const finite = ratios.filter(Number.isFinite);
  const worst = finite.length === ratios.length && finite.length ? Math.max(...finite) : NaN;
  const verdict = goal == null ? '' : !Number.isFinite(worst) ? 'no data' : worst <= goal ? '**met**' : '**missed**';
  return `| ${label} | ${cells.join(' | ')} | ${fmt(worst, 2)} | ${goal == null ? '' : `≤ ${goal.toFixed(1)}`} | ${verdict} |\n`;
}

function report(standalone, snap) {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const cmd = `node bench/scale.js ${argv.join(' ')}`.trim();
  let md = `# Scale: zk-server against Apache ZooKeeper 3.8${FIVE_M ? ` (${fmt(ZNODES)} znodes)` : ''}\n\n`;
  md += `Generated by \`bench/scale.js\` (\`npm run bench:scale${argv.length ? ` -- ${argv.join(' ')}` : ''}\`).\n\n`;
  md += `- date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}\n`;
  md += `- machine: ${os.hostname()}, ${os.cpus().length} CPUs (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}; Node ${process.version}; ZooKeeper ${zkVersion()} on ${javaVersion()}\n`;
  md += `- load average (1 min) at the start / end of the bench: ${LOADAVG0.toFixed(2)} / ${os.loadavg()[0].toFixed(2)} (other work on the machine shows here)\n`;
  md += `- command: \`${cmd}\` (znodes ${fmt(ZNODES)}, runs ${RUNS}, sessions ${fmt(SESSIONS)}, watches ${fmt(WATCHES)}, ports from ${BASE})\n`;
  const heapNote = has('--heap') ? ' (--heap)' : ' (512 MB + 1 KB per znode, rounded up to 256 MB)';
  md += `- heap: ZooKeeper \`java ${ZK_XMX}\`${HEAP ? heapNote : " (zkServer.sh's default)"}; zk-server \`${NODE_OPTIONS ? `NODE_OPTIONS=${NODE_OPTIONS} ` : ''}node ${zkServerNodeFlags().join(' ')} bin/zk-server.js start-foreground\`${HEAP ? ' (the same size)' : ` (node's default heap limit, ${Math.round(require('node:v8').getHeapStatistics().heap_size_limit / 2 ** 20)} MB here)`}\n`;
  md += `- both: the same zoo.cfg (forceSync=yes, snapCount ${SNAPCOUNT ?? 'default'}, maxClientCnxns=0, maxSessionTimeout=120000), a fresh dataDir in ${os.tmpdir()}, logs at WARN; during a load the bench deletes all but the 3 newest snapshots every 10 s (what \`zkCleanup.sh -n 3\` does; txn logs are kept), so a 5M-znode load does not fill the disk.\n`;
  md += `- warm-up and method: no separate warm-up — every run starts a fresh server process on an empty dataDir, so the JVM's and V8's JIT warm up inside the load; the restart, sessions and watches rows come after ${fmt(ZNODES)} creates and are warm. One system at a time, nothing else started by the bench running beside it; in the standalone runs the order alternates (run 1 ZooKeeper first, run 2 zk-server first, …) so a drift in the machine's load does not always favour the same system. RSS is VmRSS of the server process from /proc.\n`;
  md += `- client: this script over the project's jute codec; the load is ${fmt(ZNODES)} znodes of 100 bytes under 10 parents (\`/s{i mod 10}/n{i}\`), 4 sessions with 500 creates in flight each.\n`;
  md += `- ratio = zk-server / ZooKeeper; the goal holds when every run's ratio is within it; "worst" is the highest ratio over the runs.\n\n`;

  if (standalone.length) {
    const runs = [...new Set(standalone.map((r) => r.run))].sort((a, b) => a - b);
    const get = (run, sys) => standalone.find((r) => r.run === run && r.system === sys) ?? {};
    const pairs = (f) => runs.map((run) => [f(get(run, 'zookeeper')), f(get(run, 'zk-server'))]);
    md += `## Standalone: ${fmt(ZNODES)} znodes, restart${WATCHES > 0 ? `, ${fmt(SESSIONS)} sessions, ${fmt(WATCHES)} watches` : ''}\n\n`;
    md += `Per run: load; RSS (VmRSS) 15 s after the load; mntr's snapshottime over the snapshots taken during the load (sum / count, not counting the empty startup snapshot); SIGTERM and the time until the process exits (zk-server writes a snapshot at a clean stop, so that its next start replays no log: docs/persistence.md); start, time until a new session's getData of the last znode succeeds; RSS 10 s later.`;
    if (WATCHES > 0) md += ` Then ${fmt(SESSIONS)} sessions are opened (40 handshakes in flight) and RSS read 5 s later; then ${fmt(WATCHES)} watches, ${fmt(Math.ceil(WATCHES / SESSIONS))} per session, each on a distinct existing znode, alternately getData(watch=true) and exists(watch=true), every session's requests in one write and 1,000 sessions at a time; RSS 5 s later.`;
    md += `\n\nCells: ZooKeeper / zk-server (ratio).\n\n`;
    md += `| | ${runs.map((r) => `run ${r}`).join(' | ')} | worst | goal | |\n|---|${runs.map(() => '--:|').join('')}--:|---|---|\n`;
    md += runRow('RSS idle, empty tree (MB)', pairs((r) => r.rssIdle));
    md += runRow(`load ${fmt(ZNODES)} znodes (ms)`, pairs((r) => r.loadMs));
    md += runRow('RSS after the load (MB)', pairs((r) => r.rssLoaded), 0.5);
    md += runRow('bytes per znode ((RSS loaded − RSS idle) / N)', pairs((r) => ((r.rssLoaded - r.rssIdle) * 2 ** 20) / ZNODES));
    md += runRow('snapshot on disk (MB)', pairs((r) => (r.snapshot ? r.snapshot.size / 2 ** 20 : NaN)), null, 1);
    md += runRow('snapshots taken during the load', pairs((r) => r.snapshots));
    md += runRow('snapshot write time, mean (ms, mntr snapshottime)', pairs((r) => r.snapshottimeAvg), 1.0);
    md += runRow('stop, SIGTERM to exit (ms)', pairs((r) => r.stopMs));
    md += runRow('restart to first read of the last znode (ms)', pairs((r) => r.restartMs), 0.5);
    md += runRow('RSS after the restart (MB)', pairs((r) => r.rssRestarted), 0.5);
    if (WATCHES > 0) {
      md += runRow(`open ${fmt(SESSIONS)} sessions (ms)`, pairs((r) => r.sessionsMs));
      md += runRow(`RSS with ${fmt(SESSIONS)} sessions (MB)`, pairs((r) => r.rssSessions));
      md += runRow('memory per session (KB)', pairs((r) => r.perSessionKB), null, 1);
      md += runRow(`set ${fmt(WATCHES)} watches (ms)`, pairs((r) => r.watchesMs));
      md += runRow(`RSS with ${fmt(WATCHES)} watches (MB)`, pairs((r) => r.rssWatches), 0.5);
      md += runRow('memory per watch (bytes)', pairs((r) => r.perWatchB));
    }
    const list = (k) => runs.map((run) => `${get(run, 'zookeeper')[k] ?? '–'} / ${get(run, 'zk-server')[k] ?? '–'}`).join(', ');
    md += `\nPer run, ZooKeeper / zk-server: errors during the load ${list('loadErrors')}; znode_count after the load ${list('znodes')}`;
    if (WATCHES > 0) md += `; failed watch requests ${list('watchErrors')}; mntr watch_count ${list('watchCount')}`;
    md += `.\n\nHeap after the load (MB; for sizing the heap at larger N): ZooKeeper's live heap after a full GC (\`jcmd GC.class_histogram\`, taken after the RSS reading; includes the empty server's few MB) ${runs.map((run) => fmt(get(run, 'zookeeper').liveHeapMB)).join(', ')}, i.e. ${runs.map((run) => fmt((get(run, 'zookeeper').liveHeapMB * 2 ** 20) / ZNODES)).join(', ')} B per znode; zk-server's heap in use (mntr heap_used_bytes, no forced GC) ${runs.map((run) => fmt(get(run, 'zk-server').heapUsedMB)).join(', ')}.\n\n`;
  }

  if (snap.length) {
    const zk = snap.find((r) => r.system === 'zookeeper') ?? { joins: [] };
    const us = snap.find((r) => r.system === 'zk-server') ?? { joins: [] };
    const n = Math.max(zk.joins.length, us.joins.length);
    const idx = Array.from({ length: n }, (_, i) => i);
    const pairs = (f) => idx.map((i) => [zk.joins[i] ? f(zk.joins[i]) : NaN, us.joins[i] ? f(us.joins[i]) : NaN]);
    md += `## SNAP: a peer joins a 3-peer ensemble holding ${fmt(ZNODES)} znodes\n\n`;
    md += `Each system on its own: peers 1 and 2 started (peer 3 stopped, its dataDir empty), the same load through the leader, 5 s pause; then, ${RUNS === 1 ? 'once' : `${RUNS} times`}, peer 3's version-2 directory is emptied, peer 3 started, and the time from its spawn until a getData of the last znode through peer 3's own client port succeeds is taken (polling with a fresh session every ~20 ms); then peer 3 is stopped. "sync" is peer 3's mntr max_follower_sync_time (the learner's own measure of connecting to the leader through the end of the sync); "SNAPs sent" is the leader's mntr snap_count delta (1 = the sync was a SNAP, not a DIFF). initLimit=${zk.initLimit ?? us.initLimit} ticks of 2 s (10 + 10 per million znodes), syncLimit=5.\n\n`;
    md += `Load through the leader: ZooKeeper ${fmt(zk.loadMs)} ms, zk-server ${fmt(us.loadMs)} ms (ratio ${fmt(ratioOf(us.loadMs, zk.loadMs), 2)}); errors ${zk.loadErrors ?? '–'} / ${us.loadErrors ?? '–'}.\n\n`;
    md += `Cells: ZooKeeper / zk-server (ratio).\n\n`;
    md += `| | ${idx.map((i) => `join ${i + 1}`).join(' | ')} | worst | goal | |\n|---|${idx.map(() => '--:|').join('')}--:|---|---|\n`;
    md += runRow('start of peer 3 to its first read of the last znode (ms)', pairs((j) => j.ms), 0.5);
    md += runRow('sync with the leader (ms, mntr follower_sync_time)', pairs((j) => j.syncMs));
    md += runRow('SNAPs sent by the leader', pairs((j) => j.snapsSent), null, 0, true);
    md += runRow('RSS of peer 3, 5 s after its first read (MB)', pairs((j) => j.rss));
    md += '\n';
  }
  return md;
}

function zkVersion() {
  try {
    const j = fs.readdirSync('/usr/share/java').find((f) => /^zookeeper-\d[\d.]*\.jar$/.test(f));
    return j ? j.slice('zookeeper-'.length, -'.jar'.length) : '3.8';
  } catch {
    return '3.8';
  }
}

function javaVersion() {
  try {
    const out = require('node:child_process').spawnSync('java', ['-version'], { encoding: 'utf8' });
    return (/version "([^"]+)"/.exec(out.stderr) ?? [])[1] ? `Java ${/version "([^"]+)"/.exec(out.stderr)[1]}` : 'Java ?';
  } catch {
    return 'Java ?';
  }
}

function writeOut(md) {
  let kept = '';
  if (fs.existsSync(OUT)) {
    const old = fs.readFileSync(OUT, 'utf8');
    const at = old.indexOf(MARKER);
    if (at >= 0) kept = old.slice(at + MARKER.length);
    else {
      // a file from before the marker: keep its hand-written sections (from the first "## " on)
      const h = old.search(/^## /m);
      if (h >= 0) kept = '\n\n' + old.slice(h);
    }
  }
  fs.writeFileSync(OUT, `${md}${MARKER}${kept || '\n'}`);
}

(async () => {
  log(`znodes ${ZNODES}, runs ${RUNS}, sessions ${SESSIONS}, watches ${WATCHES}, systems ${SYSTEMS.join(',')}, only ${ONLY}, base port ${BASE}, heap ${HEAP ?? 'default'}; writing ${OUT}`);
  const standalone = [];
  const snap = [];
  if (DO_STANDALONE) {
    for (let run = 1; run <= RUNS; run++) {
      const order = run % 2 === 1 ? SYSTEMS : [...SYSTEMS].reverse();
      for (const s of order) {
        log(`run ${run}/${RUNS}: ${s} standalone ...`);
        const r = await runStandalone(s, BASE + (s === 'zookeeper' ? 0 : 1), run);
        standalone.push(r);
        log(JSON.stringify(r));
      }
    }
  }
  if (DO_SNAP) {
    for (const s of SYSTEMS) {
      log(`SNAP: ${s} ensemble ...`);
      const r = await runSnap(s);
      snap.push(r);
      log(JSON.stringify(r));
    }
  }
  const md = report(standalone, snap);
  writeOut(md);
  console.log(md);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
