#!/usr/bin/env bash
# The resolver on the loop and politeness per address (issue 26), in the web lab (scripts/weblab.sh:
# network namespaces, a real dnsmasq resolver, `fanout serve --domain web.test --ips K`), as root:
#  a. queries at the resolver per host crawled, per family (A, AAAA): web W = 20,000 hosts x 2 pages
#     (bench-hosts.sh's 20,000-host row: 40,000 pages, robots.txt on every host, 20 ms a request)
#     over 50 addresses, -c 256 --per-host 32, the queries counted in dnsmasq's log and the hosts
#     crawled at the server (/__hosts active_hosts); aim: at most 1.05 per family. Also the web and
#     crawl of the issue: 200 hosts x 20 pages over 4 addresses, no latency, fanout's defaults (-c 64
#     --per-host 8). Both by FANOUT_BASE as well (the commit before the resolver).
#  b. pages/s of W with every DNS answer 20 ms late (weblab.sh --dns-delay 20: tc netem, or where the
#     kernel has no netem a relay in Python, whose CPU then counts against the crawl) against 0 ms,
#     and against W served on *.localhost on loopback in the root namespace (no DNS; by this build and
#     by FANOUT_BASE); aims: 0.9x and 0.8x. Beside: the lookups' mean time (the report's dns seconds
#     over lookups) and the loop thread's CPU per page.
#  c. --per-ip 2 on 1,000 hosts x 4 pages over 10 addresses, 50 ms a request, -c 64 --per-host 2: the
#     most requests in flight at one address at the server (/__ips max_in_flight) and the crawl's
#     wall time against the ideal crawl of the same graph under both limits (scripts/ideal_crawl.py
#     --per-ip 2 --ips 10, which reads the lab's web from the crawler namespace); aim: ideal/actual
#     pages/s within 1.3x. Beside: one crawl without --per-ip, for the most in flight it allows.
#  d. the loop thread's CPU per page (the report's loop_cpu_seconds / pages) on W on *.localhost,
#     this build against FANOUT_BASE; aim: no worse than 1.1x.
# The crawls of a, b and d run interleaved, R rounds (3): lab 0 ms, lab 20 ms, *.localhost (then
# FANOUT_BASE on *.localhost and on lab 0 ms, and the issue's web); figures are medians over rounds,
# ratios are of medians. The load average is printed before each round: the figures mean little on a
# busy machine.
# Usage: [FANOUT=PATH] [FANOUT_BASE=PATH] bash scripts/bench-dns.sh [--runs R] [--quick] [--only web|per-ip]
#   FANOUT: the binary measured (default: build/cli/fanout, built first); it also serves every web.
#   FANOUT_BASE: the binary of the commit before the resolver, e.g. e527381:
#     git worktree add /tmp/base e527381 && (cd /tmp/base && cmake --preset default >/dev/null &&
#       ninja -C build fanout); FANOUT_BASE=/tmp/base/build/cli/fanout bash scripts/bench-dns.sh
#   --quick: one round, W of 2,000 hosts (the figures mean little); --only: parts a, b, d or part c.
# Bounded: the webs are finite, every server stops by itself (--lifetime/--duration), every crawl is
# cut after 10 minutes, and the labs are taken down on exit (FANOUT_LAB_PREFIX fanout-bdns-*).
set -euo pipefail
source "$(dirname "$0")/common.sh"
runs=3
hosts=20000
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:?}"; shift 2 ;;
    --quick) runs=1; hosts=2000; shift ;;
    --only) only="${2:?}"; shift 2 ;;
    *) sed -n '2,/^# Bounded/p' "$0" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench-dns.sh: --runs wants a whole number" >&2; exit 2; }
case "$only" in "" | web | per-ip) ;; *) echo "bench-dns.sh: --only web or per-ip" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "bench-dns.sh: run as root (the web lab makes network namespaces)" >&2; exit 3; }
fanout_install_deps
if [ -z "${FANOUT:-}" ]; then
  fanout_build default fanout >/dev/null
  FANOUT="$FANOUT_ROOT/build/cli/fanout"
