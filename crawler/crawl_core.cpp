#include "crawler/crawl_core.h"

#include <algorithm>

#include "crawler/archive_transfer.h"
#include "crawler/page_content.h"
#include "crawler/sitemap_walk.h"
#include "crawler/url.h"
#include "util/clock.h"

namespace fanout {
namespace {

// Counts a procedure as work in progress until it ends, however it ends.
class WorkGuard {
 public:
  WorkGuard(std::function<void()> end) : end_(std::move(end)) {}  // NOLINT
  WorkGuard(const WorkGuard&) = delete;
  WorkGuard& operator=(const WorkGuard&) = delete;
  ~WorkGuard() { end_(); }

 private:
  std::function<void()> end_;
};

}  // namespace

CrawlCore::CrawlCore(const CrawlOptions& options, Frontier& frontier, Store& store, int64_t run_id,
                     const SpillCursor& spill_cursor)
    : options_(options),
      frontier_(frontier),
      hosts_(frontier.hosts()),
      store_(store),
      meter_(options.concurrency),
      run_id_(run_id),
      spill_cursor_(spill_cursor) {
  shared_ = options.shared_frontier.get();
  archive_ = options.archive.get();
  if (shared_ != nullptr) {
    lease_margin_ = std::chrono::milliseconds(options.timeout_ms + 1000);
    frontier_.ShareWith([this](FrontierItem item) {
      SharedLink link{.url = std::move(item.url), .depth = item.depth, .parent = std::move(item.parent)};
      if (collecting_ != nullptr) {
        collecting_->push_back(std::move(link));
      } else {
        shared_->Offer({std::move(link)});
      }
    });
  }
}

int64_t CrawlCore::EpochOf(HostId host) const {
  auto it = leases_.find(host);
  return it == leases_.end() ? 0 : it->second.epoch;
}

std::shared_ptr<void> CrawlCore::HoldLease(HostId host) {
  auto it = leases_.find(host);
  if (it == leases_.end()) return nullptr;
  std::shared_ptr<std::atomic<int64_t>> count = it->second.unreported;
  ++*count;
  return std::shared_ptr<void>(nullptr, [count](void*) { --*count; });
}

std::function<void()> CrawlCore::ReportDone(const std::string& url, HostId host, int64_t epoch, bool page,
                                            std::vector<std::string> redirects, std::shared_ptr<void> hold) {
  if (shared_ == nullptr) return {};
  // `hold` goes with the last copy of the callback, after the report is queued.
  return [shared = shared_, url, origin = std::string(hosts_.origin(host)), epoch, page,
          redirects = std::move(redirects), hold = std::move(hold)]() mutable {
    shared->Done(std::move(url), std::move(origin), epoch, page, std::move(redirects));
  };
}

void CrawlCore::ApplyShared(CrawlWaits& waits) {
  SharedDelivery d = shared_->Take();
  if (!d.error.ok()) {
    Kept(waits, d.error);
    return;
  }
  const CrawlClock::time_point now = CrawlClock::now();
  for (SharedLease& g : d.granted) {
    const HostId host = hosts_.Intern(g.origin);
    leases_[host] = Lease{.epoch = g.epoch, .idle_claims = 0};
    hosts_.Resume(host);
    if (g.wait_seconds > 0) {
      hosts_.Defer(host, now + std::chrono::duration_cast<CrawlClock::duration>(
                                   std::chrono::duration<double>(g.wait_seconds)));
    }
    // Its robots.txt, as the worker that fetched it for the run got it.
    if (g.robots && !options_.ignore_robots && hosts_.robots(host) == nullptr) {
      FetchResponse response;
      response.decoded = true;  // as the worker that fetched it decoded it
      response.status = g.robots->status;
      response.curl_code = g.robots->curl_code;
      response.body = std::move(g.robots->body);
      RobotsRecord record;
      KnowRobots(host, robots_.Get(response, g.origin, options_, record), record);
    }
  }
  if (d.held_known) {
    lease_deadline_ = d.lease_deadline;
    shared_over_ = d.run_over;
    shared_asked_ = false;
    std::unordered_map<std::string_view, int64_t> held;
    for (const auto& [origin, epoch] : d.held) held.emplace(origin, epoch);
    std::vector<HostId> lost;
    for (const auto& [host, lease] : leases_) {
      auto it = held.find(hosts_.origin(host));
      if (it == held.end() || it->second != lease.epoch) lost.push_back(host);
    }
    for (HostId host : lost) LoseHost(host, waits);
  }
  for (FrontierItem& item : d.urls) {
    const HostId host = hosts_.Intern(OriginOf(item.url));
    auto lease = leases_.find(host);
    if (lease == leases_.end()) continue;  // lost since: its new owner has it
    lease->second.idle_claims = 0;
    frontier_.MarkSeen(item.url);
    frontier_.Restore(std::move(item));
  }
  if (d.held_known) ReleaseIdleHosts();
}

void CrawlCore::LoseHost(HostId host, CrawlWaits& waits) {
  leases_.erase(host);
  hosts_.Pause(host);
  ++summary_.hosts_lost;
  // Requests under way that wait for a turn there end without one: the new owner fetches them.
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    Turn* turn = *it;
    if (turn->host != host) {
      ++it;
      continue;
    }
    hosts_.Withdraw(host, turn);
    it = waiting_.erase(it);
    waits.Wake(*turn);
  }
}

