#include "crawler/crawl_blocking.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "crawler/fetch.h"

namespace fanout {
namespace {

class BlockingThread;

// What the blocking threads share: the core, under one lock, and a condition for every change.
class BlockingCrawl {
 public:
  BlockingCrawl(const CrawlOptions& options, CrawlCore& core, size_t workers, CrawlControl& control, bool archive)
      : core_(core),
        workers_(workers),
        control_(control),
        fetcher_options_(FetcherOptionsOf(options, control.abort_flag(), archive)),
        dns_options_(options.dns) {}

  Status Run(const std::vector<std::string>& seeds, CrawlSummary& summary,
             const std::function<void(const CrawlProgress&)>& progress);

 private:
  friend class BlockingThread;
  // Runs what Next() says on a thread of its own until it says the crawl is over.
  void Work(CURLSH* share);

  CrawlCore& core_;  // guarded by mu_
  const size_t workers_;
  CrawlControl& control_;
  const FetcherOptions fetcher_options_;
  const DnsOptions dns_options_;
  std::mutex mu_;
  std::condition_variable changed_;
  size_t running_ = 0;                                // workers not yet done; guarded by mu_
  std::optional<CrawlClock::time_point> stop_asked_;  // the first Ctrl-C; guarded by mu_
};

// One thread's waits: each happens now, on this thread, with the crawl's lock released while it
// blocks. `lock` holds the crawl's lock; `fetcher` is the thread's own (nullptr for a thread that
// only stops the crawl, which makes no transfer).
class BlockingThread final : public CrawlWaits {
 public:
  BlockingThread(BlockingCrawl& crawl, std::unique_lock<std::mutex>& lock, BlockingFetcher* fetcher)
      : crawl_(crawl), lock_(lock), fetcher_(fetcher) {}

  // Does one piece of work Next() handed out; false for kDone.
  bool Do(Work& work);

  // Runs `work` with the crawl's lock released: how a blocking thread waits for anything slow.
  template <typename F>
  auto Unlocked(F work) {
    lock_.unlock();
    struct Relock {
      std::unique_lock<std::mutex>& lock;
      ~Relock() { lock.lock(); }
    } relock{lock_};
    return work();
  }

  // A thread waiting for its own turn takes part in dispatching, handing out turns (and fetching
  // robots.txt files they need) until its own comes: every thread may be waiting for a turn, and
  // in sync mode this thread is the only one.
  Await<void> WaitForTurn(HostTurn& turn) override;
  void ResumeTurn(HostTurn&) override { crawl_.changed_.notify_all(); }
  Await<FetchResponse> Transfer(HostTurn&, FetchRequest request) override {
    return Await<FetchResponse>::Ready(Unlocked([&] { return fetcher_->Fetch(std::move(request)); }));
  }
  void ReleaseTransferSlot(HostTurn&) override {}  // the thread is its slot
  Await<DnsAnswer> Resolve(std::string name) override {
    return Await<DnsAnswer>::Ready(Unlocked([&] { return ResolveBlocking(name, crawl_.dns_options_); }));
  }
  Await<void> Sleep(std::chrono::duration<double> d) override {
    // The naive crawler's back-off: the thread waits (a stop cuts it short).
    crawl_.changed_.wait_for(lock_, d, [&] { return crawl_.core_.stopping(); });
    return Await<void>::Ready();
  }
  Await<void> RunOffLoop(std::function<void()> work) override {
    Unlocked(work);
    return Await<void>::Ready();
  }
  void WriteBehind(std::function<Status()> write) override { crawl_.core_.NoteStored(*this, Unlocked(write)); }
  void WakeDispatcher() override { crawl_.changed_.notify_all(); }

 private:
  BlockingCrawl& crawl_;
  std::unique_lock<std::mutex>& lock_;
  BlockingFetcher* const fetcher_;
};

bool BlockingThread::Do(Work& work) {
  CrawlCore& core = crawl_.core_;
  switch (work.kind) {
    case Work::Kind::kPage:
      RunSync(core.CrawlPage(std::move(work.item), work.host, std::make_unique<HostTurn>(), *this));
      break;
    case Work::Kind::kRobots: RunSync(core.FetchRobots(work.host, std::make_unique<HostTurn>(), *this)); break;
    case Work::Kind::kResolve: RunSync(core.ResolveHost(work.host, *this)); break;
    case Work::Kind::kGranted: crawl_.changed_.notify_all(); break;  // its thread goes on
    case Work::Kind::kRefill: RunSync(core.Refill(*this)); break;
    case Work::Kind::kWaitUntil: crawl_.changed_.wait_until(lock_, work.until); break;
    case Work::Kind::kWaitChange: crawl_.changed_.wait(lock_); break;
    case Work::Kind::kDone: return false;
  }
  return true;
}

Await<void> BlockingThread::WaitForTurn(HostTurn& turn) {
  while (!turn.held && !crawl_.core_.stopping()) {
    Work work = crawl_.core_.Next(*this, /*page_slot=*/false, /*turns_only=*/true);
    Do(work);
  }
  return Await<void>::Ready();
}

void BlockingCrawl::Work(CURLSH* share) {
  BlockingFetcher fetcher(fetcher_options_, share);
  std::unique_lock lock(mu_);
  BlockingThread waits(*this, lock, &fetcher);
  while (true) {
    fanout::Work work = core_.Next(waits, /*page_slot=*/true);
    if (!waits.Do(work)) break;
  }
  --running_;
  changed_.notify_all();  // the others may be waiting for a change that will not come now
}

Status BlockingCrawl::Run(const std::vector<std::string>& seeds, CrawlSummary& summary,
                          const std::function<void(const CrawlProgress&)>& progress) {
  const CrawlClock::time_point started = CrawlClock::now();
  // One easy handle keeps its own connections; several threads share theirs through the cache
  // (over HTTP/1.1: an HTTP/2 connection stays with its thread, see SharedCurlCache).
  std::optional<SharedCurlCache> cache;
  if (workers_ > 1) cache.emplace(/*connections=*/!fetcher_options_.http2);
  control_.OnRequest([this] {  // on the signal thread
    std::unique_lock lock(mu_);
    if (!stop_asked_) stop_asked_ = CrawlClock::now();
    BlockingThread waits(*this, lock, nullptr);
    core_.Stop(waits, true);
  });
  {
    BlockingFetcher fetcher(fetcher_options_, cache ? cache->get() : nullptr);
    std::unique_lock lock(mu_);
    BlockingThread waits(*this, lock, &fetcher);
    for (const std::string& origin : core_.BeginSitemaps(seeds)) RunSync(core_.WalkSitemaps(origin, waits));
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

Status RunBlockingCrawl(const CrawlOptions& options, CrawlCore& core, const CrawlServices& services,
                        const std::vector<std::string>& seeds,
                        size_t workers, CrawlControl& control, CrawlSummary& summary,
                        const std::function<void(const CrawlProgress&)>& progress) {
  BlockingCrawl crawl(options, core, workers, control, services.archive != nullptr);
  return crawl.Run(seeds, summary, progress);
}

}  // namespace fanout
