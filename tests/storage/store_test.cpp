#include "storage/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "storage/run_state.h"
#include "storage/schema.h"
#include "storage/sqlite.h"
#include "tests/support/poll.h"
#include "tests/support/sqlite_query.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace fanout {
namespace {

using namespace std::chrono_literals;

PageRecord Page(const std::string& url) {
  PageRecord p;
  p.url = url;
  p.status = 200;
  p.content_type = "text/html";
  p.bytes = 1234;
  p.title = "Title of " + url;
  p.http_version = "1.1";
  p.fetched_at = 1700000000.5;
  p.total = 0.01;
  return p;
}

std::vector<LinkRecord> Links(const std::string& from, int n) {
  std::vector<LinkRecord> links;
  for (int i = 0; i < n; ++i) {
    links.push_back({from + "/link" + std::to_string(i), i % 2 == 0 ? Follow::kQueued : Follow::kNo,
                     i % 2 == 0 ? "" : "out_of_scope"});
  }
  return links;
}

std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Opens a second, independent connection, as a user's sqlite3 shell would.
SqliteDb Reader(const std::string& path) {
  Result<SqliteDb> db = SqliteDb::Open(path);
  EXPECT_OK(db);
  return std::move(db).value();
}

using test::PollUntil;
using test::QueryInt;
using test::QueryText;
using test::StatusOf;

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> OpenStore(StoreOptions options = {}) {
    Result<std::unique_ptr<Store>> store = Store::Open(path_, options);
    EXPECT_OK(store);
    return store.ok() ? std::move(store).value() : nullptr;
  }

  test::TempDir dir_;
  std::string path_ = dir_.File("crawl.db");
};

TEST_F(StoreTest, PagesLinksAndErrorsAreReadBackAfterCloseAndReopen) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  Result<int64_t> run = store->BeginRun({"async", {"http://example.test/"}, R"({"concurrency":8})"});
  ASSERT_OK(run);

  PageRecord home = Page("http://example.test/");
  home.final_url = "http://example.test/index.html";
  home.depth = 0;
  home.truncated = true;
  home.canonical = "http://example.test/canonical";
  home.noindex = true;
  home.http_version = "2";
  home.new_connections = 1;
  home.redirects = 1;
  home.queue_wait = 0.5, home.dns = 0.25, home.connect = 0.125, home.tls = 0.0625;
  home.first_byte = 1.5, home.transfer = 2.5, home.total = 4.75, home.parse = 0.03125;
  std::vector<LinkRecord> links = {{"http://example.test/a", Follow::kQueued, ""},
                                   {"http://example.test/", Follow::kNo, "duplicate"},
                                   {"http://other.test/", Follow::kNo, "out_of_scope"}};
  ASSERT_OK(store->AddPage(home, links));

  PageRecord failed = Page("http://example.test/slow");
  failed.depth = 1;
  failed.status = 0;
  failed.title = "";
  failed.error_kind = "timeout";
  failed.error = "Operation timed out after 10000 milliseconds";
  failed.fetched_at = 1700000001.25;
  ASSERT_OK(store->AddPage(failed, {}));

  ASSERT_OK(store->FinishRun({2, 1, 1234, 3.5, 0.5714, R"({"pages":2})"}));
  StoreStats stats = store->stats();
  EXPECT_EQ(stats.pages, 2);
  EXPECT_EQ(stats.links, 3);
  EXPECT_EQ(stats.errors, 1);
  EXPECT_GT(stats.cpu_seconds, 0);
  EXPECT_LE(stats.cpu_seconds, stats.write_seconds + 0.05) << "CPU time of one thread outran its wall time";
  ASSERT_OK(store->Close());
  store.reset();

  SqliteDb db = Reader(path_);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(QueryText(db, "SELECT mode || ' ' || seeds || ' ' || options FROM runs"),
            R"(async ["http://example.test/"] {"concurrency":8})");
  EXPECT_EQ(QueryInt(db, "SELECT finished_at >= started_at AND started_at > 1.6e9 FROM runs"), 1);
  EXPECT_EQ(QueryText(db, "SELECT pages || ' ' || errors || ' ' || bytes || ' ' || wall_seconds || ' ' || "
                          "pages_per_second || ' ' || summary FROM runs"),
            R"(2 1 1234 3.5 0.5714 {"pages":2})");

  Result<SqliteStmt> q = db.Prepare(
      "SELECT run_id, final_url, depth, status, content_type, bytes, truncated, title, canonical, noindex, "
      "error_kind, error, http_version, new_connections, redirects, fetched_at, queue_wait, dns, connect, tls, "
      "first_byte, transfer, total, parse FROM pages WHERE url = 'http://example.test/'");
  ASSERT_OK(q);
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->ColumnInt(0), *run);
  EXPECT_EQ(q->ColumnText(1), "http://example.test/index.html");
  EXPECT_EQ(q->ColumnInt(2), 0);
  EXPECT_EQ(q->ColumnInt(3), 200);
  EXPECT_EQ(q->ColumnText(4), "text/html");
  EXPECT_EQ(q->ColumnInt(5), 1234);
  EXPECT_EQ(q->ColumnInt(6), 1);
  EXPECT_EQ(q->ColumnText(7), "Title of http://example.test/");
  EXPECT_EQ(q->ColumnText(8), "http://example.test/canonical");
  EXPECT_EQ(q->ColumnInt(9), 1);
  EXPECT_TRUE(q->ColumnIsNull(10));
  EXPECT_TRUE(q->ColumnIsNull(11));
  EXPECT_EQ(q->ColumnText(12), "2");
  EXPECT_EQ(q->ColumnInt(13), 1);
  EXPECT_EQ(q->ColumnInt(14), 1);
  EXPECT_EQ(q->ColumnDouble(15), 1700000000.5);
  const double timings[] = {0.5, 0.25, 0.125, 0.0625, 1.5, 2.5, 4.75, 0.03125};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(q->ColumnDouble(16 + i), timings[i]) << "timing column " << 16 + i;

  EXPECT_EQ(QueryText(db, "SELECT coalesce(title, '-') || ' ' || error_kind || ' ' || error FROM pages "
                          "WHERE url = 'http://example.test/slow'"),
            "- timeout Operation timed out after 10000 milliseconds");

  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM links l JOIN pages p ON p.id = l.page_id "
                         "WHERE p.url = 'http://example.test/'"),
            3);
  EXPECT_EQ(QueryText(db, "SELECT group_concat(to_url || ':' || followed || ':' || coalesce(reason, '-'), ' ') "
                          "FROM (SELECT * FROM " + LinksWithIds(kSchemaVersion) + " ORDER BY link_id)"),
            "http://example.test/a:1:- http://example.test/:0:duplicate http://other.test/:0:out_of_scope");

  EXPECT_EQ(QueryText(db, "SELECT e.url || ' ' || e.kind || ' ' || e.message || ' ' || e.at FROM errors e "
                          "JOIN pages p ON p.id = e.page_id AND p.run_id = e.run_id"),
            "http://example.test/slow timeout Operation timed out after 10000 milliseconds 1700000001.25");

  // /a was followed but never fetched: it is what the run left in its frontier.
  EXPECT_EQ(QueryText(db, "SELECT url || ' ' || depth FROM frontier"), "http://example.test/a 1");
}

