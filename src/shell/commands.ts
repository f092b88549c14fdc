// zkCli's commands against a ZooKeeper session: each parses its words as zkCli 3.8 does, runs, and
// prints what zkCli prints (stdout for results, stderr for "Created …" and errors). A failure is a
// CliError carrying the line zkCli prints and its exit code.
import { ACL } from '../jute/records';
import { Err, MAX_TTL } from '../data/constants';
import { LIMIT_NODE, limitPath, QUOTA_ROOT, statPath, StatsTrack } from '../data/quotas';
import { CreateFlags, ZkClient } from '../client/zkclient';
import { IllegalArgumentException, KeeperException, validatePath } from '../client/errors';
import { aclText, javaList, statLines } from './format';
import { OptionParseError, OptionSpec, parseOptions, ParsedCommand } from './parse';
import { VERSION_STRING } from '../version';

export interface ShellOutput {
  out(line: string): void;
  err(line: string): void;
  /** text without a newline added (setAcl -R prints its failures that way) */
  outRaw(text: string): void;
}

/** A CliException: the message zkCli prints on stderr and the exit code of a one-shot run. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const NO_DATA = 'null';

/** CliWrapperException: the friendlier text zkCli shows for the common KeeperExceptions. */
export function wrapError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (e instanceof IllegalArgumentException) return new CliError(e.message); // MalformedPathException
  if (e instanceof KeeperException) {
    const p = e.path ?? 'null';
    switch (e.code) {
      case Err.NONODE:
        return new CliError(`Node does not exist: ${p}`);
      case Err.NOCHILDRENFOREPHEMERALS:
        return new CliError(`Ephemerals cannot have children: ${p}`);
      case Err.NODEEXISTS:
        return new CliError(`Node already exists: ${p}`);
      case Err.NOTEMPTY:
        return new CliError(`Node not empty: ${p}`);
      case Err.NOTREADONLY:
        return new CliError(`Not a read-only call: ${p}`);
      case Err.INVALIDACL:
        return new CliError(`Acl is not valid : ${p}`);
      case Err.NOAUTH:
        return new CliError(`Insufficient permission : ${p}`);
      case Err.BADARGUMENTS:
        return new CliError(`Arguments are not valid : ${p}`);
      case Err.BADVERSION:
        return new CliError(`version No is not valid : ${p}`);
      case Err.RECONFIGINPROGRESS:
        return new CliError('Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)');
      case Err.NEWCONFIGNOQUORUM:
        return new CliError(
          'No quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced',
        );
      case Err.QUOTAEXCEEDED:
        return new CliError(`Quota has exceeded : ${p}`);
    }
    return new CliError(e.message);
  }
  return new CliError(e instanceof Error ? e.message : String(e));
}

export interface CommandContext {
  zk: ZkClient;
  io: ShellOutput;
}

export interface CliCommand {
  name: string;
  /** the usage text after the name, as zkCli lists it */
  optionStr: string;
  /** parse the words (words[0] is the command) and run; throws CliError */
  run(ctx: CommandContext, words: string[]): Promise<void>;
}

const usage = (c: { name: string; optionStr: string }): string => `${c.name} ${c.optionStr}`;

function parse(c: { name: string; optionStr: string }, words: string[], specs: OptionSpec[], minArgs = 0, group?: string[], groupRequired = false): ParsedCommand {
  let p: ParsedCommand;
  try {
    p = parseOptions(words, specs, group, groupRequired);
  } catch (e) {
    if (e instanceof OptionParseError) throw new CliError(e.toString());
    throw e;
  }
  if (p.args.length < minArgs) throw new CliError(usage(c));
  return p;
}

const flag = (name: string): OptionSpec => ({ name, hasArg: false });
const withArg = (name: string): OptionSpec => ({ name, hasArg: true });

/**
 * The old form "cmd path watch" / "delete path version": zkCli warns, and for the watching commands
 * takes the third word as -w.
 */