void CrawlCore::ReleaseIdleHosts() {
  // A host idle here for a few claims in a row goes back, so that hosts do not sit with a worker
  // that has nothing to do for them while another could crawl them.
  constexpr int kIdleClaims = 3;
  const CrawlClock::time_point now = CrawlClock::now();
  for (auto it = leases_.begin(); it != leases_.end();) {
    const HostId host = it->first;
    if (!hosts_.idle(host) || *it->second.unreported > 0) {
      it->second.idle_claims = 0;
      ++it;
    } else if (++it->second.idle_claims < kIdleClaims) {
      ++it;
    } else {
      GiveBack(host, it->second.epoch, now);
      hosts_.Pause(host);
      it = leases_.erase(it);
    }
  }
}

void CrawlCore::GiveBack(HostId host, int64_t epoch, CrawlClock::time_point now) {
  shared_->Release(std::string(hosts_.origin(host)), epoch,
                   std::chrono::duration<double>(hosts_.next_start(host) - now).count());
}

void CrawlCore::ReleaseShared() {
  if (shared_ == nullptr) return;
  const CrawlClock::time_point now = CrawlClock::now();
  for (const auto& [host, lease] : leases_) GiveBack(host, lease.epoch, now);
  leases_.clear();
}

void CrawlCore::KnowRobots(HostId host, std::shared_ptr<const RobotsTxt> robots, const RobotsRecord& record) {
  std::optional<double> crawl_delay;
  if (record.crawl_delay >= 0) crawl_delay = record.crawl_delay;
  hosts_.SetRobots(host, std::move(robots), crawl_delay, CrawlClock::now());
}

bool CrawlCore::RefillWanted() const {
  if (!frontier_.wants_refill() || refilling_) return false;
  // Pages stored since the last empty read may have committed more; with nothing in progress,
  // everything is in the store's hands and one more read finds it all.
  return empty_refill_pages_ != summary_.pages || (active_ == 0 && !empty_refill_idle_);
}

