#!/usr/bin/env bash
# Micro-benchmark of link resolution (Google Benchmark): microseconds per page and links per second
# to resolve every link of a page with a fresh resolver, as a crawl does, by the WHATWG rules
# with the resolver's fast path (what a crawl runs), by the WHATWG parser alone, and by the RFC 3986
# rules through curl's URL API (what runs before schema version 8 used, and every link before the
# WHATWG parser). On a synthetic page and on real pages of Debian's JDK, Python and PostgreSQL
# documentation. Median of 5 repetitions.
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
FANOUT_BENCH_HTML="${pages#:}" build/bench/url_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_min_time=0.2 2>&1 | grep -E "^(Benchmark|-|.*_median)"
