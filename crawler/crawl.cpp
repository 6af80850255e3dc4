#include "crawler/crawl.h"

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "crawler/async_event.h"
#include "crawler/crawl_blocking.h"
#include "crawler/crawl_core.h"
#include "crawler/event_loop.h"
#include "crawler/fetch.h"
#include "crawler/semaphore.h"
#include "crawler/shared_frontier.h"
#include "crawler/spill.h"
#include "crawler/thread_pool.h"
#include "crawler/url.h"
#include "storage/run_state.h"
#include "warc/warc_archive.h"

namespace fanout {
namespace {

// One waiter, many notifiers: the dispatcher sleeps here until something changes, or until a
// deadline (a host's delay passes), whichever comes first.
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
  // Arms an alarm for `deadline` unless an earlier one is set; a later Notify() is then spurious,
  // which costs the waiter a look, nothing more.
  void AlarmAt(EventLoop::Clock::time_point deadline) {
    if (alarm_ && *alarm_ <= deadline) return;
    alarm_ = deadline;
    loop_.Spawn(Alarm(deadline));
  }
  void Notify() {
    if (waiter_) loop_.Schedule(std::exchange(waiter_, {}));
  }

 private:
  Task<void> Alarm(EventLoop::Clock::time_point deadline) {
    co_await loop_.SleepFor(deadline - EventLoop::Clock::now());
    if (alarm_ == deadline) alarm_.reset();
    Notify();
  }

  EventLoop& loop_;
  std::coroutine_handle<> waiter_;
  std::optional<EventLoop::Clock::time_point> alarm_;
};

// A turn in the async mode comes with a --concurrency permit, handed over by the dispatcher.
struct AsyncTurn final : Turn {
  AsyncSemaphore::Permit transfer;
  std::coroutine_handle<> waiter;
};

// The async mode: the core's procedures as coroutines on one event loop; a dispatcher coroutine
// takes a --concurrency permit, asks the core what may start, and starts it.
class AsyncCrawl final : public CrawlWaits {
 public:
  AsyncCrawl(const CrawlOptions& options, EventLoop& loop, CrawlCore& core, size_t threads, CrawlControl& control)
      : loop_(loop),
        core_(core),
        control_(&control),
        control_wakeup_(loop),
        fetcher_(loop, FetcherOptionsOf(options, control.abort_flag())),
        pool_(loop, threads),
        transfers_(loop, options.concurrency),
        pages_(loop, options.concurrency + std::max<size_t>(16, 4 * threads)),
        wakeup_(loop) {}

  Task<void> Dispatch();
  // Stops the crawl when control_ asks, from another thread.
  Task<void> WatchControl();
  void ListenToControl() {
    control_->OnRequest([this] { control_wakeup_.Notify(); });
  }
  void StartSitemaps(const std::vector<std::string>& seeds) {
    for (const std::string& origin : core_.BeginSitemaps(seeds)) loop_.Spawn(core_.WalkSitemaps(origin, *this));
  }
  Task<void> ReportProgress(std::function<void(const CrawlProgress&)> progress);
  // A shared frontier's news (it calls back from its own thread) makes the dispatcher look again.
  Task<void> WatchShared() {
    while (true) {
      co_await shared_wakeup_.Wait();
      Changed();
    }
  }
  std::function<void()> SharedWake() {
    return [this] { shared_wakeup_.Notify(); };
  }
  void Summarise(CrawlSummary& s, double wall);

  // CrawlWaits
  std::unique_ptr<Turn> NewTurn() override { return std::make_unique<AsyncTurn>(); }
  Await<void> AwaitTurn(Turn& turn) override { return WaitForTurn(static_cast<AsyncTurn&>(turn)); }
  void Wake(Turn& turn) override {
    auto& t = static_cast<AsyncTurn&>(turn);
    if (t.waiter) loop_.Schedule(std::exchange(t.waiter, {}));
  }
  Await<FetchResponse> Transfer(Turn& turn, FetchRequest request) override {
    return Fetch(static_cast<AsyncTurn&>(turn), std::move(request));
  }
  void Release(Turn& turn) override { static_cast<AsyncTurn&>(turn).transfer.Release(); }
  Await<void> Sleep(std::chrono::duration<double> d) override {
    return SleepFor(std::chrono::duration_cast<EventLoop::Clock::duration>(d));
  }
  Await<void> OffLoop(std::function<void()> work) override { return OnPool(std::move(work)); }
  void Keep(std::function<Status()> write) override {
    ++keeping_;
    loop_.Spawn(KeepOnPool(std::move(write)));
  }
  void Changed() override {
    wakeup_.Notify();
    MaybeFinish();
  }

