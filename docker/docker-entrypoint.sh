#!/bin/sh
# zk-server's container entrypoint. It behaves as the official `zookeeper` image's
# docker-entrypoint.sh (docker-library/zookeeper, 3.8): for the same environment it writes the same
# zoo.cfg and myid, byte for byte (test/docker-entrypoint.test.ts compares them with what the
# official script writes), so docker run -e ... and compose files written for that image work here.
#
#   1. Started as root to run the server (CMD zkServer.sh ...): hand the data, txn log and log
#      directories to the user `zookeeper` (the volumes may come from the host owned by anyone),
#      then run this script again as that user. Any other command (sh, bash, node ...) runs as is,
#      and so does everything under `docker run --user`.
#   2. No $ZOO_CONF_DIR/zoo.cfg yet: write one from the ZOO_* variables. An existing file (a mounted
#      zoo.cfg, or the one written at the first start) is never touched.
#   3. No $ZOO_DATA_DIR/myid yet: write ZOO_MY_ID (1 when unset or empty) to it.
#   4. exec the command.
#
# POSIX sh, so the same script serves a Debian (dash) and an Alpine (busybox) base.
set -e

# The image's ENV sets every one of these; the defaults here (the same values) only matter when the
# script runs elsewhere. ${VAR-default}: a variable set to the empty string stays empty, as there.
ZOO_CONF_DIR=${ZOO_CONF_DIR-/conf}
ZOO_DATA_DIR=${ZOO_DATA_DIR-/data}
ZOO_DATA_LOG_DIR=${ZOO_DATA_LOG_DIR-/datalog}
ZOO_LOG_DIR=${ZOO_LOG_DIR-/logs}
ZOO_TICK_TIME=${ZOO_TICK_TIME-2000}
ZOO_INIT_LIMIT=${ZOO_INIT_LIMIT-5}
ZOO_SYNC_LIMIT=${ZOO_SYNC_LIMIT-2}
ZOO_AUTOPURGE_PURGEINTERVAL=${ZOO_AUTOPURGE_PURGEINTERVAL-0}
ZOO_AUTOPURGE_SNAPRETAINCOUNT=${ZOO_AUTOPURGE_SNAPRETAINCOUNT-3}
ZOO_MAX_CLIENT_CNXNS=${ZOO_MAX_CLIENT_CNXNS-60}
ZOO_STANDALONE_ENABLED=${ZOO_STANDALONE_ENABLED-true}
ZOO_ADMINSERVER_ENABLED=${ZOO_ADMINSERVER_ENABLED-true}
# zkServer.sh (bin/zkServer.sh -> zk-server) looks for zoo.cfg in $ZOOCFGDIR; the image sets it to /conf
if [ -z "${ZOOCFGDIR-}" ]; then
  ZOOCFGDIR=$ZOO_CONF_DIR
  export ZOOCFGDIR
fi

# ZOO_SERVERS and ZOO_CFG_EXTRA are lists of words split on blanks and newlines; `set -f` keeps a
# word such as `4lw.commands.whitelist=*` from being matched against the files of the working
# directory (the official script, running bash without it, would expand a word that names files).
set -f

# -- 1. drop root -----------------------------------------------------------------------------------
# The official script does this when the command is zkServer.sh and the uid is 0; here also for
# zk-server's own names for it, and only when the user `zookeeper` exists, so that the script run as
# root outside the image (or in an image without that user) does not fail on chown.
is_server_command() {
  case "${1-}" in
    zkServer.sh | */zkServer.sh | zk-server | zk-server.js | */zk-server.js) return 0 ;;
    *) return 1 ;;
  esac
}
if is_server_command "${1-}" && [ "$(id -u)" = 0 ] && id zookeeper >/dev/null 2>&1; then
  chown -R zookeeper "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR" "$ZOO_LOG_DIR"
  # setpriv is util-linux's (always in Debian); gosu and su-exec are what other images carry
  if command -v setpriv >/dev/null 2>&1; then
    exec setpriv --reuid=zookeeper --regid="$(id -g zookeeper)" --init-groups "$0" "$@"
  elif command -v gosu >/dev/null 2>&1; then
    exec gosu zookeeper "$0" "$@"
  elif command -v su-exec >/dev/null 2>&1; then
    exec su-exec zookeeper "$0" "$@"
  fi
  echo "docker-entrypoint.sh: no setpriv, gosu or su-exec to run as zookeeper; running as root" >&2
fi

# -- 2. zoo.cfg -----------------------------------------------------------------------------------
# Key order and spelling as the official script writes them. printf, not echo: a word is written
# as it is (dash's echo would turn a backslash sequence into a control character).
cfg=$ZOO_CONF_DIR/zoo.cfg
if [ ! -f "$cfg" ]; then
  servers=${ZOO_SERVERS-}
  if [ -z "$servers" ]; then
    servers='server.1=localhost:2888:3888;2181'
  fi
  # written aside and renamed, so that a failed write leaves no half zoo.cfg that a restart would
  # then take as the operator's own
  tmp=$ZOO_CONF_DIR/.zoo.cfg.$$
  {
    printf '%s=%s\n' \
      dataDir "$ZOO_DATA_DIR" \
      dataLogDir "$ZOO_DATA_LOG_DIR" \
      tickTime "$ZOO_TICK_TIME" \
      initLimit "$ZOO_INIT_LIMIT" \
      syncLimit "$ZOO_SYNC_LIMIT" \
      autopurge.snapRetainCount "$ZOO_AUTOPURGE_SNAPRETAINCOUNT" \
      autopurge.purgeInterval "$ZOO_AUTOPURGE_PURGEINTERVAL" \
      maxClientCnxns "$ZOO_MAX_CLIENT_CNXNS" \
      standaloneEnabled "$ZOO_STANDALONE_ENABLED" \
      admin.enableServer "$ZOO_ADMINSERVER_ENABLED"
    for word in $servers; do
      printf '%s\n' "$word"
    done
    if [ -n "${ZOO_4LW_COMMANDS_WHITELIST-}" ]; then
      printf '4lw.commands.whitelist=%s\n' "$ZOO_4LW_COMMANDS_WHITELIST"
    fi
    for word in ${ZOO_CFG_EXTRA-}; do
      printf '%s\n' "$word"
    done
  } >"$tmp"
  mv -f "$tmp" "$cfg"
fi

# -- 3. myid --------------------------------------------------------------------------------------
if [ ! -f "$ZOO_DATA_DIR/myid" ]; then
  printf '%s\n' "${ZOO_MY_ID:-1}" >"$ZOO_DATA_DIR/myid"
fi

set +f
# -- 4. the command -------------------------------------------------------------------------------
exec "$@"
