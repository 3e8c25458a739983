#!/usr/bin/env bash
# Quick start: Temporal dev server (SQLite in .data/, Web UI :8233) + worker + API with hookflow.config.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh
bash scripts/install-deps.sh
TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"
export TEMPORAL_CLI
mkdir -p .data && chmod 700 .data
# A development encryption key and admin token, generated once and kept in .data/ so that data
# encrypted in one run can be read in the next. Set the variables to use your own.
persisted() { # name file generator
  if [ -z "${!1:-}" ]; then
    [ -s "$2" ] || (umask 077 && $3 > "$2")
    export "$1=$(cat "$2")"
  fi
}
persisted HOOKFLOW_ENCRYPTION_KEY .data/encryption-key "openssl rand -base64 32"
persisted HOOKFLOW_ADMIN_TOKEN .data/admin-token "openssl rand -hex 24"
[ -s .data/admin-token ] && export HOOKFLOW_ADMIN_TOKEN_FILE=.data/admin-token
# Development values for the example config's source secrets; set your own in the environment.
export EXTEND_WEBHOOK_SECRET="${EXTEND_WEBHOOK_SECRET:-dev-extend-secret}"
export ONGOING_WEBHOOK_PASSWORD="${ONGOING_WEBHOOK_PASSWORD:-dev-ongoing-password}"
export ONGOING_WEBHOOK_TOKEN="${ONGOING_WEBHOOK_TOKEN:-dev-ongoing-token}"
export AUTOMATION_WEBHOOK_SECRET="${AUTOMATION_WEBHOOK_SECRET:-dev-automation-secret}"
export AUTOMATION_WEBHOOK_KEY="${AUTOMATION_WEBHOOK_KEY:-dev-automation-key}"
exec node --import tsx src/stack/start.ts
