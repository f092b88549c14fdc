// Sessions over the wire (wire-client.md §3-§4, §11): handshake variants, timeout negotiation,
// reconnect with the password, expiry, closeSession, and the background removal of containers and
// expired TTL nodes. A short tickTime keeps expiry fast.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RunningServer } from '../src/main';
import { Err, EventType, OpCode } from '../src/data/constants';
import { generatePasswd } from '../src/data/session';
import { OPEN_ACL_UNSAFE, RawClient, until } from './helpers/rawclient';
import { startTestServer } from './helpers/server';

let s: RunningServer;
let n = 0;
const uniq = (): string => `/s${++n}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const clients: RawClient[] = [];
async function client(timeout = 4000): Promise<RawClient> {
  const c = await RawClient.connect(s.port, { timeout });
  clients.push(c);
  return c;
}
/** Connect with `opts`; resolves with the client once the server answered or closed. */
async function attempt(opts: Parameters<typeof RawClient.connect>[1]): Promise<RawClient> {
  const c = await RawClient.open(s.port);
  clients.push(c);
  c.sendConnect(opts);
  await Promise.race([c.handshake.catch(() => {}), c.closed]);
  return c;
}

beforeAll(async () => {
  s = await startTestServer({ tickTime: 200, minSessionTimeout: 400, maxSessionTimeout: 4000, containerCheckIntervalMs: 100 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close(500);
});
afterAll(async () => {
  await s.stop();
});

describe('handshake', () => {
  it('a new session id carries the wall-clock time the server started (ms), so ids keep rising across restarts', async () => {
    // ZooKeeper's initializeNextSessionId: server id in the top byte, a time in ms in the next five,
    // a counter in the low two. The time must not restart from 0 with the process: a restarted
    // server would hand out again the ids of sessions it restored and their clients still hold
    // (they did: the standalone server took the time since its process started, ~0.3 s).
    const c = await client();
    const ms = Number((BigInt.asUintN(64, c.sessionId) >> 16n) & ((1n << 40n) - 1n));
    const since = (ms - (Math.floor(performance.timeOrigin) % 2 ** 40) + 2 ** 40) % 2 ** 40;
    expect(since, `session 0x${BigInt.asUintN(64, c.sessionId).toString(16)}: its time is not this process's start time plus its uptime`).toBeLessThanOrEqual(performance.now() + 1);
  });

  it('negotiates the timeout into [minSessionTimeout, maxSessionTimeout]', async () => {
    for (const [asked, got] of [
      [1, 400],
      [100, 400],
      [400, 400],
      [1000, 1000],
      [4000, 4000],
      [60000, 4000],
    ]) {
      const c = await client(asked);
      expect(c.timeout, `asked ${asked}`).toBe(got);
      expect(c.connectResponse!.protocolVersion).toBe(0);
    }
  });

  it('session ids: server id 1 in the top byte, consecutive; password = generatePasswd(id)', async () => {
    const a = await client();
    const b = await client();
    expect(a.sessionId >> 56n).toBe(1n);
    expect(b.sessionId).toBe(a.sessionId + 1n);
    expect(a.passwd).toEqual(generatePasswd(a.sessionId));
    expect(a.passwd).toHaveLength(16);
  });

  it('the readOnly byte is answered only if the client sent it', async () => {
    const modern = await RawClient.connect(s.port, { readOnly: false });
    clients.push(modern);
    expect(modern.connectResponseRaw).toHaveLength(37);
    expect(modern.connectResponseRaw![36]).toBe(0);
    expect(modern.connectResponse!.readOnly).toBe(false);
    const ro = await RawClient.connect(s.port, { readOnly: true });
    clients.push(ro);
    expect(ro.connectResponseRaw).toHaveLength(37);
    expect(ro.connectResponse!.readOnly).toBe(false); // the server is not in read-only mode
    const old = await RawClient.connect(s.port, { readOnly: null });
    clients.push(old);
    expect(old.connectResponseRaw).toHaveLength(36);
    expect(old.connectResponse!.readOnly).toBeUndefined();
    // an old client is served normally
    expect((await old.create(uniq())).err).toBe(0);
  });

  it('a client that has seen a newer zxid than the server is closed without a response', async () => {
    const c = await attempt({ lastZxidSeen: 0x7fff00000001 });
    expect(await c.closedWithin(2000)).toBe(true);
    expect(c.connectResponse).toBeNull();
  });

  it('requests pipelined right behind the ConnectRequest are served after the handshake', async () => {
    const c = await RawClient.open(s.port);
    clients.push(c);
    const p = uniq();
    c.sendConnect({ timeout: 4000 });
    const cr = c.create(p, 'early');
    const gd = c.getData(p);
    expect((await cr).err).toBe(0);
    expect((await gd).data!.toString()).toBe('early');
    expect(c.sessionId).not.toBe(0n);
  });

  it('a new session ignores whatever password it sends', async () => {
    const c = await RawClient.connect(s.port, { passwd: Buffer.from('garbage') });
    clients.push(c);
    expect(c.timeout).toBeGreaterThan(0);
    expect(c.passwd).toEqual(generatePasswd(c.sessionId));
  });
});

