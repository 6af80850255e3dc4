#!/usr/bin/env bash
# Refreshes docs/tutorial.md: runs every step of the tutorial (samples/tutorial, the Python
# samples, fanout crawl and fanout bench) against sites it serves on loopback, each --runs times
# (3 by default: the machine is shared, so one run says little), and writes into the document, by
# scripts/tutorial_doc.py, what the median run printed, the code the text quotes and the figures
# the prose cites:
#   <!-- output:NAME --> ... <!-- /output:NAME -->     a run's command and output, every run's pages/s
#   <!-- code:FILE#REGION --> ... <!-- /code -->        // [tutorial:REGION] of samples/tutorial/FILE
#   <!-- value:NAME -->...<!-- /value -->              a figure computed from the runs
# Then it checks every ordering and ratio the prose states (tutorial_doc.py's CLAIMS) and fails,
# naming each claim, when the figures no longer support it; the document is written either way,
# so that the figures can be read and the prose rewritten.
# Usage: bash scripts/tutorial.sh [--small] [--runs N] [--check] [--output FILE] [--no-build] [--build-dir DIR]
#                                 [--save-figures FILE] [--keep DIR]
#   --small         a small site (what CI runs: every step must work, the figures mean little, so
#                   the claims are not checked unless --check is given)
#   --runs          runs of every step (default 3); the document shows the median and the spread
#   --check         check the claims in --small mode too (always done otherwise)
#   --output        write there instead of docs/tutorial.md
#   --no-build      use what is built already (for the test suite, which has just built it)
#   --build-dir     the build to use (default build/)
#   --save-figures  also write the figures the claims were checked against (JSON), as the test
#                   fixture tests/samples/tutorial_figures.json was made
#   --keep DIR      keep every run's output in DIR, so that the document can be filled again after
#                   its prose is edited: python3 scripts/tutorial_doc.py fill DIR docs/tutorial.md docs/tutorial.md
# Every server stops by itself (--duration); every crawl is bounded by the site's size.
set -euo pipefail
source "$(dirname "$0")/common.sh"
small=0 build=1 output="" build_dir=build runs=3 check="" save_figures="" keep=""
usage() {
  echo "usage: bash scripts/tutorial.sh [--small] [--runs N] [--check] [--output FILE] [--no-build] [--build-dir DIR] [--save-figures FILE] [--keep DIR]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --small) small=1 ;;
    --no-build) build=0 ;;
    --check) check=1 ;;
    --runs) [ $# -ge 2 ] || usage; runs="$2"; shift ;;
    --output) [ $# -ge 2 ] || usage; output="$2"; shift ;;
    --build-dir) [ $# -ge 2 ] || usage; build_dir="$2"; shift ;;
    --save-figures) [ $# -ge 2 ] || usage; save_figures="$(realpath -m "$2")"; shift ;;
    --keep) [ $# -ge 2 ] || usage; keep="$(realpath -m "$2")"; shift ;;
    *) usage ;;
  esac
  shift
done
case "$runs" in ''|*[!0-9]*|0) usage ;; esac
[ -n "$check" ] || { [ "$small" = 1 ] && check=0 || check=1; }
if [ "$build" = 1 ]; then
  fanout_install_deps
  fanout_build default
fi
[ -z "$output" ] || output="$(realpath -m "$output")"
cd "$FANOUT_ROOT"
output="${output:-docs/tutorial.md}"
FANOUT="$build_dir/cli/fanout"
STEPS="$build_dir/tutorial"
if [ "$small" = 1 ]; then
  pages=60 latency=5 cpu_pages=40 bench_pages=60 vs_pages=60 block_every=10
else
  pages=500 latency=20 cpu_pages=400 bench_pages=500 vs_pages=200 block_every=10
fi
concurrency=16 links=10

work="$(mktemp -d)"
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# serve NAME ARGS...: starts fanout serve; its URL is in $work/NAME.url.
serve() {
  local name="$1"
  shift
  "$FANOUT" serve --port 0 --duration 900 "$@" >"$work/$name.url" 2>/dev/null &
  servers+=($!)
  for _ in $(seq 200); do [ -s "$work/$name.url" ] && break; sleep 0.05; done
  [ -s "$work/$name.url" ] || { echo "tutorial: fanout serve did not start" >&2; exit 1; }
}

# run NAME SITE COMMAND...: runs COMMAND $runs times (with {url} replaced by SITE's URL, SITE "-":
# left as it is, and {n} by the run's number), keeps what each run printed in $work/NAME.N.out and
# the command in $work/NAME.cmd, shown with $URL in place of the address.
run() {
  local name="$1" site="$2"
  shift 2
  local url="{url}" shown="\$"
  [ "$site" = - ] || url="$(head -n 1 "$work/$site.url")"
  for a in "$@"; do
    if [ "$site" = - ]; then
      case "$a" in *" "*) shown+=" '$a'" ;; *) shown+=" $a" ;; esac
    else
      shown+=" ${a//\{url\}/\$URL}"
    fi
  done
  shown="${shown//\{n\}/}"
  echo "== $name: ${shown:2}" >&2
  printf '%s\n' "$shown" >"$work/$name.cmd"
  local n args
  for n in $(seq "$runs"); do
    args=()
    for a in "$@"; do
      a="${a//\{url\}/$url}"
      args+=("${a//\{n\}/$n}")
    done
    "${args[@]}" >"$work/$name.$n.out" 2>&1 || { cat "$work/$name.$n.out" >&2; echo "tutorial: $name failed" >&2; exit 1; }
  done
}

