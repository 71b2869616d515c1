#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the store tests (Debian's postgresql package), on
# 127.0.0.1:${SWITCHBOARD_PG_PORT:-55432} with trust auth, data under .cache/postgres.
# Installs the package when it is missing and we are root. Prints the connection URL last.
# Usage: scripts/postgres.sh [start|stop]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
port=${SWITCHBOARD_PG_PORT:-55432}
data=${SWITCHBOARD_PG_DIR:-$root/.cache/postgres}
action=${1:-start}

find_bin() {
  local b
  for b in /usr/lib/postgresql/*/bin; do [ -x "$b/pg_ctl" ] && { echo "$b"; return 0; }; done
  return 1
}

bindir=$(find_bin || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "postgres.sh: installing Debian's postgresql package" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2
    bindir=$(find_bin)
  else
    echo "postgres.sh: PostgreSQL is not installed; install Debian's postgresql package" >&2
    exit 1
  fi
fi

# initdb and postgres refuse to run as root: use the postgres system user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "$action" = stop ]; then
  [ -f "$data/PG_VERSION" ] && as_pg "$bindir/pg_ctl" -D "$data" -m fast stop >&2 || true
  exit 0
fi

if [ ! -f "$data/PG_VERSION" ]; then
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
  as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
fi

if ! as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  # Another test server (e.g. left by an earlier run from another checkout) already answers on
  # the port with trust auth: use it rather than fail to bind.
  if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
    echo "postgres.sh: reusing the PostgreSQL server already on 127.0.0.1:$port" >&2
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    exit 0
  fi
  as_pg "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c max_connections=200" start >&2 ||
    { cat "$data/server.log" >&2; exit 1; }
fi

echo "postgres://postgres@127.0.0.1:$port/postgres"
