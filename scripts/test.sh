#!/usr/bin/env bash
# Quick start (2): install what is missing, build, and run the whole test suite with ctest.
# Usage: bash scripts/test.sh [default|asan|tsan]
set -euo pipefail
source "$(dirname "$0")/common.sh"
preset="${1:-default}"
# The parser's differential tests read the documentation Debian ships (tests/parser/html_fast_path_test.cpp),
# its fuzzer needs clang's libFuzzer, the WARC tests archive the sample site with GNU Wget too, and
# the HTML reports' tests load them in headless chromium.
FANOUT_PACKAGES+=(python3.11-doc postgresql-doc-15 openjdk-17-doc clang libclang-rt-14-dev wget chromium)
fanout_install_deps
fanout_build "$preset"
cd "$FANOUT_ROOT"
# The WARC tests read fanout's archives with webrecorder's warcio (pinned in tests/warc/js), and
# compare them with GNU Wget's.
build_dir=build
[ "$preset" != default ] && build_dir="build-$preset"
bash scripts/warcio.sh "$build_dir/warcio" >/dev/null
# The HTML reports' tests drive chromium with playwright-core (pinned in tests/cli/js).
bash scripts/report-browser.sh "$build_dir/report-browser" >/dev/null
ctest --preset "$preset" -j "$(nproc)"
# A few seconds of the parser's fuzzer (fast path against gumbo); scripts/fuzz-parser.sh runs it longer.
if [ "$preset" = default ]; then bash scripts/fuzz-parser.sh 15; fi
