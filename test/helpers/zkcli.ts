// zkCli.sh (Apache ZooKeeper 3.8's shell, Debian package) for tests: one session reading commands
// from stdin, the lines it printed without its start-up noise.
import { spawn } from 'node:child_process';
import { CP } from './apache-zk';

export const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';

export interface ZkCliOptions {
  /** CLIENT_JVMFLAGS, e.g. -Djava.security.auth.login.config=… */
  jvmFlags?: string;
  /** keep the WATCHER:: / WatchedEvent lines */
  events?: boolean;
  timeoutMs?: number;
  /**
   * run ZooKeeperMain with the Netty jars on the class path instead of zkCli.sh: Debian's zkCli.sh
   * cannot make TLS connections (its class path lacks Netty, and the client silently stays plaintext)
   */
  netty?: boolean;
}

export function zkCli(server: string | number, commands: string[], o: ZkCliOptions = {}): Promise<string[]> {
  const hosts = typeof server === 'number' ? `127.0.0.1:${server}` : server;
  return new Promise((resolve, reject) => {
    const env = { ...process.env, CLIENT_JVMFLAGS: o.jvmFlags ?? '' };
    const p = o.netty
      ? spawn('java', [...(o.jvmFlags ?? '').split(' ').filter((x) => x), '-cp', CP, 'org.apache.zookeeper.ZooKeeperMain', '-server', hosts], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(ZKCLI, ['-server', hosts], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    const t = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    p.on('error', reject);
    p.on('close', () => {
      clearTimeout(t);
      resolve(withoutNoise(out, o.events));
    });
    p.stdin!.end(commands.concat('quit').join('\n') + '\n');
  });
}

/** A shell's output without its start-up banner, prompts, blank lines and (unless `events`) watch events. */
export function withoutNoise(out: string, events = false): string[] {
  const noise = events ? /^(SLF4J|Connecting to|Welcome to|JLine|WATCHER::|\[zk:)/ : /^(SLF4J|Connecting to|Welcome to|JLine|WATCHER::|WatchedEvent|\[zk:)/;
  return (
    out
      .split('\n')
      // log4j lines of the client (a JAAS login logs at INFO) are not what a user typed for
      .filter((l) => l.trim() !== '' && !noise.test(l) && !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \[/.test(l))
  );
}

export interface ShellRun {
  /** stdout and stderr apart: the JVM's two streams reach us in no reliable relative order */
  out: string[];
  err: string[];
  code: number | null;
}

/**
 * Run a zkCli-like shell (`argv[0]` with the rest as arguments) with `stdin` piped in (null: none,
 * as for a one-shot command) and collect its output streams and exit code.
 */
export function runShellProcess(argv: string[], stdin: string | null, o: { events?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ShellRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CLIENT_JVMFLAGS: '', ...o.env } });
    let out = '';
    let err = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (err += d));
    const t = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ out: withoutNoise(out, o.events), err: withoutNoise(err, o.events), code });
    });
    if (stdin === null) p.stdin!.end();
    else p.stdin!.end(stdin);
  });
}

/**
 * A zkCli output with its WatchedEvent lines moved to the end, sorted: the client's event thread
 * prints them whenever it gets to them, so only the commands' output has a reliable order. The
 * Closed event that `quit` causes is dropped: it prints only if the event thread gets to it before
 * the JVM exits (CI saw it on one side and not the other), so it says nothing about the server.
 */
export function eventsLast(lines: string[]): string[] {
  const ev = (l: string): boolean => l.startsWith('WatchedEvent ');
  const closed = (l: string): boolean => l.startsWith('WatchedEvent state:Closed ');
  return [...lines.filter((l) => !ev(l)), ...lines.filter((l) => ev(l) && !closed(l)).sort()];
}
