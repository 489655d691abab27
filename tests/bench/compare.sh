#!/usr/bin/env bash
# Page views and search of two commits, side by side on one corpus:
#
#   bash tests/bench/compare.sh REV_BEFORE REV_AFTER [PAGES]      (PAGES: 3000)
#
# Builds each commit's release `cairn` in a worktree under
# .cairn/bench/compare/ (one shared target directory), then for each, on a
# fresh database of the same deterministic corpus: warm page views with wrk
# at 32 connections (three runs with the response cache on, three with it
# off, so rendering is measured too) and `cairn-bench search` (CQL classes
# over REST). Besides requests/s and latency it reports the node's own CPU
# time per request (from /proc), which stays comparable when other work
# shares the machine. Writes .cairn/bench/compare/report.md.
# Knobs: CAIRN_BENCH_WRK_SECONDS (10).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
ensure_packages
[ $# -ge 2 ] || { echo "usage: $0 REV_BEFORE REV_AFTER [PAGES]  |  $0 --build REV..." >&2; exit 2; }
PAGES=${3:-3000}
[ "$1" = --build ] && PAGES=0
WRK_SECS=${CAIRN_BENCH_WRK_SECONDS:-10}
command -v wrk >/dev/null || { as_root apt-get update -qq; DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk; }

cd "$ROOT"
W="$STATE/bench/compare"
mkdir -p "$W/logs"
REPORT="$W/report.md"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_pg "$W/pg"
}
trap cleanup EXIT INT TERM

(cd tests/bench && cargo build --release --quiet)
BENCH="$ROOT/tests/bench/target/release/cairn-bench"
LUA="$ROOT/tests/bench/pageview.lua"

build() { # rev -> path of its release binary
  local sha dir
  sha=$(git rev-parse --short "$1")
  dir="$W/src-$sha"
  if [ -x "$W/cairn-$sha" ]; then echo "$W/cairn-$sha"; return; fi
  [ -d "$dir" ] || git worktree add -q --detach "$dir" "$sha" >&2
  (cd "$dir" && CARGO_TARGET_DIR="$W/target" cargo build --release --locked -p cairn --quiet >&2)
  cp "$W/target/release/cairn" "$W/cairn-$sha"
  echo "$W/cairn-$sha"
}

# `compare.sh --build REV...` only builds (to prepare while other work runs).
if [ "$1" = --build ]; then shift; for r in "$@"; do build "$r"; done; exit 0; fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

start_pg "$W/pg"
PG="postgres://cairn@127.0.0.1:$PG_PORT"

