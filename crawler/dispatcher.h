// Dispatcher: what a crawl does next. A mode's dispatching loop asks Next() and does what it says:
// start a page or a robots.txt fetch (its host's turn already booked, so nothing is held while a
// host waits for its delay), hand a turn to a request under way that asked for one (a retry, a
// redirect hop, a sitemap), read URLs back from the database (Refill), wait until a host's delay
// passes or until something changes, or finish.
//
// It keeps the page budget (--max-pages counts pages dispatched), refuses URLs robots.txt disallows
// and URLs of hosts whose name did not resolve (skipped rows, written behind), and decides when the crawl is over: nothing in progress, no host
// to wake for, nothing more to read back (or, for a shared frontier's worker, the run is over).
//
// Threads: not thread-safe; the crawl's owner serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "crawler/crawl_waits.h"
#include "crawler/frontier_item.h"
#include "crawler/run_stats.h"
#include "crawler/spill.h"
#include "crawler/task.h"

namespace fanout {

class CrawlContext;

// What Dispatcher::Next says to do.
struct Work {
  enum class Kind {
    kPage,       // CrawlCore::CrawlPage(item, host): the host's turn is booked
    kRobots,     // CrawlCore::FetchRobots(host): the host's turn is booked
    kResolve,    // CrawlCore::ResolveHost(host): look its name up (no turn: nothing is sent to it)
    kGranted,    // `turn`'s turn has come (it is held): give it a transfer slot, then resume it
    kRefill,     // co_await CrawlCore::Refill()
    kWaitUntil,  // nothing may go before `until` (or a change)
    kWaitChange, // nothing may go until something changes
    kDone,       // the crawl is over: dispatch nothing more
  };
  Kind kind = Kind::kDone;
  HostId host = 0;
  FrontierItem item = {};
  HostTurn* turn = nullptr;
  CrawlClock::time_point until = {};
};

class Dispatcher {
 public:
  // `run_id`, `spill_cursor`: where the URLs the frontier left in the database are read back from.
  Dispatcher(CrawlContext& crawl, int64_t run_id, const SpillCursor& spill_cursor)
      : crawl_(crawl), run_id_(run_id), spill_cursor_(spill_cursor) {}

  // What to do next. `page_slot`: whether the caller can start a new page now; `turns_only`: only
  // kGranted, kRobots and the waits (a blocking thread that waits for its own turn).
  Work Next(CrawlWaits& waits, bool page_slot, bool turns_only = false);
  // Reads URLs the frontier left in the database back into memory.
  Task<void> Refill(CrawlWaits& waits);

 private:
  bool RefillWanted() const;

  CrawlContext& crawl_;
  const int64_t run_id_;
  int64_t dispatched_ = 0;      // pages taken for fetching: --max-pages counts them
  SpillCursor spill_cursor_;    // how far Refill has read
  bool refilling_ = false;
  int64_t empty_refill_pages_ = -1;  // summary pages when a Refill last found nothing...
  bool empty_refill_idle_ = false;   // ... and whether nothing was in progress then
};

}  // namespace fanout
