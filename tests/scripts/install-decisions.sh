#!/usr/bin/env bash
# What scripts/lib.sh decides on a machine it cannot have here (a fresh Debian, one where
# installing a package starts its service, one mid-upgrade): its ensure_* functions run
# against stand-ins for the operating system's commands (apt-get, the service commands,
# the databases' probes), which record how they were called. Run by scripts/test.sh.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
failures=0
WORK=""
trap 'rm -rf "${WORK:-}"' EXIT

# A scenario: a fresh directory of stand-ins on PATH and a state folder they share.
# $1: the scenario's name; the rest: state flags to set (e.g. redis_up).
scenario() {
  name=$1
  shift
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
  WORK=$(mktemp -d)
  mkdir -p "$WORK/bin" "$WORK/state" "$WORK/tools"
  # Only plain tools from the machine: nothing that installs, starts or probes a service.
  local tool
  for tool in bash cp dirname seq sleep sort tail head basename touch cat ls mkdir rm chmod grep sed tr env mktemp python3; do
    ln -s "$(command -v "$tool")" "$WORK/tools/$tool"
  done
  for flag in "$@"; do touch "$WORK/state/$flag"; done
  stub() { printf '#!/usr/bin/env bash\nS=%s\n%s\n' "$WORK/state" "$2" > "$WORK/bin/$1"; chmod +x "$WORK/bin/$1"; }
  # Every call is recorded: the command, its arguments and where it ran.
  local record='echo "$(basename "$0") $* [cwd=$PWD]" >> "$S/calls"'
  # Installing a package makes its commands exist (as stand-ins too), and with a service
  # manager running starts its service, as Debian's packages do.
  stub apt-get "$record
B=\$(dirname \$S)/bin
case \" \$* \" in
  *' install '*redis-server*)
    [ -e \$S/service_manager ] && touch \$S/redis_up
    cp \$S/../stubs/redis-server \$B/ ;;
  *' install '*postgresql*)
    [ -e \$S/service_manager ] && touch \$S/pg_up
    cp \$S/../stubs/pg_ctlcluster \$B/ ;;
esac
exit 0"
  stub redis-cli "$record; [ -e \$S/redis_up ]"
  stub redis-server "$record; touch \$S/redis_up"
  stub pg_isready "$record; [ -e \$S/pg_up ]"
  stub pg_ctlcluster "$record; touch \$S/pg_up"
  stub runuser "$record"
  stub sudo "$record"
  stub psql "$record"
  stub id "echo 0"
  # command -v finds redis-server, pg_ctlcluster only once installed.
  mkdir -p "$WORK/stubs"
  mv "$WORK/bin/redis-server" "$WORK/bin/pg_ctlcluster" "$WORK/stubs/"
  [ -e "$WORK/state/redis_installed" ] && cp "$WORK/stubs/redis-server" "$WORK/bin/"
  [ -e "$WORK/state/pg_installed" ] && cp "$WORK/stubs/pg_ctlcluster" "$WORK/bin/"
  mkdir -p "$WORK/etc/postgresql/15"
}

# Runs lib.sh's function $1 in the scenario (a subshell: an `exit` is an outcome too).
run() {
  (
    export PATH="$WORK/bin:$WORK/tools"
    # shellcheck source=/dev/null
    source "$ROOT/scripts/lib.sh"
    ls() { if [ "$*" = /etc/postgresql ]; then command ls "$WORK/etc/postgresql"; else command ls "$@"; fi; }
    "$1"
  ) >/dev/null 2>"$WORK/stderr"
  echo $? > "$WORK/status"
}

calls() { cat "$WORK/state/calls" 2>/dev/null; }

expect() {
  local what=$1 pattern=$2
  if ! calls | grep -qE -- "$pattern"; then
    echo "FAILED [$name] $what: no call matches /$pattern/; calls were:"; calls | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}

refuse() {
  local what=$1 pattern=$2
  if calls | grep -qE -- "$pattern"; then
    echo "FAILED [$name] $what: a call matches /$pattern/:"; calls | grep -E -- "$pattern" | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}

succeeded() {
  if [ "$(cat "$WORK/status")" != 0 ]; then
    echo "FAILED [$name] exited $(cat "$WORK/status"): $(cat "$WORK/stderr")"
    failures=$((failures + 1))
  fi
}

scenario "Redis already running" redis_up redis_installed
run ensure_redis
succeeded
refuse "installs nothing" '^apt-get'
refuse "starts no second Redis" '^redis-server'

scenario "Redis missing; installing it starts Debian's service" service_manager
run ensure_redis
succeeded
expect "installs it, waiting for the package lock" '^apt-get .*DPkg::Lock::Timeout=300 .*install .*redis-server'
refuse "starts no second Redis beside the service's" '^redis-server'

scenario "Redis missing; no service manager starts it"
run ensure_redis
succeeded
expect "starts its own, keeping nothing on disk" '^redis-server --daemonize yes .*--save  --appendonly no'

scenario "PostgreSQL missing; installing it starts Debian's cluster" service_manager
run ensure_postgres
succeeded
refuse "starts no cluster itself" '^pg_ctlcluster'
expect "sets the password as the postgres user, from /" '^runuser -u postgres -- psql .*\[cwd=/\]$'

scenario "PostgreSQL missing; no service manager starts it"
run ensure_postgres
succeeded
expect "starts the newest cluster" '^pg_ctlcluster .*15 main start'
expect "sets the password as the postgres user, from /" '^runuser -u postgres -- psql .*\[cwd=/\]$'

scenario "PostgreSQL already running" pg_up pg_installed
run ensure_postgres
succeeded
refuse "installs nothing" '^apt-get'
refuse "starts nothing" '^pg_ctlcluster'

if [ "$failures" -gt 0 ]; then
  echo "install decisions: $failures failed"
  exit 1
fi
echo "install decisions: every scenario as expected"
