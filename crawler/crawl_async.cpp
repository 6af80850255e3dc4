#include "crawler/crawl_async.h"

#include <chrono>
#include <memory>
#include <optional>

#include "crawler/async_event.h"
#include "crawler/event_loop.h"
#include "crawler/fetch.h"
#include "crawler/loop_resolver.h"
#include "crawler/semaphore.h"
#include "crawler/shared_frontier.h"
#include "crawler/thread_pool.h"

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

// The async mode: the core's procedures as coroutines on one event loop; a dispatcher coroutine
// takes a --concurrency permit, asks the core what may start, and starts it.
class AsyncCrawl final : public CrawlWaits {
 public:
  AsyncCrawl(const CrawlOptions& options, EventLoop& loop, LoopResolver& resolver, CrawlCore& core, size_t threads,
             CrawlControl& control, bool archive)
      : loop_(loop),
        resolver_(resolver),
        core_(core),
        control_(&control),
        control_wakeup_(loop),
        fetcher_(loop, FetcherOptionsOf(options, control.abort_flag(), archive)),
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
      WakeDispatcher();
    }
  }
  std::function<void()> SharedWake() {
    return [this] { shared_wakeup_.Notify(); };
  }
  void Summarise(CrawlSummary& s, double wall);

  // CrawlWaits
  Await<void> WaitForTurn(HostTurn& turn) override { return SuspendForTurn(turn); }
  void ResumeTurn(HostTurn& turn) override {
    if (turn.waiter) loop_.Schedule(std::exchange(turn.waiter, {}));
  }
  Await<FetchResponse> Transfer(HostTurn& turn, FetchRequest request) override {
    return Fetch(turn, std::move(request));
  }
  void ReleaseTransferSlot(HostTurn& turn) override { turn.transfer_slot.Release(); }
  Await<DnsAnswer> Resolve(std::string name) override { return resolver_.Resolve(std::move(name)); }
  Await<void> Sleep(std::chrono::duration<double> d) override {
    return SleepFor(std::chrono::duration_cast<EventLoop::Clock::duration>(d));
  }
  Await<void> RunOffLoop(std::function<void()> work) override { return OnPool(std::move(work)); }
  void WriteBehind(std::function<Status()> write) override {
    ++writes_behind_;
    loop_.Spawn(WriteOnPool(std::move(write)));
  }
  void WakeDispatcher() override {
    wakeup_.Notify();
    MaybeFinish();
  }

 private:
  Task<void> SuspendForTurn(HostTurn& turn) {
    struct Op {
      HostTurn& turn;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) noexcept { turn.waiter = h; }
      void await_resume() const noexcept {}
    };
    co_await Op{turn};
  }
  Task<FetchResponse> Fetch(HostTurn& turn, FetchRequest request) {
    FetchResponse response = co_await fetcher_.Fetch(std::move(request));
    turn.transfer_slot.Release();  // the transfer is over: let the dispatcher start the next one now
    co_return response;
  }
  Task<void> SleepFor(EventLoop::Clock::duration d) { co_await loop_.SleepFor(d); }
  Task<void> OnPool(std::function<void()> work) { co_await pool_.Run(std::move(work)); }
  Task<void> WriteOnPool(std::function<Status()> write) {
    // The store's calls only queue, but may wait for room in its queue: not on the loop thread.
    Status stored = co_await pool_.Run(std::move(write));
    --writes_behind_;
    core_.NoteStored(*this, stored);
    MaybeFinish();
  }
  Task<void> RunPage(FrontierItem item, HostId host, std::unique_ptr<HostTurn> turn, AsyncSemaphore::Permit page) {
    co_await core_.CrawlPage(std::move(item), host, std::move(turn), *this);
    page.Release();
    WakeDispatcher();
  }
  void MaybeFinish() {
    // Leaves nothing but the progress reporter and stale alarms, which the loop's end destroys.
    if (dispatch_done_ && core_.active() == 0 && writes_behind_ == 0) loop_.Stop();
  }

  EventLoop& loop_;
  LoopResolver& resolver_;
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
  size_t writes_behind_ = 0;  // store writes on the pool that nobody awaits
  bool dispatch_done_ = false;
};

Task<void> AsyncCrawl::Dispatch() {
  using Kind = Work::Kind;
  while (true) {
    // A permit first: whatever starts next starts a transfer at once, so that the start its host
    // booked is the start the server sees.
    AsyncSemaphore::Permit transfer = co_await transfers_.Acquire();
    for (bool placed = false; !placed;) {
      Work work = core_.Next(*this, pages_.available() > 0);
      switch (work.kind) {
        case Kind::kPage: {
          AsyncSemaphore::Permit page = co_await pages_.Acquire();  // free: only the dispatcher takes them
          auto turn = std::make_unique<HostTurn>();
          turn->transfer_slot = std::move(transfer);
          loop_.Spawn(RunPage(std::move(work.item), work.host, std::move(turn), std::move(page)));
          placed = true;
          break;
        }
        case Kind::kRobots: {
          auto turn = std::make_unique<HostTurn>();
          turn->transfer_slot = std::move(transfer);
          loop_.Spawn(core_.FetchRobots(work.host, std::move(turn), *this));
          placed = true;
          break;
        }
        case Kind::kResolve:  // no transfer: the permit stays for what comes next
          loop_.Spawn(core_.ResolveHost(work.host, *this));
          break;
        case Kind::kGranted: {
          work.turn->transfer_slot = std::move(transfer);
          ResumeTurn(*work.turn);
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

Status RunAsyncCrawl(const CrawlOptions& options, CrawlCore& core, const CrawlServices& services,
                     const std::vector<std::string>& seeds,
                     size_t threads, CrawlControl& control, CrawlSummary& summary,
                     const std::function<void(const CrawlProgress&)>& progress) {
  SharedFrontier* shared = services.shared_frontier;
  std::unique_ptr<LoopResolver> resolver;  // declared first, so it goes after the loop's tasks
  FANOUT_ASSIGN_OR_RETURN(std::unique_ptr<EventLoop> loop, EventLoop::Create());
  FANOUT_ASSIGN_OR_RETURN(resolver, LoopResolver::Create(*loop, options.dns));
  AsyncCrawl crawl(options, *loop, *resolver, core, threads, control, services.archive != nullptr);
  crawl.StartSitemaps(seeds);
  loop->Spawn(crawl.Dispatch());
  loop->Spawn(crawl.WatchControl());
  if (progress) loop->Spawn(crawl.ReportProgress(progress));
  crawl.ListenToControl();
  if (shared != nullptr) {
    loop->Spawn(crawl.WatchShared());
    shared->Start(crawl.SharedWake());
  }
  const CrawlClock::time_point start = CrawlClock::now();
  loop->Run();
  control.OnRequest({});  // from here on a signal has nothing to wake
  Status shared_status;
  if (shared != nullptr) {
    // The last pages' "done" goes out once the store has them; then the hosts go back.
    Status flushed = services.store.Flush();
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
  loop.reset();  // unfinished helpers (the progress reporter) go before the crawl they point at
  if (!core.store_error().ok()) return core.store_error();
  return shared_status;
}

}  // namespace fanout
