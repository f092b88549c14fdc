// Network partitions with real zk-server processes, each in its own network namespace that this
// test makes (test/helpers/netns.ts; root and iproute2 needed, else the suite is skipped and says
// why). The leader is cut off from both followers while clients still reach every peer:
//  - the old leader stops serving within syncLimit ticks (ZooKeeper's Leader.lead quorum check);
//  - the majority elects a new leader and takes writes;
//  - sessions held by clients that ping and fail over as real clients do are never lost, on any
//    peer: the number of sessions expired while their client kept pinging must be zero;
//  - the ephemeral of a session abandoned on the minority side goes only when the majority expires
//    it, a full timeout after it took the session over;
//  - with -Dreadonlymode.enabled=true the cut-off peer then serves read-only clients (reads, NOTREADONLY
//    for writes) and refuses the others;
//  - after the heal the old leader rejoins, serves, and holds what the majority wrote.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JuteWriter } from '../src/jute/archive';
import { OpCode } from '../src/data/constants';
import { MiniClient } from './helpers/miniclient';
import { NetNs } from './helpers/netns';
import { BIN } from './helpers/peers';

const WHY_NOT = NetNs.unavailable();
const TICK = 500;
const SYNC_LIMIT = 4;
const TIMEOUT = 4000;
const PORT = 2181;
const EPHEMERAL = 1;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A session kept as a real client keeps it: pings every timeout/3, fails over to any peer with its id and password. */
class SessionKeeper {
  c: MiniClient | null = null;
  lost = false;
  reconnects = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly hosts: string[],
    private first: number,
  ) {}

  async start(): Promise<void> {
    this.c = await MiniClient.connect(PORT, TIMEOUT, 0n, Buffer.alloc(16), this.hosts[this.first]);
    this.timer = setInterval(() => void this.beat(), Math.floor(TIMEOUT / 3));
  }

  get sessionId(): bigint {
    return this.c!.sessionId;
  }

  private busy = false;
  private async beat(): Promise<void> {
    if (this.stopped || this.busy || this.lost) return;
    const c = this.c!;
    if (!c.closed) {
      const w = new JuteWriter(16);
      const at = w.beginFrame();
      w.writeInt(-2).writeInt(OpCode.ping);
      w.endFrame(at);
      c.sendRaw(w.finish());
      return;
    }
    // the server dropped us (it lost its quorum, or changed role): try the next peer
    this.busy = true;
    try {
      for (let k = 1; k <= this.hosts.length && !this.stopped; k++) {
        const host = this.hosts[(this.first + k) % this.hosts.length];
        let n: MiniClient;
        try {
          n = await MiniClient.connect(PORT, TIMEOUT, c.sessionId, c.passwd, host);
        } catch {
          continue; // not serving: it closed the connection before answering
        }
        if (n.sessionId === 0n) {
          // the server answered that the session is gone
          this.lost = true;
          n.close();
          return;
        }
        this.first = (this.first + k) % this.hosts.length;
        this.c = n;
        this.reconnects++;
        return;
      }
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.c?.close();
  }
}

