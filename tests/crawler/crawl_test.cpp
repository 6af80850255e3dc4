// The async crawl end to end, against `fanout serve` sites started in the test, on loopback.
#include "crawler/crawl.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "storage/sqlite.h"
#include "tests/support/crawl_fixture.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "testsite/server.h"

namespace fanout {
namespace {

using testsite::ServerOptions;
using testsite::SiteServer;

using CrawlTest = test::CrawlFixture;

TEST_F(CrawlTest, ASyntheticSiteIsCrawledExactlyOncePerPage) {
  constexpr uint64_t kPages = 300;
  constexpr int kLinks = 6;
  auto site = Serve(Synthetic(kPages, kLinks));
  CrawlSummary s = CrawlInto({.seeds = {site->url()}, .concurrency = 16});
  EXPECT_EQ(s.pages, static_cast<int64_t>(kPages));
  EXPECT_EQ(s.ok_pages, static_cast<int64_t>(kPages));
  EXPECT_EQ(s.errors, 0);
  EXPECT_EQ(s.task_errors, 0u);

  // Each page asked for once, counted at the server, and robots.txt once before them.
  std::map<std::string, int> asked;
  for (const auto& entry : site->log()) ++asked[entry.target];
  ASSERT_FALSE(site->log().empty());
  EXPECT_EQ(site->log().front().target, "/robots.txt");
  EXPECT_EQ(asked.erase("/robots.txt"), 1u);
  EXPECT_EQ(asked.size(), kPages);
  for (const auto& [target, n] : asked) EXPECT_EQ(n, 1) << target;

  EXPECT_EQ(Count("SELECT count(*) FROM pages"), static_cast<int64_t>(kPages));
  EXPECT_EQ(Count("SELECT count(DISTINCT url) FROM pages"), static_cast<int64_t>(kPages));
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE status = 200 AND title LIKE 'Page % of 300%'"),
            static_cast<int64_t>(kPages));
  EXPECT_EQ(Count("SELECT count(*) FROM links"), static_cast<int64_t>(kPages * kLinks));
  EXPECT_EQ(Count("SELECT count(*) FROM links WHERE followed = 1"), static_cast<int64_t>(kPages - 1));
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL AND pages = 300"), 1);
}

// The server holds every answer 50 ms, and sees the crawl's 64 requests wait those 50 ms together
// (scripts/bench-*.sh measure how fast that makes the crawl).
TEST_F(CrawlTest, LatencyIsOverlappedNotAddedUp) {
  constexpr uint64_t kPages = 400;
  auto site = Serve(Synthetic(kPages, 8, 50));
  CrawlSummary s = CrawlInto({.seeds = {site->url()}, .concurrency = 64, .per_host = 64});
  EXPECT_EQ(s.pages, static_cast<int64_t>(kPages));
  // A crawler that added the latencies up would have one request at the server at a time. How close
  // to the cap the fan-out gets depends on how fast the links come back (a sanitizer build on a
  // loaded machine parses slowly): ConcurrencyLimitIsReachedAndNeverExceeded checks the cap itself.
  EXPECT_GE(site->stats().max_in_flight, 32u) << "the server's 50 ms waits did not overlap";
  EXPECT_LE(site->stats().max_in_flight, 64u);
}

// With more parallel work than the limit, the server sees exactly the limit at once: the cap
// holds, and the fan-out reached it.
TEST_F(CrawlTest, ConcurrencyLimitIsReachedAndNeverExceeded) {
  auto site = Serve(Synthetic(600, 10, 50));
  CrawlSummary s = CrawlInto({.seeds = {site->url()}, .concurrency = 16, .per_host = 64});
  EXPECT_EQ(s.pages, 600);
  EXPECT_EQ(site->stats().max_in_flight, 16u);
  EXPECT_EQ(s.max_in_flight, 16u);
  EXPECT_FALSE(s.per_host_bound);
}

TEST_F(CrawlTest, PerHostLimitIsReachedAndNeverExceeded) {
  auto site = Serve(Synthetic(300, 10, 30));
  CrawlSummary s = CrawlInto({.seeds = {site->url()}, .concurrency = 64, .per_host = 5});
  EXPECT_EQ(s.pages, 300);
  EXPECT_EQ(site->stats().max_in_flight, 5u);
  EXPECT_TRUE(s.per_host_bound);
}

// When parsing is slower than fetching, fetched pages wait for the pool; their number (and so the
// bodies held in memory) stays bounded instead of growing with the site.
TEST_F(CrawlTest, PagesWaitingForTheParserAreBounded) {
  ServerOptions o = Synthetic(400, 10);
  o.synthetic->page_bytes = 40000;  // slow to parse, instant to fetch
  auto site = Serve(o);
  CrawlSummary s = CrawlInto({.seeds = {site->url()}, .concurrency = 8, .per_host = 8, .threads = 1});
  EXPECT_EQ(s.pages, 400);
  EXPECT_EQ(s.page_slots, 8u + 16u);
  EXPECT_LE(s.max_pages_in_progress, s.page_slots);
  EXPECT_GT(s.max_pages_in_progress, 8u) << "the backlog for the parser was never used";
}

TEST_F(CrawlTest, MaxPagesAndMaxDepthStopTheCrawl) {
  auto site = Serve(Synthetic(500, 5));
  CrawlSummary limited = CrawlInto({.seeds = {site->url()}, .max_pages = 25});
  EXPECT_EQ(limited.pages, 25);
  EXPECT_GT(limited.queued_left, 0u);

  CrawlSummary shallow = CrawlInto({.seeds = {site->url()}, .max_depth = 1});
  testsite::SyntheticSite pages({.pages = 500, .links = 5, .page_bytes = 3000, .seed = 11});
  const std::vector<uint64_t> links_of_root = pages.LinksOf(0);
  std::set<uint64_t> depth_one(links_of_root.begin(), links_of_root.end());
  depth_one.erase(0);
  EXPECT_EQ(shallow.pages, static_cast<int64_t>(1 + depth_one.size()));
  EXPECT_GT(shallow.skipped_by_reason["depth"], 0);
}

TEST_F(CrawlTest, TheSampleSiteYieldsItsKnownPagesAndItsBrokenLink) {
  ServerOptions o;
  o.root = std::string(FANOUT_SOURCE_DIR) + "/samples/site";
  o.faults.push_back(*testsite::ParseFaultRule("redirect:301:/news/index.html@/old-news.html"));
  auto site = Serve(o);
  CrawlSummary s = CrawlInto({.seeds = {site->url()}});
  // samples/SITE.md lists 38 URLs; /news and /old-news.html redirect to /news/ and
  // /news/index.html, so they hold 36 distinct pages, one of which robots.txt refuses. Whether
  // /news/ also gets a row of its own depends on whether it was fetched before /news redirected
  // to it (then /news is a 301 row that says so); the pages are the same either way.
  EXPECT_GE(s.pages, 36);
  EXPECT_LE(s.pages, 37);
  EXPECT_EQ(Count("SELECT count(DISTINCT coalesce(final_url, url)) FROM pages WHERE status NOT BETWEEN 300 AND 399"), 35);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE url LIKE '%/private/%'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE url LIKE '%/private/staff.html' AND reason = 'robots' "
                  "AND detail LIKE 'Disallow: /private/%' AND found_on IS NOT NULL"), 1);
  EXPECT_EQ(s.skipped_by_reason["robots"], 1);
  EXPECT_EQ(s.robots_fetched, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE status = 404 AND url LIKE '%/catalogue/missing-book.html'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM links WHERE to_url LIKE '%/catalogue/missing-book.html'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE url LIKE '%/hidden/%'"), 0);  // behind meta nofollow
  // The meta-nofollow page's links (and the one rel=nofollow link) are recorded, not followed.
  EXPECT_GE(Count("SELECT count(*) FROM links WHERE reason = 'nofollow'"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM links WHERE reason = 'nofollow' AND to_url LIKE '%/hidden/only-via-nofollow.html'"), 1);
  // /old-news.html redirects to /news/index.html, which is also linked: it is fetched once, by
  // whichever came first; the redirect row says where it led either way.
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE url LIKE '%/old-news.html' AND redirect_chain LIKE "
                  "'[{\"location\":\"http://127.0.0.1:%/news/index.html\",\"status\":301,%'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE status = 200 AND coalesce(final_url, url) LIKE '%/news/index.html'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM links WHERE reason = 'not_http'"), 4);  // mailto, tel, javascript, data
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE title = 'Harbor Town Library'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE content_type = 'application/pdf'"), 1);
  EXPECT_EQ(s.errors_by_kind["http"], 1);
}