fi
cd "$FANOUT_ROOT"
PY=/usr/bin/python3
work="$(mktemp -d /tmp/fanout-bench-dns.XXXXXX)"
labs=(fanout-bdns-0- fanout-bdns-20- fanout-bdns-ip-)
local_server=""
cleanup() {
  [ -n "$local_server" ] && { kill "$local_server" 2>/dev/null || true; wait "$local_server" 2>/dev/null || true; }
  for p in "${labs[@]}"; do FANOUT_LAB_PREFIX="$p" bash scripts/weblab.sh down >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# Copies of the binaries: a rebuild during the run does not change what is measured.
cp "$FANOUT" "$work/fanout"
echo "fanout: $(realpath "$FANOUT"), $(date -r "$FANOUT" '+built %F %T')${FANOUT_BASE:+; base: $(realpath "$FANOUT_BASE"), $(date -r "$FANOUT_BASE" '+built %F %T')}"
FANOUT="$work/fanout"
export FANOUT  # weblab.sh serves the webs with it
base=""
if [ -n "${FANOUT_BASE:-}" ]; then cp "$FANOUT_BASE" "$work/base"; base="$work/base"; fi

# lab PREFIX ARGS...: runs weblab.sh for the lab of that prefix.
lab() { local p="$1"; shift; FANOUT_LAB_PREFIX="$p" bash scripts/weblab.sh "$@"; }
fact() { lab "$1" facts | sed -n "s/^$2=//p"; }
# lab_up PREFIX ARGS...: a fresh lab (one left by an earlier run is taken down first).
lab_up() {
  local p="$1"; shift
  lab "$p" down >/dev/null 2>&1 || true
  lab "$p" up --lifetime 3600 "$@" >"$work/$p.facts" || { echo "bench-dns.sh: weblab.sh up failed" >&2; exit 1; }
}
load() { uptime | sed 's/.*load average: /load /'; }
# cpu_of PID...: their CPU seconds so far (user + system), 0 for a PID gone.
cpu_of() {
  local pid total=0
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}
# The PIDs of what serves a crawl besides the crawler: the web, and the lab's resolver (and relay).
helpers_of() {
  if [ "$1" = local ]; then echo "$local_server"; return; fi
  local dir f
  dir=$(fact "$1" LAB_DIR)
  for f in web dnsmasq relay; do [ -f "$dir/$f.pid" ] && cat "$dir/$f.pid"; done
  return 0
}

# crawl LABEL BIN WHERE SEED ARGS...: one crawl (WHERE: a lab prefix, or "local"), then one JSON row
# in $work/rows: the report's figures, the queries dnsmasq logged meanwhile, the hosts the server
# saw requests for, and the most in flight at one address (lab webs).
crawl() {
  local label="$1" bin="$2" where="$3" seed="$4"; shift 4
  local run=(timeout 600 "$bin" crawl "$seed" --db "$work/c.db" --quiet --report "$work/r.json" "$@")
  rm -f "$work/c.db"* "$work/r.json"
  local log="" from=0 hosts_url helpers cpu0
  helpers=$(helpers_of "$where")
  # shellcheck disable=SC2086
  cpu0=$(cpu_of $helpers)
  if [ "$where" = local ]; then
    hosts_url="$local_url/__hosts"
    curl -s -X POST "$local_url/__stats/reset" >/dev/null
    "${run[@]}" || true
    curl -s "$hosts_url" >"$work/hosts.json"
    echo '{"ips": []}' >"$work/ips.json"
  else
    log=$(fact "$where" QUERY_LOG)
    from=$(wc -l <"$log")
    lab "$where" exec curl -s -X POST "$(fact "$where" STATS_URL)/reset" >/dev/null
    lab "$where" exec "${run[@]}" || true
    lab "$where" exec curl -s "$(fact "$where" HOSTS_URL)" >"$work/hosts.json"
    lab "$where" exec curl -s "$(fact "$where" IPS_URL)" >"$work/ips.json"
  fi
  # shellcheck disable=SC2086
  local a=0 aaaa=0 helper_cpu
  helper_cpu=$(awk -v a="$cpu0" -v b="$(cpu_of $helpers)" 'BEGIN { print b - a }')
  if [ -n "$log" ]; then
    a=$(tail -n +"$((from + 1))" "$log" | grep -c 'query\[A\] ' || true)
    aaaa=$(tail -n +"$((from + 1))" "$log" | grep -c 'query\[AAAA\] ' || true)
  fi
  [ -s "$work/r.json" ] || { echo "bench-dns.sh: $label: the crawl wrote no report" >&2; return 0; }
  "$PY" - "$work/r.json" "$work/hosts.json" "$work/ips.json" "$label" "$a" "$aaaa" "$helper_cpu" >>"$work/rows" <<'PY'
import json, sys
r, h, ips = (json.load(open(f)) for f in sys.argv[1:4])
dns = r.get("dns") or {}
print(json.dumps({
    "label": sys.argv[4], "pages": r["pages"], "pps": r["pages_per_second"], "wall": r["wall_seconds"],
    "loop_us": 1e6 * r["loop_cpu_seconds"] / max(1, r["pages"]),
    "cpu_us": 1e6 * (r["cpu_user_seconds"] + r["cpu_system_seconds"]) / max(1, r["pages"]),
    "helper_us": 1e6 * float(sys.argv[7]) / max(1, r["pages"]), "hosts": h["totals"]["active_hosts"],
    "a": int(sys.argv[5]), "aaaa": int(sys.argv[6]), "lookups": dns.get("lookups", 0),
    "dns_seconds": dns.get("seconds", 0.0), "max_per_ip": dns.get("max_per_ip", 0),
    "ip_max_in_flight": max([i["max_in_flight"] for i in ips["ips"]] or [0]),
    "errors": r.get("errors", 0)}))
PY
}

echo "tree $(fanout_commit); $(fanout_machine); $runs round(s), interleaved"

if [ -z "$only" ] || [ "$only" = web ]; then
  echo
  echo "== a, b, d: $hosts hosts x 2 pages, 20 ms a request, -c 256 --per-host 32; lab: 50 addresses"
  lab_up "${labs[0]}" --hosts "$hosts" --pages 2 --ips 50 -- --latency 20
  lab_up "${labs[1]}" --hosts "$hosts" --pages 2 --ips 50 --dns-delay 20 -- --latency 20
  echo "lab 20 ms: $(lab "${labs[1]}" ask h1.web.test A) (DNS_DELAY_BY $(fact "${labs[1]}" DNS_DELAY_BY))"
  "$FANOUT" serve --synthetic 2 --hosts "$hosts" --latency 20 --port 0 --duration 3600 >"$work/local.url" 2>/dev/null &
  local_server=$!
  for _ in $(seq 200); do [ -s "$work/local.url" ] && break; sleep 0.05; done
  local_seed="$(head -n 1 "$work/local.url")"
  local_url="${local_seed%/}"
  [ -n "$local_seed" ] || { echo "bench-dns.sh: fanout serve did not start" >&2; exit 1; }
  limits=(-c 256 --per-host 32)
  for round in $(seq "$runs"); do
    echo "round $round: $(load)"
    crawl "lab 0 ms" "$FANOUT" "${labs[0]}" http://h0.web.test/ "${limits[@]}" --allow-domain web.test
    crawl "lab 20 ms" "$FANOUT" "${labs[1]}" http://h0.web.test/ "${limits[@]}" --allow-domain web.test
    crawl "*.localhost" "$FANOUT" local "$local_seed" "${limits[@]}" --allow-domain localhost
    if [ -n "$base" ]; then
      crawl "base *.localhost" "$base" local "$local_seed" "${limits[@]}" --allow-domain localhost
      crawl "base lab 0 ms" "$base" "${labs[0]}" http://h0.web.test/ "${limits[@]}" --allow-domain web.test
    fi
  done
  kill "$local_server" 2>/dev/null || true; wait "$local_server" 2>/dev/null || true; local_server=""
  lab "${labs[1]}" down >/dev/null
  # The issue's web and crawl: 200 hosts x 20 pages on 4 addresses, no latency, fanout's defaults.
  lab "${labs[0]}" down >/dev/null
  lab_up "${labs[0]}" --hosts 200 --pages 20 --ips 4
  for round in $(seq "$runs"); do
    crawl "issue web" "$FANOUT" "${labs[0]}" http://h0.web.test/ --allow-domain web.test
    [ -z "$base" ] || crawl "base issue web" "$base" "${labs[0]}" http://h0.web.test/ --allow-domain web.test
  done
  lab "${labs[0]}" down >/dev/null
  "$PY" - "$work/rows" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["label"], []).append(r)
