#!/usr/bin/env node
// Snapshot compression (snapshot.compression.method): file size, write time and load time of the
// same tree written uncompressed, gz and snappy, interleaved over rounds (medians printed).
// The tree: N znodes shaped like service registrations (small JSON values under a few parents).
//   node bench/snapshot-compression.js [--nodes 200000] [--rounds 3]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { DataTree } = require('../dist/data/datatree.js');
const { writeSnapshot, readSnapshot } = require('../dist/persistence/index.js');

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const NODES = Number(opt('--nodes', 200000));
const ROUNDS = Number(opt('--rounds', 3));
const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

function tree() {
  const t = new DataTree();
  let z = 0;
  for (let p = 0; p < 100; p++) t.createNode(`/svc${p}`, Buffer.from(`service ${p}`), OPEN, 0n, -1, ++z, 1700000000000 + z);
  for (let i = 0; i < NODES; i++) {
    const data = JSON.stringify({ host: `10.${i % 7}.${(i >> 8) % 250}.${i % 250}`, port: 9000 + (i % 1000), weight: i % 10, zone: `zone-${i % 3}` });
    t.createNode(`/svc${i % 100}/instance-${i}`, Buffer.from(data), OPEN, 0n, -1, ++z, 1700000000000 + z);
  }
  t.lastProcessedZxid = z;
  return t;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const t = tree();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-snapbench-'));
  const methods = ['', 'gz', 'snappy'];
  const res = Object.fromEntries(methods.map((m) => [m, { size: 0, write: [], load: [] }]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const m of methods) {
      const d = path.join(dir, `${m || 'none'}-${r}`);
      fs.mkdirSync(d);
      let t0 = process.hrtime.bigint();
      const f = await writeSnapshot(t, d, t.lastProcessedZxid, { compression: m });
      res[m].write.push(Number(process.hrtime.bigint() - t0) / 1e6);
      res[m].size = fs.statSync(f).size;
      t0 = process.hrtime.bigint();
      const back = await readSnapshot(f);
      res[m].load.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (back.nodeCount !== t.nodeCount) throw new Error(`${m}: loaded ${back.nodeCount} nodes, wrote ${t.nodeCount}`);
      fs.rmSync(d, { recursive: true, force: true });
    }
  }
  const base = res[''];
  console.log(`snapshot of ${t.nodeCount} znodes, ${ROUNDS} interleaved rounds (medians):`);
  console.log('method    size (MB)  size ratio  write ms  load ms');
  for (const m of methods) {
    const x = res[m];
    console.log(
      `${(m || 'none').padEnd(9)} ${(x.size / 1e6).toFixed(1).padStart(9)}  ${(x.size / base.size).toFixed(2).padStart(10)}  ${median(x.write).toFixed(0).padStart(8)}  ${median(x.load).toFixed(0).padStart(7)}`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
})();