TEST_F(StoreTest, PagesAddedQuicklyAreCommittedInFewTransactions) {
  // With a minute-long window only a full batch or Flush commits, so the count is exact.
  auto store = OpenStore({.batch_pages = 100, .batch_ms = 60'000});
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  for (int i = 0; i < 1000; ++i) ASSERT_OK(store->AddPage(Page("http://h/" + std::to_string(i)), Links("x", 2)));
  ASSERT_OK(store->Flush());
  EXPECT_EQ(store->stats().pages, 1000);
  EXPECT_EQ(store->stats().links, 2000);
  EXPECT_EQ(store->stats().batches, 10);
}

TEST_F(StoreTest, DefaultBatchingCommitsFarFewerTransactionsThanPages) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  for (int i = 0; i < 3000; ++i) ASSERT_OK(store->AddPage(Page("http://h/" + std::to_string(i)), Links("x", 2)));
  ASSERT_OK(store->Flush());
  const StoreStats stats = store->stats();
  EXPECT_EQ(stats.pages, 3000);
  EXPECT_LT(stats.batches, 3000 / 20) << "pages are being committed nearly one by one";
  EXPECT_GT(stats.write_seconds, 0);
}

TEST_F(StoreTest, ASinglePageIsCommittedWithinTheBatchWindowWithoutFurtherAdds) {
  auto store = OpenStore({.batch_pages = 256, .batch_ms = 20});
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  ASSERT_OK(store->AddPage(Page("http://h/only"), {}));
  // Nothing else happens: the writer's timer alone must commit the batch.
  ASSERT_TRUE(PollUntil(10, [&] { return store->stats().batches == 1; }))
      << "the page was not committed within 10 s of a 20 ms window";
  SqliteDb reader = Reader(path_);  // visible to other connections too
  EXPECT_EQ(QueryInt(reader, "SELECT count(*) FROM pages"), 1);
  ASSERT_OK(store->Flush());        // nothing pending: no empty transaction
  EXPECT_EQ(store->stats().batches, 1);
}

TEST_F(StoreTest, FlushCommitsAPartialBatchWithoutWaitingForItsWindow) {
  auto store = OpenStore({.batch_pages = 256, .batch_ms = 60'000});
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  for (int i = 0; i < 3; ++i) ASSERT_OK(store->AddPage(Page("http://h/" + std::to_string(i)), {}));
  // The writer publishes in_batch under the lock it then sleeps on, so once all three show as
  // written it is asleep on its minute-long window, and only Flush can wake it.
  ASSERT_TRUE(PollUntil(10, [&] { return store->stats().queued == 0 && store->stats().in_batch == 3; }));
  EXPECT_EQ(store->stats().batches, 0);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK(store->Flush());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s) << "Flush waited for the batch window";
  EXPECT_EQ(store->stats().in_batch, 0);
  EXPECT_EQ(store->stats().batches, 1);
  SqliteDb reader = Reader(path_);
  EXPECT_EQ(QueryInt(reader, "SELECT count(*) FROM pages"), 3);
}

TEST_F(StoreTest, CloseCommitsWhatIsQueuedAndAnUnfinishedRunKeepsNoFinishTime) {
  auto store = OpenStore({.batch_pages = 256, .batch_ms = 10 * 60'000});
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  for (int i = 0; i < 3; ++i) ASSERT_OK(store->AddPage(Page("http://h/" + std::to_string(i)), Links("x", 1)));
  ASSERT_OK(store->Close());
  SqliteDb reader = Reader(path_);
  EXPECT_EQ(QueryInt(reader, "SELECT count(*) FROM pages"), 3);
  EXPECT_EQ(QueryInt(reader, "SELECT count(*) FROM links"), 3);
  EXPECT_EQ(QueryInt(reader, "SELECT finished_at IS NULL FROM runs"), 1);
}

TEST_F(StoreTest, ReopeningAnExistingDatabaseAddsASecondRunAndKeepsTheFirst) {
  int64_t first = 0;
  {
    auto store = OpenStore();
    ASSERT_TRUE(store);
    Result<int64_t> run = store->BeginRun({"async", {"http://h/"}, ""});
    ASSERT_OK(run);
    first = *run;
    for (int i = 0; i < 5; ++i) ASSERT_OK(store->AddPage(Page("http://h/" + std::to_string(i)), Links("x", 2)));
    ASSERT_OK(store->FinishRun({5, 0, 0, 1, 5, ""}));
    ASSERT_OK(store->Close());
  }
  auto store = OpenStore();
  ASSERT_TRUE(store);
  Result<int64_t> second = store->BeginRun({"threads", {"http://h/"}, ""});
  ASSERT_OK(second);
  EXPECT_NE(*second, first);
  // The same URLs again: unique per run, not across runs.
  for (int i = 0; i < 3; ++i) ASSERT_OK(store->AddPage(Page("http://h/" + std::to_string(i)), {}));
  ASSERT_OK(store->FinishRun({3, 0, 0, 1, 3, ""}));
  ASSERT_OK(store->Close());

  SqliteDb db = Reader(path_);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM runs"), 2);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM pages WHERE run_id = " + std::to_string(first)), 5);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM pages WHERE run_id = " + std::to_string(*second)), 3);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM links"), 10);
  EXPECT_EQ(QueryText(db, "SELECT mode || ' ' || pages FROM runs WHERE id = " + std::to_string(first)), "async 5");
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
}

