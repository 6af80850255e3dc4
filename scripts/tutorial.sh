#!/usr/bin/env bash
# Refreshes docs/tutorial.md: runs every step of the tutorial (samples/tutorial, the Python
# samples, fanout crawl and fanout bench) against sites it serves on loopback, and writes what each
# printed, and the code the text quotes, between the markers in the document:
#   <!-- output:NAME --> ... <!-- /output:NAME -->     a run's command and output
#   <!-- code:FILE#REGION --> ... <!-- /code -->        // [tutorial:REGION] of samples/tutorial/FILE
# Usage: bash scripts/tutorial.sh [--small] [--output FILE] [--no-build] [--build-dir DIR]
#   --small      a small site (what CI runs: every step must work, the figures mean little)
#   --output     write there instead of docs/tutorial.md
#   --no-build   use what is built already (for the test suite, which has just built it)
#   --build-dir  the build to use (default build/)
# Every server stops by itself (--duration); every crawl is bounded by the site's size.
set -euo pipefail
source "$(dirname "$0")/common.sh"
small=0 build=1 output="" build_dir=build
while [ $# -gt 0 ]; do
  case "$1" in
    --small) small=1 ;;
    --no-build) build=0 ;;
    --output) output="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    *) echo "usage: bash scripts/tutorial.sh [--small] [--output FILE] [--no-build] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
if [ "$build" = 1 ]; then
  fanout_install_deps
  fanout_build default
fi
cd "$FANOUT_ROOT"
output="${output:-docs/tutorial.md}"
FANOUT="$build_dir/cli/fanout"
STEPS="$build_dir/tutorial"
if [ "$small" = 1 ]; then
  pages=60 latency=5 cpu_pages=40 bench_pages=60 vs_pages=60
else
  pages=500 latency=20 cpu_pages=400 bench_pages=500 vs_pages=200
fi

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

# run NAME SITE COMMAND...: runs COMMAND (with {url} replaced by SITE's URL; SITE "-": left as it
# is), keeps what it printed for <!-- output:NAME --> and shows the command with $URL in place of
# the address.
run() {
  local name="$1" site="$2"
  shift 2
  local url="{url}" args=() shown="\$"
  [ "$site" = - ] || url="$(head -n 1 "$work/$site.url")"
  for a in "$@"; do
    args+=("${a//\{url\}/$url}")
    if [ "$site" = - ]; then
      case "$a" in *" "*) shown+=" '$a'" ;; *) shown+=" $a" ;; esac
    else
      shown+=" ${a//\{url\}/\$URL}"
    fi
  done
  echo "== $name: ${shown:2}" >&2
  printf '%s\n' "$shown" >"$work/$name.out"
  "${args[@]}" >>"$work/$name.out" 2>&1 || { cat "$work/$name.out" >&2; echo "tutorial: $name failed" >&2; exit 1; }
}

# A site whose pages wait for the network (latency), and one whose pages are work to parse.
serve slow --synthetic "$pages" --links 10 --page-bytes 10000 --latency "$latency"
serve heavy --synthetic "$cpu_pages" --links 10 --page-bytes 200000
printf '%s cores: %s; %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  "$(date -u +%Y-%m-%d)" >"$work/machine.out"
echo "slow site: $pages pages of about 10 kB, 10 links each, ${latency} ms latency (fanout serve --synthetic $pages --page-bytes 10000 --latency $latency)" >>"$work/machine.out"
echo "heavy site: $cpu_pages pages of about 200 kB, 10 links each, no latency (fanout serve --synthetic $cpu_pages --page-bytes 200000)" >>"$work/machine.out"

run step1 slow "$STEPS/step1_blocking" {url}
run step2_1 slow "$STEPS/step2_threads" {url} --concurrency 1
run step2 slow "$STEPS/step2_threads" {url} --concurrency 16
run step2_256 slow "$STEPS/step2_threads" {url} --concurrency 256
run step3 slow "$STEPS/step3_multi" {url} --concurrency 16
run step3_heavy heavy "$STEPS/step3_multi" {url} --concurrency 16
run step4 slow "$STEPS/step4_event_loop" {url} --concurrency 16
run step5 slow "$STEPS/step5_coroutines" {url} --concurrency 16
run step6 slow "$STEPS/step6_limits" {url} --concurrency 16
run step7 slow "$STEPS/step7_pool" {url} --concurrency 16
run step7_heavy heavy "$STEPS/step7_pool" {url} --concurrency 16
run step2_heavy heavy "$STEPS/step2_threads" {url} --concurrency 16
run python_blocking slow /usr/bin/python3 samples/python/crawl_blocking.py {url}
run python_asyncio slow /usr/bin/python3 samples/python/crawl_asyncio.py {url} --concurrency 16
run python_asyncio_heavy heavy /usr/bin/python3 samples/python/crawl_asyncio.py {url} --concurrency 16
run crawl slow "$FANOUT" crawl {url} --concurrency 16 --per-host 16 --db "$work/tutorial.db"
# wget2, if installed, joins the comparison (it is not a dependency).
others=()
if command -v wget2 >/dev/null; then
  others=(--vs "wget2 --quiet --recursive --level=inf --no-parent --max-threads={concurrency} -P {outdir} {url}" --vs-name wget2)
