#!/usr/bin/env node
'use strict';
// The container image's HEALTHCHECK (docker/Dockerfile), so the image needs no nc:
//   zk-healthcheck.js [[HOST:]PORT]
// sends `ruok` to the client port and exits 0 on `imok`, 1 on anything else (no answer, refused,
// timed out). Without an argument the port is the clientPort of the zoo.cfg that zkServer.sh would
// use ($ZOOCFGDIR/zoo.cfg), else 2181, on 127.0.0.1.
//
// As in ZooKeeper, `ruok` is a four-letter word the whitelist must allow, and the default whitelist
// (no 4lw.commands.whitelist, which is what the official image writes unless ZOO_4LW_COMMANDS_WHITELIST
// is set) allows only `srvr`. So when the server answers that ruok is not whitelisted, the check
// asks `srvr`, which is always allowed, and takes its answer for what imok means: the server process
// is up and answering on its client port (ruok says imok too while a peer waits for a quorum).
const net = require('node:net');
const path = require('node:path');

const TIMEOUT_MS = 3000;

function ask(host, port, word) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const chunks = [];
    const done = (text) => {
      s.destroy();
      resolve(text);
    };
    s.setTimeout(TIMEOUT_MS, () => done(''));
    s.on('connect', () => s.write(word));
    s.on('data', (c) => chunks.push(c));
    s.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    s.on('error', () => done(''));
  });
}

/** host and port from the argument, else from zoo.cfg, else 127.0.0.1:2181 */
function target(arg) {
  if (arg) {
    const m = /^(?:(.*):)?(\d+)$/.exec(arg);
    if (!m) {
      process.stderr.write(`zk-healthcheck: expected [HOST:]PORT, got ${arg}\n`);
      process.exit(2);
    }
    return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
  }
  try {
    const { loadConfig, resolveConfigPath } = require(path.join(__dirname, '..', 'dist', 'config', 'load.js'));
    const confDir = process.env.ZOOCFGDIR || path.join(__dirname, '..', 'conf');
    const c = loadConfig(resolveConfigPath(undefined, confDir));
    const h = c.clientPortAddress;
    if (c.clientPort > 0) return { host: !h || h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h, port: c.clientPort };
  } catch {
    // no zoo.cfg yet, or one zk-server would refuse: the default port, and the server's own
    // start-up reports the config
  }
  return { host: '127.0.0.1', port: 2181 };
}

async function main() {
  const { host, port } = target(process.argv[2]);
  const ruok = await ask(host, port, 'ruok');
  if (ruok === 'imok') return 0;
  if (ruok.includes('not in the whitelist')) {
    const srvr = await ask(host, port, 'srvr');
    if (srvr.startsWith('Zookeeper version') || srvr.includes('not currently serving requests')) return 0;
    process.stderr.write(`zk-healthcheck: ${host}:${port}: ruok is not whitelisted and srvr answered ${JSON.stringify(srvr.slice(0, 80))}\n`);
    return 1;
  }
  process.stderr.write(`zk-healthcheck: ${host}:${port}: ${ruok ? `ruok answered ${JSON.stringify(ruok.slice(0, 80))}` : 'no answer to ruok'}\n`);
  return 1;
}

main().then((code) => process.exit(code));
