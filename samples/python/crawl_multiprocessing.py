#!/usr/bin/python3
"""crawl_asyncio.py with its parsing in other processes: the way past the GIL for CPU work.

The same crawl as crawl_asyncio.py (one event loop, aiohttp, an asyncio.Semaphore for
--concurrency, the same parser and site boundary), except for where a page is parsed: not on the
event loop's thread but in a concurrent.futures.ProcessPoolExecutor of one worker process per
core, through `await loop.run_in_executor(pool, ...)`. The loop goes on with other transfers
while the workers parse, and the workers parse in parallel, each with its own interpreter and its
own GIL. What it costs: each page's body is pickled and copied to a worker, and its links are
copied back; threads would share the memory, but a ThreadPoolExecutor would parse on one core
at a time, for the GIL.

Needs Debian's python3-aiohttp, under Debian's /usr/bin/python3. Against a local site:

    fanout serve --synthetic 400 --page-bytes 200000 --port 8000 &
    /usr/bin/python3 samples/python/crawl_multiprocessing.py http://127.0.0.1:8000/ --max-pages 400

The last line is the report: pages: N  errors: E  seconds: S  pages/s: R
"""

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

import common

try:
    import aiohttp
except ImportError:
    common.missing_module("crawl_multiprocessing.py", "aiohttp", "python3-aiohttp")


class Crawler:
    """One crawl. Everything but parsing runs on the event loop's thread, so the counters need no
    lock; the workers see only the page they are given."""

    def __init__(self, start_url, max_pages, concurrency, pool):
        self.site = common.origin(start_url)
        self.start_url = start_url
        self.max_pages = max_pages
        self.concurrency = concurrency
        self.pool = pool
        self.permits = asyncio.Semaphore(concurrency)  # requests waiting on the network at once
        self.seen = {start_url}
        self.scheduled = 0  # tasks created, one per URL; never more than max_pages
        self.pages = self.errors = 0

    async def run(self):
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            async with asyncio.TaskGroup() as tasks:
                self.schedule(tasks, session, self.start_url)

    def schedule(self, tasks, session, url):
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
        # The only difference from crawl_asyncio.py: the page is parsed in a worker process. This
        # task waits for it as it waits for the network, and the loop runs the others meanwhile.
        loop = asyncio.get_running_loop()
        links = await loop.run_in_executor(self.pool, common.links_of_page, body, content_type, url, self.site)
        for link in links:
            if link not in self.seen:
                self.seen.add(link)
                self.schedule(tasks, session, link)


def main():
    args = common.parse_args("Crawl one site with asyncio and aiohttp, parsing pages in a process pool.")
    start, cpu_start = time.monotonic(), common.cpu_seconds()
    # "fork", as Python 3.11 does by default on Linux: cheap, and safe here because the workers are
    # started (by the first job) before the event loop and its threads exist. Each worker is told
    # which link finder --links chose, as a "spawn" or "forkserver" worker would need to be.
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=common.use_link_finder, initargs=(args.links,)) as pool:
        pool.submit(int).result()  # starts the workers now
        crawler = Crawler(args.url, args.max_pages, args.concurrency, pool)
        asyncio.run(crawler.run())
        seconds = time.monotonic() - start
    # After the pool has shut down: the workers' CPU is counted once they have ended.
    common.print_cpu(common.cpu_seconds() - cpu_start, seconds)
    common.print_report(crawler.pages, crawler.errors, seconds)


if __name__ == "__main__":
    main()
