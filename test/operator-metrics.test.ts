// What operators read from mntr, stat and the logs, where zk-server printed a constant or nothing
// until 2026-12-07:
//  - zk_last/min/max_client_response_size (always -1), zk_response_bytes, zk_watch_bytes (missing):
//    the same requests must give the same numbers as on Apache ZooKeeper 3.8, and srst must reset
//    them and every ServerMetrics value, as 3.8's ServerStats.reset() does (ServerMetrics.resetAll);
//  - zk_max_file_descriptor_count (always 1048576): the process's `ulimit -n`;
//  - a leader's "Proposal sizes last/min/max" line of stat and zk_*_proposal_size (missing),
//    zk_peer_state (missing), zk_learner_commit_received_count, zk_*unavailable_time;
//  - fsync.warningthresholdms (ignored) and the slow-fsync WARN, which a quorum peer never logged;
//  - zk_connection_rejected, zk_sessionless_connections_expired, zk_stale_sessions_expired.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OpCode } from '../src/data/constants';
import { killStarted } from './helpers/apache-zk';
import { MiniClient } from './helpers/miniclient';
import { until } from './helpers/rawclient';
import { BIN, ensembleSpec, fourLetter, freePort, Peers, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';
import { Side, startApacheSide, startOursSide } from './helpers/sidebyside';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-opmetrics-'));

afterEach(async () => {
  await killStarted();
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function mntr(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [k, v] = line.split('\t');
    if (k && v !== undefined) m.set(k, v);
  }
  return m;
}

const RESPONSE_KEYS = ['zk_last_client_response_size', 'zk_min_client_response_size', 'zk_max_client_response_size', 'zk_response_bytes', 'zk_watch_bytes'];

/** One fixed exchange of two sessions; returns mntr's response figures after it and after srst. */
async function exchange(port: number): Promise<{ after: Record<string, string>; reset: Record<string, string> }> {
  // no pings (MiniClient sends none unless asked) and a 30 s timeout: every packet is one of these
  const a = await MiniClient.connect(port, 30_000);
  const b = await MiniClient.connect(port, 30_000);
  expect(await a.create('/m', Buffer.alloc(300, 1))).toBe(0);
  expect((await a.getData('/m')).data?.length).toBe(300);
  const watched = await a.call(OpCode.getData, (w) => {
    w.writeString('/m');
    w.writeBool(true);
  });
  expect(watched.err).toBe(0);
  expect(await b.setData('/m', Buffer.alloc(100, 2))).toBe(0);
  await until(() => a.events.length === 1, 5000, 'the watch to fire');
  expect(await a.getChildren('/')).toContain('m');
  const missing = await a.call(OpCode.exists, (w) => {
    w.writeString('/missing');
    w.writeBool(false);
  });
  expect(missing.err).toBe(-101);
  await b.call(OpCode.closeSession, () => {});
  await a.call(OpCode.closeSession, () => {});
  a.close();
  b.close();
  const pick = (m: Map<string, string>): Record<string, string> => Object.fromEntries(RESPONSE_KEYS.map((k) => [k, m.get(k) ?? 'absent']));
  const after = mntr(await fourLetter(port, 'mntr'));
  expect(await fourLetter(port, 'srst')).toBe('Server stats reset.\n');
  const reset = mntr(await fourLetter(port, 'mntr'));
  return { after: pick(after), reset: { ...pick(reset), zk_cnt_fsynctime: reset.get('zk_cnt_fsynctime') ?? 'absent', zk_proposal_count: reset.get('zk_proposal_count') ?? 'absent' } };
}

describe.skipIf(SKIP_REAL)('client response metrics, beside Apache ZooKeeper 3.8', () => {
  beforeAll(() => {
    requireDist();
    requireApacheZk();
  });

  it('the same exchange gives the same response sizes, response bytes and watch bytes; srst resets them and the ServerMetrics', async () => {
    const results: Record<string, Awaited<ReturnType<typeof exchange>>> = {};
    for (const start of [() => startApacheSide(tmp, []), () => startOursSide([])]) {
      const side: Side = await start();
      try {
        results[side.name] = await exchange(side.port);
      } finally {
        await side.stop();
      }
    }
    const theirs = results.zookeeper;
    const ours = results['zk-server'];
    // the reference's own figures first, so a change on either side shows which one moved
    expect(theirs.after.zk_max_client_response_size).toBe('388'); // getData: 16 + 4 + 300 + stat 68
    expect(theirs.after.zk_last_client_response_size).toBe('16'); // the closeSession reply
    expect(Number(theirs.after.zk_watch_bytes)).toBeGreaterThan(0);
    expect(ours.after).toEqual(theirs.after);
    expect(theirs.reset).toEqual({
      zk_last_client_response_size: '-1',
      zk_min_client_response_size: '-1',
      zk_max_client_response_size: '-1',
      zk_response_bytes: '0',
      zk_watch_bytes: '0',
      zk_cnt_fsynctime: '0',
      zk_proposal_count: '0',
    });
    expect(ours.reset).toEqual(theirs.reset);
  }, 120_000);
});

describe('operator metrics of zk-server', () => {
  beforeAll(() => requireDist());

  let proc: ChildProcess | null = null;
  afterEach(() => {
    proc?.kill('SIGKILL');
    proc = null;
  });

  it('zk_max_file_descriptor_count is the process\'s ulimit -n; rejected and sessionless connections and expired sessions are counted', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'fds-'));
    const port = await freePort();
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(
      cfg,
      ['tickTime=200', `dataDir=${dir}/data`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1', 'maxClientCnxns=3', 'minSessionTimeout=400', 'nio.sessionlessCnxnTimeout=300', '4lw.commands.whitelist=*', 'admin.enableServer=false', ''].join('\n'),
    );
    proc = spawn('bash', ['-c', 'ulimit -n 4321 && exec "$0" "$1" start-foreground "$2"', process.execPath, BIN, cfg], { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, ZK_LOG_LEVEL: 'warn' } });
    await until(async () => /imok/.test(await fourLetter(port, 'ruok', 500)), 15_000, 'the server');
    const before = mntr(await fourLetter(port, 'mntr'));
    expect(before.get('zk_max_file_descriptor_count')).toBe('4321');
    expect(Number(before.get('zk_open_file_descriptor_count'))).toBeGreaterThan(5);

    // a session that expires: its client goes silent (no pings) for longer than its timeout
    const silent = await MiniClient.connect(port, 400);
    // three connections from 127.0.0.1 (silent's, two idle ones), then a fourth: refused
    const idle = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    for (const s of idle) s.on('error', () => {});
    await sleep(100);
    const refused = net.connect(port, '127.0.0.1');
    refused.on('error', () => {});
    await until(() => refused.destroyed, 5000, 'the fourth connection to be closed');
    // the two idle ones sent no ConnectRequest: closed after nio.sessionlessCnxnTimeout
    await until(() => idle.every((s) => s.destroyed), 5000, 'the sessionless connections to be closed');
    await until(async () => mntr(await fourLetter(port, 'mntr')).get('zk_stale_sessions_expired') === '1', 5000, 'the silent session to expire');
    const after = mntr(await fourLetter(port, 'mntr'));
    expect(after.get('zk_connection_rejected')).toBe('1');
    expect(after.get('zk_sessionless_connections_expired')).toBe('2');
    expect(after.get('zk_global_sessions')).toBe('0');
    silent.close();
  }, 60_000);

  it('a leader prints its proposal sizes; every peer its peer_state, commits received, unavailable time, and the slow-fsync WARN under fsync.warningthresholdms', async () => {
    const spec = await ensembleSpec(3, { common: ['fsync.warningthresholdms=-1', '4lw.commands.whitelist=*'] });
    const peers = new Peers(spec, 'zk-opmetrics-ens-');
    try {
      for (const i of [1, 2, 3]) peers.start(i);
      const modes = async (): Promise<string[]> => Promise.all([1, 2, 3].map((i) => peers.mode(i)));
      await peers.waitFor(async () => (await modes()).sort().join() === 'follower,follower,leader', 30_000, 'a leader and two followers');
      const ms = await modes();
      const leader = ms.indexOf('leader') + 1;
      const follower = ms.indexOf('follower') + 1;

      // the txns of a run against Apache ZooKeeper 3.8.0 whose leader then printed "Proposal sizes
      // last/min/max: 48/36/360": a session through a follower creates /big, sets 100 bytes and
      // closes; one through the leader tries to create /big again (NODEEXISTS, an error txn), sets
      // 300 bytes and closes. 36: createSession (or the error txn), 48: closeSession with its digest,
      // 360: the 300-byte setData (txn header 32, path 8, data 304, version 4, digest 12)
      const f = await MiniClient.connect(spec.clientPort(follower), 30_000);
      expect(await f.create('/big', Buffer.alloc(0))).toBe(0);
      expect(await f.setData('/big', Buffer.alloc(100, 7))).toBe(0);
      await f.call(OpCode.closeSession, () => {});
      f.close();
      const l = await MiniClient.connect(spec.clientPort(leader), 30_000);
      expect(await l.create('/big', Buffer.alloc(0))).toBe(-110);
      expect(await l.setData('/big', Buffer.alloc(300, 7))).toBe(0);
      await l.call(OpCode.closeSession, () => {});
      l.close();

      const stat = await peers.ask(leader, 'stat');
      expect(stat).toMatch(/\nProposal sizes last\/min\/max: 48\/36\/360\n$/);
      expect(await peers.ask(follower, 'stat')).not.toMatch(/Proposal sizes/);
      const lm = mntr(await peers.ask(leader, 'mntr'));
      expect([lm.get('zk_last_proposal_size'), lm.get('zk_min_proposal_size'), lm.get('zk_max_proposal_size')]).toEqual(['48', '36', '360']);
      expect(lm.get('zk_peer_state')).toBe('leading - broadcast');
      expect(Number(lm.get('zk_cnt_leader_unavailable_time'))).toBeGreaterThanOrEqual(1);
      const fm = mntr(await peers.ask(follower, 'mntr'));
      expect(fm.get('zk_peer_state')).toBe('following - broadcast');
      expect(fm.has('zk_last_proposal_size')).toBe(false);
      // eight txns, eight COMMITs to each follower
      await peers.waitFor(async () => mntr(await peers.ask(follower, 'mntr')).get('zk_learner_commit_received_count') === '8', 5000, 'eight commits on the follower');
      expect(Number(fm.get('zk_cnt_unavailable_time'))).toBeGreaterThanOrEqual(1);
      expect(fm.get('zk_cnt_leader_unavailable_time')).toBe('0');
      // srst on the leader resets its proposal sizes too (StatResetCommand)
      await peers.ask(leader, 'srst');
      expect(await peers.ask(leader, 'stat')).toMatch(/\nProposal sizes last\/min\/max: -1\/-1\/-1\n$/);
      // fsync.warningthresholdms=-1: every fsync is slower than that, and is logged on every peer
      for (const i of [1, 2, 3]) expect(peers.logs.get(i)).toMatch(/fsync-ing the write ahead log in \S+ took \d+ms/);
    } finally {
      await peers.stopAll();
    }
  }, 90_000);
});
