#!/usr/bin/env bash
# `npm run bench` against the PostgreSQL tier (scripts/prod): a private PostgreSQL cluster and
# temporal-server in a temporary directory on their own ports, the bench pointed at them with the
# server's pid (CPU) and Prometheus metrics (persistence operations per event), then both stopped.
# Usage: bench/on-postgres.sh [bench/ceiling.ts]  (default bench/run.ts)
# Env: TEMPORAL_PORT (27233), HOOKFLOW_PG_PORT (55533), HOOKFLOW_HISTORY_SHARDS (4), and the scripts'
# own BENCH_* / CEILING_* sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="$(mktemp -d "${TMPDIR:-/tmp}/hookflow-bench-pg-XXXXXX")"
chmod 755 "$DATA" # PostgreSQL runs as its own user and must reach its data directory
export TEMPORAL_PORT="${TEMPORAL_PORT:-27233}" HOOKFLOW_PG_PORT="${HOOKFLOW_PG_PORT:-55533}"
export HOOKFLOW_HISTORY_SHARDS="${HOOKFLOW_HISTORY_SHARDS:-4}" # recorded in the results
export TEMPORAL_METRICS_PORT="${TEMPORAL_METRICS_PORT:-$((TEMPORAL_PORT + 9))}"
trap 'bash scripts/prod/stop-temporal-postgres.sh "$DATA" >&2 || true; rm -rf "$DATA"' EXIT
address="$(bash scripts/prod/start-temporal-postgres.sh "$DATA" | tail -n 1)"
address="${address#TEMPORAL_ADDRESS=}" pid="$(cat "$DATA/temporal.pid")"
metrics="http://127.0.0.1:$TEMPORAL_METRICS_PORT/metrics"
BENCH_TEMPORAL_ADDRESS="$address" BENCH_SERVER_PID="$pid" BENCH_SERVER_METRICS="$metrics" \
  CEILING_TEMPORAL_ADDRESS="$address" CEILING_SERVER_PID="$pid" CEILING_SERVER_METRICS="$metrics" \
  node --import tsx "${1:-bench/run.ts}"