CrawlCore::Work CrawlCore::Next(CrawlWaits& waits, bool page_slot, bool turns_only) {
  while (true) {
    if (stopping_) return {.kind = Work::Kind::kDone};
    if (shared_ != nullptr) {
      ApplyShared(waits);
      if (stopping_) return {.kind = Work::Kind::kDone};
    }
    const bool page_budget = options_.max_pages <= 0 || dispatched_ < options_.max_pages;
    const CrawlClock::time_point now = CrawlClock::now();
    // A shared frontier's worker starts nothing that could outlive its leases.
    const bool leased = shared_ == nullptr || now + lease_margin_ < lease_deadline_;
    const HostScheduler::Pick pick =
        leased ? hosts_.Next(now, page_slot && page_budget && !turns_only) : HostScheduler::Pick{};
    switch (pick.kind) {
      case HostScheduler::Pick::Kind::kRobots:
        hosts_.SetRobotsFetching(pick.host, now);
        hosts_.Start(pick.host, now, /*served=*/false);
        ++active_;
        return {.kind = Work::Kind::kRobots, .host = pick.host};
      case HostScheduler::Pick::Kind::kWaiter: {
        Turn* turn = static_cast<Turn*>(hosts_.TakeWaiter(pick.host));
        waiting_.erase(turn);
        hosts_.Start(pick.host, now);
        turn->host = pick.host;
        turn->held = true;
        return {.kind = Work::Kind::kGranted, .host = pick.host, .turn = turn};
      }
      case HostScheduler::Pick::Kind::kUrl: {
        std::string fetched;
        std::optional<FrontierItem> item = frontier_.Take(pick.host, &fetched);
        if (!item) {
          // Fetched already: as a redirect's target, or (a shared frontier handing it out again)
          // by this worker before its report was refused. It is stored here either way: done.
          if (std::function<void()> done = ReportDone(fetched, pick.host, EpochOf(pick.host), true, {})) done();
          continue;
        }
        if (const RobotsTxt* robots = hosts_.robots(pick.host)) {
          RobotsVerdict verdict = robots->Check(PathAndQueryOf(item->url));
          if (!verdict.allowed) {
            SkipRecord skip = RobotsRefusal(*item, verdict, summary_);
            waits.Keep([this, skip = std::move(skip),
                        done = ReportDone(item->url, pick.host, EpochOf(pick.host), false, {},
                                          HoldLease(pick.host))]() mutable {
              return store_.AddSkip(std::move(skip), std::move(done));
            });
            continue;
          }
        }
        hosts_.Start(pick.host, now);
        ++active_;
        ++dispatched_;
        idle_flushed_ = false;
        return {.kind = Work::Kind::kPage, .host = pick.host, .item = std::move(*item)};
      }
      case HostScheduler::Pick::Kind::kNone: break;
    }
    if (turns_only) {
      if (std::optional<CrawlClock::time_point> wake = hosts_.NextWake()) {
        return {.kind = Work::Kind::kWaitUntil, .until = *wake};
      }
      return {.kind = Work::Kind::kWaitChange};
    }
    if (!page_budget) {  // at --max-pages: wait for what is in progress, then finish
      return {.kind = active_ == 0 ? Work::Kind::kDone : Work::Kind::kWaitChange};
    }
    if (RefillWanted()) return {.kind = Work::Kind::kRefill};
    if (shared_ != nullptr) {
      // Work comes from the shared frontier: ask for more while little is queued here, or while
      // too few hosts have something to send to fill --concurrency within --per-host (URLs queued
      // behind a host's limit do not fill it), and finish once the frontier says the run is over
      // and nothing is left here.
      const size_t want = 4 * options_.concurrency;
      const bool few_urls = frontier_.in_memory() < want / 2;
      const bool few_hosts = hosts_.busy_hosts() * options_.per_host < 2 * options_.concurrency;
      if (!shared_asked_ && (few_urls || few_hosts)) {
        shared_->WantWork(std::max(want - std::min(want, frontier_.in_memory()), 2 * options_.concurrency));
        shared_asked_ = true;
      }
      if (active_ == 0 && frontier_.in_memory() == 0) {
        if (shared_over_) return {.kind = Work::Kind::kDone};
        // Idle here: what the store holds uncommitted is reported done only once it commits, and
        // the run may be waiting for just that to end.
        if (!idle_flushed_) {
          idle_flushed_ = true;
          waits.Keep([this] { return store_.Flush(); });
        }
      }
      if (!leased) return {.kind = Work::Kind::kWaitChange};  // a claim's answer wakes us
    }
    const std::optional<CrawlClock::time_point> wake = hosts_.NextWake();
    // Nothing in progress, no host to wake for and nothing more to read back: the crawl is over.
    // What is still counted as queued then cannot be had (the store could not give it back).
    if (active_ == 0 && !wake && !refilling_ && shared_ == nullptr) return {.kind = Work::Kind::kDone};
    if (frontier_.in_memory() > 0) ++host_waits_;
    if (wake) return {.kind = Work::Kind::kWaitUntil, .until = *wake};
    return {.kind = Work::Kind::kWaitChange};
  }
}

