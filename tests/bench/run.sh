#!/usr/bin/env bash
# The performance harness: one command, `bash tests/bench/run.sh [PAGES]`
# (default 10000). Installs what is missing, starts its own PostgreSQL, a
# release Cairn node, nginx and MediaWiki (php-fpm) under .cairn/bench, loads
# the same deterministic corpus into Cairn and MediaWiki, and measures:
#   - warm page views with wrk: Cairn, nginx serving Cairn's HTML as static
#     files, and MediaWiki, at 1 to 64 connections;
#   - the Data Center App Performance Toolkit mix with goose (logged-in users);
#   - CQL over REST against PostgreSQL full-text search on the same corpus;
#   - the node's resident memory;
#   - one, two and three clustered nodes (with etcd) behind nginx: page-view
#     throughput and the nodes' CPU time per request (nodes.sh).
# Writes tests/bench/results/<date>/report.md with PNG plots.
# Knobs: CAIRN_BENCH_USERS (200); CAIRN_BENCH_MIX, the mix runs as
# "actions-per-hour:seconds ..." (default "20000:180 200000:60 0:60": the
# toolkit's pacing, ten times it, and a closed loop with no think time);
# CAIRN_BENCH_WRK_SECONDS (10); CAIRN_BENCH_MEDIAWIKI (1; 0 skips it).
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
ensure_packages
PAGES=${1:-10000}
USERS=${CAIRN_BENCH_USERS:-200}
MIX_RUNS=${CAIRN_BENCH_MIX:-20000:180 200000:60 0:60}
WRK_SECS=${CAIRN_BENCH_WRK_SECONDS:-10}
WITH_MW=${CAIRN_BENCH_MEDIAWIKI:-1}
missing=()
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx-light)
python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
if [ "$WITH_MW" = 1 ]; then
  [ -f /usr/share/mediawiki/index.php ] || missing+=(mediawiki)
  command -v php-fpm8.2 >/dev/null || ls /usr/sbin/php-fpm* >/dev/null 2>&1 || missing+=(php-fpm)
  php -m 2>/dev/null | grep -qi pdo_sqlite || missing+=(php-sqlite3)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cd "$ROOT"
B="$STATE/bench"
OUT="$ROOT/tests/bench/results/$(date -u +%Y-%m-%d-%H%M)"
mkdir -p "$B/logs" "$OUT"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_pg "$B/pg"
}
trap cleanup EXIT INT TERM

echo "building (release)"
cargo build --release --locked -p cairn --quiet
(cd plugins && cargo build --release --locked --target wasm32-wasip2 --quiet)
(cd tests/bench && cargo build --release --quiet)
BIN="$ROOT/target/release/cairn"
BENCH="$ROOT/tests/bench/target/release/cairn-bench"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)   commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpu: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB   os: $(. /etc/os-release; echo "$PRETTY_NAME")"
  echo "corpus: $PAGES pages   mix: $USERS users, runs (actions/hour:seconds) $MIX_RUNS   wrk: ${WRK_SECS}s per point"
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), $(nginx -v 2>&1 | cut -d/ -f2 | sed 's/^/nginx /'), $(wrk -v 2>&1 | head -1 | awk '{print "wrk", $2}')"
  [ "$WITH_MW" = 1 ] && echo "MediaWiki $(dpkg-query -W -f='${Version}' mediawiki 2>/dev/null), PHP $(php -r 'echo PHP_VERSION;')"
  echo "Everything (load generator, nginx, PostgreSQL, Cairn, php-fpm) shares these cores."
} >"$OUT/machine.txt"

start_pg "$B/pg"
PG="postgres://cairn@127.0.0.1:$PG_PORT"
"$PG_BIN/psql" "$PG/postgres" -qc "DROP DATABASE IF EXISTS cairn_bench" -c "CREATE DATABASE cairn_bench"

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
rm -rf "$B/local" "$B/shared"
export CAIRN_DATABASE_URL="$PG/cairn_bench" CAIRN_LOCAL_HOME="$B/local" CAIRN_SHARED_HOME="$B/shared"
export CAIRN_BASE_URL="$URL" CAIRN_LOG=warn
ADMIN_PW=bench-admin-password
echo "$ADMIN_PW" | "$BIN" user create admin --admin --display-name "Bench Admin" --password-stdin >/dev/null
# The load comes from 200 users on one address: no per-user REST limit.
"$BIN" config set rest_rate_limit off >/dev/null 2>&1 || true
CAIRN_LISTEN="127.0.0.1:$PORT" "$BIN" serve >"$B/logs/cairn.log" 2>&1 &
CAIRN_PID=$!
pids+=("$CAIRN_PID")
for _ in $(seq 1 120); do
  curl -sf "$URL/status" | grep -q RUNNING && break
  sleep 1
done
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

