#!/usr/bin/env bash
# A zk-server ensemble grown from 3 to 5 peers by reconfig, and shrunk back to 3 by removing
# peers 1 and 2, on 127.0.0.1:2181-2185, for the CI interop gate (docs/operations.md, reconfig).
#   grown-ensemble.sh setup | grow | shrink | start ID | stop ID | start-pos N | stop-pos N | stop-all
# Peers 4 and 5 start with the first three server lines and their own, as reconfig's joiners do.
# start-pos/stop-pos take a 1-based position in $POS (e.g. POS="3 4 5"): the failover suite's {n}.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=/tmp/zk-server-ci/grown
BIN="$HERE/../bin/zk-server.js"
SUPER="-Dzookeeper.DigestAuthenticationProvider.superDigest=super:$(node -e 'process.stdout.write(require("crypto").createHash("sha1").update("super:test").digest("base64"))')"
line() { echo "server.$1=127.0.0.1:$((2887 + $1)):$((3887 + $1)):participant;127.0.0.1:$((2180 + $1))"; }
serving() { node -e '
  const s=require("net").connect(+process.argv[1],"127.0.0.1",()=>s.write("srvr"));let o="";
  s.on("data",d=>o+=d);s.on("close",()=>process.exit(/Mode: (leader|follower|observer)/.test(o)?0:1));s.on("error",()=>process.exit(1));' "$1"; }
admin() { printf 'addauth digest super:test\n%s\nconfig\nquit\n' "$2" | /usr/share/zookeeper/bin/zkCli.sh -server "127.0.0.1:$1" 2>&1 | grep -E '^server|^version|Committed|rror'; }
case "$1" in
  setup)
    rm -rf "$ROOT"; mkdir -p "$ROOT"
    for i in 1 2 3 4 5; do
      mkdir -p "$ROOT/n$i"; echo "$i" > "$ROOT/n$i/myid"
      { echo tickTime=2000; echo initLimit=10; echo syncLimit=5; echo "dataDir=$ROOT/n$i"
        echo maxClientCnxns=0; echo '4lw.commands.whitelist=*'; echo admin.enableServer=false
        echo extendedTypesEnabled=true; echo znode.container.checkIntervalMs=1000; echo reconfigEnabled=true
        for j in 1 2 3; do line "$j"; done; if [ "$i" -gt 3 ]; then line "$i"; fi; } > "$ROOT/zoo$i.cfg"
    done ;;
  start)
    JVMFLAGS="$SUPER" nohup "$BIN" start-foreground "$ROOT/zoo$2.cfg" >> "$ROOT/log$2" 2>&1 &
    echo $! > "$ROOT/n$2/pid"
    for _ in $(seq 1 150); do serving "$((2180 + $2))" && exit 0; sleep 0.2; done
    exit 0 ;;
  stop)
    pid=$(cat "$ROOT/n$2/pid" 2>/dev/null) || exit 0
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null; exit 0 ;;
  start-pos) "$0" start "$(echo "$POS" | cut -d' ' -f"$2")" ;;
  stop-pos) "$0" stop "$(echo "$POS" | cut -d' ' -f"$2")" ;;
  grow)
    for i in 1 2 3; do "$0" start "$i" & done; wait
    for i in 4 5; do "$0" start "$i" & done; wait
    out=$(admin 2181 "reconfig -add $(line 4),$(line 5)"); echo "$out"
    echo "$out" | grep -q "^server.5=" || { echo "grow: the reconfig did not commit"; exit 1; } ;;
  shrink)
    out=$(admin 2185 "reconfig -remove 1,2"); echo "$out"
    echo "$out" | grep -q "^server.1=" && { echo "shrink: the reconfig did not commit"; exit 1; }
    "$0" stop 1; "$0" stop 2 ;;
  stop-all) for i in 1 2 3 4 5; do "$0" stop "$i"; done ;;
esac
