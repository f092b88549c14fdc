// `zk-server cli` side by side with Apache ZooKeeper 3.8's zkCli.sh: the same command scripts run
// through both shells, each against its own fresh zk-server (so both see the same zxids and
// sequence numbers), and their stdout, stderr and exit codes must be the same — after the
// normalisations below, each for an output that legitimately differs. Then `zk-server cli` under a
// pty: tab completion of a command and of a znode path, and history recall with the arrow key.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningServer } from '../src/main';
import { fourLetter, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';
import { createHash } from 'node:crypto';
import { InProcEnsemble } from './helpers/inproc';
import { startTestServer } from './helpers/server';
import { eventsLast, runShellProcess, ShellRun, ZKCLI } from './helpers/zkcli';

const BIN = path.join(__dirname, '..', 'bin', 'zk-server.js');

/**
 * What may differ between two runs of one script, each on its own fresh server:
 *  - ctime/mtime: wall-clock times of the two runs;
 *  - a non-zero ephemeralOwner: the session id, which the servers make up from the clock;
 *  - the version line: zkCli prints its own build, we print ours.
 */
function normalise(lines: string[]): string[] {
  return lines.map((l) =>
    l
      .replace(/^(ctime|mtime) = .*$/, '$1 = <time>')
      .replace(/^ephemeralOwner = 0x(?!0$)[0-9a-f]+$/, 'ephemeralOwner = <session>')
      .replace(/^ZooKeeper CLI version: .*$/, 'ZooKeeper CLI version: <version>'),
  );
}

interface Compared {
  java: ShellRun;
  node: ShellRun;
}

/** Run a script (one command a line, then quit) through both shells, each on a fresh server. */
async function bothPiped(commands: string[], o: { events?: boolean; quit?: boolean } = {}): Promise<Compared> {
  const script = commands.concat(o.quit === false ? [] : ['quit']).join('\n') + '\n';
  return both((port) => [`127.0.0.1:${port}`], script, o.events);
}

/** One command as arguments (one-shot mode), through both shells, each on a fresh server. */
async function bothOneShot(command: string[], setup: string[] = []): Promise<Compared> {
  return both((port) => [`127.0.0.1:${port}`, ...command], null, false, setup);
}

const servers: RunningServer[] = [];

/** An ensemble's server lines and client ports, each with a name that is the same on both ensembles. */
async function portNames(e: InProcEnsemble): Promise<[string, string][]> {
  const n: [string, string][] = [];
  const s = await runShellProcess([process.execPath, BIN, 'cli', '-server', `127.0.0.1:${e.port(1)}`, 'config'], null);
  for (const l of s.out) {
    const m = /^(server\.\d+)=(.*)$/.exec(l);
    if (m) n.push([l, `<${m[1]} line>`]);
  }
  for (let i = 1; i <= e.size; i++) n.push([String(e.port(i)), `<client${i}>`]);
  return n;
}

function rename(l: string, n: [string, string][]): string {
  return n.reduce((acc, [from, to]) => acc.split(from).join(to), l);
}

async function both(args: (port: number) => string[], stdin: string | null, events = false, setup: string[] = []): Promise<Compared> {
  const [a, b] = await Promise.all([startTestServer(), startTestServer()]);
  servers.push(a, b);
  if (setup.length) {
    // the same starting tree on both servers, made by our shell
    await Promise.all([a, b].map((s) => runShellProcess([process.execPath, BIN, 'cli', '-server', `127.0.0.1:${s.port}`], setup.concat('quit').join('\n') + '\n')));
  }
  const [java, node] = await Promise.all([
    runShellProcess([ZKCLI, '-server', ...args(a.port)], stdin, { events }),
    runShellProcess([process.execPath, BIN, 'cli', '-server', ...args(b.port)], stdin, { events }),
  ]);
  return { java, node };
}

function expectSame(c: Compared): void {
  const view = (r: ShellRun): { out: string[]; err: string[]; code: number | null } => ({
    out: normalise(eventsLast(r.out)),
    err: normalise(r.err),
    code: r.code,
  });
  expect(view(c.node)).toEqual(view(c.java));
}

describe.skipIf(SKIP_REAL)('zk-server cli side by side with zkCli.sh', () => {
  beforeAll(() => {
    requireDist();
    requireApacheZk();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('create, get, set, ls, stat, delete, deleteall, getAllChildrenNumber, getEphemerals, sync', async () => {
    const c = await bothPiped([
      'create /a hello',
      'create /a again',
      'create /a/b',
      'create /a/b/c "two words"',
      'create /nope/x',
      'create -e /eph',
      'create -e /eph/child',
      'create -s /a/seq- one',
      'create -s /a/seq- two',
      'create -e -s /a/eseq-',
      'create -c /cont',
      'create -c -e /bad',
      'create -t 100000 /ttl',
      'create -t 0 /ttl0',
      'create -t abc /ttl1',
      'create -t 100 -e /ttl2',
      'create -t 100 -c /ttl3',
      'create relative',
      'create /trailing/',
      'create /a//b',
      'create',
      'get /a',
      'get -s /a',
      'get /a/b',
      'get /nope',
      'get',
      'get /a watch',
      'set /a world',
      'set -s /a again',
      'set -v 1 /a stale',
      'set -v 2 /a fresh',
      'set /nope x',
      'set /a',
      'ls /',
      'ls -s /a',
      'ls -R /a',
      'ls -R /nope',
      'ls /nope',
      'ls',
      'ls -x /',
      'ls -s -w',
      'stat /a',
      'stat /nope',
      'stat',
      'getAllChildrenNumber /a',
      'getAllChildrenNumber /',
      'getAllChildrenNumber /nope',
      'getAllChildrenNumber',
      'getEphemerals',
      'getEphemerals /a',
      'getEphemerals /zzz',
      'sync /a',
      'sync /nope',
      'sync nope',
      'delete /a',
      'delete -v 5 /a/b/c',
      'delete -v 0 /a/b/c',
      'delete /nope',
      'delete /a/b 3',
      'delete',
      'deleteall /a',
      'deleteall /a',
      'deleteall',
      'deleteall /cont -b x',
      'ls /',
    ]);
    expectSame(c);
    expect(c.node.err).toContain('Node already exists: /a');
    expect(c.node.code).toBe(0);
  });

  it('history, redo, printwatches, version, unknown commands and usage lines', async () => {
    const c = await bothPiped([
      'create /h one',
      'get /h',
      'history',
      'redo 1',
      'redo 99',
      'redo -1',
      'redo',
      'history',
      'printwatches',
      'printwatches off',
      'printwatches',
      'printwatches on',
      'version',
      'version extra',
      'frobnicate /h',
      '   ',
      'whoami',
      'history',
    ]);
    expectSame(c);
    expect(c.node.err).toContain('Command not found: Command not found frobnicate');
  });

  it('getAcl, setAcl [-s] [-v] [-R], addauth, whoami', async () => {
    const c = await bothPiped([
      'create /acl x',
      'create /acl/kid y',
      'getAcl /acl',
      'getAcl -s /acl',
      'getAcl /nope',
      'getAcl',
      'whoami',
      'addauth digest alice:secret',
      'whoami',
      'create /mine m auth::cdrwa',
      'getAcl /mine',
      'create /bad b foo',
      'create /bad2 b world:anyone:rwq',
      'getAcl /bad2',
      'create /bad3 b nobody::cdrwa',
      'setAcl /acl world:anyone:r',
      'getAcl /acl',
      'setAcl -s /acl world:anyone:rw',
      'setAcl -v 9 /acl world:anyone:cdrwa',
      'setAcl /acl bad',
      'setAcl /nope world:anyone:r',
      'setAcl /acl',
      'setAcl -R /acl world:anyone:cdr',
      'getAcl /acl/kid',
      'setAcl /acl/kid ip:10.0.0.1:r',
      'get /acl/kid',
      'setAcl -R /acl world:anyone:cdrwa',
      'addauth',
      'setAcl /mine world:anyone:cdrwa',
      'getAcl /mine',
    ]);
    expectSame(c);
    expect(c.node.out).toContain('digest: alice');
  });

  it('addauth with a scheme the server refuses: AuthFailed, then Not connected', async () => {
    const c = await bothPiped(['addauth nosuchscheme secret', 'ls /', 'sync /', 'ls /'], { events: true });
    expectSame(c);
    expect(c.node.err).toEqual(['KeeperErrorCode = AuthFailed for /']);
    expect(c.node.out).toContain('WatchedEvent state:AuthFailed type:None path:null');
  });

  it('watches: get/ls/stat -w, addWatch, removewatches and their WatchedEvent lines', async () => {
    const c = await bothPiped(
      [
        'create /w one',
        'create /w/kid',
        'get -w /w',
        'ls -w /w',
        'stat -w /gone',
        'set /w two',
        'create /w/kid2',
        'create /gone',
        'get -w /w',
        'removewatches /w -d',
        'removewatches /w -d',
        'ls -w /w',
        'removewatches /w -c',
        'removewatches /w',
        'removewatches /nope',
        'removewatches w',
        'removewatches',
        'addWatch /w',
        'set /w three',
        'create /w/kid/deep',
        'removewatches /w',
        'addWatch -m persistent /w',
        'set /w four',
        'create /w/kid3',
        'set /w/kid five',
        'addWatch -m bogus /w',
        'addWatch',
        'addWatch /a /b',
        'get -w /w',
        'removewatches /w -d -l',
        'stat /w watch',
        'ls /w watch',
        'removewatches /w -a',
        'get -w /w',
        'deleteall /w',
        'sync /',
      ],
      { events: true },
    );
    expectSame(c);
    expect(c.node.out).toContain('WatchedEvent state:SyncConnected type:NodeDataChanged path:/w');
    expect(c.node.out).toContain('WatchedEvent state:SyncConnected type:DataWatchRemoved path:/w');
  });

  it('setquota, listquota, delquota', async () => {
    const c = await bothPiped([
      'create /q',
      'create /q/a x',
      'create /q/a/b y',
      'setquota -n 5 /q',
      'listquota /q',
      'setquota -b 100 /q',
      'setquota -N 1 /q',
      'setquota -B 1 /q',
      'listquota /q',
      'setquota -n 5 /q/a',
      'setquota -n 5 /',
      'setquota -n 0 /q',
      'setquota -b -1 /q',
      'setquota -n x /q',
      'setquota /q',
      'setquota -n 1 -b 2 /q',
      'setquota -n 1 /nope',
      'setquota -n 1 /zookeeper/quota/q',
      'listquota /nope',
      'listquota',
      'delquota -n /q',
      'listquota /q',
      'delquota /q',
      'listquota /q',
      'delquota /q',
      'delquota',
      'setquota -n 3 /q/a',
      'setquota -n 3 /q',
      'delquota -b /q/a',
      'listquota /q/a',
      'ls -R /zookeeper/quota',
    ]);
    expectSame(c);
    expect(c.node.out.some((l) => l.startsWith('Output quota for /q '))).toBe(true);
  });

  it('config, reconfig (refused by a standalone server) and their usage errors', async () => {
    const c = await bothPiped([
      'config',
      'config -c',
      'config -s',
      'config -w',
      'config -x',
      'reconfig',
      'reconfig -add server.5=localhost:2888:3888;2181',
      'reconfig -remove 3',
      'reconfig -members server.1=localhost:2888:3888;2181',
      'reconfig -add 1 -members 2',
      'reconfig -file /nonexistent -members 2',
      'reconfig -v zz -remove 1',
      'reconfig -add',
    ]);
    expectSame(c);
    expect(c.node.err).toContain('KeeperErrorCode = Reconfig is disabled');
  });

  it('close, Not connected, connect again, and an ephemeral dying with its session', async () => {
    const c = await bothPiped([
      'create -e /e1 x',
      'getEphemerals',
      'close',
      'ls /',
      'get /e1',
      'history',
      'close',
      'connect',
      'close',
      'printwatches',
    ]);
    // the connect string is the server's port, different for each shell: both shells reconnect
    // with `connect HOST` written into the script for their own server
    expectSame(c);
    expect(c.node.out).toContain('Not connected');
  });

  it('connect to another server and back, and quit', async () => {
    const [a, b] = await Promise.all([startTestServer(), startTestServer()]);
    servers.push(a, b);
    const script = (s: RunningServer): string =>
      ['create /first 1', 'close', `connect 127.0.0.1:${s.port}`, 'sync /', 'ls /', 'get /first', 'quit', 'ls /'].join('\n') + '\n';
    const [java, node] = await Promise.all([
      runShellProcess([ZKCLI, '-server', `127.0.0.1:${a.port}`], script(a)),
      runShellProcess([process.execPath, BIN, 'cli', '-server', `127.0.0.1:${b.port}`], script(b)),
    ]);
    expectSame({ java, node });
    expect(node.out).toContain('[first, zookeeper]');
  });

  it('a connect string of several hosts and a chroot: paths are relative to it, getEphemerals shows it', async () => {
    const script =
      ['create /x 1', 'ls /', 'get -s /x', 'create -e /eph', 'getEphemerals', 'getEphemerals /', 'sync /', 'ls -R /', 'getAllChildrenNumber /', 'stat /', 'get -w /x', 'set /x 2', 'delete /eph', 'sync /', 'quit'].join(
        '\n',
      ) + '\n';
    const c = await both((port) => [`127.0.0.1:${port},127.0.0.1:${port}/chr`], script, true, ['create /chr']);
    expectSame(c);
    expect(c.node.out).toContain('[/chr/eph]');
    expect(c.node.out).toContain('WatchedEvent state:SyncConnected type:NodeDataChanged path:/x');
  });

  it('ls -? prints the options, then lists', async () => {
    expectSame(await bothPiped(['ls -? /', 'ls -? -s /zookeeper']));
  });

  it('config and reconfig on an ensemble: -add, -remove, -members, -v, -s, no permission', async () => {
    const SUPER = `-Dzookeeper.DigestAuthenticationProvider.superDigest=super:${createHash('sha1').update('super:test').digest('base64')}`;
    const ensembles = await Promise.all([0, 1].map(() => InProcEnsemble.create({ voters: 3, tickTime: 500, extra: ['reconfigEnabled=true'], jvmFlags: SUPER, clientAddresses: true })));
    try {
      // 1 and 2 first, so that 2 leads on both (the larger id of two equal logs); then 3 follows, and
      // removing it leaves the leader and the shells' server 1 alone
      const boot = async (e: InProcEnsemble): Promise<void> => {
        await e.start(1);
        await e.start(2);
        await e.waitFor(() => e.leader() === 2 && e.serving(), 30_000, 'server 2 to lead');
        await e.start(3);
        await e.waitFor(() => e.mode(3) === 'follower', 30_000, 'server 3 to follow');
      };
      await Promise.all(ensembles.map(boot));
      // each shell on its own ensemble; the ports differ, so they are named in the output
      const names = await Promise.all(ensembles.map((e) => portNames(e)));
      const script = (n: [string, string][]): string => {
        const line = (i: number): string => n.find(([, v]) => v === `<server.${i} line>`)![0];
        const line3 = line(3);
        return (
          [
            'config',
            'config -c',
            'reconfig -remove 3',
            'addauth digest super:test',
            'reconfig -remove 3',
            'config -c',
            'reconfig -v 12345 -remove 2',
            `reconfig -s -add ${line3}`,
            'config -s',
            `reconfig -members ${line(1)},${line(2)},${line(3)}`,
            'config -c',
            'quit',
          ].join('\n') + '\n'
        );
      };
      const [java, node] = await Promise.all([
        runShellProcess([ZKCLI, '-server', `127.0.0.1:${ensembles[0].port(1)}`], script(names[0])),
        runShellProcess([process.execPath, BIN, 'cli', '-server', `127.0.0.1:${ensembles[1].port(1)}`], script(names[1])),
      ]);
      const named = (r: ShellRun, n: [string, string][]): ShellRun => ({ ...r, out: r.out.map((l) => rename(l, n)), err: r.err.map((l) => rename(l, n)) });
      expectSame({ java: named(java, names[0]), node: named(node, names[1]) });
      expect(node.err).toContain('Insufficient permission : ');
      expect(node.out).toContain('Committed new configuration:');
      // config -c lists the client addresses in java.util.Properties' order
      expect(named(node, names[1]).out.filter((l) => /^\d+ /.test(l)).at(-1)).toMatch(/^\d+ (127\.0\.0\.1:<client\d>,){2}127\.0\.0\.1:<client\d>$/);
    } finally {
      await Promise.all(ensembles.map((e) => e.stopAll()));
    }
  });

  it('-r on a read-only server: ConnectedReadOnly, reads served, writes refused', async () => {
    const e = await InProcEnsemble.create({ voters: 3, tickTime: 200, jvmFlags: '-Dreadonlymode.enabled=true' });
    try {
      await e.startAll();
      await e.waitFor(() => e.serving(), 20_000, 'every peer serving');
      await runShellProcess([process.execPath, BIN, 'cli', '-server', `127.0.0.1:${e.port(1)}`, 'create', '/before', 'b'], null);
      await e.stop(2);
      await e.stop(3);
      await e.waitFor(() => e.mode(1) === 'read-only', 15_000, 'peer 1 read-only');
      // nothing can change on a read-only server: both shells may share it
      const script = ['get /before', 'ls -s /', 'create /x 1', 'set /before 2', 'delete /before', 'get -w /before', 'sync /', 'whoami', 'quit'].join('\n') + '\n';
      const [java, node] = await Promise.all([
        runShellProcess([ZKCLI, '-r', '-server', `127.0.0.1:${e.port(1)}`], script, { events: true }),
        runShellProcess([process.execPath, BIN, 'cli', '-r', '-server', `127.0.0.1:${e.port(1)}`], script, { events: true }),
      ]);
      expectSame({ java, node });
      expect(node.out).toContain('WatchedEvent state:ConnectedReadOnly type:None path:null');
      expect(node.err).toContain('Not a read-only call: /x');
    } finally {
      await e.stopAll();
    }
  });

  it('exit codes of piped scripts: the last command decides, quit or end of input', async () => {
    const runs = await Promise.all([
      bothPiped(['get /nope']),
      bothPiped(['get /nope'], { quit: false }),
      bothPiped(['get /nope', 'ls /'], { quit: false }),
      bothPiped(['frobnicate']),
    ]);
    for (const c of runs) expectSame(c);
    expect(runs.map((c) => c.node.code)).toEqual([1, 1, 0, 127]);
  });

  it('one-shot commands (-server HOST cmd args) and their exit codes', async () => {
    const runs = await Promise.all([
      bothOneShot(['get', '/x'], ['create /x hello']),
      bothOneShot(['get', '/nope']),
      bothOneShot(['ls', '-R', '/']),
      bothOneShot(['create', '/x']),
      bothOneShot(['frobnicate']),
      bothOneShot(['get']),
      bothOneShot(['ls', '-x', '/']),
      bothOneShot(['history']),
      bothOneShot(['quit']),
    ]);
    for (const c of runs) expectSame(c);
    expect(runs.map((c) => c.node.code)).toEqual([0, 1, 0, 0, 127, 1, 1, 0, 0]);
  });
});

/** Drive `zk-server cli` on a pseudo-terminal (script(1)), typing `keys` with pauses; its screen output. */
function underPty(port: number, keys: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const cmd = `${process.execPath} ${BIN} cli -server 127.0.0.1:${port}`;
    const p = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm' } });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    p.on('error', reject);
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('close', () => {
      clearTimeout(t);
      // the terminal's cursor moves and erasures are not what we look at
      resolve(out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
    });
    let i = 0;
    const step = (): void => {
      if (i >= keys.length) return;
      p.stdin!.write(keys[i++]);
      setTimeout(step, 400);
    };
    setTimeout(step, 1500);
  });
}

/** `zk-server cli` reading commands from a pipe we keep open, for scripts that wait on the server. */
class LiveShell {
  private readonly p;
  text = '';
  readonly exited: Promise<number | null>;
  constructor(server: string) {
    this.p = spawn(process.execPath, [BIN, 'cli', '-server', server], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.p.stdout!.on('data', (d) => (this.text += d));
    this.p.stderr!.on('data', (d) => (this.text += d));
    this.exited = new Promise((res) => this.p.on('close', (code) => res(code)));
  }
  send(line: string): void {
    this.p.stdin!.write(line + '\n');
  }
  /** Wait until the output (from `from` on) matches `re`. */
  async waitFor(re: RegExp, from = 0, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.text.substring(from))) {
      if (Date.now() > end) throw new Error(`no ${re} in:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  kill(): void {
    this.p.kill('SIGKILL');
  }
}

describe('zk-server cli alone', () => {
  it('rides out a server restart: Disconnected, then the same session again, its watches and auth restored', async () => {
    const first = await startTestServer();
    const { port } = first;
    const dataDir = first.config.dataDir;
    const sh = new LiveShell(`127.0.0.1:${port}`);
    let second: RunningServer | null = null;
    try {
      sh.send('addauth digest bob:pw');
      sh.send('create /w one');
      sh.send('create /mine m auth::cdrwa');
      sh.send('create -e /eph e');
      sh.send('get -w /w');
      sh.send('addWatch -m persistent /p');
      // addWatch prints nothing: a read after it (the shell runs one command at a time) says it is done
      sh.send('get /eph');
      await sh.waitFor(/Created \/eph\n[\s\S]*one\n(?:[\s\S]*\n)?e\n/);
      const before = sh.text.length;
      await first.stop();
      await sh.waitFor(/WatchedEvent state:Disconnected type:None path:null/, before);
      second = await startTestServer({ clientPort: port, dataDir });
      await sh.waitFor(/WatchedEvent state:SyncConnected type:None path:null/, before);
      // another client changes /w and creates /p: the watches were set again on the new server
      const other = await runShellProcess([process.execPath, BIN, 'cli', '-server', `127.0.0.1:${port}`], 'set /w two\ncreate /p\nquit\n');
      expect(other.err).toEqual(['Created /p']);
      await sh.waitFor(/type:NodeDataChanged path:\/w/, before);
      await sh.waitFor(/type:NodeCreated path:\/p/, before);
      // the same session: its ephemeral is there; its digest identity too (the ACL lets it read)
      const mark = sh.text.length;
      sh.send('getEphemerals');
      sh.send('get /mine');
      sh.send('whoami');
      sh.send('quit');
      expect(await sh.exited).toBe(0);
      const after = sh.text.substring(mark);
      expect(after).toMatch(/^\[\/eph\]\nm\nAuth scheme: User\n/);
      expect(after).toContain('\ndigest: bob\n');
    } finally {
      sh.kill();
      await second?.stop();
    }
  });


  it('fails over to another server of the ensemble with its session: ephemeral, watches and all', async () => {
    const e = await InProcEnsemble.create({ voters: 3, tickTime: 100 });
    let sh: LiveShell | null = null;
    try {
      await e.startAll();
      await e.waitFor(() => e.serving(), 30_000, 'a leader');
      sh = new LiveShell([1, 2, 3].map((i) => `127.0.0.1:${e.port(i)}`).join(','));
      sh.send('create /w one');
      sh.send('create -e /eph e');
      sh.send('get -w /w');
      sh.send('stat /eph');
      await sh.waitFor(/ephemeralOwner = 0x([0-9a-f]+)\n/);
      const sid = /ephemeralOwner = 0x([0-9a-f]+)\n/.exec(sh.text)![1];
      // the server this session is on: the one whose `cons` lists it
      let on = 0;
      for (let i = 1; i <= 3 && !on; i++) if ((await fourLetter(e.port(i), 'cons')).includes(`sid=0x${sid}`)) on = i;
      expect(on).toBeGreaterThan(0);
      const before = sh.text.length;
      await e.stop(on);
      await sh.waitFor(/state:Disconnected[\s\S]*state:SyncConnected type:None/, before);
      const other = [1, 2, 3].find((i) => i !== on)!;
      await runShellProcess([process.execPath, BIN, 'cli', '-server', `127.0.0.1:${e.port(other)}`, 'set', '/w', 'two'], null);
      await sh.waitFor(/type:NodeDataChanged path:\/w/, before);
      const mark = sh.text.length;
      sh.send('getEphemerals');
      sh.send('quit');
      expect(await sh.exited).toBe(0);
      expect(sh.text.substring(mark)).toMatch(/^\[\/eph\]\n/);
    } finally {
      sh?.kill();
      await e.stopAll();
    }
  });

  it('skips a server of the connect string that is down, and keeps the queued commands for the next one', async () => {
    const s = await startTestServer();
    try {
      // the dead server comes first about half the time (the list is shuffled, as the Java client does)
      for (let i = 0; i < 3; i++) {
        const r = await runShellProcess([process.execPath, BIN, 'cli', '-server', `127.0.0.1:1,127.0.0.1:${s.port}`, 'ls', '/'], null);
        expect(r).toEqual({ out: ['[zookeeper]'], err: [], code: 0 });
      }
      const w = await runShellProcess([process.execPath, BIN, 'cli', '-waitforconnection', '-timeout', '5000', '-server', `127.0.0.1:${s.port}`], 'stat /\n');
      expect(w.out).toContain('numChildren = 1');
    } finally {
      await s.stop();
    }
  });
});

describe('zk-server cli on a terminal', () => {
  let server: RunningServer;
  beforeAll(async () => {
    requireDist();
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('completes a command and a znode path with TAB, and recalls history with the up arrow', async () => {
    const screen = await underPty(server.port, [
      'create /completion-target hello\r',
      // "getA" + TAB TAB: two candidates, listed; Ctrl-U clears the line
      'getA\t',
      '\t',
      '\x15',
      // "getAllC" + TAB: one, completed with a space after it; then a path
      'getAllC\t',
      '/compl\t',
      '\r',
      // up arrow twice: the create again (a NodeExists error proves it ran again)
      '\x1b[A\x1b[A\r',
      'quit\r',
    ]);
    // the prompt, as zkCli shows it (the first one may still say CONNECTING)
    expect(screen).toContain('[zk: 127.0.0.1:' + server.port + '(CONNECTED) 1] ');
    // the command and the path were completed: the line ran as getAllChildrenNumber /completion-target
    expect(screen).toContain('getAllChildrenNumber /completion-target');
    expect(screen).toMatch(/getAllChildrenNumber \/completion-target \r*\n0\r?\n/);
    // the candidates for "getA"
    expect(screen).toMatch(/getAcl\s+getAllChildrenNumber/);
    // history: the create ran a second time
    expect(screen).toContain('Node already exists: /completion-target');
  });
});