echo "loading $PAGES pages into Cairn"
"$BENCH" load --url "$URL" --password "$ADMIN_PW" --pages "$PAGES" --users "$USERS" \
  --manifest "$B/manifest.json" 2>&1 | tee "$OUT/load.log"
# Let the index catch up before measuring.
for _ in $(seq 1 300); do
  curl -sf "$URL/status" | grep -q '"RUNNING"' && break
  sleep 1
done
AFTER_LOAD=$(rss_mb "$CAIRN_PID")

echo "page views"
rm -rf "$B/static"
"$BENCH" snapshot --url "$URL" --manifest "$B/manifest.json" --count 1000 --out "$B/static"
# A session cookie for wrk: the same user the snapshot was taken as.
rm -f "$B/cookies"
csrf=$(curl -s -c "$B/cookies" "$URL/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -s -b "$B/cookies" -c "$B/cookies" -o /dev/null --data-urlencode "_csrf=$csrf" \
  --data-urlencode "username=bench0000" --data-urlencode "password=bench-password-1" --data-urlencode "next=/" "$URL/login"
SESSION=$(awk '$6 == "cairn_session" {print $7}' "$B/cookies")
[ -n "$SESSION" ] || { echo "could not log in for wrk" >&2; exit 1; }

# nginx: the static pages, and MediaWiki through php-fpm.
NGINX_PORT=$(free_port)
MW_PORT=$(free_port)
mkdir -p "$B/nginx/logs" "$B/mw"
chmod 777 "$B/nginx"
cat >"$B/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $B/nginx/nginx.pid;
error_log $B/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  include /etc/nginx/mime.types;
  client_body_temp_path $B/nginx/body;
  fastcgi_temp_path $B/nginx/fastcgi;
  proxy_temp_path $B/nginx/proxy;
  sendfile on;
  keepalive_requests 100000;
  server { listen 127.0.0.1:$NGINX_PORT; root $B/static; }
  server {
    listen 127.0.0.1:$MW_PORT;
    root /usr/share/mediawiki;
    index index.php;
    location ~ \.php\$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_pass unix:$B/mw/php-fpm.sock;
    }
  }
}
EOF
"$(command -v nginx || echo /usr/sbin/nginx)" -p "$B/nginx" -c "$B/nginx/nginx.conf" -g "daemon off;" 2>"$B/logs/nginx.log" &
pids+=($!)

MW_PATHS=""
if [ "$WITH_MW" = 1 ]; then
  echo "MediaWiki: install and import $PAGES pages"
  FPM=$(ls /usr/sbin/php-fpm* | sort -V | tail -1)
  MWD="$B/mw"
  export MW_CONFIG_FILE="$MWD/LocalSettings.php"
  if [ ! -f "$MWD/imported-$PAGES" ]; then
    rm -rf "$MWD/data" "$MWD/LocalSettings.php" "$MWD"/imported-*
    mkdir -p "$MWD/data"
    php /usr/share/mediawiki/maintenance/install.php --dbtype sqlite --dbpath "$MWD/data" \
      --dbname benchwiki --server "http://127.0.0.1:$MW_PORT" --scriptpath "" \
      --pass "Bench-admin-pass-1" --confpath "$MWD" BenchWiki Admin >"$B/logs/mw-install.log" 2>&1 \
      || { cat "$B/logs/mw-install.log"; exit 1; }
    "$BENCH" mediawiki-dump --pages "$PAGES" --out "$MWD/dump.xml"
    php /usr/share/mediawiki/maintenance/importDump.php --quiet "$MWD/dump.xml" >"$B/logs/mw-import.log" 2>&1
    php /usr/share/mediawiki/maintenance/initSiteStats.php --update >/dev/null 2>&1 || true
    touch "$MWD/imported-$PAGES"
  fi
  # The server name changes with the port from run to run.
  sed -i "s#^\$wgServer = .*#\$wgServer = \"http://127.0.0.1:$MW_PORT\";#" "$MWD/LocalSettings.php"
  cat >"$MWD/php-fpm.conf" <<EOF
[global]
error_log = $B/logs/php-fpm.log
[bench]
listen = $MWD/php-fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 8
env[MW_CONFIG_FILE] = $MWD/LocalSettings.php
EOF
  "$FPM" -F -R -y "$MWD/php-fpm.conf" &
  pids+=($!)
  sleep 2
  # The same 1000 pages, by title.
  python3 - "$B/manifest.json" "$B/mw/paths.txt" <<'PY'
import json, sys, urllib.parse
m = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f:
    n = 0
    for p in m["pages"]:
        if p["blog"]:
            continue
        f.write("/index.php?title=" + urllib.parse.quote(p["title"].replace(" ", "_")) + "\n")
        n += 1
        if n == 1000:
            break
PY
  MW_PATHS="$B/mw/paths.txt"
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MW_PORT$(head -1 "$MW_PATHS")")
  [ "$code" = 200 ] || { echo "MediaWiki answers $code" >&2; tail -20 "$B/logs/php-fpm.log" >&2; exit 1; }
