#!/usr/bin/env bash
# Stops what start-temporal-postgres.sh started: Temporal first (it needs the database to hand
# over cleanly), then PostgreSQL. --temporal-only leaves PostgreSQL up, e.g. to test hookflow
# riding out a Temporal restart under load (bring it back with restart-temporal.sh).
# Usage: stop-temporal-postgres.sh [--temporal-only] [DATA_DIR]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

temporal_only=false dir=""
for arg in "$@"; do
  case "$arg" in
    --temporal-only) temporal_only=true ;;
    -*) die "unknown option $arg (usage: $0 [--temporal-only] [DATA_DIR])" ;;
    *) dir="$arg" ;;
  esac
done
DATA="$(resolve_data_dir "$dir")"

stop_temporal "$DATA"
$temporal_only && exit 0

PGDATA="$DATA/pg"
if [ -f "$PGDATA/PG_VERSION" ]; then
  PGBIN="/usr/lib/postgresql/$(cat "$PGDATA/PG_VERSION")/bin"   # the major version that created the cluster
  if as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    log "Stopping PostgreSQL"
    # fast: roll back open transactions and shut down cleanly, without waiting for clients to leave.
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >&2
  else
    log "PostgreSQL not running"
  fi
fi
