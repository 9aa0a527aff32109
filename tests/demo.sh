# Sourced by the test scripts that drive a running `kiln serve --demo`
# (browser/run.sh, api/schemathesis.sh). Run from the project root.

fatal() { echo "FATAL: $*" >&2; exit 1; }

# The binary: KILN_BIN, or the debug build (it shares cargo test's artifacts).
kiln_bin() {
  if [ -z "${KILN_BIN:-}" ]; then
    cargo build --locked --bin kiln
    KILN_BIN=${CARGO_TARGET_DIR:-$PWD/target}/debug/kiln
  fi
  [ -x "$KILN_BIN" ] || fatal "no kiln binary at $KILN_BIN"
}

# `kiln serve --demo` on a free 127.0.0.1 port with a fresh data dir, stopped
# and removed on exit. Sets DATA, URL, SERVER_PID and KEY (the demo brand key).
start_demo() {
  DATA=$(mktemp -d "${TMPDIR:-/tmp}/kiln-$1.XXXXXX")
  local port
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  URL=http://127.0.0.1:$port
  "$KILN_BIN" serve --demo --addr "127.0.0.1:$port" --data-dir "$DATA" >"$DATA/server.log" 2>&1 &
  SERVER_PID=$!
  trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$DATA"' EXIT
  local up=""
  for _ in $(seq 1 120); do
    if curl -fsS --max-time 2 "$URL/healthz" >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/server.log" >&2; fatal "kiln serve --demo exited"; }
    sleep 0.5
  done
  [ -n "$up" ] || { cat "$DATA/server.log" >&2; fatal "kiln serve --demo: /healthz not up within 60 s"; }
  KEY=$(sed -n 's/^demo brand key: *//p' "$DATA/server.log" | head -1)
  [ -n "$KEY" ] || { cat "$DATA/server.log" >&2; fatal "kiln serve --demo printed no 'demo brand key:' line"; }
}
