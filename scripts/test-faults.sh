#!/usr/bin/env bash
# The fault-injection suite (test/faults): processes killed mid-flight, Temporal stopped and restarted,
# a corpus of hostile requests. Slow (minutes, not seconds), so it is not part of `npm test`.
# Arguments go to jest, e.g. `npm run test:faults -- bad-input`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh
bash scripts/install-deps.sh
TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"
export TEMPORAL_CLI
npx jest --runInBand -c jest.faults.config.js "$@"
