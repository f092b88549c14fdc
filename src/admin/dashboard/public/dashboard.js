// The zk-server dashboard: four pages (#ensemble, #charts, #tree, #sessions) polling /dashboard/api/*.
// Everything read from the server (znode names and data, session ids, error texts) reaches the page
// as text nodes through el(): no innerHTML anywhere, so a znode named <img onerror=…> stays a name.
import uPlot from './vendor/uPlot.esm.js';

const API = 'api/';
const HISTORY = 120; // chart samples kept (two minutes at one per second)

/** An element with attributes and children; strings and numbers become text nodes. */
function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

const $ = (sel) => document.querySelector(sel);
const fmt = (v, d = '—') => (v === null || v === undefined ? d : String(v));

async function getJson(name, params) {
  const q = params ? '?' + new URLSearchParams(params) : '';
  const r = await fetch(API + name + q, { cache: 'no-store' });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

function status(text, bad = false) {
  const s = $('#status');
  s.textContent = text;
  s.classList.toggle('bad', bad);
}

// ------------------------------------------------------------------ ensemble

function roleBadge(role) {
  return el('span', { class: `role role-${role.replace(/[^a-z-]/g, '')}` }, role);
}

function card(label, value, cls = '') {
  return el('div', { class: `card ${cls}` }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value));
}

async function refreshEnsemble() {
  const { myid, peers } = await getJson('ensemble');
  const tbody = $('#ensemble-table tbody');
  tbody.replaceChildren(
    ...peers.map((p) =>
      el(
        'tr',
        { class: p.reachable ? (p.self ? 'self' : '') : 'down', 'data-server': fmt(p.id, 'standalone') },
        el('td', {}, p.id === null ? 'standalone' : `server.${p.id}`, p.self ? el('span', { class: 'tag' }, 'this peer') : null, p.learnerType === 'observer' ? el('span', { class: 'tag' }, 'observer') : null),
        el('td', {}, roleBadge(p.role), p.error ? el('div', { class: 'error' }, p.error) : null),
        el('td', { class: 'mono' }, fmt(p.address)),
        el('td', { class: 'mono' }, fmt(p.zxid)),
        el('td', { class: 'num' }, fmt(p.epoch)),
        el('td', { class: 'num' }, fmt(p.connections)),
        el('td', { class: 'num' }, fmt(p.outstanding)),
        el('td', { class: 'num mono' }, p.latency ? `${p.latency.min} / ${Math.round(p.latency.avg * 100) / 100} / ${p.latency.max}` : '—'),
        el('td', { class: 'num' }, fmt(p.nodeCount)),
      ),
    ),
  );
  const leader = peers.find((p) => p.role === 'leader');
  const up = peers.filter((p) => p.reachable && p.zxid !== null).length;
  const top = peers.map((p) => p.zxid).filter(Boolean).sort((a, b) => (BigInt(a) < BigInt(b) ? 1 : -1))[0];
  $('#ensemble-summary').replaceChildren(
    card('Members', String(peers.length)),
    card('Serving', `${up} of ${peers.length}`, up === peers.length ? 'ok' : 'warn'),
    card('Leader', leader ? (leader.id === null ? 'standalone' : `server.${leader.id}`) : peers.length === 1 && peers[0].role === 'standalone' ? 'standalone' : 'none', leader || peers[0]?.role === 'standalone' ? 'ok' : 'warn'),
    card('Highest zxid', fmt(top)),
  );
  const me = peers.find((p) => p.self);
  $('#self').replaceChildren(myid === null ? 'standalone' : `server.${myid}`, ' ', me ? roleBadge(me.role) : '');
}

// ------------------------------------------------------------------ charts

const series = { t: [], ops: [], reads: [], writes: [], avg: [], min: [], max: [] };
let last = null;
let charts = null;

function makeCharts() {
  const width = () => Math.max(320, $('#chart-ops').clientWidth || 800);
  const common = (title) => ({
    width: width(),
    height: 240,
    scales: { x: { time: true } },
    axes: [
      // whole seconds on the time axis: samples are a second apart, milliseconds would be noise
      { stroke: '#5b6b7f', grid: { stroke: '#e8edf3' }, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300], space: 70, values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false })) },
      { stroke: '#5b6b7f', grid: { stroke: '#e8edf3' }, size: 60 },
    ],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    title,
  });
  const ops = new uPlot(
    {
      ...common(),
      series: [{}, { label: 'total/s', stroke: '#2563eb', width: 2, fill: 'rgba(37,99,235,0.08)' }, { label: 'reads/s', stroke: '#16a34a', width: 1.5 }, { label: 'writes/s', stroke: '#d97706', width: 1.5 }],
    },
    [series.t, series.ops, series.reads, series.writes],
    $('#chart-ops'),
  );
  const lat = new uPlot(
    {
      ...common(),
      series: [{}, { label: 'avg (interval)', stroke: '#7c3aed', width: 2 }, { label: 'min (since reset)', stroke: '#94a3b8', width: 1, dash: [4, 4] }, { label: 'max (since reset)', stroke: '#dc2626', width: 1.5 }],
    },
    [series.t, series.avg, series.min, series.max],
    $('#chart-lat'),
  );
  window.addEventListener('resize', () => {
    for (const c of [ops, lat]) c.setSize({ width: width(), height: 240 });
  });
  return { ops, lat };
}

