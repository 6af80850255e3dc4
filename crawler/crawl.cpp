#include "crawler/crawl.h"

#include <chrono>
#include <cmath>
#include <optional>
#include <random>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "crawler/async_event.h"
#include "crawler/crawl_control.h"
#include "crawler/crawl_blocking.h"
#include "crawler/event_loop.h"
#include "crawler/fetch.h"
#include "crawler/semaphore.h"
#include "crawler/page_fetch.h"
#include "crawler/page_work.h"
#include "crawler/thread_pool.h"
#include "crawler/url.h"

#ifndef FANOUT_VERSION
#define FANOUT_VERSION "0.0.0"
#endif

namespace fanout {
namespace {

// One waiter, many notifiers: the dispatcher sleeps here until the frontier or the set of pages
// in progress changes.
class Wakeup {
 public:
  explicit Wakeup(EventLoop& loop) : loop_(loop) {}
  auto Wait() {
    struct Op {
      Wakeup& w;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { w.waiter_ = h; }
      void await_resume() const noexcept {}
    };
    return Op{*this};
  }
  void Notify() {
    if (waiter_) loop_.Schedule(std::exchange(waiter_, {}));
  }

 private:
  EventLoop& loop_;
  std::coroutine_handle<> waiter_;
};

class Crawler {
 public:
  Crawler(const CrawlOptions& options, EventLoop& loop, Frontier& frontier, Store& store, size_t threads,
          CrawlControl& control, int64_t run_id, const SpillCursor& spill_cursor)
      : options_(options),
        loop_(loop),
        frontier_(frontier),
        store_(store),
        control_(&control),
        control_wakeup_(loop),
        fetcher_(loop, FetcherOptions{.user_agent = options.user_agent.empty() ? DefaultUserAgent() : options.user_agent,
                                      .http2 = true,
                                      .abort = control.abort_flag()}),
        pool_(loop, threads),
        transfers_(loop, options.concurrency),
        pages_(loop, options.concurrency + std::max<size_t>(16, 4 * threads)),
        wakeup_(loop),
        meter_(options.concurrency),
        run_id_(run_id),
        spill_cursor_(spill_cursor) {}

  Task<void> Dispatch();
  // Stops the crawl when control_ asks, from another thread.
  Task<void> WatchControl();
  void ListenToControl() {
    control_->OnRequest([this] { control_wakeup_.Notify(); });
  }
  // --sitemaps: walks each origin's sitemaps; the crawl does not end before they are read.
  void StartSitemaps(const std::vector<std::string>& seeds) {
    for (const std::string& origin : OriginsOf(seeds)) {
      ++active_;
      loop_.Spawn(WalkSitemaps(origin));
    }
  }
  Task<void> ReportProgress(std::function<void(const CrawlProgress&)> progress);
  void Summarise(CrawlSummary& s, double wall);
  const Status& store_error() const { return store_error_; }
  CrawlProgress Progress() const {
    return {summary_.pages, summary_.errors, fetcher_.stats().in_flight, frontier_.queued(), SecondsSince(started_)};
  }

 private:
  // Politeness state of one host:port. A page task holds one of its `slots` from dispatch to the
  // end of its transfers; `pace` spaces the requests by the host's delay.
  struct Host {
    Host(EventLoop& loop, const CrawlOptions& options) : slots(loop, options.per_host), pace(options) {}
    AsyncSemaphore slots;
    size_t tasks = 0;  // page tasks dispatched for it and not done fetching
    HostPace pace;
  };
  // An origin's robots.txt: fetched by the first task that needs it, awaited by the others.
  struct Origin {
    explicit Origin(EventLoop& loop) : ready(loop) {}
    AsyncEvent ready;
    bool fetching = false;
    std::optional<RobotsTxt> robots;
  };

