// What an operator reads: the text log line (time, server id, level, component, message, fields),
// the choice between text and JSON, and start-up messages that say what is true.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger, logFormatOf, textLine } from '../src/logger';
import { componentLogger } from '../src/util/log';
import { RotatingFile } from '../src/util/rotatingfile';
import { execFileSync } from 'node:child_process';
import { loadEpochs } from '../src/quorum/epochs';

describe('log lines', () => {
  it('a text line has ZooKeeper\'s time format, the server id once, the level, the component and the fields', () => {
    const t = new Date(2026, 11, 4, 13, 5, 9, 42).getTime();
    expect(textLine({ level: 30, time: t, myid: 2, msg: 'quorum peer started', port: 2182 })).toBe('2026-12-04 13:05:09,042 [myid:2] - INFO  [main] - quorum peer started port=2182');
    expect(textLine({ level: 40, time: t, myid: 3, component: 'zab', msg: 'leader stepping down', reason: 'x y', n: { a: 1 } })).toBe(
      '2026-12-04 13:05:09,042 [myid:3] - WARN  [zab] - leader stepping down reason=x y n={"a":1}',
    );
  });

  it('text on a terminal, JSON for a pipe or a file, unless --log-format or ZK_LOG_FORMAT says otherwise', () => {
    expect(logFormatOf(undefined, {}, true)).toBe('text');
    expect(logFormatOf(undefined, {}, false)).toBe('json');
    expect(logFormatOf(undefined, { ZK_LOG_FORMAT: 'text' }, false)).toBe('text');
    expect(logFormatOf('json', { ZK_LOG_FORMAT: 'text' }, true)).toBe('json');
    expect(() => logFormatOf('xml', {}, true)).toThrow('unknown log format "xml" (expected text or json)');
  });

  it('a brand-new dataDir is not called an upgrade; a dataDir with txns and no epoch files is', () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-epochs-'));
    const said: string[] = [];
    expect(loadEpochs(fresh, 0, (m) => said.push(m))).toEqual({ accepted: 0, current: 0 });
    expect(said).toEqual(['currentEpoch not found: a new dataDir, starting at epoch 0', 'acceptedEpoch not found: a new dataDir, starting at epoch 0']);
    const old = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-epochs-'));
    const said2: string[] = [];
    expect(loadEpochs(old, 0x300000007, (m) => said2.push(m))).toEqual({ accepted: 3, current: 3 });
    expect(said2[0]).toContain('This should only happen when you are upgrading your installation');
  });

  it('each part of the server names its component once, however loggers are derived', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-log-'));
    for (const format of ['json', 'text'] as const) {
      const file = new RotatingFile(path.join(dir, `${format}.log`), { maxBytes: 1 << 20, backups: 1 });
      const root = createLogger({ myid: 3, format, file });
      const leader = componentLogger(root, 'Leader');
      // a component logger made from another one replaces the component, it does not add one
      componentLogger(leader, 'LeaderZooKeeperServer').info({ zxid: '0x100000001' }, 'committed');
      leader.warn({}, 'leader stepping down');
      root.info({}, 'no component');
      await file.drained();
      file.close();
      const lines = fs.readFileSync(path.join(dir, `${format}.log`), 'utf8').trimEnd().split('\n');
      if (format === 'json') {
        expect(lines).toHaveLength(3);
        for (const l of lines) {
          expect(l.match(/"myid":/g)).toHaveLength(1);
          expect((l.match(/"component":/g) ?? []).length).toBeLessThanOrEqual(1);
        }
        expect(JSON.parse(lines[0])).toMatchObject({ myid: 3, component: 'LeaderZooKeeperServer', zxid: '0x100000001', msg: 'committed' });
      } else {
        expect(lines.map((l) => l.slice(24))).toEqual([
          '[myid:3] - INFO  [LeaderZooKeeperServer] - committed zxid=0x100000001',
          '[myid:3] - WARN  [Leader] - leader stepping down',
          '[myid:3] - INFO  [main] - no component',
        ]);
      }
    }
  });
});