Task<bool> CrawlCore::TakeTurn(Turn& turn, HostId host, CrawlWaits& waits) {
  if (stopping_) co_return false;
  turn.host = host;
  turn.held = false;
  hosts_.AddWaiter(host, &turn);
  waiting_.insert(&turn);
  waits.Changed();  // the dispatcher may grant it at once
  co_await waits.AwaitTurn(turn);
  co_return turn.held;
}

Task<bool> CrawlCore::PageTurn(Turn& turn, HostId host, CrawlWaits& waits) {
  const CrawlClock::time_point asked = CrawlClock::now();
  ++page_turn_waits_;
  const bool held = co_await TakeTurn(turn, host, waits);
  page_turn_wait_seconds_ += SecondsSince(asked);
  co_return held;
}

Task<FetchResponse> CrawlCore::Transfer(Turn& turn, FetchRequest request, CrawlWaits& waits, bool page) {
  request.keep_alive = hosts_.KeepConnection(turn.host, page);
  meter_.Change(+1, frontier_.queued());
  const CrawlClock::time_point started = CrawlClock::now();
  FetchResponse response = co_await waits.Transfer(turn, std::move(request));
  meter_.Change(-1, frontier_.queued());
  if (response.ok()) hosts_.SetMultiplexes(turn.host, response.http_version == "2");
  // The request went out once its connection was made (and TLS negotiated), as curl reports it:
  // the host's delay counts from then.
  hosts_.Finish(turn.host, CrawlClock::now(),
                started + std::chrono::duration_cast<CrawlClock::duration>(
                              std::chrono::duration<double>(response.timings.request_sent)));
  turn.held = false;
  waits.Changed();  // the host, and a --concurrency permit, are free again
  co_return response;
}

void CrawlCore::ReleaseTurn(Turn& turn, CrawlWaits& waits) {
  waits.Release(turn);
  hosts_.Finish(turn.host, CrawlClock::now());
  turn.held = false;
  waits.Changed();
}

void CrawlCore::EndWork(CrawlWaits& waits) {
  --active_;
  waits.Changed();
}

Task<void> CrawlCore::FetchRobots(HostId host, std::unique_ptr<Turn> turn, CrawlWaits& waits) {
  WorkGuard work([&] { EndWork(waits); });
  turn->host = host;
  turn->held = true;
  const std::string origin(hosts_.origin(host));
  FetchRequest request = RobotsRequest(options_, origin);
  const std::string url = request.url;
  const size_t max_bytes = request.max_bytes;
  FetchResponse response = co_await Transfer(*turn, std::move(request), waits);
  if (archive_ != nullptr || NeedsDecoding(response)) {
    Status archived;
    co_await waits.OffLoop([&] {
      if (archive_ != nullptr) archived = ArchiveTransfer(*archive_, url, response);
      // One that cannot be decoded says nothing: as an empty file, it allows all.
      if (!DecodeBody(response, max_bytes).ok()) response.body.clear();
    });
    Kept(waits, archived);
  }
  ++summary_.robots_fetched;
  RobotsRecord record;
  record.fetched_at = UnixNow();
  std::shared_ptr<const RobotsTxt> robots = robots_.Get(response, origin, options_, record);
  if (record.verdict == "disallow_all") ++summary_.robots_refused_origins;
  KnowRobots(host, std::move(robots), record);
  if (shared_ != nullptr) {
    shared_->Robots(origin,
                    SharedRobots{.status = static_cast<int>(response.status), .curl_code = response.curl_code,
                                 .body = response.body},
                    hosts_.delay(host));
  }
  waits.Keep([this, record = std::move(record)]() mutable { return store_.AddRobots(std::move(record)); });
}

