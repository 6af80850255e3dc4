// What every crawl mode does to one page, whatever schedules it: turn a fetch into a PageRecord,
// decide whether to parse, parse and resolve links, and take the frontier's verdicts. The modes
// (crawl.cpp: async; crawl_blocking.cpp: sync and threads) differ only in how they schedule these
// steps, which is what makes their comparison honest.
//
// Thread rules: the functions are pure unless they take a Frontier, whose caller must own it (the
// loop thread, or the holder of the blocking crawl's lock).
#pragma once

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "crawler/crawl.h"
#include "crawler/fetch.h"
#include "crawler/frontier.h"
#include "crawler/page_fetch.h"
#include "crawler/sitemap_walk.h"
#include "parser/robots_txt.h"
#include "storage/run_state.h"
#include "storage/store.h"

namespace fanout {

using CrawlClock = std::chrono::steady_clock;

double SecondsSince(CrawlClock::time_point t);
double ThreadCpuSeconds();  // CPU time of the calling thread
double UnixNow();

// The request every mode sends for a URL.
FetchRequest RequestFor(const CrawlOptions& options, const std::string& url);

// Copies status, type, size, timings and the error kind of a finished fetch into `record`.
void FillRecord(const FetchResponse& response, PageRecord& record);

// Whether the response is HTML worth parsing (2xx, text/html or application/xhtml+xml).
bool ShouldParse(const FetchResponse& response);

// A link as the parser and URL resolution leave it, before the frontier's verdict.
struct LinkCandidate {
  std::string url;     // resolved and normalised, or the raw href when it could not be
  std::string reason;  // "" when it may be followed
};

// Parses the response's body (fetched from `page_url`), decoded to UTF-8 from its charset, and
// resolves its links against its base; sets the record's title, noindex, canonical, charset and
// parse (CPU seconds). Pure: runs on any thread.
std::vector<LinkCandidate> ParsePage(const std::string& page_url, const FetchResponse& response,
                                     const CrawlOptions& options, PageRecord& record);

// Offers the followable candidates found on `page_url` to the frontier and turns all of them into
// link rows; links longer than options.max_url_length are not offered ("too_long").
std::vector<LinkRecord> DecideLinks(std::vector<LinkCandidate> candidates, const std::string& page_url, int page_depth,
                                    const CrawlOptions& options, Frontier& frontier,
                                    std::map<std::string, int64_t>& skipped_by_reason);

// The frontier's and robots.txt's verdict on a redirect target, the robots part given (nullptr
// when robots.txt is ignored). Claims the target when it may be followed.
RedirectVerdict JudgeRedirect(const std::string& target, Frontier& frontier, const RobotsTxt* robots);

// The request for an origin's robots.txt ("http://h:1" -> "http://h:1/robots.txt"): at most
// kMaxRobotsBytes kept, up to 5 redirects followed (RFC 9309 2.3.1.2).
FetchRequest RobotsRequest(const CrawlOptions& options, const std::string& origin);

// What a robots.txt response means for its origin (RFC 9309 2.3.1): the rules of a 2xx body;
// 4xx: every URL allowed; 5xx or no answer: every URL refused for this run. Fills `record`.
RobotsTxt RobotsFromResponse(const FetchResponse& response, const std::string& origin, const CrawlOptions& options,
                             RobotsRecord& record);

// The request for one sitemap: bodies up to the protocol's own cap (50 MB) are kept.
FetchRequest SitemapRequest(const CrawlOptions& options, const std::string& url);

// When a host may be sent its next request: starts spaced by its delay (--delay, or its robots.txt
// Crawl-delay when longer, capped by --max-delay), each gap drawn with --delay-jitter. Both crawl
// modes keep one per host, under whatever guards the rest of the host's state.
class HostPace {
 public:
  explicit HostPace(const CrawlOptions& options) : options_(options), delay_(options.delay) {}
  // Books the host's next request: returns when it may start (now, or later if it must wait).
  CrawlClock::time_point Book(std::mt19937_64& random);
  // Its robots.txt asked for `crawl_delay` seconds: that is the delay from now on, and the next
  // request (robots.txt itself was the host's first) waits it from now.
  void ObeyCrawlDelay(double crawl_delay);

