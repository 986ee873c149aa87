#!/usr/bin/env bash
# Runs each cargo-fuzz target of crates/fuzz briefly over its corpus (FUZZ_SECONDS each,
# default 20) and fails on any crash; the search target checks its queries against
# Postgres (FUZZ_DATABASE_URL). Builds on stable Rust (RUSTC_BOOTSTRAP=1) without a
# sanitizer by default (FUZZ_SANITIZER=address for ASAN: a longer build): the targets
# check properties of safe Rust, which ASAN adds little to in a short pass. The long runs
# and their figures: docs/security.md, Fuzzing. Called by scripts/test.sh.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_cargo_fuzz
export RUSTC_BOOTSTRAP=1
export FUZZ_DATABASE_URL="${FUZZ_DATABASE_URL:-$PG_URL_BASE/postgres}"
SANITIZER="${FUZZ_SANITIZER:-none}"
SECONDS_EACH="${FUZZ_SECONDS:-20}"
LOGS="$ROOT/test-artifacts/fuzz"
mkdir -p "$LOGS"
# Its own target directory, so that it does not rebuild the (ASAN) build of long runs in
# crates/fuzz/target, and 16 codegen units: a faster build for slightly slower fuzzing.
OPTIONS=(--fuzz-dir crates/fuzz -s "$SANITIZER" --codegen-units 16 --target-dir "$ROOT/target/fuzz")

start=$(date +%s)
cargo fuzz build "${OPTIONS[@]}" > "$LOGS/build.log" 2>&1 \
  || { tail -n 50 "$LOGS/build.log"; echo "fuzz targets did not build" >&2; exit 1; }
log "fuzz targets built in $(( $(date +%s) - start )) s"

failed=()
for target in $(cargo fuzz list --fuzz-dir crates/fuzz); do
  # New inputs go to a scratch directory: the corpus in the repository changes only when
  # someone minimizes it on purpose.
  scratch=$(mktemp -d)
  if cargo fuzz run "${OPTIONS[@]}" "$target" "$scratch" "crates/fuzz/corpus/$target" -- \
      -max_total_time="$SECONDS_EACH" -timeout=10 -dict="crates/fuzz/dict/$target.dict" \
      -print_final_stats=1 > "$LOGS/$target.log" 2>&1; then
    stats=$(grep -E '^#[0-9]+.*DONE' "$LOGS/$target.log" | tail -n 1)
    log "fuzz $target: no crash in ${SECONDS_EACH} s ($stats)"
  else
    tail -n 60 "$LOGS/$target.log"
    echo "fuzz target $target failed: the input is in crates/fuzz/artifacts/$target/, the log in $LOGS/$target.log" >&2
    failed+=("$target")
  fi
  rm -rf "$scratch"
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz targets failed: ${failed[*]}" >&2; exit 1; }
