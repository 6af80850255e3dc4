// CrawlCore: the one crawl, whatever the mode. It owns the crawl's state and makes every decision:
// which request goes next (the frontier and its HostScheduler), robots.txt per host, refilling the
// frontier from the database, the page procedure (fetch with retries and redirects -> parse ->
// links -> store), sitemaps, stopping, and the counters and summary.
//
// The modes keep only how they wait (CrawlWaits): the async mode suspends coroutines on its event
// loop; sync and threads block a thread. The procedures are coroutines written once and awaited
// through CrawlWaits; in a blocking mode each wait has already happened when it returns, so the
// coroutine runs straight through on its thread (RunSync, await.h).
//
// A mode's dispatcher asks Next() what to do and does it: start a page or a robots.txt fetch
// (CrawlPage, FetchRobots: the host's turn is already booked, so nothing is held while a host
// waits for its delay), hand a turn to a request under way that asked for one (a retry, a redirect
// hop, a sitemap: TakeTurn), read URLs back from the database (Refill), wait until a host's delay
// passes or until something changes (CrawlWaits::Changed), or finish.
//
// As a worker of a shared frontier (options.shared_frontier), the core fetches only from hosts it
// holds a lease on: what the shared frontier grants goes into the HostScheduler, a host it loses
// is paused, idle hosts are given back, links go to the shared frontier as they are found, and a
// page is reported done once the store has committed it. No transfer starts that could outlive
// the leases (lease_deadline in shared_frontier.h).
//
// With an archive (options.archive), every answer is archived off the loop: a page's request,
// response and metadata records before its row is queued (the row says where they are), robots.txt,
// sitemaps, redirect hops and retried answers on their own.
//
// Threads: not thread-safe. The async mode calls it on its loop thread; the blocking modes hold
// their lock around every call, and CrawlWaits releases it while a thread blocks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "crawler/await.h"
#include "crawler/crawl_options.h"
#include "crawler/crawl_summary.h"
#include "crawler/fetch.h"
#include "crawler/frontier.h"
#include "crawler/host_scheduler.h"
#include "crawler/page_fetch.h"
#include "crawler/robots_policy.h"
#include "crawler/run_stats.h"
#include "crawler/shared_frontier.h"
#include "crawler/spill.h"
#include "crawler/task.h"
#include "storage/store.h"

namespace fanout {

using HostId = HostScheduler::HostId;

// One holder of turns on hosts: a page under way, a robots.txt fetch, a sitemap walk. A mode
// derives from it to keep what a turn comes with (the async mode: a --concurrency permit).
struct Turn {
  virtual ~Turn() = default;
  HostId host = 0;
  bool held = false;  // a request to `host` may start (or is under way)
};

// How a mode waits. Every call is made by the core with the mode's serialisation held.
class CrawlWaits {
 public:
  virtual ~CrawlWaits() = default;
  // A new holder of turns, holding none.
  virtual std::unique_ptr<Turn> NewTurn() = 0;
  // Until Wake(turn): the turn has come (turn.held) or will not (the crawl stops).
  virtual Await<void> AwaitTurn(Turn& turn) = 0;
  // Resumes whoever waits in AwaitTurn(turn).
  virtual void Wake(Turn& turn) = 0;
  // One transfer, `turn` held; gives back what the turn came with once it is over.
  virtual Await<FetchResponse> Transfer(Turn& turn, FetchRequest request) = 0;
  // Gives back what a turn came with when it ends with no transfer.
  virtual void Release(Turn& turn) = 0;
  virtual Await<void> Sleep(std::chrono::duration<double> d) = 0;
  // Runs `work` where CPU and the store may block: the pool, or this thread with the lock released.
  virtual Await<void> OffLoop(std::function<void()> work) = 0;
  // A store write nobody waits for (robots and skipped rows); its Status goes to Kept().
  virtual void Keep(std::function<Status()> write) = 0;
  // The scheduler's state changed (a host may go, a page slot is free, the crawl is over):
  // whoever waits for work should look again.
  virtual void Changed() = 0;
};

class CrawlCore {
 public:
  struct Work {
    enum class Kind {
      kPage,       // CrawlPage(item, host): the host's turn is booked
      kRobots,     // FetchRobots(host): the host's turn is booked
      kGranted,    // `turn`'s turn has come (it is held): give it what a turn comes with, Wake it
      kRefill,     // co_await Refill()
      kWaitUntil,  // nothing may go before `until` (or a change)
      kWaitChange, // nothing may go until something changes
      kDone,       // the crawl is over: dispatch nothing more
    };
    Kind kind = Kind::kDone;
    HostId host = 0;
    FrontierItem item = {};
    Turn* turn = nullptr;
    CrawlClock::time_point until = {};
  };