TEST_F(StoreTest, AFileThatIsNotADatabaseIsRefusedAsCorruptionAndLeftUnchanged) {
  const std::string notes = "These are my notes, not a database. They are long enough to have a header.\n";
  std::ofstream(path_) << notes;
  Result<std::unique_ptr<Store>> store = Store::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kCorruption) << store.status().ToString();
  EXPECT_EQ(ReadBytes(path_), notes);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path()), {}), 1) << "no -wal, -shm or -journal left";
}

TEST_F(StoreTest, ADirectoryOrAMissingParentIsAnIOError) {
  Result<std::unique_ptr<Store>> store = Store::Open(dir_.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kIOError) << store.status().ToString();

  store = Store::Open(dir_.path() / "missing" / "crawl.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kIOError) << store.status().ToString();
}

TEST_F(StoreTest, AReadOnlyFileIsAnIOError) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes read-only files anyway";
  ASSERT_OK(OpenStore()->Close());
  std::filesystem::permissions(path_, std::filesystem::perms::owner_read);
  Result<std::unique_ptr<Store>> store = Store::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kIOError) << store.status().ToString();
}

TEST_F(StoreTest, ADatabaseFromANewerFanoutIsRefusedAndLeftUnchanged) {
  ASSERT_OK(OpenStore()->Close());
  {
    SqliteDb db = Reader(path_);
    ASSERT_OK(db.Exec("UPDATE meta SET value = '" + std::to_string(kSchemaVersion + 1) + "' WHERE key = 'schema_version'"));
  }
  const std::string before = ReadBytes(path_);
  Result<std::unique_ptr<Store>> store = Store::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(store.status().message().find("database schema version " + std::to_string(kSchemaVersion + 1) +
                                          " is newer than this fanout (" + std::to_string(kSchemaVersion) +
                                          "); upgrade fanout"),
            std::string::npos)
      << store.status().message();
  EXPECT_EQ(ReadBytes(path_), before);
}

TEST_F(StoreTest, AnotherProgramsDatabaseIsRefusedAndLeftAlone) {
  {
    SqliteDb db = Reader(path_);
    ASSERT_OK(db.Exec("CREATE TABLE pages(recipe TEXT); INSERT INTO pages VALUES ('soup')"));
  }
  Result<std::unique_ptr<Store>> store = Store::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kInvalidArgument) << store.status().ToString();
  SqliteDb db = Reader(path_);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_schema"), 1);
  EXPECT_EQ(QueryText(db, "SELECT recipe FROM pages"), "soup");
}

