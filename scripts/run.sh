#!/usr/bin/env bash
# Runs Banter locally: PostgreSQL (installed and started if missing), a database named
# banter, and the server on http://localhost:8080.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_build_tools
ensure_postgres
ensure_database banter

export DATABASE_URL="${DATABASE_URL:-$PG_URL_BASE/banter}"
export PORT="${PORT:-8080}"
export OIDC_ISSUER="${OIDC_ISSUER:-http://localhost:9400/}"
export OIDC_AUDIENCE="${OIDC_AUDIENCE:-http://localhost:8080/api}"
export OIDC_CLIENT_ID="${OIDC_CLIENT_ID:-banter-web}"
export RUST_LOG="${RUST_LOG:-info}"

log "building"
cargo build --release --locked
log "Banter is starting on http://localhost:$PORT"
log "mint a session token with: DATABASE_URL=$DATABASE_URL target/release/banter token --email alice@example.com"
exec target/release/banter serve