 private:
  Task<void> WaitForTurn(AsyncTurn& turn) {
    struct Op {
      AsyncTurn& turn;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) noexcept { turn.waiter = h; }
      void await_resume() const noexcept {}
    };
    co_await Op{turn};
  }
  Task<FetchResponse> Fetch(AsyncTurn& turn, FetchRequest request) {
    FetchResponse response = co_await fetcher_.Fetch(std::move(request));
    turn.transfer.Release();  // the transfer is over: let the dispatcher start the next one now
    co_return response;
  }
  Task<void> SleepFor(EventLoop::Clock::duration d) { co_await loop_.SleepFor(d); }
  Task<void> OnPool(std::function<void()> work) { co_await pool_.Run(std::move(work)); }
  Task<void> KeepOnPool(std::function<Status()> write) {
    // The store's calls only queue, but may wait for room in its queue: not on the loop thread.
    Status stored = co_await pool_.Run(std::move(write));
    --keeping_;
    core_.Kept(*this, stored);
    MaybeFinish();
  }
  Task<void> RunPage(FrontierItem item, HostId host, std::unique_ptr<Turn> turn, AsyncSemaphore::Permit page) {
    co_await core_.CrawlPage(std::move(item), host, std::move(turn), *this);
    page.Release();
    Changed();
  }
  void MaybeFinish() {
    // Leaves nothing but the progress reporter and stale alarms, which the loop's end destroys.
    if (dispatch_done_ && core_.active() == 0 && keeping_ == 0) loop_.Stop();
  }

  EventLoop& loop_;
  CrawlCore& core_;
  CrawlControl* control_;
  RemoteWakeup control_wakeup_;
  RemoteWakeup shared_wakeup_{loop_};
  Fetcher fetcher_;
  ThreadPool pool_;
  AsyncSemaphore transfers_;  // transfers in flight: --concurrency
  // Pages between dispatch and the store: the transfers plus a short backlog waiting for the pool.
  // Without it a crawl that parses slower than it fetches would hold every fetched body in memory.
  AsyncSemaphore pages_;
  Wakeup wakeup_;
  size_t keeping_ = 0;  // store writes on the pool that nobody awaits
  bool dispatch_done_ = false;
};

Task<void> AsyncCrawl::Dispatch() {
  using Kind = CrawlCore::Work::Kind;
  while (true) {
    // A permit first: whatever starts next starts a transfer at once, so that the start its host
    // booked is the start the server sees.
    AsyncSemaphore::Permit transfer = co_await transfers_.Acquire();
    for (bool placed = false; !placed;) {
      CrawlCore::Work work = core_.Next(*this, pages_.available() > 0);
      switch (work.kind) {
        case Kind::kPage: {
          AsyncSemaphore::Permit page = co_await pages_.Acquire();  // free: only the dispatcher takes them
          auto turn = std::make_unique<AsyncTurn>();
          turn->transfer = std::move(transfer);
          loop_.Spawn(RunPage(std::move(work.item), work.host, std::move(turn), std::move(page)));
          placed = true;
          break;
        }
        case Kind::kRobots: {
          auto turn = std::make_unique<AsyncTurn>();
          turn->transfer = std::move(transfer);
          loop_.Spawn(core_.FetchRobots(work.host, std::move(turn), *this));
          placed = true;
          break;
        }
        case Kind::kGranted: {
          auto& turn = static_cast<AsyncTurn&>(*work.turn);
          turn.transfer = std::move(transfer);
          Wake(turn);
          placed = true;
          break;
        }
        case Kind::kRefill: co_await core_.Refill(*this); break;
        case Kind::kWaitUntil:
          wakeup_.AlarmAt(work.until);
          co_await wakeup_.Wait();
          break;
        case Kind::kWaitChange: co_await wakeup_.Wait(); break;
        case Kind::kDone:
          dispatch_done_ = true;
          MaybeFinish();
          co_return;
      }
    }
  }
}

Task<void> AsyncCrawl::WatchControl() {
  co_await control_wakeup_.Wait();  // the first Ctrl-C
  core_.Stop(*this, true);
  if (!control_->abort_requested()) co_await loop_.SleepFor(control_->grace());
  control_->Abort();  // the grace period is over: cut what is still in flight
}