async function sampleMetrics() {
  const m = await getJson('metrics');
  if (!m.serving) {
    last = null;
    $('#charts-now').replaceChildren(card('State', m.role, 'warn'));
    return;
  }
  if (last && m.time > last.time && m.requests >= last.requests) {
    const dt = (m.time - last.time) / 1000;
    const n = m.requests - last.requests;
    series.t.push(m.time / 1000);
    series.ops.push(n / dt);
    series.reads.push(Math.max(0, m.reads - last.reads) / dt);
    series.writes.push(Math.max(0, m.writes - last.writes) / dt);
    series.avg.push(n ? (m.totalLatency - last.totalLatency) / n : 0);
    series.min.push(m.minLatency);
    series.max.push(m.maxLatency);
    for (const k of Object.keys(series)) if (series[k].length > HISTORY) series[k].shift();
  }
  last = m;
  const now = series.ops.length ? series.ops[series.ops.length - 1] : 0;
  $('#charts-now').replaceChildren(
    card('Ops/s', el('span', { id: 'ops-now', 'data-value': now.toFixed(1) }, now.toFixed(1))),
    card('Avg latency (interval)', `${(series.avg[series.avg.length - 1] ?? 0).toFixed(2)} ms`),
    card('Outstanding', String(m.outstanding)),
    card('Connections', String(m.connections)),
    card('Znodes', String(m.znodes)),
    card('Watches', String(m.watches)),
  );
  if (currentPage() === 'charts') {
    charts ??= makeCharts();
    charts.ops.setData([series.t, series.ops, series.reads, series.writes]);
    charts.lat.setData([series.t, series.avg, series.min, series.max]);
  }
}

// ------------------------------------------------------------------ tree

let treePath = '/';
let dataFormat = 'text';
let lastZnode = null;

function b64bytes(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function hexDump(bytes) {
  const lines = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join('\n');
}

/** Text when the bytes are UTF-8 without control characters, else hex: the format a znode's data reads best in. */
function looksLikeText(bytes) {
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return !/[\u0000-\u0008\u000e-\u001f]/.test(s);
  } catch {
    return false;
  }
}

function childPath(parent, name) {
  return parent === '/' ? '/' + name : parent + '/' + name;
}

function showData(z) {
  const pre = $('#tree-data');
  $('#fmt-text').classList.toggle('on', dataFormat === 'text');
  $('#fmt-hex').classList.toggle('on', dataFormat === 'hex');
  if (!z || !z.exists) return pre.replaceChildren();
  if (z.dataHidden) {
    $('#tree-data-info').textContent = '';
    return pre.replaceChildren(el('span', { class: 'muted' }, `hidden: ${z.dataHidden}`));
  }
  if (z.data === null) {
    $('#tree-data-info').textContent = '(null)';
    return pre.replaceChildren(el('span', { class: 'muted' }, 'no data'));
  }
  const bytes = b64bytes(z.data);
  $('#tree-data-info').textContent = `${z.stat.dataLength} bytes${z.truncated ? `, first ${bytes.length} shown` : ''}`;
  if (bytes.length === 0) return pre.replaceChildren(el('span', { class: 'muted' }, 'empty'));
  pre.textContent = dataFormat === 'hex' ? hexDump(bytes) : new TextDecoder().decode(bytes);
}

