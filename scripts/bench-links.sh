#!/usr/bin/env bash
# What links cost the store: the writer's time and the database's bytes per link, on a synthetic
# site with many links a page (20,000 pages of 20 kB with 100 links each, most of them to pages
# already known), this build against another fanout binary, crawled in turn RUNS times each; the
# figures are medians. The writer's time is the crawl report's store_busy_fraction times its wall
# time (COMMIT included), and its CPU time (store_cpu_seconds; a build without that field reads 0);
# the bytes are the database file (and any WAL left) after the crawl.
# Usage: bash scripts/bench-links.sh [--baseline PATH/TO/fanout] [--pages N] [--links L] [--runs R]
#   A baseline binary of another commit, for example:
#     git worktree add /tmp/base 5fdcbed && (cd /tmp/base && cmake --preset default >/dev/null &&
#       cmake --build build --target fanout) && bash scripts/bench-links.sh --baseline /tmp/base/build/cli/fanout
set -euo pipefail
source "$(dirname "$0")/common.sh"
baseline="" pages=20000 links=100 runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --baseline) baseline="$(realpath "$2")"; shift 2 ;;
    --pages) pages="$2"; shift 2 ;;
    --links) links="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: bash scripts/bench-links.sh [--baseline PATH/TO/fanout] [--pages N] [--links L] [--runs R]" >&2; exit 2 ;;
  esac
done
fanout_install_deps
fanout_build default
cd "$FANOUT_ROOT"
FANOUT="$FANOUT_ROOT/build/cli/fanout"
work="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
"$FANOUT" serve --port 0 --duration 3600 --synthetic "$pages" --links "$links" --page-bytes 20000 >"$work/url" 2>/dev/null &
server=$!
for _ in $(seq 200); do [ -s "$work/url" ] && break; sleep 0.05; done
url="$(head -n 1 "$work/url")"

# crawl NAME BINARY: one crawl of the whole site into a new database; appends a line of figures
# to $work/NAME.txt.
crawl() {
  rm -f "$work/l.db"*
  "$2" crawl "$url" --db "$work/l.db" --concurrency 64 --per-host 64 --max-pages "$pages" --quiet \
    --report "$work/r.json"
  python3 - "$work/r.json" "$work/l.db" >>"$work/$1.txt" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
size = sum(os.path.getsize(sys.argv[2] + s) for s in ("", "-wal") if os.path.exists(sys.argv[2] + s))
writer = r["store_busy_fraction"] * r["wall_seconds"]
print(r["pages_per_second"], r["links"], writer, r.get("store_cpu_seconds", 0), size)
PY
}

echo "== $pages pages, $links links each, 20 kB; C=64; $runs crawls each, in turn; medians"
names=(this)
[ -n "$baseline" ] && names=(baseline this)
for i in $(seq "$runs"); do
  [ -n "$baseline" ] && crawl baseline "$baseline"
  crawl this "$FANOUT"
done
printf "%-9s %8s %9s %9s %12s %9s %8s %14s\n" build pages/s links "writer s" "writer us/l" "CPU us/l" "db MB" "db bytes/link"
for name in "${names[@]}"; do
  python3 - "$name" "$work/$name.txt" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[2])]
pps, links, writer, cpu, size = (statistics.median(col) for col in zip(*rows))
print("%-9s %8.0f %9.0f %9.2f %12.2f %9.2f %8.1f %14.1f" % (sys.argv[1], pps, links, writer, 1e6 * writer / links,
      1e6 * cpu / links, size / 2**20, size / links))
PY
done
