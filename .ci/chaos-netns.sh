#!/usr/bin/env bash
# A chaos run (../shared/chaos/run.sh) against a zk-server ensemble (3 peers, or --nodes N) whose peers each run in
# their own network namespace (../shared/chaos/netns.sh), so the nemesis can partition them as
# well as kill and pause them. Needs root. Usage:
#   .ci/chaos-netns.sh [--nodes N] [--observers K] [--duration SECS] [--seed N] [--faults LIST] [--consistency MODE] [--linearizable-sync]
# --observers K adds K observers (peers N+1 .. N+K, peerType=observer): the nemesis kills, pauses and
# partitions them like the voters, and the workers' sessions land on them too.
# --linearizable-sync turns on zk-server's linearizableSync key and checks --consistency linearizable.
# Exit status: run.sh's (0 only when every check passed).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CHAOS=${CHAOS_DIR:-$HERE/../../shared/chaos}
BIN="$HERE/../bin/zk-server.js"
# CHAOS_PREFIX / CHAOS_NET: other namespaces, so that two runs can coexist
PREFIX=${CHAOS_PREFIX:-zkci}
NET=${CHAOS_NET:-10.79.0}
ROOT=/tmp/zk-server-ci/chaos-$PREFIX
EXTRA=(); NODES=3; OBSERVERS=0; LINSYNC=false; DURATION=60; SEED=1; FAULTS="kill,kill-leader,pause,pause-leader,partition,partition-leader,cut,kill-majority"; CONSISTENCY=zookeeper
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) NODES=$2; shift 2 ;;
    --observers) OBSERVERS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --faults) FAULTS=$2; shift 2 ;;
    --consistency) CONSISTENCY=$2; shift 2 ;;
    --linearizable-sync) LINSYNC=true; CONSISTENCY=linearizable; shift ;;
    # anything else goes to run.sh as is (--registers, --op-delay-ms, --check-budget, ...)
    *) EXTRA+=("$1"); shift ;;
  esac
done
[ -x "$CHAOS/run.sh" ] || { echo "chaos-netns.sh: $CHAOS/run.sh not found" >&2; exit 2; }
NETNS="$CHAOS/netns.sh --prefix $PREFIX"
VOTERS=$NODES; NODES=$((VOTERS + OBSERVERS))

rm -rf "$ROOT"; mkdir -p "$ROOT"
bash $NETNS setup $NODES --net $NET
cleanup() {
  for i in $(seq 1 "$NODES"); do
    pid=$(cat "$ROOT/n$i/pid" 2>/dev/null) && kill -9 "$pid" 2>/dev/null
  done
  sleep 0.3
  bash $NETNS teardown
}
trap cleanup EXIT
SERVERS=$(for j in $(seq 1 "$NODES"); do echo "server.$j=$NET.$j:2888:3888$([ "$j" -gt "$VOTERS" ] && echo :observer)"; done)
for i in $(seq 1 "$NODES"); do
  mkdir -p "$ROOT/n$i"; echo "$i" > "$ROOT/n$i/myid"
  cat > "$ROOT/zoo$i.cfg" <<CFG
tickTime=1000
initLimit=10
syncLimit=5
dataDir=$ROOT/n$i
clientPort=2181
clientPortAddress=$NET.$i
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
linearizableSync=$LINSYNC
$([ "$i" -gt "$VOTERS" ] && echo peerType=observer)
$SERVERS
CFG
done
cat > "$ROOT/node.sh" <<SH
#!/usr/bin/env bash
# node.sh start|kill|pause|resume ID
i=\$2; pidf=$ROOT/n\$i/pid
case "\$1" in
  start) nohup bash $NETNS exec \$i $BIN start-foreground $ROOT/zoo\$i.cfg >> $ROOT/log\$i 2>&1 & echo \$! > \$pidf ;;
  kill) kill -9 \$(cat \$pidf) 2>/dev/null; true ;;
  pause) kill -STOP \$(cat \$pidf) 2>/dev/null; true ;;
  resume) kill -CONT \$(cat \$pidf) 2>/dev/null; true ;;
esac
SH
chmod +x "$ROOT/node.sh"
for i in $(seq 1 "$NODES"); do "$ROOT/node.sh" start $i; done
sleep 3
CONNECT=$(for j in $(seq 1 "$NODES"); do printf '%s' "$NET.$j:2181,"; done); CONNECT=${CONNECT%,}
bash "$CHAOS/run.sh" --connect "$CONNECT" --nodes "$(seq -s ' ' 1 "$NODES")" \
  --kill-cmd "$ROOT/node.sh kill {id}" --start-cmd "$ROOT/node.sh start {id}" \
  --pause-cmd "$ROOT/node.sh pause {id}" --resume-cmd "$ROOT/node.sh resume {id}" \
  --partition-cmd "bash $NETNS isolate {id}" --heal-cmd "bash $NETNS heal {id}" \
  --cut-cmd "bash $NETNS cut {id}" --uncut-cmd "bash $NETNS uncut {id}" \
  --faults "$FAULTS" --consistency "$CONSISTENCY" --duration "$DURATION" --seed "$SEED" "${EXTRA[@]+"${EXTRA[@]}"}"
rc=$?
if [ $rc -ne 0 ]; then
  for i in $(seq 1 "$NODES"); do echo "== peer $i log (last 40 lines)"; tail -40 "$ROOT/log$i"; done
fi
exit $rc
