#!/usr/bin/env bash
# The latency-bound benchmark, fanout beside the Python crawlers in one `fanout bench` run: a
# synthetic site of 2,000 pages of 10 kB with 10 links each and 50 ms latency (served by bench on
# loopback), crawled at --concurrency 16, 128 and 512 (--per-host = C), each cell the median of
# --repeat runs (default 3). Rows:
#   async                  this fanout, --parser auto (the fast path);
#   fanout --parser gumbo  this fanout with gumbo's tree for every page;
#   fanout BASE            another build of fanout, when BASE=PATH/TO/fanout is set (the commit
#                          before a change);
#   python asyncio         samples/python/crawl_asyncio.py (aiohttp, html.parser);
#   python regex           the same crawler finding links with a regular expression, the cheapest
#                          parser there is (a reference row: it is not a correct one).
# The aim: fanout at least 2x the Python crawlers at C=512. Compare ratios within one run: these
# machines are shared and noisy.
# Usage: bash scripts/bench-latency.sh [--repeat R]      Every load is bounded: a finite site.
set -euo pipefail
source "$(dirname "$0")/common.sh"
repeat=3
[ "${1:-}" = --repeat ] && repeat="$2"
fanout_install_deps
fanout_build default
cd "$FANOUT_ROOT"
FANOUT=build/cli/fanout
py=samples/python/crawl_asyncio.py
vs=(--vs "bash scripts/fanout-vs.sh $FANOUT {url} {concurrency} --parser gumbo" --vs-name "fanout --parser gumbo")
if [ -n "${BASE:-}" ]; then
  vs+=(--vs "bash scripts/fanout-vs.sh $(realpath "$BASE") {url} {concurrency}" --vs-name "fanout BASE")
fi
vs+=(--vs "/usr/bin/python3 $py {url} --max-pages 2000 --concurrency {concurrency}" --vs-name "python asyncio")
vs+=(--vs "/usr/bin/python3 $py {url} --max-pages 2000 --concurrency {concurrency} --links regex" --vs-name "python regex")
echo "commit $(fanout_commit); $(fanout_machine)"
echo "+ $FANOUT bench --modes async --concurrency 16,128,512 --pages 2000 --links 10 --page-bytes 10000 --latency 50 --repeat $repeat ${vs[*]}"
"$FANOUT" bench --modes async --concurrency 16,128,512 --pages 2000 --links 10 --page-bytes 10000 --latency 50 \
  --repeat "$repeat" "${vs[@]}"
