// AdminServer and /metrics against a running standalone server. Expected shapes (key order, types)
// are those a real Apache ZooKeeper 3.8.0 answered on this machine (see docs/operations.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import pino from 'pino';
import { startTestServer, testConfig } from './helpers/server';
import type { RunningServer } from '../src/main';
import type { FourLetterContext } from '../src/server/fourlw';
import { JuteReader, JuteWriter } from '../src/jute/archive';
import { writeConnectRequest, writeCreateRequest } from '../src/jute/records';
import { OPEN_ACL_UNSAFE } from '../src/data/datatree';
import { OpCode } from '../src/data/constants';
import { startAdminServer, startMetricsServer } from '../src/admin/http';
import { NOT_SERVING, primaryCommandNames, runAdminCommand, AdminContext } from '../src/admin/commands';
import { javaDoubleString, JavaDouble, toJacksonJson } from '../src/admin/json';

const logger = pino({ level: 'silent' });

/** A minimal client: one session, requests answered in order. */
class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: ((b: Buffer) => void)[] = [];
  private frames: Buffer[] = [];
  private xid = 1;
  sessionId = 0n;
  constructor(private readonly sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4) {
        const n = this.buf.readInt32BE(0);
        if (this.buf.length < 4 + n) break;
        const f = this.buf.subarray(4, 4 + n);
        this.buf = this.buf.subarray(4 + n);
        const w = this.waiters.shift();
        if (w) w(f);
        else this.frames.push(f);
      }
    });
  }
  static async connect(port: number): Promise<RawClient> {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise<void>((res, rej) => sock.once('connect', res).once('error', rej));
    const c = new RawClient(sock);
    const w = new JuteWriter();
    const at = w.beginFrame();
    writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
    w.endFrame(at);
    sock.write(w.finish());
    const r = new JuteReader(await c.next());
    r.readInt();
    r.readInt();
    c.sessionId = r.readBigLong();
    return c;
  }
  private next(): Promise<Buffer> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise((res) => this.waiters.push(res));
  }
  /** send one request, return the reply's err code (notifications are skipped) */
  async request(type: number, body: (w: JuteWriter) => void): Promise<number> {
    const xid = this.xid++;
    const w = new JuteWriter();
    const at = w.beginFrame();
    w.writeInt(xid).writeInt(type);
    body(w);
    w.endFrame(at);
    this.sock.write(w.finish());
    for (;;) {
      const r = new JuteReader(await this.next());
      const rx = r.readInt();
      r.readLong();
      const err = r.readInt();
      if (rx === xid) return err;
    }
  }
  close(): void {
    this.sock.destroy();
  }
}

/** expected key order and value types of each command, from Apache ZooKeeper 3.8.0 (standalone) */
type T = 'number' | 'string' | 'boolean' | 'object' | 'array' | 'null' | 'string|null';
const CONN_BRIEF: Record<string, T> = {
  remote_socket_address: 'string',
  interest_ops: 'number',
  outstanding_requests: 'number',
  packets_received: 'number',
  packets_sent: 'number',
};
const CONN_FULL: Record<string, T> = {
  ...CONN_BRIEF,
  session_id: 'number',
  last_operation: 'string',
  established: 'number',
  session_timeout: 'number',
  last_cxid: 'number',
  last_zxid: 'number',
  last_response_time: 'number',
  last_latency: 'number',
  min_latency: 'number',
  avg_latency: 'number',
  max_latency: 'number',
};
const SERVER_STATS: Record<string, T> = {
  packets_sent: 'number',
  packets_received: 'number',
  fsync_threshold_exceed_count: 'number',
  client_response_stats: 'object',
  data_dir_size: 'number',
  log_dir_size: 'number',
  provider_null: 'boolean',
  server_state: 'string',
  last_processed_zxid: 'number',
  outstanding_requests: 'number',
  avg_latency: 'number',
  max_latency: 'number',
  min_latency: 'number',
  num_alive_client_connections: 'number',
  auth_failed_count: 'number',
  non_mtlsremote_conn_count: 'number',
  non_mtlslocal_conn_count: 'number',
  uptime: 'number',
};
const BUFFER_STATS: Record<string, T> = { last_buffer_size: 'number', min_buffer_size: 'number', max_buffer_size: 'number' };
const SRVR: Record<string, T> = {
  version: 'string',
  read_only: 'boolean',
  server_stats: 'object',
  client_response: 'object',
  node_count: 'number',
};

