// A crawler the web can trust, end to end against `fanout serve` fault injection on loopback:
// every fault gives the right row and the crawl goes on; robots.txt, per-host delays, retries
// and redirects behave as the README says. Timings are asserted from the server's request log.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <vector>

#include "tests/support/crawl_fixture.h"
#include "tests/support/status_matchers.h"
#include "testsite/faults.h"

namespace fanout {
namespace {

using testsite::LogEntry;
using testsite::ServerOptions;

class PolitenessTest : public test::CrawlFixture {
 protected:
  static void AddFault(ServerOptions& o, const std::string& rule) {
    Result<testsite::FaultRule> parsed = testsite::ParseFaultRule(rule);
    ASSERT_OK(parsed) << rule;
    o.faults.push_back(*parsed);
  }
  // The log entries for one path, in the order the server received them.
  static std::vector<LogEntry> Requests(const testsite::SiteServer& site, const std::string& target) {
    std::vector<LogEntry> out;
    for (const LogEntry& e : site.log()) {
      if (e.target == target) out.push_back(e);
    }
    return out;
  }
  std::string Robots(const std::string& text) {
    const std::string path = dir_.File("robots.txt");
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(PolitenessTest, EveryFaultGivesItsRowAndTheCrawlGoesOn) {
  ServerOptions o = Synthetic(40, 15);  // many links: every page stays reachable around the faulty ones
  // (Synthetic pages live at /pN.html or deeper, e.g. /s1/p4.html: these paths all exist.)
  for (const char* rule : {"status:404@/p3.html", "status:500@/p6.html", "status:503:1@/p9.html",
                           "status:429:1@/p12.html", "chain:3:/p30.html@/p15.html", "loop@/p18.html",
                           "slow:50@/p21.html", "reset@/p24.html", "huge:3000000@/p33.html",
                           "type:application/pdf@/p36.html", "malformed@/p39.html", "charset:windows-1252@/s1/p4.html",
                           "charset:shift_jis:meta@/s0/p1.html", "redirect:302:http://localhost:9/x@/s0/p13.html"}) {
    AddFault(o, rule);
  }
  auto site = Serve(o);
  const std::string base = site->url();
  CrawlSummary s = CrawlInto({.seeds = {base}, .concurrency = 16, .per_host = 16, .timeout_ms = 1000,
                              .max_bytes = 100000, .retry_delay = 0.01});
  auto row = [&](const std::string& path, const std::string& columns) {
    return Query("SELECT " + columns + " FROM pages WHERE url = '" + base.substr(0, base.size() - 1) + path + "'");
  };
  // Every page, faulty or not, has its row, or is the final URL of one: /p30.html, the chain's
  // target, is either fetched from a link or reached through /p15.html's redirects, whichever comes
  // first.
  EXPECT_GE(s.pages, 39);
  EXPECT_EQ(Count("SELECT count(DISTINCT u) FROM (SELECT url AS u FROM pages UNION SELECT final_url FROM pages) "
                  "WHERE u IS NOT NULL AND u NOT LIKE '%?hop=%' AND u NOT LIKE '%?loop=%'"),
            40);
  EXPECT_EQ(row("/p3.html", "status || ' ' || error_kind || ' ' || attempts"), "404 http 1");  // 4xx: no retry
  EXPECT_EQ(row("/p6.html", "status || ' ' || error_kind || ' ' || attempts"), "500 http 3");
  EXPECT_EQ(row("/p9.html", "status || ' ' || attempts"), "503 3");
  EXPECT_EQ(row("/p12.html", "status || ' ' || attempts"), "429 3");
  // Retry-After: 1 was honoured: each retry came at least a second after the answer before it.
  for (const char* path : {"/p9.html", "/p12.html"}) {
    std::vector<LogEntry> tries = Requests(*site, path);
    ASSERT_EQ(tries.size(), 3u) << path;
    for (size_t i = 1; i < tries.size(); ++i) EXPECT_GE(tries[i].received - tries[i - 1].answered, 1.0) << path;
  }
  // A chain of three hops is followed and recorded hop by hop.
  EXPECT_EQ(Count("SELECT json_array_length(redirect_chain) FROM pages WHERE url LIKE '%/p15.html'"), 4);
  EXPECT_EQ(row("/p15.html", "json_extract(redirect_chain, '$[1].url') LIKE '%/p15.html?hop=1'"), "1");
  EXPECT_EQ(row("/p18.html", "error_kind"), "redirect_loop");
  EXPECT_EQ(row("/p21.html", "error_kind || ' ' || attempts"), "timeout 3");  // the dribble is cut
  EXPECT_EQ(row("/p24.html", "error_kind || ' ' || attempts"), "network 3");
  EXPECT_EQ(row("/p33.html", "status || ' ' || truncated || ' ' || bytes"), "200 1 100000");
  EXPECT_EQ(row("/p36.html", "content_type || ' ' || coalesce(title, '-')"), "application/pdf -");
  EXPECT_EQ(Count("SELECT count(*) FROM links l JOIN pages p ON p.id = l.page_id WHERE p.url LIKE '%/p36.html'"), 0);
  EXPECT_GT(Count("SELECT count(*) FROM links l JOIN pages p ON p.id = l.page_id WHERE p.url LIKE '%/p39.html'"), 0);
  EXPECT_EQ(row("/s1/p4.html", "title || ' ' || charset"),
            testsite::CharsetFaultPage("windows-1252", false).title_utf8 + " windows-1252");
  EXPECT_EQ(row("/s0/p1.html", "title || ' ' || charset"),
            testsite::CharsetFaultPage("shift_jis", true).title_utf8 + " shift_jis");
  // A redirect out of scope is recorded, not followed.
  EXPECT_EQ(row("/s0/p13.html", "status"), "302");
  EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE url = 'http://localhost:9/x' AND reason = "
                  "'redirect_out_of_scope' AND found_on LIKE '%/s0/p13.html'"), 1);
  EXPECT_EQ(s.skipped_by_reason["redirect_out_of_scope"], 1);
  EXPECT_EQ(s.retries, 2 * 5);  // the 500, 503, 429, slow and reset pages
}

TEST_F(PolitenessTest, ARobotsDisallowedSectionIsNeverRequested) {
  ServerOptions o = Synthetic(60, 6);
  o.robots_file = Robots("User-agent: *\nDisallow: /list\n\nUser-agent: fanout\nDisallow: /p1\nAllow: /p1.html\n");
  auto site = Serve(o);
  CrawlSummary s = CrawlInto({.seeds = {site->url()}, .concurrency = 8});
  ASSERT_FALSE(site->log().empty());
  EXPECT_EQ(site->log().front().target, "/robots.txt");
  EXPECT_EQ(Requests(*site, "/robots.txt").size(), 1u);
  int refused_section = 0;
  for (const LogEntry& e : site->log()) {
    // The fanout group applies, not the * one: /list is allowed, /p1N.html is not, /p1.html is.
    EXPECT_FALSE(e.target.rfind("/p1", 0) == 0 && e.target != "/p1.html") << e.target;
    refused_section += e.target.rfind("/list", 0) == 0;
  }
  EXPECT_GT(refused_section, 0);
  EXPECT_GT(s.skipped_by_reason["robots"], 0);
  EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE reason = 'robots'"), s.skipped_by_reason["robots"]);
  EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE reason = 'robots' AND detail = 'Disallow: /p1 (line 5)' "
                  "AND found_on IS NOT NULL"), s.skipped_by_reason["robots"]);
  EXPECT_EQ(Query("SELECT verdict || ' ' || user_agent FROM robots"), "rules fanout");

