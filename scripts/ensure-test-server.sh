#!/usr/bin/env bash
# Prints the path of an executable that starts Temporal's Java time-skipping test server:
#   <path> <port>
# The SDK cannot download its own test server here, so we fetch the Maven artifact once into a cache
# outside the repo and write a small wrapper that `exec`s java with it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.38.0}"
CACHE="${HOOKFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookflow}/temporal-test-server-$VERSION"
WRAPPER="$CACHE/test-server"
if [ -x "$WRAPPER" ] && [ -d "$CACHE/lib" ]; then echo "$WRAPPER"; exit 0; fi
command -v java >/dev/null || { echo "java (17+) is required for the time-skipping test server" >&2; exit 1; }
command -v mvn >/dev/null || { echo "mvn is required to fetch io.temporal:temporal-test-server" >&2; exit 1; }
echo "Fetching io.temporal:temporal-test-server:$VERSION into $CACHE (one time)..." >&2
mkdir -p "$CACHE"
mvn -q -B -f "$HERE/test-server/pom.xml" -Dtemporal.test.server.version="$VERSION" \
  dependency:copy-dependencies -DoutputDirectory="$CACHE/lib.tmp" >&2
rm -rf "$CACHE/lib" && mv "$CACHE/lib.tmp" "$CACHE/lib"
cat > "$WRAPPER" <<WRAP
#!/bin/sh
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -cp "$CACHE/lib/*" io.temporal.testserver.TestServer "\$@"
WRAP
chmod +x "$WRAPPER"
echo "$WRAPPER"
