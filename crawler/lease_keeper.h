// LeaseKeeper: everything a worker of a shared frontier (shared_frontier.h) does that a crawl on
// its own does not. The shared frontier grants this worker hosts under leases; the keeper queues
// what it hands over in the frontier, pauses a host it loses (and withdraws the turns waiting
// there: the new owner fetches them), gives back hosts that sit idle here, offers links as they are
// found, and reports a URL done only once the store has committed it, under the epoch it was taken
// under (a stale report is refused: fencing). A host is not given back while reports of its URLs
// wait for the store, or its next owner's epoch would refuse them. No transfer starts that could
// outlive the leases (Leased).
//
// With --per-ip or --ip-delay it leases addresses as well (shared_frontier.h): it books each held
// host's address as the lookup finds it, opens an address here once a claim says this worker holds
// it (closes it when a claim says it no longer does), and gives back those none of its hosts uses.
// Calls on one address are numbered, so that a claim sent before the latest is not believed about it.
//
// Without a shared frontier the keeper is inactive: it holds nothing, Leased() is always true, and
// ReportDone returns no report.
//
// Threads: not thread-safe; the crawl's owner serialises calls. The reports ReportDone returns run
// on the store's writer thread, and touch only the shared frontier and a counter of their own.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "crawler/crawl_waits.h"
#include "crawler/run_stats.h"
#include "crawler/shared_frontier.h"

namespace fanout {

class CrawlContext;

class LeaseKeeper {
 public:
  // `shared`: nullptr for a crawl on its own (the keeper is then inactive).
  LeaseKeeper(CrawlContext& crawl, SharedFrontier* shared);

  bool active() const { return shared_ != nullptr; }

  // Applies what the shared frontier delivered: hosts granted (with their robots.txt) and lost,
  // URLs to fetch; gives back hosts idle here for a few claims in a row.
  void Apply(CrawlWaits& waits);
  // Whether a transfer starting at `now` ends before the leases may.
  bool Leased(CrawlClock::time_point now) const;
  // Asks for more work when little is queued here; true when the run is over and nothing is left
  // here. Flushes the store once when this worker idles, so that its last pages are reported.
  bool NothingLeft(CrawlWaits& waits);
  // A page began: the worker is not idle.
  void PageBegun() { idle_flushed_ = false; }

  // The epoch `host` is held under (0: not held).
  int64_t EpochOf(HostId host) const;
  // Counts a URL of `host` as unreported until the returned token (and every copy) is gone.
  std::shared_ptr<void> Hold(HostId host);
  // The report that `url` of `host`, taken under `epoch`, is done (empty when inactive): called
  // once the store has committed it. `hold` goes with the report.
  std::function<void()> ReportDone(const std::string& url, HostId host, int64_t epoch, bool page,
                                   std::vector<std::string> redirects, std::shared_ptr<void> hold = nullptr);
  // Offers links to the shared frontier.
  void Offer(std::vector<SharedLink> links);
  // The links the frontier queues while `into` is set go there instead of one by one (a page's,
  // offered together). nullptr: one by one again.
  void CollectLinks(std::vector<SharedLink>* into) { collecting_ = into; }
  // robots.txt as fetched for `origin`, shared with the run's later owners of the host.
  void ShareRobots(const std::string& origin, SharedRobots robots, double delay);
  // Gives back every host and address still held (the crawl is over).
  void ReleaseAll();

 private:
  void LoseHost(HostId host, CrawlWaits& waits);
  void ReleaseIdleHosts();
  // Gives `host`, held under `epoch`, back, its next request a delay after this worker's last.
  void GiveBack(HostId host, int64_t epoch, CrawlClock::time_point now);
  // Leased addresses: books `host`'s (`key`) as its lookup finds it; opens those a claim says this
  // worker holds and closes those it lost; gives back the open ones no held host connects to.
  void BookAddress(HostId host, const std::string& key);
  void ApplyAddresses(const SharedDelivery& d, CrawlClock::time_point now);
  void ReleaseUnusedAddresses(CrawlClock::time_point now, bool all = false);

  struct Lease {
    int64_t epoch = 0;
    int idle_claims = 0;  // claims answered while the host had nothing to do here
    // URLs of the host taken and not yet reported done (their reports wait for the store).
    std::shared_ptr<std::atomic<int64_t>> unreported = std::make_shared<std::atomic<int64_t>>(0);
  };

  CrawlContext& crawl_;
  SharedFrontier* const shared_;
  std::unordered_map<HostId, Lease> leases_;
  struct AddressLease {
    bool open = false;     // this worker may send there
    uint64_t last_op = 0;  // the number of the last BookAddress or ReleaseAddress for it
  };
  std::unordered_map<std::string, AddressLease> addresses_;
  CrawlClock::time_point lease_deadline_{};  // no transfer may outlive it
  CrawlClock::duration lease_margin_{};      // the longest a transfer may take, and a second
  bool over_ = false;                        // the shared frontier says the run is over
  bool asked_ = false;                       // asked for work, no claim answered since
  bool idle_flushed_ = false;                // asked the store to commit since the last page began
  std::vector<SharedLink>* collecting_ = nullptr;
};

}  // namespace fanout
