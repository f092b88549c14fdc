// The dashboard's static files. tsc copies no assets, so the page, its script and its style stay in
// src/admin/dashboard/public/ and are found from the package root, which is three levels up both
// from src/admin/dashboard (tests run the sources) and from dist/admin/dashboard (bin/zk-server.js);
// `npm pack` ships src/. uPlot is served from its own package in node_modules: no bundler, no copy.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Asset {
  type: string;
  body: Buffer;
}

const PUBLIC_DIR = path.resolve(__dirname, '..', '..', '..', 'src', 'admin', 'dashboard', 'public');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** name as served under /dashboard/ -> file; a fixed table, so no request path ever reaches the file system */
function files(): Map<string, string> {
  const m = new Map<string, string>([
    ['', path.join(PUBLIC_DIR, 'index.html')],
    ['dashboard.js', path.join(PUBLIC_DIR, 'dashboard.js')],
    ['dashboard.css', path.join(PUBLIC_DIR, 'dashboard.css')],
  ]);
  try {
    const uplot = path.dirname(require.resolve('uplot'));
    m.set('vendor/uPlot.esm.js', path.join(uplot, 'uPlot.esm.js'));
    m.set('vendor/uPlot.min.css', path.join(uplot, 'uPlot.min.css'));
  } catch {
    // without uplot the page still works; its charts say the library is missing
  }
  return m;
}

const FILES = files();
const cache = new Map<string, Asset>();

/** The asset served as /dashboard/<name>, or null (unknown name, or the file is gone). */
export function asset(name: string): Asset | null {
  const hit = cache.get(name);
  if (hit) return hit;
  const file = FILES.get(name);
  if (!file) return null;
  let body: Buffer;
  try {
    body = fs.readFileSync(file);
  } catch {
    return null;
  }
  const a = { type: TYPES[path.extname(file)] ?? 'application/octet-stream', body };
  cache.set(name, a);
  return a;
}
