// zoo.cfg loader: java.util.Properties syntax, ZooKeeper 3.8's keys and defaults, and errors that
// name the file, the line and the key (docs/configuration.md). The keys, their types, ranges and
// enum values: the key table in keys.ts; the generic checks below follow it, the cross-key rules
// (session timeouts, SASL flags, server.N/myid) are written out here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, QuorumServerSpec, ServerConfig } from './types';
import { INT_MAX, INT_MIN, isQpcKey, specOf } from './keys';
import { SaslConfigError, SaslServerSetup } from '../security/sasl';
import { checkTls, clientTlsSettings, quorumTlsSettings, TlsConfigError, TlsSettings } from '../security/tls';
import { QuorumAuthError, QuorumSaslSettings, quorumSaslSettings } from '../security/quorumauth';
import { JaasError } from '../security/jaas';

export interface PropLine {
  key: string;
  value: string;
  /** 1-based line where the key starts */
  line: number;
}

export interface LoadOptions {
  /** environment for JVMFLAGS / SERVER_JVMFLAGS (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** `-Dk=v` flags; default `$JVMFLAGS $SERVER_JVMFLAGS` from env */
  jvmFlags?: string;
}

// ---------------------------------------------------------------- properties syntax

function unescape(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    return c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c === 'f' ? '\f' : c;
  });
}

/** Index of the first `#` that follows whitespace and is not escaped, or -1. */
function trailingCommentAt(v: string): number {
  for (let i = 1; i < v.length; i++) {
    if (v[i - 1] === '\\') {
      i++; // skip the escaped character
      continue;
    }
    if (v[i] === '#' && /\s/.test(v[i - 1])) return i;
  }
  return -1;
}

/**
 * Parse Java-properties text: `k=v`, `k: v`, `k v`; `#`/`!` comment lines; `\` escapes and line
 * continuation. Keys and values are trimmed (as QuorumPeerConfig does). Unlike java.util.Properties,
 * a trailing ` # comment` after a value is dropped (the seed tutorials write
 * `admin.enableServer=false # disable`); write `\#` to keep a `#` that follows a space.
 * Duplicates are all returned, in file order (the caller lets the last one win).
 */
export function parseProperties(text: string): PropLine[] {
  const out: PropLine[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let l = lines[i].replace(/^[ \t\f]+/, '');
    if (l === '' || l.startsWith('#') || l.startsWith('!')) continue;
    // an odd number of trailing backslashes continues the logical line
    while (/(?:^|[^\\])(?:\\\\)*\\$/.test(l)) {
      l = l.slice(0, -1);
      if (i + 1 >= lines.length) break;
      l += lines[++i].replace(/^[ \t\f]+/, '');
    }
    // the key ends at the first unescaped '=', ':' or whitespace
    let k = 0;
    while (k < l.length && !/[=:\s]/.test(l[k])) k += l[k] === '\\' ? 2 : 1;
    const rawKey = l.slice(0, Math.min(k, l.length));
    let v = k;
    while (v < l.length && /[ \t\f]/.test(l[v])) v++;
    if (v < l.length && (l[v] === '=' || l[v] === ':')) v++;
    let rawValue = l.slice(v);
    const c = trailingCommentAt(rawValue);
    if (c >= 0) rawValue = rawValue.slice(0, c);
    const key = unescape(rawKey).trim();
    if (key === '') continue;
    out.push({ key, value: unescape(rawValue.trim()).trim(), line: lineNo });
  }
  return out;
}

/**
 * zkServer.sh's config lookup: no argument → `<confDir>/zoo.cfg`; an argument naming an existing
 * path is used as is; a bare file name that does not exist relative to the working directory is
 * looked up in confDir; any other argument is returned (resolved) as is.
 */
export function resolveConfigPath(arg: string | undefined, confDir: string): string {
  if (arg === undefined || arg === '') return path.resolve(confDir, 'zoo.cfg');
  if (fs.existsSync(arg)) return path.resolve(arg);
  if (path.basename(arg) === arg) return path.resolve(confDir, arg);
  return path.resolve(arg);
}