/** [names..., expected keys before "command"/"error" (null = not checked in order)] */
const COMMANDS: { names: string[]; keys: Record<string, T> | null; error?: string }[] = [
  { names: ['connection_stat_reset', 'crst'], keys: {} },
  {
    names: ['configuration', 'conf', 'config'],
    keys: {
      client_port: 'number',
      data_dir: 'string',
      data_log_dir: 'string',
      tick_time: 'number',
      max_client_cnxns: 'number',
      min_session_timeout: 'number',
      max_session_timeout: 'number',
      server_id: 'number',
      client_port_listen_backlog: 'number',
    },
  },
  { names: ['connections', 'cons'], keys: { connections: 'array', secure_connections: 'array' } },
  { names: ['dirs'], keys: { datadir_size: 'number', logdir_size: 'number' } },
  { names: ['dump'], keys: { expiry_time_to_session_ids: 'object', session_id_to_ephemeral_paths: 'object' } },
  { names: ['environment', 'env', 'envi'], keys: null },
  { names: ['get_trace_mask', 'gtmk'], keys: { tracemask: 'number' } },
  { names: ['hash'], keys: { digests: 'array' } },
  { names: ['initial_configuration', 'icfg'], keys: { initial_configuration: 'string|null' } },
  { names: ['is_read_only', 'isro'], keys: { read_only: 'boolean' } },
  { names: ['last_snapshot', 'lsnp'], keys: { zxid: 'string', timestamp: 'number' } },
  { names: ['leader', 'lead'], keys: {}, error: 'server is not initialized' },
  { names: ['monitor', 'mntr'], keys: null },
  { names: ['observer_connection_stat_reset', 'orst'], keys: {} },
  { names: ['observers', 'obsr'], keys: { synced_observers: 'number', observers: 'array' } },
  { names: ['ruok'], keys: {} },
  { names: ['server_stats', 'srvr'], keys: SRVR },
  { names: ['set_trace_mask', 'stmk'], keys: {}, error: 'setTraceMask requires long traceMask argument' },
  { names: ['stat_reset', 'srst'], keys: {} },
  { names: ['stats', 'stat'], keys: { ...SRVR, connections: 'array', secure_connections: 'array' } },
  { names: ['system_properties', 'sysp'], keys: null },
  { names: ['voting_view'], keys: { current_config: 'object' } },
  { names: ['watch_summary', 'wchs'], keys: { num_connections: 'number', num_paths: 'number', num_total_watches: 'number' } },
  { names: ['watches', 'wchc'], keys: { session_id_to_watched_paths: 'object' } },
  { names: ['watches_by_path', 'wchp'], keys: { path_to_session_ids: 'object' } },
  { names: ['zabstate'], keys: { voting: 'boolean', zabstate: 'string' } },
];

function typeOf(v: unknown): T {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as T;
}

function checkShape(obj: Record<string, unknown>, keys: Record<string, T>): void {
  expect(Object.keys(obj)).toEqual(Object.keys(keys));
  for (const [k, t] of Object.entries(keys)) {
    if (t === 'string|null') expect(['string', 'null']).toContain(typeOf(obj[k]));
    else expect(typeOf(obj[k]), k).toBe(t);
  }
}

