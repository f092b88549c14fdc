// The real ZooKeeper clients against zk-server, in-process on loopback: zkCli.sh, the Java client and
// Curator (test/clients/JavaClientCheck.java), kazoo (test/clients/kazoo_check.py) and the C client
// cli_mt. They come from Debian packages that scripts/install-test-deps.sh installs (`npm test` runs
// it). A missing client fails its test with a message naming that script; set ZK_SKIP_REAL_CLIENTS=1
// to skip these tests instead.
import { ChildProcess, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningServer } from '../src/main';
import { startTestServer } from './helpers/server';

const SKIP = process.env.ZK_SKIP_REAL_CLIENTS === '1';
const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const CLI_MT = '/usr/lib/zookeeper/bin/cli_mt';
const PYTHON = '/usr/bin/python3';
const JAVA_DIR = '/usr/share/java';
const CLIENTS = path.join(__dirname, 'clients');

// ---- tools ---------------------------------------------------------------------------------------

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Fails the calling test, with what to do, when a tool it drives is absent. */
function need(what: string, present: boolean): void {
  if (!present) {
    throw new Error(
      `${what} is missing: run scripts/install-test-deps.sh to install the real ZooKeeper clients ` +
        `(or set ZK_SKIP_REAL_CLIENTS=1 to skip these tests)`,
    );
  }
}

// ---- child processes -----------------------------------------------------------------------------

const children = new Set<ChildProcess>();

function killTree(p: ChildProcess): void {
  if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(-p.pid, 'SIGKILL'); // its own process group: zkCli.sh's java too
  } catch {
    try {
      p.kill('SIGKILL');
    } catch {
      // gone
    }
  }
}

interface Run {
  out: string; // stdout then stderr
  stdout: string;
  code: number | null;
  timedOut: boolean;
}

/** Runs a command in its own process group; kills the group after `timeout` ms. */
function run(cmd: string, args: string[], timeout: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(p);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      timedOut = true;
      killTree(p);
    }, timeout);
    p.on('error', (e) => {
      clearTimeout(t);
      children.delete(p);
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(t);
      children.delete(p);
      resolve({ out: stdout + stderr, stdout, code, timedOut });
    });
  });
}

/** The OK/FAIL lines of a check program, asserted: every expected name OK, no FAIL, exit 0. */
function expectChecks(r: Run, names: string[]): void {
  const report = `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}\n${r.stdout}\n--- stderr (tail) ---\n${r.out
    .slice(r.stdout.length)
    .slice(-4000)}`;
  const lines = r.stdout.split('\n').map((l) => l.trim());
  expect(lines.filter((l) => l.startsWith('FAIL')), report).toEqual([]);
  expect(names.filter((n) => !lines.includes(`OK ${n}`)), `checks without an OK line\n${report}`).toEqual([]);
  expect(r.code, report).toBe(0);
}

// ---- the server ----------------------------------------------------------------------------------

let s: RunningServer;
let cs: string;
beforeAll(async () => {
  s = await startTestServer({ maxClientCnxns: 0 });
  cs = `127.0.0.1:${s.port}`;
});
afterAll(async () => {
  for (const p of children) killTree(p);
  await s?.stop();
});

