#!/usr/bin/python3
"""Writes what scripts/tutorial.sh measured into docs/tutorial.md, and checks the prose against it.

The document has four kinds of markers, and this fills them all:
    <!-- output:NAME --> ... <!-- /output:NAME -->   a run's command and output (the median run)
    <!-- code:FILE#REGION --> ... <!-- /code -->      // [tutorial:REGION] of samples/tutorial/FILE
    <!-- value:NAME -->...<!-- /value -->            one figure, from VALUES below
and the side-by-side table (output:compare), made here from the runs.

Every ordering or ratio the prose states is a claim in CLAIMS below, with the figure it rests on
written into the text by a value marker. `check` fails, naming each claim the figures no longer
support: then the prose is wrong, and must be rewritten to what the data says.

    tutorial_doc.py fill WORK DOC OUTPUT [--check] [--save-figures FILE]
        WORK holds NAME.cmd (the command as shown), NAME.1.out ... NAME.N.out (its runs),
        bench.out and bench.json (fanout bench --json), machine.out and settings.json
    tutorial_doc.py check FIGURES     the claims against saved figures (what the tests run)

Exit status: 0; 1 when a claim fails or a marker has nothing to fill it; 2 on bad arguments.
"""

import json
import pathlib
import re
import statistics
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# Figures: what the runs printed, parsed.

REPORT = re.compile(r"pages: (\d+)  errors: (\d+)  seconds: ([0-9.]+)  pages/s: ([0-9.]+)")
# What some steps print before their report line: (regex, names of its groups, as floats).
EXTRAS = [
    (r"threads: (\d+)  stack each: (\d+) KiB", ("threads", "stack_kib")),
    (r"context switches: (\d+) voluntary, (\d+) involuntary", ("voluntary", "involuntary")),
    (r"peak RSS: ([0-9.]+) MB", ("rss_mb",)),
    (r"parse on the loop thread: ([0-9.]+) s in all, longest stall [^:]*: ([0-9.]+) ms", ("parse_s", "stall_ms")),
    (r"epoll wake-ups: (\d+)", ("wakeups",)),
    (r"fetches that blocked the loop thread: (\d+) \(one in (\d+)\), ([0-9.]+) s in all",
     ("blocked", "block_every", "blocked_s")),
    (r"most transfers in flight: (\d+)", ("in_flight_most",)),
    (r"transfers in flight: at most (\d+), ([0-9.]+) on average; pages at the pool: at most (\d+), ([0-9.]+) on average",
     ("in_flight_most", "in_flight_avg", "at_pool_most", "at_pool_avg")),
    (r"cpu: ([0-9.]+) s in [0-9.]+ s: ([0-9.]+) cores busy", ("cpu_s", "cores")),
    (r"parse time on the pool: ([0-9.]+) s, on the loop thread: ([0-9.]+) s", ("pool_parse_s", "loop_parse_s")),
    # fanout crawl's summary instead of a report line
    (r"pages +(\d+) pages fetched", ("pages",)),
    (r"wall time +([0-9.]+) s", ("seconds",)),
    (r"throughput +([0-9.]+) pages/s", ("rate",)),
]


def parse_run(text):
    """The figures of one run's output; {} if it has none."""
    run = {}
    for pattern, names in EXTRAS:
        m = re.search(pattern, text)
        if m:
            run.update({n: float(v) for n, v in zip(names, m.groups())})
    found = REPORT.findall(text)
    if found:
        pages, errors, seconds, rate = found[-1]
        run.update(pages=int(pages), errors=int(errors), seconds=float(seconds), rate=float(rate))
    return run if "rate" in run else {}