def med(label, f):
    return statistics.median(f(r) for r in rows[label]) if label in rows else None
print("%-17s %6s %6s %7s %7s %7s %9s %8s %8s %9s %6s" % ("", "pages", "hosts", "pages/s", "A/host", "AAAA/h",
      "lookup ms", "loop us", "CPU us", "web+dns us", "errors"))
for label in rows:
    print("%-17s %6d %6d %7.0f %7.3f %7.3f %9.2f %8.0f %8.0f %9.0f %6d" % (
        label, med(label, lambda r: r["pages"]), med(label, lambda r: r["hosts"]), med(label, lambda r: r["pps"]),
        med(label, lambda r: r["a"] / max(1, r["hosts"])), med(label, lambda r: r["aaaa"] / max(1, r["hosts"])),
        med(label, lambda r: 1000 * r["dns_seconds"] / r["lookups"] if r["lookups"] else 0),
        med(label, lambda r: r["loop_us"]), med(label, lambda r: r["cpu_us"]), med(label, lambda r: r["helper_us"]),
        med(label, lambda r: r["errors"])))
print("(medians; lookup ms: the report's dns seconds / lookups; loop us, CPU us: the crawler's loop thread's and whole")
print(" process's CPU a page; web+dns us: the web server's, dnsmasq's and the DNS relay's CPU a page)")
def per_family(label):
    return med(label, lambda r: max(r["a"], r["aaaa"]) / max(1, r["hosts"]))
