#!/usr/bin/env bash
# The whole test suite from a fresh clone: npm packages, the temporal CLI (built once), the Java
# time-skipping test server (fetched once), then type check, lint and jest against a real dev server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh
bash scripts/install-deps.sh
TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"
export TEMPORAL_CLI
npx tsc -p tsconfig.json --noEmit
npm run --silent lint
npx jest --runInBand "$@"
