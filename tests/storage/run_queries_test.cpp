#include "storage/run_queries.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/records.h"
#include "storage/sqlite.h"
#include "storage/store.h"

namespace fanout {
namespace {

class RunQueries : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fanout-run-queries-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "crawl.db").string();
    Result<std::unique_ptr<Store>> store = Store::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Commits what the store was given and opens the database as a reader would.
  SqliteDb Read() {
    EXPECT_TRUE(store_->Flush().ok());
    Result<SqliteDb> db = SqliteDb::OpenReadOnly(path_);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return std::move(db).value();
  }

  static PageRecord Page(const std::string& url, int status, const std::string& error_kind = "",
                         const std::string& error = "") {
    PageRecord page;
    page.url = url;
    page.status = status;
    page.error_kind = error_kind;
    page.error = error;
    return page;
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

TEST_F(RunQueries, SeedOutcomesTellFetchedUnansweredRefusedAndUnknownSeedsInOrder) {
  Result<int64_t> run = store_->BeginRun({"async",
                                          {"http://a.test/", "http://b.test/", "http://c.test/", "http://d.test/"},
                                          ""});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(store_->AddPage(Page("http://a.test/", 404), {}).ok());
  ASSERT_TRUE(store_->AddPage(Page("http://b.test/", 0, "dns", "Could not resolve host"), {}).ok());
  ASSERT_TRUE(store_->AddSkip({.url = "http://c.test/", .reason = "robots", .detail = "Disallow: /",
                               .found_on = "", .depth = 0})
                  .ok());
  SqliteDb db = Read();
  Result<std::vector<SeedOutcome>> seeds = ReadSeedOutcomes(db, *run);
  ASSERT_TRUE(seeds.ok()) << seeds.status().ToString();
  ASSERT_EQ(seeds->size(), 4u);
  EXPECT_EQ((*seeds)[0].url, "http://a.test/");
  EXPECT_EQ((*seeds)[0].fate, SeedOutcome::Fate::kFetched);
  EXPECT_EQ((*seeds)[0].status, 404);
  EXPECT_EQ((*seeds)[1].fate, SeedOutcome::Fate::kFetched);
  EXPECT_EQ((*seeds)[1].status, 0);
  EXPECT_EQ((*seeds)[1].error_kind, "dns");
  EXPECT_EQ((*seeds)[1].error, "Could not resolve host");
  EXPECT_EQ((*seeds)[2].fate, SeedOutcome::Fate::kRobots);
  EXPECT_EQ((*seeds)[2].robots_detail, "Disallow: /");
  EXPECT_EQ((*seeds)[3].url, "http://d.test/");
  EXPECT_EQ((*seeds)[3].fate, SeedOutcome::Fate::kUnknown);
}

TEST_F(RunQueries, SeedOutcomesOfAMissingRunAreCorruption) {
  SqliteDb db = Read();
  Result<std::vector<SeedOutcome>> seeds = ReadSeedOutcomes(db, 7);
  ASSERT_FALSE(seeds.ok());
  EXPECT_EQ(seeds.status().code(), Status::Code::kCorruption);
}

TEST_F(RunQueries, NextRunIdIsOneMoreThanTheLargest) {
  {
    SqliteDb db = Read();
    Result<int64_t> first = NextRunId(db);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    EXPECT_EQ(*first, 1);
  }
  ASSERT_TRUE(store_->BeginRun({"async", {"http://a.test/"}, ""}).ok());
  ASSERT_TRUE(store_->BeginRun({"async", {"http://a.test/"}, ""}).ok());
  SqliteDb db = Read();
  Result<int64_t> next = NextRunId(db);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(*next, 3);
}

TEST_F(RunQueries, ArchivePrefixIsThatOfTheRunsLastFile) {
  Result<int64_t> archived = store_->BeginRun({"async", {"http://a.test/"}, ""});
  ASSERT_TRUE(archived.ok());
  ASSERT_TRUE(store_->AddWarcFile("/tmp/one/crawl-20260101000000-00000.warc.gz").ok());
  ASSERT_TRUE(store_->AddWarcFile("/tmp/two/site-20260101000001-00001.warc.gz").ok());
  Result<int64_t> plain = store_->BeginRun({"async", {"http://a.test/"}, ""});
  ASSERT_TRUE(plain.ok());
  SqliteDb db = Read();
  Result<std::string> prefix = ArchivePrefixOfRun(db, *archived);
  ASSERT_TRUE(prefix.ok()) << prefix.status().ToString();
  EXPECT_EQ(*prefix, "/tmp/two/site");
  Result<std::string> none = ArchivePrefixOfRun(db, *plain);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, "");
}

TEST_F(RunQueries, ArchivedPayloadsAreTheRunsResponseRecordsInOrder) {
  Result<int64_t> run = store_->BeginRun({"async", {"http://a.test/"}, ""});
  ASSERT_TRUE(run.ok());
  const std::string file = "/tmp/x/crawl-20260101000000-00000.warc.gz";
  ASSERT_TRUE(store_->AddWarcFile(file).ok());
  auto archived = [&](const std::string& url, const std::string& type, const std::string& digest) {
    PageRecord page = Page(url, 200);
    page.warc_file = file;
    page.warc_type = type;
    page.warc_date = "2026-01-01T00:00:00Z";
    page.payload_digest = digest;
    return page;
  };
  PageRecord redirected = archived("http://a.test/", "response", "sha1:AAA");
  redirected.final_url = "http://a.test/home";
  ASSERT_TRUE(store_->AddPage(redirected, {}).ok());
  ASSERT_TRUE(store_->AddPage(archived("http://a.test/copy", "revisit", "sha1:AAA"), {}).ok());
  ASSERT_TRUE(store_->AddPage(Page("http://a.test/plain", 200), {}).ok());
  ASSERT_TRUE(store_->AddPage(archived("http://a.test/b", "response", "sha1:BBB"), {}).ok());
  SqliteDb db = Read();
  std::vector<ArchivedPayload> seen;
  Status read = ForEachArchivedPayload(db, *run, [&seen](const ArchivedPayload& p) { seen.push_back(p); });
  ASSERT_TRUE(read.ok()) << read.ToString();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].payload_digest, "sha1:AAA");
  EXPECT_EQ(seen[0].url, "http://a.test/home");
  EXPECT_EQ(seen[0].warc_date, "2026-01-01T00:00:00Z");
  EXPECT_EQ(seen[1].payload_digest, "sha1:BBB");
  EXPECT_EQ(seen[1].url, "http://a.test/b");
}

