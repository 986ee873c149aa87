# Shared set-up steps for scripts/run.sh and scripts/test.sh: install or start what is
# missing on a Debian machine. Sourced, not run.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# The database role and password the scripts use; trust-auth servers ignore the password.
PG_URL_BASE="postgres://postgres:postgres@127.0.0.1:5432"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# apt-get waits up to 5 minutes for the package lock (a fresh machine's first boot runs
# unattended-upgrades) instead of failing at once.
APT_LOCK_WAIT=(-o DPkg::Lock::Timeout=300)

apt_install() {
  if [ -z "${BANTER_APT_UPDATED:-}" ]; then
    # The lists' lock has no such timeout: a first boot's apt-daily holds it a while.
    local try
    for try in $(seq 1 30); do
      $SUDO apt-get "${APT_LOCK_WAIT[@]}" update -qq && break
      [ "$try" -eq 30 ] && { echo "apt-get update kept failing" >&2; exit 1; }
      log "apt-get update failed (another apt running?): retrying in 10 s"
      sleep 10
    done
    export BANTER_APT_UPDATED=1
  fi
  # Through env: sudo does not pass the caller's environment on.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "${APT_LOCK_WAIT[@]}" install -y -qq "$@" >/dev/null
}

# Runs a command as the postgres user, from / (its home is not this checkout, which
# that user may not enter): runuser as root, sudo otherwise.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && sudo -u postgres "$@")
  fi
}

ensure_build_tools() {
  command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
  if ! command -v cc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
    log "installing a C compiler and make (for crates that build C: jemalloc, ring)"
    apt_install build-essential pkg-config
  fi
  if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    log "installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
}

# Starts PostgreSQL on 127.0.0.1:5432, installing it first if needed, and makes sure the
# postgres role can log in over TCP with the password "postgres".
ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    return
  fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing PostgreSQL"
    apt_install postgresql postgresql-client
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    # Installing it started it (the system's service manager runs Debian's cluster).
    log "PostgreSQL is running (started by the system's service manager)"
  else
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    log "starting PostgreSQL $version"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
      || $SUDO pg_ctlcluster "$version" main start
    for _ in $(seq 1 60); do
      pg_isready -q -h 127.0.0.1 -p 5432 && break
      sleep 0.5
    done
    pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start" >&2; exit 1; }
  fi
  # A fresh Debian cluster wants a password over TCP: give the postgres role one.
  as_postgres psql -qc "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
}

# Starts Redis on 127.0.0.1:6379 (installing it first if needed). It keeps nothing on
# disk: Postgres is the truth, Redis only mirrors presence and carries events.
ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    return
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing Redis"
    apt_install redis-server redis-tools
  fi
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    # Installing it started Debian's service (which keeps snapshots on disk; Banter
    # keeps nothing there that Postgres does not have).
    log "Redis is running (started by the system's service manager)"
    return
  fi
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/banter-redis.log
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return
    sleep 0.2
  done
  echo "Redis did not start" >&2
  exit 1
}

node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
    && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]
}

# The Node.js and npm installed when a machine has neither (or a Node older than 20):
# Debian 12 packages Node 18, so they come from the npm registry, checked against the
# registry's sha512 (node-linux-* hold the official node binary; npm is its own package).
NODE_VERSION=22.23.5
NPM_VERSION=10.9.9

# Downloads package $1 at version $2 from the npm registry into $3 (unpacked), after
# checking its sha512.
registry_package() {
  local name=$1 version=$2 into=$3 integrity file
  # The version's metadata names one integrity (its tarball's); read without a JSON tool,
  # which a minimal Debian lacks.
  integrity=$(curl -fsSL "https://registry.npmjs.org/$name/$version" \
    | grep -o '"integrity": *"sha512-[^"]*"' | head -n 1 | sed 's/.*"\(sha512-[^"]*\)"/\1/')
  [ -n "$integrity" ] || { echo "$name $version: no integrity in the registry's metadata" >&2; exit 1; }
  file=$(mktemp)
  curl -fsSL "https://registry.npmjs.org/$name/-/${name##*/}-$version.tgz" -o "$file"
  if [ "sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)" != "$integrity" ]; then
    rm -f "$file"
    echo "$name $version: the download does not match the registry's sha512" >&2
    exit 1
  fi
  mkdir -p "$into"
  tar -xzf "$file" -C "$into" --strip-components=1
  rm -f "$file"
}

