# Shared by tests/run.sh and examples/demo.sh: install what is missing and run a
# project-local PostgreSQL. Sourced, not executed. Safe to run twice.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE="$ROOT/.cairn"
PG_BIN=""

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ensure_packages [test]: with "test", also what only the test suite needs
# (headless Chromium and its WebDriver for the browser test, nginx).
ensure_packages() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  # etcd coordinates clusters; protoc builds its client library.
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v protoc >/dev/null || missing+=(protobuf-compiler)
  if [ "${1:-}" = test ]; then
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
    # npm installs axe-core (tests/browser/package-lock.json) for the browser tests.
    command -v npm >/dev/null || missing+=(npm)
    python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
    # nginx in front of a test cluster.
    [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx-light)
  fi
  command -v cc >/dev/null || missing+=(build-essential)
  command -v curl >/dev/null || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
  fi
  if ! command -v cargo >/dev/null; then
    [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  fi
  if ! command -v cargo >/dev/null; then
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    . "$HOME/.cargo/env"
  fi
  if command -v rustup >/dev/null && ! rustup target list --installed | grep -q wasm32-wasip2; then
    rustup target add wasm32-wasip2
  fi
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
}

# run a PostgreSQL command as an unprivileged user (initdb and pg_ctl refuse root)
pg_run() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo 55432
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
PY
}

# start_pg DIR -> exports PG_PORT; PostgreSQL listens on 127.0.0.1 only, trust auth
start_pg() {
  local dir="$1"
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$dir" postgres
    chown postgres "$dir"
    chmod 755 "$STATE"
    # the postgres user must be able to reach the project-local directory
    local d="$dir"
    while [ "$d" != "/" ]; do
      d=$(dirname "$d")
      runuser -u postgres -- test -x "$d" 2>/dev/null || chmod o+x "$d"
    done
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pg_run "$PG_BIN/initdb" -D "$dir/data" -U cairn --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log"; return 1; }
  fi
  if pg_run "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    PG_PORT=$(sed -n 4p "$dir/data/postmaster.pid" | tr -d ' ')
  else
    PG_PORT=$(free_port)
    pg_run "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null \
      || { cat "$dir/server.log"; return 1; }
  fi
  export PG_PORT
}

stop_pg() {
  pg_run "$PG_BIN/pg_ctl" -D "$1/data" -m fast stop >/dev/null 2>&1 || true
}

# make_venv DIR PIP-SPEC...: a project-local virtualenv with packages from
# PyPI; reused when it already imports what it needs.
make_venv() {
  local dir="$1"; shift
  local probe="$1"; shift
  if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c "import $probe" 2>/dev/null; then
    return 0
  fi
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "$@"
}

# cluster_nginx PREFIX LISTEN UPSTREAMS_FILE LOG: writes PREFIX/nginx.conf from
# examples/cluster/nginx.conf.template (round robin over the `server` lines in
# UPSTREAMS_FILE) and starts nginx in the background; NGINX_PID is its pid.
cluster_nginx() {
  local prefix="$1" listen="$2" ups="$3" log="$4"
  mkdir -p "$prefix/logs"
  # Started as root, nginx's workers run as nobody and write temp files here.
  chmod 777 "$prefix"
  awk -v ups="$ups" '/@UPSTREAMS@/ { while ((getline l < ups) > 0) print l; next } { print }' \
      "$ROOT/examples/cluster/nginx.conf.template" \
    | sed -e "s#@PREFIX@#$prefix#g" -e "s#@LISTEN@#$listen#" >"$prefix/nginx.conf"
  "$(command -v nginx || echo /usr/sbin/nginx)" -p "$prefix" -c "$prefix/nginx.conf" -g "daemon off;" 2>"$log" &
  NGINX_PID=$!
}
