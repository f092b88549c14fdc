// ACLs and authentication over the wire (wire-client.md §14): world, digest (addauth), the auth
// scheme, ip (exact and masked), the super digest, INVALIDACL, NOAUTH per operation, getACL
// masking, setACL aversion, AUTHFAILED.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACL } from '../src/jute/records';
import { RunningServer } from '../src/main';
import { digestOf } from '../src/server/auth';
import { Err, Perms } from '../src/data/constants';
import { CREATOR_ALL_ACL, op, OPEN_ACL_UNSAFE, RawClient, READ_ACL_UNSAFE } from './helpers/rawclient';
import { startTestServer } from './helpers/server';

let s: RunningServer;
let n = 0;
const uniq = (): string => `/acl${++n}`;
const clients: RawClient[] = [];
async function client(auth?: string): Promise<RawClient> {
  const c = await RawClient.connect(s.port);
  clients.push(c);
  if (auth) expect((await c.auth('digest', auth)).err).toBe(0);
  return c;
}
/** A case that once failed against zk-server (found by these tests, now fixed). */
function bug(desc: string, fn: () => Promise<void>): void {
  it(desc, fn);
}
const digest = (userPass: string, perms: number = Perms.ALL): ACL => ({ perms, id: { scheme: 'digest', id: digestOf(userPass) } });
const ip = (expr: string, perms: number = Perms.ALL): ACL => ({ perms, id: { scheme: 'ip', id: expr } });
const world = (perms: number): ACL => ({ perms, id: { scheme: 'world', id: 'anyone' } });

beforeAll(async () => {
  s = await startTestServer({ superDigest: digestOf('super:secret') });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});
afterAll(async () => {
  await s.stop();
});

