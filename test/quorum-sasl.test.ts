// SASL DIGEST-MD5 between peers (quorum.auth.*, security/quorumauth.ts): election connections and
// learner connections authenticate with the QuorumLearner / QuorumServer JAAS sections.
//  - three zk-server peers with SASL required elect, replicate, and refuse a peer with a wrong
//    password (it never joins; the others log the failure);
//  - a mixed ensemble, two zk-server peers and one Apache ZooKeeper 3.8 peer, all with SASL
//    required: the Java peer leads first (highest id), then one of ours after it stops, and it
//    rejoins as a follower; writes on every peer are read on every peer.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { holdOnEveryPeer } from './helpers/keepalive';
import { MixedEnsemble, writeReadEverywhere } from './helpers/mixed';
import { ensembleSpec, Peers, requireApacheZk, requireDist, SKIP_REAL } from './helpers/peers';
import { jaas, SASL_LINES } from './helpers/quorumsasl';
import { encodeAuthPacket, decodeAuthPacket, QUORUM_AUTH_MAGIC } from '../src/security/quorumauth';


describe('the QuorumAuthPacket record', () => {
  it('encodes magic, status and token back to back, and decodes only whole packets', () => {
    const b = encodeAuthPacket(0, Buffer.from('tok'));
    expect(b.readBigInt64BE(0)).toBe(QUORUM_AUTH_MAGIC);
    expect(b.toString('hex')).toBe('5f2435013501edcc' + '00000000' + '00000003' + Buffer.from('tok').toString('hex'));
    expect(decodeAuthPacket(b.subarray(0, 18))).toBeNull();
    expect(decodeAuthPacket(b)).toEqual({ status: 0, token: Buffer.from('tok'), used: 19 });
    expect(decodeAuthPacket(encodeAuthPacket(1, null))).toEqual({ status: 1, token: Buffer.alloc(0), used: 16 });
  });
});

let ens: MixedEnsemble | null = null;
afterEach(async () => {
  await ens?.cleanup();
  ens = null;
});

describe.skipIf(SKIP_REAL)('quorum SASL', () => {
  it('three zk-server peers with SASL required form a quorum; a peer with a wrong password is kept out', async () => {
    requireDist();
    const spec = await ensembleSpec(3, { common: SASL_LINES });
    const peers = new Peers(spec, 'zk-qsasl-');
    ens = new MixedEnsemble(peers);
    const good = path.join(peers.root, 'jaas.conf');
    const bad = path.join(peers.root, 'jaas-bad.conf');
    fs.writeFileSync(good, jaas('peersecret'));
    fs.writeFileSync(bad, jaas('wrong'));
    peers.start(1, { SERVER_JVMFLAGS: `-Djava.security.auth.login.config=${good}` });
    peers.start(2, { SERVER_JVMFLAGS: `-Djava.security.auth.login.config=${good}` });
    await peers.waitFor(async () => (await ens!.modes(2)).sort().join() === 'follower,leader', 30_000, 'peers 1 and 2 to form a quorum');
    peers.start(3, { SERVER_JVMFLAGS: `-Djava.security.auth.login.config=${bad}` });
    await new Promise((r) => setTimeout(r, 4000));
    expect(await peers.mode(3)).toBe('none');
    expect(peers.logs.get(1)! + peers.logs.get(2)!).toMatch(/Failed to authenticate using SASL/);
    expect(peers.logs.get(1)! + peers.logs.get(2)!).toMatch(/Successfully completed the authentication using SASL/);
    await peers.stop(3);
    peers.start(3, { SERVER_JVMFLAGS: `-Djava.security.auth.login.config=${good}` });
    await peers.waitFor(async () => (await peers.mode(3)) === 'follower', 30_000, 'peer 3 to join with the right password');
    await writeReadEverywhere(spec, 3, 'q');
    // sessions on the leader and both followers outlive 3x their timeout over SASL-authenticated links
    expect(await holdOnEveryPeer([1, 2, 3], spec.clientPort, 2000, 6000, 'qsasl')).toEqual([]);
  }, 150_000);

  it('a mixed ensemble (zk-server 1, 2 and Apache ZooKeeper 3) with SASL required: the Java leader, then ours', async () => {
    requireDist();
    requireApacheZk();
    const spec = await ensembleSpec(3, { common: SASL_LINES });
    const peers = new Peers(spec, 'zk-qsasl-mixed-');
    const e = (ens = new MixedEnsemble(peers));
    const file = path.join(peers.root, 'jaas.conf');
    fs.writeFileSync(file, jaas('peersecret'));
    const flags = `-Djava.security.auth.login.config=${file}`;
    // the Java peer and peer 1 first: at zxid 0 the higher id, the Java peer, leads; peer 2 joins it
    e.startJava(3, [flags]);
    peers.start(1, { SERVER_JVMFLAGS: flags });
    await e.waitFor(async () => (await peers.mode(3)) === 'leader' && (await peers.mode(1)) === 'follower', 60_000, 'the Java peer to lead');
    peers.start(2, { SERVER_JVMFLAGS: flags });
    await e.waitFor(async () => (await e.modes(3)).join() === 'follower,follower,leader', 60_000, 'peer 2 to follow the Java leader');
    await writeReadEverywhere(spec, 3, 'a');
    expect(e.javaLog).toMatch(/Successfully completed the authentication using SASL/);
    // sessions on the Java leader and on our two followers outlive 3x their timeout
    expect(await holdOnEveryPeer([1, 2, 3], spec.clientPort, 2000, 6000, 'qsasl-mixed')).toEqual([]);
    // the Java leader goes: one of ours leads; the Java peer comes back as a follower
    await e.stopJava();
    await peers.waitFor(async () => (await e.modes(2)).sort().join() === 'follower,leader', 30_000, 'ours to elect a leader');
    e.startJava(3, [flags]);
    await e.waitFor(async () => (await peers.mode(3)) === 'follower', 60_000, 'the Java peer to follow ours');
    await writeReadEverywhere(spec, 3, 'b');
    expect(e.javaLog).not.toMatch(/Failed to authenticate using SASL/);
  }, 210_000);
});

