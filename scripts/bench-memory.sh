#!/usr/bin/env bash
# Memory against the size of the frontier: a synthetic site of 1,000,000 pages with 20 links
# each, crawled to --max-pages 10000 and to --max-pages 200000 (override with PAGES="..."):
# peak RSS, pages/s and the URLs left queued at the end. Only a window of the queue and a filter of
# the seen URLs are in memory (README, "Memory"); this script is how that is checked.
# Usage: bash scripts/bench-memory.sh       Every load is bounded by --max-pages.
#   BASE=PATH/TO/fanout: also crawl with that build (the commit before a change), taking turns.
set -euo pipefail
source "$(dirname "$0")/common.sh"
fanout_install_deps
fanout_build default
cd "$FANOUT_ROOT"
FANOUT=build/cli/fanout
work="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
"$FANOUT" serve --port 0 --duration 3600 --synthetic 1000000 --links 20 --page-bytes 5000 >"$work/url" 2>/dev/null &
server=$!
for _ in $(seq 200); do [ -s "$work/url" ] && break; sleep 0.05; done
url="$(head -n 1 "$work/url")"

bins=("$FANOUT")
[ -n "${BASE:-}" ] && bins+=("$(realpath "$BASE")")
echo "commit $(fanout_commit); $(fanout_machine)${BASE:+; BASE $BASE}"
printf "%-6s %-10s %10s %10s %12s %12s\n" "build" "max-pages" "pages/s" "peak MB" "queued left" "db MB"
for pages in ${PAGES:-10000 200000}; do
  for bin in "${bins[@]}"; do
    rm -f "$work/m.db"*
    "$bin" crawl "$url" --db "$work/m.db" --concurrency 64 --per-host 64 --max-pages "$pages" --quiet \
      --report "$work/r.json"
    label=this
    [ "$bin" != "$FANOUT" ] && label=base
    python3 - "$work/r.json" "$pages" "$work/m.db" "$label" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
print("%-6s %-10s %10.0f %10.1f %12d %12.1f" % (sys.argv[4], sys.argv[2], r["pages_per_second"],
      r["peak_rss_kb"] / 1024, r["queued_left"], os.path.getsize(sys.argv[3]) / 2**20))
PY
  done
done