TEST_F(StoreTest, AVersionOneDatabaseIsMigratedAndKeepsItsRows) {
  {  // What version 1 wrote.
    SqliteDb db = Reader(path_);
    ASSERT_OK(MigrateSchemaTo(db, 1));
    ASSERT_OK(db.Exec(R"sql(
      INSERT INTO runs (id, started_at, mode, seeds, options) VALUES (1, 1.7e9, 'async', '["http://a.test/"]', '{}');
      INSERT INTO pages (id, run_id, url, depth, status, bytes, truncated, noindex, new_connections, redirects,
                         fetched_at, queue_wait, dns, connect, tls, first_byte, transfer, total, parse)
        VALUES (1, 1, 'http://a.test/', 0, 200, 10, 0, 0, 1, 0, 1.7e9, 0, 0, 0, 0, 0, 0, 0, 0);
      INSERT INTO links (page_id, to_url, followed, reason) VALUES (1, 'http://a.test/b', 1, NULL);)sql"));
  }
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_OK(store->Close());
  SqliteDb db = Reader(path_);
  Result<int> version = ReadSchemaVersion(db);
  ASSERT_OK(version);
  EXPECT_EQ(*version, kSchemaVersion);
  EXPECT_EQ(QueryText(db, "SELECT url || ' ' || store || ' ' || attempts FROM pages"), "http://a.test/ 0.0 1");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM skipped") + QueryInt(db, "SELECT count(*) FROM robots"), 0);
  EXPECT_EQ(QueryText(db, "SELECT url || ' ' || depth FROM frontier"), "http://a.test/b 1");
}

TEST_F(StoreTest, MigratingCreatesTheCurrentVersionOnceAndThenWritesNothing) {
  SqliteDb db = Reader(path_);
  Result<int> before = ReadSchemaVersion(db);
  ASSERT_OK(before);
  EXPECT_EQ(*before, 0);
  ASSERT_OK(MigrateSchema(db));
  Result<int> after = ReadSchemaVersion(db);
  ASSERT_OK(after);
  EXPECT_EQ(*after, kSchemaVersion);
  const int64_t changes = QueryInt(db, "SELECT total_changes()");
  ASSERT_OK(MigrateSchema(db));
  EXPECT_EQ(QueryInt(db, "SELECT total_changes()"), changes);
  for (const char* table : {"meta", "runs", "pages", "urls", "link_reasons", "link_rows", "errors", "robots", "skipped"}) {
    EXPECT_EQ(QueryInt(db, std::string("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '") +
                               table + "'"),
              1)
        << table;
  }
  for (const char* view : {"links", "frontier"}) {
    EXPECT_EQ(QueryInt(db, std::string("SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name = '") +
                               view + "'"),
              1)
        << view;
  }
}

TEST_F(StoreTest, ConcurrentAddPageFromFourThreadsLosesNothing) {
  // A small queue, so the threads also block on it and are released by the writer.
  auto store = OpenStore({.batch_pages = 64, .batch_ms = 5, .queue_pages = 16});
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"threads", {}, ""}));
  constexpr int kThreads = 4, kPages = 500;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPages; ++i) {
        const std::string url = "http://h/t" + std::to_string(t) + "/" + std::to_string(i);
        if (!store->AddPage(Page(url), Links(url, 3)).ok()) ++failures;
        if (i % 100 == 0) (void)store->stats();  // readable from any thread
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK(store->Flush());
  EXPECT_EQ(store->stats().pages, kThreads * kPages);
  EXPECT_EQ(store->stats().links, kThreads * kPages * 3);
  ASSERT_OK(store->Close());

  SqliteDb db = Reader(path_);
  EXPECT_EQ(QueryInt(db, "SELECT count(DISTINCT url) FROM pages"), kThreads * kPages);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM pages WHERE url LIKE 'http://h/t" + std::to_string(t) + "/%'"),
              kPages);
  }
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM links"), kThreads * kPages * 3);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM links l JOIN pages p ON p.id = l.page_id "
                         "WHERE l.to_url NOT LIKE p.url || '/link%'"),
            0)
      << "a link is filed under the wrong page";
}

TEST_F(StoreTest, ADuplicateUrlWithinARunIsKeptOnceAndCounted) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  PageRecord first = Page("http://h/same");
  first.title = "first";
  PageRecord second = first;
  second.title = "second";
  second.error_kind = "http";
  ASSERT_OK(store->AddPage(first, Links("http://h/first", 1)));
  ASSERT_OK(store->AddPage(second, Links("http://h/second", 4)));
  ASSERT_OK(store->AddPage(Page("http://h/after"), {}));  // the batch goes on
  ASSERT_OK(store->Flush());
  const StoreStats stats = store->stats();
  EXPECT_EQ(stats.pages, 2);
  EXPECT_EQ(stats.duplicates, 1);
  EXPECT_EQ(stats.links, 1);
  EXPECT_EQ(stats.errors, 0);
  ASSERT_OK(store->Close());

  SqliteDb db = Reader(path_);
  EXPECT_EQ(QueryText(db, "SELECT group_concat(title, ',') FROM pages WHERE url = 'http://h/same'"), "first");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM pages"), 2);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM links"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM errors"), 0);
}