print()
print("a. queries per host crawled, the larger family: lab 0 ms %.3f, lab 20 ms %.3f (aim <= 1.05)%s" % (
    per_family("lab 0 ms"), per_family("lab 20 ms"),
    "; base %.2f" % per_family("base lab 0 ms") if "base lab 0 ms" in rows else ""))
print("   the issue's web (200 hosts x 20 pages, no latency, -c 64 --per-host 8): %.3f%s" % (
    per_family("issue web"), "; base %.2f" % per_family("base issue web") if "base issue web" in rows else ""))
pps = lambda label: med(label, lambda r: r["pps"])
print("b. pages/s, 20 ms DNS / 0 ms: %.2fx (aim >= 0.9); 20 ms DNS / *.localhost: %.2fx (aim >= 0.8)%s" % (
    pps("lab 20 ms") / pps("lab 0 ms"), pps("lab 20 ms") / pps("*.localhost"),
    "; / base *.localhost: %.2fx" % (pps("lab 20 ms") / pps("base *.localhost")) if "base *.localhost" in rows else ""))
if "base *.localhost" in rows:
    loop = lambda label: med(label, lambda r: r["loop_us"])
    print("d. loop CPU a page on *.localhost: %.0f us, base %.0f us: %.2fx (aim <= 1.1); in the lab (0 ms) %.0f us, base %.0f us: %.2fx" % (
        loop("*.localhost"), loop("base *.localhost"), loop("*.localhost") / loop("base *.localhost"),
        loop("lab 0 ms"), loop("base lab 0 ms"), loop("lab 0 ms") / loop("base lab 0 ms")))
PY
fi

if [ -z "$only" ] || [ "$only" = per-ip ]; then
  echo
  echo "== c. --per-ip 2: 1,000 hosts x 4 pages over 10 addresses, 50 ms a request, -c 64 --per-host 2"
  rm -f "$work/rows"
  p="${labs[2]}"
  lab_up "$p" --hosts 1000 --pages 4 --ips 10 -- --latency 50
  limits=(-c 64 --per-host 2 --per-ip 2)
  # The ideal crawl reads the web once (32 connections at 50 ms each), before the crawls' counters.
  ideal=$(lab "$p" exec "$PY" scripts/ideal_crawl.py http://h0.web.test/ --connect "$(fact "$p" WEB_ADDRESSES)" \
    --concurrency 64 --per-host 2 --per-ip 2 --ips 10 --latency 0.05 --workers 32 2>"$work/ideal.err") ||
    { cat "$work/ideal.err" >&2; exit 1; }
  echo "ideal: $ideal"
  for round in $(seq "$runs"); do
    echo "round $round: $(load)"
    crawl "--per-ip 2" "$FANOUT" "$p" http://h0.web.test/ "${limits[@]}" --allow-domain web.test
    crawl "no --per-ip" "$FANOUT" "$p" http://h0.web.test/ -c 64 --per-host 2 --allow-domain web.test
  done
  lab "$p" down >/dev/null
  "$PY" - "$work/rows" "$ideal" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r["label"], []).append(r)
ideal = sys.argv[2].split()
ideal_seconds, ideal_pages = float(ideal[1]), int(ideal[3])
for label, rs in rows.items():
    wall = statistics.median(r["wall"] for r in rs)
    pps = statistics.median(r["pps"] for r in rs)
    print("%-12s %5d pages, %.0f pages/s (median wall %.2f s); most in flight at one address: %d at the server, %d by the report" % (
        label, statistics.median(r["pages"] for r in rs), pps, wall, max(r["ip_max_in_flight"] for r in rs),
        max(r["max_per_ip"] for r in rs)))
pps = statistics.median(r["pps"] for r in rows["--per-ip 2"])
print("c. ideal %.2f s for %d pages (%.0f pages/s): ideal/actual pages/s %.2fx (aim <= 1.3)" % (
    ideal_seconds, ideal_pages, ideal_pages / ideal_seconds, ideal_pages / ideal_seconds / pps))
PY
fi
