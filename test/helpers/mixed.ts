// Shared by the tests that run zk-server peers beside an Apache ZooKeeper 3.8 peer (Debian's
// QuorumPeerMain) with some feature on (quorum SASL, sslQuorum): the Java peer's class path, its
// process and log, and a write-on-every-peer / read-on-every-peer check.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { expect } from 'vitest';
import { MiniClient } from './miniclient';
import { Peers, PeerSpec } from './peers';

export const QUORUM_PEER_CP = [
  'zookeeper', 'zookeeper-jute', 'slf4j-api', 'slf4j-simple', 'commons-cli', 'snappy-java', 'metrics-core', 'netty-handler',
  'netty-transport', 'netty-common', 'netty-buffer', 'netty-codec', 'netty-resolver', 'netty-transport-native-unix-common',
  'netty-transport-classes-epoll', 'jackson-databind', 'jackson-core', 'jackson-annotations', 'audience-annotations',
]
  .map((j) => `/usr/share/java/${j}.jar`)
  .filter((j) => fs.existsSync(j))
  .join(':');

/** zk-server peers (a Peers) and Java peers on the same zoo.cfg files, cleaned up together. */
export class MixedEnsemble {
  /** the running Java peers by id, with their logs */
  readonly javas = new Map<number, { proc: ChildProcess; log: string }>();
  private lastJava = 0;

  constructor(readonly peers: Peers) {}

  /** The log of the Java peer started last (kept after it stops, until the next start). */
  get javaLog(): string {
    return this.javas.get(this.lastJava)?.log ?? this.stoppedLog;
  }
  private stoppedLog = '';

  /**
   * Start the Java peer on server `id`'s zoo.cfg, with extra JVM flags (e.g. the JAAS file);
   * `keepConfig`: on its zoo.cfg as it is (a reconfig rewrote it), not a fresh one.
   */
  startJava(id: number, flags: string[] = [], keepConfig = false): void {
    const cfg = keepConfig ? this.peers.cfgFile(id) : this.peers.cfg(id);
    const j = spawn('java', ['-Xmx256m', ...flags, '-Dzookeeper.4lw.commands.whitelist=*', '-cp', QUORUM_PEER_CP, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry = { proc: j, log: '' };
    j.stdout!.on('data', (d) => (entry.log += d));
    j.stderr!.on('data', (d) => (entry.log += d));
    j.on('exit', (code) => (entry.log += `\n[exited ${code}]`));
    this.javas.set(id, entry);
    this.lastJava = id;
  }

  /** Stop the Java peer `id`, or every Java peer. */
  async stopJava(signal: NodeJS.Signals = 'SIGTERM', id?: number): Promise<void> {
    for (const [k, { proc: j, log }] of [...this.javas]) {
      if (id !== undefined && k !== id) continue;
      this.javas.delete(k);
      if (k === this.lastJava) this.stoppedLog = log;
      if (j.exitCode !== null || j.signalCode !== null) continue;
      const exited = new Promise((r) => j.once('exit', r));
      j.kill(signal);
      const t = setTimeout(() => j.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  }

  /** The Java peers' last log lines, without the srvr noise of the tests' polling. */
  javaTail(n = 40): string {
    return [...this.javas]
      .map(
        ([k, { log }]) =>
          `--- java ${k}\n` +
          log
            .split('\n')
            .filter((l) => !/Processing srvr/.test(l))
            .slice(-n)
            .join('\n'),
      )
      .join('\n');
  }

  /** Wait for `f`; on a timeout the error carries the Java peer's log too. */
  async waitFor(f: () => Promise<boolean>, ms: number, what: string): Promise<void> {
    await this.peers.waitFor(f, ms, what).catch((e: Error) => {
      throw new Error(`${e.message}\n${this.javaTail()}`);
    });
  }

  /** Modes of servers 1..n (`none` for one that serves nobody). */
  modes(n: number): Promise<string[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => this.peers.mode(i + 1)));
  }

  async cleanup(): Promise<void> {
    await this.stopJava('SIGKILL');
    await this.peers.stopAll();
    fs.rmSync(this.peers.root, { recursive: true, force: true });
  }
}

/** Each of servers 1..n creates /<tag><i>; every server then reads every one of them. */
export async function writeReadEverywhere(spec: PeerSpec, n: number, tag: string): Promise<void> {
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

/** Run a Python script (the system python3, which has kazoo) that prints one JSON line last. */
export function pythonJson(script: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (err += d));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', () => {
      clearTimeout(t);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? ''));
      } catch {
        reject(new Error(`python printed ${out} ${err}`));
      }
    });
  });
}
