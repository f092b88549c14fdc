#!/usr/bin/env bash
# zkServer.sh-compatible wrapper: scripts written for Apache ZooKeeper run unchanged.
#   zkServer.sh {start|start-foreground|stop|restart|status|print-cmd|version} [CFG]
HERE=$(cd "$(dirname "$0")" && pwd)
# the node flags the server starts with (src/nodeflags.ts says why), as zkServer.sh passes its heap flags
exec node --initial-old-space-size=64 "$HERE/zk-server.js" "$@"
