// Nothing lost: a crawl stopped with Ctrl-C or killed outright is resumed with --resume, and the
// two parts together are the whole crawl. Counted on the server's request log and in the database.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <string>

#include <filesystem>

#include "storage/schema.h"
#include "storage/sqlite.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/version4_copy.h"
#include "testsite/server.h"

namespace fanout {
namespace {

constexpr uint64_t kPages = 300;

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testsite::ServerOptions o;
    o.synthetic = testsite::SyntheticOptions{.pages = kPages, .links = 6, .page_bytes = 2000, .seed = 3};
    o.latency_ms = 20;
    auto server = testsite::SiteServer::Create(o);
    ASSERT_OK(server);
    server_ = std::move(server.value());
    server_->Start();
  }

  std::vector<std::string> CrawlArgs(std::vector<std::string> extra) {
    std::vector<std::string> args = {FANOUT_BINARY, "crawl", "--db", db(), "--concurrency", "8", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  int64_t Count(const std::string& sql) {
    auto handle = SqliteDb::Open(db());
    auto stmt = handle->Prepare(sql);
    EXPECT_OK(stmt) << sql;
    EXPECT_TRUE(*stmt->Step());
    return stmt->ColumnInt(0);
  }

  // Requests per page at the server, robots.txt aside (each process asks for it once).
  std::map<std::string, int> PageRequests() {
    std::map<std::string, int> asked;
    for (const auto& entry : server_->log()) {
      if (entry.target != "/robots.txt") ++asked[entry.target];
    }
    return asked;
  }

  std::string db() const { return dir_.File("crawl.db"); }
  test::TempDir dir_;
  std::unique_ptr<testsite::SiteServer> server_;
};

TEST_F(ResumeTest, CtrlCThenResumeFetchesEveryPageOnce) {
  // A small frontier window, so that part of the queue waits in the database when it stops.
  test::Subprocess crawl(CrawlArgs({server_->url(), "--frontier-window", "20"}));
  ASSERT_TRUE(server_->WaitForRequests(60, std::chrono::seconds(30)));
  crawl.Signal(SIGINT);
  test::ProcessResult stopped = crawl.Wait(30000);
  EXPECT_EQ(stopped.exit_code, 130) << stopped.err;
  EXPECT_NE(stopped.err.find("fanout crawl --db " + db() + " --resume"), std::string::npos) << stopped.err;
  const int64_t first_part = Count("SELECT count(*) FROM pages");
  EXPECT_GT(first_part, 0);
  EXPECT_LT(first_part, static_cast<int64_t>(kPages)) << "the crawl ended before the signal";
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE finished_at IS NULL"), 1);

  // Without --resume the unfinished run is not silently left behind.
  test::ProcessResult refused = test::RunProcess(CrawlArgs({server_->url()}));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("is unfinished (" + std::to_string(first_part) + " pages): add --resume"),
            std::string::npos)
      << refused.err;

  test::ProcessResult resumed = test::RunProcess(CrawlArgs({"--resume", "--frontier-window", "20"}), 60000);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(Count("SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL AND pages = 300"), 1);
  EXPECT_EQ(Count("SELECT count(DISTINCT url) FROM pages"), static_cast<int64_t>(kPages));
  EXPECT_EQ(Count("SELECT count(*) FROM pages"), static_cast<int64_t>(kPages));
  // The resumed crawl left its queue in the database and read it back a window at a time.
  EXPECT_GT(Count("SELECT json_extract(summary, '$.max_queued_on_disk') FROM runs"), 20);
  EXPECT_GT(Count("SELECT json_extract(summary, '$.frontier_refills') FROM runs"), 1);
  // In-flight transfers finished within the grace period and were kept: no page was asked twice.
  std::map<std::string, int> asked = PageRequests();
  EXPECT_EQ(asked.size(), kPages);
  for (const auto& [target, n] : asked) EXPECT_EQ(n, 1) << target;
}

// A crawl that a fanout of schema version 4 left unfinished: the resumed crawl upgrades the file
// (links become link_rows, keeping their ids) and reads the queue back from it.
TEST_F(ResumeTest, AnUnfinishedVersionFourCrawlIsUpgradedAndResumed) {
  test::Subprocess crawl(CrawlArgs({server_->url(), "--frontier-window", "20"}));
  ASSERT_TRUE(server_->WaitForRequests(60, std::chrono::seconds(30)));
  crawl.Signal(SIGINT);
  EXPECT_EQ(crawl.Wait(30000).exit_code, 130);
  const std::string old = dir_.File("v4.db");
  ASSERT_OK(test::CopyAsVersion4(db(), old));
  for (const char* side : {"", "-wal", "-shm"}) std::filesystem::remove(db() + side);
  std::filesystem::rename(old, db());
  ASSERT_EQ(Count("SELECT value FROM meta WHERE key = 'schema_version'"), 4);
  const int64_t queued = Count("SELECT count(*) FROM links WHERE followed = 2");
  EXPECT_GT(queued, 0) << "nothing was queued on disk: the test does not test the overflow";

  test::ProcessResult resumed = test::RunProcess(CrawlArgs({"--resume", "--frontier-window", "20"}), 60000);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(Count("SELECT value FROM meta WHERE key = 'schema_version'"), kSchemaVersion);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL AND pages = 300"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM pages"), static_cast<int64_t>(kPages));
  EXPECT_EQ(Count("SELECT count(*) FROM frontier"), 0);
  std::map<std::string, int> asked = PageRequests();
  EXPECT_EQ(asked.size(), kPages);
  for (const auto& [target, n] : asked) EXPECT_EQ(n, 1) << target;
}

