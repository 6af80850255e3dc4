// SampleSiteCrawl: a test fixture holding a real crawl database, for the commands that read one.
//
// Each test serves samples/site on loopback with its fault rule (/old-news.html answers a 301 to
// /news/index.html), runs `fanout crawl` on it as a user would, and gets the database the crawl
// wrote. The crawl runs in sync mode, one page fetched and parsed after the other, so the story is
// the same every time: robots.txt refuses /private/staff.html (linked from /about.html),
// /catalogue/missing-book.html is a 404, and /old-news.html redirects to /news/index.html, which no
// page fetched before it. (With more pages in flight, which page finds a URL first varies.)
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "storage/sqlite.h"
#include "tests/support/fanout_binary.h"
#include "tests/support/lines.h"
#include "tests/support/sqlite_query.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "testsite/server.h"

namespace fanout::test {

class SampleSiteCrawl : public ::testing::Test {
 protected:
  void SetUp() override {
    testsite::ServerOptions o;
    o.root = std::string(FANOUT_SOURCE_DIR) + "/samples/site";
    o.faults.push_back(*testsite::ParseFaultRule("redirect:301:/news/index.html@/old-news.html"));
    auto server = testsite::SiteServer::Create(o);
    ASSERT_OK(server);
    server_ = std::move(server.value());
    server_->Start();
    db_ = dir_.File("site.db");
    Crawl();
  }

  // Crawls the site once more into the same database: one more run.
  void Crawl(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"crawl", server_->url(), "--db", db_, "--quiet", "--mode", "sync"};
    args.insert(args.end(), extra.begin(), extra.end());
    ProcessResult r = Fanout(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // The sample site's URL of `path` ("about.html"), as the crawler stores it.
  std::string Url(const std::string& path) const { return server_->url() + path; }

  // One number from the database, read directly: what the commands' output is checked against.
  static int64_t QueryInt(const std::string& db, const std::string& sql) { return test::QueryInt(db, sql); }

  // A copy of the database to change (the tests that fake an old, newer or odd database), with
  // `sql` run on it.
  std::string CopyWith(const std::string& name, const std::string& sql) {
    const std::string copy = dir_.File(name);
    std::filesystem::copy_file(db_, copy);
    Result<SqliteDb> conn = SqliteDb::Open(copy);
    EXPECT_OK(conn);
    if (conn.ok()) {
      Status changed = conn->Exec(sql);
      EXPECT_OK(changed);
    }
    return copy;
  }

  static std::string Contents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  TempDir dir_;
  std::unique_ptr<testsite::SiteServer> server_;
  std::string db_;
};

}  // namespace fanout::test
