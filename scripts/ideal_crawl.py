#!/usr/bin/python3
"""The wall time of an ideal crawl of a `fanout serve` web, for benchmarks to compare against.

Usage: /usr/bin/python3 scripts/ideal_crawl.py URL [--connect ADDR[,ADDR...]] [--max-pages N]
           [--concurrency C] [--per-host N] [--delay D] [--per-ip N] [--ip-delay S] [--ips K]
           [--latency L] [--workers W] [--timeout S]

1. Discovery. Starting at URL (the first line `fanout serve --synthetic P --hosts N` prints; serve
   it at zero latency if you can, this step does not measure anything), a breadth-first walk
   fetches each host's /robots.txt and then every page a crawler that obeys it may fetch, at most
   --max-pages. Links come from a regex over <a href>, resolved against the page's URL, fragments
   dropped, scheme and host lower-cased, dot segments removed; a redirect's only link is its
   Location. Only http URLs on the URL's port are followed, whose host is the URL's own or one of
   the web's: any *.localhost name for a *.localhost URL, hK.D (K a number) for a URL on hK.D.
   No name is ever resolved: every request goes to the one web server given, with the Host header
   set (urllib's opener would ask the system resolver, which need not know the names). Where:
   *.localhost and loopback literals go to their loopback address (127.0.0.1 for the names); any
   other name needs --connect, the web's addresses: loopback, or the web lab's private
   10.204.0.0/24 (scripts/weblab.sh; run this in its crawler namespace with `weblab.sh exec`),
   reached only on a directly connected network: connections never go through a gateway
   (SO_DONTROUTE), so outside the lab they fail rather than leave the machine. Given several (the
   lab's WEB_ADDRESSES), host hK.D is asked on the (K mod count)-th, where `fanout serve --ips`
   serves it; given one, it takes every request (answers 421 are counted in a warning).

2. Simulation. A discrete-event simulation of the ideal crawl of that graph: every request takes
   --latency seconds and processing takes none; at most --concurrency requests at once, at most
   --per-host to one host, and two requests to one host start at least max(--delay, the host's
   Crawl-delay) seconds apart. Hosts share addresses as `fanout serve --ips K` places them (host
   hI.D on address I mod K; any other host on the first; K is --ips, by default the number of
   --connect addresses, else 1): at most --per-ip requests at once to one address (0: no limit)
   and two requests to one address start at least --ip-delay seconds apart, robots.txt included;
   names resolve at no cost. A host's robots.txt is its first request; its pages wait for the
   answer and for the delay after it. A page's links are known when its fetch completes, and
   whenever a transfer slot is free the request started is the oldest-discovered one whose host
   and address may go now. robots.txt answering 4xx allows all; 5xx (or no answer) closes the host.

It prints one line, `ideal_seconds X pages N hosts H`: the time the last request ends, the page
requests made (robots.txt not counted; redirects and errors counted), and the hosts contacted.

Exit codes: 0 done; 1 the server could not be read; 2 usage error (including a URL that is not
http, or whose server is not on loopback or the lab's addresses).
"""

import argparse
import collections
import concurrent.futures
import heapq
import html
import http.client
import ipaddress
import re
import socket
import sys
import threading
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

