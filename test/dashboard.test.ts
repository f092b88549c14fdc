// The AdminServer's /dashboard in a real browser: a 3-peer ensemble of zk-server processes with their
// AdminServers on, znodes, an ephemeral and watches made through the client port, then headless
// Debian chromium (driven by playwright-core) loads every page and checks what an operator would look
// at: the three peers and their roles, a znode's data and stat, a session's ephemeral, a chart that
// moves under load. Every page must load without a console error or a failed request. It saves the
// screenshots docs/operations.md shows (docs/images/dashboard-*.png) when ZK_UPDATE_SCREENSHOTS=1.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { OpCode } from '../src/data/constants';
import { MiniClient } from './helpers/miniclient';
import { freePorts, Peers, requireDist } from './helpers/peers';
import { startTestServer } from './helpers/server';
import pino from 'pino';
import type { RunningServer } from '../src/main';
import type { FourLetterContext } from '../src/server/fourlw';
import { RunningHttpServer, startAdminServer } from '../src/admin/http';
import { ensembleRows, rowOfSrvr } from '../src/admin/dashboard/ensemble';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`test/dashboard.test.ts skipped: ${CHROMIUM} is missing (apt-get install -y chromium, or scripts/install-test-deps.sh)`);
// the screenshots go to docs/images only when asked (ZK_UPDATE_SCREENSHOTS=1): a test run must not
// leave the checkout changed; otherwise to a temporary folder, still taken, so the path is exercised
const IMAGES = process.env.ZK_UPDATE_SCREENSHOTS === '1' ? path.join(__dirname, '..', 'docs', 'images') : fs.mkdtempSync(path.join(os.tmpdir(), 'zk-dashboard-shots-'));
const N = 3;
/** the peer whose dashboard the browser opens; the test's clients connect to it too */
const VIEWED = 1;
const EPHEMERAL = 1; // CreateMode.EPHEMERAL's flag
const XSS_NAME = '<img src=x onerror="window.__xss=1">';

let peers: Peers;
let ports: number[];
const clientPort = (i: number): number => ports[4 * (i - 1)];
const adminPort = (i: number): number => ports[4 * (i - 1) + 3];
let browser: BrowserContext | null = null;
let userDataDir = '';
const clients: MiniClient[] = [];
const stops: (() => void)[] = [];
let owner: MiniClient;

/** getData/exists with watch=true: the watch the sessions page lists */
async function watch(c: MiniClient, op: number, p: string): Promise<void> {
  await c.call(op, (w) => {
    w.writeString(p);
    w.writeBool(true);
  });
}

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  requireDist();
  // client, quorum, election and admin port per peer; the server lines name the client address
  // (`;host:port`) so each peer's dashboard can ask the others with srvr
  ports = await freePorts(4 * N);
  const lines = Array.from({ length: N }, (_, k) => `server.${k + 1}=127.0.0.1:${ports[4 * k + 1]}:${ports[4 * k + 2]};127.0.0.1:${ports[4 * k]}`);
  peers = new Peers(
    {
      clientPort,
      common: lines,
      extra: (i) => ['admin.enableServer=true', 'admin.serverAddress=127.0.0.1', `admin.serverPort=${adminPort(i)}`, '4lw.commands.whitelist=srvr'],
    },
    'zk-dashboard-',
  );
  for (let i = 1; i <= N; i++) peers.start(i);
  await peers.waitFor(async () => {
    const modes = await Promise.all([1, 2, 3].map((i) => peers.mode(i)));
    return modes.filter((m) => m === 'leader').length === 1 && modes.filter((m) => m === 'follower').length === 2;
  }, 30000, 'one leader and two followers');

  const c = await MiniClient.connect(clientPort(VIEWED));
  clients.push(c);
  stops.push(c.startPinging());
  expect(await c.create('/app', Buffer.from('{"service":"orders","replicas":3}'))).toBe(0);
  expect(await c.create('/app/config', Buffer.from('hello dashboard'))).toBe(0);
  expect(await c.create('/app/bin', Buffer.from([0, 1, 2, 0xfe, 0xff, 0x10, 0x7f]))).toBe(0);
  expect(await c.create(`/app/${XSS_NAME}`, Buffer.from('<script>window.__xss=2</script>'))).toBe(0);
  expect(await c.create('/app/locks', Buffer.alloc(0))).toBe(0);
  expect(await c.create('/app/big', Buffer.alloc(100_000, 'z'))).toBe(0);
  // the session the sessions page must show: an ephemeral lock holder with a data and a child watch (below)
  owner = await MiniClient.connect(clientPort(VIEWED));
  clients.push(owner);
  stops.push(owner.startPinging());
  expect(await owner.create('/app/locks/lock-0001', Buffer.from('owner'), EPHEMERAL)).toBe(0);
  // a second session, connected to another peer: its ephemeral shows, its connection is elsewhere
  const other = await MiniClient.connect(clientPort(VIEWED === 1 ? 2 : 1));
  clients.push(other);
  stops.push(other.startPinging());
  expect(await other.create('/app/locks/lock-0002', Buffer.from('waiter'), EPHEMERAL)).toBe(0);
  // the watches last: a create under /app/locks would fire (and so end) the child watch
  await watch(owner, OpCode.getData, '/app/config');
  await watch(owner, OpCode.getChildren, '/app/locks');

  const { chromium } = await import('playwright-core');
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-dashboard-chromium-'));
  // the machine's network is closed: nothing that phones home, no QUIC, no sandbox (root in CI)
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  fs.mkdirSync(IMAGES, { recursive: true });
}, 90000);

