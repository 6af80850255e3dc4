#include "crawler/crawl.h"

#include <time.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "crawler/event_loop.h"
#include "crawler/fetch.h"
#include "crawler/semaphore.h"
#include "crawler/thread_pool.h"
#include "crawler/url.h"
#include "parser/html_parser.h"

#ifndef FANOUT_VERSION
#define FANOUT_VERSION "0.0.0"
#endif

namespace fanout {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool IsHtml(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "text/html" || type == "application/xhtml+xml";
}

const char* ErrorKindOf(int curl_code) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST: return "dns";
    case CURLE_COULDNT_CONNECT: return "connect";
    case CURLE_TOO_MANY_REDIRECTS: return "redirect_loop";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION: return "tls";
    case CURLE_UNSUPPORTED_PROTOCOL: return "unsupported";
    default: return "network";
  }
}

// Does the href start with a scheme ("mailto:", "javascript:")? Then it is not a relative path.
bool HasScheme(std::string_view href) {
  while (!href.empty() && (href.front() == ' ' || href.front() == '\t' || href.front() == '\n')) href.remove_prefix(1);
  size_t colon = href.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = href[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) return false;
  }
  return std::isalpha(static_cast<unsigned char>(href[0]));
}

// A link as the parser and URL resolution leave it, before the frontier's verdict.
struct LinkCandidate {
  std::string url;     // resolved and normalised, or the raw href when it could not be
  std::string reason;  // "" when it may be followed
};

// Runs on a pool thread: parse, then resolve every link against the page's base.
std::vector<LinkCandidate> ExtractLinks(const std::string& page_url, const std::string& body, bool follow_nofollow,
                                        PageRecord& record) {
  ParsedPage parsed = ParseHtml(body);
  record.title = parsed.title;
  record.noindex = parsed.meta_noindex;
  std::string base = page_url;
  if (!parsed.base_href.empty()) {
    if (Result<std::string> b = ResolveUrl(page_url, parsed.base_href); b.ok()) base = *b;
  }
  if (!parsed.canonical.empty()) {
    if (Result<std::string> c = ResolveUrl(base, parsed.canonical); c.ok()) record.canonical = *c;
  }
  std::vector<LinkCandidate> out;
  out.reserve(parsed.links.size());
  for (const HtmlLink& link : parsed.links) {
    Result<std::string> url = ResolveUrl(base, link.href);
    if (!url.ok()) {
      out.push_back({link.href, HasScheme(link.href) ? "not_http" : "bad_url"});
    } else if ((link.nofollow || parsed.meta_nofollow) && !follow_nofollow) {
      out.push_back({*url, "nofollow"});
    } else {
      out.push_back({*url, ""});
    }
  }
  return out;
}

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
  Crawler(const CrawlOptions& options, EventLoop& loop, Frontier& frontier, Store& store, size_t threads)
      : options_(options),
        loop_(loop),
        frontier_(frontier),
        store_(store),
        fetcher_(loop, FetcherOptions{.user_agent = options.user_agent.empty() ? DefaultUserAgent() : options.user_agent}),
        pool_(loop, threads),
        transfers_(loop, options.concurrency),
        pages_(loop, options.concurrency + std::max<size_t>(16, 4 * threads)),
        wakeup_(loop) {}

  Task<void> Dispatch();
  Task<void> ReportProgress(std::function<void(const CrawlProgress&)> progress);
  void Summarise(CrawlSummary& s, double wall) const;
  const Status& store_error() const { return store_error_; }
  CrawlProgress Progress() const {
    return {summary_.pages, summary_.errors, fetcher_.stats().in_flight, frontier_.queued(), SecondsSince(started_)};
  }

 private:
  Task<void> CrawlPage(FrontierItem item, AsyncSemaphore::Permit page, AsyncSemaphore::Permit transfer);
  AsyncSemaphore& HostLimit(std::string_view authority);
  // Integrates transfers in flight over the time the frontier could have kept every permit busy:
  // how well the loop keeps the limit fed, free of the ramp-up and the tail of a crawl.
  void TrackSaturation() {
    const Clock::time_point now = Clock::now();
    if (saturated_) {
      const double dt = std::chrono::duration<double>(now - saturation_mark_).count();
      saturated_seconds_ += dt;
      saturated_in_flight_seconds_ += dt * static_cast<double>(in_flight_);
    }
    saturation_mark_ = now;
    saturated_ = frontier_.queued() >= options_.concurrency;
  }
  void MaybeFinish() {
    if (dispatch_done_ && active_ == 0) loop_.Stop();  // leaves nothing but the progress reporter
  }

  const CrawlOptions& options_;
  EventLoop& loop_;
  Frontier& frontier_;
  Store& store_;
  Fetcher fetcher_;
  ThreadPool pool_;
  AsyncSemaphore transfers_;  // transfers in flight: --concurrency
  // Pages between dispatch and the store: the transfers plus a short backlog waiting for the pool.
  // Without it a crawl that parses slower than it fetches would hold every fetched body in memory.
  AsyncSemaphore pages_;
  std::unordered_map<std::string, std::unique_ptr<AsyncSemaphore>> hosts_;
  Wakeup wakeup_;
  Clock::time_point started_ = Clock::now();

  size_t active_ = 0;          // page tasks spawned and not finished
  size_t max_active_ = 0;
  int64_t dispatched_ = 0;
  bool dispatch_done_ = false;
  bool stopping_ = false;
  uint64_t host_waits_ = 0;    // page tasks that found their host's limit reached
  size_t in_flight_ = 0;       // transfers started and not finished
  bool saturated_ = false;
  Clock::time_point saturation_mark_ = Clock::now();
  double saturated_seconds_ = 0, saturated_in_flight_seconds_ = 0, parse_seconds_ = 0;
  Status store_error_;
  CrawlSummary summary_;
};

