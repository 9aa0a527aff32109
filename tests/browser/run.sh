#!/usr/bin/env bash
# The browser tests: Kiln's web UI in headless Debian Chromium, driven by
# playwright-core (journey.mjs). Called by .ci/run after the Rust tests; runs
# alone too:  bash tests/browser/run.sh
#
# Installs Debian's chromium if /usr/bin/chromium is missing, installs
# playwright-core from package-lock.json, builds the debug kiln binary (cargo
# test has already built its dependencies) unless KILN_BIN names one, starts
# `kiln serve --demo` on a free 127.0.0.1 port with a fresh data dir, runs the
# journey, stops the server. Screenshots go to target/screenshots/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

fatal() { echo "FATAL: $*" >&2; exit 1; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

# 1. Chromium: Debian's package.
if [ ! -x /usr/bin/chromium ]; then
  echo "-- /usr/bin/chromium missing: installing Debian's chromium"
  timeout 600 $SUDO apt-get update \
    || fatal "apt-get update failed; cannot install chromium for the browser tests"
  timeout 1200 $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium \
    || fatal "apt-get install chromium failed"
  [ -x /usr/bin/chromium ] || fatal "chromium installed but /usr/bin/chromium is missing"
fi
/usr/bin/chromium --version 2>/dev/null | head -1 || true

# 2. Node and playwright-core (pinned in package-lock.json).
command -v node >/dev/null && command -v npm >/dev/null \
  || fatal "node and npm are needed for the browser tests (Node.js >= 20)"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
  || fatal "Node.js >= 20 is needed (found $(node --version))"
( cd tests/browser && timeout 300 npm ci --no-audit --no-fund --loglevel=error ) \
  || fatal "npm ci in tests/browser failed (is the npm registry reachable?)"

# 3. The binary: the debug build shares cargo test's artifacts.
if [ -z "${KILN_BIN:-}" ]; then
  cargo build --locked --bin kiln
  KILN_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/kiln
fi
[ -x "$KILN_BIN" ] || fatal "no kiln binary at $KILN_BIN"

# 4. A demo server on a free port, fresh data.
DATA=$(mktemp -d "${TMPDIR:-/tmp}/kiln-browser.XXXXXX")
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
URL=http://127.0.0.1:$PORT
"$KILN_BIN" serve --demo --addr "127.0.0.1:$PORT" --data-dir "$DATA" >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
cleanup() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

up=""
for _ in $(seq 1 120); do
  if curl -fsS --max-time 2 "$URL/healthz" >/dev/null 2>&1; then up=1; break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/server.log" >&2; fatal "kiln serve --demo exited"; }
  sleep 0.5
done
[ -n "$up" ] || { cat "$DATA/server.log" >&2; fatal "kiln serve --demo: /healthz not up within 60 s"; }
KEY=$(sed -n 's/^demo brand key: *//p' "$DATA/server.log" | head -1)
[ -n "$KEY" ] || { cat "$DATA/server.log" >&2; fatal "kiln serve --demo printed no 'demo brand key:' line"; }

# 5. The journey.
rc=0
KILN_JOURNEY_TIMEOUT_MS=${KILN_JOURNEY_TIMEOUT_MS:-360000} \
  timeout 420 node tests/browser/journey.mjs "$URL" "$KEY" "$ROOT/target/screenshots" || rc=$?
if [ "$rc" != 0 ]; then
  echo "-- last lines of the server log:" >&2
  tail -n 30 "$DATA/server.log" >&2 || true
  fatal "browser journey failed (exit $rc); screenshots in target/screenshots/"
fi
echo "-- browser journey passed; screenshots in target/screenshots/"