describe('world and per-operation permissions', () => {
  it('READ_ACL_UNSAFE: reads work, writes/creates/deletes are NOAUTH', async () => {
    const c = await client();
    const p = uniq();
    expect((await c.create(p, 'd', READ_ACL_UNSAFE)).err).toBe(0);
    expect((await c.getData(p)).data!.toString()).toBe('d');
    expect((await c.getChildren(p)).err).toBe(0);
    expect((await c.getChildren2(p)).err).toBe(0);
    expect((await c.getAllChildrenNumber(p)).err).toBe(0);
    expect((await c.setData(p, 'x')).err).toBe(Err.NOAUTH);
    expect((await c.create(p + '/k')).err).toBe(Err.NOAUTH);
    expect((await c.setACL(p, OPEN_ACL_UNSAFE)).err).toBe(Err.NOAUTH);
    // getACL needs READ or ADMIN: READ is enough
    expect((await c.getACL(p)).acl).toEqual(READ_ACL_UNSAFE);
  });

  it('each permission bit gates its own operation; delete is checked on the parent', async () => {
    const c = await client();
    const p = uniq();
    await c.create(p);
    // parent with everything but DELETE
    await c.create(p + '/nodel', '', [world(Perms.ALL & ~Perms.DELETE)]);
    await c.create(p + '/nodel/k');
    expect((await c.delete(p + '/nodel/k')).err).toBe(Err.NOAUTH);
    // the node's own ACL does not matter for its deletion
    await c.create(p + '/locked', '', [world(0)]);
    expect((await c.delete(p + '/locked')).err).toBe(0);
    // no READ: getData/getChildren NOAUTH; exists still answers
    await c.create(p + '/noread', 'secret', [world(Perms.ALL & ~Perms.READ)]);
    expect((await c.getData(p + '/noread')).err).toBe(Err.NOAUTH);
    expect((await c.getChildren(p + '/noread')).err).toBe(Err.NOAUTH);
    expect((await c.getChildren2(p + '/noread')).err).toBe(Err.NOAUTH);
    expect((await c.getAllChildrenNumber(p + '/noread')).err).toBe(Err.NOAUTH);
    expect((await c.getData(p + '/noread', true)).err).toBe(Err.NOAUTH);
    // getACL with ADMIN but no READ works
    expect((await c.getACL(p + '/noread')).err).toBe(0);
    // no CREATE on the parent
    await c.create(p + '/nocreate', '', [world(Perms.ALL & ~Perms.CREATE)]);
    expect((await c.create(p + '/nocreate/k')).err).toBe(Err.NOAUTH);
    expect((await c.create(p + '/nocreate/k', '', OPEN_ACL_UNSAFE, 1)).err).toBe(Err.NOAUTH);
    // INVALIDACL is checked before the parent's CREATE permission
    expect((await c.create(p + '/nocreate/k', '', [])).err).toBe(Err.INVALIDACL);
    // no WRITE
    await c.create(p + '/nowrite', '', [world(Perms.ALL & ~Perms.WRITE)]);
    expect((await c.setData(p + '/nowrite', 'x')).err).toBe(Err.NOAUTH);
    // no ADMIN: setACL NOAUTH
    await c.create(p + '/noadmin', '', [world(Perms.ALL & ~Perms.ADMIN)]);
    expect((await c.setACL(p + '/noadmin', OPEN_ACL_UNSAFE)).err).toBe(Err.NOAUTH);
    // neither READ nor ADMIN: getACL NOAUTH
    await c.create(p + '/none', '', [world(Perms.WRITE)]);
    expect((await c.getACL(p + '/none')).err).toBe(Err.NOAUTH);
    expect((await c.exists(p + '/none')).err).toBe(0);
  });

  bug('was a bug: delete of a missing node under a parent without DELETE is NOAUTH in ZooKeeper 3.8 (PrepRequestProcessor checks the parent ACL before looking up the node); zk-server answers NONODE', async () => {
    const c = await client();
    const p = uniq();
    await c.create(p, '', [world(Perms.ALL & ~Perms.DELETE)]);
    expect((await c.delete(p + '/missing')).err).toBe(Err.NOAUTH);
    expect((await c.multi([op.delete(p + '/missing')])).results.map((r) => r.err)).toEqual([Err.NOAUTH]);
  });

  it('multi and multiRead report NOAUTH per op', async () => {
    const c = await client();
    const p = uniq();
    await c.create(p, 'x', READ_ACL_UNSAFE);
    const m = await c.multi([op.check(p, 0), op.setData(p, 'y')]);
    expect(m.results.map((r) => r.err)).toEqual([0, Err.NOAUTH]);
    await c.create(p + 'b', 'x', [world(Perms.WRITE)]);
    const r = await c.multiRead([op.getData(p), op.getData(p + 'b')]);
    expect(r.results.map((x) => [x.type, x.err])).toEqual([
      [4, 0],
      [-1, Err.NOAUTH],
    ]);
  });
});

