#!/usr/bin/env bash
# The picture of `fanout bench --html` in the README: runs the README's own bench command (the first
# `fanout bench ... --html bench.html` line of its `fanout bench` section, so the two cannot drift),
# loads the page in headless chromium (tests/cli/js/report_dom.mjs, as the tests do) and writes a
# 1200-pixel-wide screenshot of its charts to docs/bench-report.png. Prints the bench's table and the commit.
# Usage: bash scripts/bench-report-png.sh [OUT.png]     The site is bench's own, on loopback: bounded.
set -euo pipefail
source "$(dirname "$0")/common.sh"
out=${1:-docs/bench-report.png}
fanout_install_deps
fanout_build default fanout
cd "$FANOUT_ROOT"
reader=$(bash scripts/report-browser.sh build/report-browser)
command=$(sed -n '/^## `fanout bench`/,/^## /p' README.md | grep -m1 '^fanout bench .*--html bench\.html$') ||
  { echo "bench-report-png.sh: no 'fanout bench ... --html bench.html' line in README.md's fanout bench section" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "bench-report-png.sh: $command (commit $(fanout_commit), $(fanout_machine))" >&2
# The README's words, as words: its command has no quoting to undo.
read -r -a words <<< "$command"
(cd "$work" && "$FANOUT_ROOT/build/cli/fanout" "${words[@]:1}" --json bench.json)
# The table is the README's text already: the picture ends above it, and stays under 300 KB.
node "$reader" --width 1200 --until "The numbers" --screenshot "$out" "$work/bench.html" >/dev/null
echo "bench-report-png.sh: wrote $out ($(stat -c %s "$out") bytes)" >&2