AsyncSemaphore& Crawler::HostLimit(std::string_view authority) {
  auto it = hosts_.find(std::string(authority));
  if (it == hosts_.end()) {
    it = hosts_.emplace(std::string(authority), std::make_unique<AsyncSemaphore>(loop_, options_.per_host)).first;
  }
  return *it->second;
}

Task<void> Crawler::Dispatch() {
  while (true) {
    AsyncSemaphore::Permit page = co_await pages_.Acquire();
    AsyncSemaphore::Permit transfer = co_await transfers_.Acquire();
    while (frontier_.empty() && active_ > 0 && !stopping_) co_await wakeup_.Wait();
    if (options_.max_pages > 0 && dispatched_ >= options_.max_pages) break;
    std::optional<FrontierItem> next = stopping_ ? std::nullopt : frontier_.Pop();
    if (!next) {
      if (active_ > 0 && !stopping_) continue;  // only skipped redirect targets were left; wait again
      break;
    }
    FrontierItem item = std::move(*next);
    ++active_;
    ++dispatched_;
    max_active_ = std::max(max_active_, active_);
    loop_.Spawn(CrawlPage(std::move(item), std::move(page), std::move(transfer)));
  }
  dispatch_done_ = true;
  MaybeFinish();
}

Task<void> Crawler::CrawlPage(FrontierItem item, AsyncSemaphore::Permit page, AsyncSemaphore::Permit transfer) {
  PageRecord record;
  record.url = item.url;
  record.depth = item.depth;

  const Clock::time_point waiting_since = Clock::now();
  AsyncSemaphore& host = HostLimit(AuthorityOf(item.url));
  if (host.available() == 0) ++host_waits_;
  AsyncSemaphore::Permit host_permit = co_await host.Acquire();
  record.queue_wait = SecondsSince(waiting_since);
  record.fetched_at = UnixNow();

  TrackSaturation();
  ++in_flight_;
  FetchRequest request{.url = item.url,
                       .timeout_ms = options_.timeout_ms,
                       .connect_timeout_ms = options_.connect_timeout_ms,
                       .max_bytes = options_.max_bytes,
                       .max_redirects = options_.max_redirects};
  FetchResponse response = co_await fetcher_.Fetch(std::move(request));  // named first: see task.h
  TrackSaturation();
  --in_flight_;
  host_permit.Release();
  transfer.Release();  // the transfer is over: let the dispatcher start the next one now

  record.status = static_cast<int>(response.status);
  record.content_type = response.content_type;
  record.bytes = static_cast<int64_t>(response.body.size());
  record.truncated = response.truncated;
  record.http_version = response.http_version;
  record.new_connections = response.new_connections;
  record.redirects = static_cast<int>(response.redirects);
  record.dns = response.timings.dns;
  record.connect = response.timings.connect;
  record.tls = response.timings.tls;
  record.first_byte = response.timings.first_byte;
  record.transfer = response.timings.transfer;
  record.total = response.timings.total;
  if (!response.ok()) {
    record.error_kind = ErrorKindOf(response.curl_code);
    record.error = response.error;
  } else if (response.status >= 400) {
    record.error_kind = "http";
    record.error = "HTTP " + std::to_string(response.status);
  }

  // One page, one fetch: a redirect to a URL already crawled (or queued) is not parsed again.
  std::string page_url = item.url;
  bool parse = response.ok() && response.status >= 200 && response.status < 300 && IsHtml(response.content_type);
  if (!response.effective_url.empty()) {
    if (Result<std::string> final_url = NormalizeUrl(response.effective_url); final_url.ok() && *final_url != item.url) {
      record.final_url = *final_url;
      page_url = *final_url;
      if (!frontier_.ClaimRedirectTarget(*final_url)) {
        parse = false;
        record.error = "redirected to " + *final_url + ", which this run already has";
      }
    }
  }

  std::vector<LinkCandidate> candidates;
  if (parse) {
    candidates = co_await pool_.Run([&] {
      // The worker's CPU time: what parsing costs, not how long the thread waited for a core.
      const double parse_start = ThreadCpuSeconds();
      std::vector<LinkCandidate> found = ExtractLinks(page_url, response.body, options_.follow_nofollow, record);
      record.parse = ThreadCpuSeconds() - parse_start;
      return found;
    });
    parse_seconds_ += record.parse;
    ++summary_.parsed_pages;
  }
  std::string().swap(response.body);  // the body is done with: free it before waiting on the store

  std::vector<LinkRecord> links;
  links.reserve(candidates.size());
  for (LinkCandidate& c : candidates) {
    if (c.reason.empty()) c.reason = Frontier::ReasonFor(frontier_.Offer(c.url, item.depth + 1));
    if (!c.reason.empty()) ++summary_.skipped_by_reason[c.reason];
    links.push_back(LinkRecord{.to_url = std::move(c.url), .followed = c.reason.empty(), .reason = std::move(c.reason)});
  }
  TrackSaturation();
  wakeup_.Notify();

  ++summary_.pages;
  summary_.bytes += record.bytes;
  summary_.links += static_cast<int64_t>(links.size());
  if (record.status >= 200 && record.status < 300) ++summary_.ok_pages;
  if (!record.error_kind.empty()) {
    ++summary_.errors;
    ++summary_.errors_by_kind[record.error_kind];
  }

  // AddPage only queues, but may wait for room in the store's queue: not on the loop thread.
  Status stored = co_await pool_.Run([&] { return store_.AddPage(std::move(record), std::move(links)); });
  if (!stored.ok() && store_error_.ok()) {
    store_error_ = stored;
    stopping_ = true;  // nothing more can be kept: stop fetching
  }
  page.Release();
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

void Crawler::Summarise(CrawlSummary& s, double wall) const {
  s = summary_;
  FetcherStats fetch = fetcher_.stats();
  PoolStats pool = pool_.stats();
  LoopStats loop = loop_.stats();
  s.queued_left = frontier_.queued();
  s.wall_seconds = wall;
  s.pages_per_second = wall > 0 ? static_cast<double>(s.pages) / wall : 0;
  s.concurrency = options_.concurrency;
  s.per_host = options_.per_host;
  s.max_in_flight = fetch.max_in_flight;
  s.max_pages_in_progress = max_active_;
  s.page_slots = pages_.capacity();
  s.mean_in_flight = wall > 0 ? fetch.in_flight_seconds / wall : 0;
  s.saturated_seconds = saturated_seconds_;
  s.saturated_mean_in_flight = saturated_seconds_ > 0 ? saturated_in_flight_seconds_ / saturated_seconds_ : 0;
  s.mean_parse_seconds = s.parsed_pages > 0 ? parse_seconds_ / static_cast<double>(s.parsed_pages) : 0;
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
      {"pages", pages},
      {"ok_pages", ok_pages},
      {"parsed_pages", parsed_pages},
      {"errors", errors},
      {"errors_by_kind", errors_by_kind},
      {"bytes", bytes},
      {"links", links},
      {"skipped_by_reason", skipped_by_reason},
      {"queued_left", queued_left},
      {"wall_seconds", wall_seconds},
      {"pages_per_second", pages_per_second},
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
  };
  return j.dump();
}

