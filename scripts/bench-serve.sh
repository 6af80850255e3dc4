#!/usr/bin/env bash
# Benchmark of fanout serve itself, so we know it is not what limits a crawl benchmark:
#  1. requests/s at zero latency with keep-alive, the server pinned to one core, wrk on the other;
#  2. how many delayed requests it holds in flight at once (--latency 1000, 2,000 connections).
# Usage: bash scripts/bench-serve.sh [SECONDS]   (needs wrk: apt-get install wrk)
set -euo pipefail
source "$(dirname "$0")/common.sh"
fanout_install_deps
command -v wrk >/dev/null || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq wrk >/dev/null; }
fanout_build default
cd "$FANOUT_ROOT"
secs="${1:-10}"
FANOUT=build/cli/fanout

start_server() {  # start_server OUTFILE ARGS...: starts fanout serve, sets $server and $url
  local out="$1"; shift
  taskset -c 0 "$FANOUT" serve --port 0 --duration 600 "$@" >"$out" 2>/dev/null &
  server=$!
  for _ in $(seq 200); do [ -s "$out" ] && break; sleep 0.05; done
  url="$(head -n 1 "$out")"
}
stop_server() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
trap stop_server EXIT
tmp="$(mktemp)"

echo "== 1. throughput at zero latency, keep-alive, server on core 0, wrk (2 threads, 64 connections) on core 1"
for bytes in 1000 10000; do
  start_server "$tmp" --synthetic 1000 --links 10 --page-bytes "$bytes"
  echo "-- pages of ~$bytes bytes: GET / for ${secs}s"
  taskset -c 1 wrk -t2 -c64 -d"${secs}s" --latency "$url" | grep -E "Requests/sec|Transfer/sec|50%|99%"
  stop_server
done

echo "== 2. delayed requests held in flight at once (latency 1000 ms)"
start_server "$tmp" --synthetic 1000 --links 10 --page-bytes 2000 --latency 1000
taskset -c 1 build/bench/serve_load "$url" 2000
stop_server
rm -f "$tmp"
