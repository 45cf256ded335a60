#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests; install it if we can.
# Playwright's own browser download does not work on the lab machines, so we use
# /usr/bin/chromium (or $ATTENTION_LAB_CHROMIUM). Fails loudly rather than skipping.
set -euo pipefail
browser="${ATTENTION_LAB_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  [ -x "$browser" ] && exit 0
fi
cat >&2 <<MSG
The browser tests need Chromium at $browser and it is not there.
Install it with:   sudo apt-get update && sudo apt-get install -y chromium
or set ATTENTION_LAB_CHROMIUM to a Chromium binary, then run 'make test' again.
MSG
exit 1
