#!/usr/bin/env bash
# Benchmarks of the crawl core on a web of many hosts (`fanout serve --hosts`, all on loopback):
#  1. scale: 40,000 pages over 10, 1,000, 20,000 and 100,000 hosts (robots.txt on every host),
#     --concurrency 256, --per-host 32, 20 ms latency: pages/s (and against 10 hosts), CPU seconds
#     per 1,000 pages, peak RSS, and the bytes an idle host costs;
#  2. politeness: 1,000 hosts x 5 pages, --delay 1, --concurrency 64, 20 ms: the wall time against
#     the ideal crawl of the same graph and limits (scripts/ideal_crawl.py, zero processing cost),
#     and the smallest gap between two requests to one host as the server saw it;
#  3. W1: --synthetic 2000 --links 10 --page-bytes 10000 --latency 50, --per-host = C, at C = 16,
#     128 and 512: pages/s of this build and, with --baseline, of another fanout binary (the commit
#     before a change), run alternately in one run; then, at C = 512, system calls per page by kind
#     (strace -c -f), the loop thread's CPU per page and context switches per page;
#  4. CPU-bound: 20,000 pages of 20 kB, no latency, --concurrency 64: pages/s against the
#     parse-bound limit (pool threads / parse CPU per page).
# Usage: [FANOUT=PATH/TO/fanout] bash scripts/bench-hosts.sh [--baseline PATH/TO/fanout] [--quick]
#   --quick: a tenth of every size, to see that it all runs (the figures mean little).
#   A baseline binary of another commit, for example:
#     git worktree add /tmp/base REV && (cd /tmp/base && cmake --preset default >/dev/null &&
#       cmake --build build --target fanout) && bash scripts/bench-hosts.sh --baseline /tmp/base/build/cli/fanout
# Every load is bounded: the webs are finite and each server stops by itself.
set -euo pipefail
source "$(dirname "$0")/common.sh"
baseline=""
scale=1
while [ $# -gt 0 ]; do
  case "$1" in
    --baseline) baseline="$(realpath "$2")"; shift 2 ;;
    --quick) scale=10; shift ;;
    *) echo "usage: bash scripts/bench-hosts.sh [--baseline PATH/TO/fanout] [--quick]" >&2; exit 2 ;;
  esac
done
fanout_install_deps
command -v strace >/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq strace >/dev/null; }
# FANOUT=PATH/TO/fanout: measure that binary and build nothing (default: build/cli/fanout, built first).
if [ -z "${FANOUT:-}" ]; then
  fanout_build default
  FANOUT="$FANOUT_ROOT/build/cli/fanout"
fi
FANOUT="$(realpath "$FANOUT")"
cd "$FANOUT_ROOT"
PY=/usr/bin/python3
work="$(mktemp -d)"
servers=()
stop_servers() { for s in "${servers[@]}"; do kill "$s" 2>/dev/null || true; wait "$s" 2>/dev/null || true; done; servers=(); }
trap 'stop_servers; rm -rf "$work"' EXIT
# serve NAME ARGS...: starts `fanout serve ARGS` and sets $url to the URL it prints.
serve() {
  local name="$1"; shift
  "$FANOUT" serve --port 0 --duration 1800 "$@" >"$work/$name.url" 2>/dev/null &
  servers+=($!)
  for _ in $(seq 400); do [ -s "$work/$name.url" ] && break; sleep 0.05; done
  url="$(head -n 1 "$work/$name.url")"
}
# field REPORT EXPR: a Python expression over the report `r`.
field() { "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }
# hosts_totals URL: the server's /__hosts totals (asked of 127.0.0.1 with a Host header of its own).
hosts_totals() {
  local port="${1##*:}"; port="${port%/}"
  curl -s -H "Host: h0.localhost" "http://127.0.0.1:$port/__hosts" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["totals"]))'
}
crawl() {  # crawl BINARY URL REPORT ARGS...
  local bin="$1" u="$2" report="$3"; shift 3
  rm -f "$work/c.db"*
  "$bin" crawl "$u" --db "$work/c.db" --quiet --report "$report" "$@"
}
echo "fanout $(fanout_commit), $(fanout_machine)"

echo
echo "== 1. 40,000 pages over many hosts: --concurrency 256 --per-host 32, 20 ms, robots.txt on every host"
pages=$((40000 / scale))
printf "%8s %7s %7s %8s %9s %12s %8s %11s\n" hosts pages "wall s" pages/s "vs 10" "CPU s/1k pg" "RSS MB" "B/idle host"
base_pps=""
for hosts in 10 1000 20000 100000; do
  h=$((hosts / scale)); [ "$h" -lt 1 ] && h=1
  per=$(( (pages + h - 1) / h ))
  serve scale --synthetic "$per" --hosts "$h" --latency 20
  crawl "$FANOUT" "$url" "$work/r.json" --concurrency 256 --per-host 32 --allow-domain localhost --max-pages "$pages"
  stop_servers
  pps=$(field "$work/r.json" 'r["pages_per_second"]')
  [ -z "$base_pps" ] && base_pps="$pps"
  field "$work/r.json" "'%8d %7d %7.1f %8.0f %8.0f%% %12.2f %8.0f %11.0f' % ($h, r['pages'], r['wall_seconds'], r['pages_per_second'], 100 * r['pages_per_second'] / $base_pps, 1000 * (r['cpu_user_seconds'] + r['cpu_system_seconds']) / max(1, r['pages']), r['peak_rss_kb'] / 1024, r['host_memory_bytes'] / max(1, r['hosts']))"
