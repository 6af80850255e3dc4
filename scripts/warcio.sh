#!/usr/bin/env bash
# Installs webrecorder's warcio (a WARC reader in JavaScript, pinned in tests/warc/js) into DIR, for
# the tests that check the WARC files fanout writes with a reader that is not ours.
#
#   scripts/warcio.sh DIR    # prints the path of the record dumper to run: node "$(scripts/warcio.sh DIR)" FILE...
#
# Idempotent, and installs node only when missing: see scripts/node-pinned.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node-pinned.sh"

dir=${1:-}
[ -n "$dir" ] || { sed -n '2,7p' "$0" >&2; exit 2; }
node_pinned_install "$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/warc/js" && pwd)" "$dir" warcio
echo "$(cd "$dir" && pwd)/warc_records.mjs"
