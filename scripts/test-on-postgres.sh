#!/usr/bin/env bash
# The integration suite and the fault suite against the production tier: Temporal server 1.29.1 on
# PostgreSQL (built and started by scripts/prod) instead of the dev server. The fault tests stop and
# restart that server (scripts/prod/stop-temporal-postgres.sh --temporal-only, restart-temporal.sh).
# Usage: scripts/test-on-postgres.sh [integration] [faults]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(integration faults)
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
for suite in "${suites[@]}"; do
  case "$suite" in
    # The coalescing storm passes through PostgreSQL more slowly (about 105 s here): a window that holds it.
    integration) COALESCE_TEST_WINDOW="${COALESCE_TEST_WINDOW:-PT180S}" npx jest --runInBand test/integration ;;
    faults) HOOKFLOW_FAULTS_PG_DATA="$DATA" npx jest --runInBand -c jest.faults.config.js ;;
    *) echo "unknown suite $suite (integration, faults)" >&2; exit 2 ;;
  esac
done
