// TLS between peers (sslQuorum, ssl.quorum.*; quorum/transport.ts): election and quorum ports speak
// TLS both ways with certificates from a throwaway CA (test/helpers/pki.ts).
//  - three zk-server peers with sslQuorum elect and replicate; a peer whose certificate the CA did
//    not sign is kept out, and a plaintext connection to the election port is dropped;
//  - a mixed ensemble, two zk-server peers and one Apache ZooKeeper 3.8 peer, all with sslQuorum:
//    the Java peer leads first, then one of ours after it stops, and it rejoins as a follower.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { holdOnEveryPeer } from './helpers/keepalive';
import { MixedEnsemble, writeReadEverywhere } from './helpers/mixed';
import { ensembleSpec, Peers, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';
import { HAVE_TOOLS, makeTestPki } from './helpers/pki';
import { initialMessage } from '../src/quorum/cnx/manager';

const pki = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-qtls-pki-'));
afterAll(() => fs.rmSync(pki, { recursive: true, force: true }));
const tlsLines = (store = 'server.p12', pw = 'serverpw'): string[] => [
  'sslQuorum=true',
  `ssl.quorum.keyStore.location=${path.join(pki, store)}`,
  `ssl.quorum.keyStore.password=${pw}`,
  `ssl.quorum.trustStore.location=${path.join(pki, 'trust.p12')}`,
  'ssl.quorum.trustStore.password=trustpw',
];
/** Whether a plaintext peer's initial message on `port` (an election port) is dropped unanswered. */
function plaintextDropped(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(initialMessage(9, '127.0.0.1', 1)));
    s.on('data', () => resolve(false));
    s.on('close', () => resolve(true));
    s.on('error', () => undefined);
    setTimeout(() => resolve(false), 5000);
  });
}

let ens: MixedEnsemble | null = null;
afterEach(async () => {
  await ens?.cleanup();
  ens = null;
});

