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
npx vitest run "$@"