fi

LUA="$ROOT/tests/bench/pageview.lua"
echo "[" >"$OUT/pageview.json"
first=1
point() { # target url pathfile connections [header]
  local target=$1 url=$2 paths=$3 c=$4 hdr=${5:-X-Bench: 1} threads=2
  [ "$c" -lt 2 ] && threads=1
  local line
  line=$(BENCH_PATHS="$paths" wrk -t"$threads" -c"$c" -d"${WRK_SECS}s" -s "$LUA" -H "$hdr" "$url" | sed -n 's/^BENCH //p')
  [ $first = 1 ] || echo "," >>"$OUT/pageview.json"
  first=0
  echo "{\"target\": \"$target\", \"connections\": $c, ${line#\{}" >>"$OUT/pageview.json"
  echo "  $target c=$c: $line"
}
for target in cairn nginx mw; do
  case $target in
    cairn) name=Cairn; url=$URL; paths="$B/static/paths-cairn.txt"; hdr="Cookie: cairn_session=$SESSION" ;;
    nginx) name="nginx static"; url="http://127.0.0.1:$NGINX_PORT"; paths="$B/static/paths-static.txt"; hdr="X-Bench: 1" ;;
    mw) [ -n "$MW_PATHS" ] || continue
        name=MediaWiki; url="http://127.0.0.1:$MW_PORT"; paths=$MW_PATHS; hdr="X-Bench: 1" ;;
  esac
  # Warm-up: every page once (MediaWiki fills its parser cache, Cairn its
  # render and response caches), then a short wrk run.
  sed "s#^#$url#" "$paths" | xargs -P 4 -n 1 curl -s -o /dev/null -H "$hdr"
  BENCH_PATHS="$paths" wrk -t2 -c8 -d3s -s "$LUA" -H "$hdr" "$url" >/dev/null
  for c in 1 8 32 64; do point "$name" "$url" "$paths" "$c" "$hdr"; done
done
echo "]" >>"$OUT/pageview.json"

echo "search"
"$BENCH" search --pg "$PG/cairn_bench" --url "$URL" --manifest "$B/manifest.json" --pages "$PAGES" \
  --out "$OUT/search.json"

PEAK=0
( while kill -0 "$CAIRN_PID" 2>/dev/null; do rss_mb "$CAIRN_PID"; echo; sleep 1; done ) >"$B/rss.log" 2>/dev/null &
RSS_PID=$!
CPU0=$(awk '{print $14 + $15}' "/proc/$CAIRN_PID/stat")
for run in $MIX_RUNS; do
  rate=${run%%:*} secs=${run#*:}
  echo "the mix: $USERS users for ${secs}s at $rate actions/hour (0 = closed loop)"
  s0=$(head -1 /proc/stat)
  "$BENCH" mix --url "$URL" --manifest "$B/manifest.json" --users "$USERS" --seconds "$secs" \
    --actions-per-hour "$rate" --out "$OUT/mix-$USERS-$rate.json"
  # The whole machine during the run (cores are shared and virtualised):
  # busy, waiting for the disk, and stolen by the hypervisor.
  awk -v a="$s0" -v b="$(head -1 /proc/stat)" 'BEGIN {
    split(a, x); split(b, y); t = 0
    for (i = 2; i <= 9; i++) { d[i] = y[i] - x[i]; t += d[i] }
    if (t == 0) t = 1
    printf "{\"busy_pct\": %.1f, \"iowait_pct\": %.1f, \"steal_pct\": %.1f}\n", 100 * (t - d[5] - d[6]) / t, 100 * d[6] / t, 100 * d[9] / t
  }' >"$OUT/host-$USERS-$rate.json"
done
kill "$RSS_PID" 2>/dev/null || true
PEAK=$(sort -n "$B/rss.log" | tail -1)
CPU1=$(awk '{print $14 + $15}' "/proc/$CAIRN_PID/stat")
echo "{\"after_load_mb\": $AFTER_LOAD, \"peak_mb\": ${PEAK:-0}, \"mix_cpu_seconds\": $(( (CPU1 - CPU0) / $(getconf CLK_TCK) ))}" >"$OUT/memory.json"

echo "one, two and three nodes behind nginx"
# The standalone node stops; the clustered nodes start from copies of its
# caught-up index.
kill "$CAIRN_PID"
wait "$CAIRN_PID" 2>/dev/null || true
export ROOT STATE B OUT BIN SESSION WRK_SECS
bash "$ROOT/tests/bench/nodes.sh"

"$BENCH" report --results "$OUT" >/dev/null
make_venv "$STATE/venv-plot" matplotlib 'matplotlib>=3.7,<4'
"$STATE/venv-plot/bin/python" "$ROOT/tests/bench/plot.py" "$OUT"
echo "report: $OUT/report.md"