describe.skipIf(SKIP_REAL || !HAVE_TOOLS)('quorum TLS', () => {
  beforeAll(() => makeTestPki(pki), 60_000);

  it('three zk-server peers with sslQuorum form a quorum; an untrusted certificate and plaintext are kept out', async () => {
    requireDist();
    let rogue = false;
    const spec = await ensembleSpec(3, { extra: (i) => (i === 3 && rogue ? tlsLines('rogue.p12', 'roguepw') : tlsLines()) });
    const peers = new Peers(spec, 'zk-qtls-');
    ens = new MixedEnsemble(peers);
    peers.start(1);
    peers.start(2);
    await peers.waitFor(async () => (await ens!.modes(2)).sort().join() === 'follower,leader', 30_000, 'peers 1 and 2 to form a quorum');
    // a plaintext peer's initial message on the election port: dropped without an answer
    const election = Number(/server\.1=127\.0\.0\.1:\d+:(\d+)/.exec(spec.common.join('\n'))![1]);
    const closed = await plaintextDropped(election);
    expect(closed).toBe(true);
    rogue = true;
    peers.start(3);
    await new Promise((r) => setTimeout(r, 4000));
    expect(await peers.mode(3)).toBe('none');
    expect(peers.logs.get(1)! + peers.logs.get(2)!).toMatch(/quorum TLS handshake failed/);
    await peers.stop(3);
    rogue = false;
    peers.start(3);
    await peers.waitFor(async () => (await peers.mode(3)) === 'follower', 30_000, 'peer 3 to join with a trusted certificate');
    await writeReadEverywhere(spec, 3, 't');
    // sessions on the leader and both followers live on past 3x their timeout: the followers'
    // session touches and the leader's pings travel over TLS
    expect(await holdOnEveryPeer([1, 2, 3], spec.clientPort, 2000, 6000, 'qtls')).toEqual([]);
  }, 150_000);

  it('sslQuorumReloadCertFiles: a peer kept out by its certificate joins once a trusted one is copied over the file, without a restart', async () => {
    requireDist();
    execFileSync('openssl', ['pkcs12', '-export', '-in', 'rogue.crt', '-inkey', 'rogue.key', '-out', 'rogue-serverpw.p12', '-passout', 'pass:serverpw'], { cwd: pki, stdio: 'ignore' });
    const store3 = path.join(pki, 'peer3.p12');
    fs.copyFileSync(path.join(pki, 'rogue-serverpw.p12'), store3);
    const spec = await ensembleSpec(3, { extra: (i) => (i === 3 ? [...tlsLines('peer3.p12'), 'sslQuorumReloadCertFiles=true'] : tlsLines()) });
    const peers = new Peers(spec, 'zk-qtls-reload-');
    ens = new MixedEnsemble(peers);
    peers.start(1);
    peers.start(2);
    await peers.waitFor(async () => (await ens!.modes(2)).sort().join() === 'follower,leader', 30_000, 'peers 1 and 2 to form a quorum');
    peers.start(3);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await peers.mode(3)).toBe('none');
    // a new store in place, as an operator's renewal script writes it (a temp file renamed over the old)
    fs.copyFileSync(path.join(pki, 'server.p12'), store3 + '.tmp');
    fs.renameSync(store3 + '.tmp', store3);
    await peers.waitFor(async () => (await peers.mode(3)) === 'follower', 30_000, 'peer 3 to join with the reloaded certificate');
    expect(peers.logs.get(3)).toMatch(/enabling cert file reloading/);
    expect(peers.logs.get(3)).toMatch(/quorum TLS key and trust stores reloaded/);
    await writeReadEverywhere(spec, 3, 'r');
  }, 120_000);

  it('portUnification: a rolling switch from plaintext to sslQuorum and then off plaintext, one peer at a time, keeps a quorum and every write', async () => {
    requireDist();
    // the phase of each peer: 0 plaintext + unification, 1 TLS + unification, 2 TLS only
    const phase = [0, 0, 0, 0];
    const lines = (i: number): string[] => {
      const p = phase[i];
      if (p === 0) return ['portUnification=true', ...tlsLines().slice(1)];
      if (p === 1) return ['portUnification=true', ...tlsLines()];
      return tlsLines();
    };
    const spec = await ensembleSpec(3, { extra: lines });
    const peers = new Peers(spec, 'zk-qtls-unify-');
    ens = new MixedEnsemble(peers);
    for (const i of [1, 2, 3]) peers.start(i);
    const quorum = (): Promise<void> =>
      peers.waitFor(async () => (await ens!.modes(3)).filter((m) => m === 'leader' || m === 'follower').length === 3, 30_000, `all three peers serving (phases ${phase.slice(1)})`);
    await quorum();
    let tag = 0;
    await writeReadEverywhere(spec, 3, `u${tag++}-`);
    for (const target of [1, 2]) {
      for (const i of [1, 2, 3]) {
        await peers.stop(i);
        phase[i] = target;
        peers.start(i);
        await quorum();
        await writeReadEverywhere(spec, 3, `u${tag++}-`);
      }
    }
    // the end state is TLS only: a plaintext initial message on an election port is dropped
    const election = Number(/server\.2=127\.0\.0\.1:\d+:(\d+)/.exec(spec.common.join('\n'))![1]);
    const closed = await plaintextDropped(election);
    expect(closed).toBe(true);
  }, 240_000);

  it('a mixed ensemble (zk-server 1, 2 and Apache ZooKeeper 3) with sslQuorum: the Java leader, then ours', async () => {
    requireDist();
    requireApacheZk();
    const spec = await ensembleSpec(3, { common: tlsLines() });
    const peers = new Peers(spec, 'zk-qtls-mixed-');
    const e = (ens = new MixedEnsemble(peers));
    // the Java peer and peer 1 first: at zxid 0 the higher id, the Java peer, leads; peer 2 joins it
    e.startJava(3);
    peers.start(1);
    await e.waitFor(async () => (await peers.mode(3)) === 'leader' && (await peers.mode(1)) === 'follower', 60_000, 'the Java peer to lead');
    peers.start(2);
    await e.waitFor(async () => (await e.modes(3)).join() === 'follower,follower,leader', 60_000, 'peer 2 to follow the Java leader');
    await writeReadEverywhere(spec, 3, 'a');
    await e.stopJava();
    await peers.waitFor(async () => (await e.modes(2)).sort().join() === 'follower,leader', 30_000, 'ours to elect a leader');
    e.startJava(3);
    await e.waitFor(async () => (await peers.mode(3)) === 'follower', 60_000, 'the Java peer to follow ours');
    await writeReadEverywhere(spec, 3, 'b');
    // sessions on our leader, our follower and the Java follower outlive 3x their timeout
    expect(await holdOnEveryPeer([1, 2, 3], spec.clientPort, 2000, 6000, 'qtls-mixed')).toEqual([]);
  }, 210_000);
});