function oldForm(io: ShellOutput, words: string[], p: ParsedCommand, message: string, asWatch: boolean, specs: OptionSpec[]): ParsedCommand {
  if (p.args.length <= 2) return p;
  io.err(message);
  const again = [...words];
  if (asWatch) again[2] = '-w';
  return parseOptions(again, specs);
}

/** Java's Integer.parseInt, which zkCli does not guard: a bad number ends the shell with a stack trace. */
function javaInt(text: string): number {
  if (!/^[-+]?\d+$/.test(text) || Number(text) > 2147483647 || Number(text) < -2147483648) {
    throw new CliError(`java.lang.NumberFormatException: For input string: "${text}"`);
  }
  return Number(text);
}

/** AclParser.parse: "scheme:id:perms,…"; malformed entries are reported and skipped. */
export function parseAcl(io: ShellOutput, text: string): ACL[] {
  const out: ACL[] = [];
  for (const a of text.split(',')) {
    const first = a.indexOf(':');
    const last = a.lastIndexOf(':');
    if (first === -1 || first === last) {
      io.err(`${a} does not have the form scheme:id:perm`);
      continue;
    }
    let perms = 0;
    for (const ch of a.substring(last + 1)) {
      const bit = { r: 1, w: 2, c: 4, d: 8, a: 16 }[ch];
      if (bit === undefined) io.err(`Unknown perm type: ${ch}`);
      else perms |= bit;
    }
    out.push({ perms, id: { scheme: a.substring(0, first), id: a.substring(first + 1, last) } });
  }
  return out;
}

const OPEN_ACL_UNSAFE: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** The client refuses an empty ACL list itself (InvalidACLException without a path). */
function checkAcl(acl: ACL[]): void {
  if (acl.length === 0) throw new KeeperException(Err.INVALIDACL);
}

const childPath = (parent: string, child: string): string => (parent === '/' ? '' : parent) + '/' + child;

/** ZKUtil.visitSubTreeDFS: the node, then its sorted children, then each child's subtree. */
async function visitSubTree(zk: ZkClient, path: string, watch: boolean, visit: (p: string) => Promise<void> | void): Promise<void> {
  validatePath(path);
  await zk.getData(path, watch);
  await visit(path);
  const below = async (p: string): Promise<void> => {
    let children: string[];
    try {
      children = (await zk.getChildren(p, watch)).children.sort();
    } catch (e) {
      // a node listed but deleted before it could be read: skipped, as ZKUtil does
      if (e instanceof KeeperException && e.code === Err.NONODE) return;
      throw e;
    }
    for (const c of children) await visit(childPath(p, c));
    for (const c of children) await below(childPath(p, c));
  };
  await below(path);
}

/** ZKUtil.listSubTreeBFS: the node and everything below it, breadth first, in the server's order. */
async function listSubTreeBFS(zk: ZkClient, root: string): Promise<string[]> {
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    const { children } = await zk.getChildren(tree[i]);
    for (const c of children) tree.push(childPath(tree[i], c));
  }
  return tree;
}

// ---------------------------------------------------------------------------------- the commands

const LS_OPTS = [flag('?'), flag('s'), flag('w'), flag('R')];
const ls: CliCommand = {
  name: 'ls',
  optionStr: '[-s] [-w] [-R] path',
  async run({ zk, io }, words) {
    let p = parse(this, words, LS_OPTS);
    if (p.opts.has('?')) {
      for (const l of ['usage: ls [options] path', ' -?   help', ' -R   recurse', ' -s   stat', ' -w   watch']) io.out(l);
    }
    p = oldForm(io, words, p, "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.", true, LS_OPTS);
    if (p.args.length < 2) throw new CliError(usage(this));
    const path = p.args[1];
    const watch = p.opts.has('w');
    if (p.opts.has('R')) {
      await visitSubTree(zk, path, watch, (x) => io.out(x));
      return;
    }
    const { children, stat } = await zk.getChildren(path, watch);
    io.out(javaList(children.sort()));
    if (p.opts.has('s')) statLines(stat).forEach((l) => io.out(l));
  },
};

