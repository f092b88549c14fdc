#!/usr/bin/env bash
# Installs what test/realclients.test.ts drives: the real ZooKeeper clients (zkCli.sh, the Java client,
# Curator, kazoo with pure-sasl, the C client cli_mt, openssl for the TLS tests) from Debian
# packages, chromium for test/dashboard.test.ts (driven by playwright-core; no browser download),
# libfaketime for test/session-keepalive.test.ts (servers whose wall clock steps), e2fsprogs and
# util-linux (mkfs.ext4, fsfreeze) for test/disk-stall.test.ts (a peer's disk frozen), and a JDK
# (its keytool too) when javac is missing.
# Idempotent, and quick when everything is present (no apt-get call at all). Needs root or sudo.
# Reports to stderr; exits non-zero, naming what is missing, if something is still absent at the end.
# `npm test` (scripts/test.sh) runs it unless ZK_SKIP_REAL_CLIENTS=1.
set -euo pipefail

log() { echo "install-test-deps: $*" >&2; }

PACKAGES=(zookeeper zookeeper-bin libzookeeper-java libcurator-client-java libcurator-framework-java
  libcurator-recipes-java python3-kazoo openssl chromium libfaketime e2fsprogs util-linux)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# What the tests use; each entry: description|test command
checks=(
  "/usr/share/java/zookeeper.jar (libzookeeper-java)|test -f /usr/share/java/zookeeper.jar"
  "/usr/share/java/curator-framework.jar (libcurator-framework-java)|test -f /usr/share/java/curator-framework.jar"
  "/usr/share/java/curator-recipes.jar (libcurator-recipes-java)|test -f /usr/share/java/curator-recipes.jar"
  "/usr/share/zookeeper/bin/zkCli.sh (zookeeper)|test -x /usr/share/zookeeper/bin/zkCli.sh"
  "/usr/lib/zookeeper/bin/cli_mt (zookeeper-bin)|test -x /usr/lib/zookeeper/bin/cli_mt"
  "kazoo for /usr/bin/python3 (python3-kazoo)|/usr/bin/python3 -c 'import kazoo'"
  "openssl, for the TLS tests' throwaway certificates (openssl)|command -v openssl"
  "/usr/bin/chromium, for the dashboard's browser test (chromium)|test -x /usr/bin/chromium"
  "libfaketimeMT.so.1, for the wall-clock step test (libfaketime)|ls /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1 2>/dev/null | grep -q ."
  "mkfs.ext4, for the disk-stall test (e2fsprogs)|command -v mkfs.ext4"
  "fsfreeze, for the disk-stall test (util-linux)|command -v fsfreeze"
  "javac (default-jdk-headless)|command -v javac"
  "java (default-jdk-headless)|command -v java"
)

missing_now() {
  local c
  for c in "${checks[@]}"; do
    bash -c "${c#*|}" >/dev/null 2>&1 || echo "${c%%|*}"
  done
}

need=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PACKAGES[@]}"; do
    installed "$p" || need+=("$p")
  done
fi
if ! command -v javac >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
  need+=(default-jdk-headless)
fi

if [ ${#need[@]} -eq 0 ] && [ -z "$(missing_now)" ]; then
  log "all present (ZooKeeper clients, Curator, kazoo, cli_mt, chromium, libfaketime, mkfs.ext4, fsfreeze, JDK); nothing to do"
  exit 0
fi

if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found: this script installs Debian packages (${need[*]});"
    log "install them by other means, or set ZK_SKIP_REAL_CLIENTS=1 to skip the real-client tests"
    exit 1
  fi
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO=(sudo)
    else
      log "not root and sudo not found: run as root to install ${need[*]}"
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  log "installing: ${need[*]}"
  apt() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >&2; }
  try_install() {
    log "apt-get update"
    apt update -qq || return 1
    log "apt-get install -y --no-install-recommends ${need[*]}"
    apt install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}"
  }
  ok=0
  for attempt in 1 2 3; do
    if try_install; then
      ok=1
      break
    fi
    log "apt-get failed (attempt $attempt of 3)"
    [ "$attempt" -lt 3 ] && sleep $((attempt * 5))
  done
  [ "$ok" -eq 1 ] || log "apt-get did not succeed after 3 attempts"
fi

missing="$(missing_now)"
if [ -n "$missing" ]; then
  log "still missing after installing:"
  while IFS= read -r m; do log "  - $m"; done <<<"$missing"
  log "the real-client tests (test/realclients.test.ts) and the dashboard test need these; set ZK_SKIP_REAL_CLIENTS=1 to skip them"
  exit 1
fi
log "ok: ZooKeeper clients, Curator, kazoo, cli_mt, chromium and a JDK are installed"
