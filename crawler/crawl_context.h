// CrawlContext: what the rooms of one crawl share (crawl_core.h): the options, the frontier, the
// store and archive, the robots.txt verdicts, the counters, the turns on hosts and the shared
// frontier's leases; and the crawl's life: work in progress, stopping, and the store's first error.
//
// Work in progress (pages, robots.txt fetches, sitemap walks started and not finished) is counted
// so that the dispatcher knows when the crawl is over. A stop (a Ctrl-C, or the store failed)
// withdraws every waiting turn, and the dispatcher starts nothing more.
//
// Threads: not thread-safe; the crawl's owner serialises calls (the loop thread in async mode, the
// crawl's lock in the blocking modes).
#pragma once

#include <cstddef>
#include <memory>

#include "crawler/crawl_counters.h"
#include "crawler/crawl_options.h"
#include "crawler/crawl_waits.h"
#include "crawler/frontier.h"
#include "crawler/host_turns.h"
#include "crawler/lease_keeper.h"
#include "crawler/robots_policy.h"
#include "storage/store.h"
#include "util/status.h"

namespace fanout {

class WarcArchive;

class CrawlContext {
 public:
  // `shared`, `archive`: nullptr when the crawl has none.
  CrawlContext(const CrawlOptions& options, Frontier& frontier, Store& store, SharedFrontier* shared,
               WarcArchive* archive)
      : options(options),
        frontier(frontier),
        store(store),
        archive(archive),
        counters(options.concurrency),
        turns(*this),
        leases(*this, shared) {}
  CrawlContext(const CrawlContext&) = delete;
  CrawlContext& operator=(const CrawlContext&) = delete;

  const CrawlOptions& options;
  Frontier& frontier;
  Store& store;
  WarcArchive* const archive;  // --warc
  RobotsCache robots;          // distinct robots.txt verdicts
  CrawlCounters counters;
  HostTurns turns;
  LeaseKeeper leases;

  // Work in progress: counted from its dispatch until it ends.
  void BeginWork() { ++active_; }
  void EndWork(CrawlWaits& waits) {
    --active_;
    waits.WakeDispatcher();
  }
  size_t active() const { return active_; }

  // Stops dispatching: waiting turns are withdrawn. `interrupted`: the run may be resumed.
  void Stop(CrawlWaits& waits, bool interrupted) {
    if (interrupted) counters.summary.interrupted = true;
    stopping_ = true;
    turns.WithdrawAll(waits);
    waits.WakeDispatcher();
  }
  bool stopping() const { return stopping_; }
  // What a store call (a write, or a read back) returned: an error stops the crawl.
  void NoteStored(CrawlWaits& waits, const Status& stored) {
    if (!stored.ok() && store_error_.ok()) {
      store_error_ = stored;
      Stop(waits, false);  // nothing more can be kept: stop fetching
    }
  }
  const Status& store_error() const { return store_error_; }

  // A robots.txt answer known for `host` (fetched, or kept by the shared frontier), with the
  // Crawl-delay its record gives.
  void KnowRobots(HostId host, std::shared_ptr<const RobotsTxt> robots, const RobotsRecord& record) {
    std::optional<double> crawl_delay;
    if (record.crawl_delay >= 0) crawl_delay = record.crawl_delay;
    frontier.KnowRobots(host, std::move(robots), crawl_delay, CrawlClock::now());
  }

 private:
  size_t active_ = 0;
  bool stopping_ = false;
  Status store_error_;
};

}  // namespace fanout