def median_index(runs):
    """The index of the median run by pages/s (of an even number, the faster of the middle two)."""
    order = sorted(range(len(runs)), key=lambda i: runs[i]["rate"])
    return order[len(order) // 2]


def collect(work):
    """Every run's figures, the median of each, bench's cells, and the settings of the site."""
    settings = json.loads((work / "settings.json").read_text())
    steps = {}
    for cmd in sorted(work.glob("*.cmd")):
        name = cmd.stem
        runs = []
        for out in sorted(work.glob(name + ".*.out"), key=lambda p: int(p.name.split(".")[-2])):
            run = parse_run(out.read_text())
            if not run:
                sys.exit("tutorial: %s printed no report" % out.name)
            runs.append(run)
        if runs:
            steps[name] = runs
    bench = []
    if (work / "bench.json").exists():
        for c in json.loads((work / "bench.json").read_text())["cells"]:
            r = c["report"]
            bench.append({"mode": c["mode"], "concurrency": c["concurrency"], "pages": r.get("pages", 0),
                          "rate": r.get("pages_per_second", 0.0), "min": c.get("pages_per_second_min", 0.0),
                          "max": c.get("pages_per_second_max", 0.0), "efficiency": c.get("efficiency", 0.0),
                          "cpu_per_1k": c.get("cpu_seconds_per_1000_pages", 0.0),
                          "rss_mb": r.get("peak_rss_kb", 0) / 1024.0,
                          "switches": r.get("voluntary_switches", 0) + r.get("involuntary_switches", 0),
                          "mean_in_flight": r.get("mean_in_flight")})
    return {"settings": settings, "steps": steps, "bench": bench}


class Figures:
    """Questions the values and the claims ask of the figures."""

    def __init__(self, figures):
        self.f = figures
        self.settings = figures["settings"]

    def runs(self, name):
        if name not in self.f["steps"]:
            raise KeyError("no runs of " + name)
        return self.f["steps"][name]

    def median(self, name):
        runs = self.runs(name)
        return runs[median_index(runs)]

    def rate(self, name):
        return self.median(name)["rate"]

    def spread(self, name):
        rates = [r["rate"] for r in self.runs(name)]
        return min(rates), max(rates)

    def x(self, name, key):
        """A figure of the median run of `name` (the one the document shows)."""
        run = self.median(name)
        if key not in run:
            raise KeyError("%s printed no %s" % (name, key))
        return run[key]

    def ratio(self, a, b):
        return self.rate(a) / self.rate(b)

    def cell(self, mode, concurrency=None):
        for c in self.f["bench"]:
            if c["mode"] == mode and c["concurrency"] == concurrency:
                return c
        raise KeyError("no bench row %s at %s" % (mode, concurrency))

    def cores(self, mode, concurrency):
        """How many cores a bench row's crawler kept busy: its CPU time per page times pages/s."""
        c = self.cell(mode, concurrency)
        return c["cpu_per_1k"] / 1000 * c["rate"]

    def ideal(self, concurrency):
        """pages/s if every transfer only waited for the server's latency."""
        return concurrency * 1000.0 / self.settings["latency_ms"]


# ---------------------------------------------------------------------------------------------
# Values: each <!-- value:NAME --> in the document, and how it is written.

def times(v):
    return "%.1fx" % v if v < 10 else "%.0fx" % v


def pct_more(v):
    return "%+.0f%%" % (100 * (v - 1))


VALUES = {
    "runs": lambda F: str(F.settings["runs"]),
    "links": lambda F: str(F.settings["links"]),
    "step1_ms_per_page": lambda F: "%.1f ms" % (1000 / F.rate("step1")),
    "step2_vs_step1": lambda F: times(F.ratio("step2", "step1")),
    "step2_256_vs_step2": lambda F: times(F.ratio("step2_256", "step2")),
    "step2_256_switches_vs_step2": lambda F: times(
        (F.x("step2_256", "voluntary") + F.x("step2_256", "involuntary"))
        / (F.x("step2", "voluntary") + F.x("step2", "involuntary"))),
    "step3_share_of_step2": lambda F: "%.0f%%" % (100 * F.ratio("step3", "step2")),
    "step3_stall_ms": lambda F: "%.0f ms" % F.x("step3", "stall_ms"),
    "step3_heavy_stall_ms": lambda F: "%.0f ms" % F.x("step3_heavy", "stall_ms"),
    "step3_heavy_parse_ms": lambda F: "%.1f ms" % (1000 * F.x("step3_heavy", "parse_s") / F.x("step3_heavy", "pages")),
    "step3_vs_step1": lambda F: times(F.ratio("step3", "step1")),
    "step5_block_every": lambda F: "%d" % F.x("step5_block", "block_every"),
    "step5_block_vs_step5": lambda F: "%.0f%%" % (100 * F.ratio("step5_block", "step5")),
    "step5_blocked_s": lambda F: "%.2f s" % F.x("step5_block", "blocked_s"),
    "step5_blocked_share": lambda F: "%.0f%%" % (100 * F.x("step5_block", "blocked_s") / F.x("step5_block", "seconds")),
    "step5_block_count": lambda F: "%d" % F.x("step5_block", "blocked"),
    "step7_vs_step6": lambda F: pct_more(F.ratio("step7", "step6")),
    "step7_vs_step3": lambda F: pct_more(F.ratio("step7", "step3")),
    "step7_heavy_vs_step3_heavy": lambda F: times(F.ratio("step7_heavy", "step3_heavy")),
    "step2_heavy_vs_step3_heavy": lambda F: times(F.ratio("step2_heavy", "step3_heavy")),
    "step7_heavy_in_flight_most": lambda F: "%d" % F.x("step7_heavy", "in_flight_most"),
    "step7_heavy_in_flight_avg": lambda F: "%.1f" % F.x("step7_heavy", "in_flight_avg"),
    "step7_heavy_at_pool_avg": lambda F: "%.1f" % F.x("step7_heavy", "at_pool_avg"),
    "step7_heavy_cores": lambda F: "%.2f" % F.x("step7_heavy", "cores"),
    "step2_heavy_cores": lambda F: "%.2f" % F.x("step2_heavy", "cores"),
    "step3_heavy_cores": lambda F: "%.2f" % F.x("step3_heavy", "cores"),
    "step7_heavy_cores_vs_step3_heavy": lambda F: times(F.x("step7_heavy", "cores") / F.x("step3_heavy", "cores")),
    "step7_heavy_cpu_ms": lambda F: "%.1f ms" % (1000 * F.x("step7_heavy", "cpu_s") / F.x("step7_heavy", "pages")),
    "step3_heavy_cpu_ms": lambda F: "%.1f ms" % (1000 * F.x("step3_heavy", "cpu_s") / F.x("step3_heavy", "pages")),
    "step7_heavy_transfer_ms": lambda F: "%.1f ms" % (1000 * F.x("step7_heavy", "in_flight_avg")
                                                      * F.x("step7_heavy", "seconds") / F.x("step7_heavy", "pages")),
    "step7_in_flight_avg": lambda F: "%.1f" % F.x("step7", "in_flight_avg"),
    "step7_heavy_pool_busy": lambda F: "%.1f" % (F.x("step7_heavy", "pool_parse_s") / F.x("step7_heavy", "seconds")),
    "step7_heavy_parse_ms": lambda F: "%.1f ms" % (1000 * F.x("step7_heavy", "pool_parse_s") / F.x("step7_heavy", "pages")),
    "python_blocking_vs_step1": lambda F: "%.0f%%" % (100 * F.ratio("python_blocking", "step1")),
    "python_asyncio_vs_step7": lambda F: "%.0f%%" % (100 * F.ratio("python_asyncio", "step7")),
    "python_asyncio_heavy_vs_step7_heavy": lambda F: times(F.ratio("python_asyncio_heavy", "step7_heavy")),
    "python_asyncio_heavy_cpu_ms": lambda F: "%.2f ms" % (1000 * F.x("python_asyncio_heavy", "cpu_s")
                                                          / F.x("python_asyncio_heavy", "pages")),
    "python_mp_heavy_cpu_ms": lambda F: "%.2f ms" % (1000 * F.x("python_multiprocessing_heavy", "cpu_s")
                                                     / F.x("python_multiprocessing_heavy", "pages")),
    "python_mp_heavy_cores": lambda F: "%.2f" % F.x("python_multiprocessing_heavy", "cores"),
    "python_asyncio_heavy_cores": lambda F: "%.2f" % F.x("python_asyncio_heavy", "cores"),
    "python_mp_heavy_vs_asyncio_heavy": lambda F: "%.0f%%" % (100 * F.ratio("python_multiprocessing_heavy",
                                                                           "python_asyncio_heavy")),
    "bench_py16_vs_async16": lambda F: "%.0f%%" % (100 * F.cell("crawl_asyncio.py", 16)["rate"] / F.cell("async", 16)["rate"]),
    "bench_py128_vs_async128": lambda F: "%.0f%%" % (100 * F.cell("crawl_asyncio.py", 128)["rate"] / F.cell("async", 128)["rate"]),
    "bench_py128_cores": lambda F: "%.2f" % F.cores("crawl_asyncio.py", 128),
    "bench_py128_cpu_ms": lambda F: "%.2f ms" % F.cell("crawl_asyncio.py", 128)["cpu_per_1k"],
    "bench_async128_cpu_ms": lambda F: "%.2f ms" % F.cell("async", 128)["cpu_per_1k"],
    "bench_py128_one_core_ceiling": lambda F: "%.0f" % (1000 / F.cell("crawl_asyncio.py", 128)["cpu_per_1k"]),
    "bench_min_efficiency_at_1": lambda F: "%.0f%%" % (100 * min(c["efficiency"] for c in F.f["bench"]
                                                                 if c["concurrency"] == 1 and c["efficiency"] > 0)),
    "bench_async128_in_flight_share": lambda F: "%.0f%%" % (100 * F.cell("async", 128)["mean_in_flight"] / 128),
    "bench_async128_mean_in_flight": lambda F: "%.0f" % F.cell("async", 128)["mean_in_flight"],
    "bench_threads128_cpu_vs_async128": lambda F: times(F.cell("threads", 128)["cpu_per_1k"]
                                                       / F.cell("async", 128)["cpu_per_1k"]),
    "bench_async128_efficiency": lambda F: "%.0f%%" % (100 * F.cell("async", 128)["efficiency"]),
    "bench_py128_efficiency": lambda F: "%.0f%%" % (100 * F.cell("crawl_asyncio.py", 128)["efficiency"]),
    "bench_ideal128": lambda F: "%.0f" % F.ideal(128),
    "bench_threads128_vs_async128": lambda F: "%.0f%%" % (100 * F.cell("threads", 128)["rate"] / F.cell("async", 128)["rate"]),
    "bench_threads128_rss_vs_async128": lambda F: times(F.cell("threads", 128)["rss_mb"] / F.cell("async", 128)["rss_mb"]),
    "bench_threads128_switches_vs_async128": lambda F: times(
        F.cell("threads", 128)["switches"] / F.cell("async", 128)["switches"]),
    "slow_concurrent_min_vs_step1": lambda F: times(min(F.rate(n) for n in SLOW_CONCURRENT) / F.rate("step1")),
    "slow_ceiling": lambda F: "%.0f" % F.ideal(F.settings["concurrency"]),
}

SLOW_CONCURRENT = ["step2", "step3", "step4", "step5", "step6", "step7"]


# ---------------------------------------------------------------------------------------------
# Claims: every ordering and ratio the prose states, in the order the prose states them. The name
# is what a failure prints; the text says which sentence to rewrite when it fails.

CLAIMS = [
    ("step1_is_one_round_trip_a_page", "step 1: about one page per round trip (latency <= ms/page < 1.5 x latency)",
     lambda F: F.settings["latency_ms"] <= 1000 / F.rate("step1") < 1.5 * F.settings["latency_ms"]),
    ("step2_more_than_ten_times_step1", "step 2: 16 threads are more than ten times as fast as step 1, below 16x",
     lambda F: 10 <= F.ratio("step2", "step1") < 16),
    ("step2_256_faster_than_16", "step 2: 256 threads are faster than 16", lambda F: F.ratio("step2_256", "step2") > 1.2),
    ("step2_256_more_switches", "step 2: 256 threads cost several times the context switches of 16",
     lambda F: F.x("step2_256", "voluntary") + F.x("step2_256", "involuntary")
     > 3 * (F.x("step2", "voluntary") + F.x("step2", "involuntary"))),
    ("step3_several_times_step1_below_step2", "step 3: several times step 1's pages/s (> 3x), less than step 2's",
     lambda F: F.ratio("step3", "step1") > 3 and F.ratio("step3", "step2") < 1.0),
    ("step3_heavy_stalls_longer", "step 3: on the heavy site the longest stall is several times the slow site's",
     lambda F: F.x("step3_heavy", "stall_ms") > 3 * F.x("step3", "stall_ms")),
    ("step3_heavy_stall_longer_than_one_parse", "step 3: the longest stall on the heavy site is longer than one "
     "page's parse",
     lambda F: F.x("step3_heavy", "stall_ms") > 1000 * F.x("step3_heavy", "parse_s") / F.x("step3_heavy", "pages")),
    ("step2_256_memory_stays_small", "step 2: 256 threads' peak RSS is far below 256 reserved stacks (< 1/10)",
     lambda F: F.x("step2_256", "rss_mb") < F.x("step2_256", "threads") * F.x("step2_256", "stack_kib") / 1024 / 10),
    ("step5_block_slows_the_crawl", "step 5: --block-every costs the crawl a large share of its pages/s (below 75%)",
     lambda F: F.ratio("step5_block", "step5") < 0.75),
    ("step5_blocked_much_of_the_time", "step 5: the blocking fetches hold the loop for much of the crawl (> 40%)",
     lambda F: F.x("step5_block", "blocked_s") > 0.4 * F.x("step5_block", "seconds")),
    ("step7_faster_than_steps_3_to_6_on_slow_site", "step 7: on the slow site, faster than steps 3 to 6",
     lambda F: F.rate("step7") > max(F.rate(n) for n in ("step3", "step4", "step5", "step6"))),
    ("step7_keeps_16_in_flight_on_slow_site", "step 7: 16 transfers in flight on the slow site",
     lambda F: F.x("step7", "in_flight_most") == F.settings["concurrency"]),
    ("step7_heavy_fewer_in_flight", "step 7: on the heavy site fewer transfers in flight on average than the limit, "
     "the rest of the permits held by pages at the pool",
     lambda F: F.x("step7_heavy", "in_flight_avg") < 0.75 * F.settings["concurrency"]
     and F.x("step7_heavy", "at_pool_avg") > F.x("step7_heavy", "in_flight_avg")),
    ("step7_heavy_at_most_the_first_pages_links", "step 7: on the heavy site, never more transfers in flight than "
     "the first page's links",
     lambda F: F.x("step7_heavy", "in_flight_most") <= F.settings["links"]),
    ("step7_heavy_transfer_shorter_than_parse", "step 7: on the heavy site a transfer takes less time than a parse",
     lambda F: F.x("step7_heavy", "in_flight_avg") * F.x("step7_heavy", "seconds")
     < F.x("step7_heavy", "pool_parse_s")),
    ("step7_heavy_pool_always_parsing", "step 7: the pool's two threads are parsing nearly all the time (>= 1.5 s/s)",
     lambda F: F.x("step7_heavy", "pool_parse_s") / F.x("step7_heavy", "seconds") >= 1.5),
    ("step7_heavy_loop_parses_nothing", "step 7: the loop thread parses nothing",
     lambda F: F.x("step7_heavy", "loop_parse_s") == 0),
    ("heavy_speedup_follows_cores", "heavy site: the speed-up of steps 7 and 2 over step 3 is the ratio of their "
     "cores busy, within 25%",
     lambda F: all(0.75 <= F.ratio(n, "step3_heavy") / (F.x(n, "cores") / F.x("step3_heavy", "cores")) <= 1.25
                   for n in ("step7_heavy", "step2_heavy"))),
    ("heavy_cpu_per_page_alike", "heavy site: a page costs steps 7 and 3 about the same CPU (within 30%)",
     lambda F: 0.7 <= (F.x("step7_heavy", "cpu_s") / F.x("step7_heavy", "pages"))
     / (F.x("step3_heavy", "cpu_s") / F.x("step3_heavy", "pages")) <= 1.3),
    ("python_blocking_like_step1", "Python's blocking crawler is as slow as step 1 (within 15%)",
     lambda F: 0.85 <= F.ratio("python_blocking", "step1") <= 1.15),
    ("python_asyncio_below_step7_at_16", "slow site: Python's asyncio is below step 7 at 16 transfers",
     lambda F: F.ratio("python_asyncio", "step7") < 1.0),
    ("python_asyncio_heavy_fastest", "heavy site: Python's asyncio crawler beats every C++ step",
     lambda F: F.rate("python_asyncio_heavy") > max(F.rate(n) for n in ("step2_heavy", "step3_heavy", "step7_heavy"))),
    ("python_multiprocessing_heavy_not_much_faster", "heavy site: parsing in a process pool is not much faster "
     "than on the loop (below 1.3x)",
     lambda F: F.ratio("python_multiprocessing_heavy", "python_asyncio_heavy") < 1.3),
    ("python_multiprocessing_heavy_costs_more_cpu", "heavy site: the process pool spends more CPU per page",
     lambda F: F.x("python_multiprocessing_heavy", "cpu_s") / F.x("python_multiprocessing_heavy", "pages")
     > F.x("python_asyncio_heavy", "cpu_s") / F.x("python_asyncio_heavy", "pages")),
    ("bench_python_falls_behind_at_128", "bench: at 128, Python's asyncio is below fanout's async (under 70%)",
     lambda F: F.cell("crawl_asyncio.py", 128)["rate"] < 0.7 * F.cell("async", 128)["rate"]),
    ("bench_python_at_most_one_core_at_128", "bench: at 128, Python's crawler uses at most one core",
     lambda F: F.cores("crawl_asyncio.py", 128) <= 1.05),
    ("bench_python_one_core_ceiling_below_async", "bench: one core's worth of Python's CPU per page is below "
     "fanout's async pages/s at 128",
     lambda F: 1000 / F.cell("crawl_asyncio.py", 128)["cpu_per_1k"] < F.cell("async", 128)["rate"]),
    ("bench_python_more_cpu_per_page", "bench: Python spends several times fanout's CPU per page at 128 (> 2x)",
     lambda F: F.cell("crawl_asyncio.py", 128)["cpu_per_1k"] > 2 * F.cell("async", 128)["cpu_per_1k"]),
    ("bench_async128_short_of_transfers", "bench: at 128, fanout's async has on average fewer than 3/4 of its "
     "slots in flight, and its efficiency is no more than that share (+20%)",
     lambda F: F.cell("async", 128)["mean_in_flight"] < 0.75 * 128
     and F.cell("async", 128)["efficiency"] <= 1.2 * F.cell("async", 128)["mean_in_flight"] / 128),
    ("bench_py_falls_further_at_128", "bench: Python's share of fanout's async pages/s is lower at 128 than at 16",
     lambda F: F.cell("crawl_asyncio.py", 128)["rate"] / F.cell("async", 128)["rate"]
     < F.cell("crawl_asyncio.py", 16)["rate"] / F.cell("async", 16)["rate"]),
    ("bench_most_of_the_ideal_at_1", "bench: at 1 transfer every crawler gets most of the ideal (>= 60%)",
     lambda F: all(c["efficiency"] >= 0.6 for c in F.f["bench"] if c["concurrency"] == 1 and c["efficiency"] > 0)),
    ("bench_low_efficiency_at_128", "bench: at 128 every crawler is far below the latency-bound ideal (< 50%)",
     lambda F: all(F.cell(m, 128)["efficiency"] < 0.5 for m in ("async", "threads", "crawl_asyncio.py"))),
    ("bench_threads_slower_at_128", "bench: at 128, threads are slower than async",
     lambda F: F.cell("threads", 128)["rate"] < F.cell("async", 128)["rate"]),
    ("bench_threads_more_cpu_per_page_at_128", "bench: at 128, threads spend more CPU per page than async (> 1.3x)",
     lambda F: F.cell("threads", 128)["cpu_per_1k"] > 1.3 * F.cell("async", 128)["cpu_per_1k"]),
    ("bench_threads_more_switches_at_128", "bench: at 128, threads make more context switches than async",
     lambda F: F.cell("threads", 128)["switches"] > 1.5 * F.cell("async", 128)["switches"]),
    ("bench_threads_more_memory_at_128", "bench: at 128, threads use more memory than async",
     lambda F: F.cell("threads", 128)["rss_mb"] > F.cell("async", 128)["rss_mb"]),
    ("concurrent_steps_several_times_step1", "summary: every concurrent step on the slow site is several "
     "times as fast as step 1 (> 3x)",
     lambda F: min(F.rate(n) for n in SLOW_CONCURRENT) > 3 * F.rate("step1")),
    ("parse_elsewhere_closest_to_ceiling", "summary: steps 2 and 7 (parse elsewhere) beat steps 3 to 6 (parse on the loop)",
     lambda F: min(F.rate("step2"), F.rate("step7")) > max(F.rate(n) for n in ("step3", "step4", "step5", "step6"))),
    ("below_the_ceiling", "summary: no step at 16 passes the ceiling of 16 / latency",
     lambda F: max(F.rate(n) for n in SLOW_CONCURRENT) < F.ideal(F.settings["concurrency"])),
]


def check(figures):
    """The names and texts of the claims the figures do not support (a claim that cannot be
    evaluated, for want of a figure, fails too)."""
    F = Figures(figures)
    failed = []
    for name, text, holds in CLAIMS:
        try:
            ok = bool(holds(F))
        except (KeyError, ZeroDivisionError) as e:
            ok, text = False, "%s (%s)" % (text, e)
        if not ok:
            failed.append((name, text))
    return failed


def report_failures(failed):
    for name, text in failed:
        print("tutorial: claim %s does not hold: %s" % (name, text), file=sys.stderr)
    if failed:
        print("tutorial: the prose states what these figures do not support: rewrite it to what they say",
              file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# The document.

# The side-by-side table: (run, site, what, concurrency).
COMPARE = [("step1", "slow", "1 blocking fetch at a time", 1), ("step2", "slow", "2 threads", 16),
           ("step2_256", "slow", "2 threads", 256), ("step3", "slow", "3 curl multi, one thread", 16),
           ("step4", "slow", "4 epoll event loop", 16), ("step5", "slow", "5 coroutines", 16),
           ("step5_block", "slow", "5 ... one fetch in N blocks", 16),
           ("step6", "slow", "6 semaphores", 16), ("step7", "slow", "7 thread pool", 16),
           ("python_blocking", "slow", "Python, requests", 1),
           ("python_asyncio", "slow", "Python, asyncio + aiohttp", 16),
           ("step2_heavy", "heavy", "2 threads", 16), ("step3_heavy", "heavy", "3 curl multi, one thread", 16),
           ("step7_heavy", "heavy", "7 thread pool", 16),
           ("python_asyncio_heavy", "heavy", "Python, asyncio + aiohttp", 16),
           ("python_multiprocessing_heavy", "heavy", "Python, + process pool", 16)]


def compare_table(F):
    lines = ["%-6s %-29s %5s %6s %9s %15s %9s" % ("site", "step", "conc", "pages", "pages/s", "min-max", "vs step 1")]
    step1 = F.rate("step1")
    for name, site, what, conc in COMPARE:
        if name not in F.f["steps"]:
            continue
        m = F.median(name)
        lo, hi = F.spread(name)
        if name == "step5_block":
            what = what.replace("N", "%d" % m["block_every"])
        versus = times(m["rate"] / step1) if site == "slow" else "-"
        lines.append("%-6s %-29s %5d %6d %9.1f %15s %9s" % (site, what, conc, m["pages"], m["rate"],
                                                             "%.1f-%.1f" % (lo, hi), versus))
    return "\n".join(lines) + "\n(pages/s: the median of %d runs; min-max: the slowest and fastest of them)" % (
        F.settings["runs"])


def shown_output(work, F, name):
    """What the document shows of a run: its command, the median run's output, and every run's pages/s."""
    runs = F.runs(name)
    i = median_index(runs)
    text = (work / (name + ".cmd")).read_text().rstrip("\n") + "\n"
    text += (work / ("%s.%d.out" % (name, i + 1))).read_text().rstrip("\n")
    if len(runs) > 1:
        rates = ", ".join("%.1f" % r["rate"] for r in runs)
        text += "\n# %d runs, pages/s: %s; shown: the median, %.1f" % (len(runs), rates, runs[i]["rate"])
    return text


def fill(work, doc_path, out_path, figures):
    F = Figures(figures)
    doc = doc_path.read_text()
    missing = []

    def output(m):
        name = m.group(1)
        if name == "compare":
            text = compare_table(F)
        elif name in figures["steps"]:
            text = shown_output(work, F, name)
        elif (work / (name + ".out")).exists():
            text = (work / (name + ".out")).read_text().rstrip()
        else:
            missing.append("output:" + name)
            return m.group(0)
        return "<!-- output:%s -->\n```\n%s\n```\n<!-- /output:%s -->" % (name, text.rstrip(), name)

    def code(m):
        file, region = m.group(1), m.group(2)
        src = ROOT / "samples" / "tutorial" / file
        text = src.read_text() if src.exists() else ""
        r = re.search(r"^[ \t]*// \[tutorial:%s\]\n(.*?)^[ \t]*// \[/tutorial:%s\]" % (re.escape(region), re.escape(region)),
                      text, re.S | re.M)
        if not r:
            missing.append("code:%s#%s" % (file, region))
            return m.group(0)
        lines = r.group(1).rstrip("\n").split("\n")
        # A class's " private:" sits a space left of its members: it does not set the indent.
        access = re.compile(r"^\s*(public|private|protected):$")
        indent = min((len(l) - len(l.lstrip()) for l in lines if l.strip() and not access.match(l)), default=0)
        body = "\n".join(l[min(indent, len(l) - len(l.lstrip())):] for l in lines)
        return "<!-- code:%s#%s -->\n```cpp\n%s\n```\n<!-- /code -->" % (file, region, body)

    def value(m):
        name = m.group(1)
        try:
            return "<!-- value:%s -->%s<!-- /value -->" % (name, VALUES[name](F))
        except (KeyError, ZeroDivisionError) as e:
            missing.append("value:%s (%s)" % (name, e))
            return m.group(0)

    doc = re.sub(r"<!-- output:([\w-]+) -->.*?<!-- /output:\1 -->", output, doc, flags=re.S)
    doc = re.sub(r"<!-- code:([\w.]+)#([\w-]+) -->.*?<!-- /code -->", code, doc, flags=re.S)
    doc = re.sub(r"<!-- value:([\w-]+) -->.*?<!-- /value -->", value, doc, flags=re.S)
    if missing:
        sys.exit("tutorial: nothing to put in " + ", ".join(missing))
    out_path.write_text(doc)
    print("tutorial: wrote", out_path)


def main(argv):
    if len(argv) >= 4 and argv[0] == "fill":
        work, doc, out = pathlib.Path(argv[1]), pathlib.Path(argv[2]), pathlib.Path(argv[3])
        rest = argv[4:]
        do_check = "--check" in rest
        figures = collect(work)
        if "--save-figures" in rest:
            pathlib.Path(rest[rest.index("--save-figures") + 1]).write_text(json.dumps(figures, indent=1) + "\n")
        fill(work, doc, out, figures)
        if do_check:
            failed = check(figures)
            report_failures(failed)
            if failed:
                return 1
            print("tutorial: all %d claims hold" % len(CLAIMS))
        return 0
    if len(argv) == 2 and argv[0] == "check":
        failed = check(json.loads(pathlib.Path(argv[1]).read_text()))
        report_failures(failed)
        if failed:
            return 1
        print("tutorial: all %d claims hold" % len(CLAIMS))
        return 0
    print("usage: tutorial_doc.py fill WORK DOC OUTPUT [--check] [--save-figures FILE] | check FIGURES",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
