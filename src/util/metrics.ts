// The process-wide server metrics (ZooKeeper's ServerMetrics) that zk-server measures, under
// ZooKeeper 3.8's names: counters, and summaries that keep count/sum/min/max (AvgMinMaxCounter,
// "BASIC") plus, for the "ADVANCED" ones, percentiles from a uniform reservoir of 4096 samples
// (AvgMinMaxPercentileCounter). mntr prints them as zk_<name> / zk_{avg,min,max,cnt,sum}_<name> /
// zk_{p50,p95,p99,p999}_<name>; /metrics exports counters as counters and summaries as summaries
// (quantiles 0.5, 0.9, 0.99 for the advanced ones), as PrometheusMetricsProvider does.
// ServerMetrics entries that describe Java-internal stages (commit processor queues, netty
// buffers, JVM pauses, ...) have no counterpart here and are not published (docs/operations.md).

export class Counter {
  value = 0;
  constructor(readonly name: string) {}
  add(n = 1): void {
    this.value += n;
  }
}

/**
 * Sizes of the last, smallest and largest of a kind of packet (ZooKeeper's BufferStats): the
 * client responses (mntr zk_last/min/max_client_response_size) and a leader's proposals (zk_*_proposal_size,
 * stat's "Proposal sizes last/min/max"). -1 until the first one, and after a reset.
 */
export class BufferStats {
  last = -1;
  min = -1;
  max = -1;
  add(size: number): void {
    this.last = size;
    if (this.min === -1 || size < this.min) this.min = size;
    if (size > this.max) this.max = size;
  }
  reset(): void {
    this.last = -1;
    this.min = -1;
    this.max = -1;
  }
  /** stat's form, as BufferStats.toString: last/min/max */
  toString(): string {
    return `${this.last}/${this.min}/${this.max}`;
  }
}

const RESERVOIR = 4096;

export class Summary {
  count = 0;
  total = 0;
  private lo = Number.MAX_SAFE_INTEGER;
  private hi = Number.MIN_SAFE_INTEGER;
  private readonly reservoir: number[] | null;

  constructor(
    readonly name: string,
    readonly advanced: boolean,
  ) {
    this.reservoir = advanced ? [] : null;
  }

  /** One observation; ZooKeeper's summaries hold whole numbers (ms, counts). */
  add(v: number): void {
    const x = Math.round(v);
    this.count++;
    this.total += x;
    if (x < this.lo) this.lo = x;
    if (x > this.hi) this.hi = x;
    const r = this.reservoir;
    if (r) {
      if (r.length < RESERVOIR) r.push(x);
      else {
        const k = Math.floor(Math.random() * this.count);
        if (k < RESERVOIR) r[k] = x;
      }
    }
  }

  get min(): number {
    return this.count ? this.lo : 0;
  }
  get max(): number {
    return this.count ? this.hi : 0;
  }
  /** average rounded to 4 decimals (AvgMinMaxCounter.getAvg) */
  get avg(): number {
    return this.count ? Math.round((this.total / this.count) * 1e4) / 1e4 : 0;
  }

  /** Dropwizard Snapshot.getValue(q) over the reservoir (0 when empty) */
  quantile(q: number): number {
    const r = this.reservoir;
    if (!r || r.length === 0) return 0;
    const s = [...r].sort((a, b) => a - b);
    const pos = q * (s.length + 1);
    if (pos < 1) return s[0];
    if (pos >= s.length) return s[s.length - 1];
    const lower = s[Math.floor(pos) - 1];
    const upper = s[Math.floor(pos)];
    return lower + (pos - Math.floor(pos)) * (upper - lower);
  }

  reset(): void {
    this.count = 0;
    this.total = 0;
    this.lo = Number.MAX_SAFE_INTEGER;
    this.hi = Number.MIN_SAFE_INTEGER;
    if (this.reservoir) this.reservoir.length = 0;
  }
}