done

echo
echo "== 2. politeness-bound: 1,000 hosts x 5 pages, --delay 1, --concurrency 64 --per-host 8, 20 ms"
h=$((1000 / scale))
serve slow --synthetic 5 --hosts "$h" --latency 20
slow="$url"
serve graph --synthetic 5 --hosts "$h"  # the same web at no latency, for the ideal crawl to read
ideal=$("$PY" scripts/ideal_crawl.py "$url" --concurrency 64 --per-host 8 --delay 1 --latency 0.02 2>/dev/null |
        awk '{print $2}')
crawl "$FANOUT" "$slow" "$work/r.json" --concurrency 64 --per-host 8 --delay 1 --allow-domain localhost
totals=$(hosts_totals "$slow")
stop_servers
field "$work/r.json" "'fanout: %d pages in %.2f s; ideal %.2f s: %.2fx the ideal; mean in flight %.1f' % (r['pages'], r['wall_seconds'], $ideal, r['wall_seconds'] / $ideal, r['mean_in_flight'])"
echo "$totals" | "$PY" -c 'import json,sys; t=json.load(sys.stdin); print("server: %d requests to %d hosts, smallest gap between two requests to one host %.1f ms, at most %d in flight to one" % (t["requests"], t["active_hosts"], t["min_gap_ms"] or 0, t["max_in_flight"]))'

echo
echo "== 3. W1: 2000 pages, 10 links, 10 kB, 50 ms; --per-host = C${baseline:+; this build vs $baseline}"
serve w1 --synthetic 2000 --links 10 --page-bytes 10000 --latency 50
printf "%6s %14s %14s %7s\n" C "this pages/s" "baseline" ratio
for c in 16 128 512; do
  old="-"
  if [ -n "$baseline" ]; then
    crawl "$baseline" "$url" "$work/b.json" --concurrency "$c" --per-host "$c"
    old=$(field "$work/b.json" 'round(r["pages_per_second"])')
  fi
  crawl "$FANOUT" "$url" "$work/r.json" --concurrency "$c" --per-host "$c"
  new=$(field "$work/r.json" 'round(r["pages_per_second"])')
  ratio="-"; [ "$old" != "-" ] && ratio=$("$PY" -c "print('%.2fx' % ($new / $old))")
  printf "%6s %14s %14s %7s\n" "$c" "$new" "$old" "$ratio"
done
field "$work/r.json" "'C=512: loop CPU %.0f us a page; %.2f context switches a page (%d voluntary, %d involuntary)' % (1e6 * r['loop_cpu_seconds'] / r['pages'], (r['voluntary_switches'] + r['involuntary_switches']) / r['pages'], r['voluntary_switches'], r['involuntary_switches'])"
rm -f "$work/c.db"*
strace -c -f -o "$work/strace.txt" "$FANOUT" crawl "$url" --db "$work/c.db" --quiet --concurrency 512 --per-host 512 \
  --report "$work/s.json"
n=$(field "$work/s.json" 'r["pages"]')
"$PY" - "$work/strace.txt" "$n" <<'PY'
import sys
calls = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
        calls[f[-1]] = int(f[3])
pages = int(sys.argv[2])
total = sum(calls.values())
top = sorted(calls.items(), key=lambda kv: -kv[1])[:10]
print("C=512 under strace: %.1f system calls a page (%d over %d pages); by kind, a page: %s" % (
    total / pages, total, pages, ", ".join("%s %.1f" % (k, v / pages) for k, v in top)))
PY
stop_servers

echo
echo "== 4. CPU-bound: 20,000 pages, 10 links, 20 kB, no latency, --concurrency 64"
serve cpu --synthetic $((20000 / scale)) --links 10 --page-bytes 20000
crawl "$FANOUT" "$url" "$work/r.json" --concurrency 64 --per-host 64
stop_servers
field "$work/r.json" "'%.0f pages/s; parse-bound limit %d threads / %.0f us = %.0f pages/s: %.0f%% of it; %.2f CPU s, peak RSS %.0f MB' % (r['pages_per_second'], r['threads'], 1e6 * r['mean_parse_seconds'], r['threads'] / r['mean_parse_seconds'], 100 * r['pages_per_second'] * r['mean_parse_seconds'] / r['threads'], r['cpu_user_seconds'] + r['cpu_system_seconds'], r['peak_rss_kb'] / 1024)"
