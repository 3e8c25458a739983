#!/usr/bin/env bash
# The integration suite against the production tier: Temporal server 1.29.1 on PostgreSQL (built and
# started by scripts/prod), instead of the dev server. Usage: scripts/test-on-postgres.sh [jest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"
export TEMPORAL_CLI
DATA="$(mktemp -d "${TMPDIR:-/tmp}/hookflow-pg-XXXXXX")"
chmod 755 "$DATA" # PostgreSQL runs as its own user and must reach its data directory
export TEMPORAL_PORT="${TEMPORAL_PORT:-17233}" HOOKFLOW_PG_PORT="${HOOKFLOW_PG_PORT:-55433}"
trap 'bash scripts/prod/stop-temporal-postgres.sh "$DATA" >&2 || true; rm -rf "$DATA"' EXIT
address="$(bash scripts/prod/start-temporal-postgres.sh "$DATA" | tail -n 1)"
export HOOKFLOW_TEST_TEMPORAL_ADDRESS="${address#TEMPORAL_ADDRESS=}"
echo "Temporal on PostgreSQL at $HOOKFLOW_TEST_TEMPORAL_ADDRESS" >&2
npx jest --runInBand test/integration "$@"
