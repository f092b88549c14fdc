// The leader's SNAP streams (src/quorum/snapsend.ts): encoded a chunk per turn of the event loop,
// yet each stream is exactly the tree at its SNAP's zxid, because the commits Zab makes meanwhile
// are held and applied once the streams are encoded.
import { describe, expect, it } from 'vitest';
import { OpCode } from '../src/data/constants';
import { DataTree } from '../src/data/datatree';
import { Txn } from '../src/data/txn';
import { TxnHeader } from '../src/jute/records';
import { SnapSender } from '../src/quorum/snapsend';
import { SnapStreamReader } from '../src/quorum/snapstream';
import { packet, PacketBatcher, PacketType as T, QuorumPacketDecoder } from '../src/quorum/zab/packets';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const hdr = (zxid: number, type: number): TxnHeader => ({ clientId: 1n, cxid: 0, zxid, time: 1_700_000_000_000 + zxid, type });

/** txn `i` of a history: creates, then setData and deletes of earlier znodes mixed in */
function txnAt(i: number): Txn {
  if (i > 300 && i % 3 === 0) return { type: OpCode.setData, path: `/n${i - 300}`, data: Buffer.from(`v${i}`), version: 1 };
  if (i > 300 && i % 7 === 0) return { type: OpCode.delete, path: `/n${i - 299}` };
  return { type: OpCode.create, path: `/n${i}`, data: Buffer.from(`d${i}`), acl: OPEN, ephemeral: false, parentCVersion: -1 };
}

/** the leader: a tree with txns 1..n applied, and `upTo(z)` applying the rest of the history in order */
function leader(n: number): { tree: DataTree; applied: () => number; upTo: (z: number) => void } {
  const tree = new DataTree();
  let applied = 0;
  const upTo = (z: number): void => {
    for (; applied < z; ) {
      applied++;
      const t = txnAt(applied);
      tree.processTxn(hdr(applied, t.type), t);
    }
  };
  upTo(n);
  return { tree, applied: () => applied, upTo };
}

/** the tree a learner parses from the stream, as [path, data, mzxid, version, cversion] per znode, and its digest */
function describe_(t: DataTree): { nodes: unknown[]; digest: bigint } {
  const nodes = [...t.nodes.entries()].map(([p, n]) => [p, n.raw, n.mzxid, n.version, n.cversion, n.pzxid]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return { nodes, digest: t.treeDigest };
}

/** a learner connection: the order of packets and stream chunks, and the parsed stream */
class FakeOut {
  readonly events: string[] = [];
  private reader: SnapStreamReader;
  tree: DataTree | null = null;
  streaming = false;
  constructor(zxid: number) {
    this.reader = new SnapStreamReader(zxid);
  }
  packet(name: string): void {
    this.events.push(this.streaming ? `HELD:${name}` : name);
  }
  beginStream(): void {
    this.streaming = true;
    this.events.push('begin');
  }
  streamChunk(b: Buffer, taken?: () => void): void {
    this.reader.push(Buffer.from(b));
    this.events.push('chunk');
    taken?.();
  }
  endStream(): void {
    this.streaming = false;
    this.events.push('end');
    this.tree = this.reader.read();
  }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean, each: () => void = () => {}): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) {
    each();
    await turn();
  }
  expect(cond()).toBe(true);
}

