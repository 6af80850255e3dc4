#!/usr/bin/env bash
# Fuzzes the HTML parser's fast path against gumbo (fuzz/html_fast_path_fuzz.cpp, libFuzzer with
# ASan+UBSan, clang): any page where the fast path's result differs from gumbo's, or any crash, stops
# it with the input saved in build-fuzz/crashes/. Seeds: snippets of the Debian documentation pages
# when installed, plus what earlier runs found (build-fuzz/corpus).
# Usage: bash scripts/fuzz-parser.sh [SECONDS]     (default 300; scripts/test.sh runs it for 15)
set -euo pipefail
source "$(dirname "$0")/common.sh"
FANOUT_PACKAGES+=(clang libclang-rt-14-dev)
fanout_install_deps
cd "$FANOUT_ROOT"
seconds="${1:-300}"
[ -f build-fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" >/dev/null
corpus=build-fuzz/corpus
mkdir -p "$corpus" build-fuzz/crashes
if [ -z "$(ls -A "$corpus")" ]; then
  n=0
  for f in /usr/share/doc/python3.11/html/library/os.html /usr/share/doc/postgresql-doc-15/html/sql-select.html \
           /usr/share/doc/openjdk-17-doc/api/java.base/java/lang/String.html; do
    [ -f "$f" ] || continue
    # Pieces of a few kB: small inputs mutate faster than whole pages.
    for off in 0 4000 20000 60000; do head -c $((off + 3000)) "$f" | tail -c 3000 >"$corpus/seed-$n"; n=$((n + 1)); done
  done
  printf '<title>t</title><a href=/a rel=nofollow>a</a><table><tr><td><a href=/b></table>' >"$corpus/seed-hand"
fi
status=0
build-fuzz/fuzz/html_fast_path_fuzz "$corpus" -dict=fuzz/html.dict -max_total_time="$seconds" -max_len=20000 \
  -timeout=10 -rss_limit_mb=4096 -artifact_prefix=build-fuzz/crashes/ -print_final_stats=1 \
  >build-fuzz/fuzz.log 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz-parser: the fuzzer failed (exit $status); the input is in build-fuzz/crashes/:" >&2
  grep -v "^#" build-fuzz/fuzz.log | tail -n 60 >&2
  exit 1
fi
grep -E "^Done|stat::(number_of_executed_units|peak_rss_mb)" build-fuzz/fuzz.log
