// The sync and threads crawl modes: the naive crawler and the classic thread-per-transfer one, for
// comparison with the async engine. Same frontier, parser, store, limits and records as async
// (page_work.h); only the scheduling differs:
//   sync:    one thread, one blocking curl_easy_perform at a time, parse and store inline;
//   threads: `workers` threads, each with its own blocking easy handle, sharing the frontier under
//            one lock and DNS, TLS sessions and connections through a locked curl share handle;
//            each parses inline; the store's writer thread as usual.
#pragma once

#include <functional>

#include "crawler/crawl.h"
#include "crawler/crawl_control.h"
#include "crawler/frontier.h"
#include "storage/store.h"

namespace fanout {

struct SpillCursor;  // page_work.h

// Crawls until the frontier is exhausted or max_pages is reached; fills `summary`. Returns the
// store's error if writing failed (the crawl stops then). `progress` is called on the calling
// thread about four times a second. With --sitemaps the calling thread first walks the seeds'
// origins' sitemaps (`seeds`: normalised), the naive way: one after another, before any page.
// URLs the frontier leaves in the database are read back from run `run_id`'s links from
// `spill_cursor` on.
Status RunBlockingCrawl(const CrawlOptions& options, const std::vector<std::string>& seeds, Frontier& frontier,
                        Store& store, size_t workers, CrawlControl& control, int64_t run_id,
                        const SpillCursor& spill_cursor,
                        CrawlSummary& summary, const std::function<void(const CrawlProgress&)>& progress);

}  // namespace fanout
