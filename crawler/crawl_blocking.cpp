#include "crawler/crawl_blocking.h"

#include <condition_variable>
#include <optional>
#include <random>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "crawler/fetch.h"
#include "crawler/page_fetch.h"
#include "crawler/page_work.h"
#include "crawler/url.h"

namespace fanout {
namespace {

class BlockingCrawler {
 public:
  BlockingCrawler(const CrawlOptions& options, Frontier& frontier, Store& store, size_t workers,
                  CrawlControl& control, int64_t run_id, const SpillCursor& spill_cursor)
      : options_(options),
        frontier_(frontier),
        store_(store),
        workers_(workers),
        control_(control),
        fetcher_options_{.user_agent = options.user_agent.empty() ? DefaultUserAgent() : options.user_agent,
                         .http2 = true,
                         .abort = control.abort_flag()},
        meter_(options.concurrency),
        run_id_(run_id),
        spill_cursor_(spill_cursor) {}

  // Walks the sitemaps of `sitemap_seeds`' origins, then crawls.
  Status Run(const std::vector<std::string>& sitemap_seeds, CrawlSummary& summary,
             const std::function<void(const CrawlProgress&)>& progress);

 private:
  // The same politeness state as the async crawl's (crawl.cpp), under mu_.
  struct Host {
    explicit Host(const CrawlOptions& options) : pace(options) {}
    size_t tasks = 0;
    HostPace pace;
  };
  struct Origin {
    bool fetching = false;
    std::optional<RobotsTxt> robots;
  };

  void Worker(CURLSH* share);
  void WalkSitemaps(const std::string& origin, BlockingFetcher& fetcher, std::unique_lock<std::mutex>& lock);
  void CrawlPage(FrontierItem item, BlockingFetcher& fetcher, std::unique_lock<std::mutex>& lock);
  // Waits for the next URL to fetch; false when the crawl is over. REQUIRES: mu_ held.
  bool NextItem(std::unique_lock<std::mutex>& lock, FrontierItem& item);
  // Reads URLs the frontier left in the database back into memory; returns how many. Called and
  // returns with mu_ held; releases it while it reads.
  size_t Refill(std::unique_lock<std::mutex>& lock);
  bool Finished() const {  // REQUIRES: mu_ held
    const bool nothing_more = (options_.max_pages > 0 && dispatched_ >= options_.max_pages) || frontier_.empty() ||
                              (on_disk_unreadable_ && frontier_.in_memory() == 0);
    return stopping_ || (nothing_more && active_ == 0);
  }
  Host& HostOf(std::string_view authority);  // REQUIRES: mu_ held
  // The functions below are called and return with mu_ held, and release it while they block.
  const RobotsTxt* RobotsFor(const std::string& origin, BlockingFetcher& fetcher, std::unique_lock<std::mutex>& lock);
  void TakeTurn(Host& host, std::unique_lock<std::mutex>& lock);
  FetchResponse Transfer(const FetchRequest& request, BlockingFetcher& fetcher, std::unique_lock<std::mutex>& lock);
  void Keep(const std::function<Status()>& write, std::unique_lock<std::mutex>& lock);
  void Kept(const Status& stored);  // what a store call returned: an error stops the crawl; REQUIRES: mu_

  const CrawlOptions& options_;
  Frontier& frontier_;  // guarded by mu_
  Store& store_;
  const size_t workers_;
  CrawlControl& control_;
  const FetcherOptions fetcher_options_;
  const CrawlClock::time_point started_ = CrawlClock::now();

