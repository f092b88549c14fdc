// zoo.cfg loader: java.util.Properties syntax, ZooKeeper 3.8's keys and defaults, and errors that
// name the file, the line and the key (docs/config.md).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, QuorumServerSpec, ServerConfig } from './types';

export interface PropLine {
  key: string;
  value: string;
  line: number;
}

/**
 * Parse Java-properties text: `k=v`, `k: v`, `k v`; `#`/`!` comment lines; `\` continuation.
 * A trailing ` # comment` after a value is dropped (the seed tutorials write `admin.enableServer=false # ...`).
 */
export function parseProperties(text: string): PropLine[] {
  const out: PropLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let l = lines[i].replace(/^\s+/, '');
    if (l === '' || l.startsWith('#') || l.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(l) && i + 1 < lines.length) {
      l = l.slice(0, -1) + lines[++i].replace(/^\s+/, '');
    }
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(l) ?? /^((?:\\.|[^=:\s\\])+)$/.exec(l);
    if (!m) continue;
    const key = m[1].replace(/\\(.)/g, '$1');
    let value = (m[2] ?? '').replace(/\s+#.*$/, '').trim();
    value = value.replace(/\\(.)/g, '$1');
    out.push({ key, value, line: lineNo });
  }
  return out;
}

/** zkServer.sh's config lookup: no argument → conf/zoo.cfg; a bare name not found here → conf/NAME. */
export function resolveConfigPath(arg: string | undefined, confDir: string): string {
  if (!arg) return path.join(confDir, 'zoo.cfg');
  if (fs.existsSync(arg)) return path.resolve(arg);
  if (!arg.includes('/')) return path.join(confDir, arg);
  return path.resolve(arg);
}

/** Keys handled here. Anything else is accepted (ZooKeeper turns it into a system property) and reported as ignored. */
const IMPLEMENTED = new Set([
  'tickTime', 'initLimit', 'syncLimit', 'dataDir', 'dataLogDir', 'clientPort', 'clientPortAddress', 'maxClientCnxns',
  'minSessionTimeout', 'maxSessionTimeout', 'clientPortListenBacklog', 'electionAlg', 'quorumListenOnAllIPs', 'peerType',
  'standaloneEnabled', 'reconfigEnabled', 'autopurge.snapRetainCount', 'autopurge.purgeInterval',
  '4lw.commands.whitelist', 'admin.enableServer', 'admin.serverAddress', 'admin.serverPort', 'admin.commandURL',
  'admin.idleTimeout', 'snapCount', 'preAllocSize', 'forceSync', 'skipACL', 'DigestAuthenticationProvider.superDigest',
  'extendedTypesEnabled', 'snapshot.compression.method', 'globalOutstandingLimit', 'znode.container.checkIntervalMs',
  'znode.container.maxPerMinute', 'jute.maxbuffer', 'metricsProvider.className', 'metricsProvider.httpPort',
  'metricsProvider.httpHost', 'syncEnabled', 'connectToLearnerMasterLimit',
]);

interface Entry {
  value: string;
  line: number;
  /** '' for the config file, else where it came from (JVMFLAGS) */
  source: string;
}