const GET_OPTS = [flag('s'), flag('w')];
const get: CliCommand = {
  name: 'get',
  optionStr: '[-s] [-w] path',
  async run({ zk, io }, words) {
    let p = parse(this, words, GET_OPTS, 2);
    p = oldForm(io, words, p, "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead.", true, GET_OPTS);
    const { data, stat } = await zk.getData(p.args[1], p.opts.has('w'));
    io.out(data === null ? NO_DATA : data.toString('utf8'));
    if (p.opts.has('s')) statLines(stat).forEach((l) => io.out(l));
  },
};

const set: CliCommand = {
  name: 'set',
  optionStr: '[-s] [-v version] path data',
  async run({ zk, io }, words) {
    const p = parse(this, words, [flag('s'), withArg('v')], 3);
    const version = p.opts.has('v') ? javaInt(p.opts.get('v')!) : -1;
    const stat = await zk.setData(p.args[1], Buffer.from(p.args[2], 'utf8'), version);
    if (p.opts.has('s')) statLines(stat).forEach((l) => io.out(l));
  },
};

const create: CliCommand = {
  name: 'create',
  optionStr: '[-s] [-e] [-c] [-t ttl] path [data] [acl]',
  async run({ zk, io }, words) {
    const p = parse(this, words, [flag('e'), flag('s'), flag('c'), withArg('t')], 2);
    const e = p.opts.has('e');
    const s = p.opts.has('s');
    const c = p.opts.has('c');
    const t = p.opts.has('t');
    if (c && (e || s)) throw new CliError('-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.');
    let ttl = 0;
    if (t) {
      const text = p.opts.get('t')!;
      if (!/^[-+]?\d+$/.test(text)) throw new CliError('-t argument must be a long value');
      ttl = Number(text);
    }
    if (t && e) throw new CliError('TTLs cannot be used with Ephemeral znodes');
    if (t && c) throw new CliError('TTLs cannot be used with Container znodes');
    let flags: number;
    if (e && s) flags = CreateFlags.EPHEMERAL_SEQUENTIAL;
    else if (e) flags = CreateFlags.EPHEMERAL;
    else if (s) flags = t ? CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL : CreateFlags.PERSISTENT_SEQUENTIAL;
    else if (c) flags = CreateFlags.CONTAINER;
    else flags = t ? CreateFlags.PERSISTENT_WITH_TTL : CreateFlags.PERSISTENT;
    if (t && (ttl <= 0 || ttl > MAX_TTL)) throw new CliError(`ttl must be positive and cannot be larger than: ${MAX_TTL}`);
    const path = p.args[1];
    const data = p.args.length > 2 ? Buffer.from(p.args[2], 'utf8') : null;
    const acl = p.args.length > 3 ? parseAcl(io, p.args[3]) : OPEN_ACL_UNSAFE;
    try {
      validatePath(path, s);
      checkAcl(acl);
      const created = await zk.create(path, data, acl, flags, t ? ttl : -1);
      io.err(`Created ${created}`);
    } catch (err) {
      if (err instanceof KeeperException && err.code === Err.EPHEMERALONLOCALSESSION) io.err('Unable to create ephemeral node on a local session');
      if (err instanceof KeeperException && err.code === Err.INVALIDACL) io.err(err.message);
      throw err;
    }
  },
};

const DELETE_OPTS = [withArg('v')];
const del: CliCommand = {
  name: 'delete',
  optionStr: '[-v version] path',
  async run({ zk, io }, words) {
    let p = parse(this, words, DELETE_OPTS, 2);
    p = oldForm(io, words, p, "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.", false, DELETE_OPTS);
    const version = p.opts.has('v') ? javaInt(p.opts.get('v')!) : -1;
    await zk.delete(p.args[1], version);
  },
};

