#!/usr/bin/env bash
# The project's whole test run, as README.md gives it: installs the real ZooKeeper clients the tests
# drive (Debian packages; skipped with ZK_SKIP_REAL_CLIENTS=1), builds, then runs every vitest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi
if [ "${ZK_SKIP_REAL_CLIENTS:-}" != "1" ]; then
  bash scripts/install-test-deps.sh
fi
npx tsc -p tsconfig.json
npx tsc -p tsconfig.test.json
# the layers of src/ (.dependency-cruiser.cjs): no import upwards, no cycle, pure Zab cores
npx depcruise src --config .dependency-cruiser.cjs
# the tests' temporary directories (dataDirs, logs, compiled Java clients) all go under one, removed
# at the end, so repeated runs do not fill /tmp (KEEP_TEST_TMP=1 keeps it to look at)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/zk-server-tests.XXXXXX")
# as /tmp is: tests run servers as another user (docker-entrypoint drops root to zookeeper)
chmod 1777 "$TEST_TMP"
if [ "${KEEP_TEST_TMP:-}" != "1" ]; then
  trap 'rm -rf "$TEST_TMP"' EXIT
else
  echo "test temporary files: $TEST_TMP"
fi
export TMPDIR="$TEST_TMP"
npx vitest run "$@"