// The three modes differ only in scheduling: on a site with every kind of fault they find the same
// pages (by final URL) and the same links. Which URL of a redirect pair gets a row of its own can
// depend on timing, so pages are compared by where they ended up.
TEST_F(CrawlTest, AllModesFindTheSamePagesAndLinks) {
  ServerOptions o = Synthetic(250, 6);
  o.synthetic_fault_rate = 0.15;
  auto site = Serve(o);
  std::map<std::string, std::set<std::string>> pages, links, followed;
  for (const std::string mode : {"sync", "threads", "async"}) {
    test::TempDir dir;
    const std::string db = dir.File(mode + ".db");
    {
      auto store = Store::Open(db);
      ASSERT_OK(store);
      CrawlOptions options{.seeds = {site->url()}, .concurrency = 8, .per_host = 8, .timeout_ms = 10000,
                           .retry_delay = 0.01, .max_retry_wait = 0.05, .mode = CrawlModeNamed(mode).value()};
      Result<CrawlSummary> s = Crawl(options, **store);
      ASSERT_OK(s) << mode;
      EXPECT_EQ(s->mode, mode);
      EXPECT_GT(s->errors, 10) << mode << ": the faults were not hit";
      ASSERT_OK((*store)->Close());
    }
    auto handle = SqliteDb::Open(db);
    auto collect = [&](const char* sql, std::set<std::string>& into) {
      auto q = handle->Prepare(sql);
      ASSERT_OK(q) << sql;
      while (*q->Step()) into.insert(q->ColumnText(0));
    };
    // A redirect to a URL already fetched is a row of its own (a 3xx) only in the mode that met the
    // redirect second: compare what was fetched, not how it was reached.
    collect("SELECT coalesce(final_url, url) || ' ' || status FROM pages WHERE status NOT BETWEEN 300 AND 399",
            pages[mode]);
    collect("SELECT coalesce(p.final_url, p.url) || ' -> ' || l.to_url FROM links l JOIN pages p ON p.id = l.page_id",
            links[mode]);
    collect("SELECT to_url FROM links WHERE followed = 1", followed[mode]);
  }
  EXPECT_GT(pages["async"].size(), 150u);
  auto only_in = [](const std::set<std::string>& a, const std::set<std::string>& b) {
    std::string out;
    for (const std::string& x : a) {
      if (!b.count(x)) out += "\n  " + x;
    }
    return out;
  };
  for (const char* mode : {"sync", "threads"}) {
    EXPECT_EQ(pages[mode], pages["async"]) << mode << " only:" << only_in(pages[mode], pages["async"])
                                           << "\nasync only:" << only_in(pages["async"], pages[mode]);
    EXPECT_EQ(links[mode], links["async"]) << mode;
    EXPECT_EQ(followed[mode], followed["async"]) << mode;
  }
}

