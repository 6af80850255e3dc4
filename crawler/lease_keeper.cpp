#include "crawler/lease_keeper.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "crawler/crawl_context.h"
#include "crawler/url.h"

namespace fanout {

LeaseKeeper::LeaseKeeper(CrawlContext& crawl, SharedFrontier* shared) : crawl_(crawl), shared_(shared) {
  if (shared_ == nullptr) return;
  lease_margin_ = std::chrono::milliseconds(crawl.options.timeout_ms + 1000);
  crawl_.frontier.ShareWith([this](FrontierItem item) {
    SharedLink link{.url = std::move(item.url), .depth = item.depth, .parent = std::move(item.parent)};
    if (collecting_ != nullptr) {
      collecting_->push_back(std::move(link));
    } else {
      shared_->Offer({std::move(link)});
    }
  });
  if (LeasesAddresses(crawl.options)) {
    crawl_.frontier.ShareAddressesWith([this](HostId host, const std::string& key) { BookAddress(host, key); });
  }
}

void LeaseKeeper::BookAddress(HostId host, const std::string& key) {
  auto lease = leases_.find(host);
  if (lease == leases_.end()) return;  // lost since its lookup began: its new owner books it
  addresses_[key].last_op =
      shared_->BookAddress(std::string(crawl_.frontier.origin(host)), lease->second.epoch, key, crawl_.options.ip_delay);
}

void LeaseKeeper::ApplyAddresses(const SharedDelivery& d, CrawlClock::time_point now) {
  std::unordered_map<std::string_view, double> held;
  for (const auto& [key, wait] : d.addresses) held.emplace(key, wait);
  for (auto& [key, a] : addresses_) {
    if (a.last_op > d.address_ops) continue;  // the claim did not see the latest call on it yet
    auto it = held.find(key);
    if (it != held.end() && !a.open) {
      a.open = true;
      crawl_.frontier.OpenAddress(
          key, now + std::chrono::duration_cast<CrawlClock::duration>(std::chrono::duration<double>(it->second)), now);
    } else if (it == held.end() && a.open) {
      a.open = false;  // its lease ran out (this worker was away too long): another may hold it now
      crawl_.frontier.CloseAddress(key);
    }
  }
}

void LeaseKeeper::ReleaseUnusedAddresses(CrawlClock::time_point now, bool all) {
  if (addresses_.empty()) return;
  std::unordered_set<std::string_view> used;
  if (!all) {
    for (const auto& [host, lease] : leases_) {
      if (const std::string* key = crawl_.frontier.address_key(host)) used.insert(*key);
    }
  }
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    AddressLease& a = it->second;
    if (!a.open || used.contains(it->first)) {
      ++it;
      continue;
    }
    // Closed here before the frontier hears of it, so that nothing starts there once another
    // worker may hold it; the next holder waits what this worker's next request would have.
    crawl_.frontier.CloseAddress(it->first);
    const double gap = std::chrono::duration<double>(crawl_.frontier.address_next_start(it->first) - now).count();
    shared_->ReleaseAddress(it->first, gap);
    it = addresses_.erase(it);
  }
}

int64_t LeaseKeeper::EpochOf(HostId host) const {
  auto it = leases_.find(host);
  return it == leases_.end() ? 0 : it->second.epoch;
}

std::shared_ptr<void> LeaseKeeper::Hold(HostId host) {
  auto it = leases_.find(host);
  if (it == leases_.end()) return nullptr;
  std::shared_ptr<std::atomic<int64_t>> count = it->second.unreported;
  ++*count;
  return std::shared_ptr<void>(nullptr, [count](void*) { --*count; });
}

std::function<void()> LeaseKeeper::ReportDone(const std::string& url, HostId host, int64_t epoch, bool page,
                                              std::vector<std::string> redirects, std::shared_ptr<void> hold) {
  if (shared_ == nullptr) return {};
  // `hold` goes with the last copy of the callback, after the report is queued.
  return [shared = shared_, url, origin = std::string(crawl_.frontier.origin(host)), epoch, page,
          redirects = std::move(redirects), hold = std::move(hold)]() mutable {
    shared->Done(std::move(url), std::move(origin), epoch, page, std::move(redirects));
  };
}

void LeaseKeeper::Offer(std::vector<SharedLink> links) {
  if (shared_ != nullptr && !links.empty()) shared_->Offer(std::move(links));
}

void LeaseKeeper::ShareRobots(const std::string& origin, SharedRobots robots, double delay) {
  if (shared_ != nullptr) shared_->Robots(origin, std::move(robots), delay);
}

bool LeaseKeeper::Leased(CrawlClock::time_point now) const {
  return shared_ == nullptr || now + lease_margin_ < lease_deadline_;
}

