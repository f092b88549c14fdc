// The command line for each peer of a 3-node ensemble, as an operator types it: start (daemon, pid
// file in dataDir), status before and after a quorum exists, stop, with zkServer.sh's outputs and
// exit codes; bin/zkServer.sh for one peer with a bare config name looked up in ZOOCFGDIR.
// Ports come from the OS (client, quorum, election per peer).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts, requireDist } from './helpers/peers';

const execFileP = promisify(execFile);
const ROOT = path.join(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'zk-server.js');
const WRAPPER = path.join(ROOT, 'bin', 'zkServer.sh');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-cli-ens-'));

async function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ out: string; code: number }> {
  try {
    const r = await execFileP(cmd, args, { timeout: 60000, env: { ...process.env, ...env } });
    return { out: r.stdout + r.stderr, code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { out: (x.stdout ?? '') + (x.stderr ?? ''), code: typeof x.code === 'number' ? x.code : -1 };
  }
}
const cli = (...args: string[]): Promise<{ out: string; code: number }> => run(process.execPath, [BIN, ...args]);

let ports: number[] = [];
function cfg(i: number): string {
  const dir = path.join(root, `data${i}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'myid'), `${i}\n`);
  const file = path.join(root, `zoo_${i}.cfg`);
  fs.writeFileSync(
    file,
    [
      'tickTime=500',
      'initLimit=10',
      'syncLimit=4',
      `dataDir=${dir}`,
      `clientPort=${ports[3 * (i - 1)]}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      ...[1, 2, 3].map((j) => `server.${j}=127.0.0.1:${ports[3 * j - 2]}:${ports[3 * j - 1]}`),
    ].join('\n') + '\n',
  );
  return file;
}
const pidFile = (i: number): string => path.join(root, `data${i}`, 'zookeeper_server.pid');
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitMode(i: number, mode: string): Promise<{ out: string; code: number }> {
  const end = Date.now() + 20000;
  let last = { out: '', code: -1 };
  while (Date.now() < end) {
    last = await cli('status', cfg(i));
    if (last.out.includes(`Mode: ${mode}`)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

afterAll(async () => {
  for (const i of [1, 2, 3]) {
    const f = pidFile(i);
    if (!fs.existsSync(f)) continue;
    const pid = Number(fs.readFileSync(f, 'utf8'));
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  }
});

describe('zk-server CLI on each peer of an ensemble', () => {
  beforeAll(async () => {
    requireDist();
    ports = await freePorts(9);
  });
  it('start, status, stop per peer with zkServer.sh outputs and exit codes', async () => {
    // a lone peer starts (the process runs and waits for a quorum) but serves no client
    const s1 = await cli('start', cfg(1));
    expect(s1.out).toContain(`Using config: ${cfg(1)}`);
    expect(s1.out).toContain('STARTED');
    expect(s1.code).toBe(0);
    const pid1 = Number(fs.readFileSync(pidFile(1), 'utf8'));
    expect(alive(pid1)).toBe(true);
    const lone = await cli('status', cfg(1));
    expect(lone.out).toContain(`Client port found: ${ports[0]}. Client address: 127.0.0.1.`);
    expect(lone.out).toContain('Error contacting service. It is probably not running.');
    expect(lone.code).toBe(1);

    // a second peer makes a quorum: 2 leads (larger sid, same zxid), 1 follows
    const s2 = await cli('start', cfg(2));
    expect(s2.out).toContain('STARTED');
    expect(s2.code).toBe(0);
    const st2 = await waitMode(2, 'leader');
    expect(st2.out).toContain('Mode: leader');
    expect(st2.code).toBe(0);
    const st1 = await waitMode(1, 'follower');
    expect(st1.out).toContain('Mode: follower');
    expect(st1.code).toBe(0);

    // the third through the zkServer.sh wrapper, by bare file name in ZOOCFGDIR
    const env = { ZOOCFGDIR: root };
    cfg(3); // write zoo_3.cfg and data3/myid
    const s3 = await run(WRAPPER, ['start', 'zoo_3.cfg'], env);
    expect(s3.out).toContain(`Using config: ${cfg(3)}`);
    expect(s3.out).toContain('STARTED');
    expect(s3.code).toBe(0);
    const end = Date.now() + 20000;
    let st3 = await run(WRAPPER, ['status', 'zoo_3.cfg'], env);
    while (!st3.out.includes('Mode: follower') && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      st3 = await run(WRAPPER, ['status', 'zoo_3.cfg'], env);
    }
    expect(st3.out).toContain('Mode: follower');
    expect(st3.code).toBe(0);
    const again = await cli('start', cfg(3));
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/already running/);

    // cluster status: one table row per peer, the leader named, exit 0 when all serve
    const table = await cli('cluster', 'status', cfg(1), cfg(2), cfg(3));
    const rows = table.out.trim().split('\n');
    expect(rows[0]).toMatch(/^ID +ADDRESS +MODE +ZXID +EPOCH +CLIENTS +OUTSTANDING +LATENCY min\/avg\/max ms +ZNODES$/);
    expect(rows.slice(1, 4).map((r) => r.split(/ +/).slice(0, 3))).toEqual([
      ['1', `127.0.0.1:${ports[0]}`, 'follower'],
      ['2', `127.0.0.1:${ports[3]}`, 'leader'],
      ['3', `127.0.0.1:${ports[6]}`, 'follower'],
    ]);
    expect(rows[4]).toBe('leader: 2; 3 of 3 serving');
    // the epoch each peer is in (its currentEpoch file), the same on all three, at least 1
    const epochs = rows.slice(1, 4).map((r) => r.split(/ +/)[4]);
    expect(new Set(epochs).size).toBe(1);
    expect(Number(epochs[0])).toBeGreaterThanOrEqual(1);
    expect(table.code).toBe(0);

    // stop each peer: waits for the process to end and removes the pid file
    const pids = [1, 2, 3].map((i) => Number(fs.readFileSync(pidFile(i), 'utf8')));
    for (const i of [2, 1]) {
      const stop = await cli('stop', cfg(i));
      expect(stop.out).toContain('STOPPED');
      expect(stop.code).toBe(0);
      expect(alive(pids[i - 1])).toBe(false);
      expect(fs.existsSync(pidFile(i))).toBe(false);
      const after = await cli('status', cfg(i));
      expect(after.out).toContain('Error contacting service. It is probably not running.');
      expect(after.code).toBe(1);
    }
    // two peers stopped: the third no longer serves, the stopped ones do not answer
    const down = await cli('cluster', 'status', cfg(1), cfg(2), cfg(3));
    expect(down.out).toMatch(new RegExp(`^1 +127.0.0.1:${ports[0]} +unreachable +- `, 'm'));
    expect(down.out).toMatch(/^3 +\S+ +(not serving|follower) /m);
    expect(down.out).toMatch(/^0 leaders; [01] of 3 serving; down: 1 \(unreachable\), 2 \(unreachable\)/m);
    expect(down.code).toBe(1);
    // peer 3 is alone again: running, not serving
    const alone3 = await run(WRAPPER, ['status', 'zoo_3.cfg'], env);
    expect(alone3.code).toBe(1);
    const stop3 = await run(WRAPPER, ['stop', 'zoo_3.cfg'], env);
    expect(stop3.out).toContain('STOPPED');
    expect(stop3.code).toBe(0);
    expect(alive(pids[2])).toBe(false);
    const twice = await cli('stop', cfg(3));
    expect(twice.out).toContain('could not find file');
    expect(twice.code).toBe(1);
  }, 120000);
});
