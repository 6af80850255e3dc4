#!/usr/bin/python3
"""A concurrent crawler in Python: asyncio and aiohttp, --concurrency requests at once.

The Python counterpart of fanout's async mode, for comparing with it in `fanout bench --vs`.
One event loop on one thread, one aiohttp.ClientSession, a task per URL to fetch, and an
asyncio.Semaphore that lets --concurrency of them wait on the network at once. The same
breadth-first crawl as crawl_blocking.py: same parser (common.py), same site boundary (the
start URL's scheme, host and port), at most --max-pages requests; non-200 answers and network
errors count as errors; redirects are not followed.

The waiting overlaps, the parsing does not: html.parser is pure Python, and it runs on the
event loop's thread, holding the GIL, while no other task of this crawler can run. Past a few
hundred pages/s the crawl is bound by that one core, however high --concurrency goes (and
threads would not help, for the same GIL). fanout parses on a thread pool in C.

Needs Debian's python3-aiohttp, under Debian's /usr/bin/python3 (a python3 earlier on PATH,
such as pyenv's, does not see Debian's modules). Against a local site:

    fanout serve --synthetic 500 --latency 20 --port 8000 &
    /usr/bin/python3 samples/python/crawl_asyncio.py http://127.0.0.1:8000/ --max-pages 500 --concurrency 16

or beside fanout's own modes, one run per --concurrency level:

    fanout bench --pages 500 --latency 20 --modes async --concurrency 1,16 \\
        --vs '/usr/bin/python3 samples/python/crawl_asyncio.py {url} --max-pages 500 --concurrency {concurrency}'

The last line is the report: pages: N  errors: E  seconds: S  pages/s: R
"""

import asyncio
import time

import common

try:
    import aiohttp
except ImportError:
    common.missing_module("crawl_asyncio.py", "aiohttp", "python3-aiohttp")


class Crawler:
    """One crawl. Everything runs on the event loop's thread, so the counters need no lock."""

    def __init__(self, start_url, max_pages, concurrency):
        self.site = common.origin(start_url)
        self.start_url = start_url
        self.max_pages = max_pages
        self.concurrency = concurrency
        self.permits = asyncio.Semaphore(concurrency)  # requests waiting on the network at once
        self.seen = {start_url}
        self.scheduled = 0  # tasks created, one per URL; never more than max_pages
        self.pages = self.errors = 0

    async def run(self):
        # The connection pool as large as the concurrency, as fanout's --per-host is in bench.
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            # A TaskGroup waits for every task in it, including those created while it waits.
            async with asyncio.TaskGroup() as tasks:
                self.schedule(tasks, session, self.start_url)

    def schedule(self, tasks, session, url):
        # The page budget is spent when the task is created, so --max-pages is exact: a link found
        # after that is simply not followed, and no request goes out for it.
        if self.scheduled < self.max_pages:
            self.scheduled += 1
            tasks.create_task(self.visit(tasks, session, url))

    async def visit(self, tasks, session, url):
        try:
            async with self.permits:
                async with session.get(url, allow_redirects=False) as response:
                    status = response.status
                    content_type = response.headers.get("Content-Type")
                    body = await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            status = 0
        self.pages += 1
        if status != 200:
            self.errors += 1
            return
        if not common.is_html(content_type):
            return
        # Parsed after the permit is given back, so another request is on the wire meanwhile.
        for link in common.extract_links(common.decode(body, content_type), url, self.site):
            if link not in self.seen:
                self.seen.add(link)
                self.schedule(tasks, session, link)


def main():
    args = common.parse_args("Crawl one site with asyncio and aiohttp, --concurrency requests at once.")
    crawler = Crawler(args.url, args.max_pages, args.concurrency)
    start, cpu_start = time.monotonic(), common.cpu_seconds()
    asyncio.run(crawler.run())
    seconds = time.monotonic() - start
    common.print_cpu(common.cpu_seconds() - cpu_start, seconds)
    common.print_report(crawler.pages, crawler.errors, seconds)


if __name__ == "__main__":
    main()
