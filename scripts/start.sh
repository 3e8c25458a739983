#!/usr/bin/env bash
# Quick start: Temporal dev server (SQLite in .data/, Web UI :8233) + worker + API with hookflow.config.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"
export TEMPORAL_CLI
# Development values for the example config's secrets; set your own in the environment.
export EXTEND_WEBHOOK_SECRET="${EXTEND_WEBHOOK_SECRET:-dev-extend-secret}"
export ONGOING_WEBHOOK_PASSWORD="${ONGOING_WEBHOOK_PASSWORD:-dev-ongoing-password}"
export ONGOING_WEBHOOK_TOKEN="${ONGOING_WEBHOOK_TOKEN:-dev-ongoing-token}"
export AUTOMATION_WEBHOOK_SECRET="${AUTOMATION_WEBHOOK_SECRET:-dev-automation-secret}"
export AUTOMATION_WEBHOOK_KEY="${AUTOMATION_WEBHOOK_KEY:-dev-automation-key}"
exec node --import tsx src/stack/start.ts
