# Sourced by scripts/build-*.sh: builds pinned Go commands into a cache, once.
#
#   go_build_cached NAME VERSION CACHE_ROOT MODULE CMD...     (CMD: a package path inside MODULE)
#
# Builds MODULE@VERSION's commands with `GOTOOLCHAIN=local go install` (GO_LDFLAGS, if set, as
# -ldflags) into CACHE_ROOT/VERSION/, skipped when every binary is already there. Messages go to
# stderr prefixed with NAME; the last line on stdout is the directory holding the binaries.

go_build_cached() {
  local name="$1" version="$2" cache_root="$3" module="$4"
  shift 4
  local out_dir="${cache_root}/${version}" cmd bin missing=0

  # VERSION is a path component of the cache dir: keep it to safe characters.
  if [[ ! "${version}" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]]; then
    echo "${name}: bad VERSION '${version}' (expected e.g. v1.2.3)" >&2
    exit 2
  fi
  for cmd in "$@"; do [[ -x "${out_dir}/$(basename "${cmd}")" ]] || missing=1; done
  if [[ "${missing}" == 0 ]]; then
    echo "${name}: ${module} ${version} already built in ${out_dir}, skipping build" >&2
    echo "${out_dir}"
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "${name}: 'go' not found in PATH (Go >= 1.26 is needed)" >&2
    exit 1
  fi

  mkdir -p "${out_dir}"
  # Build into a temporary GOBIN and move the binaries into place only once all exist, so an
  # interrupted build never leaves something a later run would take for a finished one.
  local tmp_bin
  tmp_bin="$(mktemp -d "${cache_root}/.build-${version}.XXXXXX")"
  trap "rm -rf '${tmp_bin}'" EXIT

  echo "${name}: building ${module} ${version} with $(go version) ..." >&2
  local start end pkgs=()
  start=$(date +%s)
  for cmd in "$@"; do pkgs+=("${module}/${cmd}@${version}"); done
  if ! GOTOOLCHAIN=local GOBIN="${tmp_bin}" go install -ldflags="${GO_LDFLAGS:-}" "${pkgs[@]}"; then
    # Some module proxies refuse the version list that `go install pkg@version` asks for while
    # serving the module itself: download the module (no version list needed) and build in it.
    echo "${name}: go install failed; building from the downloaded module source instead" >&2
    local src
    src="$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "${module}@${version}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    if [[ -z "${src}" || ! -d "${src}" ]]; then
      echo "${name}: could not download ${module}@${version}" >&2
      exit 1
    fi
    for cmd in "$@"; do
      (cd "${src}" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -ldflags="${GO_LDFLAGS:-}" -o "${tmp_bin}/$(basename "${cmd}")" "./${cmd}")
    done
  fi
  for cmd in "$@"; do bin="$(basename "${cmd}")"; mv -f "${tmp_bin}/${bin}" "${out_dir}/${bin}"; done
  end=$(date +%s)
  echo "${name}: built in $((end - start))s" >&2
  echo "${out_dir}"
}
