#!/usr/bin/env bash
# Prints (last stdout line) the directory holding `temporal-server` and `temporal-sql-tool`,
# building them once with `go install`: no release download is reachable from these machines,
# but the Go module proxy is. The build lives outside the repo so `git clean` does not lose it.
set -euo pipefail
VERSION="${TEMPORAL_SERVER_VERSION:-v1.29.1}"
CACHE="${HOOKFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookflow}"
DIR="$CACHE/temporal-server-$VERSION"

# The PostgreSQL schema files are copied next to the binaries so starting never needs Go or the module cache.
if [ -x "$DIR/temporal-server" ] && [ -x "$DIR/temporal-sql-tool" ] && [ -d "$DIR/schema/postgresql/v12" ]; then
  echo "$DIR"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "temporal-server is not built in $DIR and there is no Go toolchain (go) to build it." >&2
  echo "Install Go >= 1.25 and re-run, or place temporal-server and temporal-sql-tool in $DIR." >&2
  exit 1
fi
mkdir -p "$DIR"
# -mod=mod: the server module's go.mod may need updating to resolve under the proxy.
export GOBIN="$DIR" GOFLAGS="${GOFLAGS:--mod=mod}"
# go install writes `server`/`sql`; only the rename after a successful build marks a binary done,
# so an interrupted build is redone rather than trusted by the fast path above.
if [ ! -x "$DIR/temporal-server" ]; then
  echo "Building temporal-server $VERSION into $DIR (one time, several minutes)..." >&2
  go install "go.temporal.io/server/cmd/server@$VERSION" >&2
  mv "$DIR/server" "$DIR/temporal-server"
fi
if [ ! -x "$DIR/temporal-sql-tool" ]; then
  echo "Building temporal-sql-tool $VERSION into $DIR..." >&2
  go install "go.temporal.io/server/cmd/tools/sql@$VERSION" >&2
  mv "$DIR/sql" "$DIR/temporal-sql-tool"
fi
if [ ! -d "$DIR/schema/postgresql/v12" ]; then
  SRC="$(go env GOMODCACHE)/go.temporal.io/server@$VERSION/schema/postgresql/v12"
  [ -d "$SRC" ] || go mod download "go.temporal.io/server@$VERSION" >&2
  mkdir -p "$DIR/schema/postgresql"
  cp -R "$SRC" "$DIR/schema/postgresql/v12.tmp"
  chmod -R u+w "$DIR/schema/postgresql/v12.tmp"   # module cache files are read-only; keep the cache removable
  mv "$DIR/schema/postgresql/v12.tmp" "$DIR/schema/postgresql/v12"
fi
echo "$DIR"
