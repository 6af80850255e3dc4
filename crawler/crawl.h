// Crawl: the async crawl of a site, from seeds to rows in the store.
//
// One event loop runs everything that waits: a dispatcher takes a page slot (bounding the pages in
// memory: the transfers plus a short backlog for the parser) and a permit of --concurrency, pops
// the next URL (breadth-first) and spawns a page task; the page task takes a permit of the URL's
// host (--per-host), fetches (co_await), gives both permits back, then parses on the thread pool
// and offers the page's links to the frontier, and hands the page to the store, again through the
// pool (the loop thread never parses or touches SQLite). The crawl ends when the frontier is empty
// and no page is in progress, or --max-pages pages have been fetched.
//
// Threads: Crawl() blocks the calling thread, which becomes the loop thread for its duration.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crawler/crawl_control.h"
#include "crawler/frontier.h"
#include "storage/run_state.h"
#include "crawler/seen_filter.h"
#include "storage/store.h"
#include "util/result.h"

namespace fanout {

struct CrawlOptions {
  std::vector<std::string> seeds = {};
  size_t concurrency = 64;       // transfers in flight at most
  size_t per_host = 8;           // transfers in flight to one host:port at most
  size_t threads = 0;            // pool threads; 0: the number of cores
  int64_t max_pages = 0;         // pages fetched at most; 0: no limit
  int max_depth = -1;            // link depth from the seeds; -1: no limit
  ScopeOptions scope = {};
  std::string user_agent = {};      // "" means "fanout/VERSION"
  long timeout_ms = 30000;
  long connect_timeout_ms = 10000;
  long low_speed_bytes = 100;     // a transfer slower than this many bytes/s...
  long low_speed_seconds = 20;    // ...for this long is cut as a timeout (0: never)
  size_t max_bytes = 10 << 20;   // body cap
  long max_redirects = 10;       // hops the crawler follows per URL
  bool follow_nofollow = false;  // follow rel=nofollow links and links of meta-nofollow pages
  size_t max_url_length = 2048;  // longer links are not followed ("too_long")
  // Retries after failures that may pass (see retry.h): at most `retries` more attempts, waiting
  // retry_delay, 2x, 4x... seconds with 20% jitter, or longer when Retry-After asks (at most max_retry_wait).
  int retries = 2;
  double retry_delay = 1.0;
  double max_retry_wait = 60;
  // Politeness: seconds between the starts of two requests to one host (each drawn from
  // delay x [1 - delay_jitter, 1 + delay_jitter]); robots.txt's Crawl-delay raises it, to max_delay at most.
  double delay = 0;
  double delay_jitter = 0;
  double max_delay = 30;
  bool ignore_robots = false;    // do not fetch or obey robots.txt
  bool sitemaps = false;         // also queue what the seeds' origins list in their sitemaps
  // Queued URLs held in memory at most; more wait in the database (see frontier.h). 0: no limit.
  size_t frontier_window = 50000;
  // The memory of URLs seen (seen_filter.h): smaller means more links settled by the store.
  SeenFilterOptions seen_filter = {};
  // Continue this unfinished run instead of beginning one (--resume; see run_state.h). Its seeds
  // are the crawl's; --max-pages counts its pages too.
  std::shared_ptr<const RunState> resume = nullptr;
  std::string mode = "async";    // async (the engine), threads or sync: see crawl_blocking.h
};

struct CrawlProgress {
  int64_t pages = 0;
  int64_t errors = 0;
  size_t in_flight = 0;
  size_t queued = 0;
  double elapsed_seconds = 0;
};

// Seconds summed over the run's pages, phase by phase: where the time went. parse is CPU time;
// store is each page's wait for room in the store's queue plus the writer's time inserting it.
struct PhaseSeconds {
  double queue_wait = 0, dns = 0, connect = 0, tls = 0, first_byte = 0, transfer = 0, parse = 0, store = 0;
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0;
};

struct CrawlSummary {
  int64_t run_id = 0;
  std::string mode;
  int64_t pages = 0;             // fetched (attempted), each a row in pages
  int64_t ok_pages = 0;          // answered 2xx
  int64_t parsed_pages = 0;      // HTML pages parsed for links
  int64_t errors = 0;            // pages with an error kind
  std::map<std::string, int64_t> errors_by_kind;
  int64_t bytes = 0;             // body bytes received
  int64_t links = 0;             // links found (rows in links)
  std::map<std::string, int64_t> skipped_by_reason;  // links and URLs not followed or fetched, by reason
  int64_t retries = 0;           // transfers repeated after a failure that may pass
  int64_t robots_fetched = 0;    // robots.txt files fetched (one per origin)
  int64_t robots_refused_origins = 0;  // ... that answered 5xx or not at all: the origin is not crawled
  bool robots_ignored = false;   // --ignore-robots
  bool interrupted = false;      // stopped by CrawlControl (Ctrl-C): the run may be resumed
  int64_t dropped = 0;           // transfers cut by an abort, not stored (a resume fetches them)
  int64_t pages_before = 0;      // pages of the run stored before this resume
  int64_t sitemaps_fetched = 0;  // --sitemaps: sitemap files fetched,
  int64_t sitemaps_failed = 0;   // ... of which unavailable or unreadable,
  int64_t sitemap_urls = 0;      // ... the page URLs they listed,
  int64_t sitemap_queued = 0;    // ... and those the frontier took (in scope, new)
  size_t queued_left = 0;        // still in the frontier (--max-pages stopped the crawl)
  size_t max_queued_on_disk = 0; // the most queued URLs waiting in the database at once
  int64_t frontier_refills = 0;  // reads of those back into memory
  double wall_seconds = 0;
  double pages_per_second = 0;
  double bytes_per_second = 0;   // body bytes received / wall
  size_t concurrency = 0;
  size_t per_host = 0;
  size_t max_in_flight = 0;      // the most transfers at once
  size_t max_pages_in_progress = 0;  // the most pages between dispatch and the store (bodies held)
  size_t page_slots = 0;         // the bound on that: --concurrency plus the parser's backlog
  double mean_in_flight = 0;     // time-weighted, over the whole crawl
  double saturated_seconds = 0;  // time during which the frontier held at least --concurrency URLs
  double saturated_mean_in_flight = 0;  // mean in flight during that time: ideally --concurrency
  double mean_parse_seconds = 0; // CPU time per parsed page, on a pool thread
  bool per_host_bound = false;   // the per-host limit, not --concurrency, capped the fan-out
  double loop_busy_fraction = 0; // loop thread's time outside epoll_wait / wall
  double pool_busy_fraction = 0; // pool threads' busy time / (threads x wall)
  size_t threads = 0;
  double store_busy_fraction = 0;  // the store's writer thread: time writing batches / wall
  int64_t store_batches = 0;       // transactions committed for this run's pages
  uint64_t task_errors = 0;      // page tasks that threw (a bug if ever non-zero)

  PhaseSeconds phases;           // summed over pages
  Percentiles fetch_seconds;     // per page, the whole transfer
  Percentiles parse_seconds;     // per parsed page, CPU
  double cpu_user_seconds = 0;   // the process, during the crawl (getrusage)
  double cpu_system_seconds = 0;
  int64_t peak_rss_kb = 0;       // the process's peak resident set so far
  int64_t voluntary_switches = 0, involuntary_switches = 0;

  std::string ToJson() const;
};

// Crawls into `store` (a new run, or options.resume's). Fails with kInvalidArgument for a bad seed
// or pattern, or with the store's error if writing failed mid-crawl (what was committed stays, and
// the run is left unfinished, to be resumed). `progress`, if set, is called on the loop thread
// about four times a second. `control`, if set, lets another thread stop the crawl (see
// crawl_control.h); an interrupted run is stored unfinished and the summary says so.
Result<CrawlSummary> Crawl(const CrawlOptions& options, Store& store,
                           std::function<void(const CrawlProgress&)> progress = {}, CrawlControl* control = nullptr);

// The default user agent, "fanout/VERSION".
std::string DefaultUserAgent();

}  // namespace fanout
