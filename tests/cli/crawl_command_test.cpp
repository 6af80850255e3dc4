// `fanout crawl` as a user runs it: a child process crawling a site this test serves on loopback.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/fanout_binary.h"
#include "tests/support/lines.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "testsite/server.h"

namespace fanout {
namespace {

using test::Fanout;
using test::LineCount;

const std::string kFanout = FANOUT_BINARY;

class CrawlCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    testsite::ServerOptions o;
    o.synthetic = testsite::SyntheticOptions{.pages = 120, .links = 5, .page_bytes = 2000, .seed = 5};
    o.faults.push_back(*testsite::ParseFaultRule("status:500@/p3.html"));
    auto server = testsite::SiteServer::Create(o);
    ASSERT_OK(server);
    server_ = std::move(server.value());
    server_->Start();
  }


  test::TempDir dir_;
  std::unique_ptr<testsite::SiteServer> server_;
};

TEST_F(CrawlCommand, CrawlsASiteAndPrintsTheSummary) {
  const std::string db = dir_.File("out.db");
  test::ProcessResult r = Fanout({"crawl", server_->url(), "--db", db, "--concurrency", "8", "--report",
                                  dir_.File("report.json"), "--retry-delay", "0.01"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("120 pages fetched"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 error (1 http)"), std::string::npos) << r.out;
  // The time table has a row per phase.
  for (const char* phase : {"queue wait", "dns", "connect", "tls", "first byte", "transfer", "  fetch, all phases",
                            "parse (CPU)", "store"}) {
    EXPECT_NE(r.out.find(std::string("\n") + phase + "  "), std::string::npos) << phase << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("--concurrency 8"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << "no progress line when stderr is not a terminal: " << r.err;
  std::ifstream report(dir_.File("report.json"));
  std::stringstream json;
  json << report.rdbuf();
  EXPECT_NE(json.str().find("\"pages\":120"), std::string::npos) << json.str();
  EXPECT_NE(json.str().find("\"bytes_per_second\":"), std::string::npos) << json.str();
  EXPECT_NE(json.str().find("\"store\":"), std::string::npos) << json.str();
  EXPECT_NE(r.out.find("2 transfers tried again"), std::string::npos) << r.out;  // /p3.html's 500, twice more
  EXPECT_EQ(server_->stats().requests, 120u + 1 + 2);                           // robots.txt, and the retries

  // A second crawl into the same file adds a run and keeps the first.
  test::ProcessResult again = Fanout({"crawl", server_->url(), "--db", db, "--quiet", "--max-pages", "10",
                                      "--retries", "0"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(again.out.empty());
  EXPECT_EQ(server_->stats().requests, 123u + 1 + 10);  // robots.txt and ten pages
}

TEST_F(CrawlCommand, BadInputIsOneClearLineAndADocumentedExitCode) {
  std::ofstream(dir_.File("notes.txt")) << "not a database, just some notes that are long enough for a header\n";
  const std::string notes = dir_.File("notes.txt");
  const std::string db = dir_.File("ok.db");
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string words;
  };
  const Case cases[] = {
      {{"crawl", "not a url", "--db", db}, 2, "seed 'not a url'"},
      {{"crawl", "ftp://127.0.0.1/x", "--db", db}, 2, "unsupported scheme"},
      {{"crawl", server_->url(), "--db", db, "--concurrency", "-4"}, 2, "--concurrency"},
      {{"crawl", server_->url(), "--db", db, "--include", "(oops"}, 2, "--include '(oops'"},
      {{"crawl", server_->url(), "--db", db, "--bogus"}, 2, "--bogus"},
      {{"crawl", "--db", db}, 2, "no seed URL"},
      {{"crawl", server_->url(), "--db", dir_.path().string()}, 4, dir_.path().string()},
      {{"crawl", server_->url(), "--db", notes}, 4, "not"},
  };
  for (const Case& c : cases) {
    test::ProcessResult r = Fanout(c.args);
    std::string cmd;
    for (const auto& a : c.args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, c.code) << cmd << "\n" << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find(c.words), std::string::npos) << cmd << "\n" << r.err;
  }
  // The file that was not a database is untouched.
  std::ifstream in(notes);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "not a database, just some notes that are long enough for a header");
  EXPECT_EQ(server_->stats().requests, 0u);  // nothing was fetched for bad input
}

TEST_F(CrawlCommand, HelpListsEveryOption) {
  test::ProcessResult r = Fanout({"crawl", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* option : {"--db", "--concurrency", "--per-host", "--threads", "--max-pages", "--max-depth",
                             "--allow-domain", "--include", "--exclude", "--user-agent", "--timeout",
                             "--connect-timeout", "--max-bytes", "--max-redirects", "--follow-nofollow", "--quiet",
                             "--report"}) {
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
  }
}

}  // namespace
}  // namespace fanout
