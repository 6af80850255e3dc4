#include "crawler/crawl_blocking.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "crawler/fetch.h"
#include "crawler/page_work.h"
#include "crawler/url.h"

namespace fanout {
namespace {

class BlockingCrawler {
 public:
  BlockingCrawler(const CrawlOptions& options, Frontier& frontier, Store& store, size_t workers)
      : options_(options), frontier_(frontier), store_(store), workers_(workers), meter_(options.concurrency) {}

  Status Run(CrawlSummary& summary, const std::function<void(const CrawlProgress&)>& progress);

 private:
  void Worker(CURLSH* share);
  // Waits for the next URL to fetch; false when the crawl is over. REQUIRES: mu_ held.
  bool NextItem(std::unique_lock<std::mutex>& lock, FrontierItem& item);
  bool Finished() const {  // REQUIRES: mu_ held
    return stopping_ || (options_.max_pages > 0 && dispatched_ >= options_.max_pages) ||
           (frontier_.empty() && active_ == 0);
  }

  const CrawlOptions& options_;
  Frontier& frontier_;  // guarded by mu_
  Store& store_;
  const size_t workers_;
  const CrawlClock::time_point started_ = CrawlClock::now();

  std::mutex mu_;
  std::condition_variable changed_;  // the frontier, active_ or a host's count changed
  std::unordered_map<std::string, size_t> host_in_flight_;  // guarded by mu_
  size_t active_ = 0;                 // pages popped and not yet handed to the store; guarded by mu_
  int64_t dispatched_ = 0;            // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  uint64_t host_waits_ = 0;           // guarded by mu_
  InFlightMeter meter_;               // guarded by mu_
  CrawlSummary summary_;              // guarded by mu_
  PageSamples samples_;               // guarded by mu_
  Status store_error_;                // guarded by mu_
};

bool BlockingCrawler::NextItem(std::unique_lock<std::mutex>& lock, FrontierItem& item) {
  while (true) {
    changed_.wait(lock, [&] { return Finished() || !frontier_.empty(); });
    if (Finished()) return false;
    std::optional<FrontierItem> next = frontier_.Pop();
    if (!next) continue;  // only redirect targets already fetched were left
    item = std::move(*next);
    ++active_;
    ++dispatched_;
    return true;
  }
}

void BlockingCrawler::Worker(CURLSH* share) {
  BlockingFetcher fetcher(FetcherOptions{.user_agent = options_.user_agent.empty() ? DefaultUserAgent()
                                                                                    : options_.user_agent},
                          share);
  std::unique_lock lock(mu_);
  FrontierItem item;
  while (NextItem(lock, item)) {
    PageRecord record;
    record.url = item.url;
    record.depth = item.depth;

    const std::string host(AuthorityOf(item.url));
    const CrawlClock::time_point waiting_since = CrawlClock::now();
    if (host_in_flight_[host] >= options_.per_host) ++host_waits_;
    changed_.wait(lock, [&] { return host_in_flight_[host] < options_.per_host; });
    ++host_in_flight_[host];
    record.queue_wait = SecondsSince(waiting_since);
    record.fetched_at = UnixNow();
    meter_.Change(+1, frontier_.queued());
    lock.unlock();

    FetchResponse response = fetcher.Fetch(RequestFor(options_, item.url));

    lock.lock();
    meter_.Change(-1, frontier_.queued());
    --host_in_flight_[host];
    changed_.notify_all();
    FillRecord(response, record);
    bool parse = ShouldParse(response);
    const std::string page_url = ClaimFinalUrl(item.url, response, frontier_, record, parse);
    lock.unlock();

    std::vector<LinkCandidate> candidates;
    if (parse) candidates = ParsePage(page_url, response.body, options_.follow_nofollow, record);
    std::string().swap(response.body);

    lock.lock();
    if (parse) ++summary_.parsed_pages;
    std::vector<LinkRecord> links =
        DecideLinks(std::move(candidates), item.depth, frontier_, summary_.skipped_by_reason);
    CountPage(record, links.size(), summary_, samples_);
    changed_.notify_all();
    lock.unlock();

    Status stored = store_.AddPage(std::move(record), std::move(links));

    lock.lock();
    if (!stored.ok() && store_error_.ok()) {
      store_error_ = stored;
      stopping_ = true;
    }
    --active_;
    changed_.notify_all();
  }
}

Status BlockingCrawler::Run(CrawlSummary& summary, const std::function<void(const CrawlProgress&)>& progress) {
  // One easy handle keeps its own connections; several threads share theirs through the cache.
  std::optional<SharedCurlCache> cache;
  if (workers_ > 1) cache.emplace();
  std::vector<std::thread> threads;
  for (size_t i = 0; i < workers_; ++i) threads.emplace_back([&] { Worker(cache ? cache->get() : nullptr); });
  {
    std::unique_lock lock(mu_);
    while (!changed_.wait_for(lock, std::chrono::milliseconds(250), [&] { return Finished() && active_ == 0; })) {
      if (progress) {
        CrawlProgress p{summary_.pages, summary_.errors, 0, frontier_.queued(), SecondsSince(started_)};
        lock.unlock();
        progress(p);
        lock.lock();
      }
    }
  }
  for (std::thread& t : threads) t.join();

  const double wall = SecondsSince(started_);
  std::lock_guard lock(mu_);
  summary = summary_;
  SummariseRun(samples_, meter_, options_, frontier_.queued(), wall, summary);
  summary.per_host_bound = host_waits_ > 0 && options_.per_host < workers_;
  summary.threads = workers_;
  summary.max_pages_in_progress = workers_;
  summary.page_slots = workers_;
  return store_error_;
}

}  // namespace

Status RunBlockingCrawl(const CrawlOptions& options, Frontier& frontier, Store& store, size_t workers,
                        CrawlSummary& summary, const std::function<void(const CrawlProgress&)>& progress) {
  BlockingCrawler crawler(options, frontier, store, std::max<size_t>(workers, 1));
  return crawler.Run(summary, progress);
}

}  // namespace fanout