Task<void> AsyncCrawl::ReportProgress(std::function<void(const CrawlProgress&)> progress) {
  while (true) {
    co_await loop_.SleepFor(std::chrono::milliseconds(250));
    progress(core_.Progress());
  }
}

void AsyncCrawl::Summarise(CrawlSummary& s, double wall) {
  core_.Summarise(wall, s);
  PoolStats pool = pool_.stats();
  LoopStats loop = loop_.stats();
  s.page_slots = pages_.capacity();
  s.loop_busy_fraction = wall > 0 ? loop.busy_seconds / wall : 0;
  s.loop_cpu_seconds = loop.cpu_seconds;
  s.threads = pool.threads;
  s.pool_busy_fraction = wall > 0 && pool.threads > 0 ? pool.busy_seconds / (wall * static_cast<double>(pool.threads)) : 0;
  s.task_errors = loop.task_errors;
}

}  // namespace

Result<std::vector<std::string>> NormalizeSeeds(const std::vector<std::string>& seeds, UrlRules rules) {
  std::vector<std::string> out;
  for (const std::string& seed : seeds) {
    Result<std::string> url = NormalizeUrl(seed, rules);
    if (!url.ok()) return Status::InvalidArgument("seed '" + seed + "': " + url.status().message());
    out.push_back(*url);
  }
  return out;
}

