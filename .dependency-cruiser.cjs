// The layers of src/, bottom-up, and the rule that nothing imports upwards or in a circle.
// `npm run check:deps` (run by scripts/test.sh before the tests) fails on any violation.
//   jute, util, config          wire codec, metrics and GC helpers, zoo.cfg
//   data                        DataTree, txns, constants, sessions (the model every layer shares)
//   client                      a ZooKeeper client (for the shell; never the server's code)
//   shell                       `zk-server cli`, the zkCli.sh look-alike
//   persistence                 txn log and snapshots
//   server                      request pipeline, client port, 4lw
//   quorum                      election, Zab cores and their hosts, the QuorumPeer
//   admin                       AdminServer and /metrics
//   main.ts, launch.ts, cli.ts  process start-up (clusterstatus.ts: a tool of the CLI)
const LAYERS = [
  ['jute', 'util', 'config', 'version\\.ts$', 'logger\\.ts$'],
  ['data'],
  ['client'],
  ['shell'],
  ['persistence'],
  ['server'],
  ['quorum'],
  ['admin'],
  ['main\\.ts$', 'launch\\.ts$', 'cli\\.ts$', 'clusterstatus\\.ts$'],
];
const pathOf = (names) => `^src/(${names.join('|')})`;
const forbidden = [
  { name: 'no-circular', severity: 'error', comment: 'a module must not depend on itself through others', from: {}, to: { circular: true } },
];
LAYERS.forEach((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  if (!above.length) return;
  forbidden.push({
    name: `layer-${layer[0].replace(/\W.*$/, '')}-imports-upwards`,
    severity: 'error',
    comment: `src/${layer.join(', ')} may import only from its own or lower layers`,
    from: { path: pathOf(layer) },
    to: { path: pathOf(above) },
  });
});
// the client is what a ZooKeeper user would ship: the wire codec and the shared vocabulary, nothing
// of the server's configuration or logging
forbidden.push({
  name: 'client-is-small',
  severity: 'error',
  comment: 'src/client may import only src/jute, src/util and src/data',
  from: { path: '^src/client/' },
  to: { path: '^src/(?!(jute|util|data|client)/)' },
});
// the Zab cores stay pure: no I/O, no server
forbidden.push({
  name: 'zab-core-is-pure',
  severity: 'error',
  comment: 'src/quorum/zab takes messages and time and returns Readys: no node: I/O modules, no server',
  from: { path: '^src/quorum/zab/' },
  to: { path: '^(node:)?(fs|net|child_process|dgram|http|https|timers)$|^src/(server|persistence|admin)/' },
});
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    moduleSystems: ['cjs', 'es6'],
  },
};