void LeaseKeeper::Apply(CrawlWaits& waits) {
  if (shared_ == nullptr) return;
  SharedDelivery d = shared_->Take();
  if (!d.error.ok()) {
    crawl_.NoteStored(waits, d.error);
    return;
  }
  Frontier& frontier = crawl_.frontier;
  const CrawlClock::time_point now = CrawlClock::now();
  for (SharedLease& g : d.granted) {
    const HostId host = frontier.HostIdOf(g.origin);
    leases_[host] = Lease{.epoch = g.epoch, .idle_claims = 0};
    std::optional<CrawlClock::time_point> not_before;
    if (g.wait_seconds > 0) {
      not_before = now + std::chrono::duration_cast<CrawlClock::duration>(std::chrono::duration<double>(g.wait_seconds));
    }
    frontier.ResumeHost(host, not_before);
    // Looked up under an earlier lease: its address is booked again (this worker may have given
    // it back since).
    if (const std::string* key = frontier.address_key(host); key != nullptr && LeasesAddresses(crawl_.options)) {
      BookAddress(host, *key);
    }
    // Its robots.txt, as the worker that fetched it for the run got it.
    if (g.robots && !crawl_.options.ignore_robots && frontier.robots(host) == nullptr) {
      FetchResponse response;
      response.decoded = true;  // as the worker that fetched it decoded it
      response.status = g.robots->status;
      response.curl_code = g.robots->curl_code;
      response.body = std::move(g.robots->body);
      RobotsRecord record;
      crawl_.KnowRobots(host, crawl_.robots.Get(response, g.origin, crawl_.options, record), record);
    }
  }
  if (d.held_known) {
    lease_deadline_ = d.lease_deadline;
    over_ = d.run_over;
    asked_ = false;
    std::unordered_map<std::string_view, int64_t> held;
    for (const auto& [origin, epoch] : d.held) held.emplace(origin, epoch);
    std::vector<HostId> lost;
    for (const auto& [host, lease] : leases_) {
      auto it = held.find(frontier.origin(host));
      if (it == held.end() || it->second != lease.epoch) lost.push_back(host);
    }
    ApplyAddresses(d, now);
    for (HostId host : lost) LoseHost(host, waits);
  }
  for (FrontierItem& item : d.urls) {
    const HostId host = frontier.HostIdOf(OriginOf(item.url));
    auto lease = leases_.find(host);
    if (lease == leases_.end()) continue;  // lost since: its new owner has it
    lease->second.idle_claims = 0;
    frontier.MarkSeen(item.url);
    frontier.Restore(std::move(item));
  }
  if (d.held_known) {
    ReleaseIdleHosts();
    ReleaseUnusedAddresses(now);
  }
}

void LeaseKeeper::LoseHost(HostId host, CrawlWaits& waits) {
  leases_.erase(host);
  crawl_.frontier.PauseHost(host);
  ++crawl_.counters.summary.hosts_lost;
  // Requests under way that wait for a turn there end without one: the new owner fetches them.
  crawl_.turns.WithdrawHost(host, waits);
}

void LeaseKeeper::ReleaseIdleHosts() {
  // A host idle here for a few claims in a row goes back, so that hosts do not sit with a worker
  // that has nothing to do for them while another could crawl them.
  constexpr int kIdleClaims = 3;
  const CrawlClock::time_point now = CrawlClock::now();
  for (auto it = leases_.begin(); it != leases_.end();) {
    const HostId host = it->first;
    if (!crawl_.frontier.idle(host) || *it->second.unreported > 0) {
      it->second.idle_claims = 0;
      ++it;
    } else if (++it->second.idle_claims < kIdleClaims) {
      ++it;
    } else {
      GiveBack(host, it->second.epoch, now);
      crawl_.frontier.PauseHost(host);
      it = leases_.erase(it);
    }
  }
}

void LeaseKeeper::GiveBack(HostId host, int64_t epoch, CrawlClock::time_point now) {
  shared_->Release(std::string(crawl_.frontier.origin(host)), epoch,
                   std::chrono::duration<double>(crawl_.frontier.next_start(host) - now).count());
}

void LeaseKeeper::ReleaseAll() {
  if (shared_ == nullptr) return;
  const CrawlClock::time_point now = CrawlClock::now();
  for (const auto& [host, lease] : leases_) GiveBack(host, lease.epoch, now);
  leases_.clear();
  ReleaseUnusedAddresses(now, /*all=*/true);
}

bool LeaseKeeper::NothingLeft(CrawlWaits& waits) {
  // Work comes from the shared frontier: ask for more while little is queued here, or while too few
  // hosts have something to send to fill --concurrency within --per-host (URLs queued behind a
  // host's limit do not fill it), and finish once the frontier says the run is over and nothing is
  // left here.
  const CrawlOptions& options = crawl_.options;
  const Frontier& frontier = crawl_.frontier;
  const size_t want = 4 * options.concurrency;
  const bool few_urls = frontier.in_memory() < want / 2;
  const bool few_hosts = frontier.busy_hosts() * options.per_host < 2 * options.concurrency;
  if (!asked_ && (few_urls || few_hosts)) {
    shared_->WantWork(std::max(want - std::min(want, frontier.in_memory()), 2 * options.concurrency));
    asked_ = true;
  }
  if (crawl_.active() == 0 && frontier.in_memory() == 0) {
    if (over_) return true;
    // Idle here: what the store holds uncommitted is reported done only once it commits, and the
    // run may be waiting for just that to end.
    if (!idle_flushed_) {
      idle_flushed_ = true;
      waits.WriteBehind([&store = crawl_.store] { return store.Flush(); });
    }
  }
  return false;
}

}  // namespace fanout
