// Quotas as ZooKeeper 3.8 keeps them (Quotas, StatsTrack, DataTree's quota upkeep). The client sets a
// quota by creating /zookeeper/quota<path>/zookeeper_limits (the limits) and .../zookeeper_stats;
// every peer then keeps the stats node's data ("count=N,bytes=M") up to date as the znodes under
// <path> are created, changed and deleted — locally, without txns, which is why tree digests leave
// the /zookeeper/ subtree out. Limits are only enforced (QUOTAEXCEEDED) with enforceQuota=true.

export const QUOTA_ROOT = '/zookeeper/quota';
export const LIMIT_NODE = 'zookeeper_limits';
export const STAT_NODE = 'zookeeper_stats';

export const limitPath = (path: string): string => `${QUOTA_ROOT}${path}/${LIMIT_NODE}`;
export const statPath = (path: string): string => `${QUOTA_ROOT}${path}/${STAT_NODE}`;
/** /zookeeper/quota/a/b -> /a/b (Quotas.trimQuotaPath) */
export const trimQuotaPath = (quotaPath: string): string => quotaPath.substring(QUOTA_ROOT.length);

/** StatsTrack: `count=…,bytes=…` plus, after an extra `=`, `;key=value` pairs (hard limits). */
export class StatsTrack {
  readonly stats = new Map<string, number>();

  constructor(text: string | null = '') {
    if (!text) return;
    for (const kv of text.split(/[,;]+/)) {
      if (kv === '') continue;
      const [k, v] = kv.split('=');
      // Long.parseLong: anything else is an error in ZooKeeper; here the pair is skipped
      const n = v === undefined || v === '' ? -1 : Number(v);
      if (Number.isInteger(n)) this.stats.set(k, n);
    }
  }

  private get(k: string): number {
    return this.stats.get(k) ?? -1;
  }
  get count(): number {
    return this.get('count');
  }
  set count(v: number) {
    this.stats.set('count', v);
  }
  get bytes(): number {
    return this.get('bytes');
  }
  set bytes(v: number) {
    this.stats.set('bytes', v);
  }
  get countHardLimit(): number {
    return this.get('countHardLimit');
  }
  get byteHardLimit(): number {
    return this.get('byteHardLimit');
  }

  /** StatsTrack.toString: count and bytes first, then "=" and the other keys sorted, ";"-separated */
  toString(): string {
    let s = `count=${this.count},bytes=${this.bytes}`;
    const rest = [...this.stats.keys()].filter((k) => k !== 'count' && k !== 'bytes').sort();
    if (rest.length) s += '=' + rest.map((k) => `;${k}=${this.stats.get(k)}`).join('');
    return s;
  }
}

/** PathUtils.getTopNamespace: the first component ("/a/b" -> "a"), null for "/" */
export function topNamespace(path: string): string | null {
  const parts = path.split('/');
  while (parts.length && parts[parts.length - 1] === '') parts.pop(); // as Java's String.split
  return parts.length > 1 ? parts[1] : null;
}