describe.skipIf(WHY_NOT !== null)(`partitions between peers in network namespaces${WHY_NOT ? ` (skipped: ${WHY_NOT})` : ''}`, () => {
  // a /24 from the 10.200-249 range that no interface uses; the namespaces are this test's own
  const nsnet = new NetNs(`zkt${process.pid % 10000}`, `10.${200 + (process.pid % 50)}.${process.pid % 250}`, 3);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-partition-'));
  const procs = new Map<number, ChildProcess>();
  const logs = new Map<number, string>();
  const keepers: SessionKeeper[] = [];
  const hosts = [1, 2, 3].map((i) => nsnet.addr(i));

  const start = (i: number): void => {
    const dir = path.join(root, `node${i}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'myid'), `${i}\n`);
    const cfg = path.join(root, `zoo_${i}.cfg`);
    fs.writeFileSync(
      cfg,
      [
        `tickTime=${TICK}`,
        'initLimit=10',
        `syncLimit=${SYNC_LIMIT}`,
        `dataDir=${dir}`,
        `clientPort=${PORT}`,
        `clientPortAddress=${nsnet.addr(i)}`,
        '4lw.commands.whitelist=*',
        'admin.enableServer=false',
        ...[1, 2, 3].map((j) => `server.${j}=${nsnet.addr(j)}:2888:3888`),
      ].join('\n') + '\n',
    );
    const p = spawn('ip', ['netns', 'exec', nsnet.ns(i), process.execPath, BIN, 'start-foreground', cfg], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SERVER_JVMFLAGS: '-Dreadonlymode.enabled=true' },
    });
    logs.set(i, '');
    p.stdout!.on('data', (d) => logs.set(i, (logs.get(i)! + d).slice(-20000)));
    p.stderr!.on('data', (d) => logs.set(i, (logs.get(i)! + d).slice(-20000)));
    procs.set(i, p);
  };

  const srvr = (i: number): Promise<string> =>
    new Promise((resolve) => {
      const s = net.connect(PORT, nsnet.addr(i), () => s.write('srvr'));
      let out = '';
      s.setTimeout(2000, () => s.destroy());
      s.on('data', (d) => (out += d));
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(''));
    });
  const mode = async (i: number): Promise<string> => /Mode: ([\w-]+)/.exec(await srvr(i))?.[1] ?? 'none';
  const waitFor = async (f: () => Promise<boolean>, ms: number, what: string): Promise<number> => {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      if (await f()) return Date.now() - t0;
      await sleep(50);
    }
    const tails = [...logs].map(([k, v]) => `--- node ${k}\n${v.split('\n').slice(-12).join('\n')}`).join('\n');
    throw new Error(`timed out after ${ms} ms waiting for ${what}\n${tails}`);
  };

  beforeAll(async () => {
    if (!fs.existsSync(path.join(__dirname, '..', 'dist', 'cli.js'))) throw new Error('dist/ is missing: build first (npm test runs tsc before vitest)');
    nsnet.setup();
    for (const i of [1, 2, 3]) start(i);
    await waitFor(async () => (await Promise.all([1, 2, 3].map(mode))).every((m) => m === 'leader' || m === 'follower'), 30_000, 'three serving peers');
  }, 60_000);

  afterAll(async () => {
    for (const k of keepers) k.stop();
    for (const p of procs.values()) p.kill('SIGKILL');
    await sleep(200);
    nsnet.teardown();
  });

  it('a leader cut off from its followers: it stops serving, the majority goes on, no pinging session is lost, and the old leader rejoins', async () => {
    const modes = await Promise.all([1, 2, 3].map(mode));
    const L = modes.indexOf('leader') + 1;
    const F = [1, 2, 3].filter((i) => i !== L);
    // one kept session per peer, each with an ephemeral
    for (const i of [1, 2, 3]) {
      const k = new SessionKeeper(hosts, i - 1);
      await k.start();
      expect(await k.c!.create(`/kept-${i}`, Buffer.from('x'), EPHEMERAL)).toBe(0);
      keepers.push(k);
    }
    // a session on the leader that its client abandons: only the majority may expire it
    const abandoned = await MiniClient.connect(PORT, TIMEOUT, 0n, Buffer.alloc(16), nsnet.addr(L));
    expect(await abandoned.create('/abandoned', Buffer.from('x'), EPHEMERAL)).toBe(0);
    await sleep(TICK); // its touch reaches nobody else; the leader knows it
    abandoned.close();

    const t0 = Date.now();
    nsnet.isolate(L);
    // Leader.lead: without a synced quorum for syncLimit ticks it steps down and stops serving
    const stepDown = await waitFor(async () => (await mode(L)) !== 'leader', SYNC_LIMIT * TICK + 5000, `old leader ${L} to stop leading`);
    expect(stepDown, 'the old leader served longer than syncLimit ticks (+1 tick) without a quorum').toBeLessThanOrEqual(SYNC_LIMIT * TICK + TICK + 1000);
    expect(await mode(L)).toBe('none');
    await waitFor(async () => (await Promise.all(F.map(mode))).sort().join() === 'follower,leader', 20_000, 'the majority to elect a leader');
    const newLeader = F[(await Promise.all(F.map(mode))).indexOf('leader')];
    const tookOver = Date.now();
    // the majority takes writes
    const w = await MiniClient.connect(PORT, TIMEOUT, 0n, Buffer.alloc(16), nsnet.addr(newLeader));
    expect(await w.create('/during-partition', Buffer.from('majority'))).toBe(0);
    // the isolated peer serves no read-write client; after max(2 s, tickTime) LOOKING it serves
    // read-only ones (readonlymode.enabled): reads of what it had, NOTREADONLY for writes
    const ro = await waitFor(async () => (await mode(L)) === 'read-only', 10_000, `cut-off peer ${L} in read-only mode`);
    await expect(MiniClient.connect(PORT, TIMEOUT, 0n, Buffer.alloc(16), nsnet.addr(L))).rejects.toThrow(/closed/);
    const roc = await MiniClient.connect(PORT, TIMEOUT, 0n, Buffer.alloc(16), nsnet.addr(L), true);
    expect((await roc.getData('/kept-1')).err, 'a read on the read-only peer').toBe(0);
    expect(await roc.create('/ro-write', Buffer.from('x')), 'a write on the read-only peer').toBe(-119);
    roc.close();

    // the abandoned session's ephemeral stays until the majority expires it (a full timeout after it took over)
    let gone = -1;
    while (Date.now() - tookOver < TIMEOUT * 4) {
      const r = await w.getData('/abandoned');
      if (r.err === -101) {
        gone = Date.now() - tookOver;
        break;
      }
      await sleep(100);
      const b = w.getData('/x'); // keep w's session alive
      await b;
    }
    expect(gone, 'the abandoned session was never expired by the majority').toBeGreaterThan(0);
    expect(gone, 'the majority expired the abandoned session before a full timeout').toBeGreaterThanOrEqual(TIMEOUT - TICK);

    nsnet.heal(L);
    const rejoin = await waitFor(async () => (await mode(L)) === 'follower', 30_000, `old leader ${L} to rejoin`);
    const r = await MiniClient.connect(PORT, TIMEOUT, 0n, Buffer.alloc(16), nsnet.addr(L));
    const sync = await r.call(OpCode.sync, (x) => x.writeString('/'));
    expect(sync.err).toBe(0);
    expect((await r.getData('/during-partition')).data?.toString()).toBe('majority');
    expect((await r.getData('/abandoned')).err).toBe(-101);
    // let the kept sessions ping on for two more timeouts, then check every one of them
    r.close();
    await sleep(2 * TIMEOUT);
    const lost = keepers.filter((k) => k.lost).length;
    expect(lost, 'sessions lost although their clients kept pinging and failing over').toBe(0);
    const check = await MiniClient.connect(PORT, TIMEOUT, 0n, Buffer.alloc(16), nsnet.addr(L));
    for (const [n, k] of keepers.entries()) {
      const e = await check.getData(`/kept-${n + 1}`);
      expect(e.err, `ephemeral /kept-${n + 1}`).toBe(0);
      expect(e.stat!.ephemeralOwner).toBe(k.sessionId);
    }
    console.log(
      `partition: old leader ${L} stopped leading after ${stepDown} ms (syncLimit ${SYNC_LIMIT * TICK} ms); new leader ${newLeader} ${tookOver - t0} ms after the cut; ` +
        `abandoned session expired ${gone} ms after the takeover (timeout ${TIMEOUT}); read-only ${ro} ms into the partition's election; rejoined ${rejoin} ms after the heal; ` +
        `kept sessions lost: ${lost} of ${keepers.length} (reconnects ${keepers.map((k) => k.reconnects).join(',')})`,
    );
    w.close();
    check.close();
  }, 120_000);
});
