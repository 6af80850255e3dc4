// CrawlSummary: what a run did and where its time went, as `fanout crawl` prints it and --report
// writes it (ToJson); CrawlProgress: the few figures of the progress line.
//
// Threads: values; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fanout {

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

// One sample of the fan-out over time: seconds since the crawl started, transfers in flight and
// URLs queued in the frontier at that moment.
struct TimelinePoint {
  double seconds = 0;
  size_t in_flight = 0, queued = 0;
};

// A page among the slowest of a run: its whole transfer (retries and redirect hops included).
struct SlowPage {
  std::string url;
  double seconds = 0;
  int status = 0;          // 0: no response
  std::string error_kind;  // "" when fine
};

struct CrawlSummary {
  int64_t run_id = 0;
  std::string mode;
  int64_t pages = 0;             // fetched (attempted), each a row in pages
  int64_t ok_pages = 0;          // answered 2xx
  int64_t parsed_pages = 0;      // HTML pages parsed for links
  std::string parser;            // --parser: "auto" or "gumbo"
  int64_t fast_path_pages = 0;   // of the parsed pages, those the parser's fast path read (the rest: gumbo)
  std::map<std::string, int64_t> parser_bailouts;  // pages the fast path handed to gumbo, by reason
  int64_t errors = 0;            // pages with an error kind
  std::map<std::string, int64_t> errors_by_kind;
  std::map<int, int64_t> status_codes;  // pages by HTTP status (0: no response)
  std::vector<SlowPage> slowest_pages;  // the slowest fetches, slowest first (kSlowestPages at most)
  int64_t bytes = 0;             // body bytes received
  int64_t links = 0;             // links found (rows in links)
  std::map<std::string, int64_t> skipped_by_reason;  // links and URLs not followed or fetched, by reason
  int64_t retries = 0;           // transfers repeated after a failure that may pass
  int64_t robots_fetched = 0;    // robots.txt files fetched (one per origin)
  int64_t robots_refused_origins = 0;  // ... that answered 5xx or not at all: the origin is not crawled
  int64_t robots_refetched = 0;  // ... fetched again, --robots-ttl after the last
  int64_t robots_kept = 0;       // ... of which 5xx or no answer: the copy before stays in force
  bool robots_ignored = false;   // --ignore-robots
  bool tls_unverified = false;   // --insecure
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
  std::vector<TimelinePoint> in_flight_timeline;  // sampled every in_flight_timeline_interval seconds
  double in_flight_timeline_interval = 0;
  double mean_parse_seconds = 0; // CPU time per parsed page, on a pool thread
  bool per_host_bound = false;   // the per-host limit, not --concurrency, capped the fan-out
  double loop_busy_fraction = 0; // loop thread's time outside epoll_wait / wall
  double loop_cpu_seconds = 0;   // the loop thread's CPU time (async; 0 in the blocking modes)
  double pool_busy_fraction = 0; // pool threads' busy time / (threads x wall)
  size_t threads = 0;
  double store_busy_fraction = 0;  // the store's writer thread: time writing batches / wall
  double store_cpu_seconds = 0;    // the writer thread's CPU time in those batches
  int64_t store_batches = 0;       // transactions committed for this run's pages
  uint64_t task_errors = 0;      // page tasks that threw (a bug if ever non-zero)
  size_t hosts = 0;              // hosts (origins) the crawl knew
  size_t host_memory_bytes = 0;  // the hosts' own state and robots.txt verdicts: what idle hosts cost
  size_t host_queue_bytes = 0;   // what the queues of hosts with URLs queued added, at the end
  size_t robots_distinct = 0;    // distinct robots.txt answers (hosts that served the same share one)
  // Turns a page in progress asked of a host (its retries and redirect hops; a new page never
  // waits for its host: it is taken only when its host may go), and the seconds they took.
  uint64_t page_turn_waits = 0;
  double page_turn_wait_seconds = 0;
  uint64_t scheduler_heap_steps = 0;  // the host scheduler's work: heap moves, O(log hosts) a request

  // As one worker of a shared frontier (--frontier; empty worker otherwise).
  struct Shared {
    std::string worker, frontier;  // the frontier's address, without a password
    int64_t run = 0;               // the frontier's run id
    int64_t statements = 0, transactions = 0, retries = 0, reconnects = 0;
    int64_t done = 0, refused = 0;  // completions accepted, and refused because the host was taken over
    int64_t claims = 0, hosts_granted = 0, hosts_released = 0;
  } shared;
  int64_t hosts_lost = 0;        // leases lost to another worker mid-crawl
  int64_t hosts_failing = 0;     // hosts given up after --max-host-errors unanswered requests in a row

  // Names looked up (host_lookups.h): one lookup per name per TTL.
  struct Dns {
    int64_t lookups = 0;        // asked of the resolver (each an A and an AAAA query)
    int64_t cache_hits = 0;     // hosts answered from an earlier lookup still believed
    int64_t joined = 0;         // hosts that waited for a lookup of their name already under way
    int64_t local = 0;          // hosts answered without a query: IP literals, *.localhost, --resolve, --connect-to
    int64_t retries = 0;        // lookups asked again after a failure that may pass
    int64_t hosts_failed = 0;   // hosts given up: their URLs are skipped...
    int64_t hosts_unanswered = 0;  // ... of which for a failure that may pass (dns-servfail, dns-timeout):
                                   // the run is left unfinished, for --resume to ask again
    std::map<std::string, int64_t> failures;  // failed lookups by kind ("dns-nxdomain", ...)
    double seconds = 0;         // the lookups' time, summed, as fanout measured it
    size_t addresses = 0;       // distinct addresses (--per-ip keys) the hosts resolved to
    size_t max_per_ip = 0;      // the most transfers in flight to one address (with --per-ip or --ip-delay)
  } dns;

  // The archive (--warc; files 0 without one), as written by this run's part.
  struct Archive {
    uint64_t files = 0, records = 0, revisits = 0, bytes = 0;  // bytes: compressed, as written
    uint64_t payload_bytes = 0;  // the entities archived, as received
    double write_seconds = 0;    // in write(2)
    std::string first_file, last_file;
  } archive;

  PhaseSeconds phases;           // summed over pages
  Percentiles fetch_seconds;     // per page, the whole transfer
  Percentiles parse_seconds;     // per parsed page, CPU
  double cpu_user_seconds = 0;   // the process, during the crawl (getrusage)
  double cpu_system_seconds = 0;
  int64_t peak_rss_kb = 0;       // the process's peak resident set so far
  int64_t voluntary_switches = 0, involuntary_switches = 0;

  std::string ToJson() const;
};

}  // namespace fanout
