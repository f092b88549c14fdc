// HTTP front ends (node:http): the AdminServer (ZooKeeper's JettyAdminServer: admin.serverAddress,
// admin.serverPort, admin.commandURL, admin.idleTimeout) and the Prometheus /metrics endpoint
// (PrometheusMetricsProvider: metricsProvider.httpHost, metricsProvider.httpPort).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '../server/zkserver';
import { FourLetterContext } from '../server/fourlw';
import { AdminContext, primaryCommandNames, runAdminCommand } from './commands';
import { toJacksonJson } from './json';
import { collectMetrics, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus';
import { DASHBOARD_PREFIX, dashboardRoute, isDashboardPath } from './dashboard/routes';

export interface AdminServerOptions {
  address: string;
  port: number;
  /** URL prefix of the commands, `/commands` by default in ZooKeeper */
  commandURL: string;
  /** idle connection timeout (admin.idleTimeout); default 30000 ms */
  idleTimeoutMs?: number;
}

export interface MetricsServerOptions {
  host: string;
  port: number;
  /** publish process_* families (PrometheusMetricsProvider exportJvmInfo); default true */
  exportProcessInfo?: boolean;
}

export interface RunningHttpServer {
  /** the bound port (useful with port 0) */
  port: number;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, type: string | null, body: string, head: boolean): void {
  const buf = Buffer.from(body, 'utf8');
  const headers: http.OutgoingHttpHeaders = { 'Content-Length': buf.length };
  if (type) headers['Content-Type'] = type;
  res.writeHead(status, headers);
  res.end(head ? undefined : buf);
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function closer(server: http.Server): () => Promise<void> {
  let closing: Promise<void> | null = null;
  return () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
}

function normalizePrefix(commandURL: string): string {
  let p = commandURL.trim();
  if (!p.startsWith('/')) p = '/' + p;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p === '/' ? '' : p;
}

/** The HTML list of links to every command, as JettyAdminServer prints it. */
export function commandLinksHtml(commandURL: string): string {
  const prefix = normalizePrefix(commandURL);
  return primaryCommandNames()
    .map((n) => `<a href="${prefix}/${n}">${n}</a>\n<br/>\n`)
    .join('');
}

/** Query parameters as the servlet's kwargs: the first value of each name. */
function kwargs(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of search) if (!Object.prototype.hasOwnProperty.call(out, k)) out[k] = v;
  return out;
}

/**
 * /dashboard/… (see ./dashboard/routes.ts), and `/`, which 3.8's Jetty answers 404 (its only servlet
 * is at the command URL), so redirecting it to the dashboard takes nothing from a client. With
 * admin.commandURL=/ the command list owns `/` and keeps it.
 */
function serveDashboard(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, params: URLSearchParams, ctx: AdminContext, logger: Logger): void {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'text/plain; charset=utf-8', `HTTP method ${req.method} is not supported by this URL\n`, false);
    return;
  }
  if (pathname === '/') {
    res.writeHead(302, { Location: DASHBOARD_PREFIX + '/', 'Content-Length': 0 });
    res.end();
    return;
  }
  dashboardRoute(pathname, params, ctx).then(
    (r) => {
      res.writeHead(r.status, { 'Content-Type': r.type, 'Content-Length': r.body.length, 'X-Content-Type-Options': 'nosniff', ...r.headers });
      res.end(head ? undefined : r.body);
    },
    (e: unknown) => {
      logger.warn({ err: String(e), path: pathname }, 'dashboard request failed');
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: String(e) }), head);
    },
  );
}

/**
 * Start the AdminServer: GET `${commandURL}` (or with a trailing slash) answers the HTML list of
 * commands; GET `${commandURL}/<name>[?k=v]` answers 200 application/json (Jackson-style pretty print)
 * for every name, known or not. Other methods on those paths: 405; other paths: 404.
 */
