#!/usr/bin/env bash
# Runs a command on a supported Node.js (scripts/lib/node.sh), for package.json scripts that start
# `node` or a tool directly: bash scripts/with-node.sh node --import tsx bench/run.ts
set -euo pipefail
# shellcheck source=lib/node.sh
source "$(dirname "$0")/lib/node.sh"
exec "$@"
