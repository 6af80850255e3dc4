// The sync and threads crawl modes: the naive crawler and the classic thread-per-transfer one, for
// comparison with the async engine. They run the same CrawlCore as async (crawl_core.h) and wait
// by blocking a thread:
//   sync:    one thread, one blocking curl_easy_perform at a time, parse and store inline;
//   threads: `workers` threads, each with its own blocking easy handle, sharing the core under one
//            lock and DNS, TLS sessions and (over HTTP/1.1) connections through a locked curl
//            share handle; each parses inline; the store's writer thread as usual.
// With --sitemaps the calling thread first walks the seeds' origins' sitemaps, the naive way: one
// after another, before any page.
//
// Threads: RunBlockingCrawl blocks the calling thread, which reports progress and handles stops.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "crawler/crawl.h"
#include "crawler/crawl_control.h"
#include "crawler/crawl_core.h"
#include "crawler/crawl_options.h"
#include "crawler/crawl_summary.h"

namespace fanout {

// Crawls with `core` (made with `services`) until it says the crawl is over; fills `summary`. Returns the store's error if
// writing failed (the crawl stops then). `progress` is called on the calling thread about four
// times a second. `seeds`: normalised.
Status RunBlockingCrawl(const CrawlOptions& options, CrawlCore& core, const CrawlServices& services,
                        const std::vector<std::string>& seeds,
                        size_t workers, CrawlControl& control, CrawlSummary& summary,
                        const std::function<void(const CrawlProgress&)>& progress);

}  // namespace fanout