  std::mutex mu_;
  std::condition_variable changed_;  // the frontier, active_, a host's tasks or a robots.txt changed
  std::unordered_map<std::string, Host> hosts_;      // guarded by mu_
  std::unordered_map<std::string, Origin> origins_;  // guarded by mu_
  std::mt19937_64 random_{20261121};                 // guarded by mu_
  size_t active_ = 0;                 // pages popped and not yet handed to the store; guarded by mu_
  int64_t dispatched_ = 0;            // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  std::optional<CrawlClock::time_point> stop_asked_;  // the first Ctrl-C; guarded by mu_
  uint64_t host_waits_ = 0;           // guarded by mu_
  InFlightMeter meter_;               // guarded by mu_
  CrawlSummary summary_;              // guarded by mu_
  PageSamples samples_;               // guarded by mu_
  Status store_error_;                // guarded by mu_
  const int64_t run_id_;
  SpillCursor spill_cursor_;          // how far Refill has read; guarded by mu_
  int64_t stored_at_refill_ = -1;     // summary_.pages when Refill last found nothing; guarded by mu_
  bool refilling_ = false;            // a thread is reading URLs back; guarded by mu_
  bool on_disk_unreadable_ = false;   // what is left on disk cannot be read back; guarded by mu_
};

BlockingCrawler::Host& BlockingCrawler::HostOf(std::string_view authority) {
  return hosts_.try_emplace(std::string(authority), options_).first->second;
}

bool BlockingCrawler::NextItem(std::unique_lock<std::mutex>& lock, FrontierItem& item) {
  auto host_ready = [this](std::string_view authority) { return HostOf(authority).tasks < options_.per_host; };
  while (true) {
    if (Finished()) return false;
    // At --max-pages, wait: a refusal may give a place back.
    if (options_.max_pages <= 0 || dispatched_ < options_.max_pages) {
      if (std::optional<FrontierItem> next = frontier_.Pop(host_ready)) {
        item = std::move(*next);
        ++active_;
        ++dispatched_;
        ++HostOf(AuthorityOf(item.url)).tasks;
        return true;
      }
      // Room in memory and URLs in the database: read some back (see the async crawl's Dispatch).
      if (frontier_.wants_refill() && !refilling_ &&
          (stored_at_refill_ != summary_.pages || active_ == 0)) {
        if (Refill(lock) > 0) continue;
        stored_at_refill_ = summary_.pages;
        if (active_ == 0 && !refilling_) {
          on_disk_unreadable_ = true;  // nothing more will be committed: do not wait for it
          changed_.notify_all();
          continue;
        }
      }
      if (!frontier_.empty()) ++host_waits_;
    }
    changed_.wait(lock);
  }
}

size_t BlockingCrawler::Refill(std::unique_lock<std::mutex>& lock) {
  refilling_ = true;
  const size_t room = frontier_.room();
  const SpillCursor cursor = spill_cursor_;
  lock.unlock();
  Result<SpillRead> read = ReadSpilled(store_, run_id_, cursor, room);
  lock.lock();
  refilling_ = false;
  changed_.notify_all();
  if (!read.ok()) {
    if (store_error_.ok()) store_error_ = read.status();
    stopping_ = true;
    return 0;
  }
  ++summary_.frontier_refills;
  return RestoreSpilled(*read, frontier_, spill_cursor_);
}

void BlockingCrawler::TakeTurn(Host& host, std::unique_lock<std::mutex>& lock) {
  const CrawlClock::time_point start = host.pace.Book(random_);
  if (start <= CrawlClock::now()) return;
  lock.unlock();
  std::this_thread::sleep_until(start);  // the naive crawler's politeness: the thread waits
  lock.lock();
}

FetchResponse BlockingCrawler::Transfer(const FetchRequest& request, BlockingFetcher& fetcher,
                                        std::unique_lock<std::mutex>& lock) {
  meter_.Change(+1, frontier_.queued());
  lock.unlock();
  FetchResponse response = fetcher.Fetch(request);
  lock.lock();
  meter_.Change(-1, frontier_.queued());
  return response;
}

void BlockingCrawler::Keep(const std::function<Status()>& write, std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  Status stored = write();
  lock.lock();
  Kept(stored);
}

void BlockingCrawler::Kept(const Status& stored) {
  if (!stored.ok() && store_error_.ok()) {
    store_error_ = stored;
    stopping_ = true;
    changed_.notify_all();
  }
}

const RobotsTxt* BlockingCrawler::RobotsFor(const std::string& origin, BlockingFetcher& fetcher,
                                            std::unique_lock<std::mutex>& lock) {
  if (options_.ignore_robots) return nullptr;
  Origin& o = origins_[origin];
  if (o.fetching || o.robots) {
    changed_.wait(lock, [&] { return o.robots.has_value(); });
    return &*o.robots;
  }
  o.fetching = true;
  Host& host = HostOf(AuthorityOf(origin + "/"));
  TakeTurn(host, lock);
  FetchResponse response = Transfer(RobotsRequest(options_, origin), fetcher, lock);
  ++summary_.robots_fetched;
  RobotsRecord record;
  record.fetched_at = UnixNow();
  o.robots = RobotsFromResponse(response, origin, options_, record);
  if (record.verdict == "disallow_all") ++summary_.robots_refused_origins;
  if (record.crawl_delay >= 0) host.pace.ObeyCrawlDelay(record.crawl_delay);
  changed_.notify_all();
  Keep([&] { return store_.AddRobots(std::move(record)); }, lock);
  return &*o.robots;
}

void BlockingCrawler::CrawlPage(FrontierItem item, BlockingFetcher& fetcher, std::unique_lock<std::mutex>& lock) {
  PageRecord record;
  record.url = item.url;
  record.depth = item.depth;
  const CrawlClock::time_point waiting_since = CrawlClock::now();
  Host& host = HostOf(AuthorityOf(item.url));
  bool host_done = false;
  auto page_done = [&] {
    if (std::exchange(host_done, true)) return;
    --host.tasks;
    changed_.notify_all();
  };

  if (const RobotsTxt* robots = RobotsFor(std::string(OriginOf(item.url)), fetcher, lock)) {
    RobotsVerdict verdict = robots->Check(PathAndQueryOf(item.url));
    if (!verdict.allowed) {
      --dispatched_;  // not fetched: --max-pages counts fetches
      page_done();
      SkipRecord skip = RobotsRefusal(item, verdict, summary_);
      Keep([&] { return store_.AddSkip(std::move(skip)); }, lock);
      return;
    }
  }

  TakeTurn(host, lock);
  if (stopping_) {  // interrupted before its transfer: left for a resumed crawl
    page_done();
    return;
  }
  record.queue_wait = SecondsSince(waiting_since);
  record.fetched_at = UnixNow();
  PageFetch fetch(options_, item.url, random_());
  for (bool done = false; !done;) {
    switch (fetch.Next()) {
      case PageFetch::Step::kFetch: fetch.OnResponse(Transfer(fetch.request(), fetcher, lock)); break;
      case PageFetch::Step::kWait:
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::duration<double>(fetch.wait_seconds()));
        lock.lock();
        TakeTurn(host, lock);
        if (stopping_) {  // the retry is left for a resumed crawl
          page_done();
          return;
        }
        break;
      case PageFetch::Step::kCheckRedirect: {
        const std::string target = fetch.redirect_target();
        // Scope first: a host the crawl will not visit is not asked for its robots.txt.
        if (Frontier::Verdict v = frontier_.CheckRedirect(target); v != Frontier::Verdict::kQueued) {
          fetch.OnRedirectVerdict({.follow = false, .reason = Frontier::ReasonFor(v), .detail = ""});
          break;
        }
        const RobotsTxt* robots = RobotsFor(std::string(OriginOf(target)), fetcher, lock);
        fetch.OnRedirectVerdict(JudgeRedirect(target, frontier_, robots));
        break;
      }
      case PageFetch::Step::kDone: done = true; break;
    }
  }
  page_done();
  std::optional<SkipRecord> skip;
  if (!ConcludeFetch(fetch, item.depth, record, summary_, skip)) return;
  if (skip) Keep([&] { return store_.AddSkip(std::move(*skip)); }, lock);