describe('a log file that cannot be written', () => {
  it('a full disk (/dev/full: every write ENOSPC) drops the lines and never throws into the logging call, in either format', () => {
    for (const format of ['text', 'json'] as const) {
      const file = new RotatingFile('/dev/full', { maxBytes: 1 << 20, backups: 0 });
      const log = createLogger({ format, file, level: 'info' });
      expect(() => {
        for (let i = 0; i < 100; i++) log.info({ i }, 'a line the disk has no room for');
      }).not.toThrow();
    }
  });

  it('a rollover that cannot open the new file drops lines until it can, then writes again', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-logfail-'));
    const sub = path.join(dir, 'logs');
    fs.mkdirSync(sub);
    const f = path.join(sub, 'zk.log');
    const file = new RotatingFile(f, { maxBytes: 64, backups: 2 });
    file.write('first line, under the limit\n');
    await file.drained();
    fs.rmSync(sub, { recursive: true }); // the next rollover finds no directory to open the file in
    expect(() => {
      for (let i = 0; i < 5; i++) file.write(`lost line ${i} .................................\n`);
    }).not.toThrow();
    await file.drained();
    fs.mkdirSync(sub);
    file.write('back again\n');
    await file.drained();
    expect(fs.readFileSync(f, 'utf8')).toBe('back again\n');
    file.close();
  });

  it('a log file on a disk that stalls: the logging call never waits; the lines are written once the disk is back', async () => {
    // a FIFO nobody reads yet stands in for a stalled disk: a write to it blocks until a reader comes
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-logstall-'));
    const fifo = path.join(dir, 'stalled.log');
    execFileSync('mkfifo', [fifo]);
    // opening a FIFO for writing blocks until a reader opens it: open it for reading ourselves first
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const file = new RotatingFile(fifo, { maxBytes: 1 << 30, backups: 0 });
    const line = 'x'.repeat(1000) + '\n';
    // 200 kB, more than the pipe holds (64 kB): a synchronous write would block here for good, as
    // nothing reads the pipe until these calls return
    for (let i = 0; i < 200; i++) file.write(line);
    // the event loop is free while the writes wait: a timer fires
    await new Promise((r) => setTimeout(r, 50));
    let got = '';
    const buf = Buffer.alloc(1 << 16);
    const drained = file.drained();
    for (let n = 0; got.length < 200 * line.length && n < 1000; n++) {
      try {
        const k = fs.readSync(reader, buf, 0, buf.length, null);
        got += buf.toString('utf8', 0, k);
      } catch {
        await new Promise((r) => setTimeout(r, 5)); // EAGAIN: nothing to read yet
      }
    }
    await drained;
    expect(got).toBe(line.repeat(200));
    file.close();
    fs.closeSync(reader);
  });
});

describe('a foreground server whose stdout reader goes away', () => {
  it.each(['text', 'json'])('goes on serving (EPIPE on its log lines, --log-format %s)', async (format) => {
    const { spawn } = await import('node:child_process');
    const net = await import('node:net');
    const { BIN, fourLetter, freePort, requireDist } = await import('./helpers/peers');
    requireDist();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-epipe-'));
    const port = await freePort();
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(cfg, [`dataDir=${dir}/data`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1', '4lw.commands.whitelist=*', 'admin.enableServer=false', ''].join('\n'));
    const p = spawn(process.execPath, [BIN, 'start-foreground', cfg, '--log-format', format], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    let exited: string | null = null;
    p.on('exit', (code, sig) => (exited = `exited with ${code ?? sig}`));
    try {
      // the first line read, the reader goes away: the pipe's next write fails with EPIPE
      await new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()));
      p.stdout!.destroy();
      for (let i = 0; i < 100 && !/imok/.test(await fourLetter(port, 'ruok', 500)); i++) await new Promise((r) => setTimeout(r, 100));
      // each of these logs a WARN line
      for (let i = 0; i < 10; i++) {
        await new Promise<void>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port }, () => s.end(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])));
          s.on('close', () => resolve());
          s.on('error', () => resolve());
        });
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(exited, err.slice(-2000)).toBeNull();
      expect(await fourLetter(port, 'ruok')).toBe('imok');
    } finally {
      p.kill('SIGKILL');
    }
  }, 30_000);
});
