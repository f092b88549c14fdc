#!/usr/bin/env node
// The hour a production user lives through: a 3-voter + 1-observer zk-server ensemble on loopback
// under bench/Soak.java (the Apache ZooKeeper Java client and Curator: long-lived pinging sessions on
// every server, session churn, sessions abandoned without closeSession, watches of every kind,
// multi, sync, a Curator lock, latch and cache), no faults, for --duration seconds. Samples every
// peer's mntr and /proc every --sample-s seconds and each V8 full GC (--trace-gc), then reports per
// peer what an operator would look at after an hour: RSS, the live heap after full GCs (a leak
// shows as a climb), file descriptors, sessions, watches, dataDir size, CPU, and whether the peers
// end with the same tree.
//   node bench/soak.js [--duration 3600] [--sample-s 30] [--pace-ms 4] [--out FILE.md]
//                      [--json FILE.jsonl] [--keep]
// Exits 1 when the client saw a problem (its list is in the report) or the peers disagree.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { sleep, freePort, ask, track, killAll, usage, zkServerArgv } = require('./standalone-util.js');

const args = process.argv.slice(2);
const KNOWN = { '--duration': true, '--sample-s': true, '--pace-ms': true, '--out': true, '--json': true, '--keep': false };
// --help (or anything unknown) prints the header above and exits: a mistyped flag must not start an hour-long run
for (let i = 0; i < args.length; i++) {
  if (!(args[i] in KNOWN)) {
    const help = args[i] === '--help' || args[i] === '-h';
    (help ? console.log : console.error)((help ? '' : `bench/soak: unknown option ${args[i]}\n\n`) + usage(__filename));
    process.exit(help ? 0 : 2);
  }
  if (KNOWN[args[i]] && (args[i + 1] === undefined || args[i + 1].startsWith('--'))) {
    console.error(`bench/soak: ${args[i]} needs a value`);
    process.exit(2);
  }
  if (KNOWN[args[i]]) i++;
}
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const DURATION_S = Number(opt('--duration', 3600));
const SAMPLE_S = Number(opt('--sample-s', 30));
const PACE_MS = Number(opt('--pace-ms', 4));
for (const [k, v] of [['--duration', DURATION_S], ['--sample-s', SAMPLE_S], ['--pace-ms', PACE_MS]]) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`bench/soak: ${k} must be a positive number`);
    process.exit(2);
  }
}
const OUT = opt('--out', null);
const JSONL = opt('--json', null);
const KEEP = args.includes('--keep');
const ROOT = path.join(__dirname, '..');
const PEERS = 4; // server.1-3 vote, server.4 observes
const log = (...a) => console.error(new Date().toISOString().slice(11, 19), ...a);

if (!fs.existsSync(path.join(ROOT, 'dist', 'cli.js'))) {
  console.error('zk-server is not built: run `npm run build` first');
  process.exit(2);
}
for (const j of ['zookeeper', 'curator-recipes', 'curator-framework', 'curator-client']) {
  if (!fs.existsSync(`/usr/share/java/${j}.jar`)) {
    console.error(`/usr/share/java/${j}.jar is missing: sudo bash scripts/install-test-deps.sh`);
    process.exit(2);
  }
}

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

function mntr(port) {
  return ask(port, 'mntr').then((text) => {
    const m = {};
    for (const line of text.split('\n')) {
      const [k, v] = line.split('\t');
      if (k && v !== undefined) m[k.replace(/^zk_/, '')] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    }
    return m;
  });
}

function cpuSeconds(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime + stime, CLK_TCK 100
  } catch {
    return NaN;
  }
}

function diskBytes(dir) {
  let sum = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sum += diskBytes(p);
    else sum += fs.statSync(p).blocks * 512;
  }
  return sum;
}

/** Each V8 full GC in a --trace-gc log: [ms since the process started, MB live after it]. */
function fullGcs(file) {
  const out = [];
  const re = /\s(\d+) ms: Mark-Compact(?: \([^)]*\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = re.exec(line);
    if (m) out.push([Number(m[1]), Number(m[2])]);
  }
  return out;
}

const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
/** Least-squares slope of ys over xs. */
function slope(xs, ys) {
  const n = xs.length;
  if (n < 3) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : NaN;
}
const MB = (b) => (b / 2 ** 20).toFixed(1);

