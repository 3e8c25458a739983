#!/usr/bin/env bash
# Prints (last stdout line) the bin dir of a Debian PostgreSQL install holding initdb/pg_ctl,
# installing the distribution package when none is present. We use Debian's package rather
# than a container because these machines have no container engine.
set -euo pipefail

find_bindir() {
  # Highest major version wins if several are installed.
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

if BIN="$(find_bindir)"; then echo "$BIN"; exit 0; fi
command -v apt-get >/dev/null 2>&1 || { echo "No PostgreSQL under /usr/lib/postgresql and no apt-get to install it." >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "PostgreSQL is not installed; re-run as root (apt-get install postgresql)." >&2; exit 1; }
echo "Installing PostgreSQL with apt-get (one time)..." >&2
export DEBIAN_FRONTEND=noninteractive
# An update first: a fresh image often has no package lists at all.
apt-get update >&2
apt-get install -y --no-install-recommends postgresql >&2
# Debian's package starts a system cluster on 5432; we run our own private one, so stop it.
if command -v pg_ctlcluster >/dev/null 2>&1; then
  for c in $(pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}'); do
    pg_ctlcluster "${c%/*}" "${c#*/}" stop >&2 2>/dev/null || true
  done
fi
find_bindir || { echo "postgresql installed but initdb/pg_ctl not found under /usr/lib/postgresql/*/bin" >&2; exit 1; }
