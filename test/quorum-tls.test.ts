// TLS between peers (sslQuorum, ssl.quorum.*; quorum/transport.ts): election and quorum ports speak
// TLS both ways with certificates from a throwaway CA (test/helpers/pki.ts).
//  - three zk-server peers with sslQuorum elect and replicate; a peer whose certificate the CA did
//    not sign is kept out, and a plaintext connection to the election port is dropped;
//  - a mixed ensemble, two zk-server peers and one Apache ZooKeeper 3.8 peer, all with sslQuorum:
//    the Java peer leads first, then one of ours after it stops, and it rejoins as a follower.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MiniClient } from './helpers/miniclient';
import { ensembleSpec, Peers, PeerSpec, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';
import { HAVE_TOOLS, makeTestPki } from './helpers/pki';
import { initialMessage } from '../src/quorum/cnx/manager';

const JARS = [
  'zookeeper', 'zookeeper-jute', 'slf4j-api', 'slf4j-simple', 'commons-cli', 'snappy-java', 'metrics-core', 'netty-handler',
  'netty-transport', 'netty-common', 'netty-buffer', 'netty-codec', 'netty-resolver', 'netty-transport-native-unix-common',
  'netty-transport-classes-epoll', 'jackson-databind', 'jackson-core', 'jackson-annotations', 'audience-annotations',
].map((j) => `/usr/share/java/${j}.jar`);

const pki = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-qtls-pki-'));
afterAll(() => fs.rmSync(pki, { recursive: true, force: true }));
const tlsLines = (store = 'server.p12', pw = 'serverpw'): string[] => [
  'sslQuorum=true',
  `ssl.quorum.keyStore.location=${path.join(pki, store)}`,
  `ssl.quorum.keyStore.password=${pw}`,
  `ssl.quorum.trustStore.location=${path.join(pki, 'trust.p12')}`,
  'ssl.quorum.trustStore.password=trustpw',
];
let peers: Peers | null = null;
let java: ChildProcess | null = null;
let javaLog = '';
afterEach(async () => {
  if (java && java.exitCode === null) {
    const j = java;
    const exited = new Promise((r) => j.once('exit', r));
    j.kill('SIGKILL');
    await exited;
  }
  java = null;
  await peers?.stopAll();
  if (peers) fs.rmSync(peers.root, { recursive: true, force: true });
  peers = null;
});

async function modes(n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => peers!.mode(i + 1)));
}

async function writeRead(spec: PeerSpec, n: number, tag: string): Promise<void> {
  for (let i = 1; i <= n; i++) {
    const c = await MiniClient.connect(spec.clientPort(i));
    expect(await c.create(`/${tag}${i}`, Buffer.from(`v${i}`))).toBe(0);
    c.close();
  }
  for (let i = 1; i <= n; i++) {
    const c = await MiniClient.connect(spec.clientPort(i));
    for (let k = 1; k <= n; k++) {
      // a follower applies a commit a moment after the writer's reply
      let v: string | undefined;
      for (let t = 0; t < 50 && v !== `v${k}`; t++) {
        v = (await c.getData(`/${tag}${k}`)).data?.toString();
        if (v !== `v${k}`) await new Promise((r) => setTimeout(r, 100));
      }
      expect(v, `peer ${i} reads /${tag}${k}`).toBe(`v${k}`);
    }
    c.close();
  }
}