HREF = re.compile(r"""<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


class Fatal(Exception):
    """An error the script ends on, with its exit code."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


# --- URLs -----------------------------------------------------------------------------------


def remove_dot_segments(path):
    """RFC 3986 5.2.4: urljoin leaves them in a href that is already absolute."""
    out = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    if path.split("/")[-1] in (".", ".."):
        out.append("")
    return "/" + "/".join(out)


def normalize(base, href):
    """The absolute, normalised URL of `href` on page `base`, or None for other schemes."""
    try:
        url, _ = urldefrag(urljoin(base, html.unescape(href.strip())))
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = "[" + host + "]"
    default = 80 if parts.scheme == "http" else 443
    netloc = host if port in (None, default) else "%s:%d" % (host, port)
    return urlunsplit((parts.scheme, netloc, remove_dot_segments(parts.path or "/"), parts.query, ""))


# The web lab's LAN (scripts/weblab.sh): private addresses that exist only inside its namespaces.
# (Not its IPv6 fd00:204::/64: Linux's IPv6 ignores SO_DONTROUTE, below.)
LAB_NETWORKS = (ipaddress.ip_network("10.204.0.0/24"),)
WEB_HOST = re.compile(r"h([0-9]+)\.(.+)")


def host_number(host):
    """K of a web host hK.D, or None."""
    match = WEB_HOST.fullmatch(host)
    return int(match.group(1)) if match else None


def allowed_address(text):
    """The address `text` names if it is loopback or the lab's, else None."""
    try:
        ip = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    return str(ip) if ip.is_loopback or any(ip in net for net in LAB_NETWORKS) else None


class Scope:
    """Which URLs may be fetched, and the addresses of the one server they are fetched from."""

    def __init__(self, url, connect=None):
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise Fatal("%s is not an http:// URL" % url, 2)
        self.host = parts.hostname.lower()
        self.port = parts.port or 80
        self.localhost = self.host == "localhost" or self.host.endswith(".localhost")
        try:
            literal = ipaddress.ip_address(self.host)
        except ValueError:
            literal = None
        if connect:
            self.addresses = []
            for text in connect:
                address = allowed_address(text)
                if address is None:
                    raise Fatal("--connect %s is neither loopback nor the web lab's (10.204.0.0/24)"
                                % text, 2)
                self.addresses.append(address)
        elif self.localhost:
            self.addresses = ["127.0.0.1"]  # RFC 6761: *.localhost is loopback, as curl resolves it
        elif literal is not None:
            if allowed_address(self.host) is None:
                raise Fatal("%s is not a loopback address (nor the web lab's)" % self.host, 2)
            self.addresses = [str(literal)]
        else:
            raise Fatal("%s is not a loopback host (use 127.0.0.1 or hK.localhost, or give the web's address "
                        "with --connect)" % self.host, 2)
        # The web's other hosts: any *.localhost name, or hK.D beside hJ.D.
        match = WEB_HOST.fullmatch(self.host)
        self.domain = match.group(2) if match and not self.localhost and literal is None else None

    def allows(self, url):
        parts = urlsplit(url)
        if parts.scheme != "http" or (parts.port or 80) != self.port:
            return False
        host = parts.hostname or ""
        if host == self.host:
            return True
        if self.localhost:
            return host == "localhost" or host.endswith(".localhost")
        if self.domain is not None:
            match = WEB_HOST.fullmatch(host)
            return match is not None and match.group(2) == self.domain
        return False

    def address_of(self, host):
        """Where `host`'s requests go: as `fanout serve --ips` places hK on the K-th address (mod)."""
        number = host_number(host) if len(self.addresses) > 1 else None
        return self.addresses[0] if number is None else self.addresses[number % len(self.addresses)]


def origin_of(url):
    parts = urlsplit(url)
    return parts.scheme + "://" + parts.netloc


def path_of(url):
    parts = urlsplit(url)
    return (parts.path or "/") + ("?" + parts.query if parts.query else "")


# --- robots.txt -----------------------------------------------------------------------------


class Robots:
    """The rules of the `User-agent: *` group (RFC 9309): longest match wins, Allow on a tie."""

    def __init__(self, status, text=""):
        self.status = status
        self.rules = []  # (pattern length, allow, regex)
        self.crawl_delay = 0.0
        self.closed = status == 0 or status >= 500
        if 200 <= status < 300:
            self._parse(text)

    def _parse(self, text):
        agents, in_rules, ours = [], False, False
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if ":" not in line:
                continue
            key, value = (s.strip() for s in line.split(":", 1))
            key = key.lower()
            if key == "user-agent":
                if in_rules:
                    agents, in_rules = [], False
                agents.append(value.lower())
                ours = "*" in agents
            elif key in ("allow", "disallow"):
                in_rules = True
                if ours and value:
                    regex = re.compile("".join(".*" if c == "*" else "$" if c == "$" else re.escape(c)
                                               for c in value))
                    self.rules.append((len(value), key == "allow", regex))
            elif key == "crawl-delay":
                in_rules = True
                if ours:
                    try:
                        self.crawl_delay = max(0.0, float(value))
                    except ValueError:
                        pass

    def allowed(self, path):
        if self.closed:
            return False
        best = None
        for length, allow, regex in self.rules:
            if regex.match(path) and (best is None or length > best[0] or (length == best[0] and allow)):
                best = (length, allow)
        return best is None or best[1]


# --- Discovery ------------------------------------------------------------------------------


class OnLinkConnection(http.client.HTTPConnection):
    """An HTTP connection that never goes through a gateway (SO_DONTROUTE): the lab's 10.204.0.x is
    reached inside the lab's namespaces, and outside them, where the default route would carry it to
    some other machine, the connection fails (network unreachable) instead. IPv4 only: Linux's IPv6
    ignores the flag, which is why no IPv6 address but ::1 is allowed."""

    def connect(self):
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_DONTROUTE, 1)
            sock.settimeout(self.timeout)
            sock.connect((self.host, self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class Fetcher:
    """GETs over one kept-alive connection per thread and address, all to the scope's server."""

    def __init__(self, scope, timeout):
        self.scope, self.timeout = scope, timeout
        self.local = threading.local()
        self.misdirected = 0  # 421s: a host asked on an address that does not serve it

    def get(self, url):
        """(status, Location or None, body) of a GET; redirects are not followed."""
        parts = urlsplit(url)
        address = self.scope.address_of(parts.hostname or "")
        if not hasattr(self.local, "conns"):
            self.local.conns = {}
        for attempt in (1, 2):  # once more on a fresh connection, should the kept one have closed
            conn = self.local.conns.get(address)
            if conn is None:
                conn = self.local.conns[address] = OnLinkConnection(address, self.scope.port, timeout=self.timeout)
            try:
                conn.request("GET", path_of(url), headers={"Host": parts.netloc, "User-Agent": "ideal-crawl"})
                response = conn.getresponse()
                body = response.read()
                if response.status == 421:
                    self.misdirected += 1  # a race between threads at worst miscounts a warning
                return response.status, response.getheader("Location"), body.decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                del self.local.conns[address]
                if attempt == 2:
                    raise Fatal("cannot read %s from %s port %d: %s" % (url, address, self.scope.port, e))
        return None


def discover(start, scope, fetcher, max_pages, workers):
    """The crawlable graph from `start`: {url: [links]} (None: not fetched), robots by origin."""
    start = normalize(start, start)
    graph, robots = {start: None}, {}
    level, fetched = [start], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        while level and fetched < max_pages:
            new_origins = sorted({origin_of(u) for u in level} - robots.keys())
            for origin, (status, _, body) in zip(new_origins,
                                                 pool.map(lambda o: fetcher.get(o + "/robots.txt"), new_origins)):
                robots[origin] = Robots(status, body)
            level = [u for u in level if robots[origin_of(u)].allowed(path_of(u))][: max_pages - fetched]
            fetched += len(level)
            following = []
            for url, (status, location, body) in zip(level, pool.map(fetcher.get, level)):
                if 300 <= status < 400 and location:
                    hrefs = [location]
                elif status == 200:
                    hrefs = [next(g for g in m.groups() if g is not None) for m in HREF.finditer(body)]
                else:
                    hrefs = []
                links = []
                for href in hrefs:
                    target = normalize(url, href)
                    if target is None or not scope.allows(target):
                        continue
                    links.append(target)
                    if target not in graph:
                        graph[target] = None
                        following.append(target)
                graph[url] = links
            level = following
    return graph, robots


# --- Simulation -----------------------------------------------------------------------------


class Host:
    __slots__ = ("queue", "robots", "robots_state", "in_flight", "next_start", "delay", "queued", "address")

    def __init__(self, delay, address):
        self.queue = collections.deque()  # (discovery order, url)
        self.robots = None
        self.robots_state = 0             # 0 not asked, 1 asked, 2 answered
        self.in_flight = 0
        self.next_start = 0.0
        self.delay = delay
        self.queued = False               # in the ready or the wake heap, or parked on its address
        self.address = address


class Address:
    __slots__ = ("in_flight", "next_start", "parked")

    def __init__(self):
        self.in_flight = 0
        self.next_start = 0.0
        self.parked = []                  # origins of hosts waiting for a transfer here to end


def address_index(origin, ips):
    """The address `fanout serve --ips` serves the origin's host on: hI on I mod K, others on 0."""
    number = host_number(urlsplit(origin).hostname or "")
    return 0 if number is None else number % ips


def simulate(start, graph, robots, concurrency, per_host, delay, latency, max_pages, per_ip=0, ip_delay=0.0, ips=1):
    """(seconds, pages, hosts) of the greedy ideal crawl; see the module's comment."""
    start = normalize(start, start)
    hosts, addresses, seen, order = {}, {}, {start}, [0]
    ready, wake, done = [], [], []  # (order of the host's oldest URL, origin); (time, origin); (time, seq, origin, url)
    in_flight, pages_started, seq, now, last_end = 0, 0, 0, 0.0, 0.0

    def address_full(address):
        return per_ip > 0 and address.in_flight >= per_ip

    def offer(origin, host):
        """Puts a host with work on the ready or the wake heap, or parks it on its busy address,
        unless it is on one already."""
        while host.robots_state == 2 and host.queue and not host.robots.allowed(path_of(host.queue[0][1])):
            host.queue.popleft()  # robots.txt refuses it: no request is made
        if host.queued or not host.queue or host.robots_state == 1 or host.in_flight >= per_host:
            return
        if pages_started >= max_pages:
            return  # the budget is spent: no page, and no robots.txt for pages never fetched
        host.queued = True
        if address_full(host.address):
            host.address.parked.append(origin)  # offered again when a transfer there ends
            return
        go = max(host.next_start, host.address.next_start)
        if go > now:
            heapq.heappush(wake, (go, origin))
        else:
            heapq.heappush(ready, (host.queue[0][0], origin))

    def discovered(url):
        origin = origin_of(url)
        host = hosts.get(origin)
        if host is None:
            index = address_index(origin, ips)
            if index not in addresses:
                addresses[index] = Address()
            host = hosts[origin] = Host(delay, addresses[index])
        order[0] += 1
        host.queue.append((order[0], url))
        offer(origin, host)

    discovered(start)
    while True:
        while wake and wake[0][0] <= now:
            _, origin = heapq.heappop(wake)
            hosts[origin].queued = False
            offer(origin, hosts[origin])
        while in_flight < concurrency and ready:
            _, origin = heapq.heappop(ready)
            host = hosts[origin]
            address = host.address
            host.queued = False
            if (not host.queue or host.in_flight >= per_host or host.robots_state == 1
                    or max(host.next_start, address.next_start) > now or address_full(address)):
                offer(origin, host)
                continue
            if pages_started >= max_pages:
                continue
            if host.robots_state == 0:
                host.robots_state, url = 1, None
            else:
                _, url = host.queue.popleft()
                pages_started += 1
            host.in_flight += 1
            host.next_start = now + host.delay
            address.in_flight += 1
            address.next_start = now + ip_delay
            in_flight += 1
            seq += 1
            heapq.heappush(done, (now + latency, seq, origin, url))
            offer(origin, host)
        # The next thing to happen: a transfer ends, or a waiting host may go while a slot is free.
        candidates = [done[0][0]] if done else []
        if wake and in_flight < concurrency:
            candidates.append(wake[0][0])
        if not candidates:
            break
        now = min(candidates)
        while done and done[0][0] <= now:
            end, _, origin, url = heapq.heappop(done)
            last_end = max(last_end, end)
            host = hosts[origin]
            host.in_flight -= 1
            host.address.in_flight -= 1
            in_flight -= 1
            if url is None:
                host.robots = robots.get(origin) or Robots(404)
                host.robots_state = 2
                host.delay = max(delay, host.robots.crawl_delay)
                # The delay counts from the start of robots.txt, which may have been raised by it.
                host.next_start = max(now, end - latency + host.delay)
                if host.robots.closed:
                    host.queue.clear()
            else:
                for target in graph.get(url) or ():
                    if target not in seen:
                        seen.add(target)
                        discovered(target)
            offer(origin, host)
            parked, host.address.parked = host.address.parked, []
            for other in parked:
                hosts[other].queued = False
                offer(other, hosts[other])
    contacted = sum(1 for h in hosts.values() if h.robots_state)
    return last_end, pages_started, contacted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the first line `fanout serve --hosts N` prints (at zero latency)")
    parser.add_argument("--connect", metavar="ADDR[,ADDR...]",
                        help="the web's addresses (loopback or the web lab's): hK.D is asked on the (K mod count)-th")
    parser.add_argument("--max-pages", type=int, default=1_000_000, help="pages to read at most (default 1000000)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests at once (default 16)")
    parser.add_argument("--per-host", type=int, default=1, help="requests at once to one host (default 1)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between two starts on one host (default 0)")
    parser.add_argument("--per-ip", type=int, default=0, help="requests at once to one address (default 0: no limit)")
    parser.add_argument("--ip-delay", type=float, default=0.0,
                        help="seconds between two starts on one address (default 0)")
    parser.add_argument("--ips", type=int, default=None,
                        help="addresses the hosts share, hI on I mod K (default: the --connect addresses, else 1)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds a request takes (default 0.05)")
    parser.add_argument("--workers", type=int, default=4, help="connections used for discovery (default 4)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for one request (default 30)")
    args = parser.parse_args()
    for name in ("max_pages", "concurrency", "per_host", "workers"):
        if getattr(args, name) < 1:
            parser.error("--%s must be at least 1" % name.replace("_", "-"))
    for name in ("delay", "latency", "per_ip", "ip_delay"):
        if getattr(args, name) < 0:
            parser.error("--%s must not be negative" % name.replace("_", "-"))
    if args.ips is not None and args.ips < 1:
        parser.error("--ips must be at least 1")
    connect = [a for a in (args.connect or "").split(",") if a]
    try:
        scope = Scope(args.url, connect)
        if not scope.allows(normalize(args.url, args.url) or ""):
            raise Fatal("%s is not an http:// URL on a loopback host" % args.url, 2)
        fetcher = Fetcher(scope, args.timeout)
        graph, robots = discover(args.url, scope, fetcher, args.max_pages, args.workers)
    except Fatal as e:
        print("ideal_crawl.py: %s" % e, file=sys.stderr)
        return e.code
    if fetcher.misdirected:
        print("ideal_crawl.py: warning: %d answers were 421 (Misdirected Request): the web serves those hosts on "
              "other addresses; give them all with --connect" % fetcher.misdirected, file=sys.stderr)
    fetched = sum(1 for links in graph.values() if links is not None)
    print("ideal_crawl.py: read %d pages on %d hosts (%d URLs known)" % (fetched, len(robots), len(graph)),
          file=sys.stderr)
    ips = args.ips if args.ips is not None else max(1, len(connect))
    seconds, pages, hosts = simulate(args.url, graph, robots, args.concurrency, args.per_host, args.delay,
                                     args.latency, args.max_pages, args.per_ip, args.ip_delay, ips)
    print("ideal_seconds %.3f pages %d hosts %d" % (seconds, pages, hosts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
