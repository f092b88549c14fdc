// Helpers the benchmarks share (bench/durable.js, alloc.js, matrix.js, soak.js, scale.js,
// failover.js, sync.js): a free loopback port, a four-letter word's answer, waiting until a server
// serves, the child processes to kill on the way out, a script's usage from its header comment,
// and the node arguments that start zk-server as users' launchers do.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** The answer to a four-letter word on 127.0.0.1:`port` ('' if the connection fails). */
function ask(port, word) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(word));
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(''));
  });
}

/** Until `srvr` names a mode (30 s at most); throws if the process `proc` exits first. */
async function waitServing(port, proc) {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error('server exited');
    if ((await ask(port, 'srvr')).includes('Mode:')) return;
    await sleep(100);
  }
  throw new Error('server did not start');
}

/** A bench script's usage: its header comment (after the #! line, up to 'use strict'). */
function usage(file) {
  const head = fs.readFileSync(file, 'utf8').split('\n');
  return head.slice(1, head.findIndex((l) => l.startsWith("'use strict'"))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
}

/** The child processes still running, for killAll on the way out. */
const children = new Set();
function track(proc) {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}
function killAll() {
  for (const p of children) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** The node flags every way of starting zk-server passes (src/nodeflags.ts; needs the build, dist/). */
function zkServerNodeFlags() {
  return require('../dist/nodeflags').SERVER_NODE_FLAGS;
}

/**
 * node's arguments for `bin/zk-server.js start-foreground cfg`, with the node flags every way of
 * starting zk-server passes, so the bench runs what users run; `nodeArgs` (profiling: --trace-gc,
 * --cpu-prof ...) come after them.
 */
function zkServerArgv(cfg, nodeArgs = []) {
  return [...zkServerNodeFlags(), ...nodeArgs, path.join(__dirname, '..', 'bin', 'zk-server.js'), 'start-foreground', cfg];
}

module.exports = { sleep, freePort, ask, waitServing, track, killAll, usage, zkServerNodeFlags, zkServerArgv };