measure() { # rev label
  local rev=$1 bin sha
  sha=$(git rev-parse --short "$rev")
  bin=$(build "$rev")
  "$PG_BIN/psql" "$PG/postgres" -qc "DROP DATABASE IF EXISTS cairn_cmp" -c "CREATE DATABASE cairn_cmp"
  local port url node
  port=$(free_port)
  url="http://127.0.0.1:$port"
  rm -rf "$W/local" "$W/shared"
  export CAIRN_DATABASE_URL="$PG/cairn_cmp" CAIRN_LOCAL_HOME="$W/local" CAIRN_SHARED_HOME="$W/shared"
  export CAIRN_BASE_URL="$url" CAIRN_LOG=warn
  echo bench-admin-password | "$bin" user create admin --admin --display-name "Bench Admin" --password-stdin >/dev/null
  "$bin" config set rest_rate_limit off >/dev/null 2>&1 || true
  for cache in on off; do
    CAIRN_RESPONSE_CACHE=$cache CAIRN_LISTEN="127.0.0.1:$port" "$bin" serve >"$W/logs/cairn-$sha-$cache.log" 2>&1 &
    node=$!
    pids+=("$node")
    for _ in $(seq 1 120); do curl -sf "$url/status" | grep -q RUNNING && break; sleep 1; done
    if [ "$cache" = on ]; then
      echo "[$sha] loading $PAGES pages"
      "$BENCH" load --url "$url" --password bench-admin-password --pages "$PAGES" --users 20 \
        --manifest "$W/manifest-$sha.json" >"$W/logs/load-$sha.log" 2>&1
      for _ in $(seq 1 300); do curl -sf "$url/status" | grep -q '"RUNNING"' && break; sleep 1; done
      # Plugins that follow content events (content-report keeps its summary
      # in `kv`, a table page views read) work through the load's events;
      # every `kv` write moves the cache generation, so measure after them.
      for _ in $(seq 1 600); do
        behind=$("$PG_BIN/psql" "$PG/cairn_cmp" -tAc "SELECT count(*) FROM plugin_event_positions p
          WHERE p.seq < (SELECT coalesce(max(seq), 0) FROM plugin_events)" 2>/dev/null || echo 0)
        [ "$behind" = 0 ] && break
        sleep 1
      done
      rm -rf "$W/static"
      "$BENCH" snapshot --url "$url" --manifest "$W/manifest-$sha.json" --count 1000 --out "$W/static" >/dev/null
      cp "$W/static/paths-cairn.txt" "$W/paths-$sha.txt"
    fi
    rm -f "$W/cookies"
    local csrf session
    csrf=$(curl -s -c "$W/cookies" "$url/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
    curl -s -b "$W/cookies" -c "$W/cookies" -o /dev/null --data-urlencode "_csrf=$csrf" \
      --data-urlencode "username=bench0000" --data-urlencode "password=bench-password-1" --data-urlencode "next=/" "$url/login"
    session=$(awk '$6 == "cairn_session" {print $7}' "$W/cookies")
    local hdr="Cookie: cairn_session=$session"
    sed "s#^#$url#" "$W/paths-$sha.txt" | xargs -P 4 -n 1 curl -s -o /dev/null -H "$hdr"
    BENCH_PATHS="$W/paths-$sha.txt" wrk -t2 -c8 -d3s -s "$LUA" -H "$hdr" "$url" >/dev/null
    for run in 1 2 3; do
      local t0 t1 line reqs
      t0=$(cpu_ticks "$node")
      line=$(BENCH_PATHS="$W/paths-$sha.txt" wrk -t2 -c32 -d"${WRK_SECS}s" -s "$LUA" -H "$hdr" "$url" | sed -n 's/^BENCH //p')
      t1=$(cpu_ticks "$node")
      reqs=$(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
      echo "$line" | python3 -c "
import json, sys
d = json.load(sys.stdin)
cpu = ($t1 - $t0) / $TICK * 1000 / max(1, $reqs)
print(f'| $sha | page view, response cache $cache | $run | {d[\"rps\"]:.0f} | {d[\"p50_ms\"]:.2f} | {d[\"p99_ms\"]:.2f} | {cpu:.3f} |')
" | tee -a "$W/rows.md"
    done
    if [ "$cache" = on ]; then
      "$BENCH" search --pg "$PG/cairn_cmp" --url "$url" --manifest "$W/manifest-$sha.json" --pages "$PAGES" \
        --out "$W/search-$sha.json" >"$W/logs/search-$sha.log" 2>&1
    fi
    kill "$node"; wait "$node" 2>/dev/null || true
  done
}

: >"$W/rows.md"
for rev in "$1" "$2"; do measure "$rev"; done
{
  echo "# Page view and search: $(git rev-parse --short "$1") → $(git rev-parse --short "$2")"
  echo
  echo "$PAGES pages; wrk 32 connections, ${WRK_SECS}s per run; $(nproc) cores, shared with whatever else runs."
  echo
  echo "| commit | what | run | req/s | p50 ms | p99 ms | node CPU ms/request |"
  echo "|---|---|---|---|---|---|---|"
  cat "$W/rows.md"
  echo
  for rev in "$1" "$2"; do
    sha=$(git rev-parse --short "$rev")
    echo "search, $sha (cairn-bench search):"
    echo '```'
    cat "$W/search-$sha.json" 2>/dev/null || tail -5 "$W/logs/search-$sha.log"
    echo '```'
  done
} >"$REPORT"
cat "$REPORT"
