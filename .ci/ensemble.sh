#!/usr/bin/env bash
# A 3-peer zk-server ensemble on 127.0.0.1:2181-2183 for the CI interop gate.
#   ensemble.sh setup | start ID | stop ID | start-all | stop-all
# `start ID` returns once that peer serves (or after 30 s, for a peer that cannot find a quorum).
# ENSEMBLE_EXTRA_CFG: a file of zoo.cfg lines every peer gets too (e.g. sslQuorum or quorum.auth.*
# keys); SERVER_JVMFLAGS is passed on (e.g. the JAAS file).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=/tmp/zk-server-ci/ens
BIN="$HERE/../bin/zk-server.js"
cfg() { echo "$ROOT/zoo$1.cfg"; }
serving() { node -e '
  const s=require("net").connect(+process.argv[1],"127.0.0.1",()=>s.write("srvr"));let o="";
  s.on("data",d=>o+=d);s.on("close",()=>process.exit(/Mode: (leader|follower)/.test(o)?0:1));s.on("error",()=>process.exit(1));' "$1"; }
case "$1" in
  setup)
    rm -rf "$ROOT"; mkdir -p "$ROOT"
    for i in 1 2 3; do
      mkdir -p "$ROOT/n$i"; echo "$i" > "$ROOT/n$i/myid"
      cat > "$(cfg $i)" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$ROOT/n$i
clientPort=218$i
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
extendedTypesEnabled=true
znode.container.checkIntervalMs=1000
server.1=127.0.0.1:2888:3888
server.2=127.0.0.1:2889:3889
server.3=127.0.0.1:2890:3890
CFG
      if [ -n "${ENSEMBLE_EXTRA_CFG:-}" ]; then cat "$ENSEMBLE_EXTRA_CFG" >> "$(cfg $i)"; fi
    done ;;
  start)
    nohup "$BIN" start-foreground "$(cfg "$2")" >> "$ROOT/log$2" 2>&1 &
    echo $! > "$ROOT/n$2/pid"
    for _ in $(seq 1 150); do serving "218$2" && exit 0; sleep 0.2; done
    exit 0 ;;
  stop)
    pid=$(cat "$ROOT/n$2/pid" 2>/dev/null) || exit 0
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null; exit 0 ;;
  start-all) for i in 1 2 3; do "$0" start "$i" & done; wait ;;
  stop-all) for i in 1 2 3; do "$0" stop "$i"; done ;;
esac