describe('reconnect', () => {
  it('with the right password: same session, the old connection is closed, ephemerals and state kept', async () => {
    const a = await client(2000);
    const p = uniq();
    await a.create(p, 'e', OPEN_ACL_UNSAFE, 1);
    const b = await RawClient.connect(s.port, a.sessionOpts({ timeout: 3000 }));
    clients.push(b);
    expect(b.sessionId).toBe(a.sessionId);
    expect(b.passwd).toEqual(a.passwd);
    expect(b.timeout).toBe(3000); // renegotiated
    expect(await a.closedWithin(2000)).toBe(true);
    expect((await b.exists(p)).stat!.ephemeralOwner).toBe(a.sessionId);
    expect((await b.getEphemerals('/')).paths).toEqual([p]);
  });

  it('with a wrong password or an unknown session: ConnectResponse(0, 0, 0, 16 × 00) then close', async () => {
    const a = await client();
    const bad = Buffer.from(a.passwd);
    bad[0] ^= 1;
    for (const opts of [
      { sessionId: a.sessionId, passwd: bad },
      { sessionId: a.sessionId, passwd: Buffer.alloc(0) },
      { sessionId: a.sessionId + 1000n, passwd: generatePasswd(a.sessionId + 1000n) },
    ]) {
      const c = await attempt(opts);
      expect(c.connectResponse).toEqual({ protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
      expect(c.connectResponseRaw!.toString('hex')).toBe('00000000' + '00000000' + '0000000000000000' + '00000010' + '00'.repeat(16) + '00');
      expect(await c.closedWithin(2000)).toBe(true);
    }
    // the real session is untouched
    expect((await a.exists('/')).err).toBe(0);
    expect(a.isClosed).toBe(false);
  });
});

describe('expiry', () => {
  it('a silent session expires: ephemerals deleted, watchers told, its connection closed, reconnect refused', async () => {
    const owner = await client(400);
    const watcher = await client();
    const p = uniq();
    await watcher.create(p);
    await owner.create(p + '/e', '', OPEN_ACL_UNSAFE, 1);
    await owner.create(p + '/q-', '', OPEN_ACL_UNSAFE, 3);
    await watcher.exists(p + '/e', true);
    await watcher.getChildren(p, true);
    const t0 = Date.now();
    // the owner says nothing more; the server expires it and closes its socket
    expect(await owner.closedWithin(3000)).toBe(true);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(300);
    await watcher.waitEvents(2);
    expect(watcher.events.map((e) => [e.type, e.path])).toEqual(
      expect.arrayContaining([
        [EventType.NodeDeleted, p + '/e'],
        [EventType.NodeChildrenChanged, p],
      ]),
    );
    expect((await watcher.getChildren(p)).children).toEqual([]);
    const again = await attempt(owner.sessionOpts());
    expect(again.connectResponse!.timeOut).toBe(0);
    expect(await again.closedWithin(2000)).toBe(true);
  });

  it('a dropped connection keeps the session until the timeout', async () => {
    const owner = await client(1000);
    const p = uniq();
    await owner.create(p, '', OPEN_ACL_UNSAFE, 1);
    owner.destroy();
    await owner.closed;
    const other = await client();
    await sleep(300);
    expect((await other.exists(p)).err).toBe(0);
    await until(() => s.zk.tree.getNode(p) === undefined, 3000, 'ephemeral removal');
    expect((await other.exists(p)).err).toBe(Err.NONODE);
  });

  it('pings keep a session alive past its timeout', async () => {
    const c = await client(400);
    const p = uniq();
    await c.create(p, '', OPEN_ACL_UNSAFE, 1);
    for (let i = 0; i < 8; i++) {
      await sleep(120);
      const h = (await c.ping()).header;
      expect(h.xid).toBe(-2);
      expect(h.err).toBe(0);
    }
    expect(c.isClosed).toBe(false);
    expect((await c.exists(p)).err).toBe(0);
  });
});

describe('closeSession', () => {
  it('replies (err 0, no body), closes the socket, deletes ephemerals at once, fires watches', async () => {
    const c = await client();
    const w = await client();
    const p = uniq();
    await c.create(p, '', OPEN_ACL_UNSAFE, 1);
    await w.exists(p, true);
    const r = c.call(OpCode.closeSession);
    const reply = await r;
    expect(reply.header.err).toBe(0);
    expect(reply.reader.remaining()).toBe(0);
    expect(await c.closedWithin(2000)).toBe(true);
    expect((await w.exists(p)).err).toBe(Err.NONODE);
    await w.waitFor((e) => e.type === EventType.NodeDeleted && e.path === p);
    // the session is gone
    const again = await attempt(c.sessionOpts());
    expect(again.connectResponse!.timeOut).toBe(0);
  });

  it('requests pipelined before closeSession are answered first', async () => {
    const c = await RawClient.connect(s.port);
    const p = uniq();
    const a = c.create(p, '', OPEN_ACL_UNSAFE, 1);
    const b = c.exists(p);
    const close = c.call(OpCode.closeSession);
    expect((await a).err).toBe(0);
    expect((await b).err).toBe(0);
    expect((await close).header.err).toBe(0);
    await c.closed;
    expect(c.outOfOrder).toEqual([]);
    const k = await client();
    expect((await k.exists(p)).err).toBe(Err.NONODE);
  });
});

describe('containers and TTL nodes', () => {
  it('an emptied container is removed by the background check; a never-used one stays', async () => {
    const c = await client();
    const w = await client();
    const used = uniq();
    const unused = uniq();
    const busy = uniq();
    const plain = uniq();
    await c.createContainer(used);
    await c.createContainer(unused);
    await c.createContainer(busy);
    await c.create2(plain, '', 4); // flags 4 with create2: a plain persistent node
    for (const p of [used, busy, plain]) await c.create(p + '/k');
    // watch before emptying it: the check runs every 100 ms and may remove it before a later exists
    expect((await w.exists(used, true)).err).toBe(0);
    for (const p of [used, plain]) await c.delete(p + '/k');
    await w.waitFor((e) => e.type === EventType.NodeDeleted && e.path === used, 3000);
    expect((await c.exists(used)).err).toBe(Err.NONODE);
    await sleep(300);
    expect((await c.exists(unused)).err).toBe(0);
    expect((await c.exists(busy)).err).toBe(0);
    expect((await c.exists(plain)).err).toBe(0);
    // empty the busy one: it goes too
    await c.delete(busy + '/k');
    await until(() => s.zk.tree.getNode(busy) === undefined, 3000, 'container removal');
  });

  it('a TTL node is removed once idle longer than its ttl (and not while it has children)', async () => {
    const c = await client();
    const t = uniq();
    const tk = uniq();
    const long = uniq();
    await c.createTTL(t, 'x', 200);
    await c.createTTL(tk, 'x', 200);
    await c.create(tk + '/child');
    await c.createTTL(long, 'x', 60000);
    expect((await c.exists(t)).err).toBe(0);
    await until(() => s.zk.tree.getNode(t) === undefined, 3000, 'ttl removal');
    expect((await c.exists(t)).err).toBe(Err.NONODE);
    expect((await c.exists(tk)).err).toBe(0);
    expect((await c.exists(long)).err).toBe(0);
    await c.delete(tk + '/child');
    await until(() => s.zk.tree.getNode(tk) === undefined, 3000, 'ttl removal after emptying');
    expect((await c.exists(long)).err).toBe(0);
  });
});