# A site whose pages wait for the network (latency), and one whose pages are work to parse.
serve slow --synthetic "$pages" --links "$links" --page-bytes 10000 --latency "$latency"
serve heavy --synthetic "$cpu_pages" --links "$links" --page-bytes 200000
printf '%s cores: %s; %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  "$(date -u +%Y-%m-%d)" >"$work/machine.out"
echo "slow site: $pages pages of about 10 kB, 10 links each, ${latency} ms latency (fanout serve --synthetic $pages --page-bytes 10000 --latency $latency)" >>"$work/machine.out"
echo "heavy site: $cpu_pages pages of about 200 kB, 10 links each, no latency (fanout serve --synthetic $cpu_pages --page-bytes 200000)" >>"$work/machine.out"
# The machine may be shared: how busy it was says how much of its cores the runs could have.
load_before="$(cut -d' ' -f1 /proc/loadavg)"

run step1 slow "$STEPS/step1_blocking" {url}
run step2_1 slow "$STEPS/step2_threads" {url} --concurrency 1
run step2 slow "$STEPS/step2_threads" {url} --concurrency "$concurrency"
run step2_256 slow "$STEPS/step2_threads" {url} --concurrency 256
run step3 slow "$STEPS/step3_multi" {url} --concurrency "$concurrency"
run step3_heavy heavy "$STEPS/step3_multi" {url} --concurrency "$concurrency"
run step4 slow "$STEPS/step4_event_loop" {url} --concurrency "$concurrency"
run step5 slow "$STEPS/step5_coroutines" {url} --concurrency "$concurrency"
run step5_block slow "$STEPS/step5_coroutines" {url} --concurrency "$concurrency" --block-every "$block_every"
run step6 slow "$STEPS/step6_limits" {url} --concurrency "$concurrency"
run step7 slow "$STEPS/step7_pool" {url} --concurrency "$concurrency"
run step7_heavy heavy "$STEPS/step7_pool" {url} --concurrency "$concurrency"
run step2_heavy heavy "$STEPS/step2_threads" {url} --concurrency "$concurrency"
run python_blocking slow /usr/bin/python3 samples/python/crawl_blocking.py {url}
run python_asyncio slow /usr/bin/python3 samples/python/crawl_asyncio.py {url} --concurrency "$concurrency"
run python_asyncio_heavy heavy /usr/bin/python3 samples/python/crawl_asyncio.py {url} --concurrency "$concurrency"
run python_multiprocessing_heavy heavy /usr/bin/python3 samples/python/crawl_multiprocessing.py {url} \
  --concurrency "$concurrency"
run crawl slow "$FANOUT" crawl {url} --concurrency "$concurrency" --per-host "$concurrency" --db "$work/tutorial{n}.db"
# The crawl's database was in a temporary directory: show its name alone.
sed -i "s|$work/tutorial[0-9]*.db|tutorial.db|" "$work"/crawl.*.out "$work/crawl.cmd"
# wget2, if installed, joins the comparison (it is not a dependency).
others=()
if command -v wget2 >/dev/null; then
  others=(--vs "wget2 --quiet --recursive --level=inf --no-parent --max-threads={concurrency} -P {outdir} {url}" --vs-name wget2)
fi
# bench repeats each cell itself (--repeat) and shows the median and the spread: one run of it.
runs_wanted="$runs" runs=1
run bench - "$FANOUT" bench --pages "$bench_pages" --latency "$latency" --modes sync threads async \
  --concurrency 1 "$concurrency" 128 --sync-pages "$vs_pages" --repeat "$runs_wanted" \
  --vs "/usr/bin/python3 samples/python/crawl_blocking.py {url} --max-pages $vs_pages" \
  --vs "/usr/bin/python3 samples/python/crawl_asyncio.py {url} --concurrency {concurrency}" "${others[@]}" \
  --json "$work/bench.json"
runs="$runs_wanted"
# The bench's table is its output; its --json (a temporary file) is not shown.
{ sed "s| --json $work/bench.json||" "$work/bench.cmd"; cat "$work/bench.1.out"; } >"$work/bench.out"
rm "$work/bench.cmd" "$work/bench.1.out"

echo "load average (1 min): $load_before when the runs began, $(cut -d' ' -f1 /proc/loadavg) when they ended" \
  "(above $(nproc), other work was waiting for the cores)" >>"$work/machine.out"
printf '{"runs": %d, "small": %s, "latency_ms": %d, "concurrency": %d, "pages": %d, "cpu_pages": %d, "links": %d}\n' \
  "$runs" "$([ "$small" = 1 ] && echo true || echo false)" "$latency" "$concurrency" "$pages" "$cpu_pages" "$links" \
  >"$work/settings.json"
if [ -n "$keep" ]; then
  rm -rf "$keep"
  cp -r "$work" "$keep"
fi
fill=(/usr/bin/python3 scripts/tutorial_doc.py fill "$work" docs/tutorial.md "$output")
[ "$check" = 1 ] && fill+=(--check)
[ -z "$save_figures" ] || fill+=(--save-figures "$save_figures")
"${fill[@]}"