export async function startAdminServer(
  ctx: FourLetterContext,
  opts: AdminServerOptions,
  logger: Logger,
): Promise<RunningHttpServer> {
  const actx = ctx as AdminContext;
  const prefix = normalizePrefix(opts.commandURL);
  const idle = opts.idleTimeoutMs ?? 30000;
  const server = http.createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      send(res, 400, 'text/plain; charset=utf-8', 'Bad Request\n', false);
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      pathname = url.pathname;
    }
    // an explicit admin.commandURL keeps its paths even if it is /dashboard; `/` (all paths) does not
    const commandPath = prefix !== '' && (pathname === prefix || pathname.startsWith(prefix + '/'));
    if (!commandPath && (isDashboardPath(pathname) || (pathname === '/' && prefix !== ''))) {
      serveDashboard(req, res, pathname, url.searchParams, actx, logger);
      return;
    }
    const inScope = pathname === prefix || pathname === prefix + '/' || pathname.startsWith(prefix + '/') || (prefix === '' && pathname === '/');
    if (!inScope) {
      send(res, 404, 'text/plain; charset=utf-8', 'Not Found\n', req.method === 'HEAD');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', `HTTP method ${req.method} is not supported by this URL\n`, false);
      return;
    }
    const head = req.method === 'HEAD';
    const rest = pathname.slice(prefix.length);
    if (rest === '' || rest === '/') {
      send(res, 200, 'text/html; charset=utf-8', commandLinksHtml(prefix || '/'), head);
      return;
    }
    const name = rest.slice(1);
    let body: string;
    try {
      body = toJacksonJson(runAdminCommand(name, actx, kwargs(url.searchParams)));
    } catch (e) {
      logger.warn({ err: String(e), command: name }, 'AdminServer command failed');
      send(res, 500, 'application/json', toJacksonJson({ command: name, error: String(e) }), head);
      return;
    }
    send(res, 200, 'application/json', body, head);
  });
  server.timeout = idle;
  server.keepAliveTimeout = idle;
  server.requestTimeout = Math.max(idle, 1000);
  let port: number;
  try {
    port = await listen(server, opts.address, opts.port);
  } catch (e) {
    const msg = `Problem starting AdminServer on address ${opts.address}, port ${opts.port} and command URL ${opts.commandURL}`;
    logger.warn({ err: String(e) }, msg);
    throw new Error(`${msg}: ${(e as Error).message}`);
  }
  logger.info(
    { address: opts.address, port, commandURL: prefix || '/' },
    `Started AdminServer on address ${opts.address}, port ${port} and command URL ${prefix || '/'}`,
  );
  return { port, close: closer(server) };
}

/**
 * Start the Prometheus endpoint: GET/POST /metrics answers the text exposition format 0.0.4
 * (`name[]=<family>` query parameters select families); anything else is 404 (TRACE 405).
 */
export async function startMetricsServer(
  ctx: FourLetterContext,
  opts: MetricsServerOptions,
  logger: Logger,
): Promise<RunningHttpServer> {
  const server = http.createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      send(res, 400, 'text/plain; charset=utf-8', 'Bad Request\n', false);
      return;
    }
    if (req.method === 'TRACE') {
      send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', false);
      return;
    }
    if (url.pathname !== '/metrics') {
      send(res, 404, 'text/plain; charset=utf-8', 'Not Found\n', req.method === 'HEAD');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
      res.setHeader('Allow', 'GET, HEAD, POST');
      send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', false);
      return;
    }
    const names = new Set(url.searchParams.getAll('name[]'));
    let body: string;
    try {
      body = renderPrometheus(collectMetrics(ctx, { exportProcessInfo: opts.exportProcessInfo }), names);
    } catch (e) {
      logger.warn({ err: String(e) }, 'metrics collection failed');
      send(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error\n', false);
      return;
    }
    send(res, 200, PROMETHEUS_CONTENT_TYPE, body, req.method === 'HEAD');
  });
  let port: number;
  try {
    port = await listen(server, opts.host, opts.port);
  } catch (e) {
    const msg = `Cannot start /metrics server on host ${opts.host}, port ${opts.port}`;
    logger.warn({ err: String(e) }, msg);
    throw new Error(`${msg}: ${(e as Error).message}`);
  }
  logger.info({ host: opts.host, port }, `Started /metrics HTTP endpoint at host: ${opts.host}, port: ${port}`);
  return { port, close: closer(server) };
}
