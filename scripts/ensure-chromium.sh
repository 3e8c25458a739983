#!/usr/bin/env bash
# Prints the path of a Chromium for the browser tests: CHROMIUM_PATH, or Debian's `chromium` package,
# installed with apt-get when missing (the tests drive it with playwright-core, which downloads nothing).
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ]; then echo "$CHROMIUM_PATH"; exit 0; fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium package..." >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core >&2
fi
command -v chromium
