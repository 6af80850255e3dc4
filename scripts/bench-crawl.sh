#!/usr/bin/env bash
# Benchmarks of the async crawl engine, against fanout serve on loopback:
#  1. fan-out: --synthetic 2000 --links 10 --page-bytes 10000 --latency 50, at concurrency 16, 128
#     and 512: pages/s, and the mean transfers in flight while the queue held more URLs than C
#     (the aim: at least 90% of C, i.e. the loop never starves the limit);
#  2. CPU: --synthetic 20000 --links 10 --page-bytes 20000, no latency, concurrency 64: pages/s,
#     CPU seconds and peak RSS of the crawler, against the parse-bound limit
#     (pool threads / parse time per page).
# Usage: bash scripts/bench-crawl.sh        Every load is bounded: the sites are finite.
set -euo pipefail
source "$(dirname "$0")/common.sh"
fanout_install_deps
command -v /usr/bin/time >/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq time >/dev/null; }
fanout_build default
cd "$FANOUT_ROOT"
FANOUT=build/cli/fanout
work="$(mktemp -d)"
trap 'fanout_stop_server; rm -rf "$work"' EXIT
start_server() { fanout_start_server "$work" "$@"; }
stop_server() { fanout_stop_server; }

echo "== 1. fan-out at 50 ms latency: 2000 pages, 10 links, 10 kB"
start_server --synthetic 2000 --links 10 --page-bytes 10000 --latency 50
for c in 16 128 512; do
  rm -f "$work/c.db"*
  echo "-- --concurrency $c --per-host $c"
  "$FANOUT" crawl "$url" --db "$work/c.db" --concurrency "$c" --per-host "$c" | grep -E "^(pages|throughput|fan-out|  with a full queue|threads) "
done
stop_server

echo "== 2. CPU-bound: 20000 pages, 10 links, 20 kB, no latency, --concurrency 64"
start_server --synthetic 20000 --links 10 --page-bytes 20000
rm -f "$work/c.db"*
/usr/bin/time -f "crawler: %U s user, %S s system, %M KB peak RSS" \
  "$FANOUT" crawl "$url" --db "$work/c.db" --concurrency 64 --per-host 64 --report "$work/r.json" \
  | grep -E "^(pages|throughput|threads|parse \(CPU\)) "
stop_server
threads=$(grep -o '"threads":[0-9]*' "$work/r.json" | cut -d: -f2)
parse=$(grep -o '"mean_parse_seconds":[0-9.e-]*' "$work/r.json" | cut -d: -f2)
pps=$(grep -o '"pages_per_second":[0-9.e-]*' "$work/r.json" | cut -d: -f2)
awk -v t="$threads" -v p="$parse" -v r="$pps" 'BEGIN {
  limit = t / p; printf "parse-bound limit: %d threads / %.0f us = %.0f pages/s; achieved %.0f pages/s = %.0f%% of it\n",
  t, p * 1e6, limit, r, 100 * r / limit }'