Task<std::optional<RedirectVerdict>> CrawlCore::JudgeRedirect(std::string target, const FrontierItem& item, Turn& turn,
                                                              CrawlWaits& waits, std::vector<std::string>& claimed) {
  // Scope first: a host the crawl will not visit is not asked for its robots.txt.
  if (Frontier::Verdict v = frontier_.CheckRedirect(target); v != Frontier::Verdict::kQueued) {
    co_return RedirectVerdict{.follow = false, .reason = Frontier::ReasonFor(v), .detail = ""};
  }
  // The hop is a request to the target's host like any other: its robots.txt, its limits, its delay.
  const HostId host = hosts_.Intern(OriginOf(target));
  if (shared_ != nullptr && EpochOf(host) == 0) {
    // Another worker's host, or nobody's yet: whoever holds it fetches the target.
    shared_->Offer({SharedLink{.url = target, .depth = item.depth, .parent = item.url}});
    co_return RedirectVerdict{.follow = false, .reason = "handed_over",
                              .detail = "its host is crawled by the worker that holds it"};
  }
  if (!co_await PageTurn(turn, host, waits)) co_return std::nullopt;
  RedirectVerdict verdict = fanout::JudgeRedirect(target, frontier_, hosts_.robots(host));
  if (!verdict.follow) ReleaseTurn(turn, waits);
  if (verdict.follow) claimed.push_back(target);
  co_return verdict;
}

bool CrawlCore::ConcludeFetch(PageFetch& fetch, int depth, PageRecord& record, std::optional<SkipRecord>& skip) {
  if (fetch.response().curl_code == CURLE_ABORTED_BY_CALLBACK) {
    ++summary_.dropped;
    return false;
  }
  fetch.Fill(record);
  skip = fetch.skipped_target();
  if (skip) skip->depth = depth;
  return true;
}

void CrawlCore::ArchiveAside(PageFetch& fetch, CrawlWaits& waits) {
  if (archive_ == nullptr || !Archivable(fetch.response())) return;
  waits.Keep([archive = archive_, url = fetch.url(), response = std::move(fetch.response())] {
    return ArchiveTransfer(*archive, url, response);
  });
}

Task<bool> CrawlCore::DriveFetch(PageFetch& fetch, const FrontierItem& item, Turn& turn, CrawlWaits& waits,
                                  std::vector<std::string>& claimed, CrawlClock::time_point taken, PageRecord& record) {
  for (;;) {
    switch (fetch.Next()) {
      case PageFetch::Step::kFetch: {
        // A retry: the host's limits and delay again. Stopped: left for a resumed crawl (it is
        // still a followed link).
        if (!turn.held && !co_await PageTurn(turn, turn.host, waits)) co_return false;
        if (record.queue_wait < 0) record.queue_wait = SecondsSince(taken);
        FetchRequest request = fetch.request();
        fetch.OnResponse(co_await Transfer(turn, std::move(request), waits, /*page=*/true));
        break;
      }
      case PageFetch::Step::kWait:
        ArchiveAside(fetch, waits);  // the answer that is retried
        co_await waits.Sleep(std::chrono::duration<double>(fetch.wait_seconds()));
        if (stopping_) co_return false;  // the retry is left for a resumed crawl
        break;
      case PageFetch::Step::kCheckRedirect: {
        std::optional<RedirectVerdict> verdict =
            co_await JudgeRedirect(fetch.redirect_target(), item, turn, waits, claimed);
        if (!verdict) co_return false;
        if (verdict->follow) ArchiveAside(fetch, waits);  // a hop: the page is its target's
        fetch.OnRedirectVerdict(std::move(*verdict));
        break;
      }
      case PageFetch::Step::kDone: co_return true;
    }
  }
}

