#!/usr/bin/env bash
# Runs Banter locally: PostgreSQL and Redis (installed and started if missing), a
# database named banter, and the server on http://localhost:8080.
# NODES=2 runs two nodes (8080 and 8081) that share Postgres and Redis.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_build_tools
ensure_postgres
ensure_redis
ensure_database banter

export DATABASE_URL="${DATABASE_URL:-$PG_URL_BASE/banter}"
export PORT="${PORT:-8080}"
export OIDC_ISSUER="${OIDC_ISSUER:-http://localhost:9400/}"
export OIDC_AUDIENCE="${OIDC_AUDIENCE:-http://localhost:8080/api}"
export OIDC_CLIENT_ID="${OIDC_CLIENT_ID:-banter-web}"
export RUST_LOG="${RUST_LOG:-info}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

log "building"
"$ROOT/scripts/build.sh" all
log "mint a session token with: DATABASE_URL=$DATABASE_URL target/release/banter token --email alice@example.com"
if [ "${NODES:-1}" = "2" ]; then
  NODE_ID=node-2 PORT=$((PORT + 1)) target/release/banter serve &
  trap 'kill %1 2>/dev/null' EXIT
  log "a second node is starting on http://localhost:$((PORT + 1))"
fi
log "Banter is starting on http://localhost:$PORT"
NODE_ID="${NODE_ID:-node-1}" target/release/banter serve
