#include "crawler/crawl_blocking.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "crawler/fetch.h"

namespace fanout {
namespace {

// A blocking thread's fetcher and its hold on the crawl's lock: what its waits block with.
thread_local BlockingFetcher* tls_fetcher = nullptr;
thread_local std::unique_lock<std::mutex>* tls_lock = nullptr;

// Runs `work` with the crawl's lock released: how a blocking thread waits for anything slow.
template <typename F>
auto Unlocked(F work) {
  tls_lock->unlock();
  struct Relock {
    ~Relock() { tls_lock->lock(); }
  } relock;
  return work();
}

class BlockingCrawl final : public CrawlWaits {
 public:
  BlockingCrawl(const CrawlOptions& options, CrawlCore& core, size_t workers, CrawlControl& control)
      : core_(core),
        workers_(workers),
        control_(control),
        fetcher_options_(FetcherOptionsOf(options, control.abort_flag())) {}

  Status Run(const std::vector<std::string>& seeds, CrawlSummary& summary,
             const std::function<void(const CrawlProgress&)>& progress);

  // CrawlWaits: each wait happens now, on the calling thread, with the lock released.
  std::unique_ptr<Turn> NewTurn() override { return std::make_unique<Turn>(); }
  Await<void> AwaitTurn(Turn& turn) override;
  void Wake(Turn&) override { changed_.notify_all(); }
  Await<FetchResponse> Transfer(Turn&, FetchRequest request) override {
    return Await<FetchResponse>::Ready(Unlocked([&] { return tls_fetcher->Fetch(std::move(request)); }));
  }
  void Release(Turn&) override {}
  Await<void> Sleep(std::chrono::duration<double> d) override {
    // The naive crawler's back-off: the thread waits (a stop cuts it short).
    changed_.wait_for(*tls_lock, d, [&] { return core_.stopping(); });
    return Await<void>::Ready();
  }
  Await<void> OffLoop(std::function<void()> work) override {
    Unlocked(work);
    return Await<void>::Ready();
  }
  void Keep(std::function<Status()> write) override { core_.Kept(*this, Unlocked(write)); }
  void Changed() override { changed_.notify_all(); }

 private:
  // Runs what Next() says on this thread until it says the crawl is over.
  void Work(CURLSH* share);
  // Does one piece of work Next() handed out; false for kDone.
  bool Do(CrawlCore::Work& work);

  CrawlCore& core_;  // guarded by mu_
  const size_t workers_;
  CrawlControl& control_;
  const FetcherOptions fetcher_options_;
  std::mutex mu_;
  std::condition_variable changed_;
  size_t running_ = 0;                                // workers not yet done; guarded by mu_
  std::optional<CrawlClock::time_point> stop_asked_;  // the first Ctrl-C; guarded by mu_
};

bool BlockingCrawl::Do(CrawlCore::Work& work) {
  std::unique_lock<std::mutex>& lock = *tls_lock;
  switch (work.kind) {
    case CrawlCore::Work::Kind::kPage:
      RunSync(core_.CrawlPage(std::move(work.item), work.host, NewTurn(), *this));
      break;
    case CrawlCore::Work::Kind::kRobots: RunSync(core_.FetchRobots(work.host, NewTurn(), *this)); break;
    case CrawlCore::Work::Kind::kGranted: changed_.notify_all(); break;  // its thread goes on
    case CrawlCore::Work::Kind::kRefill: RunSync(core_.Refill(*this)); break;
    case CrawlCore::Work::Kind::kWaitUntil: changed_.wait_until(lock, work.until); break;
    case CrawlCore::Work::Kind::kWaitChange: changed_.wait(lock); break;
    case CrawlCore::Work::Kind::kDone: return false;
  }
  return true;
}

Await<void> BlockingCrawl::AwaitTurn(Turn& turn) {
  // Nobody else may be dispatching (every thread may be waiting for a turn): this thread takes
  // part, handing out turns, its own among them.
  while (!turn.held && !core_.stopping()) {
    CrawlCore::Work work = core_.Next(*this, /*page_slot=*/false, /*turns_only=*/true);
    Do(work);
  }
  return Await<void>::Ready();
}

void BlockingCrawl::Work(CURLSH* share) {
  BlockingFetcher fetcher(fetcher_options_, share);
  std::unique_lock lock(mu_);
  tls_fetcher = &fetcher;
  tls_lock = &lock;
  while (true) {
    CrawlCore::Work work = core_.Next(*this, /*page_slot=*/true);
    if (!Do(work)) break;
  }
  --running_;
  changed_.notify_all();  // the others may be waiting for a change that will not come now
  tls_fetcher = nullptr;
  tls_lock = nullptr;
}

Status BlockingCrawl::Run(const std::vector<std::string>& seeds, CrawlSummary& summary,
                          const std::function<void(const CrawlProgress&)>& progress) {
  const CrawlClock::time_point started = CrawlClock::now();
  // One easy handle keeps its own connections; several threads share theirs through the cache
  // (over HTTP/1.1: an HTTP/2 connection stays with its thread, see SharedCurlCache).
  std::optional<SharedCurlCache> cache;
  if (workers_ > 1) cache.emplace(/*connections=*/!fetcher_options_.http2);
  control_.OnRequest([this] {  // on the signal thread
    std::lock_guard lock(mu_);
    if (!stop_asked_) stop_asked_ = CrawlClock::now();
    core_.Stop(*this, true);
  });
  {
    BlockingFetcher fetcher(fetcher_options_, cache ? cache->get() : nullptr);
    std::unique_lock lock(mu_);
    tls_fetcher = &fetcher;
    tls_lock = &lock;
    for (const std::string& origin : core_.BeginSitemaps(seeds)) RunSync(core_.WalkSitemaps(origin, *this));
    tls_fetcher = nullptr;
    tls_lock = nullptr;
    running_ = workers_;
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < workers_; ++i) threads.emplace_back([&] { Work(cache ? cache->get() : nullptr); });
  {
    std::unique_lock lock(mu_);
    while (!changed_.wait_for(lock, std::chrono::milliseconds(250), [&] { return running_ == 0; })) {
      if (stop_asked_ && CrawlClock::now() - *stop_asked_ >= control_.grace() && !control_.abort_requested()) {
        lock.unlock();
        control_.Abort();  // the grace period is over: cut what is still in flight
        lock.lock();
      }
      if (progress) {
        CrawlProgress p = core_.Progress();
        lock.unlock();
        progress(p);
        lock.lock();
      }
    }
  }
  for (std::thread& t : threads) t.join();
  control_.OnRequest({});  // from here on a signal has nothing to wake

  std::lock_guard lock(mu_);
  core_.Summarise(SecondsSince(started), summary);
  summary.threads = workers_;
  summary.page_slots = workers_;  // a thread holds its page from dispatch to the store
  return core_.store_error();
}

}  // namespace

Status RunBlockingCrawl(const CrawlOptions& options, CrawlCore& core, const std::vector<std::string>& seeds,
                        size_t workers, CrawlControl& control, CrawlSummary& summary,
                        const std::function<void(const CrawlProgress&)>& progress) {
  BlockingCrawl crawl(options, core, workers, control);
  return crawl.Run(seeds, summary, progress);
}

}  // namespace fanout