const deleteall: CliCommand = {
  name: 'deleteall',
  optionStr: 'path [-b batch size]',
  async run({ zk, io }, words) {
    const p = parse(this, words, [withArg('b')], 2);
    let batch = 1000;
    if (p.opts.has('b')) {
      const b = p.opts.get('b')!;
      if (!/^[-+]?\d+$/.test(b)) throw new CliError('-b argument must be an int value');
      batch = Number(b);
    }
    const path = p.args[1];
    validatePath(path);
    const tree = await listSubTreeBFS(zk, path);
    // deepest first, in multis of `batch` deletes; after a failed multi no more are sent
    let ok = true;
    let ops: string[] = [];
    for (let i = tree.length - 1; i >= 0; i--) {
      ops.push(tree[i]);
      if (ops.length === batch || i === 0) {
        if (!ok) break;
        if ((await zk.multiDelete(ops)) !== 0) ok = false;
        ops = [];
      }
    }
    if (!ok) io.err('Failed to delete some node(s) in the subtree!');
  },
};

const STAT_OPTS = [flag('w')];
const stat: CliCommand = {
  name: 'stat',
  optionStr: '[-w] path',
  async run({ zk, io }, words) {
    let p = parse(this, words, STAT_OPTS, 2);
    p = oldForm(io, words, p, "'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.", true, STAT_OPTS);
    const path = p.args[1];
    const s = await zk.exists(path, p.opts.has('w'));
    if (!s) throw new KeeperException(Err.NONODE, path);
    statLines(s).forEach((l) => io.out(l));
  },
};

const getAcl: CliCommand = {
  name: 'getAcl',
  optionStr: '[-s] path',
  async run({ zk, io }, words) {
    const p = parse(this, words, [flag('s')], 2);
    const { acl, stat: s } = await zk.getACL(p.args[1]);
    for (const a of acl) io.out(aclText(a));
    if (p.opts.has('s')) statLines(s).forEach((l) => io.out(l));
  },
};

const setAcl: CliCommand = {
  name: 'setAcl',
  optionStr: '[-s] [-v version] [-R] path acl',
  async run({ zk, io }, words) {
    const p = parse(this, words, [flag('s'), withArg('v'), flag('R')], 3);
    const path = p.args[1];
    const acl = parseAcl(io, p.args[2]);
    const version = p.opts.has('v') ? javaInt(p.opts.get('v')!) : -1;
    if (p.opts.has('R')) {
      await visitSubTree(zk, path, false, async (x) => {
        try {
          checkAcl(acl);
          await zk.setACL(x, acl, version);
        } catch (e) {
          if (!(e instanceof KeeperException)) throw e;
          io.outRaw(e.message);
        }
      });
      return;
    }
    validatePath(path);
    checkAcl(acl);
    const s = await zk.setACL(path, acl, version);
    if (p.opts.has('s')) statLines(s).forEach((l) => io.out(l));
  },
};

const sync: CliCommand = {
  name: 'sync',
  optionStr: 'path',
  async run({ zk, io }, words) {
    const p = parse(this, words, [], 2);
    try {
      await zk.sync(p.args[1]);
      io.out('Sync is OK');
    } catch (e) {
      if (!(e instanceof KeeperException)) throw e;
      io.out(`Sync has failed. rc=${e.code}`);
    }
  },
};

const addauth: CliCommand = {
  name: 'addauth',
  optionStr: 'scheme auth',
  async run({ zk }, words) {
    const p = parse(this, words, [], 2);
    zk.addAuthInfo(p.args[1], p.args.length >= 3 ? Buffer.from(p.args[2], 'utf8') : null);
  },
};

/** java.lang.String#hashCode */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The entries of a java.util.Properties in the order Java iterates them: Properties keeps a
 * ConcurrentHashMap of 16 bins (up to 12 keys), walked bin by bin, each bin in insertion order.
 * zkCli's `config -c` lists the servers in that order, not the file's.
 */
