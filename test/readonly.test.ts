// Read-only mode (readonlymode.enabled, src/server/readonlyzk.ts): a peer that lost its quorum
// serves clients that asked for read-only — kazoo (read_only=True) and the Java client (zkCli.sh -r,
// canBeReadOnly) — with reads from its tree, NOTREADONLY for writes and sync; `isro` answers ro and
// srvr says read-only; clients that did not ask are refused; when the quorum returns the peer
// leaves read-only mode and kazoo moves back to a read-write server by itself.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InProcEnsemble } from './helpers/inproc';
import { MiniClient } from './helpers/miniclient';
import { fourLetter, SKIP_REAL } from './helpers/peers';

const PY = '/usr/bin/python3';
const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const children: ChildProcess[] = [];

afterAll(() => {
  for (const p of children) p.kill('SIGKILL');
});

function zkCliRO(port: number, commands: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    const p = spawn(ZKCLI, ['-r', '-server', `127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(p);
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', () => {
      clearTimeout(t);
      resolve(out.split('\n').filter((l) => l.trim() !== '' && !/^(SLF4J|Connecting to|Welcome to|JLine|\[zk:)/.test(l)));
    });
    p.stdin!.end(commands.concat('quit').join('\n') + '\n');
  });
}

describe.skipIf(SKIP_REAL)('read-only mode', () => {
  it('a peer without a quorum serves read-only clients, refuses writes, and hands them back when the quorum returns', async () => {
    expect(fs.existsSync(ZKCLI)).toBe(true);
    const e = await InProcEnsemble.create({ voters: 3, tickTime: 200, jvmFlags: '-Dreadonlymode.enabled=true' });
    try {
      await e.startAll();
      await e.waitFor(() => e.serving(), 20_000, 'every peer serving');
      const c = await MiniClient.connect(e.port(1), 4000);
      expect(await c.create('/before', Buffer.from('b'))).toBe(0);
      c.close();
      expect(await fourLetter(e.port(1), 'isro')).toBe('rw\n');
      // peer 1 loses its quorum
      await e.stop(2);
      await e.stop(3);
      await e.waitFor(() => e.mode(1) === 'read-only', 15_000, 'peer 1 read-only');
      expect(await fourLetter(e.port(1), 'isro')).toBe('ro\n');
      const srvr = await fourLetter(e.port(1), 'srvr');
      expect(srvr).toContain('READ-ONLY mode; serving only read-only clients\n');
      expect(srvr).toContain('Mode: read-only\n');
      // a client that did not ask for read-only is refused
      await expect(MiniClient.connect(e.port(1), 4000)).rejects.toThrow(/closed/);

      // the Java client with canBeReadOnly
      const j = await zkCliRO(e.port(1), ['get /before', 'create /x 1', 'sync /']);
      expect(j).toContain('WatchedEvent state:ConnectedReadOnly type:None path:null');
      expect(j).toContain('b');
      expect(j).toContain('Not a read-only call: /x');

      // kazoo with read_only=True, given every peer: it stays on peer 1 while that is all there is
      const hosts = [1, 2, 3].map((i) => `127.0.0.1:${e.port(i)}`).join(',');
      const k = spawn(PY, [path.join(__dirname, 'clients', 'kazoo_readonly.py'), hosts], { stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(k);
      let out = '';
      let err = '';
      k.stdout!.on('data', (d) => (out += d));
      k.stderr!.on('data', (d) => (err += d));
      await e.waitFor(() => out.includes('\n'), 40_000, `kazoo's read-only phase (${err.slice(-500)})`);
      expect(JSON.parse(out.split('\n')[0])).toEqual({ state: 'CONNECTED_RO', before: 'b', create: 'NotReadOnlyCallError', sync: 'NotReadOnlyCallError' });

      // the quorum returns: peer 1 leaves read-only mode; kazoo finds a read-write server itself
      await e.start(2);
      await e.start(3);
      await e.waitFor(() => e.serving(), 20_000, 'every peer serving again');
      expect(await fourLetter(e.port(1), 'isro')).toBe('rw\n');
      k.stdin!.end('go\n');
      await e.waitFor(() => out.split('\n').length > 2, 70_000, `kazoo's read-write phase (${err.slice(-500)})`);
      const second = JSON.parse(out.split('\n')[1]);
      expect(second, JSON.stringify(second)).toMatchObject({ state: 'CONNECTED', create: 'ok' });
      const r = await MiniClient.connect(e.port(2), 4000);
      expect((await r.getData('/after-ro')).data?.toString()).toBe('rw');
      expect((await r.getData('/x')).err).toBe(-101);
      r.close();
    } finally {
      await e.stopAll();
    }
  }, 150_000);
});
