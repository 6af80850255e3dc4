// Crawls of a web of many hosts (`fanout serve --hosts`), in every mode, judged at the server: every
// page fetched once, robots.txt once per host, --per-host and the delays held per host, hosts whose
// robots.txt refuses (or fails) not crawled; and the three modes find the same web.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "storage/run_state.h"
#include "tests/support/crawl_fixture.h"
#include "tests/support/status_matchers.h"

namespace fanout {
namespace {

using testsite::HostStats;
using testsite::ServerOptions;

constexpr int kPerHost = 2;
constexpr double kDelay = 0.05;
// The in-process server stamps a request when its loop gets to it, which on a loaded machine (the
// suite runs two tests at once, sanitizers slow both sides) can be some milliseconds after it
// arrived: two requests may look that much closer than they were. A crawler that ignored the
// delay would show gaps near zero. At a load average of 8 on 2 cores (builds beside the suite) the
// server's stamps were seen 20 ms late, and 29 ms under AddressSanitizer.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr double kServerJitter = 0.035;
#else
constexpr double kServerJitter = 0.025;
#endif

class ManyHostsTest : public test::CrawlFixture {
 protected:
  static ServerOptions Web(uint64_t hosts, uint64_t pages_per_host) {
    ServerOptions o;
    o.synthetic = testsite::SyntheticOptions{.pages = pages_per_host, .links = 6, .page_bytes = 1500, .seed = 5};
    o.web = testsite::SyntheticWebOptions{.hosts = hosts, .cross_links = 0.5, .robots_mix = true, .cross_redirects = true};
    o.latency_ms = 3;
    return o;
  }
  static CrawlOptions Options(const testsite::SiteServer& site, const std::string& mode) {
    CrawlOptions o;
    o.seeds = {site.url()};
    o.concurrency = 8;
    o.per_host = kPerHost;
    o.delay = kDelay;
    o.scope.allowed_domains = {"localhost"};
    o.mode = CrawlModeNamed(mode).value();
    return o;
  }
  Result<CrawlSummary> CrawlTo(const std::string& file, const CrawlOptions& options, CrawlControl* control = nullptr,
                               const RunState* resume = nullptr) {
    auto store = Store::Open(dir_.File(file));
    EXPECT_OK(store);
    CrawlServices services(**store);
    services.resume = resume;
    Result<CrawlSummary> summary = Crawl(options, services, {}, control);
    EXPECT_OK((*store)->Close());
    return summary;
  }
  std::set<std::string> Column(const std::string& file, const std::string& sql) {
    std::set<std::string> out;
    auto handle = SqliteDb::Open(dir_.File(file));
    EXPECT_OK(handle);
    auto stmt = handle->Prepare(sql);
    EXPECT_OK(stmt) << sql;
    while (true) {
      Result<bool> row = stmt->Step();
      if (!row.ok() || !*row) break;
      out.insert(stmt->ColumnText(0));
    }
    return out;
  }

  // What the server saw, checked against what each host's robots.txt and the limits allow.
  // The most distinct hosts whose pages (robots.txt aside) the server received within `window`
  // seconds of each other, by the server's clock.
  static size_t MostHostsAskedWithin(const testsite::SiteServer& site, double window) {
    std::vector<std::pair<double, std::string>> pages;  // (received, host)
    for (const testsite::LogEntry& e : site.log()) {
      if (e.target != "/robots.txt") pages.emplace_back(e.received, e.host);
    }
    std::sort(pages.begin(), pages.end());
    size_t most = 0;
    for (size_t first = 0; first < pages.size(); ++first) {
      std::set<std::string> hosts;
      for (size_t i = first; i < pages.size() && pages[i].first - pages[first].first <= window; ++i) {
        hosts.insert(pages[i].second);
      }
      most = std::max(most, hosts.size());
    }
    return most;
  }