describe('SnapSender', () => {
  it('streams the tree at the SNAP zxid while commits keep coming; the commits reach the tree after the stream', async () => {
    const L = leader(2000);
    const ref = leader(2000);
    const snaps = new SnapSender(L.tree, L.upTo, 100);
    const out = new FakeOut(2000);
    const state = snaps.send(2000, out, () => false);
    expect(snaps.holding).toBe(true);
    // Zab commits a txn every turn of the loop while the stream is encoded
    let z = 2000;
    await until(() => out.tree !== null, () => snaps.commit(++z));
    expect(out.events.filter((e) => e === 'chunk').length, 'the stream went out in chunks').toBeGreaterThan(10);
    expect(z - 2000, 'txns committed during the stream').toBeGreaterThan(10);
    // what the learner got is the tree at 2000, not the leader's tree as it went on changing
    expect(describe_(out.tree!)).toEqual(describe_(ref.tree));
    // and the leader's tree caught up with every commit once the stream was encoded
    expect(snaps.holding).toBe(false);
    expect(L.applied()).toBe(z);
    ref.upTo(z);
    expect(describe_(L.tree)).toEqual(describe_(ref.tree));
    expect(state).toMatchObject({ complete: true });
    expect(state.taken).toBe(state.encoded);
    // no longer held: a commit is applied at once
    snaps.commit(++z);
    expect(L.applied()).toBe(z);
  });

  it('a second SNAP at the held zxid streams at once; one planned at a later zxid waits, then gets the tree at its zxid', async () => {
    const L = leader(1000);
    const snaps = new SnapSender(L.tree, L.upTo, 50);
    const a = new FakeOut(1000);
    const b = new FakeOut(1000);
    snaps.send(1000, a, () => false);
    snaps.send(1000, b, () => false);
    await turn();
    // commits 1001..1040 arrive; then a SNAP is planned at 1040 (the last commit)
    for (let z = 1001; z <= 1040; z++) snaps.commit(z);
    const c = new FakeOut(1040);
    snaps.send(1040, c, () => false);
    expect(L.applied(), 'commits held while a and b are encoded').toBe(1000);
    let z = 1040;
    await until(() => c.tree !== null, () => snaps.commit(++z));
    expect(describe_(a.tree!)).toEqual(describe_(leader(1000).tree));
    expect(describe_(b.tree!)).toEqual(describe_(leader(1000).tree));
    expect(describe_(c.tree!)).toEqual(describe_(leader(1040).tree));
    expect(c.events.indexOf('chunk'), "c's stream starts after a's and b's end").toBeGreaterThan(-1);
    expect(L.applied()).toBe(z);
  });

  it('through a learner connection (PacketBatcher): SNAP, the stream, then the packets sent while it was encoded', async () => {
    const L = leader(500);
    const snaps = new SnapSender(L.tree, L.upTo, 50);
    const writes: Buffer[] = [];
    const out = new PacketBatcher({ destroyed: false, write: (b: Buffer, cb?: (err?: Error | null) => void) => (writes.push(Buffer.from(b)), cb?.(null)) });
    out.send(packet(T.SNAP, 500));
    const state = snaps.send(500, out, () => false);
    out.send(packet(T.NEWLEADER, 500));
    await until(() => state.complete);
    await turn();
    const d = new QuorumPacketDecoder();
    d.push(Buffer.concat(writes));
    expect(d.next()).toMatchObject({ type: T.SNAP, zxid: 500 });
    const r = new SnapStreamReader(500);
    r.push(Buffer.from(d.buffered()));
    expect(describe_(r.read()!)).toEqual(describe_(leader(500).tree));
    const after = new QuorumPacketDecoder();
    after.push(r.remainder());
    expect(after.drain()).toEqual([packet(T.NEWLEADER, 500)]);
    expect(writes.length, 'the stream went out in chunks').toBeGreaterThan(5);
  });

  it('a learner that goes away ends its stream and frees the commits; stop() applies what is held', async () => {
    const L = leader(1000);
    const snaps = new SnapSender(L.tree, L.upTo, 50);
    let gone = false;
    const out = new FakeOut(1000);
    snaps.send(1000, out, () => gone);
    await turn();
    snaps.commit(1001);
    expect(L.applied()).toBe(1000);
    gone = true;
    await until(() => !snaps.holding);
    expect(out.events.at(-1)).toBe('end');
    expect(out.tree, 'a stream cut short parses to nothing').toBeNull();
    expect(L.applied()).toBe(1001);

    const s2 = new SnapSender(L.tree, L.upTo, 50);
    s2.send(1001, new FakeOut(1001), () => false);
    s2.commit(1002);
    s2.commit(1003);
    expect(L.applied()).toBe(1001);
    s2.stop();
    expect(L.applied(), 'a leader that stops applies the commits held').toBe(1003);
    s2.commit(1004);
    expect(L.applied()).toBe(1004);
    await until(() => !s2.holding);
  });
});
