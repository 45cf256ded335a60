#!/usr/bin/env bash
# Make sure the Debian packages the tests need are installed; install them if we can:
#   chromium  the browser tests (Playwright's own browser download does not work on the
#             lab machines, so we use /usr/bin/chromium, or $ATTENTION_LAB_CHROMIUM)
#   haproxy   the load balancer of `make serve`, opened by tests/browser/test_balancer.py
# Fails loudly rather than skipping.
set -euo pipefail
browser="${ATTENTION_LAB_CHROMIUM:-/usr/bin/chromium}"
missing=()
[ -x "$browser" ] || missing+=(chromium)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's ${missing[*]} for the tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
cat >&2 <<MSG
The tests need Debian's ${missing[*]} and it is not installed.
Install it with:   sudo apt-get update && sudo apt-get install -y ${missing[*]}
(or set ATTENTION_LAB_CHROMIUM to a Chromium binary), then run 'make test' again.
MSG
exit 1