TEST_F(CrawlTest, ThreadsModeReachesItsConcurrencyAndSyncFetchesOneAtATime) {
  auto site = Serve(Synthetic(120, 10, 20));
  CrawlSummary threads = CrawlInto({.seeds = {site->url()}, .concurrency = 6, .per_host = 6, .mode = CrawlMode::kThreads});
  EXPECT_EQ(threads.pages, 120);
  EXPECT_EQ(threads.threads, 6u);
  EXPECT_EQ(site->stats().max_in_flight, 6u);
  site->ResetStats();
  CrawlSummary sync = CrawlInto({.seeds = {site->url()}, .max_pages = 30, .mode = CrawlMode::kSync});
  EXPECT_EQ(sync.pages, 30);
  EXPECT_EQ(site->stats().max_in_flight, 1u);
  EXPECT_GE(sync.wall_seconds, 30 * 0.020);  // one latency after another
}

TEST_F(CrawlTest, TimingsArePresentNonNegativeAndAddUp) {
  auto site = Serve(Synthetic(150, 8, 20));
  CrawlSummary wide = CrawlInto({.seeds = {site->url()}, .concurrency = 16, .per_host = 16});
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE total > 0 AND dns >= 0 AND connect >= 0 AND tls >= 0 "
                  "AND first_byte > 0 AND transfer >= 0 AND queue_wait >= 0 AND parse > 0"), 150);
  // Phases of a fetch never add up to more than the fetch (1 us of rounding allowed).
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE dns + connect + tls + first_byte + transfer > total + 1e-6"), 0);
  EXPECT_GT(wide.phases.first_byte, 150 * 0.020 * 0.9);  // the server's 20 ms latency is time to first byte
  EXPECT_GT(wide.fetch_seconds.p50, 0.019);
  EXPECT_GE(wide.fetch_seconds.p99, wide.fetch_seconds.p90);
  EXPECT_GE(wide.fetch_seconds.p90, wide.fetch_seconds.p50);
  EXPECT_GT(wide.parse_seconds.p50, 0);
  EXPECT_GT(wide.cpu_user_seconds + wide.cpu_system_seconds, 0);
  EXPECT_GT(wide.peak_rss_kb, 0);
  EXPECT_NEAR(wide.bytes_per_second, static_cast<double>(wide.bytes) / wide.wall_seconds, 1e-6 * wide.bytes_per_second);
  // Every page took some time to store, and the run's store phase is the sum of the pages'.
  EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE store > 0"), 150);
  EXPECT_NEAR(wide.phases.store,
              Count("SELECT CAST(sum(store) * 1e9 AS INTEGER) FROM pages WHERE run_id = " + std::to_string(wide.run_id)) / 1e9,
              1e-6);

  // The same site with two transfers at once: a page is taken for fetching only when a permit is
  // free, so it waits in the frontier, holding nothing, and its queue wait is only the start of its
  // transfer (it used to wait for the permit holding a page slot: 10 ms a page here and more).
  CrawlSummary narrow = CrawlInto({.seeds = {site->url()}, .concurrency = 2, .per_host = 16});
  EXPECT_EQ(narrow.pages, 150);
  EXPECT_LT(narrow.phases.queue_wait / static_cast<double>(narrow.pages), 0.002)
      << "narrow " << narrow.phases.queue_wait << " s, wide " << wide.phases.queue_wait << " s";
  EXPECT_LE(narrow.max_in_flight, 2u);
}