  static void ExpectPoliteAndOnce(const testsite::SiteServer& site, const std::string& mode, double delay = kDelay) {
    std::map<std::pair<std::string, std::string>, int> asked;  // (host, target) -> GETs
    for (const testsite::LogEntry& e : site.log()) ++asked[{e.host.substr(0, e.host.find(':')), e.target}];
    for (const auto& [key, n] : asked) EXPECT_EQ(n, 1) << mode << ": " << key.first << key.second << " asked " << n << " times";
    for (const HostStats& h : site.ActiveHostStats()) {
      EXPECT_EQ(h.robots_fetches, 1u) << mode << " " << h.name;
      EXPECT_LE(h.max_in_flight, static_cast<uint64_t>(kPerHost)) << mode << " " << h.name;
      double gap = delay;
      if (h.robots.rfind("crawl-delay:", 0) == 0) gap = std::max(gap, std::stod(h.robots.substr(12)));
      if (h.min_gap_ms) {
        EXPECT_GE(*h.min_gap_ms, 1000 * (gap - kServerJitter)) << mode << " " << h.name << " (" << h.robots << ")";
      }
      if (h.robots == "503") {
        EXPECT_EQ(h.requests, 1u) << mode << " " << h.name << ": a refused origin is not crawled";
      }
      if (h.robots.rfind("disallow:", 0) == 0) {
        const std::string prefix = h.robots.substr(9);
        for (const auto& [key, n] : asked) {
          if (key.first == h.name) {
            EXPECT_NE(key.second.rfind(prefix, 0), 0u) << mode << " asked " << h.name << key.second;
          }
        }
      }
    }
  }
};

TEST_F(ManyHostsTest, EveryModeCrawlsTheSameWebOnceAndPolitelyAsTheServerSeesIt) {
  auto site = Serve(Web(120, 4));
  ASSERT_NE(site, nullptr);
  struct Found {
    std::set<std::string> content, skipped;
    int64_t ok_pages = 0, links = 0, robots_fetched = 0, robots_refused = 0;
  };
  std::map<std::string, Found> found;
  for (const std::string mode : {"sync", "threads", "async"}) {
    site->ResetStats();
    CrawlOptions options = Options(*site, mode);
    options.sitemaps = true;  // the web has none: the walk asks h0 for /sitemap.xml, in its turn
    Result<CrawlSummary> s = CrawlTo(mode + ".db", options);
    ASSERT_OK(s) << mode;
    ExpectPoliteAndOnce(*site, mode);
    EXPECT_EQ(s->sitemaps_fetched, 1) << mode;
    EXPECT_EQ(s->queued_left, 0u) << mode;
    // A page asks for a host's turn only for a redirect hop (there are no retries here).
    EXPECT_LE(static_cast<int64_t>(s->page_turn_waits), Count("SELECT sum(redirects) FROM pages", dir_.File(mode + ".db"))) << mode;
    // What a page holds does not depend on the order: which URL a redirect reached first does.
    Found& f = found[mode];
    f.content = Column(mode + ".db", "SELECT coalesce(nullif(final_url, ''), url) FROM pages WHERE status = 200");
    f.skipped = Column(mode + ".db", "SELECT url || ' ' || reason FROM skipped");
    f.ok_pages = s->ok_pages;
    f.links = s->links;
    f.robots_fetched = s->robots_fetched;
    f.robots_refused = s->robots_refused_origins;
    EXPECT_GT(s->robots_refused_origins, 0) << mode << ": the robots mix has hosts answering 503";
    EXPECT_GT(s->skipped_by_reason["robots"], 0) << mode;
  }
  for (const std::string mode : {"sync", "threads"}) {
    EXPECT_EQ(found[mode].content, found["async"].content) << mode;
    EXPECT_EQ(found[mode].skipped, found["async"].skipped) << mode;
    EXPECT_EQ(found[mode].ok_pages, found["async"].ok_pages) << mode;
    EXPECT_EQ(found[mode].links, found["async"].links) << mode;
    EXPECT_EQ(found[mode].robots_fetched, found["async"].robots_fetched) << mode;
    EXPECT_EQ(found[mode].robots_refused, found["async"].robots_refused) << mode;
  }
  EXPECT_GT(found["async"].content.size(), 100u);
}

// --max-pages counts pages fetched across hosts, in every mode; a stopped crawl, resumed, fetches
// the rest and nothing twice.
TEST_F(ManyHostsTest, MaxPagesAndAStoppedCrawlResumedHoldInEveryMode) {
  auto site = Serve(Web(30, 5));
  ASSERT_NE(site, nullptr);
  for (const std::string mode : {"sync", "threads", "async"}) {
    site->ResetStats();
    CrawlOptions limited = Options(*site, mode);
    limited.max_pages = 25;
    Result<CrawlSummary> s = CrawlTo(mode + "-max.db", limited);
    ASSERT_OK(s) << mode;
    EXPECT_EQ(s->pages, 25) << mode;
    uint64_t page_requests = 0;
    for (const testsite::LogEntry& e : site->log()) page_requests += e.target != "/robots.txt";
    EXPECT_EQ(page_requests, 25u) << mode << ": the server saw --max-pages page requests";

    // The whole web, for what a stopped and resumed crawl must add up to.
    site->ResetStats();
    ASSERT_OK(CrawlTo(mode + "-full.db", Options(*site, mode)));
    const std::set<std::string> full =
        Column(mode + "-full.db", "SELECT coalesce(nullif(final_url, ''), url) FROM pages WHERE status = 200");

    site->ResetStats();
    CrawlControl control(std::chrono::milliseconds(2000));
    std::thread stopper([&] {
      site->WaitForRequests(40, std::chrono::seconds(30));
      control.Stop();
    });
    Result<CrawlSummary> stopped = CrawlTo(mode + "-resumed.db", Options(*site, mode), &control);
    stopper.join();
    ASSERT_OK(stopped) << mode;
    EXPECT_TRUE(stopped->interrupted) << mode;
    Result<std::optional<UnfinishedRun>> unfinished = FindUnfinishedRun(dir_.File(mode + "-resumed.db"));
    ASSERT_TRUE(unfinished.ok() && unfinished->has_value()) << mode;
    Result<RunState> state = LoadRunState(dir_.File(mode + "-resumed.db"), (*unfinished)->id);
    ASSERT_OK(state) << mode;
    CrawlOptions resume = Options(*site, mode);
    resume.seeds.clear();
    Result<CrawlSummary> rest = CrawlTo(mode + "-resumed.db", resume, nullptr, &*state);
    ASSERT_OK(rest) << mode;
    EXPECT_FALSE(rest->interrupted) << mode;
    // Across the two runs: no page asked twice (robots.txt is asked again by the second run).
    std::map<std::pair<std::string, std::string>, int> asked;
    for (const testsite::LogEntry& e : site->log()) {
      if (e.target != "/robots.txt") ++asked[{e.host, e.target}];
    }
    for (const auto& [key, n] : asked) EXPECT_EQ(n, 1) << mode << ": " << key.first << key.second;
    for (const HostStats& h : site->ActiveHostStats()) EXPECT_LE(h.max_in_flight, static_cast<uint64_t>(kPerHost));
    EXPECT_EQ(Column(mode + "-resumed.db", "SELECT coalesce(nullif(final_url, ''), url) FROM pages WHERE status = 200"),
              full)
        << mode;
  }
}

// With --delay over many hosts, a page is taken for fetching only when its host may go: it never
// waits for its host holding a page slot (its queue wait is only its transfer's start), and while
// each host waits for its delay the others keep the transfers busy.
TEST_F(ManyHostsTest, ADelayedWebNeverHoldsAPageSlotWhileAHostWaits) {
  ServerOptions o = Web(40, 4);
  o.web->robots_mix = false;
  o.web->cross_redirects = false;
  auto site = Serve(o);
  ASSERT_NE(site, nullptr);
  for (const std::string mode : {"sync", "threads", "async"}) {
    site->ResetStats();
    CrawlOptions options = Options(*site, mode);
    options.delay = 0.1;
    options.per_host = 1;
    Result<CrawlSummary> s = CrawlTo(mode + ".db", options);
    ASSERT_OK(s) << mode;
    EXPECT_EQ(s->pages, 160) << mode;
    ExpectPoliteAndOnce(*site, mode, 0.1);
    EXPECT_EQ(s->page_turn_waits, 0u) << mode;
    // Every host waited 0.1 s before each of its 4 pages (after robots.txt): 0.4 s of politeness
    // per host, 16 s over the web. Taken only when their host could go, the pages waited almost
    // nothing once taken.
    EXPECT_LT(s->phases.queue_wait / static_cast<double>(s->pages), 0.005) << mode << ": " << s->phases.queue_wait << " s";
    // The hosts' delays overlapped, as the server saw it: some window of one delay (0.1 s) holds
    // pages of 3 or more hosts. A crawler that waited out the delays one after another would ask
    // for at most 2 pages in any such window (the bench scripts measure how fast it goes).
    EXPECT_GE(MostHostsAskedWithin(*site, 0.1), 3u) << mode << ": the hosts' delays did not overlap";
  }
}

}  // namespace
}  // namespace fanout