  class HostTask;
  Task<void> CrawlPage(FrontierItem item, AsyncSemaphore::Permit page);
  Task<void> VisitPage(const FrontierItem& item);  // the page's work; CrawlPage does the bookkeeping
  Task<void> WalkSitemaps(std::string origin);
  // Reads URLs the frontier left in the database back into memory; returns how many.
  Task<size_t> Refill();
  // The robots.txt of `origin`, fetched through the engine the first time (nullptr with --ignore-robots).
  Task<const RobotsTxt*> RobotsFor(std::string origin);
  // Waits until `host` may be sent its next request, and books that start.
  Task<void> TakeTurn(Host& host);
  Task<RedirectVerdict> Judge(std::string target);
  Task<FetchResponse> Transfer(FetchRequest request);
  Task<void> Keep(std::function<Status()> write);
  void Kept(const Status& stored);  // what a store call returned: an error stops the crawl
  Host& HostOf(std::string_view authority);
  void MaybeFinish() {
    if (dispatch_done_ && active_ == 0) loop_.Stop();  // leaves nothing but the progress reporter
  }

  const CrawlOptions& options_;
  EventLoop& loop_;
  Frontier& frontier_;
  Store& store_;
  CrawlControl* control_;
  RemoteWakeup control_wakeup_;
  Fetcher fetcher_;
  ThreadPool pool_;
  AsyncSemaphore transfers_;  // transfers in flight: --concurrency
  // Pages between dispatch and the store: the transfers plus a short backlog waiting for the pool.
  // Without it a crawl that parses slower than it fetches would hold every fetched body in memory.
  AsyncSemaphore pages_;
  std::unordered_map<std::string, std::unique_ptr<Host>> hosts_;
  std::unordered_map<std::string, std::unique_ptr<Origin>> origins_;
  Wakeup wakeup_;
  CrawlClock::time_point started_ = CrawlClock::now();
  std::mt19937_64 random_{20261121};