/** `-Dkey=value` flags, as JVMFLAGS/SERVER_JVMFLAGS carry them. */
export function parseJvmFlags(flags: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of flags.matchAll(/-D([^=\s]+)=("[^"]*"|'[^']*'|\S*)/g)) {
    out.set(m[1], m[2].replace(/^["']|["']$/g, ''));
  }
  return out;
}

export function loadConfig(file: string, opts: { env?: NodeJS.ProcessEnv; jvmFlags?: string } = {}): ServerConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ConfigError(file, 0, '', `cannot read config file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const entries = new Map<string, Entry>();
  for (const p of parseProperties(text)) {
    const key = p.key.startsWith('zookeeper.') ? p.key.substring('zookeeper.'.length) : p.key;
    entries.set(key, { value: p.value, line: p.line, source: '' });
  }
  const env = opts.env ?? process.env;
  const flags = parseJvmFlags(opts.jvmFlags ?? `${env.JVMFLAGS ?? ''} ${env.SERVER_JVMFLAGS ?? ''}`);
  for (const [k, v] of flags) {
    // system properties: zookeeper.x, and the JVM-only znode.container.* / jute.maxbuffer
    if (k.startsWith('zookeeper.')) {
      const key = k.substring('zookeeper.'.length);
      if (!entries.has(key)) entries.set(key, { value: v, line: 0, source: 'JVMFLAGS' });
    } else if (k.startsWith('znode.container.') || k === 'jute.maxbuffer' || k === 'readonlymode.enabled') {
      entries.set(k, { value: v, line: 0, source: 'JVMFLAGS' });
    }
  }

  const err = (key: string, detail: string): ConfigError => {
    const e = entries.get(key);
    return new ConfigError(e?.source ? `${file} (${e.source})` : file, e?.line ?? 0, key, detail);
  };
  const str = (key: string): string | undefined => entries.get(key)?.value;
  const int = (key: string, def: number, min = -Infinity, max = Infinity, what = 'an integer'): number => {
    const v = str(key);
    if (v === undefined || v === '') return def;
    if (!/^[+-]?\d+$/.test(v)) throw err(key, `expected ${what}, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw err(key, `expected ${what}${Number.isFinite(min) ? ` from ${min}` : ''}${Number.isFinite(max) ? ` to ${max}` : ''}, got "${v}"`);
    return n;
  };
  const port = (key: string): number | undefined => {
    if (str(key) === undefined || str(key) === '') return undefined;
    return int(key, 0, 1, 65535, 'an integer port 1-65535');
  };
  const bool = (key: string, def: boolean): boolean => {
    const v = str(key);
    if (v === undefined || v === '') return def;
    if (/^true$/i.test(v)) return true;
    if (/^false$/i.test(v)) return false;
    throw err(key, `Invalid option ${v} for ${key}. Choose 'true' or 'false.'`);
  };
  const yesNo = (key: string, def: boolean): boolean => {
    const v = str(key);
    if (v === undefined || v === '') return def;
    if (/^(yes|true)$/i.test(v)) return true;
    if (/^(no|false)$/i.test(v)) return false;
    throw err(key, `expected yes or no, got "${v}"`);
  };

  const dataDirRaw = str('dataDir');
  if (!dataDirRaw) throw new ConfigError(file, 0, 'dataDir', 'dataDir is not set (expected dataDir=/path/to/data)');
  const dataDir = path.resolve(dataDirRaw);
  const dataLogDir = str('dataLogDir') ? path.resolve(str('dataLogDir')!) : dataDir;

  const tickTime = int('tickTime', 3000, 1, Infinity, 'a positive number of milliseconds');
  const clientPort = port('clientPort');
  const clientPortAddress = str('clientPortAddress');
  if (clientPortAddress && clientPort === undefined && ![...entries.keys()].some((k) => k.startsWith('server.'))) {
    throw err('clientPortAddress', 'clientPortAddress is set but clientPort is not set');
  }
  let minSessionTimeout = int('minSessionTimeout', -1);
  let maxSessionTimeout = int('maxSessionTimeout', -1);
  if (minSessionTimeout < 0) minSessionTimeout = 2 * tickTime;
  if (maxSessionTimeout < 0) maxSessionTimeout = 20 * tickTime;
  if (minSessionTimeout > maxSessionTimeout) {
    throw err('minSessionTimeout', 'minSessionTimeout must not be larger than maxSessionTimeout');
  }
  const electionAlg = int('electionAlg', 3);
  if (electionAlg !== 3) throw err('electionAlg', 'Invalid electionAlg value. Only 3 is supported.');
  const peerTypeRaw = (str('peerType') ?? 'participant').toLowerCase();
  if (peerTypeRaw !== 'participant' && peerTypeRaw !== 'observer') throw err('peerType', `Unrecognised peertype: ${str('peerType')}`);

  let retain = int('autopurge.snapRetainCount', 3, 0);
  if (retain < 3) retain = 3;
  const purgeInterval = int('autopurge.purgeInterval', 0);

  const wlRaw = str('4lw.commands.whitelist');
  let fourLetterWhitelist: Set<string> | '*' = new Set(['srvr']);
  if (wlRaw !== undefined) {
    const words = wlRaw.split(',').map((w) => w.trim().toLowerCase()).filter(Boolean);
    fourLetterWhitelist = words.includes('*') ? '*' : new Set(words);
  }

  const compression = (str('snapshot.compression.method') ?? '').toLowerCase();
  const snapshotCompressionMethod = compression === 'gz' || compression === 'snappy' ? compression : '';

  const extendedTypesEnabled = /^true$/i.test(str('extendedTypesEnabled') ?? 'false');

  // ---- quorum
  const servers = new Map<number, QuorumServerSpec>();
  for (const [key, e] of entries) {
    if (!key.startsWith('server.')) continue;
    const idText = key.substring('server.'.length);
    if (!/^\d+$/.test(idText)) throw err(key, `server id must be a number, got "${idText}"`);
    const id = Number(idText);
    servers.set(id, parseServerLine(id, e.value, (d) => err(key, d)));
  }
  const standaloneEnabled = bool('standaloneEnabled', true);
  let myid: number | undefined;
  if (servers.size > 0) {
    const myidFile = path.join(dataDir, 'myid');
    let t: string;
    try {
      t = fs.readFileSync(myidFile, 'utf8').split(/\r?\n/)[0].trim();
    } catch {
      throw new ConfigError(myidFile, 0, 'myid', `myid file is missing (expected a number 1-${extendedTypesEnabled ? 254 : 255}, e.g. echo 1 > ${myidFile})`);
    }
    if (!/^\d+$/.test(t)) throw new ConfigError(myidFile, 1, 'myid', `serverid ${t} is not a number`);
    myid = Number(t);
    const maxId = extendedTypesEnabled ? 254 : 255;
    if (myid < 1 || myid > maxId) {
      throw new ConfigError(
        myidFile,
        1,
        'myid',
        extendedTypesEnabled && myid === 255
          ? 'extendedTypesEnabled is true but Server ID is too large. Cannot be larger than 254'
          : `myid ${myid} out of range: expected 1-${maxId}`,
      );
    }
    const participants = [...servers.values()].filter((s) => s.type === 'participant').length;
    const distributed = !standaloneEnabled || participants >= 2;
    if (distributed) {
      if (!servers.has(myid)) throw new ConfigError(myidFile, 1, 'myid', `My id ${myid} not in the peer list (server.N lines of ${file})`);
      if (str('initLimit') === undefined) throw new ConfigError(file, 0, 'initLimit', 'initLimit is not set (expected initLimit=<ticks>)');
      if (str('syncLimit') === undefined) throw new ConfigError(file, 0, 'syncLimit', 'syncLimit is not set (expected syncLimit=<ticks>)');
      const used = new Map<string, string>();
      for (const [id, s] of servers) {
        for (const [p, what] of [[s.quorumPort, 'quorum'], [s.electionPort, 'election']] as const) {
          const k = `${s.host}:${p}`;
          if (used.has(k)) throw err(`server.${id}`, `port ${p} on ${s.host} is used twice (${used.get(k)} and server.${id} ${what} port)`);
          used.set(k, `server.${id} ${what} port`);
        }
      }
    }
  }
  const self = myid !== undefined ? servers.get(myid) : undefined;
  let finalClientPort = clientPort;
  let finalClientAddress = clientPortAddress;
  if (self?.clientPort !== undefined) {
    finalClientPort = self.clientPort;
    if (self.clientHost && self.clientHost !== '0.0.0.0') finalClientAddress = self.clientHost;
  }

  const raw = new Map<string, string>();
  const ignoredKeys: string[] = [];
  for (const [k, e] of entries) {
    raw.set(k, e.value);
    if (!IMPLEMENTED.has(k) && !k.startsWith('server.')) ignoredKeys.push(k);
  }

  return {
    file: abs,
    dataDir,
    dataLogDir,
    tickTime,
    initLimit: int('initLimit', 10, 1),
    syncLimit: int('syncLimit', 5, 1),
    clientPort: finalClientPort ?? 0,
    clientPortAddress: finalClientAddress ?? '0.0.0.0',
    secureClientPort: port('secureClientPort'),
    maxClientCnxns: int('maxClientCnxns', 60, 0),
    minSessionTimeout,
    maxSessionTimeout,
    clientPortListenBacklog: int('clientPortListenBacklog', -1),
    fourLetterWhitelist,
    adminEnableServer: bool('admin.enableServer', true),
    adminServerAddress: str('admin.serverAddress') ?? '0.0.0.0',
    adminServerPort: str('admin.serverPort') ? int('admin.serverPort', 8080, 0, 65535, 'an integer port 0-65535') : 8080,
    adminCommandURL: str('admin.commandURL') ?? '/commands',
    extendedTypesEnabled,
    containerCheckIntervalMs: int('znode.container.checkIntervalMs', 60000, 1),
    containerMaxPerMinute: int('znode.container.maxPerMinute', 10000, 1),
    superDigest: str('DigestAuthenticationProvider.superDigest'),
    skipACL: yesNo('skipACL', false),
    snapCount: Math.max(2, int('snapCount', 100000)),
    forceSync: yesNo('forceSync', true),
    preAllocSize: int('preAllocSize', 65536, 1) * 1024,
    snapshotCompressionMethod,
    autopurgeSnapRetainCount: retain,
    autopurgePurgeInterval: purgeInterval,
    juteMaxBuffer: int('jute.maxbuffer', 0xfffff, 1024),
    globalOutstandingLimit: int('globalOutstandingLimit', 1000, 1),
    servers,
    myid,
    peerType: self?.type ?? (peerTypeRaw as 'participant' | 'observer'),
    standaloneEnabled,
    quorumListenOnAllIPs: bool('quorumListenOnAllIPs', false),
    reconfigEnabled: bool('reconfigEnabled', false),
    electionAlg,
    metricsProviderClassName: str('metricsProvider.className'),
    metricsProviderHttpPort: str('metricsProvider.httpPort') ? int('metricsProvider.httpPort', 7000, 0, 65535, 'an integer port 0-65535') : 7000,
    metricsProviderHttpHost: str('metricsProvider.httpHost') ?? '0.0.0.0',
    raw,
    ignoredKeys,
  };
}

const FORM =
  'expected host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]';

function splitHostPort(s: string): string[] {
  // [ipv6]:a:b or host:a:b
  const m = /^\[([^\]]+)\](.*)$/.exec(s);
  if (m) return [m[1], ...m[2].split(':').slice(1)];
  return s.split(':');
}

export function parseServerLine(id: number, value: string, fail: (detail: string) => ConfigError): QuorumServerSpec {
  const [serverPart, clientPart, ...rest] = value.split(';');
  if (rest.length > 0 || !serverPart) throw fail(`"${value}" ${FORM}`);
  if (serverPart.includes('|')) throw fail(`Multiple address feature is disabled, but multiple addresses were specified for sid ${id}`);
  const parts = splitHostPort(serverPart.trim());
  if (parts.length < 3 || parts.length > 4 || !parts[0]) throw fail(`"${value}" ${FORM}`);
  const num = (p: string, what: string): number => {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw fail(`${what} "${p}" is not a port 1-65535 (${FORM})`);
    return Number(p);
  };
  const quorumPort = num(parts[1], 'quorum port');
  const electionPort = num(parts[2], 'election port');
  if (quorumPort === electionPort) throw fail(`Client and election port must be different! Please update the configuration file on server.${id}`);
  let type: 'participant' | 'observer' = 'participant';
  if (parts.length === 4) {
    const t = parts[3].toLowerCase();
    if (t !== 'participant' && t !== 'observer') throw fail(`unknown server type "${parts[3]}" (${FORM})`);
    type = t;
  }
  const spec: QuorumServerSpec = { id, host: parts[0], quorumPort, electionPort, type, raw: value };
  if (clientPart !== undefined) {
    const c = clientPart.trim();
    const m = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d+)$/.exec(c);
    if (!m) throw fail(`client part "${c}" ${FORM}`);
    spec.clientHost = m[1] ?? m[2] ?? '0.0.0.0';
    spec.clientPort = num(m[3], 'client port');
  }
  return spec;
}