Result<CrawlSummary> Crawl(const CrawlOptions& options, Store& store,
                           std::function<void(const CrawlProgress&)> progress, CrawlControl* control) {
  CrawlControl never_stopped;
  if (control == nullptr) control = &never_stopped;
  const RunState* resume = options.resume.get();
  const std::vector<std::string>& seed_args = resume != nullptr ? resume->seeds : options.seeds;
  if (seed_args.empty()) return Status::InvalidArgument("no seed URL given");
  FANOUT_RETURN_IF_ERROR(ValidateOptions(options));
  // A resumed run goes on keying URLs as it began: its links already in the database say so.
  UrlRules rules = UrlRules::kWhatwg;
  if (resume != nullptr) {
    std::optional<UrlRules> theirs = UrlRulesNamed(resume->url_normalization);
    if (!theirs) {
      return Status::InvalidArgument("run " + std::to_string(resume->run_id) + " normalised its URLs by '" +
                                     resume->url_normalization + "', which this fanout does not know");
    }
    rules = *theirs;
  }
  Result<std::vector<std::string>> normalized = NormalizeSeeds(seed_args, rules);
  if (!normalized.ok()) return normalized.status();
  const std::vector<std::string>& seeds = *normalized;
  Result<Frontier> frontier = Frontier::Create(options.scope, options.max_depth, options.frontier_window,
                                              options.seen_filter, HostLimitsOf(options));
  if (!frontier.ok()) return frontier.status();
  // Resuming: what the run fetched or refused is done, what it followed is seen, and what it
  // followed but did not fetch (in flight when it stopped included) is the queue, which stays in
  // the database until the crawl reads it back. --max-pages counts both parts.
  CrawlOptions run_options = options;
  run_options.url_rules = rules;
  SharedFrontier* shared = options.shared_frontier.get();
  if (shared != nullptr) run_options.max_pages = 0;  // the run's limit, which the shared frontier keeps
  if (resume != nullptr && shared == nullptr) {
    for (const std::string& url : resume->done) frontier->MarkFetched(url);
    FANOUT_RETURN_IF_ERROR(ForEachFollowedLink(store.path(), resume->run_id,
                                               [&](std::string_view url) { frontier->MarkSeen(url); }));
    if (options.max_pages > 0) run_options.max_pages = std::max<int64_t>(0, options.max_pages - resume->pages);
  }
  const bool nothing_left = shared == nullptr && options.max_pages > 0 && run_options.max_pages == 0;
  if (shared != nullptr) {
    for (const std::string& seed : seeds) frontier->AddSeed(seed, /*queue=*/false);  // the run queued them
  } else if (!nothing_left) {
    for (const std::string& seed : seeds) frontier->AddSeed(seed);
    if (resume != nullptr) frontier->QueueOnDisk(static_cast<size_t>(resume->queued));
  }

  Result<int64_t> run = resume != nullptr ? Result<int64_t>(resume->run_id)
                                           : store.BeginRun(RunInfo{
                                                 .mode = options.mode, .seeds = seeds,
                                                 .options_json = OptionsJson(options),
                                                 .url_normalization = std::string(UrlRulesName(rules)),
                                                 .worker = shared != nullptr ? shared->worker() : "",
                                                 .frontier = shared != nullptr ? shared->address() : "",
                                                 .frontier_run = shared != nullptr ? shared->run_id() : 0});
  if (!run.ok()) return run.status();
  if (resume != nullptr) FANOUT_RETURN_IF_ERROR(store.ResumeRun(resume->run_id));
  if (options.archive != nullptr) {  // the file opened already, in case no page lands in it
    for (const std::string& file : options.archive->files()) FANOUT_RETURN_IF_ERROR(store.AddWarcFile(file));
  }

  const StoreStats store_before = store.stats();
  const SpillCursor spill_cursor{
      .after = 0, .resumed_up_to = resume != nullptr ? resume->last_link : 0, .baseline = store_before};
  const ResourceUse resources_before = ResourceUse::Now();
  const size_t threads = options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  CrawlSummary summary;
  // sync: one transfer at a time, whatever --concurrency says.
  if (options.mode == "sync") run_options.concurrency = 1;
  CrawlCore core(run_options, *frontier, store, *run, spill_cursor);
  // A resumed run walks its sitemaps again: their URLs have no links row to be read back from.
  const std::vector<std::string> sitemap_seeds = nothing_left ? std::vector<std::string>{} : seeds;
  if (options.mode != "async") {
    // sync: one worker; threads: one per --concurrency, each with its own blocking transfer.
    FANOUT_RETURN_IF_ERROR(
        RunBlockingCrawl(run_options, core, sitemap_seeds, run_options.concurrency, *control, summary, progress));
  } else {
    Result<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
    if (!loop.ok()) return loop.status();
    AsyncCrawl crawl(run_options, **loop, core, threads, *control);
    crawl.StartSitemaps(sitemap_seeds);
    (*loop)->Spawn(crawl.Dispatch());
    (*loop)->Spawn(crawl.WatchControl());
    if (progress) (*loop)->Spawn(crawl.ReportProgress(progress));
    crawl.ListenToControl();
    if (shared != nullptr) {
      (*loop)->Spawn(crawl.WatchShared());
      shared->Start(crawl.SharedWake());
    }
    const CrawlClock::time_point start = CrawlClock::now();
    (*loop)->Run();
    control->OnRequest({});  // from here on a signal has nothing to wake
    Status shared_status;
    if (shared != nullptr) {
      // The last pages' "done" goes out once the store has them; then the hosts go back.
      Status flushed = store.Flush();
      core.ReleaseShared();
      shared_status = shared->Finish();  // its thread stops: nothing calls the crawl back after this
      if (!flushed.ok()) shared_status = flushed;
    }
    crawl.Summarise(summary, SecondsSince(start));
    if (shared != nullptr) {
      const SharedFrontierStats st = shared->stats();
      summary.shared = {.worker = shared->worker(), .frontier = shared->address(), .run = shared->run_id(),
                        .statements = st.statements, .transactions = st.transactions, .retries = st.retries,
                        .reconnects = st.reconnects, .done = st.done, .refused = st.refused, .claims = st.claims,
                        .hosts_granted = st.hosts_granted, .hosts_released = st.hosts_released};
    }
    loop->reset();  // unfinished helpers (the progress reporter) go before the crawl they point at
    if (!core.store_error().ok()) return core.store_error();
    if (!shared_status.ok()) return shared_status;
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
  summary.store_cpu_seconds = after.cpu_seconds - store_before.cpu_seconds;
  if (options.archive != nullptr) {
    // Every file the run wrote is the run's, those no page row points into included (a last file
    // of robots.txt answers): export --format cdxj indexes them all.
    const std::vector<std::string> files = options.archive->files();
    for (const std::string& file : files) FANOUT_RETURN_IF_ERROR(store.AddWarcFile(file));
    const WarcStats st = options.archive->stats();
    summary.archive = {.files = st.files, .records = st.records, .revisits = st.revisits, .bytes = st.bytes_written,
                       .payload_bytes = st.payload_bytes, .write_seconds = st.write_seconds,
                       .first_file = files.empty() ? "" : files.front(), .last_file = files.empty() ? "" : files.back()};
  }
  summary.run_id = *run;
  summary.mode = options.mode;
  summary.parser = options.parser;
  summary.robots_ignored = options.ignore_robots;
  summary.tls_unverified = options.insecure;
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
