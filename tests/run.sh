#!/usr/bin/env bash
# The whole test suite: installs what is missing, starts a private PostgreSQL
# under .cairn/test-pg, runs every test, stops PostgreSQL. Safe to run twice.
set -euo pipefail
. "$(dirname "$0")/scripts/lib.sh"
ensure_packages test
cd "$ROOT"
mkdir -p "$STATE"
PGDIR="$STATE/test-pg"
start_pg "$PGDIR"
trap 'stop_pg "$PGDIR"' EXIT
# The real REST clients, in virtualenvs the suite owns.
make_venv "$STATE/venv-apa4" atlassian 'atlassian-python-api>=4.0,<4.1'
make_venv "$STATE/venv-apa5" atlassian 'atlassian-python-api>=5.0,<5.1'
make_venv "$STATE/venv-st" schemathesis 'schemathesis>=4,<5'
export CAIRN_SCHEMATHESIS="$STATE/venv-st/bin/st"
export CAIRN_APA4_PYTHON="$STATE/venv-apa4/bin/python" CAIRN_APA5_PYTHON="$STATE/venv-apa5/bin/python"
# A real SMTP server for the notification tests (tests/python/smtp_sink.py).
make_venv "$STATE/venv-smtpd" aiosmtpd 'aiosmtpd>=1.4,<1.5'
export CAIRN_AIOSMTPD_PYTHON="$STATE/venv-smtpd/bin/python"
# componentize-py for the Python example plugin (build.sh pins the same version).
make_venv "$STATE/venv-cpy" componentize_py 'componentize-py==0.25.1'
export CAIRN_CPY_VENV="$STATE/venv-cpy"
# axe-core, the accessibility checker the browser tests inject (pinned by the lockfile).
npm ci --prefix tests/browser --no-audit --no-fund --silent
# The rich-text editor's bundle (host/assets/editor.js, committed so that cargo
# needs no npm): built again from host/editor with its pinned lockfile, it must
# be byte for byte what is committed.
npm ci --prefix host/editor --no-audit --no-fund --silent
npm run --prefix host/editor --silent check
export CAIRN_AXE_JS="$ROOT/tests/browser/node_modules/axe-core/axe.min.js"
export CAIRN_TEST_PG="postgres://cairn@127.0.0.1:$PG_PORT"
# etcd data, node homes and nginx files of the cluster tests.
export CAIRN_TEST_STATE="$STATE/test-cluster"
rm -rf "$CAIRN_TEST_STATE" && mkdir -p "$CAIRN_TEST_STATE"
# The plugins the tests install: first-party ones, the examples and the
# hostile test plugins, each built for wasm32-wasip2 as a plugin author would.
for dir in plugins examples/hello-rust tests/plugins/hostile; do
  (cd "$dir" && cargo build --release --locked --target wasm32-wasip2 --quiet)
done
(cd examples/hello-rust && cargo build --release --locked --target wasm32-wasip2 --quiet \
  --features formal --target-dir target/formal)
bash examples/hello-python/build.sh
cargo test --workspace --locked 2>&1