// Adds pages until the store refuses one; returns how many pages Flush confirmed before that.
struct FillResult {
  Status error;
  int confirmed = 0;  // pages a successful Flush covered
  int added = 0;      // pages AddPage accepted
};
FillResult FillUntilFull(Store& store, int first_index) {
  FillResult r;
  for (int i = first_index; i < first_index + 100'000; ++i) {
    PageRecord page = Page("http://h/fill/" + std::to_string(i));
    page.title = std::string(300, 't');
    r.error = store.AddPage(page, Links(page.url, 10));
    if (!r.error.ok()) return r;
    ++r.added;
    if (r.added % 16 == 0) {
      r.error = store.Flush();
      if (!r.error.ok()) return r;
      r.confirmed = r.added;
    }
  }
  r.error = store.Flush();
  return r;
}

TEST_F(StoreTest, DiskFullMidRunIsReportedAndEarlierRowsSurviveIntact) {
  // A 48-page cap (192 KiB) stands in for a full disk.
  auto store = OpenStore({.batch_pages = 8, .batch_ms = 60'000, .max_db_pages = 48});
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  for (int i = 0; i < 5; ++i) ASSERT_OK(store->AddPage(Page("http://h/early/" + std::to_string(i)), Links("x", 2)));
  ASSERT_OK(store->Flush());

  FillResult fill = FillUntilFull(*store, 0);
  ASSERT_FALSE(fill.error.ok()) << "100000 pages fit in 48 database pages?";
  EXPECT_EQ(fill.error.code(), Status::Code::kIOError) << fill.error.ToString();
  EXPECT_NE(fill.error.message().find("full"), std::string::npos) << fill.error.message();

  // The failed batch was rolled back: the store holds no write lock while it waits to be closed.
  {
    SqliteDb other = Reader(path_);
    ASSERT_OK(other.Exec("BEGIN IMMEDIATE"));
    ASSERT_OK(other.Exec("ROLLBACK"));
  }

  // Latched: every later call reports it, none hangs.
  EXPECT_EQ(store->AddPage(Page("http://h/late"), {}).ToString(), fill.error.ToString());
  EXPECT_EQ(store->Flush().ToString(), fill.error.ToString());
  EXPECT_EQ(store->FinishRun({}).ToString(), fill.error.ToString());
  EXPECT_EQ(StatusOf(store->BeginRun({"async", {}, ""})).ToString(), fill.error.ToString());
  EXPECT_EQ(store->Close().ToString(), fill.error.ToString());
  EXPECT_EQ(store->Close().ToString(), fill.error.ToString());
  store.reset();

  SqliteDb db = Reader(path_);
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM pages WHERE url LIKE 'http://h/early/%'"), 5);
  const int64_t filled = QueryInt(db, "SELECT count(*) FROM pages WHERE url LIKE 'http://h/fill/%'");
  EXPECT_GE(filled, fill.confirmed);
  EXPECT_LT(filled, fill.added + 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM links"), 5 * 2 + filled * 10) << "a page lost its links";

  // And the file takes new runs once there is room again.
  auto reopened = OpenStore();
  ASSERT_TRUE(reopened);
  ASSERT_OK(reopened->BeginRun({"async", {}, ""}));
  ASSERT_OK(reopened->AddPage(Page("http://h/next"), {}));
  ASSERT_OK(reopened->Close());
}

TEST_F(StoreTest, ProducersBlockedOnAFullQueueAreReleasedWhenTheWriterFails) {
  auto store = OpenStore({.batch_pages = 4, .batch_ms = 60'000, .queue_pages = 2, .max_db_pages = 40});
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  std::vector<Status> seen(4);
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100'000 && seen[t].ok(); ++i) {
        PageRecord page = Page("http://h/" + std::to_string(t) + "/" + std::to_string(i));
        page.title = std::string(300, 't');
        seen[t] = store->AddPage(page, Links(page.url, 10));
      }
      ++finished;
    });
  }
  EXPECT_TRUE(PollUntil(10, [&] { return finished == 4; }))
      << "producers blocked on the full queue were not released by the writer's failure";
  EXPECT_FALSE(store->Close().ok());  // also releases any producer still blocked, so the joins return
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 4; ++t) EXPECT_FALSE(seen[t].ok()) << "thread " << t;
}

