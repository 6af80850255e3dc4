// CrawlCore: the one crawl, whatever the mode; a facade over the rooms that each hold one concept:
//   - the dispatcher (dispatcher.h): what goes next, refilling the frontier, the page budget, the end;
//   - the page procedure (page_procedure.h): fetch with retries and redirects, meta refresh, parse,
//     links, store;
//   - the site's files (site_files.h): robots.txt per host, and sitemaps;
//   - the turns on hosts (host_turns.h) and the shared frontier's leases (lease_keeper.h);
//   - the frontier (frontier.h): scope, dedup, the hosts' queues and politeness;
//   - the counters and summary (crawl_counters.h), and the crawl's life (crawl_context.h).
// docs/architecture.md walks one page through them.
//
// The modes keep only how they wait (crawl_waits.h): the async mode suspends coroutines on its
// event loop; sync and threads block a thread. A mode's dispatching loop asks Next() what to do and
// does it (dispatcher.h's Work).
//
// Threads: not thread-safe. The async mode calls it on its loop thread; the blocking modes hold
// their lock around every call, and their CrawlWaits release it while a thread blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crawler/crawl_context.h"
#include "crawler/crawl_options.h"
#include "crawler/crawl_summary.h"
#include "crawler/crawl_waits.h"
#include "crawler/dispatcher.h"
#include "crawler/frontier.h"
#include "crawler/host_lookups.h"
#include "crawler/page_procedure.h"
#include "crawler/site_files.h"
#include "crawler/spill.h"
#include "crawler/task.h"
#include "storage/store.h"

namespace fanout {

class CrawlCore {
 public:
  // `shared` (a shared frontier's worker) and `archive` (--warc): nullptr when the crawl has none.
  CrawlCore(const CrawlOptions& options, Frontier& frontier, Store& store, SharedFrontier* shared,
            WarcArchive* archive, int64_t run_id, const SpillCursor& spill_cursor)
      : crawl_(options, frontier, store, shared, archive),
        dispatcher_(crawl_, run_id, spill_cursor),
        pages_(crawl_),
        site_files_(crawl_),
        lookups_(crawl_) {}

  // What to do next (Dispatcher::Next).
  Work Next(CrawlWaits& waits, bool page_slot, bool turns_only = false) {
    return dispatcher_.Next(waits, page_slot, turns_only);
  }
  // The procedures. `turn` holds the turn Next booked on `host`.
  Task<void> CrawlPage(FrontierItem item, HostId host, std::unique_ptr<HostTurn> turn, CrawlWaits& waits) {
    return pages_.Crawl(std::move(item), host, std::move(turn), waits);
  }
  Task<void> FetchRobots(HostId host, std::unique_ptr<HostTurn> turn, CrawlWaits& waits) {
    return site_files_.FetchRobots(host, std::move(turn), waits);
  }
  Task<void> ResolveHost(HostId host, CrawlWaits& waits) { return lookups_.Resolve(host, waits); }
  std::vector<std::string> BeginSitemaps(const std::vector<std::string>& seeds) {
    return site_files_.BeginSitemaps(seeds);
  }
  Task<void> WalkSitemaps(std::string origin, CrawlWaits& waits) {
    return site_files_.WalkSitemaps(std::move(origin), waits);
  }
  Task<void> Refill(CrawlWaits& waits) { return dispatcher_.Refill(waits); }

  // Stops dispatching (a Ctrl-C, or the store failed): requests waiting for a turn are woken
  // without one. `interrupted`: the run may be resumed, and the summary says so.
  void Stop(CrawlWaits& waits, bool interrupted) { crawl_.Stop(waits, interrupted); }
  bool stopping() const { return crawl_.stopping(); }
  // What a store call nobody awaited returned (CrawlWaits::WriteBehind): an error stops the crawl.
  void NoteStored(CrawlWaits& waits, const Status& stored) { crawl_.NoteStored(waits, stored); }
  const Status& store_error() const { return crawl_.store_error(); }
  // Work in progress: pages, robots.txt fetches and sitemap walks started and not finished.
  size_t active() const { return crawl_.active(); }

  // As a worker of a shared frontier: gives back every host still held (the crawl is over).
  void ReleaseShared() { crawl_.leases.ReleaseAll(); }

  CrawlProgress Progress() const;
  // The summary's figures the core knows; the mode adds its own (loop, pool, page slots).
  void Summarise(double wall, CrawlSummary& s);

 private:
  CrawlContext crawl_;
  Dispatcher dispatcher_;
  PageProcedure pages_;
  SiteFiles site_files_;
  HostLookups lookups_;
};

}  // namespace fanout
