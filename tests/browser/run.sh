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

. "$ROOT/tests/demo.sh"
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

# 3. The binary, and 4. a demo server on a free port with fresh data.
kiln_bin
start_demo browser

# 5. The journey.
rc=0
KILN_JOURNEY_TIMEOUT_MS=${KILN_JOURNEY_TIMEOUT_MS:-360000} KILN_SERVER_LOG="$DATA/server.log" \
  timeout 420 node tests/browser/journey.mjs "$URL" "$KEY" "$ROOT/target/screenshots" || rc=$?
if [ "$rc" != 0 ]; then
  echo "-- last lines of the server log:" >&2
  tail -n 30 "$DATA/server.log" >&2 || true
  fatal "browser journey failed (exit $rc); screenshots in target/screenshots/"
fi
echo "-- browser journey passed; screenshots in target/screenshots/"
