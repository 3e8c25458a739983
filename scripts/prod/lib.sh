# Shared by the scripts in scripts/prod (sourced, not run): paths, running PostgreSQL as its own
# account, and starting/stopping the Temporal server process recorded in DATA_DIR.
# shellcheck shell=bash

PROD_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$PROD_DIR/../.." && pwd)"
# initdb and postgres refuse to run as root, so as root we run them as this account (Debian's package creates it).
PG_OS_USER="${HOOKFLOW_PG_OS_USER:-postgres}"
# Temporal reads <root>/config/<env>.yaml; the env name only picks the file.
TEMPORAL_ENV=hookflow

log() { echo "[hookflow-prod] $*" >&2; }
die() { log "error: $*"; exit 1; }

# Absolute, because PostgreSQL and Temporal do not run from the caller's directory.
# Default lives in .data/ (git-ignored) so a checkout is self-contained.
resolve_data_dir() {
  local dir="${1:-${HOOKFLOW_PROD_DATA_DIR:-$REPO_DIR/.data/temporal-postgres}}"
  mkdir -p "$dir"
  (cd "$dir" && pwd)
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi
}

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

temporal_cli() { bash "$REPO_DIR/scripts/ensure-temporal.sh" | tail -n 1; }

# True when DATA_DIR/temporal.pid names a live temporal-server (not a recycled pid).
temporal_running() {
  local pid
  pid="$(cat "$1/temporal.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q temporal-server
}

# start_temporal DATA_DIR SERVER_BIN ADDRESS: starts the server from DATA_DIR/config and waits for the frontend.
start_temporal() {
  local data="$1" bin="$2" address="$3" cli
  cli="$(temporal_cli)"
  if temporal_running "$data"; then
    log "Temporal server already running (pid $(cat "$data/temporal.pid"))"
  else
    port_in_use "${address##*:}" && die "port ${address##*:} is already in use (another Temporal?); set TEMPORAL_PORT"
    log "Starting Temporal server on $address (log: $data/temporal.log)"
    rm -f "$data/temporal.pid"
    # setsid: its own session, so the server outlives the shell that started it and a Ctrl-C there.
    # setsid may fork, so the pid is recorded by the process itself just before it execs the server.
    # shellcheck disable=SC2016  # $$ and $@ are for the inner sh
    # exec all the way down: no waiting shell is left holding the caller's stdout open.
    (cd "$data" && exec setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$data/temporal.pid" \
      "$bin" --root "$data" --config config --env "$TEMPORAL_ENV" --allow-no-auth start) \
      >>"$data/temporal.log" 2>&1 </dev/null &
    local i
    for ((i = 0; i < 50; i++)); do [ -s "$data/temporal.pid" ] && break; sleep 0.1; done
  fi
  # Ready = the frontend answers a health check; allow for ringpop membership joining after a restart.
  local deadline=$((SECONDS + ${TEMPORAL_START_TIMEOUT:-120}))
  until "$cli" operator cluster health --address "$address" 2>/dev/null | grep -q SERVING; do
    if ! temporal_running "$data"; then
      tail -n 30 "$data/temporal.log" >&2
      die "Temporal server exited during startup (see $data/temporal.log)"
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "Temporal frontend not answering on $address after ${TEMPORAL_START_TIMEOUT:-120}s (see $data/temporal.log)"
    sleep 1
  done
  echo "$address" >"$data/temporal.address"
  log "Temporal frontend is serving on $address"
}

# stop_temporal DATA_DIR: SIGTERM lets the server hand shards and task queues over cleanly; SIGKILL only as a last resort.
stop_temporal() {
  local data="$1" pid i
  if ! temporal_running "$data"; then
    log "Temporal server not running"; rm -f "$data/temporal.pid"; return 0
  fi
  pid="$(cat "$data/temporal.pid")"
  log "Stopping Temporal server (pid $pid)"
  kill -TERM "$pid"
  for ((i = 0; i < ${TEMPORAL_STOP_TIMEOUT:-60}; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "Temporal server did not stop within ${TEMPORAL_STOP_TIMEOUT:-60}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$data/temporal.pid"
}

# run_logged LOG CMD...: keeps chatty tools (initdb, temporal-sql-tool) out of the terminal unless they fail.
run_logged() {
  local logfile="$1"; shift
  "$@" >>"$logfile" 2>&1 || { tail -n 25 "$logfile" >&2; die "failed: $* (full output: $logfile)"; }
}

# Files PostgreSQL must write or read as its own account.
own_pg() { [ "$(id -u)" != 0 ] || chown "$PG_OS_USER" "$@"; }