  // --ignore-robots: no robots.txt, and the refused pages are fetched.
  site->ResetStats();
  CrawlSummary ignored = CrawlInto({.seeds = {site->url()}, .concurrency = 8, .ignore_robots = true});
  EXPECT_TRUE(ignored.robots_ignored);
  EXPECT_EQ(ignored.pages, 60);
  EXPECT_EQ(site->stats().requests, 60u);
}

TEST_F(PolitenessTest, AnUnavailableRobotsTxtRefusesTheOriginAndA404AllowsIt) {
  ServerOptions o = Synthetic(20, 4);
  AddFault(o, "status:503:0@/robots.txt");
  auto site = Serve(o);
  CrawlSummary refused = CrawlInto({.seeds = {site->url()}, .retries = 0});
  EXPECT_EQ(refused.pages, 0);
  EXPECT_EQ(site->stats().requests, 1u);  // robots.txt, nothing else
  EXPECT_EQ(Count("SELECT count(*) FROM skipped WHERE reason = 'robots' AND detail LIKE '%answered 503%'"), 1);
  EXPECT_EQ(refused.robots_refused_origins, 1);

  ServerOptions o404 = Synthetic(20, 4);
  AddFault(o404, "status:404@/robots.txt");
  auto open = Serve(o404);
  CrawlSummary allowed = CrawlInto({.seeds = {open->url()}});
  EXPECT_EQ(allowed.pages, 20);
}

// A Crawl-delay on one host spaces its requests; the other host's fan-out goes on meanwhile.
TEST_F(PolitenessTest, ADelayedHostDoesNotSlowTheOthers) {
  ServerOptions slow_options = Synthetic(8, 3);
  slow_options.robots_file = Robots("User-agent: *\nCrawl-delay: 0.2\n");
  auto slow = Serve(slow_options);
  auto fast = Serve(Synthetic(150, 6, 20));
  CrawlSummary s = CrawlInto({.seeds = {slow->url(), fast->url()}, .concurrency = 16, .per_host = 8});
  EXPECT_EQ(s.pages, 8 + 150);

  std::vector<LogEntry> slow_log = slow->log();
  ASSERT_EQ(slow_log.size(), 1u + 8);
  // The crawler spaces the starts of its requests; the server sees them a little later each, by
  // as much as a new connection or a busy machine adds: allow 25 ms of that per gap.
  constexpr double kTransport = 0.025;
  for (size_t i = 1; i < slow_log.size(); ++i) {
    EXPECT_GE(slow_log[i].received - slow_log[i - 1].received, 0.2 - kTransport) << slow_log[i].target;
  }
  const double slow_span = slow_log.back().received - slow_log.front().received;
  std::vector<LogEntry> fast_log = fast->log();
  const double fast_span = fast_log.back().received - fast_log.front().received;
  EXPECT_GE(slow_span, 8 * 0.2 - kTransport);
  EXPECT_LT(fast_span, slow_span / 2) << "the fast host waited behind the slow one";
  EXPECT_GE(fast->stats().max_in_flight, 4u);
}

