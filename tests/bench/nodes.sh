#!/usr/bin/env bash
# One, two and three Cairn nodes behind nginx: `run.sh` calls this after the
# mix, once its standalone node has stopped. Writes $OUT/nodes.json.
#
# Each setup is a real cluster: its own etcd (lease TTL 5 s), N nodes
# sharing the bench database and shared home, each with a copy of the
# caught-up search index in its own local home, and nginx balancing them
# round robin with no sticky sessions (examples/cluster/nginx.conf.template).
# wrk drives two workloads through nginx at 32 connections (below). On two cores adding nodes cannot add
# throughput (wrk, nginx, PostgreSQL and every node share the cores), so
# besides requests per second this records the nodes' CPU time per request
# (user + system time of every node process over the run, divided by the
# requests wrk completed): what scaling out costs.
#
# Needs (exported by run.sh): ROOT STATE B OUT BIN SESSION WRK_SECS
# CAIRN_DATABASE_URL CAIRN_SHARED_HOME, and $B/local holding the index of a
# node that has stopped.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
: "${B:?} ${OUT:?} ${BIN:?} ${SESSION:?} ${WRK_SECS:?} ${CAIRN_DATABASE_URL:?} ${CAIRN_SHARED_HOME:?}"
LUA="$ROOT/tests/bench/pageview.lua"
PATHS="$B/static/paths-cairn.txt"
HDR="Cookie: cairn_session=$SESSION"
TICK=$(getconf CLK_TCK)
D="$B/nodes"
rm -rf "$D"
mkdir -p "$D/logs"

pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
ETCD_PID=
trap 'stop_all; [ -z "$ETCD_PID" ] || kill "$ETCD_PID" 2>/dev/null || true' EXIT INT TERM

ETCD_PORT=$(free_port)
ETCD_PEER=$(free_port)
etcd --name cairn-bench --data-dir "$D/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster "cairn-bench=http://127.0.0.1:$ETCD_PEER" >"$D/logs/etcd.log" 2>&1 &
ETCD_PID=$!
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$ETCD_PORT/health" | grep -q true && break
  sleep 0.2
done
export CAIRN_ETCD_ENDPOINTS="127.0.0.1:$ETCD_PORT" CAIRN_CLUSTER=bench CAIRN_LOG=warn

cpu_ticks() { # the user + system ticks of the given processes
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}

# Two workloads: the warm page view of the web UI as the logged-in bench user
# (answered from the node's response cache), and a REST read of the same
# pages with HTTP Basic, as a script would make it
# (GET /rest/api/content/{id}?expand=body.view,version,space: two indexed
# queries and the cached rendering).
sed 's#^/spaces/[^/]*/pages/\([0-9]*\)$#/rest/api/content/\1?expand=body.view,version,space#' "$PATHS" >"$D/paths-rest.txt"
BASIC="Authorization: Basic $(printf '%s' "bench0000:bench-password-1" | base64)"

echo "[" >"$OUT/nodes.json"
first=1
for n in 1 2 3; do
  node_pids=()
  urls=()
  PORT=$(free_port)
  URL="http://127.0.0.1:$PORT"
  : >"$D/upstreams"
  for i in $(seq 1 "$n"); do
    rm -rf "$D/n$i"
    cp -a "$B/local" "$D/n$i"
    p=$(free_port)
    CAIRN_NODE_ID="n$i" CAIRN_LISTEN="127.0.0.1:$p" CAIRN_LOCAL_HOME="$D/n$i" CAIRN_BASE_URL="$URL" \
      "$BIN" serve >>"$D/logs/n$i.log" 2>&1 &
    pids+=($!)
    node_pids+=($!)
    urls+=("http://127.0.0.1:$p")
    echo "        server 127.0.0.1:$p max_fails=1 fail_timeout=5s;" >>"$D/upstreams"
  done
  for u in "${urls[@]}"; do
    ok=0
    for _ in $(seq 1 300); do
      if curl -sf "$u/status" | grep -q '"RUNNING"'; then ok=1; break; fi
      sleep 1
    done
    [ $ok = 1 ] || { echo "node $u did not reach RUNNING; see $D/logs" >&2; exit 1; }
  done
  cluster_nginx "$D/nginx-$n" "127.0.0.1:$PORT" "$D/upstreams" "$D/logs/nginx-$n.log"
  pids+=("$NGINX_PID")
  for _ in $(seq 1 50); do curl -sf "$URL/status" >/dev/null && break; sleep 0.2; done
  for workload in "page view" "REST read"; do
    if [ "$workload" = "page view" ]; then paths=$PATHS hdr=$HDR; else paths="$D/paths-rest.txt" hdr=$BASIC; fi
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "$hdr" "$URL$(head -1 "$paths")")
    [ "$code" = 200 ] || { echo "$workload through nginx answers $code" >&2; exit 1; }
    # Warm-up: every page once on every node (each node has its own render
    # and response caches), then a short run through nginx.
    for u in "${urls[@]}"; do
      sed "s#^#$u#" "$paths" | xargs -P 4 -n 1 curl -s -o /dev/null -H "$hdr"
    done
    BENCH_PATHS="$paths" wrk -t2 -c32 -d3s -s "$LUA" -H "$hdr" "$URL" >/dev/null
    c0=$(cpu_ticks "${node_pids[@]}")
    line=$(BENCH_PATHS="$paths" wrk -t2 -c32 -d"${WRK_SECS}s" -s "$LUA" -H "$hdr" "$URL" | sed -n 's/^BENCH //p')
    c1=$(cpu_ticks "${node_pids[@]}")
    [ -n "$line" ] || { echo "wrk printed no result for $workload on $n nodes" >&2; exit 1; }
    requests=$(echo "$line" | sed -n 's/.*"requests": \([0-9]*\).*/\1/p')
    cpu_s=$(awk -v t=$((c1 - c0)) -v hz="$TICK" 'BEGIN { printf "%.2f", t / hz }')
    cpu_ms=$(awk -v t=$((c1 - c0)) -v hz="$TICK" -v r="$requests" 'BEGIN { printf "%.4f", (r > 0 ? t * 1000 / hz / r : 0) }')
    [ $first = 1 ] || echo "," >>"$OUT/nodes.json"
    first=0
    echo "{\"workload\": \"$workload\", \"nodes\": $n, \"connections\": 32, \"node_cpu_seconds\": $cpu_s, \"cpu_ms_per_request\": $cpu_ms, ${line#\{}" >>"$OUT/nodes.json"
    echo "  $workload, $n node(s): $line, node CPU $cpu_ms ms per request"
  done
  stop_all
done
echo "]" >>"$OUT/nodes.json"
