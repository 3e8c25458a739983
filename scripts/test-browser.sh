#!/usr/bin/env bash
# `npm run test:browser`: the console's browser tests (test/browser) in Debian's Chromium against a real
# dev server with its Web UI. Screenshots land in docs/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh
bash scripts/install-deps.sh
TEMPORAL_CLI="$(bash scripts/ensure-temporal.sh)"
CHROMIUM_PATH="$(bash scripts/ensure-chromium.sh)"
export TEMPORAL_CLI CHROMIUM_PATH
npx jest --config jest.browser.config.js --runInBand "$@"