  CrawlCore(const CrawlOptions& options, Frontier& frontier, Store& store, int64_t run_id,
            const SpillCursor& spill_cursor);

  // What to do next. `page_slot`: whether the caller can start a new page now; `turns_only`: only
  // kGranted, kRobots and the waits (a blocking thread that waits for its own turn).
  Work Next(CrawlWaits& waits, bool page_slot, bool turns_only = false);

  // The procedures. `turn` holds the turn Next booked on `host`.
  Task<void> CrawlPage(FrontierItem item, HostId host, std::unique_ptr<Turn> turn, CrawlWaits& waits);
  Task<void> FetchRobots(HostId host, std::unique_ptr<Turn> turn, CrawlWaits& waits);
  // --sitemaps: the origins to walk, each counted as work in progress until its walk ends.
  std::vector<std::string> BeginSitemaps(const std::vector<std::string>& seeds);
  Task<void> WalkSitemaps(std::string origin, CrawlWaits& waits);
  // Reads URLs the frontier left in the database back into memory.
  Task<void> Refill(CrawlWaits& waits);

  // Stops dispatching (a Ctrl-C, or the store failed): requests waiting for a turn are woken
  // without one. `interrupted`: the run may be resumed, and the summary says so.
  void Stop(CrawlWaits& waits, bool interrupted);
  bool stopping() const { return stopping_; }
  // What a store call (a write, or a read back) returned: an error stops the crawl.
  void Kept(CrawlWaits& waits, const Status& stored);
  const Status& store_error() const { return store_error_; }
  // Work in progress: pages, robots.txt fetches and sitemap walks started and not finished.
  size_t active() const { return active_; }

  // As a worker of a shared frontier: gives back every host still held (the crawl is over).
  void ReleaseShared();

  CrawlProgress Progress() const;
  // The summary's figures the core knows; the mode adds its own (loop, pool, page slots).
  void Summarise(double wall, CrawlSummary& s);

