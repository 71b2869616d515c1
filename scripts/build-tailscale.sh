#!/usr/bin/env bash
# Owns: building the official tailscale/tailscaled binaries used by the
# real-client test harness (test/harness/tailscale.ts).
#
# Usage: scripts/build-tailscale.sh [VERSION]      (default v1.102.3)
# Output dir: ${SWITCHBOARD_TS_CACHE:-<repo root>/.cache/tailscale}/<VERSION>/
# The build is skipped when both binaries are already present and executable.
# The last line printed is the directory holding the binaries.
set -euo pipefail
VERSION="${1:-v1.102.3}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "${REPO_ROOT}/scripts/lib/go-build.sh"

# `go install pkg@version` embeds no VCS info, so tailscale would report its
# version as "1.102.3-ERR-BuildInfo" to control. Stamp the plain release
# number instead, as the upstream build_dist.sh does.
# Only release tags (vX.Y.Z) are stamped; other module queries keep Go's default.
GO_LDFLAGS=""
if [[ "${VERSION}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  STAMP="${VERSION#v}"
  GO_LDFLAGS="-X tailscale.com/version.longStamp=${STAMP} -X tailscale.com/version.shortStamp=${STAMP}"
fi
export GO_LDFLAGS
go_build_cached build-tailscale "${VERSION}" "${SWITCHBOARD_TS_CACHE:-${REPO_ROOT}/.cache/tailscale}" tailscale.com cmd/tailscale cmd/tailscaled
