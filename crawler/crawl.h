// Crawl: a crawl of the web, from seeds to rows in the store, in one of three modes.
//
// Every mode runs the same CrawlCore (crawl_core.h): the same frontier and host scheduler, the
// same robots.txt handling, page procedure, sitemaps, limits and records; they differ only in how
// they wait. async (the engine): one event loop thread drives libcurl's multi interface, the crawl's
// procedures are coroutines suspended on it, and parsing and storing run on a thread pool (the
// loop never parses or touches SQLite). threads: --concurrency threads, each blocking in its own
// transfer; sync: one thread, one transfer at a time (crawl_blocking.h). The crawl ends when the
// frontier is empty and nothing is in progress, or --max-pages pages have been fetched.
//
// Threads: Crawl() blocks the calling thread (the async mode's loop thread for its duration).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "crawler/crawl_control.h"
#include "crawler/crawl_options.h"
#include "crawler/crawl_summary.h"
#include "storage/run_state.h"
#include "storage/store.h"
#include "util/result.h"

namespace fanout {

class SharedFrontier;  // crawler/shared_frontier.h
class WarcArchive;     // warc/warc_archive.h

// The seeds as the crawl keys them (url.h's NormalizeUrl, by `rules`). Errors: kInvalidArgument
// naming the first seed that is not an http(s) URL.
Result<std::vector<std::string>> NormalizeSeeds(const std::vector<std::string>& seeds,
                                                UrlRules rules = UrlRules::kWhatwg);

// What a crawl works with besides its options: services the caller made, owns, and keeps alive
// until Crawl returns. Only the store is required.
struct CrawlServices {
  CrawlServices(Store& store) : store(store) {}  // NOLINT: implicit, so that Crawl(options, store) reads
  Store& store;
  // Continue this unfinished run instead of beginning one (--resume; see run_state.h). Its seeds
  // are the crawl's; --max-pages counts its pages too.
  const RunState* resume = nullptr;
  // Crawl as one worker of a run that several share (--frontier; see shared_frontier.h): the shared
  // frontier says what this crawl fetches, and --max-pages is the run's. async mode only.
  SharedFrontier* shared_frontier = nullptr;
  // Archive every transfer the server answered (--warc): request and response (or revisit) records,
  // and a metadata record per page; each page row then says where its response record is.
  WarcArchive* archive = nullptr;
};

// Crawls into services.store (a new run, or services.resume's). Fails with kInvalidArgument for a
// bad seed or pattern, or with the store's error if writing failed mid-crawl (what was committed
// stays, and the run is left unfinished, to be resumed). `progress`, if set, is called on the
// crawl's thread about four times a second. `control`, if set, lets another thread stop the crawl
// (see crawl_control.h); an interrupted run is stored unfinished and the summary says so.
Result<CrawlSummary> Crawl(const CrawlOptions& options, const CrawlServices& services,
                           std::function<void(const CrawlProgress&)> progress = {}, CrawlControl* control = nullptr);

}  // namespace fanout
