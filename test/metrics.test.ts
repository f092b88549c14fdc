// ServerMetrics as ZooKeeper 3.8 prints them: mntr's avg/min/max/cnt/sum (+ p50/p95/p99/p999 for the
// ADVANCED summaries) and the Prometheus families of PrometheusMetricsProvider.
import { describe, expect, it } from 'vitest';
import { Counter, metricFamilies, metricLines, resetServerMetrics, serverMetrics, Summary } from '../src/util/metrics';

describe('server metrics', () => {
  it('a summary keeps count, sum, min, max and a 4-decimal average (AvgMinMaxCounter)', () => {
    const s = new Summary('x', false);
    expect([s.avg, s.min, s.max, s.count, s.total]).toEqual([0, 0, 0, 0, 0]);
    for (const v of [3, 1, 2]) s.add(v);
    s.add(0.4); // whole numbers, as the Java longs
    expect([s.avg, s.min, s.max, s.count, s.total]).toEqual([1.5, 0, 3, 4, 6]);
    const t = new Summary('y', false);
    for (const v of [1, 1, 2]) t.add(v);
    expect(t.avg).toBe(1.3333);
  });

  it('an advanced summary has percentiles from its reservoir (Dropwizard Snapshot.getValue)', () => {
    const s = new Summary('lat', true);
    for (let i = 1; i <= 100; i++) s.add(i);
    expect(s.quantile(0.5)).toBe(50.5);
    expect(s.quantile(0.99)).toBe(99.99);
    expect(s.quantile(0.999)).toBe(100);
    for (let i = 0; i < 20000; i++) s.add(7); // the reservoir stays bounded and follows the stream
    expect(s.quantile(0.5)).toBe(7);
  });

  it('mntr lines and Prometheus families have ZooKeeper 3.8 names and types', () => {
    resetServerMetrics();
    serverMetrics.readlatency.add(2);
    serverMetrics.fsynctime.add(5);
    serverMetrics.looking_count.add();
    const lines = new Map(metricLines());
    expect(lines.get('looking_count')).toBe(1);
    expect(lines.get('avg_fsynctime')).toBe(5);
    expect(lines.get('cnt_fsynctime')).toBe(1);
    expect(lines.has('p99_fsynctime')).toBe(false);
    expect(lines.get('p99_readlatency')).toBe(2);
    expect(lines.get('p999_readlatency')).toBe(2);
    const fams = new Map(metricFamilies().map((f) => [f.name, f]));
    expect(fams.get('looking_count')).toMatchObject({ type: 'counter', samples: [{ name: 'looking_count', value: 1 }] });
    expect(fams.get('fsynctime')!.samples.map((x) => x.name)).toEqual(['fsynctime_count', 'fsynctime_sum']);
    expect(fams.get('readlatency')!.samples.map((x) => `${x.name}${x.labels ? `{${x.labels[0][1]}}` : ''}`)).toEqual([
      'readlatency{0.5}',
      'readlatency{0.9}',
      'readlatency{0.99}',
      'readlatency_count',
      'readlatency_sum',
    ]);
    expect(new Counter('c').value).toBe(0);
    resetServerMetrics();
  });
});