  size_t active_ = 0;          // page tasks (and sitemap walks) spawned and not finished
  size_t max_active_ = 0;
  int64_t dispatched_ = 0;     // pages taken for fetching (robots refusals given back)
  bool dispatch_done_ = false;
  bool stopping_ = false;
  uint64_t host_waits_ = 0;    // times the dispatcher found only hosts at their --per-host limit
  InFlightMeter meter_;
  PageSamples samples_;
  Status store_error_;
  CrawlSummary summary_;
  const int64_t run_id_;
  SpillCursor spill_cursor_;        // how far Refill has read
  int64_t stored_at_refill_ = -1;   // summary_.pages when Refill last found nothing
};

Crawler::Host& Crawler::HostOf(std::string_view authority) {
  auto it = hosts_.find(std::string(authority));
  if (it == hosts_.end()) {
    it = hosts_.emplace(std::string(authority), std::make_unique<Host>(loop_, options_)).first;
  }
  return *it->second;
}

Task<void> Crawler::Dispatch() {
  auto host_ready = [this](std::string_view authority) { return HostOf(authority).tasks < options_.per_host; };
  while (true) {
    AsyncSemaphore::Permit page = co_await pages_.Acquire();
    std::optional<FrontierItem> next;
    while (!stopping_) {
      if (options_.max_pages > 0 && dispatched_ >= options_.max_pages) {
        if (active_ == 0) break;
        co_await wakeup_.Wait();  // a refused page may give its place back
        continue;
      }
      next = frontier_.Pop(host_ready);
      if (next) break;
      // Memory half empty and URLs in the database: read some back. Pages stored since the last
      // empty read may have committed more.
      // With no page in progress, everything is in the store's hands and a read finds it all.
      if (frontier_.wants_refill() &&
          (stored_at_refill_ != summary_.pages || active_ == 0)) {
        if (co_await Refill() > 0) continue;
        stored_at_refill_ = summary_.pages;
      }
      if (active_ == 0) break;
      if (!frontier_.empty()) ++host_waits_;
      co_await wakeup_.Wait();
    }
    if (!next) break;
    FrontierItem item = std::move(*next);
    ++active_;
    ++dispatched_;
    ++HostOf(AuthorityOf(item.url)).tasks;
    max_active_ = std::max(max_active_, active_);
    loop_.Spawn(CrawlPage(std::move(item), std::move(page)));
  }
  dispatch_done_ = true;
  MaybeFinish();
}

Task<void> Crawler::TakeTurn(Host& host) {
  const CrawlClock::time_point start = host.pace.Book(random_);
  const CrawlClock::time_point now = CrawlClock::now();
  if (start > now) co_await loop_.SleepFor(start - now);
}

Task<FetchResponse> Crawler::Transfer(FetchRequest request) {
  meter_.Change(+1, frontier_.queued());
  FetchResponse response = co_await fetcher_.Fetch(std::move(request));
  meter_.Change(-1, frontier_.queued());
  co_return response;
}

Task<void> Crawler::Keep(std::function<Status()> write) {
  // The store's calls only queue, but may wait for room in its queue: not on the loop thread.
  Kept(co_await pool_.Run(std::move(write)));
}

void Crawler::Kept(const Status& stored) {
  if (!stored.ok() && store_error_.ok()) {
    store_error_ = stored;
    stopping_ = true;  // nothing more can be kept: stop fetching
  }
}

Task<const RobotsTxt*> Crawler::RobotsFor(std::string origin) {
  if (options_.ignore_robots) co_return nullptr;
  auto it = origins_.find(origin);
  if (it == origins_.end()) it = origins_.emplace(origin, std::make_unique<Origin>(loop_)).first;
  Origin& o = *it->second;
  if (o.fetching || o.robots) {
    co_await o.ready.Wait();
    co_return &*o.robots;
  }
  o.fetching = true;
  Host& host = HostOf(AuthorityOf(origin + "/"));
  co_await TakeTurn(host);
  AsyncSemaphore::Permit transfer = co_await transfers_.Acquire();
  FetchRequest request = RobotsRequest(options_, origin);
  FetchResponse response = co_await Transfer(std::move(request));
  transfer.Release();
  ++summary_.robots_fetched;
  RobotsRecord record;
  record.fetched_at = UnixNow();
  o.robots = RobotsFromResponse(response, origin, options_, record);
  if (record.verdict == "disallow_all") ++summary_.robots_refused_origins;
  if (record.crawl_delay >= 0) host.pace.ObeyCrawlDelay(record.crawl_delay);
  o.ready.Set();
  co_await Keep([&] { return store_.AddRobots(std::move(record)); });
  co_return &*o.robots;
}

Task<RedirectVerdict> Crawler::Judge(std::string target) {
  // Scope first: a host the crawl will not visit is not asked for its robots.txt.
  if (Frontier::Verdict v = frontier_.CheckRedirect(target); v != Frontier::Verdict::kQueued) {
    co_return RedirectVerdict{.follow = false, .reason = Frontier::ReasonFor(v), .detail = ""};
  }
  const RobotsTxt* robots = co_await RobotsFor(std::string(OriginOf(target)));
  co_return JudgeRedirect(target, frontier_, robots);
}

Task<void> Crawler::CrawlPage(FrontierItem item, AsyncSemaphore::Permit page) {
  co_await VisitPage(item);
  page.Release();
  --active_;
  wakeup_.Notify();
  MaybeFinish();
}

// The page's host counts it among its tasks until its transfers are over, however it ends.
class Crawler::HostTask {
 public:
  HostTask(Crawler& crawler, Host& host) : crawler_(crawler), host_(host) {}
  HostTask(const HostTask&) = delete;
  HostTask& operator=(const HostTask&) = delete;
  ~HostTask() { Done(); }
  void Done() {
    if (std::exchange(done_, true)) return;
    --host_.tasks;
    crawler_.wakeup_.Notify();  // the host may take another page
  }