export function propertiesOrder(entries: [string, string][]): [string, string][] {
  const byKey = new Map<string, string>();
  for (const [k, v] of entries) byKey.set(k, v); // a later line replaces an earlier one, in place
  const bins = byKey.size > 12 ? 32 : 16;
  const bin = (k: string): number => {
    const h = javaHash(k);
    return ((h ^ (h >>> 16)) & 0x7fffffff) & (bins - 1);
  };
  return [...byKey.entries()].map((e, i) => ({ e, i, b: bin(e[0]) })).sort((x, y) => x.b - y.b || x.i - y.i).map((x) => x.e);
}

/** ConfigUtils.getClientConfigStr: "version host:port,…" from the server.N lines' client addresses. */
function clientConfigStr(config: string): string {
  const entries: [string, string][] = [];
  for (const raw of config.split('\n')) {
    const eq = raw.indexOf('=');
    if (eq < 0) continue;
    entries.push([raw.substring(0, eq).trim(), raw.substring(eq + 1).trim()]);
  }
  let version = '';
  const addrs: string[] = [];
  for (const [key, value] of propertiesOrder(entries)) {
    if (key === 'version') version = value;
    if (!key.startsWith('server.')) continue;
    const semi = value.indexOf(';');
    if (semi < 0) {
      addrs.push('');
      continue;
    }
    const client = value.substring(semi + 1);
    const colon = client.lastIndexOf(':');
    addrs.push(colon < 0 ? `0.0.0.0:${client}` : client);
  }
  return `${version} ${addrs.join(',')}`;
}

const config: CliCommand = {
  name: 'config',
  optionStr: '[-c] [-w] [-s]',
  async run({ zk, io }, words) {
    const p = parse(this, words, [flag('s'), flag('w'), flag('c')], 1);
    const { data, stat: s } = await zk.getConfig(p.opts.has('w'));
    const text = data === null ? NO_DATA : data.toString('utf8');
    io.out(p.opts.has('c') ? clientConfigStr(text) : text);
    if (p.opts.has('s')) statLines(s).forEach((l) => io.out(l));
  },
};

const whoami: CliCommand = {
  name: 'whoami',
  optionStr: '',
  async run({ zk, io }) {
    const infos = await zk.whoAmI();
    io.out('Auth scheme: User');
    for (const i of infos) io.out(`${i.scheme}: ${i.user}`);
  },
};

const WATCH_MODES = ['PERSISTENT', 'PERSISTENT_RECURSIVE'];
const addWatch: CliCommand = {
  name: 'addWatch',
  optionStr: `[-m mode] path # optional mode is one of ${javaList(WATCH_MODES)} - default is PERSISTENT_RECURSIVE`,
  async run({ zk }, words) {
    const p = parse(this, words, [withArg('m')]);
    if (p.args.length !== 2) throw new CliError(usage(this));
    let mode = 1;
    if (p.opts.has('m')) {
      mode = WATCH_MODES.indexOf(p.opts.get('m')!.toUpperCase());
      if (mode < 0) throw new CliError(usage(this));
    }
    await zk.addWatch(p.args[1], mode);
  },
};

const removewatches: CliCommand = {
  name: 'removewatches',
  optionStr: 'path [-c|-d|-a] [-l]',
  async run({ zk }, words) {
    const p = parse(this, words, [flag('c'), flag('d'), flag('a'), flag('l')], 2);
    const type = p.opts.has('c') ? 1 : p.opts.has('d') ? 2 : 3;
    await zk.removeWatches(p.args[1], type, p.opts.has('l'));
  },
};

const getEphemerals: CliCommand = {
  name: 'getEphemerals',
  optionStr: 'path',
  async run({ zk, io }, words) {
    const p = parse(this, words, []);
    io.out(javaList(await zk.getEphemerals(p.args.length < 2 ? '/' : p.args[1])));
  },
};

