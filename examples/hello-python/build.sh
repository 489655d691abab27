#!/usr/bin/env bash
# Builds the Python hello plugin: target/hello_python.wasm, a component of
# world cairn:plugin/macro-plugin@0.1.0 (narrowed to the `hello` world of
# wit/hello.wit, i.e. no capability imports), made by componentize-py.
#
#   examples/hello-python/build.sh          # then: cairn plugin install examples/hello-python/cairn-plugin.toml
#
# Idempotent: reuses the virtualenv when it already has the pinned
# componentize-py, and the component when its inputs did not change. The
# virtualenv is $CAIRN_CPY_VENV (default <repo>/.cairn/venv-cpy); everything
# generated goes to target/ (git-ignored).
set -euo pipefail

CPY_VERSION=0.25.1
WORLD=cairn:plugin/macro-plugin@0.1.0
NARROW=example:hello-python/hello

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$DIR/../.." && pwd)
VENV=${CAIRN_CPY_VENV:-$REPO/.cairn/venv-cpy}
OUT=$DIR/target
CPY=$VENV/bin/componentize-py

fail() { echo "hello-python/build.sh: $*" >&2; exit 1; }

# 1. componentize-py, pinned, in its own virtualenv.
if ! [ -x "$CPY" ] || [ "$("$CPY" --version 2>/dev/null)" != "componentize-py $CPY_VERSION" ]; then
  command -v python3 >/dev/null || fail "python3 is not installed"
  if ! [ -x "$VENV/bin/python" ]; then
    echo "creating virtualenv $VENV" >&2
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV" \
      || fail "could not create the virtualenv $VENV (on Debian/Ubuntu: apt-get install python3-venv)"
  fi
  echo "installing componentize-py==$CPY_VERSION into $VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check "componentize-py==$CPY_VERSION" \
    || fail "pip could not install componentize-py==$CPY_VERSION into $VENV (is PyPI reachable?)"
  [ "$("$CPY" --version 2>/dev/null)" = "componentize-py $CPY_VERSION" ] \
    || fail "$CPY is not componentize-py $CPY_VERSION after installing it"
fi

# Up to date? componentize-py's output differs from run to run, so an
# unneeded rebuild would change the component's hash (and make the host
# recompile it): skip when the inputs are the ones of the last build.
stamp=$( (echo "$CPY_VERSION $WORLD $NARROW"; cat "$DIR/build.sh" "$DIR/app.py" "$DIR"/wit/*.wit "$REPO"/wit/*.wit) \
  | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/hello_python.wasm" ] && [ "$(cat "$OUT/hello_python.wasm.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "up to date: $OUT/hello_python.wasm" >&2
  exit 0
fi

# 2. Sources and bindings in target/ (nothing generated lands beside app.py).
#    target/bindings holds componentize-py's binding stubs, for editors and
#    type checkers only (`componentize` generates the real bindings itself).
rm -rf "$OUT/src" "$OUT/bindings"
mkdir -p "$OUT/src"
cp "$DIR/app.py" "$OUT/src/app.py"
WIT=(-d "$REPO/wit" -d "$DIR/wit" -w "$WORLD")
"$CPY" -q "${WIT[@]}" bindings "$OUT/bindings" \
  || fail "componentize-py could not generate bindings for $WORLD from $REPO/wit"

# 3. The component: the Python path is exactly target/src (no virtualenv,
#    no current directory), and the imports are narrowed to what the world
#    `hello` of wit/hello.wit declares.
tmp=$OUT/hello_python.wasm.tmp
(
  cd "$OUT"
  env -u VIRTUAL_ENV \
    "$CPY" -q "${WIT[@]}" componentize -i "$NARROW" -p "$OUT/src" app -o "$tmp"
) || { rm -f "$tmp"; fail "componentize-py failed to build the component (see above)"; }
mv "$tmp" "$OUT/hello_python.wasm"
echo "$stamp" >"$OUT/hello_python.wasm.stamp"
echo "built $OUT/hello_python.wasm ($(stat -c %s "$OUT/hello_python.wasm") bytes)" >&2
