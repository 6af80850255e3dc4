#!/usr/bin/env bash
# Quick start (1): install what is missing, build, serve the bundled sample site on loopback and
# crawl it into an SQLite file (demo.db), then show the summary and a few rows.
set -euo pipefail
source "$(dirname "$0")/common.sh"
fanout_install_deps
fanout_build default fanout  # the command alone: the tests are built by scripts/test.sh
cd "$FANOUT_ROOT"

FANOUT=build/cli/fanout
url_file="$(mktemp)"
# --duration bounds the server even if this script is killed before it can stop it.
"$FANOUT" serve --root samples/site --fault-file samples/site.faults --port 0 --duration 300 >"$url_file" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$url_file"' EXIT
for _ in $(seq 100); do [ -s "$url_file" ] && break; sleep 0.05; done
url="$(head -n 1 "$url_file")"
[ -n "$url" ] || { echo "demo: fanout serve did not start" >&2; exit 1; }

echo "== fanout serve: the sample site is at $url"
rm -f demo.db demo.db-wal demo.db-shm
echo "== fanout crawl $url --db demo.db"
"$FANOUT" crawl "$url" --db demo.db
echo "== a few rows of demo.db (sqlite3 demo.db)"
sqlite3 -header -column demo.db \
  "SELECT status, depth, round(total*1000, 1) AS ms, substr(url, length('$url')) AS path, title
   FROM pages ORDER BY depth, url LIMIT 12;"
sqlite3 demo.db "SELECT 'links not followed: ' || group_concat(reason || ' ' || n, ', ')
   FROM (SELECT reason, count(*) AS n FROM links WHERE followed = 0 GROUP BY reason);"

echo "== fanout why: the story of one URL (here one that robots.txt kept the crawler out of)"
"$FANOUT" why "${url}private/staff.html" --db demo.db || true
echo
echo "Next, try:"
printf '  %-40s %s\n' \
  "$FANOUT why URL --db demo.db" "how the crawl met any URL: fetched or not, why, found where" \
  "$FANOUT runs --db demo.db" "the runs in the database, with their figures" \
  "$FANOUT bench --html bench.html" "sync, threads and async side by side on a slow site, charted" \
  "docs/tutorial.md" "build the event loop and the coroutines yourself, step by step" \
  "bash scripts/test.sh" "the whole test suite"
