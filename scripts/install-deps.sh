#!/usr/bin/env bash
# Installs the npm packages from package-lock.json when node_modules is missing or stale.
# `npm install` rather than `npm ci`: the lock lacks the other platforms' optional binaries of
# @swc/core and unrs-resolver (the registry reachable here does not list them all), which `npm ci`
# treats as out of sync. `npm install` still installs the locked versions.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm packages..." >&2
  npm install --no-audit --no-fund >&2
fi
