#!/usr/bin/env bash
# Installs playwright-core (pinned in tests/cli/js) into DIR, for the tests that load fanout's HTML
# reports in Debian's headless chromium (/usr/bin/chromium, the `chromium` package; playwright
# downloads no browser of its own) and read their charts from the DOM.
#
#   scripts/report-browser.sh DIR   # prints the path of the page reader: node "$(scripts/report-browser.sh DIR)" PAGE.html...
#
# Idempotent, and installs node only when missing: see scripts/node-pinned.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node-pinned.sh"

dir=${1:-}
[ -n "$dir" ] || { sed -n '2,8p' "$0" >&2; exit 2; }
node_pinned_install "$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/cli/js" && pwd)" "$dir" playwright-core
echo "$(cd "$dir" && pwd)/report_dom.mjs"
