#!/usr/bin/env bash
# Sets everything up and starts Cairn: installs what is missing, starts a
# private PostgreSQL under .cairn/demo-pg, builds and runs `cairn serve`.
# Safe to run twice. Stop with Ctrl-C.
set -euo pipefail
. "$(dirname "$0")/../tests/scripts/lib.sh"
ensure_packages
cd "$ROOT"
mkdir -p "$STATE"
PGDIR="$STATE/demo-pg"
start_pg "$PGDIR"
trap 'stop_pg "$PGDIR"' EXIT
pg_run "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U cairn -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='cairn'" | grep -q 1 \
  || pg_run "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U cairn cairn
cargo build --release --locked -p cairn
export CAIRN_DATABASE_URL="postgres://cairn@127.0.0.1:$PG_PORT/cairn"
export CAIRN_LOCAL_HOME="$STATE/local" CAIRN_SHARED_HOME="$STATE/shared"
echo "Cairn: http://${CAIRN_LISTEN:-127.0.0.1:8090}/status"
./target/release/cairn serve
