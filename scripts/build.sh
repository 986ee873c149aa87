#!/usr/bin/env bash
# Builds what ships: the web client into static/ (once web/ holds it) and the release
# binary. scripts/run.sh and the Dockerfile both call this, so the image is built the way
# the tests and the local run build.
#   scripts/build.sh web | server | all (default)
set -euo pipefail
cd "$(dirname "$0")/.."

build_web() {
  if [ -f web/package.json ]; then
    (cd web && npm ci --no-audit --no-fund && npm run build)
  else
    echo "web/ holds no client yet: static/ is served as it is"
  fi
}

build_server() {
  cargo build --release --locked
}

case "${1:-all}" in
  web) build_web ;;
  server) build_server ;;
  all) build_web; build_server ;;
  *) echo "usage: scripts/build.sh [web|server|all]" >&2; exit 2 ;;
esac