TEST_F(RunQueries, ListRunsCountsWhatAnUnfinishedRunStoredAndTakesAFinishedRunsOwnCounts) {
  Result<int64_t> finished = store_->BeginRun({"threads", {"http://a.test/"}, ""});
  ASSERT_TRUE(finished.ok());
  ASSERT_TRUE(store_->FinishRun({.pages = 40, .errors = 2, .bytes = 0, .wall_seconds = 1.5, .pages_per_second = 26.5,
                                 .summary_json = "", .interrupted = false})
                  .ok());
  Result<int64_t> unfinished = store_->BeginRun({"async", {"http://b.test/"}, ""});
  ASSERT_TRUE(unfinished.ok());
  ASSERT_TRUE(store_->AddPage(Page("http://b.test/", 200), {}).ok());
  ASSERT_TRUE(store_->AddPage(Page("http://b.test/x", 200), {}).ok());
  SqliteDb db = Read();
  Result<std::vector<RunListing>> runs = ListRuns(db);
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].id, *finished);
  EXPECT_EQ((*runs)[0].mode, "threads");
  EXPECT_EQ((*runs)[0].seeds, R"(["http://a.test/"])");
  EXPECT_TRUE((*runs)[0].finished_at.has_value());
  EXPECT_EQ((*runs)[0].pages, 40);
  EXPECT_EQ((*runs)[0].errors, 2);
  EXPECT_EQ((*runs)[0].wall_seconds, 1.5);
  EXPECT_EQ((*runs)[0].pages_per_second, 26.5);
  EXPECT_EQ((*runs)[1].id, *unfinished);
  EXPECT_FALSE((*runs)[1].finished_at.has_value());
  EXPECT_EQ((*runs)[1].pages, 2);
  EXPECT_FALSE((*runs)[1].wall_seconds.has_value());
}

TEST_F(RunQueries, ArchiveFilesAndArchivedPagesAreFoundByRun) {
  Result<int64_t> first = store_->BeginRun({"async", {"http://a.test/"}, ""});
  ASSERT_TRUE(first.ok());
  const std::string one = "/tmp/x/a-20260101000000-00000.warc.gz";
  ASSERT_TRUE(store_->AddWarcFile(one).ok());
  PageRecord page = Page("http://a.test/", 200);
  page.final_url = "http://a.test/home";
  page.warc_file = one;
  page.warc_offset = 100;
  page.warc_length = 50;
  page.warc_type = "response";
  ASSERT_TRUE(store_->AddPage(page, {}).ok());
  Result<int64_t> second = store_->BeginRun({"async", {"http://a.test/"}, ""});
  ASSERT_TRUE(second.ok());
  const std::string two = "/tmp/x/b-20260101000000-00000.warc.gz";
  ASSERT_TRUE(store_->AddWarcFile(two).ok());
  SqliteDb db = Read();

  Result<std::vector<std::string>> all = ArchiveFilesOf(db, 0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, (std::vector<std::string>{one, two}));
  Result<std::vector<std::string>> of_second = ArchiveFilesOf(db, *second);
  ASSERT_TRUE(of_second.ok());
  EXPECT_EQ(*of_second, std::vector<std::string>{two});

  for (const std::string url : {"http://a.test/", "http://a.test/home"}) {
    Result<std::optional<ArchivedRecordAt>> at = LocateArchivedPage(db, url, 0);
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    ASSERT_TRUE(at->has_value()) << url;
    EXPECT_EQ((*at)->run, *first);
    EXPECT_EQ((*at)->file, one);
    EXPECT_EQ((*at)->offset, 100u);
    EXPECT_EQ((*at)->length, 50u);
  }
  Result<std::optional<ArchivedRecordAt>> none = LocateArchivedPage(db, "http://a.test/", *second);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace fanout