const getAllChildrenNumber: CliCommand = {
  name: 'getAllChildrenNumber',
  optionStr: 'path',
  async run({ zk, io }, words) {
    const p = parse(this, words, []);
    if (p.args.length < 2) throw new CliError(usage(this));
    io.out(String(await zk.getAllChildrenNumber(p.args[1])));
  },
};

// ---- quotas: zkCli keeps them in /zookeeper/quota<path>/zookeeper_limits, the server the stats

const QUOTA_GROUP = ['n', 'b', 'N', 'B'];

const setquota: CliCommand = {
  name: 'setquota',
  optionStr: '-n|-b|-N|-B val path',
  async run({ zk, io }, words) {
    const specs: OptionSpec[] = [
      { name: 'n', hasArg: true, description: 'num soft quota' },
      { name: 'b', hasArg: true, description: 'bytes soft quota' },
      { name: 'N', hasArg: true, description: 'num hard quota' },
      { name: 'B', hasArg: true, description: 'bytes hard quota' },
    ];
    const p = parse(this, words, specs, 2, QUOTA_GROUP, true);
    const path = p.args[1];
    if (path.startsWith(QUOTA_ROOT)) {
      io.err(`cannot set a quota under the path: ${QUOTA_ROOT}`);
      return;
    }
    const quota = new StatsTrack();
    quota.count = -1;
    quota.bytes = -1;
    quota.stats.set('countHardLimit', -1);
    quota.stats.set('byteHardLimit', -1);
    const values: [string, string, boolean][] = [
      ['n', 'count', true],
      ['b', 'bytes', false],
      ['N', 'countHardLimit', true],
      ['B', 'byteHardLimit', false],
    ];
    for (const [opt, key, isCount] of values) {
      if (!p.opts.has(opt)) continue;
      const text = p.opts.get(opt)!;
      if (!/^[-+]?\d+$/.test(text)) {
        io.err('NumberFormatException happens when parsing the option value');
        return;
      }
      const v = Number(text);
      if (isCount ? v <= 0 : v < 0) {
        io.err(isCount ? 'the num quota must be greater than zero' : 'the bytes quota must be greater than or equal to zero');
        return;
      }
      quota.stats.set(key, v);
    }
    await createQuota(zk, io, path, quota);
  },
};

async function createQuota(zk: ZkClient, io: ShellOutput, path: string, quota: StatsTrack): Promise<void> {
  if (!(await zk.exists(path))) throw new IllegalArgumentException(`${path} does not exist.`);
  await checkNoQuotaAround(zk, path);
  if (!(await zk.exists(QUOTA_ROOT))) {
    await ignoreExists(zk.create('/zookeeper', null, OPEN_ACL_UNSAFE, 0));
    await ignoreExists(zk.create(QUOTA_ROOT, null, OPEN_ACL_UNSAFE, 0));
  }
  let quotaPath = QUOTA_ROOT;
  for (const part of path.split('/').slice(1)) {
    quotaPath += '/' + part;
    if (!(await zk.exists(quotaPath))) await ignoreExists(zk.create(quotaPath, null, OPEN_ACL_UNSAFE, 0));
  }
  const limits = limitPath(path);
  const stats = statPath(path);
  const warn = (q: StatsTrack, s: StatsTrack): void => {
    if ((q.count > -1 && q.count < s.count) || (q.countHardLimit > -1 && q.countHardLimit < s.count)) {
      io.out(`[Warning]: the count quota you create is less than the existing count:${s.count}`);
    }
    if ((q.bytes > -1 && q.bytes < s.bytes) || (q.byteHardLimit > -1 && q.byteHardLimit < s.bytes)) {
      io.out(`[Warning]: the bytes quota you create is less than the existing bytes:${s.bytes}`);
    }
  };
  if (!(await zk.exists(limits))) {
    await zk.create(limits, Buffer.from(quota.toString()), OPEN_ACL_UNSAFE, 0);
    const fresh = new StatsTrack();
    fresh.count = 0;
    fresh.bytes = 0;
    await zk.create(stats, Buffer.from(fresh.toString()), OPEN_ACL_UNSAFE, 0);
    const q = new StatsTrack(dataText((await zk.getData(limits)).data));
    warn(q, new StatsTrack(dataText((await zk.getData(stats)).data)));
  } else {
    const q = new StatsTrack(dataText((await zk.getData(limits)).data));
    for (const k of ['count', 'bytes', 'countHardLimit', 'byteHardLimit']) {
      const v = quota.stats.get(k) ?? -1;
      if (v > -1) q.stats.set(k, v);
    }
    warn(q, new StatsTrack(dataText((await zk.getData(stats)).data)));
    await zk.setData(limits, Buffer.from(q.toString()), -1);
  }
}

