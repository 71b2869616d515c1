#!/usr/bin/env bash
# Builds the official headscale binary: the CLI that judges our admin API
# (test/e2e/headscale-cli.test.ts) and the server the load benchmark compares against.
# Usage: scripts/build-headscale.sh [VERSION]      (default v0.29.2)
# Output: ${SWITCHBOARD_HS_CACHE:-<repo root>/.cache/headscale}/<VERSION>/headscale
# Skipped when the binary is already present. The last line printed is its directory.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "${REPO_ROOT}/scripts/lib/go-build.sh"
go_build_cached build-headscale "${1:-v0.29.2}" "${SWITCHBOARD_HS_CACHE:-${REPO_ROOT}/.cache/headscale}" github.com/juanfont/headscale cmd/headscale