async function openZnode(path) {
  const z = await getJson('znode', { path });
  treePath = path;
  lastZnode = z;
  const parts = path === '/' ? [] : path.slice(1).split('/');
  const crumbs = [el('a', { href: '#tree=' + encodeURIComponent('/'), class: 'crumb' }, '/')];
  parts.forEach((p, i) => {
    const full = '/' + parts.slice(0, i + 1).join('/');
    if (i) crumbs.push(el('span', { class: 'sep' }, '/'));
    crumbs.push(el('a', { href: '#tree=' + encodeURIComponent(full), class: 'crumb' }, p));
  });
  $('#tree-crumbs').replaceChildren(...crumbs);
  if (!z.exists) {
    $('#tree-children').replaceChildren(el('li', { class: 'muted' }, 'no such znode (NONODE)'));
    $('#tree-count').textContent = '';
    $('#tree-stat').replaceChildren();
    $('#tree-acl tbody').replaceChildren();
    $('#tree-data-info').textContent = '';
    return showData(null);
  }
  $('#tree-count').textContent = z.childrenTotal > z.children.length ? `${z.children.length} of ${z.childrenTotal}` : String(z.childrenTotal);
  $('#tree-children').replaceChildren(
    ...(z.children.length ? z.children.map((c) => el('li', {}, el('a', { href: '#tree=' + encodeURIComponent(childPath(path, c)) }, c))) : [el('li', { class: 'muted' }, 'no children')]),
  );
  const when = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC') : '0');
  // times read as dates; the raw milliseconds, which zkCli prints, are in the tooltip
  const rows = Object.entries(z.stat).map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', { class: 'mono', 'data-stat': k, title: k.endsWith('time') ? String(v) : null }, k.endsWith('time') ? when(v) : v)));
  $('#tree-stat').replaceChildren(...rows);
  $('#tree-acl tbody').replaceChildren(...z.acl.map((a) => el('tr', {}, el('td', { class: 'mono' }, a.scheme), el('td', { class: 'mono' }, a.id), el('td', { class: 'mono' }, a.perms))));
  if (z.data) dataFormat = looksLikeText(b64bytes(z.data)) ? 'text' : 'hex';
  showData(z);
}

// ------------------------------------------------------------------ sessions

function list(items, total, cls) {
  if (!items.length) return el('span', { class: 'muted' }, '—');
  const ul = el('ul', { class: `paths ${cls}` }, ...items.map((p) => el('li', {}, p)));
  if (total > items.length) ul.append(el('li', { class: 'muted' }, `… ${total - items.length} more`));
  return ul;
}

async function refreshSessions() {
  const { sessions, total } = await getJson('sessions');
  $('#sessions-total').textContent = `${total} session${total === 1 ? '' : 's'}${total > sessions.length ? `, first ${sessions.length} shown` : ''}`;
  const tbody = $('#sessions-table tbody');
  if (!sessions.length) return tbody.replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'no sessions')));
  tbody.replaceChildren(
    ...sessions.map((s) => {
      const c = s.connection;
      const watches = [...s.dataWatches.map((p) => `data ${p}`), ...s.childWatches.map((p) => `child ${p}`)];
      return el(
        'tr',
        { 'data-session': s.id },
        el('td', { class: 'mono' }, s.id),
        el('td', { class: 'num' }, `${s.timeout} ms`),
        el('td', { class: 'num' }, s.expiresIn === null ? '—' : `${s.expiresIn} ms`),
        el('td', {}, c ? el('div', {}, el('div', { class: 'mono' }, c.remote), el('div', { class: 'muted' }, `last ${c.lastOperation}, lat ${c.latency.min}/${c.latency.avg}/${c.latency.max} ms`)) : el('span', { class: 'muted' }, 'elsewhere')),
        el('td', {}, list(s.ephemerals, s.ephemeralsTotal, 'ephemerals')),
        el('td', {}, list(watches, watches.length, 'watches')),
      );
    }),
  );
}

// ------------------------------------------------------------------ pages

const PAGES = ['ensemble', 'charts', 'tree', 'sessions'];

function currentPage() {
  const h = location.hash.slice(1);
  const name = h.split('=')[0];
  return PAGES.includes(name) ? name : 'ensemble';
}

async function run(what, f) {
  try {
    await f();
    status(`updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    status(`${what}: ${e.message}`, true);
  }
}

function refreshPage() {
  const page = currentPage();
  if (page === 'ensemble') return run('ensemble', refreshEnsemble);
  if (page === 'sessions') return run('sessions', refreshSessions);
  return undefined;
}

function route() {
  const page = currentPage();
  for (const p of PAGES) {
    $(`#page-${p}`).hidden = p !== page;
    document.querySelector(`nav a[data-page="${p}"]`).classList.toggle('on', p === page);
  }
  if (page === 'tree') {
    const h = location.hash;
    const path = h.startsWith('#tree=') ? decodeURIComponent(h.slice(6)) : treePath;
    run('tree', () => openZnode(path || '/'));
  }
  if (page === 'charts') run('metrics', sampleMetrics);
  refreshPage();
}

$('#fmt-text').addEventListener('click', () => {
  dataFormat = 'text';
  showData(lastZnode);
});
$('#fmt-hex').addEventListener('click', () => {
  dataFormat = 'hex';
  showData(lastZnode);
});
window.addEventListener('hashchange', route);
route();
// this peer's badge in the header, whatever page is open
if (currentPage() !== 'ensemble') run('ensemble', refreshEnsemble);
setInterval(() => run('metrics', sampleMetrics), 1000);
setInterval(refreshPage, 2000);
