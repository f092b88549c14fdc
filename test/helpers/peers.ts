// Real zk-server processes for the ensemble tests: write a config per peer, start and stop them,
// ask four-letter words, wait for conditions (with the peers' last log lines on a timeout).
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SERVER_NODE_FLAGS } from '../../src/nodeflags';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'zk-server.js');
export const DIST = path.join(__dirname, '..', '..', 'dist', 'cli.js');

/** Tests that start real processes run dist/: fail, saying what to do, when it was not built. */
export function requireDist(): void {
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} is missing: build first with \`npx tsc -p tsconfig.json\` (npm test builds before it runs the tests)`);
}

/** The Debian packages of Apache ZooKeeper 3.8 and its clients: fail, saying what to do, when absent. */
export function requireApacheZk(): void {
  for (const f of ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar', '/usr/bin/java']) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run scripts/install-test-deps.sh (or set ZK_SKIP_REAL_CLIENTS=1 to skip the tests that need Apache ZooKeeper)`);
  }
}

/** ZK_SKIP_REAL_CLIENTS=1: the explicit opt-out of every test that drives Apache ZooKeeper or its clients */
export const SKIP_REAL = process.env.ZK_SKIP_REAL_CLIENTS === '1';

export interface PeerSpec {
  /** client port of server i (1-based) */
  clientPort(i: number): number;
  /** the server.N lines, and any other keys every peer gets */
  common: string[];
  /** extra lines for server i */
  extra?(i: number): string[];
  /** zoo.cfg timing (default tickTime=500, initLimit=10, syncLimit=4) */
  tickTime?: number;
  initLimit?: number;
  syncLimit?: number;
}

/** `n` distinct free loopback ports, as the OS hands them out (listen on 0, then close). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < n) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
      ports.push((s.address() as net.AddressInfo).port);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
  return ports;
}

/** One free loopback port. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

/**
 * A 3-peer (or n-peer) spec on OS-assigned ports: client, quorum and election port per peer.
 * `observers`: the last K of the n servers are observers (`:observer` on their server line and
 * `peerType=observer` in their own zoo.cfg).
 */
export async function ensembleSpec(n: number, over: Partial<PeerSpec> & { observers?: number } = {}): Promise<PeerSpec & { ports: number[] }> {
  const { observers = 0, ...rest } = over;
  const observer = (i: number): boolean => i > n - observers;
  const ports = await freePorts(3 * n);
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(`server.${i}=127.0.0.1:${ports[3 * i - 2]}:${ports[3 * i - 1]}${observer(i) ? ':observer' : ''}`);
  const extra = observers > 0 ? (i: number) => [...(observer(i) ? ['peerType=observer'] : []), ...(rest.extra?.(i) ?? [])] : rest.extra;
  return { clientPort: (i) => ports[3 * (i - 1)], common: lines, ports, ...rest, ...(rest.common ? { common: [...lines, ...rest.common] } : {}), ...(extra ? { extra } : {}) };
}

export class Peers {
  readonly root: string;
  readonly procs = new Map<number, ChildProcess>();
  readonly logs = new Map<number, string>();

  constructor(
    private readonly spec: PeerSpec,
    prefix = 'zk-peers-',
  ) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  }

  cfg(i: number): string {
    const dir = path.join(this.root, `node${i}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'myid'), `${i}\n`);
    const file = this.cfgFile(i);
    const lines = [
      `tickTime=${this.spec.tickTime ?? 500}`,
      `initLimit=${this.spec.initLimit ?? 10}`,
      `syncLimit=${this.spec.syncLimit ?? 4}`,
      `dataDir=${dir}`,
      `clientPort=${this.spec.clientPort(i)}`,
      'clientPortAddress=127.0.0.1',
      '4lw.commands.whitelist=*',
      'admin.enableServer=false',
      ...this.spec.common,
      ...(this.spec.extra?.(i) ?? []),
    ];
    fs.writeFileSync(file, lines.join('\n') + '\n');
    return file;
  }

  /** The zoo.cfg of server i as it is now (a reconfig rewrites it). */
  cfgFile(i: number): string {
    return path.join(this.root, `zoo_${i}.cfg`);
  }

  /**
   * Start server i; `keepConfig`: on its zoo.cfg as it is (a reconfig rewrote it), not a fresh one;
   * `args`: more arguments for start-foreground (e.g. --log-file).
   */
  start(i: number, env: Record<string, string> = {}, keepConfig = false, args: string[] = []): void {
    const p = spawn(process.execPath, [...SERVER_NODE_FLAGS, BIN, 'start-foreground', keepConfig ? this.cfgFile(i) : this.cfg(i), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZK_LOG_LEVEL: 'info', ...env } });
    this.logs.set(i, '');
    p.stdout!.on('data', (d) => this.logs.set(i, this.logs.get(i) + d));
    p.stderr!.on('data', (d) => this.logs.set(i, this.logs.get(i) + d));
    this.procs.set(i, p);
  }

  async stop(i: number): Promise<void> {
    const p = this.procs.get(i);
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
    this.procs.delete(i);
  }

  async stopAll(): Promise<void> {
    for (const i of [...this.procs.keys()]) await this.stop(i);
  }

  ask(i: number, word: string): Promise<string> {
    return fourLetter(this.spec.clientPort(i), word);
  }

  /** `Mode:` from srvr, or 'none' when the peer serves no client */
  async mode(i: number): Promise<string> {
    return /Mode: (\w+)/.exec(await this.ask(i, 'srvr'))?.[1] ?? 'none';
  }

  async waitFor(f: () => Promise<boolean>, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await f()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    const tails = [...this.logs].map(([k, v]) => `--- node ${k}\n${v.split('\n').slice(-15).join('\n')}`).join('\n');
    throw new Error(`timed out waiting for ${what}\n${tails}`);
  }
}

/**
 * A four-letter word's answer from 127.0.0.1:port ('' when nothing answers). A server that accepts
 * and then neither answers nor closes (a JVM busy starting up) yields what arrived within
 * `timeoutMs`, so that callers polling in a loop try again instead of waiting for ever.
 */
export function fourLetter(port: number, word: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(word));
    let out = '';
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.on('data', (d) => (out += d));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', () => resolve(''));
  });
}

/**
 * zk_digest_mismatches_count from mntr (ZooKeeper 3.8 and zk-server both publish it), once the
 * server serves (ZooKeeper answers mntr while it still loads its data, without metrics).
 */
export async function digestMismatches(port: number, waitMs = 20000): Promise<number> {
  const end = Date.now() + waitMs;
  for (;;) {
    const out = await fourLetter(port, 'mntr');
    const m = /zk_digest_mismatches_count\s+(\d+)/.exec(out);
    if (m) return Number(m[1]);
    if (Date.now() > end) throw new Error(`no zk_digest_mismatches_count in mntr of port ${port}: ${out.slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
