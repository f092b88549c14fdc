// GET /dashboard/… on the AdminServer port: the page and its files, and the JSON the page polls
// (/dashboard/api/ensemble | metrics | znode?path= | sessions). Read-only: no route changes state.
import { FourLetterContext } from '../../server/fourlw';
import { pathProblem } from '../../data/paths';
import { asset } from './assets';
import { ensembleRows } from './ensemble';
import { metricsSample, sessionsView, znodeView } from './views';

export const DASHBOARD_PREFIX = '/dashboard';

export interface DashboardResponse {
  status: number;
  type: string;
  body: Buffer;
  headers?: Record<string, string>;
}

const json = (status: number, v: unknown): DashboardResponse => ({
  status,
  type: 'application/json',
  body: Buffer.from(JSON.stringify(v)),
  // the numbers move every second: never let a cache answer
  headers: { 'Cache-Control': 'no-store' },
});

const NOT_SERVING = { error: 'This ZooKeeper instance is not currently serving requests' };

export function isDashboardPath(pathname: string): boolean {
  return pathname === DASHBOARD_PREFIX || pathname.startsWith(DASHBOARD_PREFIX + '/');
}

async function api(name: string, params: URLSearchParams, ctx: FourLetterContext): Promise<DashboardResponse> {
  const zk = ctx.zk && ctx.zk.running ? ctx.zk : null;
  switch (name) {
    case 'ensemble':
      return json(200, { myid: ctx.config.myid ?? null, peers: await ensembleRows(ctx) });
    case 'metrics':
      return json(200, metricsSample(ctx));
    case 'znode': {
      if (!zk) return json(503, NOT_SERVING);
      const p = params.get('path') ?? '/';
      const problem = pathProblem(p);
      if (problem) return json(400, { error: `invalid path: ${problem}` });
      return json(200, znodeView(zk, p, ctx.config.skipACL));
    }
    case 'sessions':
      if (!zk) return json(503, NOT_SERVING);
      return json(200, sessionsView(zk));
    default:
      return json(404, { error: `no such dashboard API: ${name}` });
  }
}

/** The answer to GET `pathname` (already known to be under /dashboard). */
export async function dashboardRoute(pathname: string, params: URLSearchParams, ctx: FourLetterContext): Promise<DashboardResponse> {
  // the page links its files relatively, so it must be loaded from /dashboard/
  if (pathname === DASHBOARD_PREFIX) return { status: 302, type: 'text/plain; charset=utf-8', body: Buffer.from('Found\n'), headers: { Location: DASHBOARD_PREFIX + '/' } };
  const rest = pathname.slice(DASHBOARD_PREFIX.length + 1);
  if (rest.startsWith('api/')) return api(rest.slice(4), params, ctx);
  const a = asset(rest);
  if (!a) return { status: 404, type: 'text/plain; charset=utf-8', body: Buffer.from('Not Found\n') };
  return { status: 200, type: a.type, body: a.body, headers: { 'Cache-Control': 'no-cache' } };
}