Task<void> CrawlCore::CrawlPage(FrontierItem item, HostId host, std::unique_ptr<Turn> turn, CrawlWaits& waits) {
  max_pages_in_progress_ = std::max(max_pages_in_progress_, ++pages_in_progress_);
  WorkGuard work([&] {
    if (turn->held) ReleaseTurn(*turn, waits);
    hosts_.Settle(host);  // the page's links are queued by now, or there are none
    --pages_in_progress_;
    EndWork(waits);
  });
  turn->host = host;
  turn->held = true;
  PageRecord first;  // what every round's record starts from
  first.url = item.url;
  first.depth = item.depth;
  first.queue_wait = -1;  // not yet: set at the first transfer
  const CrawlClock::time_point taken = CrawlClock::now();
  first.fetched_at = UnixNow();
  PageFetch fetch(options_, item.url, random_());
  const int64_t epoch = EpochOf(host);
  std::shared_ptr<void> hold = HoldLease(host);  // the host stays here until the page is reported
  std::vector<std::string> claimed;  // redirect targets this page fetched
  if (!co_await DriveFetch(fetch, item, *turn, waits, claimed, taken, first)) co_return;

  // One round per page the fetch ends on; a meta refresh that is followed starts another, for its
  // target. Each round takes one trip off the loop: parse, free the body, and wait for room in the
  // store. Then the links are decided and the page queued in one step here, so the writer sees pages
  // in the order their links were decided (it settles unsure links in that order: see frontier.h).
  PageRecord record;
  PageLinks parsed;
  std::vector<LinkCandidate> left;  // the links of pages a meta refresh left, found all the same
  std::optional<SkipRecord> skip;
  Result<double> room = 0.0;
  Status archived;
  for (;;) {
    record = first;
    if (!ConcludeFetch(fetch, item.depth, record, skip)) co_return;
    FetchResponse& response = fetch.response();
    const bool parse = ShouldParse(response);
    const std::string page_url = fetch.url();
    parsed = {};
    // The records are built from the body as received, before parsing decodes it; the page's row
    // is queued only once its records are written, so the index never points past the archive.
    std::optional<WarcBatch> batch;
    const auto write_page = [&] {
      if (batch) {
        archive_->AddMetadata(*batch, MetadataOf(record, item.parent, parsed.candidates));
        Result<WarcLocation> at = archive_->Write(std::move(*batch));
        if (at.ok()) {
          NoteLocation(*at, record);
        } else {
          archived = at.status();
        }
      }
      if (archived.ok()) room = store_.WaitForRoom();
    };
    co_await waits.OffLoop([&] {
      if (archive_ != nullptr && Archivable(response)) batch.emplace(archive_->Prepare(ExchangeOf(page_url, response)));
      if (parse) parsed = ParsePage(page_url, response, options_, record);
      std::string().swap(response.body);
      if (parsed.refresh.empty()) write_page();  // else it waits for the refresh's verdict
    });
    if (parse) CountParse(parsed.fast_path, parsed.bailout, summary_);
    if (parsed.refresh.empty()) break;
    if (fetch.OnMetaRefresh(parsed.refresh, parsed.refresh_delay)) {
      if (!co_await DriveFetch(fetch, item, *turn, waits, claimed, taken, first)) co_return;
      if (fetch.url() != page_url) {  // followed: the refresh page was a hop, and its links count
        if (batch) waits.Keep([this, batch = std::move(*batch)]() mutable { return archive_->Write(std::move(batch)).status(); });
        std::move(parsed.candidates.begin(), parsed.candidates.end(), std::back_inserter(left));
        continue;
      }
      fetch.FillChain(record);  // not followed: the refresh page is the page, with its hop noted
      skip = fetch.skipped_target();
      if (skip) skip->depth = item.depth;
    }
    co_await waits.OffLoop(write_page);
    break;
  }
  if (!archived.ok()) {  // not stored: a resumed crawl fetches it again
    Kept(waits, archived);
    co_return;
  }
  if (skip) {
    ++summary_.skipped_by_reason[skip->reason];
    waits.Keep([this, skip = std::move(*skip)]() mutable { return store_.AddSkip(std::move(skip)); });
  }
  summary_.retries += fetch.retries();
  std::move(left.begin(), left.end(), std::back_inserter(parsed.candidates));
  std::vector<SharedLink> found;  // a shared frontier's worker offers the page's links at once
  collecting_ = shared_ != nullptr ? &found : nullptr;
  std::vector<LinkRecord> links = DecideLinks(std::move(parsed.candidates), fetch.url(), item.depth, options_,
                                              frontier_, summary_.skipped_by_reason);
  collecting_ = nullptr;
  if (!found.empty()) shared_->Offer(std::move(found));
  CountPage(record, links.size(), summary_, samples_);
  Kept(waits, room.ok() ? store_.AddPageNow(std::move(record), std::move(links), *room,
                                            ReportDone(item.url, host, epoch, true, std::move(claimed), hold))
                        : room.status());
}

