// The DataTree's index from znode path to znode: a hash map with the part of Map's interface the
// tree uses (get, has, set, delete, size, clear, and iteration in insertion order).
//
// Why not a Map: V8's Map (an OrderedHashMap) keeps no hash with its entries and chains about two
// entries per bucket, so a lookup reads the key string of every entry in its chain, each a cache
// miss at a million znodes, and every growth rehashes by reading every key string again. Here each
// entry keeps its key's 32-bit hash beside its chain link (one Int32Array), so a chain is walked
// without touching a string and a growth rehashes from the stored hashes, in entry order. At 1M
// paths: inserts 2x and lookups 1.7x Map's speed (snapshot load, SNAP, every request's lookups),
// in the same memory (per entry: key and value in one array, hash and link in another, plus one
// bucket; ~28 bytes, as Map's 24 plus its buckets).
//
// Iteration is Map's: entries in insertion order, those added during an iteration are visited,
// those deleted before being reached are not. A fuzzy snapshot walks the tree across turns of the
// event loop while txns change it, so this matters. A deleted entry leaves a hole that the next
// growth squeezes out; the iterators then in progress are moved to the same entry's new place.
//
// The hash is FNV-1a over the path's UTF-16 code units from a random per-process basis, with
// murmur3's finalizer: chains stay short for any set of paths a client does not tailor to this
// process's seed (Map's hash is seeded per process too).

const EMPTY = -1;
const MIN_CAPACITY = 16;
const SEED = (Math.random() * 0x100000000) | 0;

let lastKey: string | undefined;
let lastHash = 0;

/** The path's hash (the last one is remembered: a request looks the same path up several times). */
export function pathHash(s: string): number {
  if (s === lastKey) return lastHash;
  let h = SEED;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  lastKey = s;
  lastHash = h;
  return h;
}

/** Where an iteration in progress stands: the index of the next entry to look at. */
interface Cursor {
  i: number;
}

/** See PathMap.walk. */
export interface PathWalk<V> {
  /** the current entry (after a `next()` that returned true) */
  key: string;
  value: V;
  next(): boolean;
  close(): void;
}

export class PathMap<V> {
  /** per bucket: the index of its first entry, or EMPTY */
  private buckets: Int32Array;
  /** per entry i: [2i] its key's hash, [2i + 1] the next entry of its bucket (or EMPTY) */
  private links: Int32Array;
  /** per entry i: [2i] its key (undefined once deleted), [2i + 1] its value */
  private kv: unknown[];
  /** entries used, deleted ones included; new ones go at the end */
  private used = 0;
  private live = 0;
  private cursors: WeakRef<Cursor>[] = [];

  constructor() {
    this.buckets = new Int32Array(MIN_CAPACITY).fill(EMPTY);
    this.links = new Int32Array(2 * MIN_CAPACITY);
    this.kv = new Array<unknown>(2 * MIN_CAPACITY);
  }

  get size(): number {
    return this.live;
  }

  private find(key: string, h: number): number {
    const links = this.links;
    const kv = this.kv;
    for (let i = this.buckets[h & (this.buckets.length - 1)]; i !== EMPTY; i = links[2 * i + 1]) {
      if (links[2 * i] === h && kv[2 * i] === key) return i;
    }
    return EMPTY;
  }

  get(key: string): V | undefined {
    const i = this.find(key, pathHash(key));
    return i === EMPTY ? undefined : (this.kv[2 * i + 1] as V);
  }

  has(key: string): boolean {
    return this.find(key, pathHash(key)) !== EMPTY;
  }

  /**
   * The key as stored here (the string instance set() was given), if `key` is in the map. Equal
   * strings are separate copies in V8 unless one is handed on: a table that keeps paths beside
   * this one (the watch tables) keeps this instance instead of the copy a request decoded.
   */
  storedKey(key: string): string | undefined {
    const i = this.find(key, pathHash(key));
    return i === EMPTY ? undefined : (this.kv[2 * i] as string);
  }

  set(key: string, value: V): this {
    const h = pathHash(key);
    const i = this.find(key, h);
    if (i !== EMPTY) {
      this.kv[2 * i + 1] = value;
      return this;
    }
    const capacity = this.buckets.length;
    if (this.used === capacity) this.rebuild(this.live * 2 > capacity ? capacity * 2 : capacity);
    const n = this.used++;
    const b = h & (this.buckets.length - 1);
    this.links[2 * n] = h;
    this.links[2 * n + 1] = this.buckets[b];
    this.buckets[b] = n;
    this.kv[2 * n] = key;
    this.kv[2 * n + 1] = value;
    this.live++;
    return this;
  }

