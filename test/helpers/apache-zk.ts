// Apache ZooKeeper 3.8 (Debian package) for tests: run its server and its Java client on loopback,
// to check that our data directories and theirs move both ways.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { SYSTEM_PATHS } from '../../src/data/datatree';

const execFileP = promisify(execFile);

// Interop with Apache ZooKeeper 3.8 (Debian package)
export const ZK_JAR = '/usr/share/java/zookeeper.jar';
export const HAVE_ZK = fs.existsSync(ZK_JAR) && fs.existsSync('/usr/bin/java');
export const CP = [
  'zookeeper.jar',
  'zookeeper-jute.jar',
  'slf4j-api.jar',
  'slf4j-nop.jar',
  'commons-cli.jar',
  'snappy-java.jar',
  'metrics-core.jar',
  'netty-handler.jar',
  'netty-transport.jar',
  'netty-common.jar',
  'netty-buffer.jar',
  'netty-resolver.jar',
  'netty-codec.jar',
  'netty-transport-native-epoll.jar',
  'netty-transport-native-unix-common.jar',
]
  .map((j) => `/usr/share/java/${j}`)
  .filter((j) => fs.existsSync(j))
  .join(':');
export const HELPER = path.join(__dirname, 'persistence-zkclient.java');
export const started: ChildProcess[] = [];

export async function java(args: string[], timeout = 60000): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await execFileP('java', ['-cp', CP, ...args], { timeout, maxBuffer: 64 << 20 });
    return { ...r, code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { stdout: x.stdout ?? '', stderr: x.stderr ?? '', code: typeof x.code === 'number' ? x.code : -1 };
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitPort(port: number, proc: ChildProcess, ms = 30000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`ZooKeeper exited with ${proc.exitCode}`);
    const ok = await new Promise<boolean>((res) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        res(true);
      });
      c.once('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('ZooKeeper did not start');
}

export interface ZkServer {
  proc: ChildProcess;
  port: number;
  output: () => string;
}

/**
 * Apache ZooKeeper 3.8 standalone on `dataDir`; `extra` zoo.cfg lines (e.g. `enforceQuota=true`),
 * `jvmFlags` -D flags for its JVM (e.g. the JAAS file).
 */
export async function startZk(dataDir: string, extra: string[] = [], jvmFlags: string[] = []): Promise<ZkServer> {
  const port = await freePort();
  const cfg = path.join(dataDir, '..', `zoo-${port}.cfg`);
  fs.writeFileSync(
    cfg,
    `tickTime=2000\ndataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nmaxSessionTimeout=60000\n4lw.commands.whitelist=*\n${extra.map((l) => l + '\n').join('')}`,
  );
  const serverCp = CP.replace('slf4j-nop.jar', 'slf4j-simple.jar'); // INFO logs on stderr
  const proc = spawn('java', ['-Dzookeeper.extendedTypesEnabled=true', ...jvmFlags, '-cp', serverCp, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  await waitPort(port, proc);
  return { proc, port, output: () => out };
}

export async function stopZk(s: ZkServer): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => s.proc.once('exit', () => r()));
  s.proc.kill('SIGTERM');
  const t = setTimeout(() => s.proc.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(t);
}


export async function dumpZk(port: number): Promise<string[]> {
  const r = await java([HELPER, 'dump', `127.0.0.1:${port}`]);
  if (r.code !== 0) throw new Error(`dump failed: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}


/** Kill every server process started by startZk and not yet stopped. */
export async function killStarted(): Promise<void> {
  for (const p of started.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGKILL');
      await exited;
    }
  }
}

export function normJavaDump(lines: string[]): string[] {
  return lines.map((l) => {
    const [p, data, ...rest] = l.split('\t');
    return [p, SYSTEM_PATHS.has(p) && data === 'null' ? '' : data, ...rest].join('\t');
  });
}