TEST_F(StoreTest, AddPageBlocksWhileTheQueueIsFull) {
  auto store = OpenStore({.batch_pages = 1, .queue_pages = 4, .busy_timeout_ms = 2000});
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  // Another connection holds the write lock, so the writer stalls on its first page until its busy
  // timeout fails it with kUnavailable.
  SqliteDb other = Reader(path_);
  ASSERT_OK(other.Exec("BEGIN IMMEDIATE"));
  ASSERT_OK(store->AddPage(Page("http://h/taken"), {}));
  ASSERT_TRUE(PollUntil(10, [&] { return store->stats().queued == 0; }));  // the writer has it
  for (int i = 0; i < 4; ++i) ASSERT_OK(store->AddPage(Page("http://h/" + std::to_string(i)), {}));
  EXPECT_EQ(store->stats().queued, 4);
  // The queue is full: this call can only return once the stalled writer fails, with its error. A
  // queue without a bound would take the page and return Ok at once.
  Status blocked = store->AddPage(Page("http://h/blocked"), {});
  EXPECT_EQ(blocked.code(), Status::Code::kUnavailable) << blocked.ToString();
  EXPECT_EQ(store->Close().code(), Status::Code::kUnavailable);
  ASSERT_OK(other.Exec("ROLLBACK"));
  EXPECT_EQ(QueryInt(other, "SELECT count(*) FROM pages"), 0);
}

TEST_F(StoreTest, CloseIsIdempotentAndLaterCallsAreRefused) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  ASSERT_OK(store->AddPage(Page("http://h/"), {}));
  ASSERT_OK(store->Close());
  ASSERT_OK(store->Close());
  EXPECT_EQ(store->AddPage(Page("http://h/2"), {}).code(), Status::Code::kUnavailable);
  EXPECT_EQ(store->Flush().code(), Status::Code::kUnavailable);
  EXPECT_EQ(store->FinishRun({}).code(), Status::Code::kUnavailable);
  EXPECT_EQ(StatusOf(store->BeginRun({"async", {}, ""})).code(), Status::Code::kUnavailable);
  EXPECT_EQ(store->stats().pages, 1);
}

TEST_F(StoreTest, AddPageOutsideARunIsRefused) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->AddPage(Page("http://h/"), {}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store->FinishRun({}).code(), Status::Code::kInvalidArgument);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  ASSERT_OK(store->AddPage(Page("http://h/"), {}));
  ASSERT_OK(store->FinishRun({}));
  EXPECT_EQ(store->AddPage(Page("http://h/2"), {}).code(), Status::Code::kInvalidArgument);
  ASSERT_OK(store->Close());
}

TEST_F(StoreTest, JsonThatDoesNotParseIsRefusedBeforeAnythingIsWritten) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  EXPECT_EQ(StatusOf(store->BeginRun({"async", {}, "{concurrency: 8"})).code(), Status::Code::kInvalidArgument);
  ASSERT_OK(store->BeginRun({"async", {}, "{}"}));
  RunSummary summary;
  summary.summary_json = "not json";
  EXPECT_EQ(store->FinishRun(summary).code(), Status::Code::kInvalidArgument);
  ASSERT_OK(store->Close());
  SqliteDb db = Reader(path_);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM runs"), 1);
}

TEST_F(StoreTest, BadOptionsAreRefused) {
  Result<std::unique_ptr<Store>> store = Store::Open(path_, {.batch_pages = 0});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(path_));
}

}  // namespace
}  // namespace fanout

namespace fanout {
namespace {

// An unsure link (the crawl's filter could not tell) is settled by the writer against the run's
// rows, its own open batch included: a URL the run already follows, or has a page of, is a
// duplicate; any other is queued on disk. Another run's rows do not count.
// The same with every size of the writer's URL cache: none, one that forgets at once, the default.
TEST_F(StoreTest, UnsureLinksAreSettledAgainstTheRunsRows) {
  for (size_t url_cache : {size_t{0}, size_t{1}, StoreOptions{}.url_cache}) {
  SCOPED_TRACE("url_cache " + std::to_string(url_cache));
  path_ = (dir_.path() / ("crawl-" + std::to_string(url_cache) + ".db")).string();
  auto store = OpenStore({.batch_pages = 256, .batch_ms = 60'000, .url_cache = url_cache});
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {"http://h/"}, ""}));
  ASSERT_OK(store->AddPage(Page("http://h/other-run"), {LinkRecord{.to_url = "http://h/x", .followed = Follow::kQueued, .reason = ""}}));
  ASSERT_OK(store->FinishRun({}));
  Result<int64_t> run = store->BeginRun({"async", {"http://h/"}, ""});
  ASSERT_OK(run);
  auto unsure = [](const std::string& url) {
    return LinkRecord{.to_url = url, .followed = Follow::kOnDisk, .reason = "", .unsure = true};
  };
  ASSERT_OK(store->AddPage(Page("http://h/"), {LinkRecord{.to_url = "http://h/a", .followed = Follow::kQueued, .reason = ""}}));
  // Same batch: /a is followed above, / is a page; /x was followed only by the other run.
  ASSERT_OK(store->AddPage(Page("http://h/a"), {unsure("http://h/a"), unsure("http://h/"), unsure("http://h/x")}));
  ASSERT_OK(store->Flush());
  EXPECT_EQ(store->stats().unsure_duplicates, 2);
  EXPECT_EQ(store->stats().unsure_new, 1);
  // Committed now: a second unsure link to /x is a duplicate of the first.
  ASSERT_OK(store->AddPage(Page("http://h/b"), {unsure("http://h/x"), unsure("http://h/new")}));
  ASSERT_OK(store->Flush());
  EXPECT_EQ(store->stats().unsure_duplicates, 3);
  EXPECT_EQ(store->stats().unsure_new, 2);
  ASSERT_OK(store->Close());

  SqliteDb db = Reader(path_);
  const std::string in_run = " FROM links l JOIN pages p ON p.id = l.page_id WHERE p.run_id = " + std::to_string(*run);
  EXPECT_EQ(QueryText(db, "SELECT group_concat(to_url || '=' || followed || ':' || coalesce(reason, ''), ' ')" + in_run +
                              " AND p.url != 'http://h/'"),
            "http://h/a=0:duplicate http://h/=0:duplicate http://h/x=2: http://h/x=0:duplicate http://h/new=2:");
  }
}

// Who links here is indexed when the writer stops, not link by link while a run writes; meanwhile
// the question is still answered, from the rows themselves.
TEST_F(StoreTest, WhoLinksHereIsIndexedWhenTheWriterStopsAndAnsweredMeanwhile) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(store->AddPage(Page("http://h/" + std::to_string(i)), {{"http://h/target", i == 0 ? Follow::kQueued : Follow::kNo, i == 0 ? "" : "duplicate"}}));
  }
  ASSERT_OK(store->Flush());
  const std::string index = "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'link_rows_url'";
  const std::string who = "SELECT count(*) FROM links WHERE to_url = 'http://h/target'";
  {
    SqliteDb during = Reader(path_);
    EXPECT_EQ(QueryInt(during, index), 0);
    EXPECT_EQ(QueryInt(during, who), 20);
  }
  ASSERT_OK(store->Close());
  SqliteDb after = Reader(path_);
  EXPECT_EQ(QueryInt(after, index), 1);
  EXPECT_EQ(QueryInt(after, who), 20);
}

