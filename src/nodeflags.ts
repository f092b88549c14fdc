// The flags the server's node process starts with, as zkServer.sh starts ZooKeeper's JVM with its
// heap flags. Every way of starting the server passes them: the `start` and `cluster` commands
// (cli.ts), bin/zkServer.sh, and bin/zk-server.js run as a program (`bin/zk-server.js
// start-foreground`, or the `zk-server` npm installs: a shell script first, it execs node on
// itself with them). A bare `node bin/zk-server.js start-foreground` runs without them and says
// so in its log.
//
// --initial-old-space-size=64: while V8's old generation is small it keeps lowering the limit at
// which the next full (mark-compact) GC starts to just above what is live, so a server whose tree
// grows (creates) runs a full GC every 0.3-1 s until its heap is past a few tens of MB, each
// stopping the event loop for 1.5-4 ms plus up to 8 ms of incremental steps, on every peer. With
// an initial old generation of 64 MB there is no full GC before the heap reaches 64 MB: measured
// with bench/matrix.js on 3 nodes, 6 sessions with one write in flight each, p99 went from 8.8-16
// ms to 3.8-7.5 ms and ops/s up 15-25% (docs/operations.md, "The node process"). The price: more
// garbage held under load (RSS +20-27 MB per peer in bench/soak.js), handed back when idle.
// The flag cannot be set once the process runs (v8.setFlagsFromString comes too late: the heap
// is configured) nor through NODE_OPTIONS (node refuses it there), hence a flag at start.
//
// `start` and `cluster` pass these, not their own process's flags: an --inspect or --cpu-prof
// meant for the command would clash in the server. Node flags an operator wants in the server go
// in NODE_OPTIONS (--max-old-space-size, say), which the server inherits.
export const SERVER_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];

/** The flag's name, without its value (`--initial-old-space-size`). */
function flagName(flag: string): string {
  const eq = flag.indexOf('=');
  return (eq < 0 ? flag : flag.slice(0, eq)).replace(/_/g, '-');
}

/** The SERVER_NODE_FLAGS this process was started without (for the start-up log). */
export function missingServerNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  const own = new Set(execArgv.map(flagName));
  return SERVER_NODE_FLAGS.filter((f) => !own.has(flagName(f)));
}
