// Sessions held by the real clients for a while, with an ephemeral, while they ping:
// test/clients/JavaKeepalive.java (the Apache ZooKeeper 3.8 Java client) and
// test/clients/kazoo_keepalive.py (kazoo). `hold` runs one and says what went wrong, if anything.
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileJava, exec } from './javaclient';

const JAVA_DIR = '/usr/share/java';
const JAVA_CP = `${JAVA_DIR}/*`;
const CLIENTS = path.join(__dirname, '..', 'clients');

export interface Outcome {
  session: string | null;
  states: string[];
  exists: boolean;
  owner: string | null;
  sameSession: boolean;
  error: string | null;
}

export const children = new Set<ChildProcess>();
let classes: string | null = null;

async function run(cmd: string, args: string[], limitMs: number): Promise<{ out: Outcome | null; raw: string; code: number | null }> {
  const { code, stdout, stderr } = await exec(cmd, args, limitMs, children);
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  let out: Outcome | null = null;
  try {
    out = line ? (JSON.parse(line) as Outcome) : null;
  } catch {
    out = null;
  }
  return { out, raw: `${stdout}\n--- stderr (tail)\n${stderr.slice(-3000)}`, code };
}

/** Checks that the clients are installed and compiles JavaKeepalive once; throws with what to do. */
export async function prepareClients(): Promise<void> {
  for (const f of [`${JAVA_DIR}/zookeeper.jar`, '/usr/bin/python3']) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: run scripts/install-test-deps.sh (or set ZK_SKIP_REAL_CLIENTS=1)`);
  }
  classes = await compileJava('JavaKeepalive');
}

export type KeepaliveClient = 'java' | 'kazoo';

/**
 * Holds one session of `who` on `connect` for `holdMs` with an ephemeral at `znode`.
 * Resolves to null when the session, its ephemeral and its connection all lasted, else to why not.
 */
export async function hold(who: KeepaliveClient, connect: string, timeoutMs: number, holdMs: number, znode: string): Promise<string | null> {
  const r =
    who === 'java'
      ? await run('java', ['-cp', `${classes}:${JAVA_CP}`, 'JavaKeepalive', connect, String(timeoutMs), String(holdMs), znode], holdMs + 60_000)
      : await run('/usr/bin/python3', [path.join(CLIENTS, 'kazoo_keepalive.py'), connect, String(timeoutMs / 1000), String(holdMs / 1000), znode], holdMs + 60_000);
  const out = r.out;
  if (!out) return `no result\n${r.raw}`;
  const want = who === 'java' ? ['SyncConnected'] : ['CONNECTED'];
  if (out.error) return `${out.error} (states ${out.states.join(',')})`;
  if (!out.exists) return `ephemeral ${znode} gone (states ${out.states.join(',')})`;
  if (out.owner !== out.session) return `ephemeral owned by ${out.owner}, session ${out.session}`;
  if (!out.sameSession) return 'the session changed';
  if (JSON.stringify(out.states) !== JSON.stringify(want)) return `connection states ${out.states.join(',')} (want only ${want})`;
  return null;
}

/**
 * The Java client and kazoo each hold a session with an ephemeral on every one of `ids` at once,
 * pinging for `holdMs` (make it several timeouts): what went wrong, one line per client, or [].
 */
export async function holdOnEveryPeer(ids: number[], clientPort: (i: number) => number, timeoutMs: number, holdMs: number, tag: string): Promise<string[]> {
  await prepareClients();
  const runs = ids.flatMap((i) =>
    (['java', 'kazoo'] as const).map(async (who) => {
      const r = await hold(who, `127.0.0.1:${clientPort(i)}`, timeoutMs, holdMs, `/keepalive-${tag}-${who}-${i}`);
      return r === null ? null : `${who} on peer ${i}: ${r}`;
    }),
  );
  return (await Promise.all(runs)).filter((x): x is string => x !== null);
}
