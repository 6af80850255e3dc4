#!/usr/bin/env bash
# Runs `fanout crawl` as a `fanout bench --vs` row: crawls URL with --concurrency and --per-host C
# (and any more crawl options), into a database of its own, and prints the report line --vs reads
# ("pages: N  errors: E  seconds: S  pages/s: R"), taken from the crawl's --report. BIN may be
# another build of fanout, such as the commit before a change, for comparing in one run.
# Usage: bash scripts/fanout-vs.sh BIN URL C [CRAWL OPTION...]
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: bash scripts/fanout-vs.sh BIN URL C [CRAWL OPTION...]" >&2; exit 2; }
bin="$1" url="$2" c="$3"
shift 3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin" crawl "$url" --db "$work/c.db" --concurrency "$c" --per-host "$c" --quiet --report "$work/r.json" "$@" >/dev/null
/usr/bin/python3 - "$work/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("pages: %d  errors: %d  seconds: %.3f  pages/s: %.1f" %
      (r["pages"], r["errors"], r["wall_seconds"], r["pages_per_second"]))
PY
