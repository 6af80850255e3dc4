#!/usr/bin/python3
"""A blocking crawler in Python: one page at a time over one requests.Session.

The Python twin of the tutorial's step 1 (samples/tutorial/step1_blocking.cpp), for comparing
with fanout's modes in `fanout bench --vs`. session.get() returns when the whole response is in,
so the crawl goes at one page per round trip: a breadth-first walk from URL, staying on its
scheme, host and port, that stops after --max-pages pages (never more requests than that).
Non-200 answers and network errors count as errors; redirects are not followed (a 301 is an
error, as in the C++ steps). --concurrency is accepted, so both samples take the same
arguments, and ignored.

Needs Debian's python3-requests, under Debian's /usr/bin/python3 (a python3 earlier on PATH,
such as pyenv's, does not see Debian's modules). Against a local site:

    fanout serve --synthetic 500 --latency 20 --port 8000 &
    /usr/bin/python3 samples/python/crawl_blocking.py http://127.0.0.1:8000/ --max-pages 500

or beside fanout's own modes:

    fanout bench --pages 500 --latency 20 --modes async --concurrency 1,16 \\
        --vs '/usr/bin/python3 samples/python/crawl_blocking.py {url} --max-pages 500'

The last line is the report: pages: N  errors: E  seconds: S  pages/s: R
"""

import time
from collections import deque

import common

try:
    import requests
except ImportError:
    common.missing_module("crawl_blocking.py", "requests", "python3-requests")


def crawl(start_url, max_pages):
    """Returns (pages, errors): pages fetched, and how many of them failed or were not 200."""
    site = common.origin(start_url)
    queue = deque([start_url])
    seen = {start_url}
    pages = errors = 0
    # One session for the whole crawl: it keeps the connection to the server open between pages.
    with requests.Session() as session:
        # No proxy or .netrc from the environment: a proxy would add a hop to what is measured
        # (aiohttp ignores the environment by default, so the two samples match).
        session.trust_env = False
        while queue and pages < max_pages:
            url = queue.popleft()
            pages += 1
            try:
                response = session.get(url, timeout=10, allow_redirects=False)  # waits here, once per page
            except requests.RequestException:
                errors += 1
                continue
            if response.status_code != 200:
                errors += 1
                continue
            content_type = response.headers.get("Content-Type")
            if not common.is_html(content_type):
                continue
            for link in common.extract_links(common.decode(response.content, content_type), url, site):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)
    return pages, errors


def main():
    args = common.parse_args("Crawl one site, a page at a time, with blocking requests.")
    start = time.monotonic()
    pages, errors = crawl(args.url, args.max_pages)
    common.print_report(pages, errors, time.monotonic() - start)


if __name__ == "__main__":
    main()