describe.skipIf(SKIP_REAL || !HAVE_TOOLS)('quorum TLS', () => {
  beforeAll(() => makeTestPki(pki), 60_000);

  it('three zk-server peers with sslQuorum form a quorum; an untrusted certificate and plaintext are kept out', async () => {
    requireDist();
    let rogue = false;
    const spec = await ensembleSpec(3, { extra: (i) => (i === 3 && rogue ? tlsLines('rogue.p12', 'roguepw') : tlsLines()) });
    peers = new Peers(spec, 'zk-qtls-');
    peers.start(1);
    peers.start(2);
    await peers.waitFor(async () => (await modes(2)).sort().join() === 'follower,leader', 30_000, 'peers 1 and 2 to form a quorum');
    // a plaintext peer's initial message on the election port: dropped without an answer
    const election = Number(/server\.1=127\.0\.0\.1:\d+:(\d+)/.exec(spec.common.join('\n'))![1]);
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: election }, () => s.write(initialMessage(9, '127.0.0.1', 1)));
      s.on('data', () => resolve(false));
      s.on('close', () => resolve(true));
      s.on('error', () => undefined);
      setTimeout(() => resolve(false), 5000);
    });
    expect(closed).toBe(true);
    rogue = true;
    peers.start(3);
    await new Promise((r) => setTimeout(r, 4000));
    expect(await peers.mode(3)).toBe('none');
    expect(peers.logs.get(1)! + peers.logs.get(2)!).toMatch(/quorum TLS handshake failed/);
    await peers.stop(3);
    rogue = false;
    peers.start(3);
    await peers.waitFor(async () => (await peers!.mode(3)) === 'follower', 30_000, 'peer 3 to join with a trusted certificate');
    await writeRead(spec, 3, 't');
  }, 120_000);

  it('sslQuorumReloadCertFiles: a peer kept out by its certificate joins once a trusted one is copied over the file, without a restart', async () => {
    requireDist();
    execFileSync('openssl', ['pkcs12', '-export', '-in', 'rogue.crt', '-inkey', 'rogue.key', '-out', 'rogue-serverpw.p12', '-passout', 'pass:serverpw'], { cwd: pki, stdio: 'ignore' });
    const store3 = path.join(pki, 'peer3.p12');
    fs.copyFileSync(path.join(pki, 'rogue-serverpw.p12'), store3);
    const spec = await ensembleSpec(3, { extra: (i) => (i === 3 ? [...tlsLines('peer3.p12'), 'sslQuorumReloadCertFiles=true'] : tlsLines()) });
    peers = new Peers(spec, 'zk-qtls-reload-');
    peers.start(1);
    peers.start(2);
    await peers.waitFor(async () => (await modes(2)).sort().join() === 'follower,leader', 30_000, 'peers 1 and 2 to form a quorum');
    peers.start(3);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await peers.mode(3)).toBe('none');
    // a new store in place, as an operator's renewal script writes it (a temp file renamed over the old)
    fs.copyFileSync(path.join(pki, 'server.p12'), store3 + '.tmp');
    fs.renameSync(store3 + '.tmp', store3);
    await peers.waitFor(async () => (await peers!.mode(3)) === 'follower', 30_000, 'peer 3 to join with the reloaded certificate');
    expect(peers.logs.get(3)).toMatch(/enabling cert file reloading/);
    expect(peers.logs.get(3)).toMatch(/quorum TLS key and trust stores reloaded/);
    await writeRead(spec, 3, 'r');
  }, 120_000);

  it('a mixed ensemble (zk-server 1, 2 and Apache ZooKeeper 3) with sslQuorum: the Java leader, then ours', async () => {
    requireDist();
    requireApacheZk();
    const spec = await ensembleSpec(3, { common: tlsLines() });
    peers = new Peers(spec, 'zk-qtls-mixed-');
    const startJava = (): void => {
      javaLog = '';
      java = spawn('java', ['-Xmx256m', '-Dzookeeper.4lw.commands.whitelist=*', '-cp', JARS.filter((j) => fs.existsSync(j)).join(':'), 'org.apache.zookeeper.server.quorum.QuorumPeerMain', peers!.cfg(3)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      java.stdout!.on('data', (d) => (javaLog += d));
      java.stderr!.on('data', (d) => (javaLog += d));
      java.on('exit', (code) => (javaLog += `\n[exited ${code}]`));
    };
    const javaTail = (): string => javaLog.split('\n').filter((l) => !/Processing srvr/.test(l)).slice(-40).join('\n');
    startJava();
    peers.start(1);
    await peers
      .waitFor(async () => (await peers!.mode(3)) === 'leader' && (await peers!.mode(1)) === 'follower', 60_000, 'the Java peer to lead')
      .catch((e: Error) => {
        throw new Error(`${e.message}\n--- java\n${javaTail()}`);
      });
    peers.start(2);
    await peers.waitFor(async () => (await modes(3)).join() === 'follower,follower,leader', 60_000, 'peer 2 to follow the Java leader').catch((e: Error) => {
      throw new Error(`${e.message}\n--- java\n${javaTail()}`);
    });
    await writeRead(spec, 3, 'a');
    const j = java!;
    const exited = new Promise((r) => j.once('exit', r));
    j.kill('SIGTERM');
    await exited;
    java = null;
    await peers.waitFor(async () => (await modes(2)).sort().join() === 'follower,leader', 30_000, 'ours to elect a leader');
    startJava();
    await peers.waitFor(async () => (await peers!.mode(3)) === 'follower', 60_000, 'the Java peer to follow ours').catch((e: Error) => {
      throw new Error(`${e.message}\n--- java\n${javaTail()}`);
    });
    await writeRead(spec, 3, 'b');
  }, 180_000);
});
