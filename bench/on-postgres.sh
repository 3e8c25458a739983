#!/usr/bin/env bash
# `npm run bench` against the PostgreSQL tier (scripts/prod): a private PostgreSQL cluster and
# temporal-server in a temporary directory on their own ports, the bench pointed at them with the
# server's pid (CPU) and Prometheus metrics (persistence operations per event), then both stopped.
# Env: TEMPORAL_PORT (27233), HOOKFLOW_PG_PORT (55533), and the bench's own BENCH_* sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="$(mktemp -d "${TMPDIR:-/tmp}/hookflow-bench-pg-XXXXXX")"
chmod 755 "$DATA" # PostgreSQL runs as its own user and must reach its data directory
export TEMPORAL_PORT="${TEMPORAL_PORT:-27233}" HOOKFLOW_PG_PORT="${HOOKFLOW_PG_PORT:-55533}"
export TEMPORAL_METRICS_PORT="${TEMPORAL_METRICS_PORT:-$((TEMPORAL_PORT + 9))}"
trap 'bash scripts/prod/stop-temporal-postgres.sh "$DATA" >&2 || true; rm -rf "$DATA"' EXIT
address="$(bash scripts/prod/start-temporal-postgres.sh "$DATA" | tail -n 1)"
BENCH_TEMPORAL_ADDRESS="${address#TEMPORAL_ADDRESS=}" BENCH_SERVER_PID="$(cat "$DATA/temporal.pid")" \
  BENCH_SERVER_METRICS="http://127.0.0.1:$TEMPORAL_METRICS_PORT/metrics" \
  node --import tsx bench/run.ts
