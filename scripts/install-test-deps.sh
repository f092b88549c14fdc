#!/usr/bin/env bash
# Installs the real ZooKeeper clients and server the tests drive (Debian packages). Idempotent and
# quick when everything is present. Needs root or sudo.
set -euo pipefail
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need=()
for p in zookeeper zookeeper-bin libzookeeper-java libcurator-client-java libcurator-framework-java \
         libcurator-recipes-java python3-kazoo; do
  installed "$p" || need+=("$p")
done
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  echo "install-test-deps: apt-get install ${need[*]}" >&2
  for attempt in 1 2 3; do
    if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; then
      break
    fi
    [ "$attempt" -eq 3 ] && { echo "install-test-deps: apt-get failed" >&2; exit 1; }
    sleep $((attempt * 5))
  done
fi
missing=()
for f in /usr/share/java/zookeeper.jar /usr/share/java/curator-recipes.jar /usr/share/zookeeper/bin/zkCli.sh \
         /usr/lib/zookeeper/bin/cli_mt; do
  [ -e "$f" ] || missing+=("$f")
done
/usr/bin/python3 -c 'import kazoo' 2>/dev/null || missing+=("python3-kazoo")
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-deps: still missing: ${missing[*]}" >&2
  exit 1
fi
echo "install-test-deps: ok" >&2
