// Run statistics every crawl mode keeps alike: per-page samples and counters, the fan-out over time
// (InFlightMeter), the process's resource use, and the clocks they are measured with.
//
// Threads: not thread-safe; the crawl's owner serialises calls. The clock functions: any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "crawler/crawl_options.h"
#include "crawler/crawl_summary.h"
#include "crawler/sitemap_walk.h"
#include "storage/records.h"
#include "util/thread_cpu.h"

namespace fanout {

using CrawlClock = std::chrono::steady_clock;

double SecondsSince(CrawlClock::time_point t);

// Adds what a sitemap walk found to the run's summary.
void CountSitemaps(const SitemapStats& stats, CrawlSummary& summary);

// Per-page samples a run keeps for its percentiles.
struct PageSamples {
  std::vector<double> fetch, parse;
};

// The slowest pages a summary lists (CrawlSummary::slowest_pages).
inline constexpr size_t kSlowestPages = 10;

// Adds one parsed page to the run's counters: by the parser's fast path, or by gumbo and why.
void CountParse(bool fast_path, std::string_view bailout, CrawlSummary& summary);

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
// It also samples in flight and queued at a fixed interval from its construction, for a chart of
// the fan-out over time: every kTimelineStart seconds, the interval doubling (and every other
// sample dropped) whenever more than kTimelinePoints would be kept, so a long crawl costs no more.
class InFlightMeter {
 public:
  static constexpr double kTimelineStart = 0.1;
  static constexpr size_t kTimelinePoints = 600;

  explicit InFlightMeter(size_t concurrency) : concurrency_(concurrency) {}
  // Call just before in-flight changes by `delta`, with the frontier's current size.
  void Change(int delta, size_t queued);
  // Fills the summary's fan-out figures and its timeline, sampled up to `wall` seconds.
  void Report(double wall, CrawlSummary& s) const;
  size_t in_flight() const { return in_flight_; }

 private:
  void Integrate(CrawlClock::time_point now);
  // Samples the state held until `now` at every interval boundary passed since the last sample.
  void SampleUntil(double now, std::vector<TimelinePoint>& timeline, double& interval) const;
  size_t concurrency_;
  size_t in_flight_ = 0, max_ = 0, queued_ = 0;
  bool saturated_ = false;
  const CrawlClock::time_point start_ = CrawlClock::now();
  CrawlClock::time_point mark_ = start_;
  double in_flight_seconds_ = 0, saturated_seconds_ = 0, saturated_in_flight_seconds_ = 0;
  std::vector<TimelinePoint> timeline_;
  double interval_ = kTimelineStart;
};

// Fills the summary's figures that every mode computes alike: percentiles, fan-out, throughput,
// the limits asked for and mean parse time. (What is left queued is Crawl's to say, once the store
// has settled the last unsure links.)
void SummariseRun(PageSamples& samples, const InFlightMeter& meter, const CrawlOptions& options, double wall,
                  CrawlSummary& summary);

}  // namespace fanout