describe.skipIf(SKIP)('real ZooKeeper clients against zk-server', () => {
  it('zkCli.sh: create -e/-s/-c/-t, get -s, set, ls, ls -R, stat, getAcl/setAcl digest, errors, delete, deleteall', async () => {
    need(`zkCli.sh (${ZKCLI}, Debian package zookeeper)`, fs.existsSync(ZKCLI));
    need('java', onPath('java') !== undefined);
    const cli = async (...a: string[]): Promise<Run> => {
      const r = await run(ZKCLI, ['-server', cs, ...a], 60000);
      expect(r.timedOut, `zkCli.sh ${a.join(' ')} timed out:\n${r.out}`).toBe(false);
      // the connection's event is printed by the client's event thread, at any point of the
      // command's output (seen between "cZxid" and "ctime" of get -s): not part of what is checked
      return { ...r, out: r.out.replace(/\n?WATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n/g, '') };
    };
    const ok = (r: Run, text: string | RegExp): void => {
      if (typeof text === 'string') expect(r.out).toContain(text);
      else expect(r.out).toMatch(text);
      expect(r.code, r.out).toBe(0);
    };
    const err = (r: Run, text: string): void => {
      expect(r.out).toContain(text);
      expect(r.code, r.out).toBe(1);
    };
    // digest:u:base64(sha1("u:p")), as DigestAuthenticationProvider.generateDigest makes it
    const hash = `u:${crypto.createHash('sha1').update('u:p').digest('base64')}`;

    ok(await cli('create', '/cli', 'hello'), 'Created /cli');

    const [seq, eph, cont, ttl, sec, set, badSet] = await Promise.all([
      cli('create', '-s', '/cli/seq-', 'x'),
      cli('create', '-e', '/cli/eph', 'e'),
      cli('create', '-c', '/cli/cont'),
      cli('create', '-t', '60000', '/cli/ttl', 't'),
      cli('create', '/cli/sec', 's', `digest:${hash}:cdrwa,world:anyone:r`),
      cli('set', '-s', '/cli', 'world'),
      cli('set', '-v', '5', '/cli', 'x'),
    ]);
    ok(seq, /Created \/cli\/seq-\d{10}\n/);
    const seqName = /Created \/cli\/(seq-\d{10})/.exec(seq.out)![1];
    ok(eph, 'Created /cli/eph\n');
    ok(cont, 'Created /cli/cont\n');
    ok(ttl, 'Created /cli/ttl\n');
    ok(sec, 'Created /cli/sec\n');
    ok(set, /\ndataVersion = 1\n/);
    err(badSet, 'version No is not valid : /cli');

    const [get, lsR, statEph, getAcl, ls, del] = await Promise.all([
      cli('get', '-s', '/cli'),
      cli('ls', '-R', '/cli'),
      cli('stat', '/cli/eph'),
      cli('getAcl', '/cli/sec'),
      cli('ls', '/'),
      cli('delete', '/cli'),
    ]);
    ok(get, /\nworld\ncZxid = 0x[0-9a-f]+\nctime = .+\nmZxid = 0x[0-9a-f]+\nmtime = .+\npZxid = 0x[0-9a-f]+\n/);
    ok(get, /\ncversion = 5\ndataVersion = 1\naclVersion = 0\nephemeralOwner = 0x0\ndataLength = 5\nnumChildren = 5\n/);
    for (const p of ['/cli', '/cli/cont', '/cli/eph', '/cli/sec', `/cli/${seqName}`, '/cli/ttl']) {
      expect(lsR.out.split('\n'), lsR.out).toContain(p);
    }
    expect(lsR.code).toBe(0);
    ok(statEph, /\nephemeralOwner = 0x[1-9a-f][0-9a-f]*\ndataLength = 1\nnumChildren = 0\n/);
    // without ADMIN on the node, getAcl shows a digest id's hash as x (CVE-2019-0201), as Apache ZooKeeper does
    ok(getAcl, `'digest,'u:x\n: cdrwa\n'world,'anyone\n: r\n`);
    ok(ls, '[cli, zookeeper]\n');
    err(del, 'Node not empty: /cli');

    const [setAcl, noWrite, readable] = await Promise.all([
      cli('setAcl', '-s', '/cli/cont', `digest:${hash}:cdrwa,world:anyone:r`),
      cli('set', '/cli/sec', 'x'),
      cli('get', '/cli/sec'),
    ]);
    ok(setAcl, /\ncversion = 0\ndataVersion = 0\naclVersion = 1\n/);
    ok(await cli('getAcl', '-s', '/cli/cont'), /\n'digest,'u:x\n: cdrwa\n'world,'anyone\n: r\ncZxid = 0x[0-9a-f]+\n(.*\n)*aclVersion = 1\n/);
    err(noWrite, 'Insufficient permission : /cli/sec');
    ok(readable, /\ns\n/);

    const all = await cli('deleteall', '/cli');
    expect(all.out).not.toMatch(/Node does not exist|Insufficient permission|Exception/);
    expect(all.code, all.out).toBe(0);
    err(await cli('stat', '/cli'), 'Node does not exist: /cli');
  }, 180000);

  it('the Java client and Curator (test/clients/JavaClientCheck.java)', async () => {
    need(`the ZooKeeper Java client (${JAVA_DIR}/zookeeper.jar, Debian package libzookeeper-java)`, fs.existsSync(`${JAVA_DIR}/zookeeper.jar`));
    for (const j of ['curator-client', 'curator-framework', 'curator-recipes']) {
      need(`Curator (${JAVA_DIR}/${j}.jar, Debian package lib${j}-java)`, fs.existsSync(`${JAVA_DIR}/${j}.jar`));
    }
    need('javac (Debian package default-jdk-headless)', onPath('javac') !== undefined);
    need('java (Debian package default-jdk-headless)', onPath('java') !== undefined);
    const classes = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-javacheck-'));
    try {
      const cp = `${JAVA_DIR}/*`;
      const c = await run('javac', ['-nowarn', '-encoding', 'UTF-8', '-cp', cp, '-d', classes, path.join(CLIENTS, 'JavaClientCheck.java')], 120000);
      expect(c.code, `javac failed:\n${c.out}`).toBe(0);
      const r = await run('java', ['-cp', `${classes}:${cp}`, 'JavaClientCheck', cs], 120000);
      expectChecks(r, [
        'create_modes',
        'container_and_ttl_cleanup',
        'data_versions',
        'watches_one_shot',
        'persistent_recursive_watch',
        'persistent_watch',
        'multi_success',
        'multi_failure_per_op_results',
        'acl_digest_noauth',
        'whoami',
        'get_all_children_number_and_ephemerals',
        'sync',
        'session_close_removes_ephemerals',
        'session_expiry_by_duplicate_handle',
        'curator_mutex',
        'curator_leader_latch',
      ]);
    } finally {
      fs.rmSync(classes, { recursive: true, force: true });
    }
  }, 260000);

  it('kazoo (test/clients/kazoo_check.py)', async () => {
    need(`${PYTHON}`, fs.existsSync(PYTHON));
    const probe = await run(PYTHON, ['-c', 'import kazoo'], 30000);
    need('kazoo (Debian package python3-kazoo)', probe.code === 0);
    const r = await run(PYTHON, [path.join(CLIENTS, 'kazoo_check.py'), cs], 90000);
    expectChecks(r, ['crud', 'transaction', 'datawatch', 'childrenwatch', 'lock', 'ephemeral_gone_on_close', 'server_version']);
  }, 120000);

  it('the C client (cli_mt)', async () => {
    need(`the C client (${CLI_MT}, Debian package zookeeper-bin)`, fs.existsSync(CLI_MT));
    // Each command is sent once the answer to the previous one has arrived.
    const steps: [string, RegExp][] = [
      ['create /cmt', /\[\/cmt\]: rc = 0\n\tname = \/cmt\n/],
      ['set /cmt hello', /\/cmt: rc = 0 Stat:\n(.*\n)*?\tversion=1\taversion=0\n/],
      ['get /cmt', /\/cmt: rc = 0\n value_len = 5\nhello\nStat:\n/],
      ['create +e /cmt/e', /\[\/cmt\/e\]: rc = 0\n\tname = \/cmt\/e\n/],
      ['create +s /cmt/s-', /\[\/cmt\/s-\]: rc = 0\n\tname = \/cmt\/s-0000000001\n/],
      ['ls /cmt', /\/cmt: rc = 0\n(\te\n\ts-0000000001\n|\ts-0000000001\n\te\n)/],
      ['delete /cmt', /\/cmt: rc = -111\n/], // ZNOTEMPTY
      ['create /cmt', /\[\/cmt\]: rc = -110\n/], // ZNODEEXISTS
      ['get /nope', /\/nope: rc = -101\n/], // ZNONODE
      ['delete /cmt/e', /\/cmt\/e: rc = 0\n/],
      ['ls /', /\/: rc = 0\n(\t.*\n)*/],
    ];
    const p = spawn(CLI_MT, [cs], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    children.add(p);
    let out = '';
    const waiters: (() => void)[] = [];
    const onData = (d: Buffer): void => {
      out += d.toString();
      for (const w of waiters.splice(0)) w();
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    const closed = new Promise<number | null>((resolve) => p.on('close', resolve));
    p.on('error', () => undefined);
    let from = 0;
    const waitFor = async (re: RegExp, what: string): Promise<void> => {
      const end = Date.now() + 15000;
      for (;;) {
        const m = re.exec(out.slice(from));
        if (m) {
          from += m.index + m[0].length;
          return;
        }
        if (Date.now() > end || p.exitCode !== null) throw new Error(`cli_mt: no answer to ${what} (${re}); output:\n${out}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    };
    try {
      await waitFor(/state = CONNECTED_STATE\n/, 'connecting');
      for (const [cmd, re] of steps) {
        p.stdin!.write(cmd + '\n');
        await waitFor(re, cmd);
      }
      p.stdin!.write('quit\n');
      p.stdin!.end();
      await waitFor(/Quitting\.\.\./, 'quit');
      const timer = setTimeout(() => killTree(p), 10000);
      await closed;
      clearTimeout(timer);
      const root = out.slice(out.lastIndexOf('\n/: rc = 0\n'));
      expect(root, out).toContain('\tzookeeper\n');
      expect(root, out).toContain('\tcmt\n');
    } finally {
      killTree(p);
    }
  }, 90000);
});
