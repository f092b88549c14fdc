// linearizableSync=true (zk-server only, docs/reliability.md): a sync is answered only after the
// leader commits a no-op txn proposed after the sync arrived — a quorum round — so sync + read
// cannot return stale data from a leader that lost its quorum. In-process ensemble, tickTime 100.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpCode } from '../src/data/constants';
import { InProcEnsemble } from './helpers/inproc';
import { MiniClient } from './helpers/miniclient';

const TICK = 100;
const sync = (c: MiniClient, p = '/'): Promise<{ err: number; zxid: number; path: string }> =>
  c.call(OpCode.sync, (w) => w.writeString(p)).then((r) => ({ err: r.err, zxid: r.zxid, path: r.body.readStr() }));

describe('linearizableSync=true', () => {
  let e: InProcEnsemble;
  beforeAll(async () => {
    e = await InProcEnsemble.create({ voters: 3, tickTime: TICK, syncLimit: 5, extra: ['linearizableSync=true'] });
    await e.startAll();
    await e.waitFor(() => e.serving(), 20_000, 'every peer serving');
  }, 30_000);
  afterAll(async () => {
    await e?.stopAll();
  });

  it('a sync on the leader and on a follower is answered after a no-op commits (the zxid moves on by one each)', async () => {
    const L = e.leader();
    const f = [1, 2, 3].find((i) => i !== L)!;
    const cl = await MiniClient.connect(e.port(L), 2000);
    const cf = await MiniClient.connect(e.port(f), 2000);
    expect(await cl.create('/lin', Buffer.from('1'))).toBe(0);
    const before = e.servers.get(L)!.zk.lastProcessedZxid;
    const a = await sync(cl, '/lin');
    expect(a).toMatchObject({ err: 0, path: '/lin' });
    expect(a.zxid).toBe(before + 1);
    const b = await sync(cf, '/lin');
    expect(b).toMatchObject({ err: 0, path: '/lin' });
    expect(b.zxid).toBe(before + 2);
    // and reads after it see every write before it
    expect(await cl.setData('/lin', Buffer.from('2'))).toBe(0);
    await sync(cf, '/lin');
    expect((await cf.getData('/lin')).data?.toString()).toBe('2');
    cl.close();
    cf.close();
  });

  it('a leader that lost its quorum never answers a sync: the client loses the connection instead', async () => {
    const L = e.leader();
    const c = await MiniClient.connect(e.port(L), 2000);
    expect(await c.create('/before-loss', Buffer.from('x'))).toBe(0);
    // both followers go away; the leader believes it leads until its next quorum check
    for (const i of [1, 2, 3].filter((x) => x !== L)) await e.stop(i);
    expect(e.mode(L)).toBe('leader');
    const outcome = await sync(c).then(
      (r) => `answered err=${r.err}`,
      () => 'connection lost',
    );
    expect(outcome).toBe('connection lost');
    await e.waitFor(() => e.mode(L) !== 'leader', 5_000, 'the leader stepping down');
  });
});
