#!/usr/bin/env bash
# Micro-benchmark of the HTML parser (Google Benchmark): us per page on synthetic pages of 10 and
# 20 kB, and on a large real page shipped by a Debian package.
set -euo pipefail
source "$(dirname "$0")/common.sh"
FANOUT_PACKAGES+=(libbenchmark-dev bzip2-doc)
fanout_install_deps
cd "$FANOUT_ROOT"
cmake --preset default >/dev/null  # re-configure: finds Google Benchmark if it was just installed
fanout_build default
page=""
for candidate in /usr/share/doc/nodejs/api/process.html /usr/share/doc/bzip2/manual.html; do
  [ -f "$candidate" ] && { page="$candidate"; break; }
done
FANOUT_BENCH_HTML="$page" build/bench/parser_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
