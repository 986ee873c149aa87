#!/usr/bin/env bash
# Runs Banter locally: PostgreSQL and Redis (installed and started if missing), a database
# named banter, the dev identity provider on http://localhost:9400, the web client (built
# into static/) and the server on http://localhost:8080.
# NODES=2 runs two nodes (8081 and 8082) that share Postgres and Redis behind HAProxy on
# http://localhost:8080, as Heroku's router is in production (dev/haproxy/haproxy.cfg).
# Setting OIDC_ISSUER (and OIDC_AUDIENCE, OIDC_CLIENT_ID) uses that provider instead.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_build_tools
ensure_postgres
ensure_redis
ensure_openssl
ensure_node
# The web client's packages are installed by its build (scripts/build.sh web).
ensure_node_packages dev/idp
ensure_database banter
case "${NODES:-1}" in
  1) ;;
  2) ensure_haproxy ;;
  *) echo "NODES may be 1 or 2" >&2; exit 1 ;;
esac

export DATABASE_URL="${DATABASE_URL:-$PG_URL_BASE/banter}"
export PORT="${PORT:-8080}"
export OIDC_AUDIENCE="${OIDC_AUDIENCE:-http://localhost:8080/api}"
export OIDC_CLIENT_ID="${OIDC_CLIENT_ID:-banter-web}"
export RUST_LOG="${RUST_LOG:-info}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

# The session root key is kept in the banter database, sealed with a key-encryption key
# (decision 0012): made once here, beside the checkout and never committed, and reused,
# since the stored root key opens with no other.
if [ -z "${BISCUIT_PRIVATE_KEY:-}" ] && [ -z "${ROOT_KEY_ENCRYPTION_KEY:-}" ]; then
  KEY_FILE="$ROOT/.local/root-key-encryption-key"
  if [ ! -s "$KEY_FILE" ]; then
    mkdir -p "$(dirname "$KEY_FILE")"
    (umask 077 && openssl rand -hex 32 > "$KEY_FILE")
    log "made the key that seals the session root key: ${KEY_FILE#"$ROOT"/}"
  fi
  ROOT_KEY_ENCRYPTION_KEY="$(cat "$KEY_FILE")"
  export ROOT_KEY_ENCRYPTION_KEY
fi

log "building the web client and the server"
"$ROOT/scripts/build.sh" all

# Stop everything this script started when it ends (Ctrl-C).
trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT

if [ -z "${OIDC_ISSUER:-}" ]; then
  export OIDC_ISSUER="http://localhost:9400"
  log "starting the dev identity provider on $OIDC_ISSUER (any email signs in)"
  IDP_PORT=9400 IDP_CLIENT_ID="$OIDC_CLIENT_ID" IDP_AUDIENCE="$OIDC_AUDIENCE" \
    node dev/idp/server.js &
  for _ in $(seq 1 100); do
    curl -fsS "$OIDC_ISSUER/.well-known/openid-configuration" >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

if [ "${NODES:-1}" = "2" ]; then
  # Two nodes behind HAProxy: the page and scripted clients use the one URL on $PORT.
  # The nodes listen on loopback only, since they trust HAProxy's X-Forwarded-For.
  HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
  for node in 1 2; do
    NODE_ID="node-$node" HOST=127.0.0.1 PORT=$((PORT + node)) TRUSTED_PROXIES=1 \
      target/release/banter serve &
  done
  BALANCER="0.0.0.0:$PORT" NODE_A="127.0.0.1:$((PORT + 1))" NODE_B="127.0.0.1:$((PORT + 2))" \
    "$HAPROXY" -db -f "$ROOT/dev/haproxy/haproxy.cfg" &
  log "HAProxy on http://localhost:$PORT in front of node-1 (:$((PORT + 1))) and node-2 (:$((PORT + 2)))"
else
  NODE_ID="${NODE_ID:-node-1}" target/release/banter serve &
fi
for _ in $(seq 1 100); do
  curl -fsS "http://localhost:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
log "Banter is running on http://localhost:$PORT"
log "open it in two browser profiles and sign in as alice@example.com and bob@example.com"
log "scripting (with ROOT_KEY_ENCRYPTION_KEY from .local/root-key-encryption-key):"
log "  DATABASE_URL=$DATABASE_URL OIDC_ISSUER=$OIDC_ISSUER target/release/banter token --email alice@example.com"
wait -n