  delete(key: string): boolean {
    const h = pathHash(key);
    const links = this.links;
    const b = h & (this.buckets.length - 1);
    let prev = EMPTY;
    for (let i = this.buckets[b]; i !== EMPTY; prev = i, i = links[2 * i + 1]) {
      if (links[2 * i] !== h || this.kv[2 * i] !== key) continue;
      if (prev === EMPTY) this.buckets[b] = links[2 * i + 1];
      else links[2 * prev + 1] = links[2 * i + 1];
      this.kv[2 * i] = undefined;
      this.kv[2 * i + 1] = undefined;
      this.live--;
      // a tree that shrank a lot gives the memory back (Map does too; Java's HashMap does not)
      const capacity = this.buckets.length;
      if (capacity > MIN_CAPACITY && this.live * 4 < capacity) this.rebuild(capacity / 2);
      return true;
    }
    return false;
  }

  clear(): void {
    this.buckets = new Int32Array(MIN_CAPACITY).fill(EMPTY);
    this.links = new Int32Array(2 * MIN_CAPACITY);
    this.kv = new Array<unknown>(2 * MIN_CAPACITY);
    this.used = 0;
    this.live = 0;
    // as Map's: an iteration in progress goes on with what is added after the clear
    for (const c of this.liveCursors()) c.i = 0;
  }

  /**
   * New arrays of `capacity` entries (a power of two) holding the live entries in their order,
   * chained from the stored hashes; iterations in progress move to their next entry's new index.
   */
  private rebuild(capacity: number): void {
    const oldLinks = this.links;
    const oldKv = this.kv;
    const oldUsed = this.used;
    const cursors = this.liveCursors();
    const buckets = new Int32Array(capacity).fill(EMPTY);
    const links = new Int32Array(2 * capacity);
    const kv = new Array<unknown>(2 * capacity);
    const mask = capacity - 1;
    let n = 0;
    for (let j = 0; j < oldUsed; j++) {
      for (const c of cursors) if (c.i === j) c.i = -1 - n; // moved (negative until all are done)
      const key = oldKv[2 * j];
      if (key === undefined) continue;
      const h = oldLinks[2 * j];
      links[2 * n] = h;
      links[2 * n + 1] = buckets[h & mask];
      buckets[h & mask] = n;
      kv[2 * n] = key;
      kv[2 * n + 1] = oldKv[2 * j + 1];
      n++;
    }
    for (const c of cursors) c.i = c.i < 0 ? -1 - c.i : n;
    this.buckets = buckets;
    this.links = links;
    this.kv = kv;
    this.used = n;
  }

  private liveCursors(): Cursor[] {
    const out: Cursor[] = [];
    const keep: WeakRef<Cursor>[] = [];
    for (const r of this.cursors) {
      const c = r.deref();
      if (c === undefined) continue;
      out.push(c);
      keep.push(r);
    }
    this.cursors = keep;
    return out;
  }

  /**
   * A walk in insertion order (Map's iteration semantics) that allocates nothing per entry, for
   * the loops over every znode (a snapshot write: a generator and a [key, value] pair per entry
   * cost ~10% of its time at 1M). `next()` moves to the next entry (false at the end, which also
   * closes the walk); `close()` ends it early.
   */
  walk(): PathWalk<V> {
    const cur: Cursor = { i: 0 };
    const ref = new WeakRef(cur);
    this.cursors.push(ref);
    const w: PathWalk<V> = {
      key: '',
      value: undefined as V,
      next: () => {
        while (cur.i < this.used) {
          const j = cur.i++;
          const key = this.kv[2 * j];
          if (key === undefined) continue;
          w.key = key as string;
          w.value = this.kv[2 * j + 1] as V;
          return true;
        }
        w.close();
        return false;
      },
      close: () => {
        const k = this.cursors.indexOf(ref);
        if (k >= 0) this.cursors.splice(k, 1);
      },
    };
    return w;
  }

  *entries(): IterableIterator<[string, V]> {
    const w = this.walk();
    try {
      while (w.next()) yield [w.key, w.value];
    } finally {
      w.close();
    }
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}
