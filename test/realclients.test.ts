// The real ZooKeeper clients against zk-server: zkCli.sh, the Java client and Curator, kazoo and the
// C client (Debian packages, installed by scripts/install-test-deps.sh, which `npm test` runs).
// Set ZK_SKIP_REAL_CLIENTS=1 to skip them on a machine without those packages.
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningServer } from '../src/main';
import { startTestServer } from './helpers/server';

const execFileP = promisify(execFile);
const SKIP = process.env.ZK_SKIP_REAL_CLIENTS === '1';
const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const CLI_MT = '/usr/lib/zookeeper/bin/cli_mt';

function need(file: string): void {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run scripts/install-test-deps.sh (or set ZK_SKIP_REAL_CLIENTS=1)`);
}

async function run(cmd: string, args: string[], timeout = 60000): Promise<{ out: string; code: number }> {
  try {
    const r = await execFileP(cmd, args, { timeout, maxBuffer: 16 << 20 });
    return { out: r.stdout + r.stderr, code: 0 };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: number };
    return { out: (x.stdout ?? '') + (x.stderr ?? ''), code: typeof x.code === 'number' ? x.code : -1 };
  }
}

let s: RunningServer;
let cs: string;
beforeAll(async () => {
  s = await startTestServer({ maxClientCnxns: 0 });
  cs = `127.0.0.1:${s.port}`;
});
afterAll(async () => {
  await s?.stop();
});

describe.skipIf(SKIP)('real ZooKeeper clients', () => {
  it('zkCli.sh: create, get -s, set, ls, stat, version errors, delete', async () => {
    need(ZKCLI);
    const cli = (...a: string[]) => run(ZKCLI, ['-server', cs, ...a]);
    expect((await cli('create', '/cli', 'hello')).out).toContain('Created /cli');
    await cli('create', '-e', '/cli/eph', 'e');
    expect((await cli('create', '-s', '/cli/seq-', 'x')).out).toContain('Created /cli/seq-0000000001');
    const get = await cli('get', '-s', '/cli');
    expect(get.out).toContain('hello');
    expect(get.out).toMatch(/dataVersion = 0/);
    expect(get.out).toMatch(/numChildren = 2/);
    expect((await cli('set', '-v', '5', '/cli', 'x')).out).toMatch(/version No is not valid : \/cli/);
    expect((await cli('ls', '/')).out).toMatch(/\[cli, zookeeper\]|\[zookeeper, cli\]/);
    expect((await cli('delete', '/cli')).out).toMatch(/Node not empty: \/cli/);
  }, 120000);

  it('Java client and Curator', async () => {
    need('/usr/share/java/zookeeper.jar');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-javacheck-'));
    const src = path.join(__dirname, 'clients', 'JavaClientCheck.java');
    const c = await run('javac', ['-nowarn', '-cp', '/usr/share/java/*', '-d', out, src], 120000);
    expect(c.code, c.out).toBe(0);
    const r = await run('java', ['-cp', `${out}:/usr/share/java/*`, 'JavaClientCheck', cs], 120000);
    for (const name of ['create_modes', 'versions', 'watches', 'multi', 'acl_digest', 'misc_ops', 'session_close_removes_ephemerals', 'session_expiry_by_duplicate_handle', 'curator_mutex']) {
      expect(r.out, r.out).toContain(`OK ${name}`);
    }
    expect(r.out).not.toContain('FAIL ');
    expect(r.code).toBe(0);
  }, 240000);

  it('kazoo', async () => {
    const r = await run('/usr/bin/python3', [path.join(__dirname, 'clients', 'kazoo_check.py'), cs], 60000);
    if (/No module named 'kazoo'/.test(r.out)) throw new Error('python3-kazoo is missing: run scripts/install-test-deps.sh');
    for (const name of ['crud', 'transaction', 'datawatch', 'lock', 'server_version']) expect(r.out, r.out).toContain(`OK ${name}`);
    expect(r.code).toBe(0);
  }, 90000);

  it('the C client (cli_mt)', async () => {
    need(CLI_MT);
    const out = await new Promise<string>((resolve) => {
      const p = spawn(CLI_MT, [cs], { stdio: ['pipe', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (d) => (text += d));
      p.stderr.on('data', (d) => (text += d));
      const t = setTimeout(() => p.kill('SIGKILL'), 20000);
      p.on('close', () => {
        clearTimeout(t);
        resolve(text);
      });
      const cmds = ['create /cmt hello', 'get /cmt', 'ls /', 'quit'];
      let i = 0;
      const next = (): void => {
        if (i < cmds.length) {
          p.stdin.write(cmds[i++] + '\n');
          setTimeout(next, 400);
        } else p.stdin.end();
      };
      setTimeout(next, 800);
    });
    expect(out).toMatch(/\/cmt/);
    expect(out).toMatch(/hello/);
    expect(out).toMatch(/zookeeper/);
  }, 60000);
});
