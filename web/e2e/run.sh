#!/bin/sh
# Runs the browser tests (e2e.mjs); exits 77 (skipped) when Node.js is missing.
if ! command -v node >/dev/null 2>&1; then
  bar='******************************************************************************'
  printf '%s\nweb_e2e: SKIPPED: Node.js (node) is not installed; the browser tests of the web page did not run.\nInstall it (Debian: apt-get install npm, or bash scripts/setup.sh).\n%s\n' "$bar" "$bar" >&2
  exit 77
fi
exec node "$(dirname "$0")/e2e.mjs" "$@"