Result<CrawlSummary> Crawl(const CrawlOptions& options, Store& store,
                           std::function<void(const CrawlProgress&)> progress) {
  if (options.seeds.empty()) return Status::InvalidArgument("no seed URL given");
  if (options.concurrency == 0 || options.per_host == 0) {
    return Status::InvalidArgument("--concurrency and --per-host must be at least 1");
  }
  std::vector<std::string> seeds;
  for (const std::string& seed : options.seeds) {
    Result<std::string> url = NormalizeUrl(seed);
    if (!url.ok()) return Status::InvalidArgument("seed '" + seed + "': " + url.status().message());
    seeds.push_back(*url);
  }
  Result<Frontier> frontier = Frontier::Create(options.scope, options.max_depth);
  if (!frontier.ok()) return frontier.status();
  for (const std::string& seed : seeds) frontier->AddSeed(seed);

  Result<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) return loop.status();

  nlohmann::json options_json = {
      {"concurrency", options.concurrency}, {"per_host", options.per_host},   {"threads", options.threads},
      {"max_pages", options.max_pages},     {"max_depth", options.max_depth}, {"timeout_ms", options.timeout_ms},
      {"max_bytes", options.max_bytes},     {"max_redirects", options.max_redirects},
      {"user_agent", options.user_agent.empty() ? DefaultUserAgent() : options.user_agent},
      {"allow_domain", options.scope.allowed_domains}, {"include", options.scope.include},
      {"exclude", options.scope.exclude}, {"follow_nofollow", options.follow_nofollow}};
  Result<int64_t> run = store.BeginRun(RunInfo{.mode = options.mode, .seeds = seeds, .options_json = options_json.dump()});
  if (!run.ok()) return run.status();

  const size_t threads = options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  CrawlSummary summary;
  {
    Crawler crawler(options, **loop, *frontier, store, threads);
    (*loop)->Spawn(crawler.Dispatch());
    if (progress) (*loop)->Spawn(crawler.ReportProgress(progress));
    const Clock::time_point start = Clock::now();
    (*loop)->Run();
    crawler.Summarise(summary, SecondsSince(start));
    loop->reset();  // unfinished helpers (the progress reporter) go before the crawler they point at
    if (!crawler.store_error().ok()) return crawler.store_error();
  }
  summary.run_id = *run;
  FANOUT_RETURN_IF_ERROR(store.FinishRun(RunSummary{.pages = summary.pages,
                                                    .errors = summary.errors,
                                                    .bytes = summary.bytes,
                                                    .wall_seconds = summary.wall_seconds,
                                                    .pages_per_second = summary.pages_per_second,
                                                    .summary_json = summary.ToJson()}));
  return summary;
}

}  // namespace fanout
