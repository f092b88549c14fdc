// zk-server peers and Apache ZooKeeper 3.8 peers (Debian's QuorumPeerMain) in one ensemble:
// election, Zab sync (DIFF and SNAP) and broadcast in both directions, writes forwarded across
// implementations, sessions that move between a Java and a zk-server peer (REVALIDATE to the other
// kind's leader), ephemerals removed everywhere when their session closes. Tree digests: every
// peer, Java or ours, computes the same digest at the same zxid (`hash`) and counts no mismatch with
// the TxnDigests of the other kind's leader (zk_digest_mismatches_count).
// Servers 1 and 2 are zk-server, server 3 is Java; ports come from the OS.
import { ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniClient } from './helpers/miniclient';
import { QUORUM_PEER_CP } from './helpers/mixed';
import { digestMismatches, ensembleSpec, fourLetter, Peers, PeerSpec, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';

const EPHEMERAL = 1;
const CLOSE_SESSION = -11;
const EXISTS = 3;
const DELETE = 2;

let spec: PeerSpec;
let peers: Peers;
const port = (i: number): number => spec.clientPort(i);
beforeAll(async () => {
  requireDist();
  if (!SKIP_REAL) requireApacheZk();
  spec = await ensembleSpec(3);
  peers = new Peers(spec, 'zk-mixed-');
});
let java: ChildProcess | null = null;
let javaLog = '';

function startJava(): void {
  const cfg = peers.cfg(3); // same keys as ours; ZooKeeper reads the same zoo.cfg
  java = spawn('java', ['-Xmx256m', '-Dzookeeper.4lw.commands.whitelist=*', '-cp', QUORUM_PEER_CP, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  java.stdout!.on('data', (d) => (javaLog += d));
  java.stderr!.on('data', (d) => (javaLog += d));
}

async function stopJava(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const j = java;
  if (!j || j.exitCode !== null) return;
  const exited = new Promise((r) => j.once('exit', r));
  j.kill(signal);
  const t = setTimeout(() => j.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
  java = null;
}

async function modes(): Promise<string[]> {
  return Promise.all([1, 2, 3].map((i) => peers.mode(i)));
}

async function waitModes(want: string[], what: string): Promise<void> {
  await peers.waitFor(async () => (await modes()).join() === want.join(), 30000, `${what} (modes ${want.join()})`).catch((e: Error) => {
    throw new Error(`${e.message}\n--- java\n${javaLog.split('\n').slice(-20).join('\n')}`);
  });
}

async function write(i: number, prefix: string, n: number): Promise<void> {
  const c = await MiniClient.connect(port(i));
  const all = [];
  for (let k = 0; k < n; k++) all.push(c.create(`${prefix}${k}`, Buffer.from(`v${k}`)));
  const errs = await Promise.all(all);
  c.close();
  expect(errs.filter((e) => e !== 0)).toEqual([]);
}

async function read(i: number, p: string): Promise<string | null> {
  const c = await MiniClient.connect(port(i));
  try {
    const r = await c.getData(p);
    return r.err === 0 ? (r.data?.toString() ?? '') : null;
  } finally {
    c.close();
  }
}

/** setData on every created node and delete every third: txns that change existing znodes. */
async function churn(i: number, prefix: string, n: number): Promise<void> {
  const c = await MiniClient.connect(port(i));
  try {
    for (let k = 0; k < n; k++) {
      expect(await c.create(`${prefix}${k}`, Buffer.from('x'))).toBe(0);
      expect(await c.setData(`${prefix}${k}`, Buffer.from(`changed ${k}`))).toBe(0);
      if (k % 3 === 0) {
        const r = await c.call(DELETE, (w) => {
          w.writeString(`${prefix}${k}`);
          w.writeInt(-1);
        });
        expect(r.err).toBe(0);
      }
    }
  } finally {
    c.close();
  }
}

/**
 * Every peer's digest log (`hash`: the tree digest at every 128th zxid) agrees with every other's
 * wherever two of them logged the same zxid, they overlap, and no peer counted a mismatch.
 */
async function digestsAgree(what: string): Promise<void> {
  const logs = new Map<number, Map<string, string>>();
  for (const i of [1, 2, 3]) {
    const m = new Map<string, string>();
    for (const line of (await fourLetter(port(i), 'hash')).trim().split('\n').filter(Boolean)) {
      const [z, d] = line.split(': ');
      m.set(z, d);
    }
    logs.set(i, m);
  }
  let shared = 0;
  for (const [z, d] of logs.get(1)!) {
    for (const j of [2, 3]) {
      const other = logs.get(j)!.get(z);
      if (other === undefined) continue;
      shared++;
      expect(other, `${what}: digest at zxid 0x${z} on server 1 and server ${j}`).toBe(d);
    }
  }
  expect(shared, `${what}: digests logged at the same zxids`).toBeGreaterThan(0);
  for (const i of [1, 2, 3]) expect(await digestMismatches(port(i)), `${what}: digest mismatches on server ${i}`).toBe(0);
}

/** A session with an ephemeral moves across all three servers, then closes on `closeOn`. */
async function movingSession(createOn: number, closeOn: number, tag: string): Promise<void> {
  const a = await MiniClient.connect(port(createOn), 10000);
  expect(await a.create(`/eph-${tag}`, Buffer.from('e'), EPHEMERAL)).toBe(0);
  const id = a.sessionId;
  const pw = a.passwd;
  a.close();
  for (const i of [1, 2, 3].filter((x) => x !== createOn).concat(createOn)) {
    const b = await MiniClient.connect(port(i), 10000, id, pw);
    expect(b.sessionId, `session kept on server ${i}`).toBe(id);
    expect((await b.getData(`/eph-${tag}`)).stat?.ephemeralOwner, `ephemeral seen on server ${i}`).toBe(id);
    b.close();
  }
  const c = await MiniClient.connect(port(closeOn), 10000, id, pw);
  expect((await c.call(CLOSE_SESSION, () => {})).err).toBe(0);
  c.close();
  for (const i of [1, 2, 3]) {
    await peers.waitFor(async () => {
      const d = await MiniClient.connect(port(i));
      const r = await d.call(EXISTS, (w) => {
        w.writeString(`/eph-${tag}`);
        w.writeBool(false);
      });
      d.close();
      return r.err === -101;
    }, 5000, `ephemeral /eph-${tag} gone on server ${i}`);
  }
  const e = await MiniClient.connect(port(closeOn === 3 ? 1 : 3), 10000, id, pw);
  expect(e.timeout, 'a closed session is refused').toBe(0);
  await e.closedPromise;
}

afterAll(async () => {
  await stopJava('SIGKILL');
  await peers?.stopAll();
});

describe.skipIf(SKIP_REAL)('a mixed ensemble: two zk-server peers and one Apache ZooKeeper 3.8 peer', () => {
  it('follows a Java leader, then leads a Java follower, syncing both ways', async () => {
    // 1 (ours) and 3 (Java) start: equal zxids, the larger sid leads
    peers.start(1);
    startJava();
    await waitModes(['follower', 'none', 'leader'], 'Java server 3 leads, zk-server 1 follows');
    peers.start(2);
    await waitModes(['follower', 'follower', 'leader'], 'zk-server 2 joins the Java leader');
    for (const i of [1, 2, 3]) await write(i, `/w${i}-`, 20); // forwarded to the Java leader
    for (const i of [1, 2, 3]) for (const j of [1, 2, 3]) expect(await read(i, `/w${j}-19`)).toBe('v19');
    await movingSession(3, 2, 'java-leader');

    // a zk-server follower catches up with a Java leader after missing 700 txns
    await peers.stop(2);
    await write(3, '/c-', 700);
    peers.start(2);
    await waitModes(['follower', 'follower', 'leader'], 'zk-server 2 rejoins');
    expect(await read(2, '/c-699')).toBe('v699');
    await churn(1, '/x-', 150); // setData and delete through a zk-server follower to the Java leader
    await digestsAgree('under a Java leader');

    // the Java leader dies: zk-server 2 leads, 1 follows; Java 3 comes back as a follower
    await stopJava('SIGKILL');
    await waitModes(['follower', 'leader', 'none'], 'zk-server 2 leads after the Java leader is killed');
    expect(await read(1, '/c-699')).toBe('v699');
    startJava();
    await waitModes(['follower', 'leader', 'follower'], 'Java 3 follows zk-server 2');
    await write(3, '/j-', 20); // forwarded by the Java follower to our leader
    for (const i of [1, 2, 3]) expect(await read(i, '/j-19')).toBe('v19');
    await movingSession(2, 3, 'zk-leader');

    // a Java follower catches up with a zk-server leader past its 500-txn window (SNAP)
    await stopJava();
    await write(2, '/d-', 700);
    startJava();
    await waitModes(['follower', 'leader', 'follower'], 'Java 3 rejoins');
    await peers.waitFor(async () => (await read(3, '/d-699')) === 'v699', 10000, 'Java 3 has /d-699');
    expect(javaLog).toMatch(/Getting a snapshot from leader/);
    expect(await read(3, '/w1-0')).toBe('v0');
    await churn(3, '/y-', 150); // through the Java follower to our leader
    await digestsAgree('under a zk-server leader');
  }, 240000);
});