describe('digest', () => {
  it('addauth digest grants what the digest ACL allows; others are NOAUTH', async () => {
    const owner = await client('user:pass');
    const stranger = await client();
    const wrong = await client('user:wrong');
    const p = uniq();
    expect((await owner.create(p, 'data', [digest('user:pass')])).err).toBe(0);
    expect((await owner.getData(p)).data!.toString()).toBe('data');
    for (const c of [stranger, wrong]) {
      expect((await c.getData(p)).err).toBe(Err.NOAUTH);
      expect((await c.setData(p, 'x')).err).toBe(Err.NOAUTH);
      expect((await c.create(p + '/k')).err).toBe(Err.NOAUTH);
    }
    // authenticating later on the same connection works
    expect((await stranger.auth('digest', 'user:pass')).err).toBe(0);
    expect((await stranger.setData(p, 'x')).err).toBe(0);
    // a connection may hold several identities
    const both = await client('other:pw');
    expect((await both.getData(p)).err).toBe(Err.NOAUTH);
    await both.auth('digest', 'user:pass');
    expect((await both.getData(p)).err).toBe(0);
  });

  it('the auth reply is xid -4, zxid 0, err 0 (digest always succeeds)', async () => {
    const c = await client();
    const h = await c.auth('digest', 'anyone:anything');
    expect(h).toEqual({ xid: -4, zxid: 0, err: 0 });
  });

  it('the auth scheme expands to every authenticated digest id of the caller', async () => {
    const c = await client('u1:p1');
    await c.auth('digest', 'u2:p2');
    const p = uniq();
    expect((await c.create(p, '', CREATOR_ALL_ACL)).err).toBe(0);
    const acl = (await c.getACL(p)).acl!;
    // in the order ZooKeeper 3.8 iterates a connection's ids (a hash set: u2 before u1, as zkCli.sh shows on 3.8.0)
    expect(acl).toEqual([digest('u2:p2'), digest('u1:p1')]);
    const u2 = await client('u2:p2');
    expect((await u2.getData(p)).err).toBe(0);
    // perms of the auth entry are kept
    const q = uniq();
    expect((await c.create(q, '', [{ perms: Perms.READ, id: { scheme: 'auth', id: '' } }])).err).toBe(0);
    // (READ without ADMIN: getACL masks the digests)
    expect((await c.getACL(q)).acl).toEqual([
      { perms: Perms.READ, id: { scheme: 'digest', id: 'u2:x' } },
      { perms: Perms.READ, id: { scheme: 'digest', id: 'u1:x' } },
    ]);
    expect(s.zk.tree.aclOf(s.zk.tree.getNode(q)!)).toEqual([digest('u2:p2', Perms.READ), digest('u1:p1', Perms.READ)]);
    // setACL expands it too
    expect((await c.setACL(q, CREATOR_ALL_ACL)).err).toBe(Err.NOAUTH); // READ only: no ADMIN
    expect((await c.setACL(p, [{ perms: Perms.READ | Perms.ADMIN, id: { scheme: 'auth', id: '' } }])).err).toBe(0);
    expect((await c.getACL(p)).acl).toEqual([digest('u2:p2', 17), digest('u1:p1', 17)]);
  });

  it('the auth scheme without an authenticated id is INVALIDACL (the ip id does not count)', async () => {
    const c = await client();
    expect((await c.create(uniq(), '', CREATOR_ALL_ACL)).err).toBe(Err.INVALIDACL);
    await c.auth('ip', '');
    expect((await c.create(uniq(), '', CREATOR_ALL_ACL)).err).toBe(Err.INVALIDACL);
    const p = uniq();
    await c.create(p);
    expect((await c.setACL(p, CREATOR_ALL_ACL)).err).toBe(Err.INVALIDACL);
  });

  it('duplicate ACL entries are removed', async () => {
    const c = await client();
    const p = uniq();
    await c.create(p, '', [world(31), world(31), ip('127.0.0.1'), ip('127.0.0.1')]);
    expect((await c.getACL(p)).acl).toEqual([world(31), ip('127.0.0.1')]);
  });
});

