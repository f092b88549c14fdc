// A parent's children list (DataNode.kids): an array while children are only added, a Set from
// the first removal on. Whatever the form, getChildren lists each child once, in the order added,
// through creates, deletes, replays of creates a fuzzy snapshot already holds, and loads.
import { describe, expect, it } from 'vitest';
import { DataTree, TreeError } from '../src/data/datatree';
import { Err } from '../src/data/constants';
import { serializeSnapStream, SnapStreamReader } from '../src/quorum/snapstream';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function tree(): { t: DataTree; mk: (p: string) => void; rm: (p: string) => void } {
  const t = new DataTree();
  let zxid = 0x100000000;
  return {
    t,
    mk: (p) => t.createNode(p, Buffer.from('v'), OPEN, 0n, -1, ++zxid, 1700000000000),
    rm: (p) => t.deleteNode(p, ++zxid),
  };
}

const kids = (t: DataTree, p: string): string[] => [...t.nodes.get(p)!.childNames()];

describe('children lists', () => {
  it('adds keep their order; a removal keeps the order of the rest; counts follow', () => {
    const { t, mk, rm } = tree();
    mk('/p');
    for (const c of ['c', 'a', 'b', 'd']) mk(`/p/${c}`);
    expect(kids(t, '/p')).toEqual(['c', 'a', 'b', 'd']);
    expect(t.nodes.get('/p')!.childCount).toBe(4);
    expect(t.nodes.get('/p')!.hasChild('/p/a')).toBe(true);
    rm('/p/a');
    expect(kids(t, '/p')).toEqual(['c', 'b', 'd']);
    mk('/p/e');
    mk('/p/a');
    expect(kids(t, '/p')).toEqual(['c', 'b', 'd', 'e', 'a']);
    expect(t.nodes.get('/p')!.childCount).toBe(5);
    expect(t.nodes.get('/p')!.stat().numChildren).toBe(5);
    expect(t.nodes.get('/p')!.hasChild('/p/a')).toBe(true);
    expect(t.nodes.get('/p')!.hasChild('/p/x')).toBe(false);
    for (const c of ['c', 'b', 'd', 'e', 'a']) rm(`/p/${c}`);
    expect(kids(t, '/p')).toEqual([]);
    expect(t.nodes.get('/p')!.childCount).toBe(0);
    // empty again: adds start a new list
    mk('/p/z');
    expect(kids(t, '/p')).toEqual(['z']);
  });

  it('a create replayed over a znode that exists is NODEEXISTS and does not list the child twice', () => {
    const { t, mk } = tree();
    mk('/p');
    mk('/p/a');
    let code = 0;
    try {
      t.createNode('/p/a', null, OPEN, 0n, 5, 0x200000000, 1700000000000);
    } catch (e) {
      code = (e as TreeError).code;
    }
    expect(code).toBe(Err.NODEEXISTS);
    expect(kids(t, '/p')).toEqual(['a']);
    // the replay still advances the parent's cversion, as ZooKeeper does
    expect(t.nodes.get('/p')!.cversion).toBe(5);
  });

  it('a loaded tree has the same children lists; a record seen twice in a stream is listed once', () => {
    const { t, mk, rm } = tree();
    mk('/p');
    for (let i = 0; i < 50; i++) mk(`/p/n${i}`);
    rm('/p/n7');
    mk('/q');
    mk('/q/aa');
    mk('/q/bb');
    t.lastProcessedZxid = 0x1000000ff;
    const load = (bytes: Buffer): DataTree => {
      const r = new SnapStreamReader(t.lastProcessedZxid);
      r.push(bytes);
      const got = r.read();
      expect(got).not.toBeNull();
      return got!;
    };
    const loaded = load(serializeSnapStream(t));
    expect(kids(loaded, '/p')).toEqual(kids(t, '/p'));
    expect(kids(loaded, '/q')).toEqual(['aa', 'bb']);
    // '/q/bb' rewritten to '/q/aa' (same length): the path comes twice; ZooKeeper's HashSet of
    // children holds it once, and so do we
    const bytes = serializeSnapStream(t);
    const at = bytes.indexOf(Buffer.from('/q/bb'));
    expect(at).toBeGreaterThan(0);
    bytes.write('/q/aa', at, 'latin1');
    const twice = load(bytes);
    expect(kids(twice, '/q')).toEqual(['aa']);
    expect(twice.nodes.get('/q')!.childCount).toBe(1);
  });
});
