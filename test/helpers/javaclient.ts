// Programs of test/clients/*.java run with the Debian Java client libraries (/usr/share/java/*:
// the Apache ZooKeeper 3.8 client, Curator, Netty): each is compiled once per test process.
import { ChildProcess, spawn } from 'node:child_process';
import { expect } from 'vitest';
import { MiniClient } from './miniclient';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const JAVA_CP = '/usr/share/java/*';
const CLIENTS = path.join(__dirname, '..', 'clients');
const compiled = new Map<string, Promise<string>>();

/** Runs `cmd` to its end (killed after `limitMs`); `track` holds the process while it runs. */
export function exec(cmd: string, args: string[], limitMs: number, track?: Set<ChildProcess>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track?.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), limitMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      track?.delete(p);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Compiles test/clients/NAME.java (once); resolves to the classes directory. */
export function compileJava(name: string): Promise<string> {
  let c = compiled.get(name);
  if (!c) {
    c = (async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `zk-${name.toLowerCase()}-`));
      const r = await exec('javac', ['-nowarn', '-encoding', 'UTF-8', '-cp', JAVA_CP, '-d', dir, path.join(CLIENTS, `${name}.java`)], 120_000);
      if (r.code !== 0) throw new Error(`javac ${name}.java failed:\n${r.stdout}${r.stderr}`);
      return dir;
    })();
    compiled.set(name, c);
  }
  return c;
}

/** Runs class NAME with JVM flags and arguments: the lines it printed on stdout. */
export async function runJava(name: string, jvmFlags: string[], args: string[], limitMs = 90_000): Promise<string[]> {
  const classes = await compileJava(name);
  const r = await exec('java', [...jvmFlags, '-cp', `${classes}:${JAVA_CP}`, name, ...args], limitMs);
  // slf4j bindings on the class path may log to stdout: keep the program's own `key: value` lines
  const lines = r.stdout.split('\n').filter((l) => /^[a-zA-Z]+: /.test(l));
  if (r.code !== 0) throw new Error(`java ${name} exited with ${r.code}:\n${r.stdout}\n--- stderr (tail)\n${r.stderr.slice(-3000)}`);
  return lines;
}

export interface SteadyLoadResult {
  session: string;
  sameSession: boolean;
  expired: boolean;
  acked: number;
  missing: number;
  missingFirst: string[];
  ephemeral: boolean;
  busySetData: number;
  errors: Record<string, number>;
  connectionLosses: number;
  longestGapMs: number;
  seconds: number;
  states: string[];
}

export interface SteadyLoad {
  /** resolves once the session and its ephemeral exist */
  ready: Promise<void>;
  /** stops the writer, which then checks its acknowledged creates: its report */
  stop(): Promise<SteadyLoadResult>;
}

/** test/clients/JavaSteadyLoad.java writing through `connect` until stopped. */
export async function steadyLoad(connect: string, timeoutMs: number, tag: string): Promise<SteadyLoad> {
  const classes = await compileJava('JavaSteadyLoad');
  const stopFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zk-steady-')), 'stop');
  const p = spawn('java', ['-cp', `${classes}:${JAVA_CP}`, 'JavaSteadyLoad', connect, String(timeoutMs), stopFile, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  p.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (/^ready$/m.test(stdout)) onReady();
  });
  p.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => p.on('close', resolve));
  const failed = exited.then((code) => {
    throw new Error(`JavaSteadyLoad exited (${code}) before it was ready:\n${stdout}\n${stderr.slice(-3000)}`);
  });
  failed.catch(() => undefined);
  return {
    ready: Promise.race([ready, failed]),
    async stop() {
      fs.writeFileSync(stopFile, '');
      const t = setTimeout(() => p.kill('SIGKILL'), 120_000);
      const code = await exited;
      clearTimeout(t);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) throw new Error(`JavaSteadyLoad gave no report (exit ${code}):\n${stdout}\n--- stderr (tail)\n${stderr.slice(-3000)}`);
      return JSON.parse(line) as SteadyLoadResult;
    },
  };
}

/** The writer ended clean: no error (reconnects aside), the same session and ephemeral, nothing acknowledged lost. */
export function expectCleanWriter(r: SteadyLoadResult): void {
  expect(r, JSON.stringify(r)).toMatchObject({ expired: false, sameSession: true, missing: 0, ephemeral: true, errors: {} });
  expect(r.acked).toBeGreaterThan(50);
}

/** The servers on these client ports each hold every create the writer `tag` had acknowledged. */
export async function expectAllCreates(ports: number[], tag: string, acked: number): Promise<void> {
  for (const port of ports) {
    const c = await MiniClient.connect(port);
    try {
      expect((await c.getChildren(`/steady-${tag}`)).length, `children of /steady-${tag} on the server at port ${port}`).toBeGreaterThanOrEqual(acked);
    } finally {
      c.close();
    }
  }
}