TEST_F(ResumeTest, AKilledCrawlResumesAndRefetchesOnlyWhatWasNotCommitted) {
  test::Subprocess crawl(CrawlArgs({server_->url()}));
  ASSERT_TRUE(server_->WaitForRequests(100, std::chrono::seconds(30)));
  crawl.Signal(SIGKILL);
  EXPECT_EQ(crawl.Wait(30000).exit_code, 128 + SIGKILL);
  const int64_t committed = Count("SELECT count(*) FROM pages");
  // Counted when received (the log has a request once it is answered), robots.txt aside.
  const auto requested = static_cast<int64_t>(server_->stats().requests) - 1;
  EXPECT_LT(committed, static_cast<int64_t>(kPages));

  test::ProcessResult resumed = test::RunProcess(CrawlArgs({"--resume"}), 60000);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(Count("SELECT count(DISTINCT url) FROM pages"), static_cast<int64_t>(kPages));
  EXPECT_EQ(Count("SELECT count(*) FROM pages"), static_cast<int64_t>(kPages));
  // Fetched twice: only pages the killed crawl had asked for but not committed.
  int64_t twice = 0;
  std::map<std::string, int> asked = PageRequests();
  EXPECT_EQ(asked.size(), kPages);
  for (const auto& [target, n] : asked) twice += n - 1;
  EXPECT_LE(twice, requested - committed);
}

TEST_F(ResumeTest, ResumeWithNothingToResumeIsAUsageError) {
  test::ProcessResult r = test::RunProcess(CrawlArgs({"--resume"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nothing to resume"), std::string::npos) << r.err;
}

// A site whose links key differently by the two URL rules: `%7ea.html` is `~a.html` by RFC 3986
// 6.2.2 and itself by the WHATWG standard; `c.html?` drops its empty query by the first only.
class UrlRulesResumeTest : public ResumeTest {
 protected:
  void SetUp() override {
    const std::string root = dir_.File("site");
    std::filesystem::create_directories(root);
    const auto page = [&](const std::string& name, const std::string& links) {
      std::ofstream(root + "/" + name) << "<html><body>" << links << "</body></html>";
    };
    page("index.html", R"(<a href="~a.html">a</a> <a href="b.html">b</a>)");
    page("~a.html", "a");
    page("b.html", R"(<a href="%7ea.html">a again</a> <a href="c.html?">c</a>)");
    page("c.html", "c");
    testsite::ServerOptions o;
    o.root = root;
    auto server = testsite::SiteServer::Create(o);
    ASSERT_OK(server);
    server_ = std::move(server.value());
    server_->Start();
  }
  std::string Why(const std::string& path, const std::string& run) {
    test::ProcessResult r = test::RunProcess({FANOUT_BINARY, "why", server_->url() + path, "--db", db(), "--run", run});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
};

// A run a fanout before schema version 8 left unfinished keyed its URLs by RFC 3986: resumed, it
// goes on keying them so, and so fetches nothing twice; `fanout why` looks URLs up in it so too.
TEST_F(UrlRulesResumeTest, AnOldRunIsResumedAndReadWithItsOwnUrlRules) {
  // Two pages, index.html and ~a.html: keys that both rules agree on, so the file below is what
  // the old fanout would have written. Then the run is made unfinished, and the file version 7.
  ASSERT_EQ(test::RunProcess(CrawlArgs({server_->url(), "--max-pages", "2"})).exit_code, 0);
  {
    auto handle = SqliteDb::Open(db());
    ASSERT_OK(handle->Exec("UPDATE runs SET finished_at = NULL; ALTER TABLE runs DROP COLUMN url_normalization; "
                           "UPDATE meta SET value = '7' WHERE key = 'schema_version'"));
  }
  test::ProcessResult resumed = test::RunProcess(CrawlArgs({"--resume"}), 60000);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE url_normalization = 'rfc3986'"), 1);
  std::map<std::string, int> asked = PageRequests();
  EXPECT_EQ(asked, (std::map<std::string, int>{{"/", 1}, {"/~a.html", 1}, {"/b.html", 1}, {"/c.html", 1}}));
  EXPECT_EQ(Why("%7ea.html", "1"), server_->url() + "~a.html in run 1:");

  // A new run keys them as a browser would request them: two more URLs, asked for as written.
  ASSERT_EQ(test::RunProcess(CrawlArgs({server_->url()})).exit_code, 0);
  EXPECT_EQ(Count("SELECT count(*) FROM runs WHERE id = 2 AND url_normalization = 'whatwg'"), 1);
  asked = PageRequests();
  EXPECT_EQ(asked["/%7ea.html"], 1);
  EXPECT_EQ(asked["/c.html?"], 1);
  EXPECT_EQ(asked["/~a.html"], 2);
  EXPECT_EQ(Why("%7ea.html", "2"), server_->url() + "%7ea.html in run 2:");
  EXPECT_EQ(Why("%7ea.html", "1"), server_->url() + "~a.html in run 1:") << "run 1 is still read by its rules";
}

}  // namespace
}  // namespace fanout
