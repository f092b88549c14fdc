// Dynamic reconfiguration (issue 15): zkCli.sh's config and reconfig commands side by side with
// Apache ZooKeeper 3.8, and the membership drills under a steady writer — scale 3 → 5 → 3 removing
// the leader, a participant becoming an observer and back, and the same with Apache ZooKeeper peers
// in the ensemble. Each drill ends with no client error but ConnectionLoss, every acknowledged
// write on every member, and the membership surviving a restart from the files the reconfig wrote.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { steadyLoad, SteadyLoadResult } from './helpers/javaclient';
import { MiniClient } from './helpers/miniclient';
import { MixedEnsemble } from './helpers/mixed';
import { freePorts, Peers, PeerSpec, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';
import { eventsLast, zkCli } from './helpers/zkcli';

const SESSION_MS = 6000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SUPER = `-Dzookeeper.DigestAuthenticationProvider.superDigest=super:${createHash('sha1').update('super:test').digest('base64')}`;

let ens: MixedEnsemble | null = null;
afterEach(async () => {
  await ens?.cleanup();
  ens = null;
});

/** Ports for servers 1..n and their server lines (with the client address, as reconfig needs). */
async function layout(n: number): Promise<{ ports: number[]; line: (i: number, role?: string) => string; clientPort: (i: number) => number }> {
  const ports = await freePorts(3 * n);
  return {
    ports,
    clientPort: (i) => ports[3 * (i - 1)],
    line: (i, role = 'participant') => `server.${i}=127.0.0.1:${ports[3 * i - 2]}:${ports[3 * i - 1]}:${role};127.0.0.1:${ports[3 * (i - 1)]}`,
  };
}

/** The membership lines of /zookeeper/config as a MiniClient reads them on server i. */
async function configOn(port: number): Promise<string> {
  const c = await MiniClient.connect(port);
  try {
    return (await c.getData('/zookeeper/config')).data?.toString('utf8') ?? '';
  } finally {
    c.close();
  }
}

function expectClean(r: SteadyLoadResult): void {
  expect(r, JSON.stringify(r)).toMatchObject({ expired: false, sameSession: true, missing: 0, ephemeral: true });
  for (const k of Object.keys(r.errors)) expect(k, JSON.stringify(r)).toMatch(/ConnectionLoss/);
  expect(r.acked).toBeGreaterThan(50);
}

describe.skipIf(SKIP_REAL)('zkCli.sh config and reconfig, beside Apache ZooKeeper 3.8', () => {
  it('config, reconfig -add/-remove/-members, -v, no quorum, no permission: the same lines from both', async () => {
    requireDist();
    requireApacheZk();
    const out: Record<string, string[][]> = {};
    for (const kind of ['zookeeper', 'zk-server']) {
      const L = await layout(5);
      const spec: PeerSpec = { clientPort: L.clientPort, common: ['reconfigEnabled=true', L.line(1), L.line(2), L.line(3)] };
      const peers = new Peers(spec, 'zk-reconfig-cli-');
      const e = (ens = new MixedEnsemble(peers));
      const start = (i: number, keep = false): void => (kind === 'zookeeper' ? e.startJava(i, [SUPER], keep) : peers.start(i, { JVMFLAGS: SUPER }, keep));
      // servers 1 and 2 first, so that 2 leads (the larger id of two equal logs) on both sides
      start(1);
      start(2);
      await e.waitFor(async () => (await peers.mode(2)) === 'leader', 60_000, `${kind}: server 2 to lead`);
      start(3);
      await e.waitFor(async () => (await e.modes(3)).join() === 'follower,leader,follower', 60_000, `${kind}: three peers`);
      // server 4 runs with the three lines and its own (a joiner's zoo.cfg); server 5 never runs
      peers.cfg(4);
      fs.appendFileSync(peers.cfgFile(4), L.line(4) + '\n');
      start(4, true);
      await e.waitFor(async () => (await peers.mode(4)) !== 'none', 60_000, `${kind}: server 4 to join`);
      // the ports differ between the two runs: compare with each run's ports named
      // (and without stat's times)
      const name = (lines: string[]): string[] =>
        lines
          .filter((l) => !/^(ctime|mtime) = /.test(l))
          .map((l) => L.ports.reduce((acc, p, k) => acc.split(String(p)).join(`<${['client', 'quorum', 'election'][k % 3]}${Math.floor(k / 3) + 1}>`), l));
      const cli = (cmds: string[]): Promise<string[]> => zkCli(L.clientPort(1), cmds, { events: true }).then((x) => name(eventsLast(x)));
      const r: string[][] = [];
      r.push(await cli(['config', 'reconfig -remove 3']));
      r.push(
        await cli([
          'addauth digest super:test',
          'reconfig -v 12345 -remove 3',
          `reconfig -members ${L.line(1)},${L.line(5)}`,
          `reconfig -add ${L.line(4)}`,
          'config',
          'reconfig -remove 3',
          `reconfig -add ${L.line(3, 'observer')}`,
          'config',
          'stat /zookeeper/config',
        ]),
      );
      // the files the last reconfig left on server 1: zoo.cfg pointing at zoo.cfg.dynamic.<version>
      await sleep(500);
      const root = (l: string): string => l.split(peers.root).join('<root>');
      const statics = fs.readFileSync(peers.cfgFile(1), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
      const dyn = /^dynamicConfigFile=(.*)$/m.exec(fs.readFileSync(peers.cfgFile(1), 'utf8'))?.[1] ?? '';
      r.push(name(statics.map(root).sort()));
      r.push(name(fs.existsSync(dyn) ? fs.readFileSync(dyn, 'utf8').split('\n') : ['(none)']));
      out[kind] = r;
      await e.cleanup();
      ens = null;
    }
    const ours = out['zk-server'];
    expect(ours[0]).toContain('Insufficient permission : ');
    expect(ours[1]).toContain('Committed new configuration:');
    expect(ours[1]).toContain('server.3=127.0.0.1:<quorum3>:<election3>:observer;127.0.0.1:<client3>');
    expect(ours[2]).toContain('dynamicConfigFile=<root>/zoo_1.cfg.dynamic.100000009');
    expect(out['zk-server']).toEqual(out.zookeeper);
  }, 300_000);
});