 private:
  // Queues `turn` as a waiter on `host` and waits; false when the crawl stops instead.
  Task<bool> TakeTurn(Turn& turn, HostId host, CrawlWaits& waits);
  // TakeTurn for a page in progress (a retry, a redirect hop), counted with the time it took.
  Task<bool> PageTurn(Turn& turn, HostId host, CrawlWaits& waits);
  // One transfer on the held turn, measured; the turn is over after it. `page`: it fetches a page
  // (or a hop to one), whose links may come back to the host (HostScheduler::KeepConnection).
  Task<FetchResponse> Transfer(Turn& turn, FetchRequest request, CrawlWaits& waits, bool page = false);
  // Ends a held turn that made no transfer.
  void ReleaseTurn(Turn& turn, CrawlWaits& waits);
  // nullopt: the crawl stopped while the verdict needed a turn on the target's host.
  // `item`: the page redirected; `claimed` collects the targets it claimed.
  Task<std::optional<RedirectVerdict>> JudgeRedirect(std::string target, const FrontierItem& item, Turn& turn,
                                                     CrawlWaits& waits, std::vector<std::string>& claimed);
  // False when a second Ctrl-C cut the page's transfer (counted as dropped; the page is not
  // stored, so a resumed crawl fetches it again). Otherwise fills the record and sets `skip` to a
  // redirect target the crawl refused (counted when the page is, as are its retries).
  bool ConcludeFetch(PageFetch& fetch, int depth, PageRecord& record, std::optional<SkipRecord>& skip);
  // Drives `fetch` to kDone: transfers on the page's turn, retry waits, redirect verdicts. False when
  // the crawl stopped first (the page is left for a resumed crawl). Sets record.queue_wait the first time.
  Task<bool> DriveFetch(PageFetch& fetch, const FrontierItem& item, Turn& turn, CrawlWaits& waits,
                        std::vector<std::string>& claimed, CrawlClock::time_point taken, PageRecord& record);
  bool RefillWanted() const;
  // --warc: archives the answer `fetch` has now, which is not the page's (it is retried, or a
  // redirect hop); off the loop, nobody waiting.
  void ArchiveAside(PageFetch& fetch, CrawlWaits& waits);
  // Shared frontier: applies what it delivered; a lost host; idle hosts given back; the epoch a
  // host is held under (0: not held).
  void ApplyShared(CrawlWaits& waits);
  void LoseHost(HostId host, CrawlWaits& waits);
  void ReleaseIdleHosts();
  // Gives `host`, held under `epoch`, back to the shared frontier, its next request a delay after
  // this worker's last.
  void GiveBack(HostId host, int64_t epoch, CrawlClock::time_point now);
  // A robots.txt answer known for `host` (fetched, or kept by the shared frontier), with the
  // Crawl-delay its record gives.
  void KnowRobots(HostId host, std::shared_ptr<const RobotsTxt> robots, const RobotsRecord& record);
  int64_t EpochOf(HostId host) const;
  // Tells the shared frontier, once the store has committed it, that `url` is done.
  std::function<void()> ReportDone(const std::string& url, HostId host, int64_t epoch, bool page,
                                   std::vector<std::string> redirects, std::shared_ptr<void> hold = nullptr);
  void EndWork(CrawlWaits& waits);

  const CrawlOptions& options_;
  Frontier& frontier_;
  HostScheduler& hosts_;
  Store& store_;
  RobotsCache robots_;
  std::mt19937_64 random_{20261121};
  std::unordered_set<Turn*> waiting_;  // turns queued in the scheduler

  size_t active_ = 0;
  size_t pages_in_progress_ = 0, max_pages_in_progress_ = 0;
  int64_t dispatched_ = 0;     // pages taken for fetching: --max-pages counts them
  bool stopping_ = false;
  uint64_t host_waits_ = 0;    // times nothing could go though URLs were queued
  uint64_t page_turn_waits_ = 0;       // turns a page asked for (retries, redirect hops)
  double page_turn_wait_seconds_ = 0;  // ... and the time it waited for them
  InFlightMeter meter_;
  PageSamples samples_;
  Status store_error_;
  CrawlSummary summary_;
  CrawlClock::time_point started_ = CrawlClock::now();

  const int64_t run_id_;
  SpillCursor spill_cursor_;       // how far Refill has read
  bool refilling_ = false;
  SharedFrontier* shared_ = nullptr;
  WarcArchive* archive_ = nullptr;  // --warc
  struct Lease {
    int64_t epoch = 0;
    int idle_claims = 0;  // claims answered while the host had nothing to do here
    // URLs of the host taken and not yet reported done (their reports wait for the store): the host
    // is not given back before they are, or its next owner's epoch would refuse them.
    std::shared_ptr<std::atomic<int64_t>> unreported = std::make_shared<std::atomic<int64_t>>(0);
  };
  // Counts a URL of `host` as unreported until the returned token (and every copy) is gone.
  std::shared_ptr<void> HoldLease(HostId host);
  std::unordered_map<HostId, Lease> leases_;
  CrawlClock::time_point lease_deadline_{};  // no transfer may outlive it
  CrawlClock::duration lease_margin_{};      // the longest a transfer may take, and a second
  bool shared_over_ = false;                 // the shared frontier says the run is over
  bool shared_asked_ = false;                // asked for work, no claim answered since
  bool idle_flushed_ = false;                // asked the store to commit since the last page began
  std::vector<SharedLink>* collecting_ = nullptr;  // a page's links, while they are decided
  int64_t empty_refill_pages_ = -1;  // summary_.pages when a Refill last found nothing...
  bool empty_refill_idle_ = false;   // ... and whether nothing was in progress then
};

}  // namespace fanout