describe('INVALIDACL', () => {
  it('bad ids and unknown schemes on create and setACL', async () => {
    const c = await client();
    const p = uniq();
    await c.create(p);
    const bad: ACL[][] = [
      [],
      [{ perms: 31, id: { scheme: 'world', id: 'someone' } }],
      [{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }],
      [{ perms: 31, id: { scheme: 'digest', id: 'a:b:c' } }],
      [{ perms: 31, id: { scheme: 'ip', id: '300.1.1.1' } }],
      [{ perms: 31, id: { scheme: 'ip', id: '10.0.0.1/33' } }],
      [{ perms: 31, id: { scheme: 'ip', id: 'not-an-ip' } }],
      [{ perms: 31, id: { scheme: 'ip', id: '::1' } }],
      [{ perms: 31, id: { scheme: 'foo', id: 'bar' } }],
      [{ perms: 31, id: { scheme: 'super', id: '' } }],
      [world(31), { perms: 31, id: { scheme: 'foo', id: 'bar' } }],
    ];
    for (const acl of bad) {
      expect((await c.create(uniq(), '', acl)).err, JSON.stringify(acl)).toBe(Err.INVALIDACL);
      expect((await c.setACL(p, acl)).err, JSON.stringify(acl)).toBe(Err.INVALIDACL);
    }
    expect((await c.setACL(p, null)).err).toBe(Err.INVALIDACL);
    expect((await c.getACL(p)).acl).toEqual(OPEN_ACL_UNSAFE);
    expect((await c.getACL(p)).stat!.aversion).toBe(0);
  });

  bug('was a bug: digest ACL id "user:" (empty hash) is INVALIDACL in ZooKeeper (Java "user:".split(":") drops the trailing empty string, so 1 part); zk-server accepts it', async () => {
    const c = await client();
    expect((await c.create(uniq(), '', [{ perms: 31, id: { scheme: 'digest', id: 'user:' } }])).err).toBe(Err.INVALIDACL);
  });
});

describe('getACL masking and setACL', () => {
  it('without ADMIN, digest ids are masked to user:x; with ADMIN they are shown', async () => {
    const owner = await client('user:pass');
    const reader = await client();
    const p = uniq();
    const acl = [world(Perms.READ), digest('user:pass'), ip('127.0.0.1', Perms.READ)];
    await owner.create(p, '', acl);
    const seen = await reader.getACL(p);
    expect(seen.acl).toEqual([world(Perms.READ), { perms: 31, id: { scheme: 'digest', id: 'user:x' } }, ip('127.0.0.1', Perms.READ)]);
    expect((await owner.getACL(p)).acl).toEqual(acl);
    expect(seen.stat).toEqual((await owner.exists(p)).stat);
  });

  it('setACL checks and bumps aversion, leaves version/mzxid alone; BADVERSION; NONODE', async () => {
    const c = await client();
    const p = uniq();
    const cr = await c.create2(p, 'v');
    const r = await c.setACL(p, [world(Perms.READ | Perms.ADMIN)], 0);
    expect(r.err).toBe(0);
    expect(r.stat!.aversion).toBe(1);
    expect(r.stat!.version).toBe(0);
    expect(r.stat!.mzxid).toBe(cr.stat!.mzxid);
    expect(r.stat!.pzxid).toBe(cr.stat!.pzxid);
    expect((await c.setACL(p, OPEN_ACL_UNSAFE, 0)).err).toBe(Err.BADVERSION);
    // the data version is not what setACL checks
    await c.setACL(p, OPEN_ACL_UNSAFE, 1);
    await c.setData(p, 'x');
    await c.setData(p, 'y');
    expect((await c.setACL(p, OPEN_ACL_UNSAFE, 2)).stat!.aversion).toBe(3);
    expect((await c.setACL(p, OPEN_ACL_UNSAFE, -1)).stat!.aversion).toBe(4);
    expect((await c.setACL(uniq(), OPEN_ACL_UNSAFE)).err).toBe(Err.NONODE);
    expect((await c.setACL('/bad/', OPEN_ACL_UNSAFE)).err).toBe(Err.BADARGUMENTS);
  });

  it('setACL changes who may do what, and fires no watch', async () => {
    const c = await client();
    const p = uniq();
    await c.create(p);
    await c.getData(p, true);
    await c.setACL(p, [world(Perms.READ)]);
    expect((await c.setData(p, 'x')).err).toBe(Err.NOAUTH);
    await c.ping();
    expect(c.events).toEqual([]);
  });
});