std::vector<std::string> CrawlCore::BeginSitemaps(const std::vector<std::string>& seeds) {
  if (!options_.sitemaps) return {};
  std::vector<std::string> origins = OriginsOf(seeds);
  active_ += origins.size();
  return origins;
}

Task<void> CrawlCore::WalkSitemaps(std::string origin, CrawlWaits& waits) {
  WorkGuard work([&] { EndWork(waits); });
  const HostId host = hosts_.Intern(origin);
  std::unique_ptr<Turn> turn = waits.NewTurn();
  // A turn on the host makes its robots.txt known first: its Sitemap: lines start the walk.
  if (!co_await TakeTurn(*turn, host, waits)) co_return;
  const RobotsTxt* robots = hosts_.robots(host);
  SitemapWalk walk(origin, robots != nullptr ? robots->sitemaps() : std::vector<std::string>{}, options_.url_rules);
  while (std::optional<std::string> url = walk.Next()) {
    if (robots != nullptr && !robots->Check(PathAndQueryOf(*url)).allowed) continue;
    if (!turn->held && !co_await TakeTurn(*turn, host, waits)) break;
    FetchRequest request = SitemapRequest(options_, *url);
    const size_t max_bytes = request.max_bytes;
    FetchResponse response = co_await Transfer(*turn, std::move(request), waits);
    std::optional<Result<Sitemap>> sitemap;
    Status archived;
    co_await waits.OffLoop([&] {
      if (archive_ != nullptr) archived = ArchiveTransfer(*archive_, *url, response);
      Status decoded = DecodeBody(response, max_bytes);
      sitemap.emplace(decoded.ok() ? SitemapWalk::Parse(response) : Result<Sitemap>(decoded));
    });
    Kept(waits, archived);
    walk.Apply(*url, *sitemap, frontier_);
    waits.Changed();
  }
  if (turn->held) ReleaseTurn(*turn, waits);
  CountSitemaps(walk.stats(), summary_);
}

Task<void> CrawlCore::Refill(CrawlWaits& waits) {
  refilling_ = true;
  const size_t room = frontier_.room();
  const SpillCursor cursor = spill_cursor_;
  const bool idle = active_ == 0;
  std::optional<Result<SpillRead>> read;
  co_await waits.OffLoop([&] { read.emplace(ReadSpilled(store_, run_id_, cursor, room)); });
  refilling_ = false;
  if (!read->ok()) {
    Kept(waits, read->status());
    co_return;
  }
  ++summary_.frontier_refills;
  if (RestoreSpilled(**read, frontier_, spill_cursor_) == 0) {
    empty_refill_pages_ = summary_.pages;
    empty_refill_idle_ = idle;
  }
  waits.Changed();
}

void CrawlCore::Stop(CrawlWaits& waits, bool interrupted) {
  if (interrupted) summary_.interrupted = true;
  stopping_ = true;
  for (Turn* turn : std::exchange(waiting_, {})) {
    hosts_.Withdraw(turn->host, turn);
    waits.Wake(*turn);  // without a turn: it ends
  }
  waits.Changed();
}

void CrawlCore::Kept(CrawlWaits& waits, const Status& stored) {
  if (!stored.ok() && store_error_.ok()) {
    store_error_ = stored;
    Stop(waits, false);  // nothing more can be kept: stop fetching
  }
}

CrawlProgress CrawlCore::Progress() const {
  return {summary_.pages, summary_.errors, meter_.in_flight(), frontier_.queued(), SecondsSince(started_)};
}

void CrawlCore::Summarise(double wall, CrawlSummary& s) {
  s = summary_;
  SummariseRun(samples_, meter_, options_, wall, s);
  s.max_pages_in_progress = max_pages_in_progress_;
  s.per_host_bound = host_waits_ > 0 && options_.per_host < options_.concurrency;
  s.hosts = hosts_.hosts();
  s.host_memory_bytes = hosts_.memory_bytes() + robots_.memory_bytes();
  s.host_queue_bytes = hosts_.queue_memory_bytes();
  s.robots_distinct = robots_.distinct();
  s.page_turn_waits = page_turn_waits_;
  s.page_turn_wait_seconds = page_turn_wait_seconds_;
  s.scheduler_heap_steps = hosts_.heap_steps();
}

}  // namespace fanout
