#!/usr/bin/env bash
# Benchmarks of the shared frontier (fanout crawl --frontier, on a private PostgreSQL cluster):
#  a. overhead, all on loopback: `fanout serve --synthetic 2000 --page-bytes 10000 --latency 50`
#     crawled with -c 128 --per-host 128 without and with --frontier (one worker), 3 runs each,
#     interleaved: median pages/s, the ratio with/without (aim >= 0.70), and from the --report
#     JSON the frontier's statements and transactions per page;
#  b. scaling: 1, 2 and 3 workers (-c 16 --per-host 2 each), each in a network namespace of its
#     own, the cluster and a web of 200 hosts x 20 pages at 100 ms in two more (scripts/netns.sh):
#     pages/s of the run = pages done / (last worker's end - first worker's start), medians of 3,
#     and the ratio 3 workers / 1 (aim >= 2.7);
#  c. recovery: 2 workers (--lease 4 --timeout 1.5) on 8 hosts x 40 pages at 100 ms, one of them
#     killed with SIGKILL mid-crawl: the time from the kill to the first request the server logs
#     from the survivor to a host the dead worker had been fetching (and to the last such host).
# Usage (as root: namespaces, and the cluster runs as the postgres user):
#   bash scripts/bench-frontier.sh [--quick]     # --quick: one run of each, to see that it all works
# Every load is bounded: the webs are finite, every server stops by itself, and every wait has a
# deadline. Nothing leaves the machine: loopback, or addresses that exist only in the namespaces.
set -euo pipefail
source "$(dirname "$0")/common.sh"
reps=3
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) reps=1; shift ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench-frontier.sh: run as root (network namespaces; PostgreSQL as postgres)" >&2; exit 2; }
fanout_install_deps
fanout_build default >/dev/null
cd "$FANOUT_ROOT"
FANOUT="$FANOUT_ROOT/build/cli/fanout"
PY=/usr/bin/python3
export FANOUT_NETNS_PREFIX="fanout-bench$$-"
P=$FANOUT_NETNS_PREFIX
work="$(mktemp -d /tmp/fanout-bench-frontier.XXXXXX)"
chmod 755 "$work"  # the clusters' directories inside belong to postgres
pids=()
clusters=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for c in "${clusters[@]}"; do bash scripts/postgres.sh stop "$c" immediate || true; done
  bash scripts/netns.sh down || true
  rm -rf "$work"
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
in_ns() { local ns="$1"; shift; if [ -n "$ns" ]; then ip netns exec "$P$ns" "$@"; else "$@"; fi; }
# serve NS ARGS...: `fanout serve ARGS` in namespace NS ("": here); sets $url, $server_pid and
# $server_zero (the instant its log counts from, to within the time it took to print its URL).
serve() {
  local ns="$1"; shift
  local out="$work/serve.$RANDOM"
  # Not through a function: $! has to be the server itself (ip netns exec execs it), to stop it.
  if [ -n "$ns" ]; then
    ip netns exec "$P$ns" "$FANOUT" serve --port 0 --duration 300 "$@" >"$out" 2>/dev/null &
  else
    "$FANOUT" serve --port 0 --duration 300 "$@" >"$out" 2>/dev/null &
  fi
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 200); do [ -s "$out" ] && break; sleep 0.02; done
  server_zero=$(now_ms)
  url="$(head -n 1 "$out")"
  [ -n "$url" ] || { echo "bench-frontier.sh: fanout serve did not start" >&2; exit 1; }
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# wait_worker PID NAME: waits for a worker; one that fails ends the benchmark, with its stderr.
wait_worker() {
  wait "$1" && return 0
  echo "bench-frontier.sh: worker $2 failed (exit $?): $(tail -n 5 "$work/$2.err")" >&2
  exit 1
}
# status FRONTIER NS: `fanout frontier status --json`, asked from namespace NS.
status() { in_ns "$2" "$FANOUT" frontier status "$1" --json 2>/dev/null || true; }
# of_run JSON SEED EXPR: EXPR over the run `r` crawled from SEED (its worker W as w[name]).
of_run() {
  "$PY" -c '
import json, sys
try:
    runs = [r for r in json.loads(sys.argv[1]) if r["seeds"] and r["seeds"][0] == sys.argv[2]]
except ValueError:  # no frontier yet
    runs = []
r = runs[-1] if runs else {"workers": [], "done": 0}
w = {x["name"]: x for x in r["workers"]}
print(eval(sys.argv[3]))' "$1" "$2" "$3"
}
# poll SECONDS CMD...: runs CMD every 0.1 s until it succeeds; fails past the deadline.
poll() {
  local deadline=$(( $(now_ms) + $1 * 1000 )); shift
  until "$@"; do
    [ "$(now_ms)" -gt "$deadline" ] && return 1
    sleep 0.1
  done
}
median() { "$PY" -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
field() { "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }

echo "fanout bench-frontier: commit $(fanout_commit), $(fanout_machine)"
echo "command: bash scripts/bench-frontier.sh $( [ "$reps" = 1 ] && echo --quick)"

echo
echo "== a. overhead on loopback: 2000 pages of 10 kB at 50 ms, -c 128 --per-host 128, one worker"
pg_a=$(bash scripts/postgres.sh start "$work/pg-a")
clusters+=("$work/pg-a")
serve "" --synthetic 2000 --page-bytes 10000 --latency 50
a_plain=(); a_shared=(); a_stmts=(); a_txns=()
printf "%4s %-12s %7s %8s %11s %13s\n" run mode pages pages/s stmts/page transactions/p
for rep in $(seq "$reps"); do
  for mode in plain frontier; do
    rm -f "$work"/a.db*
    extra=(); [ "$mode" = frontier ] && extra=(--frontier "$pg_a" --worker bench)
    "$FANOUT" crawl "$url" --db "$work/a.db" --report "$work/a.json" -c 128 --per-host 128 --quiet "${extra[@]}" \
      2>"$work/a.err" || { echo "bench-frontier.sh: the crawl failed: $(tail -n 5 "$work/a.err")" >&2; exit 1; }
    pps=$(field "$work/a.json" 'r["pages_per_second"]')
    if [ "$mode" = plain ]; then
      a_plain+=("$pps")
      field "$work/a.json" "'%4d %-12s %7d %8.0f %11s %13s' % ($rep, 'without', r['pages'], r['pages_per_second'], '-', '-')"
    else
      a_shared+=("$pps")
      a_stmts+=("$(field "$work/a.json" 'r["shared_frontier"]["statements"] / r["pages"]')")
      a_txns+=("$(field "$work/a.json" 'r["shared_frontier"]["transactions"] / r["pages"]')")
      field "$work/a.json" "'%4d %-12s %7d %8.0f %11.2f %13.2f' % ($rep, 'with', r['pages'], r['pages_per_second'], r['shared_frontier']['statements'] / r['pages'], r['shared_frontier']['transactions'] / r['pages'])"
    fi
  done
done
stop "$server_pid"
bash scripts/postgres.sh stop "$work/pg-a" fast
clusters=()
a_plain_m=$(median "${a_plain[@]}"); a_shared_m=$(median "${a_shared[@]}")
a_ratio=$("$PY" -c "print($a_shared_m / $a_plain_m)")

echo
echo "== b. scaling: 200 hosts x 20 pages at 100 ms, workers of -c 16 --per-host 2, each in a namespace"
bash scripts/netns.sh up 3 >/dev/null
pg_b=$(ip netns exec "${P}db" bash scripts/postgres.sh start "$work/pg-b" 0 10.203.0.2)
clusters+=("$work/pg-b")
declare -A b_pps
# in flight: each worker's mean transfers in flight (of -c 16), averaged over the workers.
printf "%4s %8s %7s %7s %8s %7s %9s\n" run workers pages "wall s" pages/s fetched "in flight"
for rep in $(seq "$reps"); do
  for n in 1 2 3; do
    serve web --hosts 200 --synthetic 20 --latency 100 --host 10.203.1.3 --log "$work/b.log"
    port=${url##*:}; port=${port%/}
    started=$(now_ms)
    workers=()
    for k in $(seq "$n"); do
      ip netns exec "${P}w$k" "$FANOUT" crawl "$url" --frontier "$pg_b" --worker "w$k" --db "$work/b$k.db" \
        --report "$work/b$k.json" --allow-domain localhost --connect-to "::10.203.1.3:$port" -c 16 --per-host 2 --quiet 2>"$work/w$k.err" &
      workers+=($!); pids+=($!)
    done
    for k in $(seq "$n"); do wait_worker "${workers[$((k - 1))]}" "w$k"; done
    ended=$(now_ms)
    stop "$server_pid"
    rm -f "$work"/b?.db*
    run=$(status "$pg_b" db)
    pages=$(of_run "$run" "$url" 'r["done"]')
    # What the server answered, robots.txt aside: the run's count should be the same.
    fetched=$("$PY" -c 'import json,sys; print(len({(j["host"], j["target"]) for j in map(json.loads, open(sys.argv[1])) if j["target"] != "/robots.txt" and j["status"] == 200}))' "$work/b.log")
    rm -f "$work/b.log"
    in_flight=$("$PY" -c 'import json,sys; print(sum(json.load(open(f))["mean_in_flight"] for f in sys.argv[1:]) / len(sys.argv[1:]))' "$work"/b?.json)
    rm -f "$work"/b?.json
    pps=$("$PY" -c "print($pages / (($ended - $started) / 1000))")
    b_pps[$n]="${b_pps[$n]:-} $pps"
    "$PY" -c "print('%4d %8d %7d %7.1f %8.0f %7d %9.1f' % ($rep, $n, $pages, ($ended - $started) / 1000, $pps, $fetched, $in_flight))"
    left=$(of_run "$run" "$url" '"%d queued, %d in flight, %d refused, finished %s" % (r["queued"], r["in_flight"], r["refused"], r["finished_at"] or "never")')
    [ "$pages" = 4000 ] || echo "     the run: $left"
  done
done
b1=$(median ${b_pps[1]}); b2=$(median ${b_pps[2]}); b3=$(median ${b_pps[3]})
b_ratio=$("$PY" -c "print($b3 / $b1)")

echo
echo "== c. recovery: 2 workers on 8 hosts x 40 pages at 100 ms, --lease 4 --timeout 1.5; one killed (SIGKILL)"
c_first=(); c_last=()
for rep in $(seq "$reps"); do
  serve web --hosts 8 --synthetic 40 --latency 100 --host 10.203.1.3 --log "$work/c.log"
  port=${url##*:}; port=${port%/}
  # w1 holds half the hosts, w2 has room for all; -c is high because a worker asks for more work
  # only while fewer than 2 x -c URLs wait in its queue (see tests/pgfrontier/partition_test.cpp).
  worker() {
    ip netns exec "${P}$1" "$FANOUT" crawl "$url" --frontier "$pg_b" --worker "$1" --db "$work/c-$1.db" \
      --allow-domain localhost --connect-to "::10.203.1.3:$port" --lease 4 --timeout 1.5 -c 64 --per-host 1 \
      --delay 0.05 --frontier-hosts "$2" --user-agent "fanout-$1" --quiet 2>"$work/$1.err" &
    pids+=($!)
  }
  holds() { test "$(of_run "$(status "$pg_b" db)" "$url" "$1")" = True; }
  worker w1 4; w1=$!
  poll 20 holds 'w.get("w1", {}).get("hosts_leased", 0) >= 4' || { echo "w1 never held 4 hosts" >&2; exit 1; }
  worker w2 8; w2=$!
  poll 20 holds 'w.get("w1", {}).get("pages", 0) >= 8 and w.get("w2", {}).get("hosts_leased", 0) >= 1' ||
    { echo "w1 and w2 never got going" >&2; exit 1; }
  killed=$(now_ms)
  kill -9 "$w1"
  wait "$w1" 2>/dev/null || true
  wait_worker "$w2" w2
  stop "$server_pid"
  read -r first last hosts < <("$PY" - "$work/c.log" "$((killed - server_zero))" <<'PY'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
kill = float(sys.argv[2]) / 1000
host = lambda r: r["host"].split(":")[0]
dead = {host(r) for r in log if r["user_agent"] == "fanout-w1" and kill - 2 < r["received"] <= kill}
first = {}
for r in sorted(log, key=lambda r: r["received"]):
    if r["user_agent"] == "fanout-w2" and r["received"] > kill and host(r) in dead:
        first.setdefault(host(r), r["received"] - kill)
print("%.2f %.2f %d/%d" % (min(first.values(), default=-1), max(first.values(), default=-1), len(first), len(dead)))
PY
)
  rm -f "$work"/c-w?.db* "$work/c.log"
  c_first+=("$first"); c_last+=("$last")
  echo "run $rep: kill -> first request of w2 to one of w1's hosts ${first} s, to the last of them ${last} s (hosts taken over: $hosts)"
done
c_first_m=$(median "${c_first[@]}"); c_last_m=$(median "${c_last[@]}")

echo
echo "== results (medians of $reps)"
"$PY" - <<PY
rows = [
  ("a. pages/s without --frontier", "%.0f" % $a_plain_m, ""),
  ("a. pages/s with --frontier (1 worker)", "%.0f" % $a_shared_m, ""),
  ("a. ratio with / without", "%.2f" % $a_ratio, ">= 0.70"),
  ("a. statements per page", "%.2f" % $(median "${a_stmts[@]}"), ""),
  ("a. transactions per page", "%.2f" % $(median "${a_txns[@]}"), ""),
  ("b. pages/s, 1 worker", "%.0f" % $b1, ""),
  ("b. pages/s, 2 workers", "%.0f" % $b2, ""),
  ("b. pages/s, 3 workers", "%.0f" % $b3, ""),
  ("b. ratio 3 workers / 1", "%.2f" % $b_ratio, ">= 2.7"),
  ("c. kill -> survivor's first request to a dead worker's host", "%.2f s" % $c_first_m, "lease 4 s"),
  ("c. kill -> ... to the last of them", "%.2f s" % $c_last_m, ""),
]
w = max(len(r[0]) for r in rows)
print("%-*s  %9s  %s" % (w, "figure", "value", "aim"))
for name, value, aim in rows: print("%-*s  %9s  %s" % (w, name, value, aim))
PY