async function main() {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-soak-'));
  const ports = [];
  for (let i = 0; i < PEERS * 3; i++) ports.push(await freePort());
  const client = (i) => ports[i];
  const quorum = (i) => ports[PEERS + i];
  const election = (i) => ports[2 * PEERS + i];
  const serverLines = [];
  for (let i = 0; i < PEERS; i++) {
    serverLines.push(`server.${i + 1}=127.0.0.1:${quorum(i)}:${election(i)}${i === 3 ? ':observer' : ''}`);
  }
  const peers = [];
  for (let i = 0; i < PEERS; i++) {
    const dir = path.join(base, `s${i + 1}`);
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'data', 'myid'), `${i + 1}\n`);
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(
      cfg,
      [
        'tickTime=2000',
        'initLimit=10',
        'syncLimit=5',
        `dataDir=${path.join(dir, 'data')}`,
        `clientPort=${client(i)}`,
        'clientPortAddress=127.0.0.1',
        '4lw.commands.whitelist=*',
        'admin.enableServer=false',
        'maxClientCnxns=0',
        'autopurge.snapRetainCount=3',
        'autopurge.purgeInterval=1',
        ...(i === 3 ? ['peerType=observer'] : []),
        ...serverLines,
        '',
      ].join('\n'),
    );
    const logFile = path.join(dir, 'server.log');
    const fd = fs.openSync(logFile, 'a');
    const p = track(
      spawn(process.execPath, zkServerArgv(cfg, ['--trace-gc']), {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, ZK_LOG_LEVEL: process.env.ZK_LOG_LEVEL || 'warn' },
      }),
    );
    fs.closeSync(fd);
    peers.push({ i, dir, data: path.join(dir, 'data'), port: client(i), proc: p, logFile, samples: [] });
  }
  log(`soak: 4 peers in ${base} (client ports ${peers.map((p) => p.port).join(', ')})`);
  for (let t = 0; ; t++) {
    const modes = await Promise.all(peers.map((p) => ask(p.port, 'srvr').then((s) => /Mode: (\S+)/.exec(s)?.[1] ?? '')));
    if (modes.filter((m) => m === 'leader').length === 1 && modes.every((m) => m)) {
      log(`soak: serving, modes ${modes.join(', ')}`);
      peers.forEach((p, k) => (p.role = modes[k]));
      break;
    }
    for (const p of peers) if (p.proc.exitCode !== null) throw new Error(`peer ${p.i + 1} exited: see ${p.logFile}`);
    if (t > 600) throw new Error('the ensemble did not come up in 60 s');
    await sleep(100);
  }

  // the client
  const classes = path.join(base, 'classes');
  fs.mkdirSync(classes);
  execFileSync('javac', ['-nowarn', '-encoding', 'UTF-8', '-cp', '/usr/share/java/*', '-d', classes, path.join(__dirname, 'Soak.java')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const clientLog = path.join(base, 'client.log');
  const cfd = fs.openSync(clientLog, 'a');
  const servers = peers.map((p) => `127.0.0.1:${p.port}`).join(',');
  const java = track(
    spawn('java', ['-Xmx512m', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', `${classes}:/usr/share/java/*`, 'Soak', '--servers', servers, '--duration', String(DURATION_S), '--pace-ms', String(PACE_MS)], {
      stdio: ['ignore', 'pipe', cfd],
    }),
  );
  fs.closeSync(cfd);
  const statuses = [];
  let buf = '';
  java.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const s = JSON.parse(line);
        statuses.push(s);
        if (s.t_s % 60 < 10 || s.final) log(`client: ${line.length > 400 ? line.slice(0, 400) + '…' : line}`);
      } catch {
        log(`client: ${line}`);
      }
    }
  });
  const javaDone = new Promise((r) => java.once('exit', (code) => r(code)));
  const t0 = Date.now();
  const jsonl = JSONL ? fs.openSync(JSONL, 'w') : null;

  async function sample(phase) {
    const t = (Date.now() - t0) / 1000;
    const rows = await Promise.all(
      peers.map(async (p) => {
        const m = await mntr(p.port);
        return {
          t,
          phase,
          peer: p.i + 1,
          state: m.server_state,
          rss: m.rss_bytes,
          heap: m.heap_used_bytes,
          fds: m.open_file_descriptor_count,
          conns: m.num_alive_connections,
          sessions: m.global_sessions,
          watches: m.watch_count,
          ephemerals: m.ephemerals_count,
          znodes: m.znode_count,
          zxid: m.last_processed_zxid ?? null,
          cpu: cpuSeconds(p.proc.pid),
          disk: diskBytes(p.data),
        };
      }),
    );
    for (const r of rows) {
      peers[r.peer - 1].samples.push(r);
      if (jsonl) fs.writeSync(jsonl, JSON.stringify(r) + '\n');
    }
    return rows;
  }

  let exitCode = null;
  javaDone.then((c) => (exitCode = c));
  await sample('start');
  while (exitCode === null) {
    const until = Date.now() + SAMPLE_S * 1000;
    while (Date.now() < until && exitCode === null) await sleep(200);
    if (exitCode !== null) break;
    // the client's own clock starts a moment after t0, so a sample before DURATION_S is under load
    const rows = await sample((Date.now() - t0) / 1000 < DURATION_S ? 'load' : 'winddown');
    const m = Math.round(rows[0].t / 60);
    if (Math.round(rows[0].t) % 300 < SAMPLE_S) {
      log(`t=${m} min: ` + rows.map((r) => `s${r.peer} ${r.state} rss ${MB(r.rss)} heap ${MB(r.heap)} fds ${r.fds} sess ${r.sessions} watches ${r.watches}`).join(' | '));
    }
    for (const p of peers) if (p.proc.exitCode !== null) throw new Error(`peer ${p.i + 1} exited during the soak: see ${p.logFile}`);
  }
  const final = statuses.find((s) => s.final);
  // quiet: every session closed or expired; sample once the idle collector has had its turn
  await sleep(20_000);
  const after = await sample('after');

  // the same tree everywhere? (the last zxid and the counts; the digest when the peers expose it)
  const dumps = await Promise.all(peers.map((p) => ask(p.port, 'mntr')));
  const digestOf = (text) => /zk_digest\t(\S+)/.exec(text)?.[1] ?? null;
  const agree =
    new Set(after.map((r) => `${r.znodes}/${r.ephemerals}`)).size === 1 &&
    new Set(dumps.map(digestOf)).size === 1;

  // what each dataDir holds at the end: snapshots and txn log files (the roll and autopurge at work)
  for (const p of peers) {
    const names = fs.readdirSync(path.join(p.data, 'version-2'));
    p.snapshots = names.filter((f) => f.startsWith('snapshot.')).length;
    p.logs = names.filter((f) => f.startsWith('log.')).length;
  }
  for (const p of peers) p.proc.kill('SIGTERM');
  await Promise.all(peers.map((p) => new Promise((r) => (p.proc.exitCode !== null ? r() : p.proc.once('exit', r)))));

  // the report
  const lines = [];
  const dur = (Date.now() - t0) / 1000;
  lines.push(`- date: ${new Date(t0).toISOString().slice(0, 19)}Z, ${Math.round(dur / 60)} min; ${os.cpus().length} CPUs; Node ${process.version}; \`node bench/soak.js --duration ${DURATION_S} --pace-ms ${PACE_MS}\``);
  const c = final ?? statuses[statuses.length - 1] ?? {};
  const skip = new Set(['t_s', 'final', 'problem_log', 'problems', 'latch_leaders', 'oldest_abandoned_seen_ms']);
  const totals = Object.entries(c)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => `${k} ${Number(v).toLocaleString('en-US')}`)
    .join(', ');
  lines.push(`- client: ${totals}`);
  lines.push(`- problems seen by the client: **${c.problems ?? 'no final line'}**${c.problem_log?.length ? ': ' + c.problem_log.slice(0, 10).join('; ') : ''}; oldest abandoned ephemeral seen ${c.oldest_abandoned_seen_ms} ms after its socket closed`);
  lines.push(`- peers agree at the end (znode and ephemeral counts${dumps.some(digestOf) ? ', digest' : ''}): **${agree ? 'yes' : 'NO'}**`);
  lines.push('');
  lines.push('| peer | role | CPU s | RSS MB at 5 min → end of load → idle after | live heap after full GCs, MB: first 15 min → last 15 min (slope MB/h over the 2nd half) | full GCs | fds at 5 min → end → after | sessions / watches at the end of load → after | dataDir MB at 5 min → end | snapshots / log files at the end |');
  lines.push('|---|---|--:|---|---|--:|---|---|---|---|');
  for (const p of peers) {
    const load = p.samples.filter((s) => s.phase === 'load');
    const at5 = load.find((s) => s.t >= Math.min(300, DURATION_S / 2)) ?? load[0];
    const last = load[load.length - 1];
    const aft = p.samples[p.samples.length - 1];
    const gcs = fullGcs(p.logFile);
    const end = gcs.length ? gcs[gcs.length - 1][0] : 0;
    const span = dur * 1000;
    const startMs = end - span; // the process started a few seconds before t0
    const early = gcs.filter(([ms]) => ms - startMs < 15 * 60_000).map(([, mb]) => mb);
    const late = gcs.filter(([ms]) => end - ms < 15 * 60_000 && ms - startMs > 15 * 60_000).map(([, mb]) => mb);
    const half = gcs.filter(([ms]) => ms - startMs > span / 2);
    const s = slope(half.map(([ms]) => ms / 3.6e6), half.map(([, mb]) => mb));
    lines.push(
      `| ${p.i + 1} | ${p.role} | ${(aft.cpu - p.samples[0].cpu).toFixed(0)} | ${MB(at5.rss)} → ${MB(last.rss)} → ${MB(aft.rss)} | ${median(early).toFixed(1)} → ${late.length ? median(late).toFixed(1) : 'n/a'} (${Number.isNaN(s) ? 'n/a' : (s >= 0 ? '+' : '') + s.toFixed(1)}) | ${gcs.length} | ${at5.fds} → ${last.fds} → ${aft.fds} | ${last.sessions} / ${last.watches} → ${aft.sessions} / ${aft.watches} | ${MB(at5.disk)} → ${MB(last.disk)} | ${p.snapshots} / ${p.logs} |`,
    );
  }
  const report = lines.join('\n') + '\n';
  process.stdout.write(report);
  if (OUT) fs.writeFileSync(OUT, report);
  if (jsonl) fs.closeSync(jsonl);
  if (!KEEP) fs.rmSync(base, { recursive: true, force: true });
  else log(`kept ${base}`);
  const ok = exitCode === 0 && agree;
  log(ok ? 'soak: PASS' : `soak: FAIL (client exit ${exitCode}, peers agree: ${agree})`);
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  killAll();
  process.exit(1);
});