// Many pages linking to the same few URLs: each URL is a row of urls once, each link a row of
// link_rows, and the links view reads them back as text, through the indexes.
TEST_F(StoreTest, EachUrlIsStoredOnceAndEveryLinkReadsBackAsText) {
  auto store = OpenStore({.url_cache = 2});  // smaller than the URLs a page has: entries come and go
  ASSERT_TRUE(store);
  ASSERT_OK(store->BeginRun({"async", {}, ""}));
  for (int i = 0; i < 50; ++i) {
    const std::string url = "http://h/" + std::to_string(i);
    ASSERT_OK(store->AddPage(Page(url), {{"http://h/", Follow::kNo, "duplicate"},
                                         {"http://h/about", i == 0 ? Follow::kQueued : Follow::kNo, i == 0 ? "" : "duplicate"},
                                         {"http://other/", Follow::kNo, "out_of_scope"},
                                         {url + "/next", Follow::kQueued, ""}}));
  }
  ASSERT_OK(store->Close());
  SqliteDb db = Reader(path_);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM link_rows"), 200);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM urls"), 53);
  EXPECT_EQ(QueryInt(db, "SELECT count(DISTINCT url) FROM urls"), 53);
  EXPECT_EQ(QueryText(db, "SELECT group_concat(reason, ' ') FROM (SELECT reason FROM link_reasons ORDER BY id)"),
            "duplicate out_of_scope");
  EXPECT_EQ(QueryText(db, "SELECT group_concat(p.url || ' ' || l.followed || ' ' || coalesce(l.reason, '-'), ', ') "
                          "FROM links l JOIN pages p ON p.id = l.page_id WHERE l.to_url = 'http://h/about' "
                          "AND p.url IN ('http://h/0', 'http://h/1')"),
            "http://h/0 1 -, http://h/1 0 duplicate");
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM links WHERE to_url = 'http://other/' AND reason = 'out_of_scope'"), 50);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM frontier"), 51);  // each page's /next, and /about
  EXPECT_EQ(QueryText(db, "SELECT depth FROM frontier WHERE url = 'http://h/about'"), "1");

  // Who links here, and a page's links, go through the indexes, not a scan of every link.
  for (const char* where : {"l.to_url = 'http://h/about'", "l.page_id = 7"}) {
    Result<SqliteStmt> plan = db.Prepare(std::string("EXPLAIN QUERY PLAN SELECT p.url FROM links l "
                                                     "JOIN pages p ON p.id = l.page_id WHERE ") + where);
    ASSERT_OK(plan);
    std::string steps;
    while (*plan->Step()) steps += plan->ColumnText(3) + "\n";
    EXPECT_EQ(steps.find("SCAN"), std::string::npos) << where << ":\n" << steps;
    EXPECT_NE(steps.find(std::string(where).find("to_url") != std::string::npos ? "link_rows_url" : "link_rows_page"),
              std::string::npos)
        << where << ":\n" << steps;
  }
}

