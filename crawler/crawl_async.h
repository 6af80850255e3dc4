// The async crawl mode, the engine: the core's procedures (crawl_core.h) as coroutines on one
// event loop. A dispatcher coroutine takes a --concurrency permit, asks the core what may start and
// starts it; transfers are libcurl multi transfers on the loop (fetch.h), parsing and storing run
// on a thread pool (thread_pool.h), and the loop never parses or touches SQLite.
//
// Threads: RunAsyncCrawl blocks the calling thread, which runs the loop for the crawl's duration;
// a shared frontier and the CrawlControl call back from their own threads and only wake the loop.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "crawler/crawl.h"
#include "crawler/crawl_control.h"
#include "crawler/crawl_core.h"
#include "crawler/crawl_options.h"
#include "crawler/crawl_summary.h"
#include "storage/store.h"
#include "util/status.h"

namespace fanout {

// Crawls with `core` (made with `services`) until it says the crawl is over; fills `summary`. `seeds` (normalised): whose
// sitemaps to walk, with --sitemaps. `threads`: the pool's. Returns the store's error if writing
// failed, or the shared frontier's. `progress` is called on the loop thread about four times a second.
Status RunAsyncCrawl(const CrawlOptions& options, CrawlCore& core, const CrawlServices& services,
                     const std::vector<std::string>& seeds,
                     size_t threads, CrawlControl& control, CrawlSummary& summary,
                     const std::function<void(const CrawlProgress&)>& progress);

}  // namespace fanout