 private:
  const CrawlOptions& options_;
  double delay_;
  CrawlClock::time_point next_start_ = CrawlClock::now();
};

// What ends a page's PageFetch in every mode: false when a second Ctrl-C cut its transfer (counted
// as dropped; the page is not stored, so a resumed crawl fetches it again). Otherwise fills the
// record, counts the retries, and sets `skip` to a redirect target the crawl refused, to store.
bool ConcludeFetch(PageFetch& fetch, int depth, PageRecord& record, CrawlSummary& summary,
                   std::optional<SkipRecord>& skip);

// The row for a page robots.txt refused, counted among the run's skips.
SkipRecord RobotsRefusal(const FrontierItem& item, const RobotsVerdict& verdict, CrawlSummary& summary);

// How far a crawl has read back what waits in the database (see frontier.h).
struct SpillCursor {
  int64_t after = 0;          // links rowid of the last URL read back
  int64_t resumed_up_to = 0;  // a resumed run's RunState::last_link; 0 for a new run
  StoreStats baseline;        // the store's counters when the crawl began
};

// One read: the rows, and the store's word so far on the unsure links (totals since the baseline).
struct SpillRead {
  std::vector<SpilledLink> rows;
  int64_t unsure_new = 0, unsure_duplicates = 0;
};

// Reading back in two halves: the read, which flushes the store first so the latest links are
// committed and settled (any thread but the loop), and putting the result in the frontier (its
// owner), which settles the unsure links, restores the rows, advances `cursor` and returns how
// many URLs it restored or settled.
Result<SpillRead> ReadSpilled(Store& store, int64_t run_id, const SpillCursor& cursor, size_t room);
size_t RestoreSpilled(SpillRead& read, Frontier& frontier, SpillCursor& cursor);

// Adds what a sitemap walk found to the run's summary.
void CountSitemaps(const SitemapStats& stats, CrawlSummary& summary);

// The distinct origins of the seeds, in order.
std::vector<std::string> OriginsOf(const std::vector<std::string>& seeds);

// The product token of the crawl's User-Agent, which robots.txt groups are matched against.
std::string UserAgentOf(const CrawlOptions& options);

// Per-page samples a run keeps for its percentiles.
struct PageSamples {
  std::vector<double> fetch, parse;
};

// Adds one stored page to the run's counters and samples.
void CountPage(const PageRecord& record, size_t links, CrawlSummary& summary, PageSamples& samples);


// The process's resource use (getrusage), for the difference over a run.
struct ResourceUse {
  double user = 0, system = 0;
  int64_t max_rss_kb = 0, voluntary = 0, involuntary = 0;
  static ResourceUse Now();
};
void SummariseResources(const ResourceUse& before, const ResourceUse& after, CrawlSummary& summary);

// Transfers in flight, integrated over time: the whole run, and the part of it during which the
// frontier held at least `concurrency` URLs (when the mode could have kept every permit busy).
class InFlightMeter {
 public:
  explicit InFlightMeter(size_t concurrency) : concurrency_(concurrency) {}
  // Call just before in-flight changes by `delta`, with the frontier's current size.
  void Change(int delta, size_t queued);
  void Report(double wall, CrawlSummary& s) const;

 private:
  void Integrate(CrawlClock::time_point now);
  size_t concurrency_;
  size_t in_flight_ = 0, max_ = 0;
  bool saturated_ = false;
  CrawlClock::time_point mark_ = CrawlClock::now();
  double in_flight_seconds_ = 0, saturated_seconds_ = 0, saturated_in_flight_seconds_ = 0;
};

// Fills the summary's figures that every mode computes alike: percentiles, fan-out, throughput,
// the limits asked for and mean parse time. (What is left queued is Crawl's to say, once the store
// has settled the last unsure links.)
void SummariseRun(PageSamples& samples, const InFlightMeter& meter, const CrawlOptions& options, double wall,
                  CrawlSummary& summary);

}  // namespace fanout
