#!/usr/bin/env bash
# Runs every test: builds the project, starts a throw-away PostgreSQL (scripts/postgres.sh),
# builds the pinned Tailscale clients (scripts/build-tailscale.sh), then runs node's test runner
# over the unit tests (src/**/*.test.ts), the in-process server tier (test/server) and the
# real-client tier (test/e2e, test/harness).
# Usage: scripts/test.sh [unit|server|e2e|all]   (default: all)
set -euo pipefail
shopt -s globstar nullglob

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tier=${1:-all}

npm run --silent build
npm run --silent typecheck

if [ -z "${SWITCHBOARD_TEST_POSTGRES:-}" ] && [ "$tier" != e2e ]; then
  SWITCHBOARD_TEST_POSTGRES=$(bash scripts/postgres.sh start)
  export SWITCHBOARD_TEST_POSTGRES
  # Stop the server this run started, whatever the outcome (a reused one is left alone).
  trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
fi

if [ "$tier" = all ] || [ "$tier" = e2e ]; then
  bash scripts/build-tailscale.sh v1.102.3
  bash scripts/build-tailscale.sh v1.80.3   # the oldest supported client
  bash scripts/build-headscale.sh v0.29.2   # the official CLI, judge of the admin API
fi

files=()
case "$tier" in
  unit) files=(src/**/*.test.ts) ;;
  server) files=(test/server/**/*.test.ts) ;;
  e2e) files=(test/harness/**/*.test.ts test/e2e/**/*.test.ts) ;;
  all) files=(src/**/*.test.ts test/server/**/*.test.ts test/harness/**/*.test.ts test/e2e/**/*.test.ts) ;;
  *) echo "usage: scripts/test.sh [unit|server|e2e|all]" >&2; exit 2 ;;
esac

node --import tsx --test --test-concurrency=2 "${files[@]}"
