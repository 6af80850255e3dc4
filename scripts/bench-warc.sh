#!/usr/bin/env bash
# What archiving costs (fanout crawl --warc), against fanout serve on loopback, side by side:
#  W1: --synthetic 2000 --links 10 --page-bytes 10000 --latency 50, -c 128 --per-host 128;
#  CPU-bound: --synthetic 20000 --links 10 --page-bytes 20000, no latency, -c 64 --per-host 64;
# each crawled without and with --warc (at the default gzip level, 6, and at 1; with BASE=PATH, by
# that fanout binary too, without),
# the runs interleaved, R times (3): median pages/s, CPU seconds per 1,000 pages (the crawler's
# user + system, from its --report), MB written per 1,000 pages (the archive's files; the
# database's, for scale), and the ratios: with/without pages/s (aim on W1: >= 0.90) and archiving's
# CPU per page, (CPU with - CPU without) / pages (aim on the CPU-bound crawl: <= 0.15 ms).
# Usage: bash scripts/bench-warc.sh [--quick] [--runs R]    BASE=build-base/cli/fanout to compare
# Every load is bounded: the sites are finite and every server stops by itself.
set -euo pipefail
source "$(dirname "$0")/common.sh"
reps=3
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) reps=1; shift ;;
    --runs) reps="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) sed -n '2,12p' "$0" >&2; exit 2 ;;
  esac
done
fanout_install_deps
fanout_build default >/dev/null
cd "$FANOUT_ROOT"
FANOUT="$FANOUT_ROOT/build/cli/fanout"
work="$(mktemp -d /tmp/fanout-bench-warc.XXXXXX)"
trap 'fanout_stop_server; rm -rf "$work"' EXIT
start_server() { fanout_start_server "$work" "$@"; }
stop_server() { fanout_stop_server; }
echo "commit $(fanout_commit); $(fanout_machine); $reps runs of each, interleaved"

# one LABEL BINARY C ARGS...: one crawl; appends "label pages_per_s cpu_s pages archive_bytes db_bytes"
one() {
  local label="$1" bin="$2" c="$3"; shift 3
  rm -rf "$work/run" && mkdir -p "$work/run"
  "$bin" crawl "$url" --db "$work/run/c.db" --quiet --concurrency "$c" --per-host "$c" --report "$work/run/r.json" "$@"
  local archive=0
  for f in "$work/run"/w-*.warc.gz; do [ -e "$f" ] && archive=$((archive + $(stat -c %s "$f"))); done
  local db=$(( $(stat -c %s "$work/run/c.db") + $(stat -c %s "$work/run/c.db-wal" 2>/dev/null || echo 0) ))
  /usr/bin/python3 - "$work/run/r.json" "$label" "$archive" "$db" >>"$work/rows" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("|".join(str(v) for v in (sys.argv[2], r["pages_per_second"], r["cpu_user_seconds"] + r["cpu_system_seconds"],
                                r["pages"], sys.argv[3], sys.argv[4])))
PY
}

report() {
  /usr/bin/python3 - "$work/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, pps, cpu, pages, archive, db = line.strip().split("|")
    rows.setdefault(label, []).append((float(pps), float(cpu), int(pages), int(archive), int(db)))
def med(label, i):
    return statistics.median(r[i] for r in rows[label])
def per_k(label, i):
    return statistics.median(r[i] / r[2] * 1000 for r in rows[label])
print("%-22s %10s %14s %16s %12s" % ("", "pages/s", "CPU s/1k pages", "archive MB/1k", "db MB/1k"))
for label in rows:
    print("%-22s %10.1f %14.3f %16.2f %12.2f" % (label, med(label, 0), per_k(label, 1), per_k(label, 3) / 1e6, per_k(label, 4) / 1e6))
if "without --warc" in rows and "with --warc" in rows:
    ratio = med("with --warc", 0) / med("without --warc", 0)
    cpu = (per_k("with --warc", 1) - per_k("without --warc", 1))  # ms per page = s per 1k pages
    print("with/without pages/s: %.3f; archiving CPU: %.3f ms per page" % (ratio, cpu))
if "without --warc" in rows and "with --warc, level 1" in rows:
    ratio = med("with --warc, level 1", 0) / med("without --warc", 0)
    cpu = (per_k("with --warc, level 1", 1) - per_k("without --warc", 1))
    print("--warc-gzip-level 1: with/without pages/s: %.3f; archiving CPU: %.3f ms per page" % (ratio, cpu))
if "base, without --warc" in rows:
    print("this/base pages/s (without --warc): %.3f" % (med("without --warc", 0) / med("base, without --warc", 0)))
PY
}

bench() {
  local c="$1"
  rm -f "$work/rows"
  for _ in $(seq "$reps"); do
    one "without --warc" "$FANOUT" "$c"
    one "with --warc" "$FANOUT" "$c" --warc "$work/run/w"
    one "with --warc, level 1" "$FANOUT" "$c" --warc "$work/run/w" --warc-gzip-level 1
    [ -n "${BASE:-}" ] && one "base, without --warc" "$BASE" "$c"
  done
  report
}

if [ -z "$only" ] || [ "$only" = w1 ]; then
  echo "== W1: 2000 pages of 10 kB at 50 ms, -c 128"
  start_server --synthetic 2000 --links 10 --page-bytes 10000 --latency 50
  bench 128
  stop_server
fi
if [ -z "$only" ] || [ "$only" = cpu ]; then
  echo "== CPU-bound: 20000 pages of 20 kB, no latency, -c 64"
  start_server --synthetic 20000 --links 10 --page-bytes 20000
  bench 64
  stop_server
fi
