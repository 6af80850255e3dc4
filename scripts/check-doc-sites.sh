#!/usr/bin/env bash
# The trap rules (README "Traps") against real sites: each Debian documentation site installed
# here (python3.11-doc, postgresql-doc-15, openjdk-17-doc, as scripts/bench-parser.sh installs
# them) crawled from `fanout serve --root` twice, with the defaults and with every trap rule off
# (--max-depth -1 --max-repeats 0 --max-path-segments 0); the page sets must be equal: no real
# page lost to a rule. Prints, per site, pages with and without the rules, the deepest page, the
# most path segments and the links each rule refused.
# Usage: [FANOUT=PATH] bash scripts/check-doc-sites.sh     (exit 1 when a site lost a page)
# Bounded: each server stops by itself after 10 minutes, each crawl is cut after 10 minutes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
FANOUT_PACKAGES+=(openjdk-17-doc python3.11-doc postgresql-doc-15 sqlite3)
fanout_install_deps
if [ -z "${FANOUT:-}" ]; then
  fanout_build default fanout >/dev/null
  FANOUT="$FANOUT_ROOT/build/cli/fanout"
fi
work="$(mktemp -d /tmp/fanout-doc-sites.XXXXXX)"
server=""
cleanup() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
echo "tree $(fanout_commit); $(fanout_machine)"
lost=0
for root in /usr/share/doc/python3.11/html /usr/share/doc/postgresql-doc-15/html /usr/share/doc/openjdk-17-doc/api; do
  [ -f "$root/index.html" ] || { echo "$root: not installed, skipped"; continue; }
  "$FANOUT" serve --root "$root" --follow-symlinks --port 0 --duration 600 >"$work/url" 2>/dev/null &
  server=$!
  for _ in $(seq 200); do [ -s "$work/url" ] && break; sleep 0.05; done
  seed="$(head -n 1 "$work/url")index.html"
  rm -f "$work"/*.db*
  timeout 600 "$FANOUT" crawl "$seed" --db "$work/rules.db" -c 32 -q
  timeout 600 "$FANOUT" crawl "$seed" --db "$work/free.db" -c 32 -q --max-depth -1 --max-repeats 0 --max-path-segments 0
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  sqlite3 "$work/rules.db" "SELECT url FROM pages ORDER BY 1" >"$work/rules.txt"
  sqlite3 "$work/free.db" "SELECT url FROM pages ORDER BY 1" >"$work/free.txt"
  missing=$(comm -13 "$work/rules.txt" "$work/free.txt" | wc -l)
  depth=$(sqlite3 "$work/free.db" "SELECT max(depth) FROM pages")
  segments=$(awk -F/ '{ n = NF - 3; if (n > m) m = n } END { print m }' "$work/free.txt")
  refused=$(sqlite3 "$work/rules.db" "SELECT group_concat(reason || ' ' || n, ', ') FROM (SELECT reason, count(*) n FROM links
    WHERE reason IN ('depth', 'repeated_segment', 'repeated_parameter', 'too_many_segments') GROUP BY reason)")
  echo "$root: $(wc -l <"$work/rules.txt") pages with the rules, $(wc -l <"$work/free.txt") without, $missing lost;" \
       "deepest page $depth links from the seed, at most $segments path segments; refused: ${refused:-none}"
  [ "$missing" -eq 0 ] || lost=1
done
exit "$lost"
