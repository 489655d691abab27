#!/usr/bin/env bash
# A three-node Cairn cluster on one machine, behind nginx: starts etcd,
# PostgreSQL, three `cairn serve` nodes and nginx, all under
# .cairn/cluster (never the system's data), and stays in the foreground;
# Ctrl-C stops everything. Safe to run twice (data is kept).
#
#   bash examples/cluster/run.sh            # http://127.0.0.1:8080/
#   CAIRN_NODES=2 bash examples/cluster/run.sh
#
# Then try: `cairn cluster status`, `cairn config set announcement "Hi"`,
# `cairn node drain n2` (with the environment printed below), or kill -9 a
# node and watch /admin/cluster.
set -euo pipefail
. "$(dirname "$0")/../../tests/scripts/lib.sh"
ensure_packages
cd "$ROOT"
DIR="$STATE/cluster"
NODES="${CAIRN_NODES:-3}"
PORT="${CAIRN_CLUSTER_PORT:-8080}"
mkdir -p "$DIR/logs"
PROFILE="${CAIRN_PROFILE:-release}"   # CAIRN_PROFILE=debug builds faster
if [ "$PROFILE" = release ]; then cargo build --release --locked -p cairn; else cargo build --locked -p cairn; fi
BIN="$ROOT/target/$PROFILE/cairn"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_pg "$DIR/pg"
}
trap cleanup EXIT INT TERM

# etcd (one member; a production cluster runs three or five).
ETCD_PORT=$(free_port); ETCD_PEER=$(free_port)
etcd --name cairn-demo --data-dir "$DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster "cairn-demo=http://127.0.0.1:$ETCD_PEER" >"$DIR/logs/etcd.log" 2>&1 &
pids+=($!)

start_pg "$DIR/pg"
psql_url="postgres://cairn@127.0.0.1:$PG_PORT"
"$PG_BIN/psql" "$psql_url/postgres" -qAtc "SELECT 1 FROM pg_database WHERE datname = 'cairn'" | grep -q 1 \
  || "$PG_BIN/psql" "$psql_url/postgres" -qc "CREATE DATABASE cairn"

export CAIRN_DATABASE_URL="$psql_url/cairn"
export CAIRN_ETCD_ENDPOINTS="127.0.0.1:$ETCD_PORT"
export CAIRN_CLUSTER=demo
export CAIRN_SHARED_HOME="$DIR/shared"
export CAIRN_BASE_URL="http://127.0.0.1:$PORT"
"$BIN" demo --admin admin --password-file "$DIR/admin-password" >/dev/null

: >"$DIR/upstreams"
for i in $(seq 1 "$NODES"); do
  p=$(free_port)
  CAIRN_NODE_ID="n$i" CAIRN_LISTEN="127.0.0.1:$p" CAIRN_LOCAL_HOME="$DIR/n$i" \
    "$BIN" serve >"$DIR/logs/n$i.log" 2>&1 &
  pids+=($!)
  echo "        server 127.0.0.1:$p max_fails=1 fail_timeout=5s;" >>"$DIR/upstreams"
done

cluster_nginx "$DIR/nginx" "127.0.0.1:$PORT" "$DIR/upstreams" "$DIR/logs/nginx.log"
pids+=("$NGINX_PID")

for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/status" | grep -q RUNNING && break
  sleep 1
done
cat <<MSG

  Cairn cluster "$CAIRN_CLUSTER": $NODES nodes behind nginx at http://127.0.0.1:$PORT/
  Log in as admin, password $(cat "$DIR/admin-password")
  Cluster page: http://127.0.0.1:$PORT/admin/cluster     Logs: $DIR/logs/

  To use the command line against this cluster:
    export CAIRN_DATABASE_URL=$CAIRN_DATABASE_URL CAIRN_ETCD_ENDPOINTS=$CAIRN_ETCD_ENDPOINTS CAIRN_CLUSTER=$CAIRN_CLUSTER
    $BIN cluster status
    $BIN config set announcement "Maintenance at 18:00"
    $BIN node drain n2

  Ctrl-C stops everything.
MSG
wait -n "${pids[@]}" || true
