#!/usr/bin/env bash
# Prints the path of a usable `temporal` CLI, building it once if needed.
# Order: $TEMPORAL_CLI, `temporal` on PATH, the cached build, then `go install` into the cache.
# The SDK's own download of the CLI cannot reach its host from these machines, so we build it.
set -euo pipefail
VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
CACHE="${HOOKFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookflow}"
BIN="$CACHE/temporal-cli-$VERSION/temporal"

if [ -n "${TEMPORAL_CLI:-}" ]; then
  [ -x "$TEMPORAL_CLI" ] || { echo "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable" >&2; exit 1; }
  echo "$TEMPORAL_CLI"; exit 0
fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "No temporal CLI found (TEMPORAL_CLI, PATH, $BIN) and no Go toolchain to build it." >&2
  echo "Install Go >= 1.23 or set TEMPORAL_CLI to a temporal binary." >&2
  exit 1
fi
echo "Building temporal CLI $VERSION into $BIN (one time, a few minutes)..." >&2
mkdir -p "$(dirname "$BIN")"
GOBIN="$(dirname "$BIN")" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$VERSION" >&2
echo "$BIN"