/** `-Dkey=value` flags as JVMFLAGS/SERVER_JVMFLAGS carry them (quotes around the value are removed). */
export function parseJvmFlags(flags: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of flags.matchAll(/(?:^|\s)["']?-D([^=\s"']+)(?:=("[^"]*"|'[^']*'|[^\s"']*))?["']?/g)) {
    out.set(m[1], (m[2] ?? '').replace(/^(["'])(.*)\1$/, '$2'));
  }
  return out;
}

// ---------------------------------------------------------------- loader

interface Entry {
  value: string;
  line: number;
  /** '' for the config file, 'JVMFLAGS' for -D flags */
  source: string;
  /** a line of the dynamic config file (dynamicConfigFile): its path */
  dynamicFile?: string;
}

const SERVER_FORM = 'expected host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]';

export function loadConfig(file: string, opts: LoadOptions = {}): ServerConfig {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      file,
      0,
      '',
      code === 'ENOENT'
        ? `cannot read config file: ${abs} file is missing (expected a zoo.cfg with at least dataDir=...)`
        : `cannot read config file: ${code ?? String(e)}`,
    );
  }

  // -- collect: zoo.cfg (last duplicate wins), then -D flags for keys zoo.cfg does not set
  const entries = new Map<string, Entry>();
  for (const p of parseProperties(text)) {
    // `zookeeper.snapCount=…` is accepted as `snapCount=…`
    const key = p.key.startsWith('zookeeper.') && p.key.length > 'zookeeper.'.length ? p.key.slice('zookeeper.'.length) : p.key;
    entries.delete(key); // keep file order of the winning line
    entries.set(key, { value: p.value, line: p.line, source: '' });
  }
  const env = opts.env ?? process.env;
  const flags = parseJvmFlags(opts.jvmFlags ?? `${env.JVMFLAGS ?? ''} ${env.SERVER_JVMFLAGS ?? ''}`);
  for (const [k, v] of flags) {
    let key: string;
    if (k.startsWith('zookeeper.')) {
      key = k.slice('zookeeper.'.length);
      // QuorumPeerConfig keys are not system properties: -Dzookeeper.tickTime does nothing in ZooKeeper
      if (isQpcKey(key) || specOf(key)?.origin === 'jvm') continue;
      // logback's properties (zookeeper.log.dir, .file, .maxfilesize, .maxbackupindex, .threshold,
      // zookeeper.console.threshold, zookeeper.root.logger…): the logger's business (cli.ts), not the server's
      if (/^(log|tracelog|auditlog|console|root)\./.test(key)) continue;
    } else if (specOf(k)?.origin === 'jvm') {
      key = k;
    } else {
      continue; // -Dlog4j…, -Djava… and the like are not ours
    }
    if (!entries.has(key)) entries.set(key, { value: v, line: 0, source: 'JVMFLAGS' });
  }

  // -- dynamicConfigFile: the server.N / group.N / weight.N lines live there (QuorumPeerConfig.parse);
  // its version is the hex suffix of its name (zoo.cfg.dynamic.100000000 → 0x100000000), else 0
  let configVersion = 0;
  const dynEntry = entries.get('dynamicConfigFile');
  if (dynEntry && dynEntry.value !== '') {
    for (const [key, e] of entries) {
      if (/^(server|group|weight)\./.test(key)) {
        throw new ConfigError(file, e.line, key, `parameter: ${key} must be in a separate dynamic config file (dynamicConfigFile is set)`);
      }
    }
    const dynPath = path.resolve(path.dirname(abs), dynEntry.value);
    let dynText: string;
    try {
      dynText = fs.readFileSync(path.isAbsolute(dynEntry.value) ? dynEntry.value : fs.existsSync(dynEntry.value) ? dynEntry.value : dynPath, 'utf8');
    } catch (e) {
      throw new ConfigError(file, dynEntry.line, 'dynamicConfigFile', `cannot read the dynamic config file ${dynEntry.value}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    for (const p of parseProperties(dynText)) {
      if (p.key === 'version') throw new ConfigError(dynEntry.value, p.line, 'version', "dynamic file shouldn't have version inside (the version is the file name's suffix)");
      if (!/^(server|group|weight)\./.test(p.key)) throw new ConfigError(dynEntry.value, p.line, p.key, `Unrecognised parameter: ${p.key} (a dynamic config file holds only server.N, group.N and weight.N lines)`);
      entries.delete(p.key);
      entries.set(p.key, { value: p.value, line: p.line, source: '', dynamicFile: dynEntry.value });
    }
    const m = /\.dynamic\.([0-9a-fA-F]+)$/.exec(dynEntry.value);
    if (m) configVersion = parseInt(m[1], 16);
  }

  const where = (key: string): { f: string; line: number } => {
    const e = entries.get(key);
    if (e?.dynamicFile) return { f: e.dynamicFile, line: e.line };
    return { f: e?.source ? `${file} (${e.source})` : file, line: e?.line ?? 0 };
  };
  const err = (key: string, detail: string): ConfigError => {
    const w = where(key);
    return new ConfigError(w.f, w.line, key, detail);
  };
  const has = (key: string): boolean => entries.has(key) && entries.get(key)!.value !== '';
  const str = (key: string): string | undefined => (has(key) ? entries.get(key)!.value : undefined);

  // -- validate every known key's type, in file order
  const parsed = new Map<string, number | boolean>();
  for (const [key, e] of entries) {
    const spec = specOf(key);
    if (!spec || e.value === '') continue;
    const v = e.value;
    switch (spec.kind) {
      case 'int':
      case 'long': {
        const what = spec.min === undefined ? 'an integer' : spec.min === 0 ? 'an integer >= 0' : `an integer >= ${spec.min}`;
        if (!/^[+-]?\d+$/.test(v)) throw err(key, `expected ${what}, got "${v}"`);
        const n = Number(v);
        const [lo, hi] = spec.kind === 'int' ? [INT_MIN, INT_MAX] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
        if (n < lo || n > hi) throw err(key, `expected ${what} (${spec.kind === 'int' ? '32' : '64'}-bit), got "${v}"`);
        if (spec.min !== undefined && n < spec.min) throw err(key, `expected ${what}, got "${v}"`);
        parsed.set(key, n);
        break;
      }
      case 'port':
      case 'port0': {
        const n = /^\+?\d+$/.test(v) ? Number(v) : NaN;
        // 0 means "not set" for clientPort (3.8 treats clientPort == 0 as unset)
        if (!(n >= 1 && n <= 65535) && !(spec.kind === 'port0' && n === 0)) {
          throw err(key, `expected an integer port 1-65535, got "${v}"`);
        }
        parsed.set(key, n);
        break;
      }
      case 'double':
        if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) throw err(key, `expected a number, got "${v}"`);
        parsed.set(key, Number(v));
        break;
      case 'bool':
        if (/^true$/i.test(v)) parsed.set(key, true);
        else if (/^false$/i.test(v)) parsed.set(key, false);
        else throw err(key, `Invalid option ${v} for ${key}. Choose 'true' or 'false.'`);
        break;
      case 'yesno':
        if (/^yes$/i.test(v)) parsed.set(key, true);
        else if (/^no$/i.test(v)) parsed.set(key, false);
        else throw err(key, `expected yes or no, got "${v}"`);
        break;
      case 'enum': {
        const values = spec.values ?? [];
        if (!values.includes(v.toLowerCase())) {
          const shown = values.map((x) => (x === '' ? 'nothing' : x));
          const expected = shown.length > 1 ? `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}` : shown.join('');
          throw err(key, spec.badValue !== undefined ? spec.badValue.replace('{v}', v) : `expected ${expected}, got "${v}"`);
        }
        break;
      }
      case 'path':
      case 'host':
      case 'list':
      case 'string':
        break;
    }
  }
  const num = (key: string, def: number): number => (parsed.has(key) ? (parsed.get(key) as number) : def);
  const bool = (key: string, def: boolean): boolean => (parsed.has(key) ? (parsed.get(key) as boolean) : def);

  // -- basics
  const dataDirRaw = str('dataDir');
  if (dataDirRaw === undefined) throw new ConfigError(file, where('dataDir').line, 'dataDir', 'dataDir is not set (expected dataDir=/path/to/data)');
  const dataDir = path.resolve(dataDirRaw);
  const dataLogDir = str('dataLogDir') !== undefined ? path.resolve(str('dataLogDir')!) : dataDir;
  const tickTime = num('tickTime', 3000);

  const clientPort = num('clientPort', 0);
  if (str('clientPortAddress') !== undefined && clientPort === 0) {
    throw err('clientPortAddress', 'clientPortAddress is set but clientPort is not set (expected clientPort=<port> as well)');
  }
  if (str('secureClientPortAddress') !== undefined && num('secureClientPort', 0) === 0) {
    throw err('secureClientPortAddress', 'secureClientPortAddress is set but secureClientPort is not set (expected secureClientPort=<port> as well)');
  }

  const sessionTimeout = (key: string, def: number): number => {
    const n = num(key, -1);
    if (n === -1) return def;
    if (n < 0) throw err(key, `expected milliseconds >= 0, or -1 for the default, got "${str(key)}"`);
    return n;
  };
  const minSessionTimeout = sessionTimeout('minSessionTimeout', 2 * tickTime);
  const maxSessionTimeout = sessionTimeout('maxSessionTimeout', 20 * tickTime);
  if (minSessionTimeout > maxSessionTimeout) {
    throw err(
      has('minSessionTimeout') ? 'minSessionTimeout' : 'maxSessionTimeout',
      `minSessionTimeout must not be larger than maxSessionTimeout (${minSessionTimeout} > ${maxSessionTimeout})`,
    );
  }

  const electionAlg = num('electionAlg', 3);
  if (electionAlg !== 3) throw err('electionAlg', `Invalid electionAlg value. Only 3 is supported. (got "${str('electionAlg')}")`);
  // enum values were checked above, by the key table
  let peerType = (str('peerType')?.toLowerCase() ?? 'participant') as 'participant' | 'observer';

  // autopurge: a retain count below 3 is reset to 3 (ZooKeeper warns)
  const autopurgeSnapRetainCount = Math.max(3, num('autopurge.snapRetainCount', 3));
  const autopurgePurgeInterval = Math.max(0, num('autopurge.purgeInterval', 0));

  // 4lw whitelist; srvr is always enabled (zkServer.sh status), isro too with readonlymode.enabled
  let fourLetterWhitelist: Set<string> | '*' = new Set(['srvr']);
  const wl = str('4lw.commands.whitelist');
  if (wl !== undefined) {
    const words = wl.split(',').map((w) => w.trim().toLowerCase()).filter((w) => w !== '');
    if (words.includes('*')) fourLetterWhitelist = '*';
    else for (const w of words) fourLetterWhitelist.add(w);
  }
  if (fourLetterWhitelist !== '*' && bool('readonlymode.enabled', false)) fourLetterWhitelist.add('isro');

  const compression = (str('snapshot.compression.method') ?? '').toLowerCase();

  const list = (key: string): string[] | undefined => {
    const v = str(key);
    return v === undefined ? undefined : v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  };
  const auth = authSettings(entries, str, bool, err);
  if (auth.jaasConfigFile) {
    // read the JAAS file now, so that a bad one stops the start with its file and line
    try {
      new SaslServerSetup(auth);
    } catch (e) {
      if (e instanceof SaslConfigError) throw new ConfigError(e.file, e.line, '', e.detail);
      throw e;
    }
  }
  const superDigest = str('DigestAuthenticationProvider.superDigest');
  if (superDigest !== undefined && !/^[^:]+:.+$/.test(superDigest)) {
    throw err('DigestAuthenticationProvider.superDigest', `expected super:<base64 sha1 digest>, got "${superDigest}"`);
  }
  const adminCommandURL = str('admin.commandURL') ?? '/commands';

  // quorum SASL combinations that QuorumPeerConfig rejects
  const enableSasl = bool('quorum.auth.enableSasl', false);
  const serverSasl = bool('quorum.auth.serverRequireSasl', false);
  const learnerSasl = bool('quorum.auth.learnerRequireSasl', false);
  if (!enableSasl && serverSasl) throw err('quorum.auth.serverRequireSasl', 'quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl');
  if (!enableSasl && learnerSasl) throw err('quorum.auth.learnerRequireSasl', 'quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl');
  if (!learnerSasl && serverSasl) throw err('quorum.auth.serverRequireSasl', 'quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl');

  const extendedTypesEnabled = bool('extendedTypesEnabled', false);
  const standaloneEnabled = bool('standaloneEnabled', true);

  // -- server.N lines
  const servers = new Map<number, QuorumServerSpec>();
  const serverKey = new Map<number, string>();
  const multiAddress = flags.get('zookeeper.multiAddress.enabled') === 'true';
  for (const [key, e] of entries) {
    if (!key.startsWith('server.')) continue;
    const idText = key.slice('server.'.length);
    if (!/^\+?\d+$/.test(idText) || !Number.isSafeInteger(Number(idText))) {
      throw err(key, `server id must be an integer (expected server.<id>=...), got "${idText}"`);
    }
    const id = Number(idText);
    if (serverKey.has(id)) throw err(key, `server id ${id} is given twice (${serverKey.get(id)} and ${key})`);
    serverKey.set(id, key);
    servers.set(id, parseServerLine(id, e.value, (d) => err(key, d), multiAddress));
  }

  // -- group.N / weight.N: hierarchical quorums (QuorumHierarchical.parse)
  const groups = new Map<number, number[]>();
  const weights = new Map<number, number>();
  const groupOf = new Map<number, number>();
  const intPart = (key: string, text: string, what: string): number => {
    if (!/^\+?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) throw err(key, `${what} must be a non-negative integer, got "${text}"`);
    return Number(text);
  };
  for (const [key, e] of entries) {
    if (key.startsWith('group.')) {
      const gid = intPart(key, key.slice('group.'.length), 'the group id');
      const members = e.value.split(':').map((x) => intPart(key, x, 'a group member'));
      for (const sid of members) {
        if (groupOf.has(sid)) throw err(key, `Server ${sid} is in multiple groups (group.${groupOf.get(sid)} and group.${gid})`);
        groupOf.set(sid, gid);
      }
      groups.set(gid, members);
    } else if (key.startsWith('weight.')) {
      weights.set(intPart(key, key.slice('weight.'.length), 'the server id'), intPart(key, e.value, 'a weight'));
    }
  }
  if (groups.size > 0 || weights.size > 0) {
    for (const s of servers.values()) {
      if (s.type === 'participant' && !groupOf.has(s.id)) throw err(serverKey.get(s.id)!, `Server ${s.id} is not in a group (hierarchical quorums: every participant needs a group.N line)`);
    }
  }

  let myid: number | undefined;
  let distributed = false;
  if (servers.size > 0) {
    const all = [...servers.values()];
    const participants = all.filter((s) => s.type === 'participant').length;
    const observers = all.length - participants;
    const firstServer = [...serverKey.values()][0];
    if (participants === 0) {
      if (!standaloneEnabled) throw err(firstServer, 'standaloneEnabled = false then number of participants should be >0');
      if (observers > 0) throw err(firstServer, 'Observers w/o participants is an invalid configuration');
    } else if (participants === 1 && standaloneEnabled && observers > 0) {
      throw err(firstServer, 'Observers w/o quorum is an invalid configuration');
    }
    distributed = !standaloneEnabled || participants >= 2;

    // the same host:port may be bound by one server line only
    const used = new Map<string, string>();
    for (const [id, s] of servers) {
      const binds: [string, number, string][] = [
        [s.host, s.quorumPort, 'quorum'],
        [s.host, s.electionPort, 'election'],
      ];
      if (s.clientPort !== undefined) {
        const h = s.clientHost && s.clientHost !== '0.0.0.0' && s.clientHost !== '::' ? s.clientHost : s.host;
        binds.push([h, s.clientPort, 'client']);
      }
      for (const [h, p, what] of binds) {
        const k = `${h.toLowerCase()}:${p}`;
        if (used.has(k)) throw err(`server.${id}`, `port ${p} on ${h} is used twice (${used.get(k)} and server.${id} ${what} port); expected distinct ports per host`);
        used.set(k, `server.${id} ${what} port`);
      }
    }

    // myid: first line of dataDir/myid
    const myidFile = path.join(dataDir, 'myid');
    const maxId = extendedTypesEnabled ? 254 : 255;
    let t: string | undefined;
    try {
      t = fs.readFileSync(myidFile, 'utf8').split(/\r?\n/)[0].trim();
    } catch {
      t = undefined;
    }
    if (t === undefined) {
      if (distributed) {
        throw new ConfigError(myidFile, 0, 'myid', `myid file is missing (expected this server's id 1-${maxId} on its first line, e.g. echo 1 > ${myidFile})`);
      }
    } else {
      if (!/^\+?\d+$/.test(t)) throw new ConfigError(myidFile, 1, 'myid', `serverid ${t} is not a number (expected an integer 1-${maxId})`);
      myid = Number(t);
      if (extendedTypesEnabled && myid === 255) {
        throw new ConfigError(myidFile, 1, 'myid', 'extendedTypesEnabled is true but Server ID is too large. Cannot be larger than 254');
      }
      if (myid < 1 || myid > maxId) throw new ConfigError(myidFile, 1, 'myid', `myid ${t} out of range: expected an integer 1-${maxId}`);
    }

    if (distributed) {
      if (!has('initLimit')) throw new ConfigError(file, 0, 'initLimit', 'initLimit is not set (expected initLimit=<ticks> with server.N lines)');
      if (!has('syncLimit')) throw new ConfigError(file, 0, 'syncLimit', 'syncLimit is not set (expected syncLimit=<ticks> with server.N lines)');
      if (!servers.has(myid!)) {
        throw new ConfigError(myidFile, 1, 'myid', `My id ${myid} not in the peer list (expected one of the server.N lines of ${file}: ${[...servers.keys()].join(', ')})`);
      }
    }
  }

  // client address: the server line's ;[host:]port wins; a static clientPort must agree with it
  const self = myid !== undefined ? servers.get(myid) : undefined;
  let finalClientPort = clientPort;
  let finalClientAddress = str('clientPortAddress') ?? '0.0.0.0';
  if (self?.clientPort !== undefined) {
    if (clientPort !== 0) {
      const wildcard = finalClientAddress === '0.0.0.0' || finalClientAddress === '::';
      if (clientPort !== self.clientPort || (!wildcard && finalClientAddress !== self.clientHost)) {
        throw err(
          'clientPort',
          `client address for this server (id = ${myid}) in static config file is ${finalClientAddress}:${clientPort} is different from client address found in dynamic file: ${self.clientHost}:${self.clientPort} (server.${myid})`,
        );
      }
    }
    finalClientPort = self.clientPort;
    finalClientAddress = self.clientHost ?? '0.0.0.0';
  }
  // a peerType that disagrees with this server's line: ZooKeeper warns and the server line wins
  if (self) peerType = self.type;

  // -- raw and ignored keys
  const raw = new Map<string, string>();
  const ignoredKeys: string[] = [];
  for (const [k, e] of entries) {
    raw.set(k, e.value);
    if (/^(server|group|weight|authProvider|superUser)\./.test(k)) continue;
    const spec = specOf(k);
    if (!spec?.impl && !ignoredKeys.includes(k)) ignoredKeys.push(k);
  }

  const cfg: ServerConfig = {
    file: abs,
    dataDir,
    dataLogDir,
    tickTime,
    initLimit: num('initLimit', 10),
    syncLimit: num('syncLimit', 5),
    clientPort: finalClientPort,
    clientPortAddress: finalClientAddress,
    secureClientPort: num('secureClientPort', 0) || undefined,
    secureClientPortAddress: str('secureClientPortAddress') ?? '0.0.0.0',
    maxCnxns: num('maxCnxns', 0),
    sslQuorum: bool('sslQuorum', false),
    sslQuorumReloadCertFiles: bool('sslQuorumReloadCertFiles', false),
    portUnification: bool('portUnification', false),
    sslQuorumKeyStoreLocation: str('ssl.quorum.keyStore.location'),
    sslQuorumKeyStorePassword: str('ssl.quorum.keyStore.password'),
    sslQuorumKeyStorePasswordPath: str('ssl.quorum.keyStore.passwordPath'),
    sslQuorumKeyStoreType: str('ssl.quorum.keyStore.type'),
    sslQuorumTrustStoreLocation: str('ssl.quorum.trustStore.location'),
    sslQuorumTrustStorePassword: str('ssl.quorum.trustStore.password'),
    sslQuorumTrustStorePasswordPath: str('ssl.quorum.trustStore.passwordPath'),
    sslQuorumTrustStoreType: str('ssl.quorum.trustStore.type'),
    sslQuorumProtocol: str('ssl.quorum.protocol') ?? 'TLSv1.2',
    sslQuorumEnabledProtocols: list('ssl.quorum.enabledProtocols'),
    sslQuorumCiphersuites: list('ssl.quorum.ciphersuites'),
    sslQuorumClientAuth: (str('ssl.quorum.clientAuth')?.toLowerCase() || 'need') as 'none' | 'want' | 'need',
    sslQuorumHostnameVerification: bool('ssl.quorum.hostnameVerification', true),
    quorumSaslEnabled: bool('quorum.auth.enableSasl', false),
    quorumServerRequireSasl: bool('quorum.auth.serverRequireSasl', false),
    quorumLearnerRequireSasl: bool('quorum.auth.learnerRequireSasl', false),
    quorumLearnerLoginContext: str('quorum.auth.learner.saslLoginContext') ?? 'QuorumLearner',
    quorumServerLoginContext: str('quorum.auth.server.saslLoginContext') ?? 'QuorumServer',
    quorumCnxnTimeoutMs: num('quorumCnxnTimeoutMs', -1),
    sessionlessCnxnTimeout: num('nio.sessionlessCnxnTimeout', 10000),
    fsyncWarningThresholdMs: num('fsync.warningthresholdms', 1000),
    sslKeyStoreLocation: str('ssl.keyStore.location'),
    sslKeyStorePassword: str('ssl.keyStore.password'),
    sslKeyStorePasswordPath: str('ssl.keyStore.passwordPath'),
    sslKeyStoreType: str('ssl.keyStore.type'),
    sslTrustStoreLocation: str('ssl.trustStore.location'),
    sslTrustStorePassword: str('ssl.trustStore.password'),
    sslTrustStorePasswordPath: str('ssl.trustStore.passwordPath'),
    sslTrustStoreType: str('ssl.trustStore.type'),
    sslProtocol: str('ssl.protocol') ?? 'TLSv1.2',
    sslEnabledProtocols: list('ssl.enabledProtocols'),
    sslCiphersuites: list('ssl.ciphersuites'),
    sslClientAuth: (str('ssl.clientAuth')?.toLowerCase() || 'need') as 'none' | 'want' | 'need',
    sslAuthProvider: str('ssl.authProvider') ?? 'x509',
    sslHandshakeDetectionTimeoutMillis: num('ssl.handshakeDetectionTimeoutMillis', 5000),
    clientPortUnification: bool('client.portUnification', false),
    x509SuperUser: str('X509AuthenticationProvider.superUser'),
    maxClientCnxns: num('maxClientCnxns', 60),
    minSessionTimeout,
    maxSessionTimeout,
    clientPortListenBacklog: num('clientPortListenBacklog', -1),
    fourLetterWhitelist,
    adminEnableServer: bool('admin.enableServer', true),
    adminServerAddress: str('admin.serverAddress') ?? '0.0.0.0',
    adminServerPort: num('admin.serverPort', 8080),
    adminCommandURL,
    extendedTypesEnabled,
    containerCheckIntervalMs: num('znode.container.checkIntervalMs', 60000),
    containerMaxPerMinute: num('znode.container.maxPerMinute', 10000),
    superDigest,
    skipACL: bool('skipACL', false),
    ...auth,
    snapCount: Math.max(2, num('snapCount', 100000)),
    forceSync: bool('forceSync', true),
    preAllocSize: num('preAllocSize', 65536) * 1024,
    snapshotCompressionMethod: compression as '' | 'gz' | 'snappy',
    autopurgeSnapRetainCount,
    autopurgePurgeInterval,
    juteMaxBuffer: num('jute.maxbuffer', 0xfffff),
    globalOutstandingLimit: num('globalOutstandingLimit', 1000),
    servers,
    groups,
    weights,
    configVersion,
    myid,
    peerType,
    standaloneEnabled,
    quorumListenOnAllIPs: bool('quorumListenOnAllIPs', false),
    linearizableSync: bool('linearizableSync', false),
    digestEnabled: bool('digest.enabled', true),
    enforceQuota: bool('enforceQuota', false),
    readOnlyModeEnabled: bool('readonlymode.enabled', false),
    localSessionsEnabled: bool('localSessionsEnabled', false),
    localSessionsUpgradingEnabled: bool('localSessionsUpgradingEnabled', false),
    reconfigEnabled: bool('reconfigEnabled', false),
    electionAlg,
    metricsProviderClassName: str('metricsProvider.className'),
    metricsProviderHttpPort: num('metricsProvider.httpPort', 7000),
    metricsProviderHttpHost: str('metricsProvider.httpHost') ?? '0.0.0.0',
    raw,
    ignoredKeys,
  };
  // quorum SASL: the JAAS sections must be there
  if (cfg.quorumSaslEnabled && cfg.servers.size > 0) {
    try {
      quorumSaslOf(cfg);
    } catch (e) {
      if (e instanceof QuorumAuthError || e instanceof JaasError) throw err('quorum.auth.enableSasl', e.message);
      throw e;
    }
  }
  // TLS: read the stores now, so that a bad one stops the start naming its key
  const tlsChecks: TlsSettings[] = [];
  if (cfg.secureClientPort || cfg.clientPortUnification) tlsChecks.push(clientTlsSettings(cfg));
  if ((cfg.sslQuorum || cfg.portUnification) && cfg.servers.size > 0) tlsChecks.push(quorumTlsSettings(cfg));
  for (const t of tlsChecks) {
    try {
      checkTls(t);
    } catch (e) {
      if (e instanceof TlsConfigError) throw err(e.key, e.message);
      throw e;
    }
  }
  return cfg;
}

/**
 * The membership text ZooKeeper keeps in /zookeeper/config and prints after `membership: ` in
 * `conf` (QuorumMaj.toString): the server lines by id, then `version=<hex>` (0 until a reconfig),
 * no newline at the end.
 */
export function membershipText(config: Pick<ServerConfig, 'servers'> & Partial<Pick<ServerConfig, 'groups' | 'weights' | 'configVersion'>>): string {
  const lines = [...config.servers.values()]
    .sort((a, b) => a.id - b.id)
    .map((sv) => `server.${sv.id}=${sv.host}:${sv.quorumPort}:${sv.electionPort}:${sv.type}${sv.clientPort !== undefined ? `;${sv.clientHost}:${sv.clientPort}` : ''}`);
  const groups = config.groups ?? new Map<number, number[]>();
  if (groups.size > 0) {
    // QuorumHierarchical.toString: the groups, then every participant's weight (1 unless given)
    for (const gid of [...groups.keys()].sort((a, b) => a - b)) lines.push(`group.${gid}=${[...groups.get(gid)!].sort((a, b) => a - b).join(':')}`);
    const weights = new Map(config.weights ?? []);
    for (const sv of config.servers.values()) if (sv.type === 'participant' && !weights.has(sv.id)) weights.set(sv.id, 1);
    for (const sid of [...weights.keys()].sort((a, b) => a - b)) lines.push(`weight.${sid}=${weights.get(sid)}`);
  }
  return lines.join('\n') + `\nversion=${(config.configVersion ?? 0).toString(16)}`;
}

/** `host:port[:port...]` with an optional `[ipv6]` host. */
function splitHostPort(s: string): string[] | null {
  const m = /^\[([^\]]*)\](.*)$/.exec(s);
  if (m) {
    if (m[2] !== '' && !m[2].startsWith(':')) return null;
    return [m[1], ...(m[2] === '' ? [] : m[2].slice(1).split(':'))];
  }
  return s.split(':');
}

/** Parse the value of `server.<id>=`; `fail` builds the error for the line. */
export function parseServerLine(
  id: number,
  value: string,
  fail: (detail: string) => ConfigError,
  multiAddressEnabled = false,
): QuorumServerSpec {
  const shape = `"${value}" does not have the form server_config or server_config;client_config (${SERVER_FORM})`;
  const semi = value.split(';');
  if (semi.length > 2 || semi[0].trim() === '') throw fail(shape);
  const serverPart = semi[0].trim();
  const clientPart = semi.length === 2 ? semi[1].trim() : undefined;
  if (serverPart.includes('|')) {
    throw fail(
      multiAddressEnabled
        ? `multiple addresses for sid ${id} are not supported by zk-server (${SERVER_FORM})`
        : `Multiple address feature is disabled, but multiple addresses were specified for sid ${id}`,
    );
  }
  const parts = splitHostPort(serverPart);
  if (!parts || parts.length < 2 || parts.length > 4 || parts[0].trim() === '') throw fail(shape);
  if (parts.length === 2) throw fail(`Missing election port for server: ${id} (${SERVER_FORM})`);
  const port = (p: string, what: string): number => {
    const n = /^\d+$/.test(p) ? Number(p) : NaN;
    if (!(n >= 1 && n <= 65535)) throw fail(`${what} "${p}" is not a port 1-65535 (${SERVER_FORM})`);
    return n;
  };
  const quorumPort = port(parts[1], 'quorum port');
  const electionPort = port(parts[2], 'election port');
  if (quorumPort === electionPort) {
    throw fail(`Client and election port must be different! Please update the configuration file on server.${id} (quorum and election port are both ${quorumPort})`);
  }
  let type: 'participant' | 'observer' = 'participant';
  if (parts.length === 4) {
    const t = parts[3].toLowerCase();
    if (t !== 'participant' && t !== 'observer') throw fail(`Unrecognised peertype: ${parts[3]} (${SERVER_FORM})`);
    type = t;
  }
  const spec: QuorumServerSpec = { id, host: parts[0], quorumPort, electionPort, type, raw: value };
  if (clientPart !== undefined) {
    const cp = splitHostPort(clientPart);
    if (!cp || cp.length > 2 || cp.some((x) => x === '')) throw fail(`client part "${clientPart}" ${shape}`);
    if (cp.length === 1) {
      spec.clientHost = '0.0.0.0';
      spec.clientPort = port(cp[0], 'client port');
    } else {
      spec.clientHost = cp[0];
      spec.clientPort = port(cp[1], 'client port');
    }
  }
  return spec;
}

/** The auth-provider classes ZooKeeper 3.8 ships, by the scheme each provides. */
export const AUTH_PROVIDER_CLASSES: Record<string, string> = {
  'org.apache.zookeeper.server.auth.SASLAuthenticationProvider': 'sasl',
  'org.apache.zookeeper.server.auth.X509AuthenticationProvider': 'x509',
  'org.apache.zookeeper.server.auth.DigestAuthenticationProvider': 'digest',
  'org.apache.zookeeper.server.auth.IPAuthenticationProvider': 'ip',
};

type AuthFields = Pick<
  ServerConfig,
  | 'digestAuthEnabled'
  | 'authProviders'
  | 'unknownAuthProviders'
  | 'jaasConfigFile'
  | 'saslServerSection'
  | 'saslSuperUsers'
  | 'saslSuperPassword'
  | 'allowSaslFailedClients'
  | 'letAnySaslUserDoX'
  | 'kerberosRemoveHost'
  | 'kerberosRemoveRealm'
  | 'enforceAuthEnabled'
  | 'enforceAuthSchemes'
  | 'sessionRequireClientSASLAuth'
>;

/**
 * Authentication settings (ProviderRegistry.initialize, AuthenticationHelper, ServerCnxnFactory's
 * SASL login): the providers, the SASL super users, what enforce.auth demands. A scheme that
 * enforce.auth names must have a provider, as 3.8 checks at start-up.
 */
function authSettings(
  entries: Map<string, { value: string }>,
  str: (k: string) => string | undefined,
  bool: (k: string, d: boolean) => boolean,
  err: (k: string, detail: string) => ConfigError,
): AuthFields {
  const digestAuthEnabled = bool('DigestAuthenticationProvider.enabled', true);
  const authProviders: string[] = ['ip'];
  if (digestAuthEnabled) authProviders.push('digest');
  const unknownAuthProviders: string[] = [];
  const saslSuperUsers: string[] = [];
  for (const [k, e] of entries) {
    if (k.startsWith('authProvider.') && e.value !== '') {
      const scheme = AUTH_PROVIDER_CLASSES[e.value.trim()];
      if (scheme === undefined) unknownAuthProviders.push(e.value.trim());
      else if (!authProviders.includes(scheme)) authProviders.push(scheme);
    }
    if ((k === 'superUser' || k.startsWith('superUser.')) && e.value !== '') saslSuperUsers.push(e.value);
  }
  const sessionRequireClientSASLAuth = bool('sessionRequireClientSASLAuth', false);
  let enforceAuthEnabled: boolean;
  let enforceAuthSchemes: string[];
  if (sessionRequireClientSASLAuth) {
    enforceAuthEnabled = true;
    enforceAuthSchemes = ['sasl'];
  } else {
    enforceAuthEnabled = bool('enforce.auth.enabled', false);
    enforceAuthSchemes = (str('enforce.auth.schemes') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
  if (enforceAuthEnabled) {
    const key = sessionRequireClientSASLAuth ? 'sessionRequireClientSASLAuth' : 'enforce.auth.enabled';
    if (enforceAuthSchemes.length === 0) throw err(key, 'enforce.auth.enabled is true: enforce.auth.schemes must be configured');
    for (const s of enforceAuthSchemes) {
      if (!authProviders.includes(s)) {
        throw err(
          sessionRequireClientSASLAuth ? key : 'enforce.auth.schemes',
          `authentication scheme ${s} is not available` + (s === 'sasl' || s === 'x509' ? ` (add authProvider.1=org.apache.zookeeper.server.auth.${s === 'sasl' ? 'SASL' : 'X509'}AuthenticationProvider)` : ''),
        );
      }
    }
  }
  return {
    digestAuthEnabled,
    authProviders,
    unknownAuthProviders,
    jaasConfigFile: str('java.security.auth.login.config'),
    saslServerSection: str('sasl.serverconfig') ?? 'Server',
    saslSuperUsers,
    saslSuperPassword: str('SASLAuthenticationProvider.superPassword'),
    allowSaslFailedClients: bool('allowSaslFailedClients', false),
    letAnySaslUserDoX: str('letAnySaslUserDoX'),
    kerberosRemoveHost: bool('kerberos.removeHostFromPrincipal', false),
    kerberosRemoveRealm: bool('kerberos.removeRealmFromPrincipal', false),
    enforceAuthEnabled,
    enforceAuthSchemes,
    sessionRequireClientSASLAuth,
  };
}

/** The quorum SASL settings of a configuration (reads its JAAS file). */
export function quorumSaslOf(c: ServerConfig): QuorumSaslSettings {
  return quorumSaslSettings({
    jaasConfigFile: c.jaasConfigFile,
    serverSection: c.quorumServerLoginContext,
    learnerSection: c.quorumLearnerLoginContext,
    serverRequire: c.quorumServerRequireSasl,
    learnerRequire: c.quorumLearnerRequireSasl,
    timeoutMs: c.quorumCnxnTimeoutMs > 0 ? c.quorumCnxnTimeoutMs : c.initLimit * c.tickTime,
  });
}