const dataText = (d: Buffer | null): string => (d === null ? '' : d.toString('utf8'));

async function ignoreExists(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof KeeperException && e.code === Err.NODEEXISTS)) throw e;
  }
}

/** A quota may not be nested in another: none below `path`, none on its ancestors. */
async function checkNoQuotaAround(zk: ZkClient, path: string): Promise<void> {
  const own = QUOTA_ROOT + path;
  try {
    await visitSubTree(zk, own, false, async (qp) => {
      let children: string[];
      try {
        children = (await zk.getChildren(qp)).children;
      } catch (e) {
        if (e instanceof KeeperException && e.code === Err.NONODE) return;
        throw e;
      }
      if (qp !== own && children.includes(LIMIT_NODE)) {
        throw new IllegalArgumentException(`${path} has a child ${qp.substring(QUOTA_ROOT.length)} which has a quota`);
      }
    });
  } catch (e) {
    if (!(e instanceof KeeperException && e.code === Err.NONODE)) throw e;
  }
  const parts = path.split('/');
  let qp = QUOTA_ROOT;
  for (let i = 1; i < parts.length - 1; i++) {
    qp += '/' + parts[i];
    let children: string[];
    try {
      children = (await zk.getChildren(qp)).children;
    } catch (e) {
      if (e instanceof KeeperException && e.code === Err.NONODE) return;
      throw e;
    }
    if (children.length === 0) return;
    if (qp !== own && children.includes(LIMIT_NODE)) {
      throw new IllegalArgumentException(`${path} has a parent ${qp.substring(QUOTA_ROOT.length)} which has a quota`);
    }
  }
}

const listquota: CliCommand = {
  name: 'listquota',
  optionStr: 'path',
  async run({ zk, io }, words) {
    const p = parse(this, words, [], 2);
    const path = p.args[1];
    io.err(`absolute path is ${limitPath(path)}`);
    try {
      const limits = new StatsTrack(dataText((await zk.getData(limitPath(path))).data));
      const stats = new StatsTrack(dataText((await zk.getData(statPath(path))).data));
      io.out(`Output quota for ${path} ${limits.toString()}`);
      io.out(`Output stat for ${path} ${stats.toString()}`);
    } catch (e) {
      if (e instanceof KeeperException && e.code === Err.NONODE) io.err(`quota for ${path} does not exist.`);
      else throw e;
    }
  },
};

const delquota: CliCommand = {
  name: 'delquota',
  optionStr: '[-n|-b|-N|-B] path',
  async run({ zk, io }, words) {
    const specs = QUOTA_GROUP.map(flag);
    const p = parse(this, words, specs, 2, QUOTA_GROUP, false);
    const path = p.args[1];
    try {
      await delQuota(zk, io, path, QUOTA_GROUP.filter((o) => p.opts.has(o)));
    } catch (e) {
      if (e instanceof KeeperException && e.code === Err.NONODE) io.err(`quota for ${path} does not exist.`);
      else throw e;
    }
  },
};

