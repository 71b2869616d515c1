#!/usr/bin/env bash
# Builds the official headscale CLI used as a judge of our admin API (test/e2e/headscale-cli.test.ts).
#
# Usage: scripts/build-headscale.sh [VERSION]      (default v0.29.2)
# Output: ${SWITCHBOARD_HS_CACHE:-<repo root>/.cache/headscale}/<VERSION>/headscale
# Skipped when the binary is already present and executable. The last line printed is the
# directory holding the binary.
set -euo pipefail

VERSION="${1:-v0.29.2}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_ROOT="${SWITCHBOARD_HS_CACHE:-${REPO_ROOT}/.cache/headscale}"
OUT_DIR="${CACHE_ROOT}/${VERSION}"

if [[ ! "${VERSION}" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]]; then
  echo "build-headscale: bad VERSION '${VERSION}' (expected e.g. v0.29.2)" >&2
  exit 2
fi

if [[ -x "${OUT_DIR}/headscale" ]]; then
  echo "build-headscale: headscale ${VERSION} already built in ${OUT_DIR}, skipping build" >&2
  echo "${OUT_DIR}"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build-headscale: 'go' not found in PATH" >&2
  exit 1
fi

mkdir -p "${OUT_DIR}"
# Build into a temporary GOBIN and move the binary into place only when it exists, so an
# interrupted build never leaves something a later run would take for a finished one.
TMP_BIN="$(mktemp -d "${CACHE_ROOT}/.build-${VERSION}.XXXXXX")"
trap 'rm -rf "${TMP_BIN}"' EXIT

echo "build-headscale: building headscale ${VERSION} with $(go version) ..." >&2
start=$(date +%s)
if ! GOTOOLCHAIN=local GOBIN="${TMP_BIN}" go install "github.com/juanfont/headscale/cmd/headscale@${VERSION}"; then
  # Some module proxies refuse the version list that `go install pkg@version` asks for (to look
  # for deprecations) while serving the module itself. Fall back to building from the module
  # source: download it (no version list needed), then build inside it.
  echo "build-headscale: go install failed; building from the downloaded module source instead" >&2
  SRC="$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "github.com/juanfont/headscale@${VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [[ -z "${SRC}" || ! -d "${SRC}" ]]; then
    echo "build-headscale: could not download github.com/juanfont/headscale@${VERSION}" >&2
    exit 1
  fi
  (cd "${SRC}" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "${TMP_BIN}/headscale" ./cmd/headscale)
fi
mv -f "${TMP_BIN}/headscale" "${OUT_DIR}/headscale"
end=$(date +%s)
echo "build-headscale: built in $((end - start))s" >&2

echo "${OUT_DIR}"
