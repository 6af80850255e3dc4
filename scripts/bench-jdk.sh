#!/usr/bin/env bash
# A real-site benchmark: fanout against GNU Wget2 on the OpenJDK 17 API documentation
# (openjdk-17-doc, 10,137 HTML pages, 287 MB), served from disk by a private nginx on 127.0.0.1
# (keep-alive, sendfile, one worker, no robots.txt so a 404).
# Each tool crawls from /api/index.html at --concurrency C (16 and 64; fanout with --per-host C,
# wget2 with --max-threads C), once per round, the rows interleaved, for R rounds; each writes to a
# tmpfs (/dev/shm), wiped between runs, so the disk is not measured.
# Rows: fanout with --parser auto and --parser gumbo (or one row `fanout`, with the default parser,
# when this binary has no --parser), kept below /api by --include; and wget2 (recursive, no parent,
# unlimited depth, robots.txt obeyed as fanout does, no link conversion, only *.html URLs requested).
# Both should fetch the same 10,136 pages (one of the 10,137 files is linked from nowhere) and the
# same two broken links (404).
# How to read it (medians over the R runs):
#   pages/s     HTML pages the server answered 200 for in that run (counted in nginx's access log,
#               which is emptied before each run) / the wall time of the tool's process;
#   CPU s/1k    user + system CPU seconds of the tool (/usr/bin/time) per 1,000 of those pages;
#   RSS MB      the tool's peak RSS;
#   store MB    fanout: the database (.db + -wal) after the crawl; wget2: the bytes it saved
#               (the HTML files), which is not the same thing;
#   requests    every request the server saw (robots.txt, other files, errors included);
#   distinct    distinct HTML URLs answered 200; dups: URLs requested more than once (listed below
#               the table for fanout, which should request each URL once).
#   Then the ratio fanout-auto (or fanout) / wget2 in pages/s at each C, the parse-path counts from
#   fanout's report (any key naming the parser, if the report has one) and the URLs one tool fetched
#   and the other did not.
# Usage: bash scripts/bench-jdk.sh [--quick] [--runs R]
#   --quick: one run, C = 16 only, to see that it all runs. --runs R: R rounds (default 3).
#   FANOUT=PATH/TO/fanout: use that binary and build nothing (default: build/cli/fanout, built with
#   the default preset first). BASE=PATH/TO/fanout: also a row `fanout-base` of that build (the
#   commit before a change), with its default parser. Every run is bounded (a finite site, and a timeout on each tool).
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR disable=SC1091
source "$(dirname "$0")/common.sh"
FANOUT_PACKAGES+=(nginx wget2 openjdk-17-doc time)
cmdline="bash scripts/bench-jdk.sh $*"
runs=3
concurrencies=(16 64)
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) runs=1; concurrencies=(16); shift ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: bash scripts/bench-jdk.sh [--quick] [--runs R]  (FANOUT=PATH/TO/fanout to skip the build)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench-jdk: --runs wants a positive integer" >&2; exit 2; }
fanout_install_deps
if [ -n "${FANOUT:-}" ]; then
  FANOUT="$(realpath "$FANOUT")"
  [ -n "${BASE:-}" ] && BASE="$(realpath "$BASE")"
else
  fanout_build default
  FANOUT="$FANOUT_ROOT/build/cli/fanout"
fi
cd "$FANOUT_ROOT"
PY=/usr/bin/python3
NGINX=/usr/sbin/nginx
WGET2=/usr/bin/wget2
TIME=/usr/bin/time
docroot=/usr/share/doc/openjdk-17-doc
[ -f "$docroot/api/index.html" ] || { echo "bench-jdk: no $docroot/api/index.html (package openjdk-17-doc)" >&2; exit 1; }
expected=$(find -L "$docroot/api" -name '*.html' -type f | wc -l)

work="$(mktemp -d)"                          # nginx's config, logs and pid; the results
shm="$(mktemp -d /dev/shm/fanout-jdk.XXXXXX)"  # what the tools write
nginx_pid=""
stop_nginx() {
  if [ -n "$nginx_pid" ]; then
    kill -QUIT "$nginx_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  nginx_pid=""
}
trap 'stop_nginx; rm -rf "$work" "$shm"' EXIT

# A private nginx: its own config, pid file, logs and temp dirs, in $work; in the foreground.
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_nginx() {
  port=$(free_port)
  cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  log_format bench '\$status\t\$request_method\t\$request_uri\t\$sent_http_content_type\t\$body_bytes_sent';
  access_log $work/access.log bench;
  client_body_temp_path $work/client_body;
  proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi;
  uwsgi_temp_path $work/uwsgi;
  scgi_temp_path $work/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  gzip off;
  server {
    listen 127.0.0.1:$port;
    server_name localhost;
    root $docroot;
  }
}
EOF
  "$NGINX" -p "$work" -e "$work/error.log" -c "$work/nginx.conf" 2>"$work/nginx.stderr" &
  nginx_pid=$!
  seed="http://127.0.0.1:$port/api/index.html"
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$seed" && return 0
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.05
  done
  return 1
}
started=""
for _ in 1 2 3; do  # another process may take the free port before nginx binds it
  if start_nginx; then started=1; break; fi
  stop_nginx