TEST_F(CrawlTest, BadSeedIsAnInvalidArgument) {
  auto store = Store::Open(db());
  for (const char* seed : {"not a url", "ftp://127.0.0.1/", "mailto:x@y"}) {
    Result<CrawlSummary> s = Crawl({.seeds = {seed}}, **store);
    ASSERT_FALSE(s.ok()) << seed;
    EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(s.status().message().find(seed), std::string::npos);
  }
}

}  // namespace
}  // namespace fanout

namespace fanout {
namespace {

// A frontier window far smaller than the site: most links wait in the database and are read back,
// in every mode, and still every page is fetched exactly once.
TEST_F(CrawlTest, ASmallFrontierWindowSpillsToTheDatabaseAndLosesNothing) {
  auto site = Serve(Synthetic(300, 6));
  for (const std::string mode : {"sync", "threads", "async"}) {
    site->ResetStats();
    CrawlSummary s = CrawlInto({.seeds = {site->url()}, .concurrency = 8, .frontier_window = 10, .mode = CrawlModeNamed(mode).value()});
    EXPECT_EQ(s.pages, 300) << mode;
    EXPECT_GT(s.max_queued_on_disk, 10u) << mode;
    EXPECT_GT(s.frontier_refills, 0) << mode;
    std::map<std::string, int> asked;
    for (const auto& entry : site->log()) ++asked[entry.target];
    EXPECT_EQ(asked.size(), 301u) << mode;  // and robots.txt
    for (const auto& [target, n] : asked) EXPECT_EQ(n, 1) << mode << " " << target;
    EXPECT_GT(Count("SELECT count(*) FROM links l JOIN pages p ON p.id = l.page_id WHERE l.followed = 2 AND p.run_id = " +
                    std::to_string(s.run_id)),
              0)
        << mode;
  }
}

}  // namespace
}  // namespace fanout

