// Network namespaces for bench/failover.js --fault isolate: one namespace per peer on a bridge in
// the root namespace, so a peer can be cut off from the other peers while clients (this process,
// in the root namespace) still reach it. Needs root and iproute2 (`ip`); no iptables or nft: the
// cut is a pair of `prohibit` routes (each side refuses to send to the other), so new connects
// fail at once and established connections stall, as under a real partition.
//
//   const ns = new Netns({ prefix: 'zkfo', net: '10.78.20' });
//   ns.setup([1, 2, 3, 11, 12, 13]);   // bridge zkfo-br = 10.78.20.254/24, namespace zkfo-ID = 10.78.20.ID
//   ns.wrap(1, 'java', [...])          // -> ['ip', ['netns', 'exec', 'zkfo-1', 'java', ...]] (same pid)
//   ns.isolate(1, [2, 3]); ns.heal(1, [2, 3]);
//   ns.teardown();                     // idempotent, synchronous: safe in an 'exit' handler
//
// Everything is synchronous (execFileSync) so that clean-up works from process.on('exit').
'use strict';
const { execFileSync } = require('node:child_process');

function ip(...args) {
  return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
}
function ipQuiet(...args) {
  try {
    ip(...args);
  } catch {
    /* already gone */
  }
}

class Netns {
  constructor({ prefix = 'zkfo', net = '10.78.20' } = {}) {
    if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) throw new Error(`netns prefix ${prefix}: a letter then at most 7 letters/digits`);
    if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(net)) throw new Error(`netns net ${net}: must be A.B.C`);
    this.prefix = prefix;
    this.net = net;
    this.ids = [];
    this.br = `${prefix}-br`;
  }
  ns(id) {
    return `${this.prefix}-${id}`;
  }
  veth(id) {
    return `${this.prefix}-v${id}`;
  }
  addr(id) {
    return `${this.net}.${id}`;
  }
  /** Creates the bridge and one namespace per id; throws (after undoing what it made) on failure. */
  setup(ids) {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new Error('needs root');
    this.teardownStale();
    // another interface with an address in our /24 would take the route to the peers
    const taken = ip('-4', '-o', 'addr', 'show')
      .split('\n')
      .filter((l) => l.includes(` ${this.net}.`) && !l.includes(` ${this.br} `));
    if (taken.length) {
      const [, dev, , addr] = taken[0].trim().split(/\s+/);
      throw new Error(`${dev} already has ${addr}, in ${this.net}.0/24 (pick another --net)`);
    }
    this.ids = [...ids];
    try {
      ip('link', 'add', this.br, 'type', 'bridge');
      ip('addr', 'add', `${this.net}.254/24`, 'dev', this.br);
      ip('link', 'set', this.br, 'up');
      for (const id of ids) {
        const ns = this.ns(id);
        ip('netns', 'add', ns);
        ip('link', 'add', this.veth(id), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
        ip('link', 'set', this.veth(id), 'master', this.br, 'up');
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        ip('-n', ns, 'addr', 'add', `${this.addr(id)}/24`, 'dev', 'eth0');
        ip('-n', ns, 'link', 'set', 'eth0', 'up');
        ip('-n', ns, 'route', 'add', 'default', 'via', `${this.net}.254`);
      }
    } catch (e) {
      this.teardown();
      throw new Error(`${(e.stderr || e.message || String(e)).trim()}`);
    }
  }
  /** [cmd, args] that runs cmd inside id's namespace (`ip netns exec` execs: the pid is cmd's). */
  wrap(id, cmd, args) {
    return ['ip', ['netns', 'exec', this.ns(id), cmd, ...args]];
  }
  /** id and each of peers no longer send to each other (both directions). */
  isolate(id, peers) {
    for (const j of peers) {
      ip('-n', this.ns(id), 'route', 'replace', 'prohibit', `${this.addr(j)}/32`);
      ip('-n', this.ns(j), 'route', 'replace', 'prohibit', `${this.addr(id)}/32`);
    }
  }
  heal(id, peers) {
    for (const j of peers) {
      ipQuiet('-n', this.ns(id), 'route', 'del', `${this.addr(j)}/32`);
      ipQuiet('-n', this.ns(j), 'route', 'del', `${this.addr(id)}/32`);
    }
  }
  /** Removes what setup made (the caller kills its processes first). */
  teardown() {
    for (const id of this.ids) {
      ipQuiet('link', 'del', this.veth(id));
      ipQuiet('netns', 'del', this.ns(id));
    }
    this.ids = [];
    ipQuiet('link', 'del', this.br);
  }
  /** Leftovers of a run of this prefix that died without cleaning up. */
  teardownStale() {
    let list = '';
    try {
      list = ip('netns', 'list');
    } catch (e) {
      throw new Error(`ip netns list: ${(e.stderr || e.message).trim()}`);
    }
    const re = new RegExp(`^${this.prefix}-(\\d+)\\b`);
    for (const l of list.split('\n')) {
      const m = re.exec(l);
      if (!m) continue;
      ipQuiet('link', 'del', this.veth(m[1]));
      ipQuiet('netns', 'del', this.ns(m[1]));
    }
    ipQuiet('link', 'del', this.br);
  }
}

module.exports = { Netns };
