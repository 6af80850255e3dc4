// CrawlFixture: the scaffolding of a test that crawls a site it serves itself on loopback: start a
// SiteServer, crawl it into a fresh database, and query that database.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "crawler/crawl.h"
#include "storage/sqlite.h"
#include "storage/store.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "testsite/server.h"

namespace fanout::test {

class CrawlFixture : public ::testing::Test {
 protected:
  static std::unique_ptr<testsite::SiteServer> Serve(testsite::ServerOptions o) {
    auto server = testsite::SiteServer::Create(std::move(o));
    EXPECT_OK(server);
    if (!server.ok()) return nullptr;
    (*server)->Start();
    return std::move(server.value());
  }
  static testsite::ServerOptions Synthetic(uint64_t pages, int links, int latency_ms = 0) {
    testsite::ServerOptions o;
    o.synthetic = testsite::SyntheticOptions{.pages = pages, .links = links, .page_bytes = 3000, .seed = 11};
    o.latency_ms = latency_ms;
    return o;
  }

  // Crawls into db() (continuing `resume`, if given); the summary, or an empty one when the store
  // or the crawl failed (and the test with it).
  CrawlSummary CrawlInto(CrawlOptions options, const RunState* resume = nullptr) {
    CrawlSummary summary;
    CrawlInto(std::move(options), summary, resume);
    return summary;
  }
  // The same, for tests that stop at a failure: ASSERT_NO_FATAL_FAILURE(CrawlInto(options, summary)).
  void CrawlInto(CrawlOptions options, CrawlSummary& summary, const RunState* resume = nullptr) {
    Result<std::unique_ptr<Store>> store = Store::Open(db());
    ASSERT_OK(store) << db();
    CrawlServices services(**store);
    services.resume = resume;
    Result<CrawlSummary> crawled = Crawl(options, services);
    EXPECT_OK((*store)->Close());
    ASSERT_OK(crawled);
    summary = *crawled;
  }

  // The first column of the first row of `sql`, as an integer; in `file` ("": db()).
  int64_t Count(const std::string& sql, const std::string& file = "") {
    const std::string value = Query(sql, file);
    return value.empty() ? 0 : std::stoll(value);
  }

  // The first column of the first row of `sql` as text ("" for none or NULL); in `file` ("": db()).
  std::string Query(const std::string& sql, const std::string& file = "") {
    Result<SqliteDb> handle = SqliteDb::Open(file.empty() ? db() : file);
    EXPECT_OK(handle);
    if (!handle.ok()) return "";
    Result<SqliteStmt> stmt = handle->Prepare(sql);
    EXPECT_OK(stmt) << sql;
    if (!stmt.ok()) return "";
    Result<bool> row = stmt->Step();
    return row.ok() && *row ? stmt->ColumnText(0) : "";
  }

  std::string db() const { return dir_.File("crawl.db"); }
  TempDir dir_;
};

}  // namespace fanout::test
