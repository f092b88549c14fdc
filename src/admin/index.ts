// AdminServer (HTTP commands) and the Prometheus /metrics endpoint.
export { startAdminServer, startMetricsServer, commandLinksHtml } from './http';
export type { AdminServerOptions, MetricsServerOptions, RunningHttpServer } from './http';
export {
  ADMIN_COMMANDS,
  NOT_SERVING,
  getAdminCommand,
  primaryCommandNames,
  runAdminCommand,
  connectionInfo,
  lastSnapshotInfo,
  systemProperties,
} from './commands';
export type { AdminCommand, AdminContext, JsonObject } from './commands';
export { JavaDouble, javaDoubleString, toJacksonJson } from './json';
export type { JsonValue } from './json';
export { collectMetrics, renderPrometheus, PROMETHEUS_CONTENT_TYPE } from './prometheus';
export type { MetricFamily } from './prometheus';
