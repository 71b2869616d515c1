#!/usr/bin/env bash
# Builds Tailscale's own DERP server (cmd/derper), the yardstick of the DERP relay benchmark
# (bench/derp/). Usage: scripts/build-derper.sh [VERSION]      (default v1.102.3)
# Output: ${SWITCHBOARD_DERPER_CACHE:-<repo root>/.cache/derper}/<VERSION>/derper
# Skipped when the binary is already present and executable. The last line printed is the
# directory holding the binary.
set -euo pipefail

VERSION="${1:-v1.102.3}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${SWITCHBOARD_DERPER_CACHE:-${REPO_ROOT}/.cache/derper}"
OUT_DIR="${CACHE_ROOT}/${VERSION}"

if [[ ! "${VERSION}" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]]; then
  echo "build-derper: bad VERSION '${VERSION}' (expected e.g. v1.102.3)" >&2
  exit 2
fi

if [[ -x "${OUT_DIR}/derper" ]]; then
  echo "build-derper: derper ${VERSION} already built in ${OUT_DIR}, skipping build" >&2
  echo "${OUT_DIR}"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-derper: 'go' not found in PATH (Go >= 1.26 is needed for ${VERSION})" >&2
  exit 1
fi

mkdir -p "${OUT_DIR}"
# Build into a temporary GOBIN and move the binary into place only when it exists, so an
# interrupted build never leaves something a later run would take for a finished one.
TMP_BIN="$(mktemp -d "${CACHE_ROOT}/.build-${VERSION}.XXXXXX")"
trap 'rm -rf "${TMP_BIN}"' EXIT

echo "build-derper: building derper ${VERSION} with $(go version) ..." >&2
start=$(date +%s)
if ! GOTOOLCHAIN=local GOBIN="${TMP_BIN}" go install "tailscale.com/cmd/derper@${VERSION}"; then
  # Some module proxies refuse the version list that `go install pkg@version` asks for while
  # serving the module itself: download the module (no version list needed) and build in it.
  echo "build-derper: go install failed; building from the downloaded module source instead" >&2
  SRC="$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "tailscale.com@${VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [[ -z "${SRC}" || ! -d "${SRC}" ]]; then
    echo "build-derper: could not download tailscale.com@${VERSION}" >&2
    exit 1
  fi
  (cd "${SRC}" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "${TMP_BIN}/derper" ./cmd/derper)
fi
mv -f "${TMP_BIN}/derper" "${OUT_DIR}/derper"
end=$(date +%s)
echo "build-derper: built in $((end - start))s" >&2

echo "${OUT_DIR}"
