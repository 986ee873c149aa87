#!/usr/bin/env bash
# Runs Schemathesis (property-based tests generated from /api/openapi.json) against a live
# debug server on its own throwaway database, with an operator-minted session token.
# Called by scripts/test.sh after the Rust tests; needs target/debug/banter.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

SCHEMATHESIS_VERSION=4.32.5
VENV="$ROOT/target/tools/schemathesis-$SCHEMATHESIS_VERSION"
if [ ! -x "$VENV/bin/schemathesis" ]; then
  # Debian's python3 lacks venv until python3-venv is installed (its hint to do so is
  # not for this script's reader).
  python3 -m venv "$VENV" >/dev/null 2>&1 || { apt_install python3-venv && python3 -m venv "$VENV"; }
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

DB="banter_fuzz_$$"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
psql "$PG_URL_BASE/postgres" -qc "CREATE DATABASE $DB"
ROOT_KEY_ENCRYPTION_KEY=$(openssl rand -hex 32)
export DATABASE_URL="$PG_URL_BASE/$DB" PORT HOST=127.0.0.1 RUST_LOG=warn ROOT_KEY_ENCRYPTION_KEY \
  OIDC_ISSUER=http://127.0.0.1:9 OIDC_AUDIENCE=http://localhost:8080/api OIDC_CLIENT_ID=banter-web \
  METRICS_TOKEN=metrics-token-of-the-api-fuzz-run
mkdir -p test-artifacts
target/debug/banter serve > test-artifacts/api-fuzz-server.log 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null
  psql "$PG_URL_BASE/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
TOKEN=$(RUST_LOG=error target/debug/banter token --email fuzz@example.com --ttl 1h)
# /ws is a protocol upgrade, exercised by the integration tests instead.
"$VENV/bin/schemathesis" --config-file schemathesis.toml run \
  "http://127.0.0.1:$PORT/api/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --exclude-path /ws --max-examples "${FUZZ_EXAMPLES:-30}" --seed 1
