#!/usr/bin/env bash
# Builds Tailscale's own DERP server (cmd/derper), the yardstick of the DERP relay benchmark
# (bench/derp/). Usage: scripts/build-derper.sh [VERSION]      (default v1.102.3)
# Output: ${SWITCHBOARD_DERPER_CACHE:-<repo root>/.cache/derper}/<VERSION>/derper
# Skipped when the binary is already present. The last line printed is its directory.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "${REPO_ROOT}/scripts/lib/go-build.sh"
go_build_cached build-derper "${1:-v1.102.3}" "${SWITCHBOARD_DERPER_CACHE:-${REPO_ROOT}/.cache/derper}" tailscale.com cmd/derper
