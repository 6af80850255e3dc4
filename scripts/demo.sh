#!/usr/bin/env bash
# Quick start (1): install what is missing, build, serve the bundled sample site on loopback and
# run the main job against it. Until the crawl engine lands, the job is a fetch with curl.
set -euo pipefail
source "$(dirname "$0")/common.sh"
fanout_install_deps
fanout_build default
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

echo "== the sample site is at $url"
curl -sS -o /dev/null -w "GET / -> %{http_code} %{content_type}, %{size_download} bytes in %{time_total}s\n" "$url"
curl -sS -o /dev/null -w "GET /old-news.html -> %{http_code} to %{redirect_url}\n" "${url}old-news.html"
curl -sS "$url" | grep -o '<title>[^<]*</title>'
echo "== what the server counted (GET /__stats)"
curl -sS "${url}__stats"
