// Prometheus text exposition (format 0.0.4) of the server's metrics, named and typed as ZooKeeper's
// PrometheusMetricsProvider (metricsProvider.className=org.apache.zookeeper.metrics.prometheus.
// PrometheusMetricsProvider) publishes them through the Prometheus Java simpleclient: every gauge
// ZooKeeperServer registers is a family `<name>` with `# HELP <name> <name>` and `# TYPE <name> gauge`
// (the provider passes the metric name as its help text), samples print as Java doubles (`7.0`).
// With exportJvmInfo=true (ZooKeeper's default) the standard `process_*` families come too; the
// JVM-only `jvm_*` families have no Node.js counterpart and are not emitted.
import * as fs from 'node:fs';
import { FourLetterContext, monitorValues, quotaLines } from '../server/fourlw';
import { javaDoubleString } from './json';
import { metricFamilies, metricLines, quotaExceededByNamespace } from '../util/metrics';
import { maxFileDescriptors, openFileDescriptors } from '../util/procfs';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'summary' | 'untyped';
  samples: { name: string; labels?: [string, string][]; value: number }[];
}

/** mntr keys that are not numeric metrics (ZooKeeper prints them from the server, not the provider) */
const NOT_METRICS = new Set(['version', 'server_state', 'peer_state']);

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Collector.doubleToGoString */
function goDouble(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  return javaDoubleString(v);
}

function processFamilies(): MetricFamily[] {
  const fams: MetricFamily[] = [];
  const gauge = (name: string, help: string, value: number): void => {
    fams.push({ name, help, type: 'gauge', samples: [{ name, value }] });
  };
  const cpu = process.cpuUsage();
  fams.push({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    type: 'counter',
    samples: [{ name: 'process_cpu_seconds_total', value: (cpu.user + cpu.system) / 1e6 }],
  });
  gauge(
    'process_start_time_seconds',
    'Start time of the process since unix epoch in seconds.',
    (Date.now() - process.uptime() * 1000) / 1000,
  );
  const openFds = openFileDescriptors();
  if (openFds >= 0) gauge('process_open_fds', 'Number of open file descriptors.', openFds);
  const maxFds = maxFileDescriptors();
  let vsize = -1;
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const m = /^VmSize:\s+(\d+)\s+kB/m.exec(status);
    if (m) vsize = Number(m[1]) * 1024;
  } catch {
    vsize = -1;
  }
  if (maxFds >= 0) gauge('process_max_fds', 'Maximum number of open file descriptors.', maxFds);
  if (vsize >= 0) gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', vsize);
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', process.memoryUsage().rss);
  return fams;
}

/** The metric families to publish: ZooKeeper's gauges (mntr without `zk_`), then process_*. */
export function collectMetrics(ctx: FourLetterContext, opts: { exportProcessInfo?: boolean } = {}): MetricFamily[] {
  const fams: MetricFamily[] = [];
  if (ctx.zk) {
    // counters and summaries come as such below, not as mntr's flattened avg_/min_/... gauges
    const fromMetrics = new Set([...metricLines(), ...quotaLines(ctx.zk)].map(([k]) => k));
    for (const [k, v] of monitorValues(ctx)) {
      if (NOT_METRICS.has(k) || fromMetrics.has(k) || typeof v !== 'number') continue;
      fams.push({ name: k, help: k, type: 'gauge', samples: [{ name: k, value: v }] });
    }
    fams.push(...metricFamilies());
    // gauge and counter sets: one family each, a sample per namespace labelled `key`
    for (const [name, m] of Object.entries(ctx.zk.tree.quotaGauges())) {
      fams.push({ name, help: name, type: 'gauge', samples: [...m].map(([ns, v]) => ({ name, labels: [['key', ns]] as [string, string][], value: v })) });
    }
    const qe = 'quota_exceeded_error_per_namespace';
    fams.push({ name: qe, help: qe, type: 'counter', samples: [...quotaExceededByNamespace].map(([ns, v]) => ({ name: qe, labels: [['key', ns]] as [string, string][], value: v })) });
  }
  if (opts.exportProcessInfo ?? true) fams.push(...processFamilies());
  return fams;
}

/** TextFormat.write004; `names` filters families as the servlet's `name[]` query parameters do. */
export function renderPrometheus(fams: MetricFamily[], names?: Set<string>): string {
  let out = '';
  for (const f of fams) {
    if (names && names.size > 0 && !names.has(f.name)) continue;
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n`;
    out += `# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      out += s.name;
      if (s.labels && s.labels.length) {
        out += '{' + s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}",`).join('') + '}';
      }
      out += ` ${goDouble(s.value)}\n`;
    }
  }
  return out;
}