  FetchResponse& response = fetch.response();
  const bool parse = ShouldParse(response);
  lock.unlock();
  std::vector<LinkCandidate> candidates;
  if (parse) candidates = ParsePage(fetch.url(), response, options_, record);
  std::string().swap(response.body);
  // Room in the store outside the lock; then the links are decided and the page queued under it,
  // so the writer sees pages in the order their links were decided (see frontier.h).
  Result<double> room = store_.WaitForRoom();
  lock.lock();

  if (parse) ++summary_.parsed_pages;
  std::vector<LinkRecord> links =
      DecideLinks(std::move(candidates), fetch.url(), item.depth, options_, frontier_, summary_.skipped_by_reason);
  CountPage(record, links.size(), summary_, samples_);
  changed_.notify_all();
  Kept(room.ok() ? store_.AddPageNow(std::move(record), std::move(links), *room) : room.status());
}

void BlockingCrawler::Worker(CURLSH* share) {
  BlockingFetcher fetcher(fetcher_options_, share);
  std::unique_lock lock(mu_);
  FrontierItem item;
  while (NextItem(lock, item)) {
    CrawlPage(std::move(item), fetcher, lock);
    --active_;
    changed_.notify_all();
  }
}

void BlockingCrawler::WalkSitemaps(const std::string& origin, BlockingFetcher& fetcher,
                                   std::unique_lock<std::mutex>& lock) {
  const RobotsTxt* robots = RobotsFor(origin, fetcher, lock);
  SitemapWalk walk(origin, robots != nullptr ? robots->sitemaps() : std::vector<std::string>{});
  Host& host = HostOf(AuthorityOf(origin + "/"));
  while (std::optional<std::string> url = walk.Next()) {
    if (robots != nullptr && !robots->Check(PathAndQueryOf(*url)).allowed) continue;
    TakeTurn(host, lock);
    FetchResponse response = Transfer(SitemapRequest(options_, *url), fetcher, lock);
    walk.OnResponse(*url, response, frontier_);
  }
  CountSitemaps(walk.stats(), summary_);
}

Status BlockingCrawler::Run(const std::vector<std::string>& sitemap_seeds, CrawlSummary& summary,
                            const std::function<void(const CrawlProgress&)>& progress) {
  // One easy handle keeps its own connections; several threads share theirs through the cache.
  std::optional<SharedCurlCache> cache;
  if (workers_ > 1) cache.emplace();
  control_.OnRequest([this] {  // on the signal thread
    std::lock_guard lock(mu_);
    if (!stop_asked_) stop_asked_ = CrawlClock::now();
    stopping_ = true;
    summary_.interrupted = true;
    changed_.notify_all();
  });
  if (!sitemap_seeds.empty()) {
    BlockingFetcher fetcher(fetcher_options_, cache ? cache->get() : nullptr);
    std::unique_lock lock(mu_);
    for (const std::string& origin : OriginsOf(sitemap_seeds)) WalkSitemaps(origin, fetcher, lock);
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < workers_; ++i) threads.emplace_back([&] { Worker(cache ? cache->get() : nullptr); });
  {
    std::unique_lock lock(mu_);
    while (!changed_.wait_for(lock, std::chrono::milliseconds(250), [&] { return Finished() && active_ == 0; })) {
      if (stop_asked_ && CrawlClock::now() - *stop_asked_ >= control_.grace() && !control_.abort_requested()) {
        lock.unlock();
        control_.Abort();  // the grace period is over: cut what is still in flight
        lock.lock();
      }
      if (progress) {
        CrawlProgress p{summary_.pages, summary_.errors, 0, frontier_.queued(), SecondsSince(started_)};
        lock.unlock();
        progress(p);
        lock.lock();
      }
    }
  }
  for (std::thread& t : threads) t.join();
  control_.OnRequest({});  // from here on a signal has nothing to wake

  const double wall = SecondsSince(started_);
  std::lock_guard lock(mu_);
  summary = summary_;
  SummariseRun(samples_, meter_, options_, wall, summary);
  summary.per_host_bound = host_waits_ > 0 && options_.per_host < workers_;
  summary.threads = workers_;
  summary.max_pages_in_progress = workers_;
  summary.page_slots = workers_;
  return store_error_;
}

}  // namespace

Status RunBlockingCrawl(const CrawlOptions& options, const std::vector<std::string>& seeds, Frontier& frontier,
                        Store& store, size_t workers, CrawlControl& control, int64_t run_id,
                        const SpillCursor& spill_cursor, CrawlSummary& summary,
                        const std::function<void(const CrawlProgress&)>& progress) {
  BlockingCrawler crawler(options, frontier, store, std::max<size_t>(workers, 1), control, run_id, spill_cursor);
  return crawler.Run(options.sitemaps ? seeds : std::vector<std::string>{}, summary, progress);
}

}  // namespace fanout