TEST_F(PolitenessTest, DelayWithJitterSpacesEveryRequestToAHost) {
  auto site = Serve(Synthetic(12, 3));
  CrawlInto({.seeds = {site->url()}, .concurrency = 8, .per_host = 8, .delay = 0.1, .delay_jitter = 0.5});
  std::vector<LogEntry> log = site->log();
  ASSERT_EQ(log.size(), 1u + 12);
  std::vector<double> gaps;
  for (size_t i = 1; i < log.size(); ++i) gaps.push_back(log[i].received - log[i - 1].received);
  for (double gap : gaps) EXPECT_GE(gap, 0.05 - 0.025);  // 0.1 s - 50%, less what transport adds (see above)
  EXPECT_GT(*std::max_element(gaps.begin(), gaps.end()) - *std::min_element(gaps.begin(), gaps.end()), 0.005)
      << "the gaps do not vary: no jitter";
}

TEST_F(PolitenessTest, LinksThatCannotOrShouldNotBeFollowedSayWhy) {
  const std::string root = dir_.File("site");
  std::filesystem::create_directories(root);
  std::ofstream(root + "/index.html") << "<title>t</title><a href=\"/a.html?" << std::string(3000, 'x')
                                       << "\">long</a><a href=\"javascript:void(0)\">js</a>"
                                          "<a href=\"mailto:a@b.c\">mail</a><a href=\"data:text/plain,hi\">data</a>"
                                          "<a href=\"http://[bad\">bad</a><a href=\"/b.html\" rel=\"nofollow\">nf</a>"
                                          "<link rel=\"canonical\" href=\"/index.html\">";
  ServerOptions o;
  o.root = root;
  auto site = Serve(o);
  CrawlSummary s = CrawlInto({.seeds = {site->url()}});
  EXPECT_EQ(s.pages, 1);
  EXPECT_EQ(s.skipped_by_reason["too_long"], 1);
  EXPECT_EQ(s.skipped_by_reason["not_http"], 3);
  EXPECT_EQ(s.skipped_by_reason["bad_url"], 1);
  EXPECT_EQ(s.skipped_by_reason["nofollow"], 1);
  EXPECT_EQ(Query("SELECT canonical FROM pages"), site->url() + "index.html");
}

}  // namespace
}  // namespace fanout

namespace fanout {
namespace {

TEST_F(PolitenessTest, SitemapsSeedTheFrontierInEveryMode) {
  const std::string root = dir_.File("site");
  std::filesystem::create_directories(root);
  std::ofstream(root + "/index.html") << "<title>home</title><a href=\"/a.html\">a</a>";
  std::ofstream(root + "/a.html") << "<title>a</title>";
  for (const char* hidden : {"/only-in-sitemap-1.html", "/only-in-sitemap-2.html"}) {
    std::ofstream(root + hidden) << "<title>hidden</title>";
  }
  // /sitemap.xml is an index; its sitemap (a relative <loc>) lists two unlinked pages and one
  // out of scope.
  std::ofstream(root + "/sitemap.xml")
      << "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
         "<sitemap><loc>/pages.xml</loc></sitemap></sitemapindex>";
  std::ofstream(root + "/pages.xml")
      << "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>/only-in-sitemap-1.html</loc></url>"
         "<url><loc>/only-in-sitemap-2.html</loc></url><url><loc>http://localhost:9/elsewhere</loc></url></urlset>";
  ServerOptions o;
  o.root = root;
  auto site = Serve(o);

  CrawlSummary plain = CrawlInto({.seeds = {site->url()}});
  EXPECT_EQ(plain.pages, 2);
  for (const std::string mode : {"sync", "threads", "async"}) {
    CrawlSummary s = CrawlInto({.seeds = {site->url()}, .sitemaps = true, .mode = CrawlModeNamed(mode).value()});
    EXPECT_EQ(s.pages, 4) << mode;
    EXPECT_EQ(s.sitemaps_fetched, 2) << mode;
    EXPECT_EQ(s.sitemap_urls, 3) << mode;
    EXPECT_EQ(s.sitemap_queued, 2) << mode;
    EXPECT_EQ(Count("SELECT count(*) FROM pages WHERE url LIKE '%/only-in-sitemap-%' AND depth = 1 AND run_id = " +
                    std::to_string(s.run_id)),
              2)
        << mode;
  }
}

}  // namespace
}  // namespace fanout