namespace fanout {
namespace {

// A full disk mid-crawl (a page cap on the database stands in for it): the crawl stops with the
// store's error, what was committed stays readable, and the run can be resumed once there is room.
TEST_F(CrawlTest, ADatabaseThatRunsOutOfRoomStopsTheCrawlAndCanBeResumed) {
  // A short store queue paces the crawl by the writer, as a slow disk would: the error then
  // stops it well before the end of the site, however slow the machine.
  auto site = Serve(Synthetic(600, 6, 5));
  {
    auto store = Store::Open(db(), {.batch_pages = 16, .queue_pages = 4, .max_db_pages = 60});
    ASSERT_OK(store);
    Result<CrawlSummary> s = Crawl({.seeds = {site->url()}, .concurrency = 8}, **store);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("full"), std::string::npos) << s.status().ToString();
    (void)(*store)->Close();
  }
  const int64_t committed = Count("SELECT count(*) FROM pages");
  EXPECT_GT(committed, 0);
  EXPECT_LT(committed, 600);
  EXPECT_LT(site->stats().requests, 600u) << "the crawl went on fetching what it could not keep";

  Result<std::optional<UnfinishedRun>> unfinished = FindUnfinishedRun(db());
  ASSERT_TRUE(unfinished.ok() && unfinished->has_value());
  Result<RunState> state = LoadRunState(db(), (*unfinished)->id);
  ASSERT_OK(state);
  EXPECT_EQ(state->pages, committed);
  CrawlSummary resumed = CrawlInto({.concurrency = 8}, &*state);
  EXPECT_EQ(resumed.pages_before, committed);
  EXPECT_EQ(Count("SELECT count(DISTINCT url) FROM pages"), 600);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL AND pages = 600"), 1);
}

}  // namespace
}  // namespace fanout

namespace fanout {
namespace {

// With a memory of seen URLs too small to answer (a recent set of two, a Bloom filter of one bit
// per URL, so most links are "unsure"), the store settles each link against the database: every
// page is still fetched exactly once, in every mode, and each URL has exactly one followed link.
TEST_F(CrawlTest, LinksTheSeenFilterCannotTellAreSettledByTheDatabase) {
  auto site = Serve(Synthetic(300, 6));
  const SeenFilterOptions tiny{.recent_capacity = 2, .bits_per_url = 1, .first_layer = 4};
  for (const std::string mode : {"sync", "threads", "async"}) {
    site->ResetStats();
    CrawlSummary s = CrawlInto({.seeds = {site->url()}, .concurrency = 8, .seen_filter = tiny, .mode = CrawlModeNamed(mode).value()});
    EXPECT_EQ(s.pages, 300) << mode;
    EXPECT_EQ(s.queued_left, 0u) << mode;
    std::map<std::string, int> asked;
    for (const auto& entry : site->log()) ++asked[entry.target];
    EXPECT_EQ(asked.size(), 301u) << mode;  // and robots.txt
    for (const auto& [target, n] : asked) EXPECT_EQ(n, 1) << mode << " " << target;
    const std::string run = std::to_string(s.run_id);
    // The store decided: some links it found new (queued on disk), many it found duplicates.
    EXPECT_GT(Count("SELECT count(*) FROM links l JOIN pages p ON p.id = l.page_id WHERE l.followed = 2 AND p.run_id = " + run), 0) << mode;
    EXPECT_EQ(Count("SELECT count(*) FROM (SELECT l.to_url FROM links l JOIN pages p ON p.id = l.page_id "
                    "WHERE l.followed > 0 AND p.run_id = " + run + " GROUP BY l.to_url HAVING count(*) > 1)"),
              0)
        << mode;
    // The summary's duplicates are the links table's.
    EXPECT_EQ(s.skipped_by_reason["duplicate"],
              Count("SELECT count(*) FROM links l JOIN pages p ON p.id = l.page_id WHERE l.reason = 'duplicate' AND "
                    "p.run_id = " + run))
        << mode;
  }
}

}  // namespace
}  // namespace fanout
