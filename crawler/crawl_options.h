// CrawlOptions: what a crawl is asked to do, as `fanout crawl`'s flags say it; one value shared by
// the crawl's parts (frontier, scheduler, page procedure, PageFetch) so none needs the others. It
// holds values only: the services a crawl works with (the store, a run to resume, a shared
// frontier, an archive) are passed beside it (CrawlServices, crawl.h).
//
// Threads: a value; read by any thread once the crawl has begun.
#pragma once

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "crawler/dns.h"
#include "crawler/frontier.h"
#include "crawler/url_traps.h"
#include "crawler/seen_filter.h"
#include "crawler/url.h"
#include "parser/html_parser.h"
#include "util/status.h"

namespace fanout {

// How a crawl waits (--mode): async, the engine (crawl_async.h), or threads or sync, blocking
// (crawl_blocking.h). The same crawl either way.
enum class CrawlMode { kAsync, kThreads, kSync };
// "async", "threads", "sync"; and back (nullopt for a name that is none of them).
std::string_view CrawlModeName(CrawlMode mode);
std::optional<CrawlMode> CrawlModeNamed(std::string_view name);
// "auto", "gumbo" (--parser); and back.
std::string_view HtmlParserName(HtmlParser parser);
std::optional<HtmlParser> HtmlParserNamed(std::string_view name);

struct CrawlOptions {
  std::vector<std::string> seeds = {};
  size_t concurrency = 64;       // transfers in flight at most
  size_t per_host = 8;           // transfers in flight to one host:port at most
  size_t threads = 0;            // pool threads; 0: the number of cores
  int64_t max_pages = 0;         // pages fetched at most; 0: no limit
  int max_depth = 20;            // link depth from the seeds; -1: no limit (20 ends a calendar; see README)
  ScopeOptions scope = {};
  std::string user_agent = {};      // "" means "fanout/VERSION"
  std::vector<std::string> connect_to = {};  // curl's --connect-to rules (see FetcherOptions)
  long timeout_ms = 30000;
  long connect_timeout_ms = 10000;
  long low_speed_bytes = 100;     // a transfer slower than this many bytes/s...
  long low_speed_seconds = 20;    // ...for this long is cut as a timeout (0: never)
  size_t max_bytes = 10 << 20;   // body cap
  long max_redirects = 10;       // hops the crawler follows per URL
  // A <meta http-equiv=refresh> to another URL with a delay of at most this many seconds is followed
  // as a redirect hop; a longer one is only a link (a negative value makes every refresh a link).
  double max_meta_refresh_delay = 30;
  bool follow_nofollow = false;  // follow rel=nofollow links and links of meta-nofollow pages
  // How HTML is parsed: the fast path with gumbo's tree for what it does not handle, or always the
  // tree; the result is the same, the CPU is not (parser/html_parser.h).
  HtmlParser parser = HtmlParser::kAuto;
  size_t max_url_length = 2048;  // longer links are not followed ("too_long")
  TrapLimits traps = {};         // --max-repeats, --max-path-segments (url_traps.h)
  size_t max_pages_per_host = 0;  // URLs followed per host at most ("host_budget"); 0: no limit
  double robots_ttl = 86400;      // seconds a robots.txt is obeyed before it is fetched again (RFC 9309 2.4)
  size_t max_host_errors = 10;    // unanswered requests in a row that give a host up ("host-failing"); 0: never
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
  // Politeness per address: transfers in flight to one IP address at most (0: no limit), and
  // seconds between the starts of two requests to one address (host_queues.h).
  size_t per_ip = 0;
  double ip_delay = 0;
  // Name lookups (host_lookups.h): the resolver's timeout, the TTLs believed, lookups in flight.
  DnsOptions dns = {};
  std::vector<std::string> resolve = {};  // --resolve HOST:PORT:ADDRESS[,ADDRESS...], curl's form
  bool ignore_robots = false;    // do not fetch or obey robots.txt
  std::string cacert = {};       // a CA file trusted besides the system's
  bool insecure = false;         // do not verify TLS certificates
  bool http2 = true;             // offer HTTP/2 over TLS
  bool sitemaps = false;         // also queue what the seeds' origins list in their sitemaps
  // Queued URLs held in memory at most; more wait in the database (see frontier.h). 0: no limit.
  size_t frontier_window = 50000;
  // The memory of URLs seen (seen_filter.h): smaller means more links settled by the store.
  SeenFilterOptions seen_filter = {};
  // How links and redirects are resolved and keyed (url.h): a new run's rules, or, set by Crawl,
  // the resumed run's, so that its keys stay comparable.
  UrlRules url_rules = UrlRules::kWhatwg;
  CrawlMode mode = CrawlMode::kAsync;
};

// kInvalidArgument with a one-line message when the options cannot be crawled with (a limit of
// 0, a negative delay).
Status ValidateOptions(const CrawlOptions& options);
// ValidateOptions, and what a worker of a shared frontier with leases of `lease_seconds` needs.
Status ValidateSharedOptions(const CrawlOptions& options, double lease_seconds);

// The options as the runs table (and a shared frontier's run) records them: a JSON object.
std::string OptionsJson(const CrawlOptions& options);

// What the fetcher of either kind needs of the options; `abort` cuts transfers (the second Ctrl-C);
// `archive`: the crawl archives its transfers, so the fetcher keeps their heads.
struct FetcherOptions;  // crawler/fetch.h
FetcherOptions FetcherOptionsOf(const CrawlOptions& options, const std::atomic<bool>* abort, bool archive);

// The politeness the options ask of every host (see host_queues.h). `shared`: the crawl is a worker
// of a shared frontier, whose addresses are leased when --per-ip or --ip-delay is on.
HostLimits HostLimitsOf(const CrawlOptions& options, bool shared = false);
// Whether workers of a shared frontier lease addresses: --per-ip or --ip-delay is on.
inline bool LeasesAddresses(const CrawlOptions& options) { return options.per_ip > 0 || options.ip_delay > 0; }

// The default user agent, "fanout/VERSION".
std::string DefaultUserAgent();

// The product token of the crawl's User-Agent, which robots.txt groups are matched against.
std::string UserAgentOf(const CrawlOptions& options);

}  // namespace fanout
