// Every file descriptor taken: a server process under a low `ulimit -n` (96) and a flood of 200
// connections held for longer than a few of the idle collector's 2 s intervals, while a client
// connected before the flood keeps writing. The server must not die; once the flood goes, it
// serves new connections. Until 2026-12-07 the idle collector's process.memoryUsage() (which opens
// /proc/self/stat for the RSS) threw EMFILE from its timer and ended the process within seconds.
// Snapshots that cannot open their file meanwhile are logged and tried again (they are).
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniClient } from './helpers/miniclient';
import { BIN, fourLetter, freePort, requireDist } from './helpers/peers';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let proc: ChildProcess | null = null;
const sockets: net.Socket[] = [];
afterAll(() => {
  for (const s of sockets) s.destroy();
  proc?.kill('SIGKILL');
});

describe('a server out of file descriptors', () => {
  beforeAll(() => requireDist());

  it('lives through 200 connections under ulimit -n 96, writes go on, and it serves again once they close', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-fds-'));
    const port = await freePort();
    const cfg = path.join(dir, 'zoo.cfg');
    // maxClientCnxns=0: no per-address cap, so the flood reaches the process's limit; a small
    // snapCount makes snapshots (new files) come due while no descriptor is free
    fs.writeFileSync(cfg, [`tickTime=500`, `dataDir=${dir}/data`, `clientPort=${port}`, 'clientPortAddress=127.0.0.1', 'maxClientCnxns=0', 'snapCount=200', '4lw.commands.whitelist=*', 'admin.enableServer=false', ''].join('\n'));
    let log = '';
    let exit: string | null = null;
    proc = spawn('bash', ['-c', 'ulimit -n 96 && exec "$0" "$1" start-foreground "$2"', process.execPath, BIN, cfg], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ZK_LOG_LEVEL: 'warn' } });
    proc.stdout!.on('data', (d) => (log += d));
    proc.stderr!.on('data', (d) => (log += d));
    proc.on('exit', (code, sig) => (exit = `exited with ${code ?? sig}`));
    for (let i = 0; i < 100 && !/imok/.test(await fourLetter(port, 'ruok', 500)); i++) await sleep(100);

    const writer = await MiniClient.connect(port, 10_000);
    let ok = 0;
    const failed: number[] = [];
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing && exit === null; i++) {
        const err = await writer.create(`/w${i}`, Buffer.from('x')).catch(() => -999);
        if (err === 0) ok++;
        else failed.push(err);
      }
    })();
    for (let i = 0; i < 200; i++) {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      sockets.push(s);
    }
    await sleep(7000); // three of the idle collector's intervals with no descriptor free
    for (const s of sockets.splice(0)) s.destroy();
    await sleep(1500);
    writing = false;
    await writes;
    writer.close();
    expect(exit, `the server died with every descriptor taken:\n${log.slice(-3000)}`).toBeNull();
    expect(failed, 'writes of the client connected before the flood').toEqual([]);
    expect(ok).toBeGreaterThan(0);
    const after = await MiniClient.connect(port, 10_000);
    expect(await after.create('/after', Buffer.from('y'))).toBe(0);
    after.close();
  }, 60_000);
});
