#!/usr/bin/env bash
# Sets everything up and starts Cairn with demo content: installs what is
# missing, builds, creates an administrator and the DEMO space, and serves.
# No CAIRN_DATABASE_URL: `cairn` runs its embedded PostgreSQL inside
# .cairn/demo/local. Safe to run twice (the content and the password are
# kept). Stop with Ctrl-C.
set -euo pipefail
. "$(dirname "$0")/../tests/scripts/lib.sh"
ensure_packages
cd "$ROOT"
mkdir -p "$STATE/demo"
# The binary carries the first-party plugins (macros such as code, info,
# children, toc), built from plugins/ for wasm32-wasip2 by the same build;
# the node installs or upgrades them at start.
cargo build --release --locked -p cairn
unset CAIRN_BUILTIN_PLUGINS
unset CAIRN_DATABASE_URL
export CAIRN_LOCAL_HOME="$STATE/demo/local" CAIRN_SHARED_HOME="$STATE/demo/shared"
export CAIRN_LISTEN="${CAIRN_LISTEN:-127.0.0.1:8090}"
PWFILE="$STATE/demo/admin-password"
./target/release/cairn demo --admin admin --password-file "$PWFILE"
cat <<MSG

  Cairn is starting on http://$CAIRN_LISTEN/
  Log in as:  admin
  Password:   $(cat "$PWFILE")
  Demo space: http://$CAIRN_LISTEN/spaces/DEMO

MSG
exec ./target/release/cairn serve
