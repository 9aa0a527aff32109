#!/usr/bin/env bash
# The cargo-fuzz targets (fuzz/), each for a bounded time: the model parser
# (`model_parse`) and the API's body extractors (`api_bodies`). Called by
# .ci/run; runs alone too:  bash tests/fuzz.sh   (FUZZ_SECONDS, default 60)
#
# Stable Rust: cargo-fuzz with `--sanitizer none` (libFuzzer's coverage
# guidance without AddressSanitizer, which needs nightly). A crash or a
# failed assertion stops the run with its input in fuzz/artifacts/ and fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
fatal() { echo "FATAL: $*" >&2; exit 1; }
SECONDS_EACH=${FUZZ_SECONDS:-60}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "-- cargo-fuzz missing: installing it"
  timeout 900 cargo install cargo-fuzz --locked --version 0.13.2 \
    || fatal "cargo install cargo-fuzz failed (is crates.io reachable?)"
fi

cd fuzz
timeout 1500 cargo fuzz build --sanitizer none \
  || fatal "the fuzz targets did not build"

# Seeds: the demo's models, and a valid body for each route.
SEEDS=$(mktemp -d "${TMPDIR:-/tmp}/kiln-fuzz.XXXXXX")
trap 'rm -rf "$SEEDS"' EXIT
mkdir -p "$SEEDS/model_parse" "$SEEDS/api_bodies"
cp "$ROOT"/catalog/demo/*.toml "$SEEDS/model_parse/"
seed() { printf "\\x$(printf %02x "$1")%s" "$2" > "$SEEDS/api_bodies/$1.json"; }
seed 0 '{"customer":{"name":"Ada","email":"ada@example.com"},"ship_to":{"name":"Ada","line1":"1 Road","city":"Berlin","postal_code":"10117","country":"DE"},"channel":"online","lines":[{"product":"mug","selections":{"size":"m"},"quantity":2}]}'
seed 1 '{"selections":{"size":"m","glaze":"sage"}}'
seed 3 '{"slug":"acme","name":"Acme"}'
seed 4 '{"label":"web shop","scopes":["orders:online"]}'
seed 6 '{"url":"https://example.com/hook","events":["order.created"]}'
seed 10 '{"carrier":"DHL","tracking_number":"JD0146"}'
seed 12 '{"work_center":"kiln","from":"2026-12-04T10:00:00Z","to":"2026-12-04T12:00:00Z"}'
seed 15 '{"kind":"warranty","reason":"cracked","parts":["handle"]}'
seed 16 '{"decision":"reject","note":"wear"}'
printf '\x80text/plain\n{}' > "$SEEDS/api_bodies/form.txt"

for target in model_parse api_bodies; do
  echo "-- fuzzing $target for ${SECONDS_EACH} s"
  mkdir -p "corpus/$target"
  rc=0
  cargo fuzz run --sanitizer none "$target" "corpus/$target" "$SEEDS/$target" -- \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    > "$SEEDS/$target.log" 2>&1 || rc=$?
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^Done" "$SEEDS/$target.log" || true
  if [ "$rc" != 0 ]; then
    tail -n 40 "$SEEDS/$target.log" >&2
    fatal "fuzzing $target failed (exit $rc): its input is in fuzz/artifacts/$target/"
  fi
done
echo "-- fuzzing: no panic, no 500"
