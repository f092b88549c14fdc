// An ensemble of QuorumPeers in this test process, on OS-assigned loopback ports: the production
// election, Zab roles, executor and request pipeline, without child processes, so tests of them are
// fast and their failures point at the code. Peers stop and restart in place (a restart keeps the
// dataDir, as a process restart does).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/load';
import { RunningServer, startQuorumPeer } from '../../src/main';
import { freePorts } from './peers';
import { serverMetrics } from '../../src/util/metrics';

export interface InProcOptions {
  voters?: number;
  observers?: number;
  tickTime?: number;
  initLimit?: number;
  syncLimit?: number;
  extra?: string[];
  /** run each peer's AdminServer on a free loopback port (`adminPort(i)`) */
  admin?: boolean;
  /** JVMFLAGS-style `-Dkey=value` flags (e.g. -Dreadonlymode.enabled=true) */
  jvmFlags?: string;
  /** server lines with the client address (";127.0.0.1:port"), as reconfig's lines carry it */
  clientAddresses?: boolean;
}

/** Every INFO-and-above line of every peer, as JSON records (tests look for what an operator reads). */
export const peerLog: { myid: number; level: number; msg: string; component?: string }[] = [];

export class InProcEnsemble {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-inproc-'));
  readonly servers = new Map<number, RunningServer>();
  readonly clientPorts: number[] = [];
  readonly adminPorts: number[] = [];
  private lines: string[] = [];
  readonly size: number;

  private constructor(readonly o: InProcOptions) {
    this.size = (o.voters ?? 3) + (o.observers ?? 0);
  }

  static async create(o: InProcOptions = {}): Promise<InProcEnsemble> {
    const e = new InProcEnsemble(o);
    const ports = await freePorts(3 * e.size);
    if (o.admin) e.adminPorts.push(...(await freePorts(e.size)));
    for (let i = 1; i <= e.size; i++) {
      e.clientPorts.push(ports[3 * i - 3]);
      const observer = i > (o.voters ?? 3);
      const client = o.clientAddresses ? `;127.0.0.1:${ports[3 * i - 3]}` : '';
      e.lines.push(`server.${i}=127.0.0.1:${ports[3 * i - 2]}:${ports[3 * i - 1]}${observer ? ':observer' : ''}${client}`);
    }
    return e;
  }

  port(i: number): number {
    return this.clientPorts[i - 1];
  }

  adminPort(i: number): number {
    return this.adminPorts[i - 1];
  }

  /** GET /commands/NAME of peer i's AdminServer, as JSON */
  async admin(i: number, name: string): Promise<Record<string, unknown>> {
    const r = await fetch(`http://127.0.0.1:${this.adminPort(i)}/commands/${name}`);
    return (await r.json()) as Record<string, unknown>;
  }

  private cfg(i: number): string {
    const dir = path.join(this.root, `node${i}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'myid'), `${i}\n`);
    const observer = i > (this.o.voters ?? 3);
    const file = path.join(this.root, `zoo_${i}.cfg`);
    const lines = [
      `tickTime=${this.o.tickTime ?? 200}`,
      `initLimit=${this.o.initLimit ?? 10}`,
      `syncLimit=${this.o.syncLimit ?? 5}`,
      `dataDir=${dir}`,
      `clientPort=${this.port(i)}`,
      'clientPortAddress=127.0.0.1',
      '4lw.commands.whitelist=*',
      ...(this.o.admin ? ['admin.enableServer=true', 'admin.serverAddress=127.0.0.1', `admin.serverPort=${this.adminPort(i)}`] : ['admin.enableServer=false']),
      ...(observer ? ['peerType=observer'] : []),
      ...this.lines,
      ...(this.o.extra ?? []),
    ];
    fs.writeFileSync(file, lines.join('\n') + '\n');
    return file;
  }

  async start(i: number): Promise<void> {
    const config = loadConfig(this.cfg(i), { jvmFlags: this.o.jvmFlags ?? '' });
    const show = process.env.ZK_TEST_LOG;
    const logger = pino(
      { level: show && show !== 'silent' ? show : 'info', base: { myid: i } },
      {
        write(line: string) {
          peerLog.push(JSON.parse(line));
          if (peerLog.length > 20_000) peerLog.splice(0, 10_000);
          if (show && show !== 'silent') process.stdout.write(line);
        },
      },
    );
    this.servers.set(i, await startQuorumPeer(config, logger));
  }

  async startAll(): Promise<void> {
    for (let i = 1; i <= this.size; i++) await this.start(i);
  }

  async stop(i: number): Promise<void> {
    const s = this.servers.get(i);
    this.servers.delete(i);
    await s?.stop();
  }

  async stopAll(): Promise<void> {
    for (const i of [...this.servers.keys()]) await this.stop(i);
  }

  mode(i: number): string {
    return this.servers.get(i)?.peer?.mode ?? 'down';
  }

  leader(): number {
    for (const [i, s] of this.servers) if (s.peer?.mode === 'leader') return i;
    return -1;
  }

  /** every running peer serves (leader, follower or observer) and exactly one leads */
  serving(): boolean {
    const modes = [...this.servers.keys()].map((i) => this.mode(i));
    return modes.every((m) => m === 'leader' || m === 'follower' || m === 'observer') && modes.filter((m) => m === 'leader').length === 1;
  }

  /**
   * Stop peer `i`, empty its dataDir (myid kept) and start it again, so that it rejoins by SNAP;
   * resolves once it follows, with the number of SNAPs sent meanwhile (the process's snap_count).
   */
  async rejoinWiped(i: number): Promise<number> {
    await this.stop(i);
    const dir = path.join(this.root, `node${i}`);
    for (const x of fs.readdirSync(dir)) if (x !== 'myid') fs.rmSync(path.join(dir, x), { recursive: true, force: true });
    const snaps = serverMetrics.snap_count.value;
    await this.start(i);
    await this.waitFor(() => this.mode(i) === 'follower', 20_000, `server ${i} following again`);
    return serverMetrics.snap_count.value - snaps;
  }

  async waitFor(f: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await f()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    const modes = [...this.servers.keys()].map((i) => `${i}:${this.mode(i)}`).join(' ');
    throw new Error(`timed out after ${ms} ms waiting for ${what} (modes ${modes})`);
  }
}
