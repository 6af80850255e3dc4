"""What the Python crawlers share: arguments, finding links, and the report line.

The Python counterpart of samples/tutorial/common.h, imported by crawl_blocking.py,
crawl_asyncio.py and crawl_multiprocessing.py (Python puts a script's own directory first on
sys.path, so `import common` finds this file). All three crawlers use this one parser, so a
difference in their speed is a difference in how they wait for the network and where they parse,
not in how they read pages.

Deliberately simple, like the tutorial: no robots.txt, no retries, no storage.
"""

import argparse
import re
import resource
import sys
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url):
    """(scheme, host, port) of an http(s) URL with the default port filled in; None otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        return None
    return (parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme])


def _start_url(text):
    """argparse type for URL: an http(s) URL, without its #fragment, its empty path made "/"
    so that a link back to the home page is recognised as the start URL already seen."""
    if origin(text) is None:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {text!r}")
    parts = urlsplit(urldefrag(text).url)
    return urlunsplit(parts._replace(path=parts.path or "/"))


def _count(text):
    """argparse type for --max-pages and --concurrency: 1 to 1,000,000, as in the C++ steps."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 1000000: {value}")
    return value


def parse_args(description):
    """URL [--max-pages N] [--concurrency N], as the C++ tutorial steps take them. argparse prints
    the usage and exits with status 2 on anything else."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("url", type=_start_url, help="the start URL; only its scheme, host and port are crawled")
    parser.add_argument("--max-pages", type=_count, default=1000, help="fetch at most this many pages (default 1000)")
    parser.add_argument("--concurrency", type=_count, default=16,
                        help="requests at once (default 16; the blocking crawler ignores it)")
    parser.add_argument("--links", choices=("html", "regex"), default="html",
                        help="how links are found: html.parser (default), or a regular expression, the "
                             "cheapest parser there is and a wrong one (comments, scripts, entities)")
    args = parser.parse_args()
    use_link_finder(args.links)
    return args


def use_link_finder(name):
    """Makes extract_links find hrefs with html.parser ("html") or the regular expression ("regex").
    A worker process calls it too (crawl_multiprocessing.py): it may not inherit the choice."""
    global _find_hrefs
    _find_hrefs = _hrefs_by_regex if name == "regex" else _hrefs_by_html_parser


class _LinkCollector(HTMLParser):
    """Collects the href of every <a>. html.parser lower-cases tag and attribute names and
    decodes character references (&amp;) in attribute values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value:
                    self.hrefs.append(value.strip())


def _hrefs_by_html_parser(html):
    collector = _LinkCollector()
    collector.feed(html)
    collector.close()
    return collector.hrefs


_HREF = re.compile(r"""<a\s[^>]*?href\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)


def _hrefs_by_regex(html):
    return [m.group(1) for m in _HREF.finditer(html)]


_find_hrefs = _hrefs_by_html_parser  # use_link_finder may choose the regex


def extract_links(html, page_url, site):
    """The links of an HTML page resolved against page_url, without #fragments, and only those
    on `site` (an origin() tuple): the crawl stays on one scheme, host and port."""
    links = []
    for href in _find_hrefs(html):
        url = urldefrag(urljoin(page_url, href)).url
        if origin(url) == site:
            links.append(url)
    return links


def is_html(content_type):
    return (content_type or "").split(";")[0].strip().lower() == "text/html"


def decode(body, content_type):
    """The body as text, in the charset the Content-Type names (UTF-8 when it names none or one
    Python does not know); bytes that do not decode become U+FFFD rather than an error."""
    charset = "utf-8"
    for param in (content_type or "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def cpu_seconds():
    """The CPU time used so far, user and system, by this process and by its children that have
    ended (a process pool's workers, once the pool is shut down)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def print_cpu(cpu, seconds):
    """How many cores the crawl kept busy, before the report line, as the C++ steps print it:
    cpu: 1.20 s in 1.00 s: 1.20 cores busy. `cpu` is cpu_seconds() since the crawl began."""
    print(f"cpu: {cpu:.2f} s in {seconds:.2f} s: {cpu / seconds if seconds > 0 else 0.0:.2f} cores busy", flush=True)


def print_report(pages, errors, seconds):
    """The last line, in the C++ steps' format, which the tests and `fanout bench` users read:
    pages: 200  errors: 0  seconds: 1.234  pages/s: 162.1"""
    rate = pages / seconds if seconds > 0 else 0.0
    print(f"pages: {pages}  errors: {errors}  seconds: {seconds:.3f}  pages/s: {rate:.1f}", flush=True)


def missing_module(script, module, package):
    """Exits with a message naming the Debian package when an import failed."""
    sys.exit(f"{script}: the Python module '{module}' is missing; install Debian's {package} "
             f"(apt-get install {package}) and run it with /usr/bin/python3")


def links_of_page(body, content_type, page_url, site):
    """decode() then extract_links() in one call, for a worker process (crawl_multiprocessing.py):
    its arguments go to the worker and its result comes back pickled, so it takes and returns
    plain values."""
    return extract_links(decode(body, content_type), page_url, site)