// What version 4 wrote as pages columns: the ones without a default.
std::string Version4Page(int id, const std::string& url, int depth) {
  return "INSERT INTO pages (id, run_id, url, depth, status, bytes, truncated, noindex, new_connections, redirects, "
         "fetched_at, queue_wait, dns, connect, tls, first_byte, transfer, total, parse) VALUES (" +
         std::to_string(id) + ", 1, '" + url + "', " + std::to_string(depth) +
         ", 200, 10, 0, 0, 1, 0, 1.7e9, 0, 0, 0, 0, 0, 0, 0, 0);";
}

// An interrupted version 4 crawl: / and /a fetched; /b queued on disk (followed = 2), /c queued in
// memory when it stopped; a gap in the rowids, where a page's links were rolled back. Migrated, its
// links keep their text, their order and their ids, so the resumed crawl reads its queue back.
TEST_F(StoreTest, AnInterruptedVersionFourCrawlIsMigratedAndResumesWhereItStopped) {
  const char* kLinks = "SELECT group_concat(to_url || '=' || followed || ':' || coalesce(reason, ''), ' ') FROM ";
  std::string before;
  {
    SqliteDb db = Reader(path_);
    ASSERT_OK(MigrateSchemaTo(db, 4));
    ASSERT_OK(db.Exec("INSERT INTO runs (id, started_at, mode, seeds, options) "
                      "VALUES (1, 1.7e9, 'async', '[\"http://h/\"]', '{}');" +
                      Version4Page(1, "http://h/", 0) + Version4Page(2, "http://h/a", 1) + R"sql(
      INSERT INTO links (rowid, page_id, to_url, followed, reason) VALUES
        (1, 1, 'http://h/a', 1, NULL), (2, 1, 'http://h/b', 2, NULL), (3, 1, 'http://h/', 0, 'duplicate'),
        (4, 1, 'mailto:x@h', 0, 'not_http'), (6, 2, 'http://h/b', 0, 'duplicate'), (7, 2, 'http://h/c', 1, NULL);)sql"));
    before = QueryText(db, std::string(kLinks) + "(SELECT * FROM links ORDER BY rowid)");
  }
  // What --resume reads before the store opens, and migrates, the file.
  Result<RunState> state = LoadRunState(path_, 1);
  ASSERT_OK(state);
  EXPECT_EQ(state->last_link, 7);
  EXPECT_EQ(state->queued, 2);

  auto store = OpenStore();
  ASSERT_TRUE(store);
  {
    SqliteDb db = Reader(path_);
    Result<int> version = ReadSchemaVersion(db);
    ASSERT_OK(version);
    EXPECT_EQ(*version, kSchemaVersion);
    EXPECT_EQ(QueryText(db, "SELECT type FROM sqlite_schema WHERE name = 'links'"), "view");
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_schema WHERE name IN ('links_page', 'links_to_url')"), 0);
    EXPECT_EQ(QueryText(db, std::string(kLinks) + "(SELECT * FROM " + LinksWithIds(kSchemaVersion) + " ORDER BY link_id)"),
              before);
    EXPECT_EQ(QueryText(db, "SELECT group_concat(id, ' ') FROM (SELECT id FROM link_rows ORDER BY id)"), "1 2 3 4 6 7");
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM urls"), 5);
    EXPECT_EQ(QueryText(db, "SELECT group_concat(url || ' ' || depth, ', ') FROM frontier"), "http://h/b 1, http://h/c 2");
  }
  Result<std::vector<SpilledLink>> queue = ReadSpilledLinks(path_, 1, 0, state->last_link, 10);
  ASSERT_OK(queue);
  ASSERT_EQ(queue->size(), 2u);
  EXPECT_EQ((*queue)[0].link_id, 2);
  EXPECT_EQ((*queue)[0].queued.url, "http://h/b");
  EXPECT_EQ((*queue)[0].queued.depth, 1);
  EXPECT_EQ((*queue)[0].queued.parent, "http://h/");
  EXPECT_EQ((*queue)[1].link_id, 7);
  EXPECT_EQ((*queue)[1].queued.url, "http://h/c");

  // The resumed run goes on: an unsure link to /c is a duplicate of the migrated one, /d is new and
  // queued on disk after the migrated links.
  ASSERT_OK(store->ResumeRun(1));
  auto unsure = [](const std::string& url) {
    return LinkRecord{.to_url = url, .followed = Follow::kOnDisk, .reason = "", .unsure = true};
  };
  ASSERT_OK(store->AddPage(Page("http://h/b"), {unsure("http://h/c"), unsure("http://h/d")}));
  ASSERT_OK(store->Flush());
  EXPECT_EQ(store->stats().unsure_duplicates, 1);
  EXPECT_EQ(store->stats().unsure_new, 1);
  Result<std::vector<SpilledLink>> more = ReadSpilledLinks(path_, 1, (*queue)[1].link_id, state->last_link, 10);
  ASSERT_OK(more);
  ASSERT_EQ(more->size(), 1u);
  EXPECT_GT((*more)[0].link_id, state->last_link);
  EXPECT_EQ((*more)[0].queued.url, "http://h/d");
  EXPECT_EQ((*more)[0].queued.parent, "http://h/b");
  ASSERT_OK(store->Close());
}

}  // namespace
}  // namespace fanout
