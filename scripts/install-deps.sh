#!/usr/bin/env bash
# Installs the npm packages from package-lock.json: `npm ci` on a fresh clone (exactly the locked tree,
# and an error rather than a re-resolve when package.json and the lock disagree), `npm install` when
# node_modules exists but is older than the lock or package.json (an update in place, not a reinstall
# of everything). The lock holds every platform's optional binaries (@swc/core, esbuild, the
# resolvers), so both work on any OS and CPU. Dependencies' install scripts: allowScripts in package.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node.sh
if [ ! -e node_modules ]; then
  echo "Installing npm packages..." >&2
  npm ci --no-audit --no-fund >&2
elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "Updating npm packages..." >&2
  npm install --no-audit --no-fund >&2
fi