describe('AdminServer and /metrics', () => {
  let s: RunningServer;
  let ctx: FourLetterContext;
  let admin: { port: number; close(): Promise<void> };
  let metrics: { port: number; close(): Promise<void> };
  let client: RawClient;
  const base = (): string => `http://127.0.0.1:${admin.port}`;

  beforeAll(async () => {
    s = await startTestServer();
    ctx = { zk: s.zk, config: s.config, mode: () => 'standalone', traceMask: { value: 0n } };
    admin = await startAdminServer(ctx, { address: '127.0.0.1', port: 0, commandURL: '/commands' }, logger);
    metrics = await startMetricsServer(ctx, { host: '127.0.0.1', port: 0 }, logger);
    client = await RawClient.connect(s.port);
    const create = (path: string, flags: number) => (w: JuteWriter) =>
      writeCreateRequest(w, { path, data: Buffer.from('x'), acl: OPEN_ACL_UNSAFE, flags, ttl: -1 }, false);
    expect(await client.request(OpCode.create, create('/a', 0))).toBe(0);
    expect(await client.request(OpCode.create, create('/a/eph', 1))).toBe(0);
    expect(await client.request(OpCode.getData, (w) => w.writeString('/a').writeBool(true))).toBe(0);
    expect(await client.request(OpCode.exists, (w) => w.writeString('/nope').writeBool(true))).not.toBe(0);
    expect(await client.request(OpCode.getChildren, (w) => w.writeString('/a').writeBool(true))).toBe(0);
  });

  afterAll(async () => {
    client?.close();
    await admin?.close();
    await metrics?.close();
    await s?.stop();
  });

  it('GET /commands lists every primary name as links, as JettyAdminServer does', async () => {
    const r = await fetch(`${base()}/commands`);
    expect(r.status).toBe(200);
    const body = await r.text();
    const names = COMMANDS.map((c) => c.names[0]).sort();
    expect(primaryCommandNames()).toEqual(names);
    expect(body).toBe(names.map((n) => `<a href="/commands/${n}">${n}</a>\n<br/>\n`).join(''));
    expect(await (await fetch(`${base()}/commands/`)).text()).toBe(body);
  });

  for (const c of COMMANDS) {
    for (const name of c.names) {
      it(`GET /commands/${name}`, async () => {
        const r = await fetch(`${base()}/commands/${name}`);
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toBe('application/json');
        const text = await r.text();
        // Jackson's pretty printer: `"key" : value`, two-space indent, no trailing newline
        expect(text.startsWith('{\n  "')).toBe(true);
        expect(text.endsWith('\n}')).toBe(true);
        expect(text).not.toMatch(/"[a-z_.]+": /);
        const obj = JSON.parse(text) as Record<string, unknown>;
        expect(obj.command).toBe(c.names[0]);
        if (c.error) {
          // a command's own failure: {"error": …, "command": …} (3.8 puts "error" first)
          expect(Object.keys(obj)).toEqual(['error', 'command']);
          expect(obj.error).toBe(c.error);
          return;
        }
        expect(obj.error).toBeNull();
        const keys = Object.keys(obj);
        expect(keys.slice(-2)).toEqual(['command', 'error']);
        const data = Object.fromEntries(Object.entries(obj).slice(0, -2));
        if (c.keys) checkShape(data, c.keys);
      });
    }
  }

  it('connections / stats: connection info objects with exact 64-bit session ids', async () => {
    const text = await (await fetch(`${base()}/commands/cons`)).text();
    const obj = JSON.parse(text) as { connections: Record<string, unknown>[] };
    expect(obj.connections.length).toBe(1);
    checkShape(obj.connections[0], CONN_FULL);
    expect(text).toContain(`"session_id" : ${BigInt.asIntN(64, client.sessionId)}`);
    expect(obj.connections[0].last_operation).toMatch(/^[A-Z]+$/);
    const stat = JSON.parse(await (await fetch(`${base()}/commands/stat`)).text()) as {
      connections: Record<string, unknown>[];
      server_stats: Record<string, unknown>;
      client_response: Record<string, unknown>;
    };
    checkShape(stat.connections[0], CONN_BRIEF);
    checkShape(stat.server_stats, SERVER_STATS);
    checkShape(stat.server_stats.client_response_stats as Record<string, unknown>, BUFFER_STATS);
    checkShape(stat.client_response, BUFFER_STATS);
    expect(stat.server_stats.server_state).toBe('standalone');
    // avg_latency is a Java double: always printed with a decimal point
    expect(await (await fetch(`${base()}/commands/srvr`)).text()).toMatch(/"avg_latency" : \d+\.\d+,/);
  });

  it('dump, watches, watches_by_path, watch_summary reflect sessions, ephemerals and data watches', async () => {
    const sid = BigInt.asIntN(64, client.sessionId).toString();
    const dump = await (await fetch(`${base()}/commands/dump`)).text();
    expect(dump).toMatch(new RegExp(`"expiry_time_to_session_ids" : \\{\\n    "\\d+" : \\[ ${sid} \\]\\n  \\}`));
    expect(dump).toContain(`"session_id_to_ephemeral_paths" : {\n    "${sid}" : [ "/a/eph" ]\n  }`);
    const wchc = await (await fetch(`${base()}/commands/wchc`)).text();
    expect(wchc).toContain(`"session_id_to_watched_paths" : {\n    "${sid}" : [ "/a", "/nope" ]\n  }`);
    const wchp = await (await fetch(`${base()}/commands/wchp`)).text();
    expect(wchp).toContain(`"path_to_session_ids" : {\n    "/a" : [ ${sid} ],\n    "/nope" : [ ${sid} ]\n  }`);
    const wchs = JSON.parse(await (await fetch(`${base()}/commands/wchs`)).text());
    expect(wchs).toMatchObject({ num_connections: 1, num_paths: 2, num_total_watches: 2 });
  });

  it('monitor: mntr keys without zk_, numbers as numbers', async () => {
    const text = await (await fetch(`${base()}/commands/monitor`)).text();
    const m = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(m).slice(0, 2)).toEqual(['version', 'server_state']);
    expect(m.server_state).toBe('standalone');
    for (const k of [
      'avg_latency', 'max_latency', 'min_latency', 'packets_received', 'packets_sent', 'num_alive_connections',
      'outstanding_requests', 'znode_count', 'watch_count', 'ephemerals_count', 'approximate_data_size',
      'open_file_descriptor_count', 'max_file_descriptor_count', 'uptime', 'global_sessions', 'local_sessions',
      'connection_drop_probability', 'auth_failed_count', 'quorum_size',
    ]) {
      expect(typeof m[k], k).toBe('number');
    }
    expect(Object.keys(m).some((k) => k.startsWith('zk_'))).toBe(false);
    expect(m.ephemerals_count).toBe(1);
    expect(m.watch_count).toBe(3);
    expect(m.num_alive_connections).toBe(1);
    expect(text).toMatch(/"connection_drop_probability" : 0\.0,/);
  });

  it('environment and system_properties need no server; values are strings', async () => {
    const env = JSON.parse(await (await fetch(`${base()}/commands/env`)).text()) as Record<string, unknown>;
    expect(Object.keys(env).slice(0, 3)).toEqual(['zookeeper.version', 'host.name', 'java.version']);
    for (const k of ['java.io.tmpdir', 'os.name', 'os.arch', 'os.version', 'user.name', 'user.home', 'user.dir', 'os.memory.free', 'os.memory.max', 'os.memory.total']) {
      expect(typeof env[k], k).toBe('string');
    }
    const sysp = JSON.parse(await (await fetch(`${base()}/commands/sysp`)).text()) as Record<string, unknown>;
    const keys = Object.keys(sysp).slice(0, -2);
    expect(keys).toEqual([...keys].sort());
    for (const k of keys) expect(typeof sysp[k]).toBe('string');
    expect(sysp['user.dir']).toBe(process.cwd());
    expect(Object.keys(sysp)).not.toContain('PATH');
  });

  it('set_trace_mask / get_trace_mask', async () => {
    const set = JSON.parse(await (await fetch(`${base()}/commands/stmk?traceMask=12`)).text());
    expect(set).toEqual({ tracemask: 12, command: 'set_trace_mask', error: null });
    expect(ctx.traceMask.value).toBe(12n);
    expect(JSON.parse(await (await fetch(`${base()}/commands/gtmk`)).text()).tracemask).toBe(12);
    expect(await (await fetch(`${base()}/commands/set_trace_mask?traceMask=abc`)).text()).toBe(
      '{\n  "error" : "setTraceMask requires long traceMask argument, got abc",\n  "command" : "set_trace_mask"\n}',
    );
    await fetch(`${base()}/commands/stmk?traceMask=0`);
  });

  it('last_snapshot reports a hex zxid and a timestamp in seconds', async () => {
    const l = JSON.parse(await (await fetch(`${base()}/commands/lsnp`)).text());
    expect(l.zxid).toMatch(/^[0-9a-f]+$/);
    expect(Math.abs(l.timestamp - Date.now() / 1000)).toBeLessThan(3600);
  });

  it('unknown command, other paths and methods', async () => {
    const r = await fetch(`${base()}/commands/xyz`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('{\n  "command" : "xyz",\n  "error" : "Unknown command: xyz"\n}');
    expect(JSON.parse(await (await fetch(`${base()}/commands/RUOK`)).text()).error).toBe('Unknown command: RUOK');
    expect(JSON.parse(await (await fetch(`${base()}/commands/ruok/x`)).text()).error).toBe('Unknown command: ruok/x');
    expect(JSON.parse(await (await fetch(`${base()}/commands/ruok?a=1&a=2`)).text())).toEqual({ command: 'ruok', error: null });
    expect(JSON.parse(await (await fetch(`${base()}/commands/stmk?__proto__=1&traceMask=0`)).text()).tracemask).toBe(0);
    expect((await fetch(`${base()}/commands/ruok`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base()}/other`)).status).toBe(404);
  });

  it('stat_reset and connection_stat_reset reset the counters', async () => {
    await fetch(`${base()}/commands/srst`);
    const srvr = JSON.parse(await (await fetch(`${base()}/commands/srvr`)).text());
    expect(srvr.server_stats.packets_received).toBe(0);
    const consNow = async (): Promise<Record<string, unknown>> => JSON.parse(await (await fetch(`${base()}/commands/cons`)).text()).connections[0];
    // ServerCnxn.resetStats: the counters and the last request's details (op, cxid, zxid, time, latency)
    const reset = { packets_received: 0, packets_sent: 0, last_operation: 'NA', last_cxid: -1, last_zxid: -1, last_response_time: 0, last_latency: 0, min_latency: 0, avg_latency: 0, max_latency: 0 };
    expect(await client.request(OpCode.exists, (w) => w.writeString('/a').writeBool(false))).toBe(0);
    expect(await consNow()).toMatchObject({ last_operation: 'EXIS' });
    await fetch(`${base()}/commands/crst`);
    expect(await consNow()).toMatchObject(reset);
    // the four-letter word resets the same
    expect(await client.request(OpCode.exists, (w) => w.writeString('/a').writeBool(false))).toBe(0);
    expect(await consNow()).not.toMatchObject(reset);
    const crst = await new Promise<string>((resolve) => {
      let t = '';
      const sock = net.connect(s.port, '127.0.0.1', () => sock.write('crst'));
      sock.on('data', (d) => (t += d));
      sock.on('close', () => resolve(t));
    });
    expect(crst).toBe('Connection stats reset.\n');
    expect(await consNow()).toMatchObject(reset);
  });

  it('/metrics: Prometheus text format with ZooKeeper metric names', async () => {
    const r = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    const lines = text.trimEnd().split('\n');
    const families = new Map<string, string>();
    let current = '';
    for (const line of lines) {
      let m: RegExpExecArray | null;
      if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
        current = m[1];
        continue;
      }
      if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|summary|untyped|histogram)$/.exec(line))) {
        expect(m[1]).toBe(current);
        families.set(m[1], m[2]);
        continue;
      }
      m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
      expect(m, line).not.toBeNull();
      expect(m![1].startsWith(current)).toBe(true);
      expect(Number.isNaN(Number(m![3].replace('+Inf', 'Infinity').replace('-Inf', '-Infinity'))) && m![3] !== 'NaN').toBe(false);
    }
    for (const k of [
      'znode_count', 'watch_count', 'num_alive_connections', 'packets_received', 'packets_sent', 'avg_latency',
      'max_latency', 'min_latency', 'outstanding_requests', 'ephemerals_count', 'approximate_data_size',
      'global_sessions', 'uptime', 'open_file_descriptor_count', 'quorum_size',
    ]) {
      expect(families.get(k), k).toBe('gauge');
    }
    expect(families.get('process_cpu_seconds_total')).toBe('counter');
    // ServerMetrics (ServerMetrics.java): counters stay counters, AvgMinMax(Percentile)Counters are
    // summaries (PrometheusMetricsProvider: quantiles 0.5/0.9/0.99 for the ADVANCED ones only)
    for (const k of ['looking_count', 'diff_count', 'snap_count', 'commit_count', 'bytes_received_count', 'connection_request_count', 'unrecoverable_error_count']) {
      expect(families.get(k), k).toBe('counter');
    }
    for (const k of ['readlatency', 'updatelatency', 'fsynctime', 'snapshottime', 'dbinittime', 'election_time', 'follower_sync_time']) {
      expect(families.get(k), k).toBe('summary');
    }
    expect(text).toMatch(/^readlatency\{quantile="0\.5",\} \S+$/m);
    expect(text).toMatch(/^readlatency\{quantile="0\.99",\} \S+$/m);
    expect(Number(/^readlatency_count (\S+)$/m.exec(text)![1])).toBeGreaterThan(0);
    expect(text).not.toMatch(/^fsynctime\{quantile/m); // BASIC: count and sum only
    expect(text).toMatch(/^fsynctime_sum \S+$/m);
    expect(Number(/^bytes_received_count (\S+)$/m.exec(text)![1])).toBeGreaterThan(0);
    expect(families.has('avg_readlatency')).toBe(false);
    expect([...families.keys()].some((k) => k.startsWith('zk_'))).toBe(false);
    expect(families.has('version')).toBe(false);
    expect(text).toContain('# HELP znode_count znode_count\n# TYPE znode_count gauge\n');
    const zn = /^znode_count (\S+)$/m.exec(text)![1];
    expect(zn).toMatch(/^\d+\.0$/);
    expect(Number(zn)).toBe(s.zk.tree.nodeCount + 1);
    expect(Number(/^ephemerals_count (\S+)$/m.exec(text)![1])).toBe(1);
    const only = await (await fetch(`http://127.0.0.1:${metrics.port}/metrics?name[]=znode_count&name[]=watch_count`)).text();
    expect(only.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(' ')[0])).toEqual(['znode_count', 'watch_count']);
    expect((await fetch(`http://127.0.0.1:${metrics.port}/other`)).status).toBe(404);
  });
});

describe('AdminServer without a running server', () => {
  it('server-required commands answer "not currently serving"; the others still work', async () => {
    const ctx: FourLetterContext = { zk: null, config: testConfig(), mode: () => 'standalone', traceMask: { value: 5n } };
    const admin = await startAdminServer(ctx, { address: '127.0.0.1', port: 0, commandURL: '/cmds/' }, logger);
    try {
      const get = async (n: string) => (await fetch(`http://127.0.0.1:${admin.port}/cmds/${n}`)).text();
      expect(await get('lead')).toBe(`{\n  "command" : "lead",\n  "error" : "${NOT_SERVING}"\n}`);
      for (const n of ['ruok', 'conf', 'cons', 'dirs', 'dump', 'srvr', 'stat', 'wchs', 'isro', 'lsnp', 'icfg', 'hash', 'voting_view']) {
        expect(JSON.parse(await get(n)).error, n).toBe(NOT_SERVING);
      }
      expect(JSON.parse(await get('gtmk'))).toEqual({ tracemask: 5, command: 'get_trace_mask', error: null });
      expect(JSON.parse(await get('zabstate'))).toEqual({ voting: false, zabstate: '', command: 'zabstate', error: null });
      expect(JSON.parse(await get('envi')).error).toBeNull();
      expect(JSON.parse(await get('sysp')).error).toBeNull();
      expect(JSON.parse(await get('mntr')).server_state).toBe('standalone');
      expect(await (await fetch(`http://127.0.0.1:${admin.port}/cmds`)).text()).toContain('<a href="/cmds/ruok">ruok</a>\n<br/>\n');
    } finally {
      await admin.close();
    }
  });

  it('a port in use is reported', async () => {
    const ctx: FourLetterContext = { zk: null, config: testConfig(), mode: () => 'standalone', traceMask: { value: 0n } };
    const a = await startAdminServer(ctx, { address: '127.0.0.1', port: 0, commandURL: '/commands' }, logger);
    try {
      await expect(startAdminServer(ctx, { address: '127.0.0.1', port: a.port, commandURL: '/commands' }, logger)).rejects.toThrow(
        /Problem starting AdminServer/,
      );
      await expect(startMetricsServer(ctx, { host: '127.0.0.1', port: a.port }, logger)).rejects.toThrow(/metrics/);
    } finally {
      await a.close();
    }
  });
});

describe('quorum-mode commands (shapes recorded from a one-server 3.8.0 ensemble)', () => {
  const config = testConfig({
    myid: 1,
    clientPort: 2181,
    clientPortAddress: '127.0.0.1',
    servers: new Map([
      [1, { id: 1, host: '127.0.0.1', quorumPort: 2888, electionPort: 3888, type: 'participant', clientHost: '127.0.0.1', clientPort: 2181, raw: '' }],
      [2, { id: 2, host: '127.0.0.2', quorumPort: 2888, electionPort: 3888, type: 'participant', raw: '' }],
      [3, { id: 3, host: '127.0.0.3', quorumPort: 2888, electionPort: 3888, type: 'observer', raw: '' }],
    ]),
  });
  // a "running" server object is only needed for the serverRequired check
  const fakeZk = { running: true, lastProcessedZxid: 0x100000002 } as unknown as FourLetterContext['zk'];
  const ctx: AdminContext = { zk: fakeZk, config, mode: () => 'leader', traceMask: { value: 0n } };

  it('leader', () => {
    expect(runAdminCommand('lead', ctx)).toEqual({ is_leader: true, leader_id: 1, leader_ip: '127.0.0.1', command: 'leader', error: null });
    const f: AdminContext = { ...ctx, mode: () => 'follower', leader: () => ({ id: 2, address: '127.0.0.2' }) };
    expect(runAdminCommand('leader', f)).toEqual({ is_leader: false, leader_id: 2, leader_ip: '127.0.0.2', command: 'leader', error: null });
  });

  it('voting_view lists the voting members', () => {
    expect(runAdminCommand('voting_view', ctx)).toEqual({
      current_config: {
        '1': {
          server_addresses: ['127.0.0.1:2888'],
          election_addresses: ['127.0.0.1:3888'],
          client_address: '127.0.0.1:2181',
          learner_type: 'participant',
        },
        '2': { server_addresses: ['127.0.0.2:2888'], election_addresses: ['127.0.0.2:3888'], client_address: null, learner_type: 'participant' },
      },
      command: 'voting_view',
      error: null,
    });
  });

  it('zabstate', () => {
    const z = runAdminCommand('zabstate', ctx);
    expect(Object.keys(z)).toEqual([
      'myid', 'is_leader', 'quorum_address', 'election_address', 'client_address', 'voting', 'last_zxid', 'zab_epoch',
      'zab_counter', 'zabstate', 'command', 'error',
    ]);
    expect(z).toMatchObject({ myid: 1, is_leader: true, voting: true, last_zxid: '0x100000002', zab_epoch: 1, zab_counter: 2, zabstate: 'broadcast' });
    expect(Object.keys(z.quorum_address as object)).toEqual([
      'empty', 'all_addresses', 'all_reachable_addresses', 'one', 'reachable_address', 'wildcard_addresses', 'all_ports',
      'all_host_strings', 'all_reachable_addresses_or_all', 'reachable_or_one',
    ]);
    expect((z.election_address as { one: string }).one).toBe('127.0.0.1:3888');
  });
});

describe('Jackson-style JSON', () => {
  it('matches the layout of a real 3.8.0 answer', () => {
    const v = {
      connections: [{ remote_socket_address: '127.0.0.1:41488', session_id: 72057684160806912n }],
      secure_connections: [],
      current_config: {},
      avg: new JavaDouble(0),
      command: 'connections',
      error: null,
    };
    expect(toJacksonJson(v)).toBe(
      '{\n  "connections" : [ {\n    "remote_socket_address" : "127.0.0.1:41488",\n    "session_id" : 72057684160806912\n  } ],\n' +
        '  "secure_connections" : [ ],\n  "current_config" : { },\n  "avg" : 0.0,\n  "command" : "connections",\n  "error" : null\n}',
    );
    expect(toJacksonJson({ a: ['/a', '/b'], n: 2.6667 })).toBe('{\n  "a" : [ "/a", "/b" ],\n  "n" : 2.6667\n}');
  });

  it('prints doubles as Java does', () => {
    expect(javaDoubleString(0)).toBe('0.0');
    expect(javaDoubleString(7)).toBe('7.0');
    expect(javaDoubleString(2.6667)).toBe('2.6667');
    expect(javaDoubleString(1e7)).toBe('1.0E7');
    expect(javaDoubleString(123456789)).toBe('1.23456789E8');
    expect(javaDoubleString(0.0001)).toBe('1.0E-4');
  });
});
