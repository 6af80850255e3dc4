#!/usr/bin/env bash
# Micro-benchmark of the HTML parser (Google Benchmark): MB/s and us per page of ParseHtml with the
# fast path (auto) and with gumbo's tree alone (gumbo), side by side, on synthetic pages of 10 and
# 20 kB and on large real pages Debian's documentation packages ship: the JDK's String.html and
# its largest index, Python's contents.html and os.html, PostgreSQL's bookindex.html. The aim: the
# fast path at least 10x gumbo. Median of 5 repetitions.
set -euo pipefail
source "$(dirname "$0")/common.sh"
FANOUT_PACKAGES+=(libbenchmark-dev openjdk-17-doc python3.11-doc postgresql-doc-15)
fanout_install_deps
cd "$FANOUT_ROOT"
cmake --preset default >/dev/null  # re-configure: finds Google Benchmark if it was just installed
fanout_build default
pages=""
for candidate in /usr/share/doc/openjdk-17-doc/api/java.base/java/lang/String.html \
                 /usr/share/doc/openjdk-17-doc/api/index-files/index-7.html \
                 /usr/share/doc/python3.11/html/contents.html /usr/share/doc/python3.11/html/library/os.html \
                 /usr/share/doc/postgresql-doc-15/html/bookindex.html; do
  [ -f "$candidate" ] && pages="$pages:$candidate"
done
echo "commit $(fanout_commit); $(fanout_machine)"
FANOUT_BENCH_HTML="${pages#:}" build/bench/parser_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_min_time=0.2 2>&1 | grep -E "^(Benchmark|-|.*_median)"