async function delQuota(zk: ZkClient, io: ShellOutput, path: string, which: string[]): Promise<void> {
  const parent = QUOTA_ROOT + path;
  const limits = limitPath(path);
  if (!(await zk.exists(limits))) {
    io.out(`Quota does not exist for ${path}`);
    return;
  }
  const q = new StatsTrack(dataText((await zk.getData(limits)).data));
  if (which.length === 0) {
    for (const c of (await zk.getChildren(parent)).children) await zk.delete(`${parent}/${c}`, -1);
    // then the empty quota nodes above it, up to /zookeeper/quota
    for (let p = parent; p !== QUOTA_ROOT; p = p.substring(0, p.lastIndexOf('/'))) {
      if ((await zk.getChildren(p)).children.length !== 0) break;
      await zk.delete(p, -1);
    }
    return;
  }
  const keys: Record<string, string> = { n: 'count', b: 'bytes', N: 'countHardLimit', B: 'byteHardLimit' };
  for (const o of which) q.stats.set(keys[o], -1);
  await zk.setData(limits, Buffer.from(q.toString()), -1);
}

const RECONFIG_OPTS = [flag('s'), withArg('v'), withArg('file'), withArg('members'), withArg('add'), withArg('remove')];
const reconfig: CliCommand = {
  name: 'reconfig',
  optionStr:
    '[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]',
  async run({ zk, io }, words) {
    const p = parse(this, words, RECONFIG_OPTS);
    const o = p.opts;
    if (!(o.has('file') || o.has('members')) && !o.has('add') && !o.has('remove')) throw new CliError(usage(this));
    let version = -1;
    if (o.has('v')) {
      const v = o.get('v')!;
      if (!/^[-+]?[0-9a-fA-F]+$/.test(v)) throw new CliError('-v must be followed by a long (configuration version)');
      version = parseInt(v, 16);
    }
    if ((o.has('file') || o.has('members')) && (o.has('add') || o.has('remove'))) {
      throw new CliError('Can\'t use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)');
    }
    if (o.has('file') && o.has('members')) throw new CliError("Can't use -file and -members together (conflicting non-incremental modes)");
    const joining = o.has('add') ? o.get('add')!.toLowerCase() : null;
    const leaving = o.has('remove') ? o.get('remove')!.toLowerCase() : null;
    let members = o.has('members') ? o.get('members')!.toLowerCase() : null;
    if (o.has('file')) {
      const file = o.get('file')!;
      try {
        // the dynamic file's server lines, joined as QuorumVerifier#toString joins them
        const fs = await import('node:fs');
        members = fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => /^(server|group|weight)\./.test(l))
          .join('\n');
      } catch (e) {
        throw new CliError(`Error processing ${file}${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const { data, stat: s } = await zk.reconfig(joining, leaving, members, version);
    io.out('Committed new configuration:\n' + (data === null ? '' : data.toString('utf8')));
    if (o.has('s')) statLines(s).forEach((l) => io.out(l));
  },
};

const close: CliCommand = {
  name: 'close',
  optionStr: '',
  async run({ zk }) {
    await zk.close();
  },
};

const version: CliCommand = {
  name: 'version',
  optionStr: '',
  async run({ io }, words) {
    const p = parse(this, words, []);
    if (p.args.length > 1) throw new CliError(usage(this));
    io.out(`ZooKeeper CLI version: ${VERSION_STRING}`);
  },
};

/** zkCli's commands that talk to the server, by name. */
export const COMMANDS: ReadonlyMap<string, CliCommand> = new Map(
  [close, create, del, deleteall, set, get, ls, getAcl, setAcl, stat, sync, setquota, listquota, delquota, addauth, reconfig, config, removewatches, getEphemerals, getAllChildrenNumber, version, addWatch, whoami].map(
    (c) => [c.name, c],
  ),
);