export const serverMetrics = {
  // summaries (ms unless the name says otherwise)
  fsynctime: new Summary('fsynctime', false),
  snapshottime: new Summary('snapshottime', false),
  dbinittime: new Summary('dbinittime', false),
  readlatency: new Summary('readlatency', true),
  updatelatency: new Summary('updatelatency', true),
  election_time: new Summary('election_time', false),
  follower_sync_time: new Summary('follower_sync_time', false),
  observer_sync_time: new Summary('observer_sync_time', false),
  startup_txns_loaded: new Summary('startup_txns_loaded', false),
  startup_txns_load_time: new Summary('startup_txns_load_time', false),
  startup_snap_load_time: new Summary('startup_snap_load_time', false),
  // from entering LOOKING to serving in BROADCAST again (QuorumPeer.setZabState); the second only while leading
  unavailable_time: new Summary('unavailable_time', false),
  leader_unavailable_time: new Summary('leader_unavailable_time', false),
  // counters
  looking_count: new Counter('looking_count'),
  diff_count: new Counter('diff_count'),
  snap_count: new Counter('snap_count'),
  commit_count: new Counter('commit_count'),
  proposal_count: new Counter('proposal_count'),
  learner_proposal_received_count: new Counter('learner_proposal_received_count'),
  revalidate_count: new Counter('revalidate_count'),
  connection_revalidate_count: new Counter('connection_revalidate_count'),
  connection_request_count: new Counter('connection_request_count'),
  bytes_received_count: new Counter('bytes_received_count'),
  unrecoverable_error_count: new Counter('unrecoverable_error_count'),
  digest_mismatches_count: new Counter('digest_mismatches_count'),
  unsuccessful_handshake: new Counter('unsuccessful_handshake'),
  // bytes of replies to requests (FinalRequestProcessor) and of watch notifications
  response_bytes: new Counter('response_bytes'),
  watch_bytes: new Counter('watch_bytes'),
  // connections refused by maxClientCnxns or maxCnxns
  connection_rejected: new Counter('connection_rejected'),
  // connections closed for sending no ConnectRequest within nio.sessionlessCnxnTimeout
  sessionless_connections_expired: new Counter('sessionless_connections_expired'),
  // sessions the session tracker expired (SessionTrackerImpl.run)
  stale_sessions_expired: new Counter('stale_sessions_expired'),
  // COMMITs a follower, INFORMs an observer received
  learner_commit_received_count: new Counter('learner_commit_received_count'),
};

/**
 * Txn-log syncs slower than fsync.warningthresholdms (ServerStats.fsyncThresholdExceedCount, in the
 * admin server_stats): not a ServerMetrics value, so srst does not reset it.
 */
export const fsyncThresholdExceeded = new Counter('fsync_threshold_exceed_count');

/**
 * SimpleCounterSet quota_exceeded_error_per_namespace: writes refused by a hard quota limit, by the
 * path's top-level namespace (mntr: zk_<namespace>_quota_exceeded_error_per_namespace).
 */
export const quotaExceededByNamespace = new Map<string, number>();

export function quotaExceeded(namespace: string | null): void {
  if (namespace === null) return;
  quotaExceededByNamespace.set(namespace, (quotaExceededByNamespace.get(namespace) ?? 0) + 1);
}

const all = (): (Counter | Summary)[] => Object.values(serverMetrics);

/** mntr lines (without zk_) in the shapes AvgMinMaxCounter / AvgMinMaxPercentileCounter / SimpleCounter print. */
export function metricLines(): [string, number][] {
  const out: [string, number][] = [];
  for (const m of all()) {
    if (m instanceof Counter) {
      out.push([m.name, m.value]);
      continue;
    }
    out.push([`avg_${m.name}`, m.avg], [`min_${m.name}`, m.min], [`max_${m.name}`, m.max], [`cnt_${m.name}`, m.count], [`sum_${m.name}`, m.total]);
    if (m.advanced) {
      for (const [k, q] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99], ['p999', 0.999]] as const) out.push([`${k}_${m.name}`, Math.round(m.quantile(q))]);
    }
  }
  return out;
}

export interface MetricSample {
  name: string;
  labels?: [string, string][];
  value: number;
}

/** Prometheus families as PrometheusMetricsProvider (simpleclient 0.9) registers them. */
export function metricFamilies(): { name: string; help: string; type: 'counter' | 'summary'; samples: MetricSample[] }[] {
  return all().map((m) => {
    if (m instanceof Counter) return { name: m.name, help: m.name, type: 'counter' as const, samples: [{ name: m.name, value: m.value }] };
    const samples: MetricSample[] = [];
    if (m.advanced) for (const q of [0.5, 0.9, 0.99]) samples.push({ name: m.name, labels: [['quantile', String(q)]], value: m.quantile(q) });
    samples.push({ name: `${m.name}_count`, value: m.count }, { name: `${m.name}_sum`, value: m.total });
    return { name: m.name, help: m.name, type: 'summary' as const, samples };
  });
}

/**
 * Every ServerMetrics value back to zero: srst and the admin stat_reset do this, as 3.8's
 * ServerStats.reset() calls ServerMetrics.resetAll() (checked on Apache ZooKeeper 3.8.0: zk_proposal_count
 * and zk_cnt_fsynctime read 0 after srst). The metrics are the process's, as ZooKeeper's are the JVM's.
 */
export function resetServerMetrics(): void {
  for (const m of all()) {
    if (m instanceof Counter) m.value = 0;
    else m.reset();
  }
  quotaExceededByNamespace.clear();
}