describe('ip', () => {
  it('exact address and masks', async () => {
    const c = await client();
    const cases: [string, number][] = [
      ['127.0.0.1', 0],
      ['127.0.0.2', Err.NOAUTH],
      ['127.0.0.0/8', 0],
      ['127.1.2.3/8', 0],
      ['10.0.0.0/8', Err.NOAUTH],
      ['127.0.0.0/31', 0],
      ['127.0.0.2/31', Err.NOAUTH],
      ['0.0.0.0/0', 0],
    ];
    for (const [expr, want] of cases) {
      const p = uniq();
      expect((await c.create(p, 'v', [ip(expr)])).err, expr).toBe(0);
      expect((await c.getData(p)).err, expr).toBe(want);
    }
  });
});

describe('super user', () => {
  it('addauth digest super:secret bypasses every ACL; whoAmI lists super, digest, ip (3.8\'s hash-set order)', async () => {
    const owner = await client('user:pass');
    const p = uniq();
    await owner.create(p, 'top', [digest('user:pass')]);
    await owner.create(p + '/k', '', [digest('user:pass', Perms.READ)]);
    const su = await client('super:secret');
    expect((await su.getData(p)).data!.toString()).toBe('top');
    expect((await su.setData(p, 'su')).err).toBe(0);
    expect((await su.getACL(p)).acl).toEqual([digest('user:pass')]);
    expect((await su.create(p + '/su')).err).toBe(0);
    expect((await su.delete(p + '/su')).err).toBe(0);
    expect((await su.setACL(p + '/k', OPEN_ACL_UNSAFE)).err).toBe(0);
    expect(await su.whoAmI()).toEqual({
      err: 0,
      infos: [
        { scheme: 'super', user: '' },
        { scheme: 'digest', user: 'super' },
        { scheme: 'ip', user: '127.0.0.1' },
      ],
    });
    // a wrong super password is just another digest user
    const notSu = await client('super:guess');
    expect((await notSu.getData(p)).err).toBe(Err.NOAUTH);
  });

  it('without superDigest configured, super:secret is an ordinary digest', async () => {
    const plain = await startTestServer();
    try {
      const owner = await RawClient.connect(plain.port);
      await owner.auth('digest', 'user:pass');
      await owner.create('/x', '', [digest('user:pass')]);
      const su = await RawClient.connect(plain.port);
      await su.auth('digest', 'super:secret');
      expect((await su.getData('/x')).err).toBe(Err.NOAUTH);
      await owner.close();
      await su.close();
    } finally {
      await plain.stop();
    }
  });
});

describe('AUTHFAILED', () => {
  it('an unknown scheme gets -115 on xid -4 and then the connection is closed', async () => {
    for (const scheme of ['foo', 'super', 'world']) {
      const c = await RawClient.connect(s.port);
      const h = await c.auth(scheme, 'x');
      expect(h, scheme).toEqual({ xid: -4, zxid: 0, err: Err.AUTHFAILED });
      expect(await c.closedWithin(2000), scheme).toBe(true);
    }
    // the server goes on serving
    const ok = await client();
    expect((await ok.exists('/')).err).toBe(0);
  });

  bug('was a bug: repeating addauth adds duplicate ids; ZooKeeper keeps a connection\'s auth ids in a Set (ServerCnxn.authInfo), so whoAmI lists each once', async () => {
    const c = await client('user:pass');
    await c.auth('digest', 'user:pass');
    await c.auth('ip', '');
    const who = (await c.whoAmI()).infos!;
    expect(who).toHaveLength(2);
    expect(who).toEqual(expect.arrayContaining([{ scheme: 'ip', user: '127.0.0.1' }, { scheme: 'digest', user: 'user' }]));
  });

  it('addauth ip succeeds (adds the connection address again)', async () => {
    const c = await client();
    expect((await c.auth('ip', 'whatever')).err).toBe(0);
    expect(c.isClosed).toBe(false);
    const who = (await c.whoAmI()).infos!;
    expect(who.every((i) => i.scheme === 'ip' && i.user === '127.0.0.1')).toBe(true);
  });
});