# Node.js 20 or newer builds the web client and runs the dev identity provider and the
# browser tests. Installs Node.js $NODE_VERSION and npm $NPM_VERSION under $NODE_PREFIX
# (default /usr/local) when they are missing.
ensure_node() {
  node_ok && return
  local prefix=${NODE_PREFIX:-/usr/local} arch
  arch=$(dpkg --print-architecture | sed 's/amd64/x64/')
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  log "installing Node.js $NODE_VERSION and npm $NPM_VERSION (from the npm registry) into $prefix"
  $SUDO mkdir -p "$prefix/bin" "$prefix/lib/node_modules"
  local staging
  staging=$(mktemp -d)
  registry_package "node-linux-$arch" "$NODE_VERSION" "$staging/node"
  registry_package npm "$NPM_VERSION" "$staging/npm"
  $SUDO install -m 0755 "$staging/node/bin/node" "$prefix/bin/node"
  $SUDO rm -rf "$prefix/lib/node_modules/npm"
  $SUDO mv "$staging/npm" "$prefix/lib/node_modules/npm"
  $SUDO chown -R 0:0 "$prefix/lib/node_modules/npm" "$prefix/bin/node"
  $SUDO ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$prefix/bin/npm"
  $SUDO ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$prefix/bin/npx"
  rm -rf "$staging"
  export PATH="$prefix/bin:$PATH"
  hash -r
  node_ok || { echo "Node.js 20 or newer is needed and could not be installed" >&2; exit 1; }
}

# The browser tests drive Debian's Chromium (browser downloads by test tools are not used).
ensure_chromium() {
  # A colour emoji font, so the emoji picker and messages show emoji, not empty boxes.
  if [ -x /usr/bin/chromium ] && [ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then return; fi
  log "installing Chromium"
  apt_install chromium fonts-dejavu-core fonts-noto-color-emoji
}

# HAProxy (Debian's package) puts two nodes behind one URL, as Heroku's router does:
# `NODES=2 bash scripts/run.sh` and the rolling-restart test (dev/haproxy/haproxy.cfg).
ensure_haproxy() {
  if [ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null 2>&1; then return; fi
  log "installing HAProxy"
  apt_install haproxy
}

# Installs the exact dependencies of the given folders (with a package-lock.json), e.g.
# `ensure_node_packages web dev/idp`.
ensure_node_packages() {
  local dir
  for dir in "$@"; do
    (cd "$ROOT/$dir" && npm ci --no-audit --no-fund --loglevel=error)
  done
}

# The TLS tests make self-signed certificates with openssl.
ensure_openssl() {
  command -v openssl >/dev/null 2>&1 || apt_install openssl
}

# Creates database $1 unless it exists.
ensure_database() {
  local name=$1
  if ! psql "$PG_URL_BASE/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    psql "$PG_URL_BASE/postgres" -qc "CREATE DATABASE $name"
  fi
}

# cargo-fuzz, pinned, into target/tools/cargo-fuzz (as hadolint goes to target/tools); puts
# it on PATH. The fuzz targets build on stable Rust: RUSTC_BOOTSTRAP=1 lets it take the
# sanitizer and coverage flags (crates/fuzz, docs/security.md).
CARGO_FUZZ_VERSION=0.13.1
ensure_cargo_fuzz() {
  local dir="$ROOT/target/tools/cargo-fuzz"
  if ! "$dir/bin/cargo-fuzz" --version 2>/dev/null | grep -qx "cargo-fuzz $CARGO_FUZZ_VERSION"; then
    log "installing cargo-fuzz $CARGO_FUZZ_VERSION into target/tools"
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION" --root "$dir" --quiet
  fi
  export PATH="$dir/bin:$PATH"
}