fi
run bench - "$FANOUT" bench --pages "$bench_pages" --latency "$latency" --modes sync async --concurrency 1 16 128 \
  --sync-pages "$vs_pages" \
  --vs "/usr/bin/python3 samples/python/crawl_blocking.py {url} --max-pages $vs_pages" \
  --vs "/usr/bin/python3 samples/python/crawl_asyncio.py {url} --concurrency {concurrency}" "${others[@]}"
# The crawl's database was in a temporary directory: show its name alone.
sed -i "s|$work/tutorial.db|tutorial.db|" "$work/crawl.out"

/usr/bin/python3 - "$output" "$work" <<'PY'
import pathlib, re, sys
doc_path, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])

# The side-by-side table: each run's report line, against step 1 on its site.
runs = [("step1", "slow", "1 blocking fetch at a time", 1), ("step2", "slow", "2 threads", 16),
        ("step2_256", "slow", "2 threads", 256), ("step3", "slow", "3 curl multi, one thread", 16),
        ("step4", "slow", "4 epoll event loop", 16), ("step5", "slow", "5 coroutines", 16),
        ("step6", "slow", "6 semaphores", 16), ("step7", "slow", "7 thread pool", 16),
        ("python_blocking", "slow", "Python, requests", 1), ("python_asyncio", "slow", "Python, asyncio + aiohttp", 16),
        ("step2_heavy", "heavy", "2 threads", 16), ("step3_heavy", "heavy", "3 curl multi, one thread", 16),
        ("step7_heavy", "heavy", "7 thread pool", 16), ("python_asyncio_heavy", "heavy", "Python, asyncio + aiohttp", 16)]
report = re.compile(r"pages: (\d+)  errors: (\d+)  seconds: ([0-9.]+)  pages/s: ([0-9.]+)")
rows, base = [], {}
for name, site, what, conc in runs:
    found = report.findall((work / (name + ".out")).read_text())
    if not found:
        sys.exit("tutorial: %s printed no report line" % name)
    pages, errors, seconds, rate = found[-1]
    rows.append((site, what, conc, int(pages), float(seconds), float(rate)))
step1 = rows[0][5]
lines = ["%-6s %-28s %5s %6s %9s %9s %9s" % ("site", "step", "conc", "pages", "seconds", "pages/s", "vs step 1")]
for site, what, conc, pages, seconds, rate in rows:
    versus = "%.1fx" % (rate / step1) if site == "slow" and step1 > 0 else "-"
    lines.append("%-6s %-28s %5d %6d %9.3f %9.1f %9s" % (site, what, conc, pages, seconds, rate, versus))
(work / "compare.out").write_text("\n".join(lines) + "\n")

doc = pathlib.Path("docs/tutorial.md").read_text()
missing = []

def output(m):
    name = m.group(1)
    f = work / (name + ".out")
    if not f.exists():
        missing.append("output:" + name)
        return m.group(0)
    return "<!-- output:%s -->\n```\n%s\n```\n<!-- /output:%s -->" % (name, f.read_text().rstrip(), name)

def code(m):
    file, region = m.group(1), m.group(2)
    src = pathlib.Path("samples/tutorial", file)
    text = src.read_text() if src.exists() else ""
    r = re.search(r"^[ \t]*// \[tutorial:%s\]\n(.*?)^[ \t]*// \[/tutorial:%s\]" % (re.escape(region), re.escape(region)),
                  text, re.S | re.M)
    if not r:
        missing.append("code:%s#%s" % (file, region))
        return m.group(0)
    lines = r.group(1).rstrip("\n").split("\n")
    indent = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
    body = "\n".join(l[indent:] for l in lines)
    return "<!-- code:%s#%s -->\n```cpp\n%s\n```\n<!-- /code -->" % (file, region, body)

doc = re.sub(r"<!-- output:([\w-]+) -->.*?<!-- /output:\1 -->", output, doc, flags=re.S)
doc = re.sub(r"<!-- code:([\w.]+)#([\w-]+) -->.*?<!-- /code -->", code, doc, flags=re.S)
if missing:
    sys.exit("tutorial: nothing to put in " + ", ".join(missing))
doc_path.write_text(doc)
print("tutorial: wrote", doc_path)
PY
