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
CACHE_ROOT="${SWITCHBOARD_TS_CACHE:-${REPO_ROOT}/.cache/tailscale}"
OUT_DIR="${CACHE_ROOT}/${VERSION}"

# VERSION is a path component of the cache dir: keep it to safe characters.
if [[ ! "${VERSION}" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]]; then
  echo "build-tailscale: bad VERSION '${VERSION}' (expected e.g. v1.102.3)" >&2
  exit 2
fi

if [[ -x "${OUT_DIR}/tailscale" && -x "${OUT_DIR}/tailscaled" ]]; then
  echo "build-tailscale: tailscale ${VERSION} already built in ${OUT_DIR}, skipping build" >&2
  echo "${OUT_DIR}"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-tailscale: 'go' not found in PATH (Go >= 1.26 is needed for ${VERSION})" >&2
  exit 1
fi

mkdir -p "${OUT_DIR}"
# Build into a temporary GOBIN next to the target and move the binaries into
# place only once both exist, so an interrupted build never leaves a
# half-populated directory that a later run would mistake for a finished one.
TMP_BIN="$(mktemp -d "${CACHE_ROOT}/.build-${VERSION}.XXXXXX")"
trap 'rm -rf "${TMP_BIN}"' EXIT

# `go install pkg@version` embeds no VCS info, so tailscale would report its
# version as "1.102.3-ERR-BuildInfo" to control. Stamp the plain release
# number instead, as the upstream build_dist.sh does.
# Only release tags (vX.Y.Z) are stamped; other module queries keep Go's default.
LDFLAGS=""
if [[ "${VERSION}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  STAMP="${VERSION#v}"
  LDFLAGS="-X tailscale.com/version.longStamp=${STAMP} -X tailscale.com/version.shortStamp=${STAMP}"
fi

echo "build-tailscale: building tailscale ${VERSION} with $(go version) ..." >&2
start=$(date +%s)
GOTOOLCHAIN=local GOBIN="${TMP_BIN}" go install -ldflags="${LDFLAGS}" \
  "tailscale.com/cmd/tailscale@${VERSION}" \
  "tailscale.com/cmd/tailscaled@${VERSION}"
mv -f "${TMP_BIN}/tailscale" "${OUT_DIR}/tailscale"
mv -f "${TMP_BIN}/tailscaled" "${OUT_DIR}/tailscaled"
end=$(date +%s)
echo "build-tailscale: built in $((end - start))s" >&2

echo "${OUT_DIR}"
