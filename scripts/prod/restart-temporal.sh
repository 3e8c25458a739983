#!/usr/bin/env bash
# (Re)starts only the Temporal server against the PostgreSQL cluster and config that
# start-temporal-postgres.sh left in DATA_DIR: stops it first if it is running. Used to test
# that hookflow's API and workers survive a Temporal outage.
# Usage: restart-temporal.sh [DATA_DIR]. Last stdout line: TEMPORAL_ADDRESS=127.0.0.1:PORT
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DATA="$(resolve_data_dir "${1:-}")"
if [ ! -f "$DATA/config/$TEMPORAL_ENV.yaml" ] || [ ! -f "$DATA/temporal.address" ]; then
  die "$DATA has no Temporal config; run start-temporal-postgres.sh first"
fi
PGBIN="/usr/lib/postgresql/$(cat "$DATA/pg/PG_VERSION")/bin"
as_pg "$PGBIN/pg_ctl" -D "$DATA/pg" status >/dev/null 2>&1 \
  || die "PostgreSQL in $DATA/pg is not running; use start-temporal-postgres.sh"

SERVER_DIR="$(bash "$PROD_DIR/ensure-temporal-server.sh" | tail -n 1)"
ADDRESS="$(cat "$DATA/temporal.address")"
stop_temporal "$DATA"
start_temporal "$DATA" "$SERVER_DIR/temporal-server" "$ADDRESS"
echo "TEMPORAL_ADDRESS=$ADDRESS"
