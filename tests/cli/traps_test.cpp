// Crawls left alone, judged at the server: with its defaults `fanout crawl` stops by itself on a
// site with spider traps (`fanout serve --traps`: a calendar, a growing path, session ids, endless
// pagination), every real page fetched once and only a few trap pages, in each mode; a host that
// stops answering is given up; robots.txt is fetched again when it expires, and a refetch that
// fails leaves the copy before in force.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/poll.h"
#include "tests/support/sqlite_query.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace fanout {
namespace {

class Traps : public ::testing::TestWithParam<std::string> {};

TEST_P(Traps, ACrawlWithTheDefaultsStopsByItselfWithEveryRealPageAndFewTrapPages) {
  constexpr int kPages = 60;
  test::TempDir dir;
  test::Subprocess server({FANOUT_BINARY, "serve", "--synthetic", std::to_string(kPages), "--traps", "--port", "0",
                           "--duration", "120"});
  const std::string seed = server.ReadStdoutLine(10000);
  ASSERT_FALSE(seed.empty());
  const std::string db = dir.File("crawl.db");
  // Bounded by the test, not by an option: before the rules, this crawl sent 39,000 requests in 20 s.
  test::ProcessResult crawl = test::RunProcess({FANOUT_BINARY, "crawl", seed, "--db", db, "--mode", GetParam(), "-q"}, 60000);
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;

  const nlohmann::json stats = nlohmann::json::parse(test::HttpGet(seed + "__stats").body);
  const nlohmann::json traps = nlohmann::json::parse(test::HttpGet(seed + "__traps").body);
  int64_t trapped = 0;
  for (const auto& [name, n] : traps.items()) trapped += n.get<int64_t>();
  const int64_t requests = stats["requests"].get<int64_t>();
  EXPECT_EQ(requests - trapped, kPages + 1) << "every real page and robots.txt, once each: " << stats.dump();
  EXPECT_EQ(test::QueryInt(db, "SELECT count(*) FROM pages WHERE url NOT LIKE '%/cal?%' AND url NOT LIKE '%/docs/%' "
                               "AND url NOT LIKE '%/app/%' AND url NOT LIKE '%/feed?%' AND status = 200"),
            kPages);
  // The traps: the session pages once each, the growing path until "a" comes a third time, the
  // calendar and the feed until --max-depth (20).
  EXPECT_EQ(traps["session_ids"], 5) << traps.dump();
  EXPECT_EQ(traps["growing_path"], 3) << traps.dump();
  EXPECT_LE(traps["calendar"].get<int>(), 2 * 20) << traps.dump();
  EXPECT_LE(traps["pagination"].get<int>(), 20) << traps.dump();
  EXPECT_LE(requests, 3 * kPages) << "a small multiple of the real pages";
  EXPECT_GT(test::QueryInt(db, "SELECT count(*) FROM links WHERE reason = 'repeated_segment'"), 0);
  EXPECT_GT(test::QueryInt(db, "SELECT count(*) FROM links WHERE reason = 'depth'"), 0);

  // fanout why names the rule and the part that broke it.
  test::ProcessResult why = test::RunProcess({FANOUT_BINARY, "why", "--db", db, seed + "docs/a/a/a/"});
  EXPECT_EQ(why.exit_code, 0) << why.err;
  EXPECT_NE(why.out.find("repeated_segment (the path segment \"a\" appears 3 times, more than --max-repeats 2)"),
            std::string::npos)
      << why.out;
}

INSTANTIATE_TEST_SUITE_P(Modes, Traps, ::testing::Values("async", "threads", "sync"));

TEST(Traps, MaxPagesPerHostFollowsThatManyUrlsOfAHostAndSaysWhyNotTheRest) {
  test::TempDir dir;
  test::Subprocess server({FANOUT_BINARY, "serve", "--synthetic", "50", "--port", "0", "--duration", "60"});
  const std::string seed = server.ReadStdoutLine(10000);
  ASSERT_FALSE(seed.empty());
  const std::string db = dir.File("crawl.db");
  test::ProcessResult crawl =
      test::RunProcess({FANOUT_BINARY, "crawl", seed, "--db", db, "--max-pages-per-host", "12", "-q"}, 60000);
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  const nlohmann::json stats = nlohmann::json::parse(test::HttpGet(seed + "__stats").body);
  EXPECT_EQ(stats["requests"], 12 + 1) << "12 pages and robots.txt, at the server";
  EXPECT_EQ(test::QueryInt(db, "SELECT count(*) FROM pages"), 12);
  Result<SqliteDb> rows = SqliteDb::OpenReadOnly(db);
  ASSERT_TRUE(rows.ok());
  const std::string refused =
      test::QueryText(*rows, "SELECT to_url FROM links WHERE reason = 'host_budget' ORDER BY to_url LIMIT 1");
  ASSERT_TRUE(refused.starts_with("http://")) << refused;
  test::ProcessResult why = test::RunProcess({FANOUT_BINARY, "why", "--db", db, refused});
  EXPECT_NE(why.out.find("host_budget (its host had 12 URLs followed already: --max-pages-per-host)"), std::string::npos)
      << why.out;
}

TEST(Traps, AHostThatStopsAnsweringIsGivenUpAfterTenRequestsAndResumeFinishesIt) {
  test::TempDir dir;
  // The front page answers and links 40 pages; every other request is cut before its status line.
  std::vector<std::string> serve = {FANOUT_BINARY, "serve", "--synthetic", "41", "--links", "40", "--duration", "60"};
  std::vector<std::string> faulty = serve;
  faulty.insert(faulty.end(), {"--port", "0", "--fault", "reset@/p*", "--fault", "reset@/s*", "--fault", "reset@/list*"});
  auto server = std::make_unique<test::Subprocess>(faulty);
  const std::string seed = server->ReadStdoutLine(10000);
  ASSERT_FALSE(seed.empty());
  const std::string db = dir.File("crawl.db");
  test::ProcessResult crawl = test::RunProcess({FANOUT_BINARY, "crawl", seed, "--db", db, "-q"}, 60000);
  ASSERT_EQ(crawl.exit_code, 0) << crawl.err;
  EXPECT_NE(crawl.err.find("1 host was given up after 10 requests in a row got no answer (host-failing)"),
            std::string::npos)
      << crawl.err;
  const nlohmann::json stats = nlohmann::json::parse(test::HttpGet(seed + "__stats").body);
  // robots.txt, the front page, ten unanswered, and what was in flight then (--per-host 8).
  EXPECT_LE(stats["requests"].get<int>(), 2 + 10 + 8) << "at the server";
  const int64_t skipped = test::QueryInt(db, "SELECT count(*) FROM skipped WHERE reason = 'host-failing'");
  EXPECT_GT(skipped, 0);
  const int64_t first_pages = test::QueryInt(db, "SELECT count(*) FROM pages");
  EXPECT_EQ(first_pages + skipped, 1 + test::QueryInt(db, "SELECT count(DISTINCT to_url) FROM links WHERE followed"))
      << "every URL found a page or a skipped row";

  // The host answers again: --resume fetches what was skipped (and the pages their links lead to),
  // nothing stored already.
  const std::string port = seed.substr(seed.rfind(':') + 1, seed.rfind('/') - seed.rfind(':') - 1);
  server.reset();
  serve.insert(serve.end(), {"--port", port});
  test::Subprocess healed(serve);
  ASSERT_EQ(healed.ReadStdoutLine(10000), seed);
  test::ProcessResult resumed = test::RunProcess({FANOUT_BINARY, "crawl", "--db", db, "--resume", "-q"}, 60000);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const nlohmann::json again = nlohmann::json::parse(test::HttpGet(seed + "__stats").body);
  EXPECT_EQ(test::QueryInt(db, "SELECT count(*) FROM pages"), 41) << "every page of the site, once";
  EXPECT_EQ(again["requests"].get<int64_t>(), 1 + 41 - first_pages) << "robots.txt and the pages not stored before";
  EXPECT_EQ(test::QueryInt(db, "SELECT count(*) FROM pages WHERE status = 200"), 1 + 41 - first_pages);
}

TEST(Traps, RobotsTxtIsFetchedAgainAfterItsTtlAndAFailedRefetchKeepsTheCopyBefore) {
  test::TempDir dir;
  // 30 pages 100 ms apart (--delay 0.1): 3 s or more, robots.txt expiring every 0.5 s.
  std::vector<std::string> serve = {FANOUT_BINARY, "serve", "--synthetic", "30", "--duration", "60"};
  std::vector<std::string> first = serve;
  first.insert(first.end(), {"--port", "0"});
  auto server = std::make_unique<test::Subprocess>(first);
  const std::string seed = server->ReadStdoutLine(10000);
  ASSERT_FALSE(seed.empty());
  const std::string db = dir.File("crawl.db");
  const std::string report = dir.File("report.json");
  test::Subprocess crawl({FANOUT_BINARY, "crawl", seed, "--db", db, "--delay", "0.1", "--robots-ttl", "0.5", "--report",
                          report, "-q"});
  // Once robots.txt has been fetched twice, the server is replaced by one whose robots.txt answers
  // 503: had the crawl taken that answer, it would stop crawling the site (RFC 9309 2.3.1.3).
  ASSERT_TRUE(test::PollUntil(30, [&] {
    const nlohmann::json log = nlohmann::json::parse(test::HttpGet(seed + "__log").body, nullptr, false);
    int robots = 0;
    for (const nlohmann::json& e : log) robots += e.value("target", "") == "/robots.txt";
    return robots >= 2;
  }));
  const std::string port = seed.substr(seed.rfind(':') + 1, seed.rfind('/') - seed.rfind(':') - 1);
  server.reset();
  serve.insert(serve.end(), {"--port", port, "--fault", "status:503@/robots.txt"});
  test::Subprocess failing(serve);
  ASSERT_EQ(failing.ReadStdoutLine(10000), seed);
  test::ProcessResult done = crawl.Wait(60000);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  const nlohmann::json log = nlohmann::json::parse(test::HttpGet(seed + "__log").body);
  int robots = 0, pages = 0;
  for (const nlohmann::json& e : log) (e["target"] == "/robots.txt" ? robots : pages) += 1;
  EXPECT_GE(robots, 1) << "the second server was asked for robots.txt again";
  EXPECT_GT(pages, 0) << "and was crawled though its robots.txt answered 503";
  EXPECT_EQ(test::QueryInt(db, "SELECT count(*) FROM pages WHERE status = 200"), 30) << "every page";
  std::ifstream in(report);
  const nlohmann::json summary = nlohmann::json::parse(in);
  EXPECT_GE(summary["robots_refetched"].get<int>(), 2);
  EXPECT_GE(summary["robots_kept"].get<int>(), 1);
  EXPECT_EQ(summary["robots_refused_origins"], 0);
}

}  // namespace
}  // namespace fanout
