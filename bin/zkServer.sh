#!/usr/bin/env bash
# zkServer.sh-compatible wrapper: scripts written for Apache ZooKeeper run unchanged.
#   zkServer.sh {start|start-foreground|stop|restart|status|print-cmd|version} [CFG]
HERE=$(cd "$(dirname "$0")" && pwd)
exec node "$HERE/zk-server.js" "$@"