afterAll(async () => {
  for (const s of stops) s();
  for (const c of clients) c.close();
  await browser?.close();
  await peers?.stopAll();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

/** A page of the viewed peer's dashboard that records every console error and failed request. */
async function open(hash: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser!.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`http://127.0.0.1:${adminPort(VIEWED)}/dashboard/#${hash}`, { waitUntil: 'load' });
  return { page, problems };
}

/** Wait until `expr` (evaluated in the page; a string, as these tests compile without the DOM lib) holds. */
async function until(page: Page, expr: string, timeout: number): Promise<void> {
  await page.waitForFunction(expr, undefined, { timeout });
}

const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: path.join(IMAGES, `dashboard-${name}.png`), fullPage: true });

describe.skipIf(!HAVE_CHROMIUM)('the AdminServer dashboard in headless chromium', () => {
  it('redirects / and /dashboard to the page, keeps /commands', async () => {
    const base = `http://127.0.0.1:${adminPort(VIEWED)}`;
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard/');
    expect((await fetch(`${base}/dashboard`, { redirect: 'manual' })).headers.get('location')).toBe('/dashboard/');
    expect(((await (await fetch(`${base}/commands/ruok`)).json()) as { error: unknown }).error).toBeNull();
    // only the page's own files are served: no path reaches the file system
    expect((await fetch(`${base}/dashboard/..%2F..%2F..%2F..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${base}/dashboard/vendor/uPlot.cjs.js`)).status).toBe(404);
    expect((await fetch(`${base}/dashboard/vendor/uPlot.esm.js`)).status).toBe(200);
    expect((await fetch(`${base}/dashboard/api/znode?path=nope`)).status).toBe(400);
  });

  it('shows the ensemble: three peers, one leader, two followers', async () => {
    const { page, problems } = await open('ensemble');
    await until(page, "document.querySelectorAll('#ensemble-table tbody tr').length === 3 && document.querySelectorAll('#ensemble-table .role-leader').length === 1 && document.querySelectorAll('#ensemble-table .role-follower').length === 2", 15000);
    const rows = await page.$$eval('#ensemble-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows.map((r) => r[0].replace(/this peer/, '').trim())).toEqual(['server.1', 'server.2', 'server.3']);
    for (const i of [1, 2, 3]) expect(rows[i - 1][1]).toContain(await peers.mode(i));
    // every row is a peer that answered: a zxid in the current epoch, its client address
    for (const r of rows) {
      expect(r[3]).toMatch(/^0x[0-9a-f]+$/);
      expect(Number(r[4])).toBeGreaterThan(0);
    }
    expect(rows[VIEWED - 1][0]).toContain('this peer');
    expect(await page.textContent('#self')).toContain(`server.${VIEWED}`);
    await shot(page, 'ensemble');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('browses the tree: a znode with its data, stat and ACL; names and data stay text', async () => {
    const { page, problems } = await open('tree=' + encodeURIComponent('/app'));
    await until(page, `document.querySelectorAll('#tree-children li a').length === 5`, 10000);
    const kids = await page.$$eval('#tree-children li a', (as) => as.map((a) => a.textContent));
    expect(kids).toContain(XSS_NAME);
    // the XSS child, opened: its name is a crumb, its data a text
    await page.click(`#tree-children a:text-is(${JSON.stringify(XSS_NAME)})`);
    await until(page, `document.querySelector('#tree-data')?.textContent?.includes('<script>')`, 10000);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await page.$$('#tree-data script, #tree-crumbs img, #tree-children img')).toHaveLength(0);
    // binary data opens as hex
    await page.goto(`http://127.0.0.1:${adminPort(VIEWED)}/dashboard/#tree=${encodeURIComponent('/app/bin')}`);
    await until(page, `document.querySelector('#tree-data')?.textContent?.startsWith('00000000  00 01 02 fe ff 10 7f')`, 10000);
    // a large znode is capped
    await page.goto(`http://127.0.0.1:${adminPort(VIEWED)}/dashboard/#tree=${encodeURIComponent('/app/big')}`);
    await until(page, `document.querySelector('#tree-data-info')?.textContent === '100000 bytes, first 4096 shown'`, 10000);
    expect((await page.textContent('#tree-data'))!.length).toBe(4096);
    // the screenshot's znode: text data, its stat and ACL
    await page.goto(`http://127.0.0.1:${adminPort(VIEWED)}/dashboard/#tree=${encodeURIComponent('/app/config')}`);
    await until(page, `document.querySelector('#tree-data')?.textContent === 'hello dashboard'`, 10000);
    const stat = Object.fromEntries(await page.$$eval('#tree-stat tr', (trs) => trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent])));
    const real = await clients[0].getData('/app/config');
    expect(stat.dataLength).toBe('15');
    expect(stat.version).toBe('0');
    expect(stat.czxid).toBe('0x' + real.stat!.czxid.toString(16));
    expect(stat.ephemeralOwner).toBe('0x0');
    expect(await page.$$eval('#tree-acl tbody td', (tds) => tds.map((td) => td.textContent))).toEqual(['world', 'anyone', 'cdrwa']);
    await page.goto(`http://127.0.0.1:${adminPort(VIEWED)}/dashboard/#tree=${encodeURIComponent('/app')}`);
    await until(page, `document.querySelector('#tree-data')?.textContent?.includes('orders')`, 10000);
    await page.mouse.move(0, 0); // no hover underline left from the click
    await shot(page, 'tree');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('lists the sessions with their ephemerals and watches', async () => {
    const { page, problems } = await open('sessions');
    const sid = '0x' + owner.sessionId.toString(16);
    await until(page, `document.querySelector('#sessions-table tr[data-session="${sid}"]') !== null`, 10000);
    const row = await page.$eval(`#sessions-table tr[data-session="${sid}"]`, (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''));
    expect(row[4]).toContain('/app/locks/lock-0001');
    expect(row[5]).toContain('data /app/config');
    expect(row[5]).toContain('child /app/locks');
    // the client connected to another peer: its ephemeral is the ensemble's, its connection is not here
    const all = await page.$$eval('#sessions-table tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(all.find((t) => t.includes('/app/locks/lock-0002'))).toContain('elsewhere');
    await shot(page, 'sessions');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('charts ops/s and latency that move when load is applied', async () => {
    const { page, problems } = await open('charts');
    // two samples at rest, then load on the viewed peer until the chart shows it
    await page.waitForSelector('#chart-ops .u-over', { timeout: 10000 });
    await page.waitForTimeout(2500);
    const load = await MiniClient.connect(clientPort(VIEWED));
    clients.push(load);
    let stop = false;
    const running = (async () => {
      for (let round = 0; !stop; round++) {
        // reads and a few writes, in waves so the chart has a shape
        const burst = 40 + (round % 5) * 30;
        await Promise.all(Array.from({ length: burst }, (_, k) => (k % 8 === 0 ? load.setData('/app/config', Buffer.from(`hello dashboard ${round}`)) : load.getData('/app'))));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await until(page, `Number(document.querySelector('#ops-now')?.getAttribute('data-value')) > 50`, 15000);
      await page.waitForTimeout(5000);
    } finally {
      stop = true;
      await running;
    }
    await load.setData('/app/config', Buffer.from('hello dashboard'));
    const points = await page.evaluate("document.querySelectorAll('#chart-ops .u-legend').length");
    expect(points).toBe(1);
    await shot(page, 'charts');
    expect(problems).toEqual([]);
    await page.close();
  }, 60000);

  it('shows a stopped member as unreachable, not as a failed page', async () => {
    const modes = await Promise.all([1, 2, 3].map((i) => peers.mode(i)));
    const gone = [1, 2, 3].find((i) => i !== VIEWED && modes[i - 1] === 'follower')!;
    await peers.stop(gone);
    const { page, problems } = await open('ensemble');
    await until(page, `document.querySelector('#ensemble-table tr.down[data-server="${gone}"] .role-unreachable') !== null`, 15000);
    const row = await page.$eval(`#ensemble-table tr[data-server="${gone}"]`, (tr) => tr.textContent ?? '');
    expect(row).toMatch(/ECONNREFUSED/);
    // the two others still answer, one of them leads
    expect(await page.$$('#ensemble-table .role-leader')).toHaveLength(1);
    expect(await page.textContent('#ensemble-summary')).toContain('2 of 3');
    await shot(page, 'ensemble-unreachable');
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('the dashboard API without a browser', () => {
  let s: RunningServer;
  let admin: RunningHttpServer;
  const ctx = (): FourLetterContext => ({ zk: s.zk, config: s.config, mode: () => 'standalone', traceMask: { value: 0n } });
  const api = async (p: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const r = await fetch(`http://127.0.0.1:${admin.port}/dashboard/api/${p}`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    s = await startTestServer();
    admin = await startAdminServer(ctx(), { address: '127.0.0.1', port: 0, commandURL: '/commands' }, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await admin?.close();
    await s?.stop();
  });

  it('standalone: the ensemble is one row, this server', async () => {
    const { body } = await api('ensemble');
    expect(body.peers).toEqual([expect.objectContaining({ id: null, self: true, role: 'standalone', reachable: true, zxid: expect.stringMatching(/^0x/) })]);
  });

  it('hides the data of a znode world:anyone may not read, and caps nothing else away', async () => {
    const c = await MiniClient.connect(s.port);
    try {
      const r = await c.create2('/secret', Buffer.from('s3cr3t'), 0, OpCode.create, [{ perms: 31, id: { scheme: 'ip', id: '10.9.9.9' } }]);
      expect(r.err).toBe(0);
    } finally {
      c.close();
    }
    const { body } = await api('znode?path=/secret');
    expect(body.data).toBeUndefined();
    expect(body.dataHidden).toMatch(/world:anyone/);
    expect(body.acl).toEqual([{ perms: 'cdrwa', scheme: 'ip', id: '10.9.9.9' }]);
    expect((await api('znode?path=/nope')).body).toEqual({ path: '/nope', exists: false });
  });

  it('answers only GET and HEAD, and leaves / to the commands when admin.commandURL is /', async () => {
    expect((await fetch(`http://127.0.0.1:${admin.port}/dashboard/api/metrics`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`http://127.0.0.1:${admin.port}/dashboard/`, { method: 'HEAD' })).status).toBe(200);
    const rooted = await startAdminServer(ctx(), { address: '127.0.0.1', port: 0, commandURL: '/' }, pino({ level: 'silent' }));
    try {
      const r = await fetch(`http://127.0.0.1:${rooted.port}/`, { redirect: 'manual' });
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('<a href="/ruok">ruok</a>');
      expect((await fetch(`http://127.0.0.1:${rooted.port}/dashboard/`)).status).toBe(200);
    } finally {
      await rooted.close();
    }
    // a command URL of /dashboard keeps the commands, as configured
    const taken = await startAdminServer(ctx(), { address: '127.0.0.1', port: 0, commandURL: '/dashboard' }, pino({ level: 'silent' }));
    try {
      expect(await (await fetch(`http://127.0.0.1:${taken.port}/dashboard/ruok`)).json()).toEqual({ command: 'ruok', error: null });
    } finally {
      await taken.close();
    }
  });

  it('reads srvr answers, a peer without a quorum and a member nobody answers for', async () => {
    const row = rowOfSrvr('Zookeeper version: 3.8.4\nLatency min/avg/max: 1/2.5000/9\nReceived: 5\nSent: 5\nConnections: 2\nOutstanding: 0\nZxid: 0x300000007\nMode: follower\nNode count: 6\n');
    expect(row).toMatchObject({ role: 'follower', zxid: '0x300000007', epoch: 3, connections: 2, latency: { min: 1, avg: 2.5, max: 9 }, nodeCount: 6 });
    expect(rowOfSrvr('This ZooKeeper instance is not currently serving requests\n')).toMatchObject({ reachable: true, role: 'not serving', zxid: null });
    const [closed] = await freePorts(1);
    const servers = new Map([
      [1, { id: 1, host: '127.0.0.1', quorumPort: 1, electionPort: 2, type: 'participant' as const, clientPort: s.port, raw: '' }],
      [2, { id: 2, host: '127.0.0.1', quorumPort: 3, electionPort: 4, type: 'participant' as const, clientPort: closed, raw: '' }],
      [3, { id: 3, host: '127.0.0.1', quorumPort: 5, electionPort: 6, type: 'observer' as const, raw: '' }],
    ]);
    const rows = await ensembleRows({ ...ctx(), config: { ...s.config, myid: 9, servers }, quorum: true });
    expect(rows.map((r) => [r.id, r.role, r.reachable])).toEqual([
      [1, 'standalone', true],
      [2, 'unreachable', false],
      [3, 'unreachable', false],
    ]);
    expect(rows[2].error).toMatch(/client address unknown/);
  });
});