 private:
  Crawler& crawler_;
  Host& host_;
  bool done_ = false;
};

Task<void> Crawler::VisitPage(const FrontierItem& item) {
  PageRecord record;
  record.url = item.url;
  record.depth = item.depth;
  const CrawlClock::time_point waiting_since = CrawlClock::now();
  Host& host = HostOf(AuthorityOf(item.url));
  HostTask host_task(*this, host);
  AsyncSemaphore::Permit host_permit = co_await host.slots.Acquire();

  const RobotsTxt* robots = co_await RobotsFor(std::string(OriginOf(item.url)));
  if (robots != nullptr) {
    RobotsVerdict verdict = robots->Check(PathAndQueryOf(item.url));
    if (!verdict.allowed) {
      host_permit.Release();
      --dispatched_;  // not fetched: --max-pages counts fetches
      host_task.Done();
      SkipRecord skip = RobotsRefusal(item, verdict, summary_);
      co_await Keep([&] { return store_.AddSkip(std::move(skip)); });
      co_return;
    }
  }

  co_await TakeTurn(host);
  AsyncSemaphore::Permit transfer = co_await transfers_.Acquire();
  // Interrupted before its transfer: left for a resumed crawl (it is still a followed link).
  if (stopping_) co_return;
  record.queue_wait = SecondsSince(waiting_since);
  record.fetched_at = UnixNow();
  PageFetch fetch(options_, item.url, random_());
  for (bool done = false; !done;) {
    switch (fetch.Next()) {
      case PageFetch::Step::kFetch: {
        FetchRequest request = fetch.request();
        fetch.OnResponse(co_await Transfer(std::move(request)));
        break;
      }
      case PageFetch::Step::kWait:
        transfer.Release();  // waiting to retry is not a transfer: let others use the permit
        co_await loop_.SleepFor(std::chrono::duration_cast<CrawlClock::duration>(
            std::chrono::duration<double>(fetch.wait_seconds())));
        co_await TakeTurn(host);
        transfer = co_await transfers_.Acquire();
        if (stopping_) co_return;  // the retry is left for a resumed crawl
        break;
      case PageFetch::Step::kCheckRedirect: {
        RedirectVerdict verdict = co_await Judge(fetch.redirect_target());
        fetch.OnRedirectVerdict(std::move(verdict));
        break;
      }
      case PageFetch::Step::kDone: done = true; break;
    }
  }
  host_permit.Release();
  transfer.Release();  // the transfers are over: let the dispatcher start the next one now
  host_task.Done();
  std::optional<SkipRecord> skip;
  if (!ConcludeFetch(fetch, item.depth, record, summary_, skip)) co_return;
  if (skip) co_await Keep([&] { return store_.AddSkip(std::move(*skip)); });
  FetchResponse& response = fetch.response();
  std::vector<LinkCandidate> candidates;
  if (ShouldParse(response)) {
    const std::string& page_url = fetch.url();
    candidates = co_await pool_.Run([&] { return ParsePage(page_url, response, options_, record); });
    ++summary_.parsed_pages;
  }
  std::string().swap(response.body);  // the body is done with: free it before waiting on the store

  // Room in the store first, off the loop; then the links are decided and the page queued in one
  // step on the loop, so the writer sees pages in the order their links were decided (it settles
  // unsure links in that order: see frontier.h).
  Result<double> room = co_await pool_.Run([&] { return store_.WaitForRoom(); });
  std::vector<LinkRecord> links =
      DecideLinks(std::move(candidates), fetch.url(), item.depth, options_, frontier_, summary_.skipped_by_reason);
  wakeup_.Notify();
  CountPage(record, links.size(), summary_, samples_);
  Kept(room.ok() ? store_.AddPageNow(std::move(record), std::move(links), *room) : room.status());
}

Task<size_t> Crawler::Refill() {
  const size_t room = frontier_.room();
  const SpillCursor cursor = spill_cursor_;
  Result<SpillRead> read = co_await pool_.Run([&] { return ReadSpilled(store_, run_id_, cursor, room); });
  if (!read.ok()) {
    if (store_error_.ok()) store_error_ = read.status();
    stopping_ = true;
    co_return 0;
  }
  ++summary_.frontier_refills;
  co_return RestoreSpilled(*read, frontier_, spill_cursor_);
}

Task<void> Crawler::WatchControl() {
  co_await control_wakeup_.Wait();  // the first Ctrl-C
  summary_.interrupted = true;
  stopping_ = true;
  wakeup_.Notify();
  if (!control_->abort_requested()) co_await loop_.SleepFor(control_->grace());
  control_->Abort();  // the grace period is over: cut what is still in flight
}

Task<void> Crawler::WalkSitemaps(std::string origin) {
  const RobotsTxt* robots = co_await RobotsFor(origin);
  SitemapWalk walk(origin, robots != nullptr ? robots->sitemaps() : std::vector<std::string>{});
  Host& host = HostOf(AuthorityOf(origin + "/"));
  while (std::optional<std::string> url = walk.Next()) {
    if (robots != nullptr && !robots->Check(PathAndQueryOf(*url)).allowed) continue;
    co_await TakeTurn(host);
    AsyncSemaphore::Permit transfer = co_await transfers_.Acquire();
    FetchRequest request = SitemapRequest(options_, *url);
    FetchResponse response = co_await Transfer(std::move(request));
    transfer.Release();
    Result<Sitemap> sitemap = co_await pool_.Run([&] { return SitemapWalk::Parse(response); });
    walk.Apply(*url, sitemap, frontier_);
    wakeup_.Notify();
  }
  CountSitemaps(walk.stats(), summary_);
  --active_;
  wakeup_.Notify();
  MaybeFinish();
}

Task<void> Crawler::ReportProgress(std::function<void(const CrawlProgress&)> progress) {
  while (true) {
    co_await loop_.SleepFor(std::chrono::milliseconds(250));
    progress(Progress());
  }
}

void Crawler::Summarise(CrawlSummary& s, double wall) {
  s = summary_;
  SummariseRun(samples_, meter_, options_, wall, s);
  PoolStats pool = pool_.stats();
  LoopStats loop = loop_.stats();
  s.max_pages_in_progress = max_active_;
  s.page_slots = pages_.capacity();
  s.per_host_bound = host_waits_ > 0 && options_.per_host < options_.concurrency;
  s.loop_busy_fraction = wall > 0 ? loop.busy_seconds / wall : 0;
  s.threads = pool.threads;
  s.pool_busy_fraction = wall > 0 && pool.threads > 0 ? pool.busy_seconds / (wall * static_cast<double>(pool.threads)) : 0;
  s.task_errors = loop.task_errors;
}

}  // namespace

std::string DefaultUserAgent() { return "fanout/" FANOUT_VERSION; }

std::string CrawlSummary::ToJson() const {
  nlohmann::json j = {
      {"run_id", run_id},
      {"mode", mode},
      {"pages", pages},
      {"ok_pages", ok_pages},
      {"parsed_pages", parsed_pages},
      {"errors", errors},
      {"errors_by_kind", errors_by_kind},
      {"bytes", bytes},
      {"links", links},
      {"skipped_by_reason", skipped_by_reason},
      {"retries", retries},
      {"robots_fetched", robots_fetched},
      {"robots_refused_origins", robots_refused_origins},
      {"robots_ignored", robots_ignored},
      {"interrupted", interrupted},
      {"dropped", dropped},
      {"pages_before", pages_before},
      {"sitemaps", {{"fetched", sitemaps_fetched}, {"failed", sitemaps_failed}, {"urls", sitemap_urls},
                    {"queued", sitemap_queued}}},
      {"queued_left", queued_left},
      {"max_queued_on_disk", max_queued_on_disk},
      {"frontier_refills", frontier_refills},
      {"wall_seconds", wall_seconds},
      {"pages_per_second", pages_per_second},
      {"bytes_per_second", bytes_per_second},
      {"concurrency", concurrency},
      {"per_host", per_host},
      {"max_in_flight", max_in_flight},
      {"max_pages_in_progress", max_pages_in_progress},
      {"page_slots", page_slots},
      {"mean_in_flight", mean_in_flight},
      {"saturated_seconds", saturated_seconds},
      {"saturated_mean_in_flight", saturated_mean_in_flight},
      {"mean_parse_seconds", mean_parse_seconds},
      {"per_host_bound", per_host_bound},
      {"loop_busy_fraction", loop_busy_fraction},
      {"pool_busy_fraction", pool_busy_fraction},
      {"threads", threads},
      {"store_busy_fraction", store_busy_fraction},
      {"store_batches", store_batches},
      {"phase_seconds", {{"queue_wait", phases.queue_wait}, {"dns", phases.dns}, {"connect", phases.connect},
                         {"tls", phases.tls}, {"first_byte", phases.first_byte}, {"transfer", phases.transfer},
                         {"parse", phases.parse}, {"store", phases.store}}},
      {"fetch_seconds", {{"p50", fetch_seconds.p50}, {"p90", fetch_seconds.p90}, {"p99", fetch_seconds.p99}}},
      {"parse_seconds", {{"p50", parse_seconds.p50}, {"p90", parse_seconds.p90}, {"p99", parse_seconds.p99}}},
      {"cpu_user_seconds", cpu_user_seconds},
      {"cpu_system_seconds", cpu_system_seconds},
      {"peak_rss_kb", peak_rss_kb},
      {"voluntary_switches", voluntary_switches},
      {"involuntary_switches", involuntary_switches},
  };
  return j.dump();
}

Result<CrawlSummary> Crawl(const CrawlOptions& options, Store& store,
                           std::function<void(const CrawlProgress&)> progress, CrawlControl* control) {
  CrawlControl never_stopped;
  if (control == nullptr) control = &never_stopped;
  const RunState* resume = options.resume.get();
  const std::vector<std::string>& seed_args = resume != nullptr ? resume->seeds : options.seeds;
  if (seed_args.empty()) return Status::InvalidArgument("no seed URL given");
  if (options.concurrency == 0 || options.per_host == 0) {
    return Status::InvalidArgument("--concurrency and --per-host must be at least 1");
  }
  if (options.retries < 0 || options.retry_delay < 0 || options.max_retry_wait < 0 || options.delay < 0 ||
      options.max_delay < 0 || options.delay_jitter < 0 || options.delay_jitter > 1) {
    return Status::InvalidArgument("--retries, --retry-delay, --max-retry-wait, --delay and --max-delay must not be "
                                   "negative, and --delay-jitter must be in [0, 1]");
  }
  if (options.mode != "async" && options.mode != "threads" && options.mode != "sync") {
    return Status::InvalidArgument("--mode must be sync, threads or async, not '" + options.mode + "'");
  }
  std::vector<std::string> seeds;
  for (const std::string& seed : seed_args) {
    Result<std::string> url = NormalizeUrl(seed);
    if (!url.ok()) return Status::InvalidArgument("seed '" + seed + "': " + url.status().message());
    seeds.push_back(*url);
  }
  Result<Frontier> frontier = Frontier::Create(options.scope, options.max_depth, options.frontier_window, options.seen_filter);
  if (!frontier.ok()) return frontier.status();
  // Resuming: what the run fetched or refused is done, what it followed is seen, and what it
  // followed but did not fetch (in flight when it stopped included) is the queue, which stays in
  // the database until the crawl reads it back. --max-pages counts both parts.
  CrawlOptions run_options = options;
  if (resume != nullptr) {
    for (const std::string& url : resume->done) frontier->MarkFetched(url);
    FANOUT_RETURN_IF_ERROR(ForEachFollowedLink(store.path(), resume->run_id,
                                               [&](std::string_view url) { frontier->MarkSeen(url); }));
    if (options.max_pages > 0) run_options.max_pages = std::max<int64_t>(0, options.max_pages - resume->pages);
  }
  const bool nothing_left = options.max_pages > 0 && run_options.max_pages == 0;
  if (!nothing_left) {
    for (const std::string& seed : seeds) frontier->AddSeed(seed);
    if (resume != nullptr) frontier->QueueOnDisk(static_cast<size_t>(resume->queued));
  }

  nlohmann::json options_json = {
      {"mode", options.mode},
      {"concurrency", options.concurrency}, {"per_host", options.per_host},   {"threads", options.threads},
      {"max_pages", options.max_pages},     {"max_depth", options.max_depth}, {"timeout_ms", options.timeout_ms},
      {"max_bytes", options.max_bytes},     {"max_redirects", options.max_redirects},
      {"user_agent", options.user_agent.empty() ? DefaultUserAgent() : options.user_agent},
      {"allow_domain", options.scope.allowed_domains}, {"include", options.scope.include},
      {"exclude", options.scope.exclude}, {"follow_nofollow", options.follow_nofollow},
      {"max_url_length", options.max_url_length}, {"retries", options.retries}, {"retry_delay", options.retry_delay},
      {"max_retry_wait", options.max_retry_wait}, {"delay", options.delay}, {"delay_jitter", options.delay_jitter},
      {"max_delay", options.max_delay}, {"ignore_robots", options.ignore_robots}, {"sitemaps", options.sitemaps},
      {"low_speed_bytes", options.low_speed_bytes}, {"low_speed_seconds", options.low_speed_seconds}};
  Result<int64_t> run = resume != nullptr ? Result<int64_t>(resume->run_id)
                                           : store.BeginRun(RunInfo{.mode = options.mode, .seeds = seeds,
                                                                    .options_json = options_json.dump()});
  if (!run.ok()) return run.status();
  if (resume != nullptr) FANOUT_RETURN_IF_ERROR(store.ResumeRun(resume->run_id));

  const StoreStats store_before = store.stats();
  const SpillCursor spill_cursor{
      .after = 0, .resumed_up_to = resume != nullptr ? resume->last_link : 0, .baseline = store_before};
  const ResourceUse resources_before = ResourceUse::Now();
  const size_t threads = options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  CrawlSummary summary;
  if (options.mode != "async") {
    // sync: one worker; threads: one per --concurrency, each with its own blocking transfer.
    const size_t workers = options.mode == "sync" ? 1 : options.concurrency;
    FANOUT_RETURN_IF_ERROR(
        RunBlockingCrawl(run_options, seeds, *frontier, store, workers, *control, *run, spill_cursor, summary,
                         progress));
  } else {
    Result<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    if (!loop.ok()) return loop.status();
    Crawler crawler(run_options, **loop, *frontier, store, threads, *control, *run, spill_cursor);
    if (options.sitemaps && resume == nullptr) crawler.StartSitemaps(seeds);
    (*loop)->Spawn(crawler.Dispatch());
    (*loop)->Spawn(crawler.WatchControl());
    if (progress) (*loop)->Spawn(crawler.ReportProgress(progress));
    crawler.ListenToControl();
    const CrawlClock::time_point start = CrawlClock::now();
    (*loop)->Run();
    control->OnRequest({});  // from here on a signal has nothing to wake
    crawler.Summarise(summary, SecondsSince(start));
    loop->reset();  // unfinished helpers (the progress reporter) go before the crawler they point at
    if (!crawler.store_error().ok()) return crawler.store_error();
  }
  summary.interrupted = summary.interrupted || control->stop_requested();
  summary.pages_before = resume != nullptr ? resume->pages : 0;
  SummariseResources(resources_before, ResourceUse::Now(), summary);
  FANOUT_RETURN_IF_ERROR(store.Flush());  // so the store's figures include this run's last batch
  const StoreStats after = store.stats();
  // The store's word on the last unsure links: duplicates, or more of the queue left on disk.
  const int64_t unsure_duplicates = after.unsure_duplicates - store_before.unsure_duplicates;
  frontier->Settle(after.unsure_new - store_before.unsure_new, unsure_duplicates);
  summary.queued_left = frontier->queued();
  summary.max_queued_on_disk = frontier->max_on_disk();
  if (unsure_duplicates > 0) summary.skipped_by_reason["duplicate"] += unsure_duplicates;
  summary.store_batches = after.batches - store_before.batches;
  summary.phases.store = after.store_seconds - store_before.store_seconds;
  summary.store_busy_fraction =
      summary.wall_seconds > 0 ? (after.write_seconds - store_before.write_seconds) / summary.wall_seconds : 0;
  summary.run_id = *run;
  summary.mode = options.mode;
  summary.robots_ignored = options.ignore_robots;
  FANOUT_RETURN_IF_ERROR(store.FinishRun(RunSummary{.pages = summary.pages_before + summary.pages,
                                                    .errors = summary.errors,
                                                    .bytes = summary.bytes,
                                                    .wall_seconds = summary.wall_seconds,
                                                    .pages_per_second = summary.pages_per_second,
                                                    .summary_json = summary.ToJson(),
                                                    .interrupted = summary.interrupted}));
  return summary;
}

}  // namespace fanout