done
[ -n "$started" ] || { echo "bench-jdk: nginx did not start:" >&2; cat "$work/nginx.stderr" "$work/error.log" >&2; exit 1; }

rows=()
help="$("$FANOUT" crawl --help)"  # (grep -q on a pipe would cut fanout's output short: a SIGPIPE under pipefail)
if grep -q -- '--parser' <<<"$help"; then rows+=(fanout-auto fanout-gumbo); else rows+=(fanout); fi
[ -n "${BASE:-}" ] && rows+=(fanout-base)
rows+=(wget2)

echo "$cmdline"
echo "script tree $(fanout_commit); fanout binary $FANOUT$(
  bindir="$(dirname "$FANOUT")"; rev=$(git -C "$bindir" rev-parse --short HEAD 2>/dev/null) && echo " (tree at $rev)")"
echo "machine: $(fanout_machine); $("$NGINX" -v 2>&1 | cut -d' ' -f3-); $("$WGET2" --version 2>/dev/null | head -n 1)"
echo "site: $seed -> $docroot/api ($expected HTML files), nginx 1 worker, keep-alive, sendfile"
echo "rows: ${rows[*]}; C = ${concurrencies[*]}; $runs run(s) each, interleaved"

# run_one LABEL C ROUND: one crawl, then one line of results in $work/results.tsv.
: >"$work/results.tsv"
run_one() {
  local label="$1" c="$2" round="$3" rc=0 store t0 t1
  rm -rf "${shm:?}"/*
  : >"$work/access.log"
  local cmd=()
  case "$label" in
    fanout*)
      # --include: the pages link up out of /api (../specs, ../legal); wget2's --no-parent keeps
      # below /api, and so does this.
      local bin="$FANOUT"
      [ "$label" = fanout-base ] && bin="$BASE"
      cmd=("$bin" crawl "$seed" --concurrency "$c" --per-host "$c" --db "$shm/x.db" --report "$shm/r.json" --quiet
           --include "^http://127\\.0\\.0\\.1:$port/api/")
      case "$label" in fanout-auto | fanout-gumbo) cmd+=(--parser "${label#fanout-}") ;; esac
      ;;
    wget2)
      # --no-config and --no-local-db: no ~/.wget2rc, no HSTS/HPKP/OCSP files read or written;
      # --filter-urls --accept: the filter is applied to a URL before it is requested (without
      # it wget2 asks for every .css/.js/image, HEAD or GET, and deletes the files it rejects); it
      # matches the URL with its #fragment, so both patterns (*.html alone drops the pages first
      # seen with a fragment, a different few hundred each run). fanout follows <a href> links,
      # which here are .html pages and 60 .svg images.
      cmd=("$WGET2" --no-config --no-local-db --recursive --no-parent --level=inf --max-threads="$c"
           --robots=on --no-convert-links --filter-urls --accept '*.html,*.html#*' --tries=1 --timeout=30
           --no-verbose --progress=none -o "$shm/wget2.log" -P "$shm/w" "$seed")
      ;;
  esac
  [ "$round" = 1 ] && [ "$c" = "${concurrencies[0]}" ] && echo "  $label: ${cmd[*]}" | sed "s#$shm#\$TMPFS#g"
  t0=$(date +%s.%N)
  timeout --kill-after=10 1200 "$TIME" -o "$work/time.txt" -f "%U %S %M" "${cmd[@]}" >"$work/out.txt" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  if [ "$rc" -ne 0 ] && { [ "$label" != wget2 ] || [ "$rc" -ge 124 ]; }; then
    echo "  warning: $label C=$c run $round exited $rc: $(tail -n 3 "$work/out.txt" | tr '\n' ' ')" >&2
  fi
  case "$label" in
    fanout*) store=$(cat "$shm"/x.db "$shm"/x.db-wal 2>/dev/null | wc -c || true) ;;
    wget2) store=$(du -sb "$shm/w" 2>/dev/null | cut -f1 || true) ;;
  esac
  store=${store:-0}
  [ "$round" = 1 ] && cp "$work/access.log" "$work/log.$label.$c"
  [ "$round" = 1 ] && [ -f "$shm/r.json" ] && cp "$shm/r.json" "$work/report.$label.$c.json"
  "$PY" - "$work/access.log" "$label" "$c" "$round" "$t0" "$t1" "$(tail -n 1 "$work/time.txt")" "$store" "$rc" \
    >>"$work/results.tsv" <<'PY'
import collections, sys
log, label, c, rnd, t0, t1, tm, store, rc = sys.argv[1:]
user, system, rss = tm.split()[:3] if len(tm.split()) >= 3 else ("nan", "nan", "0")
pages, requests, html = 0, 0, set()
seen = collections.Counter()
for line in open(log, errors="replace"):
    f = line.rstrip("\n").split("\t")
    if len(f) < 5:
        continue
    requests += 1
    seen[f[2]] += 1
    if f[0] == "200" and f[3].startswith("text/html"):
        pages += 1
        html.add(f[2])
dups = sum(1 for n in seen.values() if n > 1)
print("\t".join(map(str, [label, c, rnd, float(t1) - float(t0), user, system, int(rss), store, pages,
                          requests, len(html), dups, rc])))
PY
}

for c in "${concurrencies[@]}"; do
  for round in $(seq "$runs"); do
    for label in "${rows[@]}"; do
      run_one "$label" "$c" "$round"
    done
  done
done
stop_nginx

echo
"$PY" - "$work" "$expected" "${rows[0]}" <<'PY'
import collections, glob, json, os, statistics, sys
work, expected, main_row = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runs = collections.defaultdict(list)
for line in open(os.path.join(work, "results.tsv")):
    f = line.rstrip("\n").split("\t")
    runs[(f[0], int(f[1]))].append(f)
med = statistics.median
print("%-13s %4s %4s %8s %8s %9s %7s %16s %8s %9s %9s %5s" % (
    "row", "C", "runs", "wall s", "pages/s", "CPU s/1k", "RSS MB", "store MB", "pages", "requests",
    "distinct", "dups"))
pps = {}
for (label, c), rs in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    wall = med(float(r[3]) for r in rs)
    rate = med(int(r[8]) / float(r[3]) for r in rs)
    cpu = med(1000 * (float(r[4]) + float(r[5])) / max(1, int(r[8])) for r in rs)
    rss = med(int(r[6]) / 1024 for r in rs)
    store = med(int(r[7]) / 1e6 for r in rs)
    pps[(label, c)] = rate
    kind = "saved HTML" if label == "wget2" else "db+wal"
    print("%-13s %4d %4d %8.2f %8.0f %9.2f %7.1f %16s %8d %9d %9d %5d" % (
        label, c, len(rs), wall, rate, cpu, rss, "%.1f %s" % (store, kind), med(int(r[8]) for r in rs),
        med(int(r[9]) for r in rs), med(int(r[10]) for r in rs), max(int(r[11]) for r in rs)))
print()
for c in sorted({c for _, c in pps}):
    if (main_row, c) in pps and ("wget2", c) in pps and pps[("wget2", c)] > 0:
        print("C=%d: %s / wget2 = %.2fx in pages/s" % (c, main_row, pps[(main_row, c)] / pps[("wget2", c)]))
print("(the site has %d HTML files under /api)" % expected)

def parser_keys(node, path=""):
    """Every key of the report that names the parser, with its value."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            p = path + "." + k if path else k
            if "pars" in k.lower() and not k.lower().startswith("mean_parse") and "seconds" not in k.lower():
                found.append((p, v))
            else:
                found += parser_keys(v, p)
    return found

print()
for label, c in sorted((k for k in runs if k[0] != "wget2"), key=lambda k: (k[1], k[0])):
    name, report = "%s C=%d" % (label, c), os.path.join(work, "report.%s.%d.json" % (label, c))
    try:
        keys = parser_keys(json.load(open(report)))
    except (OSError, ValueError) as e:
        keys = [("error", str(e))]
    print("%s parse paths (run 1): %s" % (name, "; ".join("%s = %s" % (k, json.dumps(v)) for k, v in keys)
                                          or "none in the report"))

def uris(path):
    out, count = set(), collections.Counter()
    for line in open(path, errors="replace"):
        f = line.rstrip("\n").split("\t")
        if len(f) < 5:
            continue
        count[f[2]] += 1
        if f[0] == "200" and f[3].startswith("text/html"):
            out.add(f[2])
    return out, count

print()
logs = {}
for path in sorted(glob.glob(os.path.join(work, "log.*"))):
    label, c = os.path.basename(path)[4:].rsplit(".", 1)
    logs[(label, int(c))] = uris(path)
for (label, c), (html, count) in sorted(logs.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    dups = sorted((n, u) for u, n in count.items() if n > 1)
    statuses = collections.Counter()
    for line in open(os.path.join(work, "log.%s.%d" % (label, c)), errors="replace"):
        statuses[line.split("\t", 1)[0]] += 1
    print("%s C=%d run 1: %d distinct HTML URLs, statuses %s, %d URLs requested more than once%s" % (
        label, c, len(html), dict(sorted(statuses.items())), len(dups),
        "".join("\n    %dx %s" % d for d in dups[-20:])))
    other = logs.get(("wget2", c))
    if label != "wget2" and other:
        only_me, only_w = sorted(html - other[0]), sorted(other[0] - html)
        print("    against wget2: %d only here%s; %d only wget2's%s" % (
            len(only_me), " (" + ", ".join(only_me[:5]) + ")" if only_me else "",
            len(only_w), " (" + ", ".join(only_w[:5]) + ")" if only_w else ""))
PY
