// AclCache (ReferenceCountedACLCache): a reference per distinct ACL list, counted by the znodes
// that use it, the entry dropped at zero. ref() remembers the last list it gave a reference for
// (creates mostly repeat one ACL): a model run checks that shortcut never hands out a reference
// that was dropped or belongs to other entries.
import { describe, expect, it } from 'vitest';
import { AclCache } from '../src/data/datatree';
import { ACL } from '../src/jute/records';
import { prng } from '../src/quorum/zab/sim';

const LISTS: ACL[][] = [
  [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: 31, id: { scheme: 'digest', id: 'bob:x' } }],
  [
    { perms: 31, id: { scheme: 'digest', id: 'bob:x' } },
    { perms: 1, id: { scheme: 'world', id: 'anyone' } },
  ],
  [
    { perms: 1, id: { scheme: 'world', id: 'anyone' } },
    { perms: 31, id: { scheme: 'digest', id: 'bob:x' } },
  ],
];
/** a fresh copy each time, as a request decodes one */
const copy = (i: number): ACL[] => LISTS[i].map((a) => ({ perms: a.perms, id: { ...a.id } }));

describe('AclCache', () => {
  it('refs, releases and snapshot puts against a model, 20,000 random steps', () => {
    const rand = prng(11);
    const cache = new AclCache();
    const model = new Map<number, { ref: number; count: number }>(); // list index -> live entry
    const held: { i: number; ref: number }[] = [];
    for (let step = 0; step < 20_000; step++) {
      const r = rand();
      if (r < 0.55 || held.length === 0) {
        const i = Math.floor(rand() * LISTS.length);
        const ref = cache.ref(copy(i));
        const m = model.get(i);
        if (m) {
          expect(ref, `step ${step}`).toBe(m.ref);
          m.count++;
        } else {
          for (const o of model.values()) expect(ref, `step ${step}: a live entry's ref`).not.toBe(o.ref);
          model.set(i, { ref, count: 1 });
        }
        held.push({ i, ref });
      } else if (r < 0.98) {
        const k = Math.floor(rand() * held.length);
        const { i, ref } = held[k];
        held.splice(k, 1);
        cache.release(ref);
        const m = model.get(i)!;
        if (--m.count === 0) model.delete(i);
      } else {
        // a snapshot load puts an entry under a new ref for a list no one holds now
        const free = LISTS.map((_, i) => i).filter((i) => !model.has(i));
        if (free.length === 0) continue;
        const i = free[Math.floor(rand() * free.length)];
        const ref = 1000 + step;
        cache.put(ref, copy(i));
        cache.addUsage(ref);
        model.set(i, { ref, count: 1 });
        held.push({ i, ref });
      }
      for (const [i, m] of model) expect(cache.get(m.ref), `step ${step}`).toEqual(LISTS[i]);
      expect(cache.byRef.size, `step ${step}`).toBe(model.size);
    }
  });
});
