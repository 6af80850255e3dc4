// CrawlCounters: the figures a crawl counts as it goes, for its progress line and its summary
// (crawl_summary.h): what the procedures add to the summary, the per-page samples, the fan-out over
// time, and the waits the summary explains.
//
// Threads: not thread-safe; the crawl's owner serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "crawler/crawl_summary.h"
#include "crawler/run_stats.h"

namespace fanout {

struct CrawlCounters {
  explicit CrawlCounters(size_t concurrency) : meter(concurrency) {}

  CrawlSummary summary;  // pages, errors, skips, robots.txt and sitemaps, as the procedures count them
  PageSamples samples;   // per page, for percentiles
  InFlightMeter meter;   // transfers in flight over time
  size_t pages_in_progress = 0, max_pages_in_progress = 0;
  uint64_t host_waits = 0;              // times nothing could go though URLs were queued
  uint64_t page_turn_waits = 0;         // turns a page asked for (retries, redirect hops)
  double page_turn_wait_seconds = 0;    // ... and the time it waited for them
  const CrawlClock::time_point started = CrawlClock::now();
};

}  // namespace fanout
