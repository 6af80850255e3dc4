#include "storage/merge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/schema.h"
#include "storage/sqlite.h"
#include "storage/store.h"
#include "tests/support/sqlite_query.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/worker_databases.h"

namespace fanout {
namespace {

using test::FetchedPage;
using test::Followed;
using test::QueryInt;
using test::QueryRows;
using test::QueryText;


std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

SqliteDb OpenReader(const std::string& path) {
  Result<SqliteDb> db = SqliteDb::OpenReadOnly(path);
  EXPECT_OK(db);
  return std::move(db).value();
}

// The link edges of a run: (page URL, to_url, followed, reason).
std::multiset<std::string> Edges(SqliteDb& db, const std::string& run_condition) {
  std::vector<std::string> rows = QueryRows(
      db, "SELECT p.url, l.to_url, l.followed, coalesce(l.reason, '-') FROM links l JOIN pages p ON p.id = l.page_id "
          "WHERE " + run_condition);
  return {rows.begin(), rows.end()};
}

class MergeTest : public ::testing::Test {
 protected:
  // Opens each path as `fanout merge` does: read-only, its version read.
  std::vector<MergeInput> Inputs(const std::vector<std::string>& paths) {
    std::vector<MergeInput> inputs;
    for (const std::string& path : paths) {
      Result<SqliteDb> db = SqliteDb::OpenReadOnly(path);
      EXPECT_OK(db);
      if (!db.ok()) continue;
      Result<int> version = ReadSchemaVersion(*db);
      EXPECT_OK(version);
      inputs.push_back({.path = path, .db = std::move(db).value(), .schema_version = version.ok() ? *version : 0});
    }
    return inputs;
  }

  Result<MergeStats> Merge(const std::vector<std::string>& paths, const std::string& out,
                           std::optional<int64_t> frontier_run = std::nullopt) {
    std::vector<MergeInput> inputs = Inputs(paths);
    Result<SharedRun> run = ChooseSharedRun(inputs, frontier_run);
    if (!run.ok()) return run.status();
    return MergeSharedRun(inputs, *run, out);
  }

  void SetUp() override {
    a_ = dir_.File("a.db");
    b_ = dir_.File("b.db");
    out_ = dir_.File("out.db");
    test::WriteWorkerA(a_);
    test::WriteWorkerB(b_);
  }

  test::TempDir dir_;
  std::string a_, b_, out_;
};

TEST_F(MergeTest, PagesAreTheUnionAndAUrlTwoWorkersFetchedKeepsItsEarliestFetch) {
  Result<MergeStats> stats = Merge({a_, b_}, out_);
  ASSERT_OK(stats);
  EXPECT_EQ(stats->run_id, 1);
  EXPECT_EQ(stats->runs, 2u);
  EXPECT_EQ(stats->workers, "a,b");
  EXPECT_EQ(stats->pages, 5);
  EXPECT_EQ(stats->duplicate_pages, 1);
  EXPECT_EQ(stats->dropped_links, 1);
  EXPECT_EQ(stats->dropped_errors, 1);
  EXPECT_TRUE(stats->finished);

  SqliteDb out = OpenReader(out_);
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM runs"), 1);
  // In the order of their fetches, whoever fetched them; /dup is b's (1003), not a's (1005).
  EXPECT_EQ(QueryRows(out, "SELECT url, fetched_at, status, depth FROM pages WHERE run_id = 1 ORDER BY id"),
            (std::vector<std::string>{"http://site.test/|1000.0|200|0", "http://site.test/b|1001.0|200|1",
                                      "http://site.test/a|1002.0|200|1", "http://site.test/dup|1003.0|200|2",
                                      "http://site.test/broken|1004.0|0|1"}));
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM pages WHERE url LIKE '%/solo'"), 0) << "a's own run is not merged";
}

TEST_F(MergeTest, LinksAreTheInputsEdgesOfTheKeptPages) {
  ASSERT_OK(Merge({a_, b_}, out_));
  std::multiset<std::string> expected;
  {
    SqliteDb a = OpenReader(a_);
    SqliteDb b = OpenReader(b_);
    // a's shared run is run 2 in its file; its fetch of /dup lost to b's.
    expected = Edges(a, "p.run_id = 2 AND p.url <> 'http://site.test/dup'");
    const std::multiset<std::string> of_b = Edges(b, "p.run_id = 1");
    expected.insert(of_b.begin(), of_b.end());
    EXPECT_EQ(expected.size(), 9u);
  }
  SqliteDb out = OpenReader(out_);
  EXPECT_EQ(Edges(out, "p.run_id = 1"), expected);
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM links WHERE to_url LIKE '%from-a''s-dup'"), 0);
  // Every URL and reason is stored once, and who-links-here is indexed again.
  EXPECT_EQ(QueryInt(out, "SELECT count(*) - count(DISTINCT url) FROM urls"), 0);
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM urls WHERE id NOT IN (SELECT url_id FROM link_rows)"), 0);
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM link_reasons"), 3);  // out_of_scope, duplicate, nofollow
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM sqlite_schema WHERE name = 'link_rows_url'"), 1);
  // Each page's links keep their order, and the pages' order: link ids rise with page ids.
  EXPECT_EQ(QueryText(out, "SELECT group_concat(to_url, ' ') FROM (SELECT * FROM " + LinksWithIds(kSchemaVersion) +
                               " ORDER BY link_id)"),
            "http://site.test/a http://site.test/b http://elsewhere.test/ "
            "http://site.test/dup http://site.test/a "
            "http://site.test/c http://site.test/ "
            "http://site.test/x http://site.test/y");
}

TEST_F(MergeTest, ErrorsSkippedAndRobotsAreMergedOnceEach) {
  ASSERT_OK(Merge({a_, b_}, out_));
  SqliteDb out = OpenReader(out_);
  // a's 500 on /dup went with its fetch; b's timeout points at the merged page.
  EXPECT_EQ(QueryRows(out, "SELECT e.url, e.kind, e.at, e.page_id = p.id FROM errors e "
                           "JOIN pages p ON p.url = e.url AND p.run_id = e.run_id"),
            (std::vector<std::string>{"http://site.test/broken|timeout|1004.0|1"}));
  EXPECT_EQ(QueryRows(out, "SELECT url, reason, detail FROM skipped WHERE run_id = 1 ORDER BY url"),
            (std::vector<std::string>{"http://site.test/private|robots|Disallow: /private",
                                      "http://site.test/secret|robots|Disallow: /secret"}));
  EXPECT_EQ(QueryRows(out, "SELECT origin, fetched_at FROM robots WHERE run_id = 1 ORDER BY origin"),
            (std::vector<std::string>{"http://other.test:80|1000.75", "http://site.test:80|999.0"}));
}

TEST_F(MergeTest, TheRunRowSumsTheWorkersAndNamesThem) {
  ASSERT_OK(Merge({a_, b_}, out_));
  SqliteDb a = OpenReader(a_);
  SqliteDb b = OpenReader(b_);
  const std::string a_started = QueryText(a, "SELECT started_at FROM runs WHERE id = 2");
  const std::string b_finished = QueryText(b, "SELECT finished_at FROM runs WHERE id = 1");
  SqliteDb out = OpenReader(out_);
  EXPECT_EQ(QueryText(out, "SELECT started_at FROM runs"), a_started);  // a began first
  EXPECT_EQ(QueryText(out, "SELECT finished_at FROM runs"), b_finished);  // b ended last
  EXPECT_EQ(QueryRows(out, "SELECT mode, seeds, options, worker, frontier, frontier_run, pages, errors, bytes, "
                           "url_normalization FROM runs"),
            (std::vector<std::string>{std::string("async|[\"http://site.test/\"]|{\"concurrency\":4}|a,b|") +
                                      test::kFrontier + "|7|6|2|400|whatwg"}));
  EXPECT_EQ(QueryInt(out, "SELECT abs(wall_seconds - (finished_at - started_at)) < 1e-9 FROM runs"), 1);
  EXPECT_EQ(QueryInt(out, "SELECT abs(pages_per_second - pages / wall_seconds) < 1e-6 FROM runs"), 1);

  const nlohmann::json summary = nlohmann::json::parse(QueryText(out, "SELECT summary FROM runs"));
  ASSERT_EQ(summary["merged_from"].size(), 2u) << summary.dump();
  EXPECT_EQ(summary["merged_from"][0],
            (nlohmann::json{{"file", a_}, {"worker", "a"}, {"run_id", 2}, {"pages", 3}}));
  EXPECT_EQ(summary["merged_from"][1],
            (nlohmann::json{{"file", b_}, {"worker", "b"}, {"run_id", 1}, {"pages", 3}}));
  EXPECT_EQ(summary["merged"]["pages"], 5);
  EXPECT_EQ(summary["merged"]["duplicate_pages"], 1);
}

// A worker of an older fanout keyed URLs by RFC 3986: its pages and the others' are not one set of
// keys, so they are not merged into one run, and the output is not written.
TEST_F(MergeTest, WorkersThatKeyedTheirUrlsByOtherRulesAreRefused) {
  {
    Result<SqliteDb> b = SqliteDb::Open(b_);
    ASSERT_OK(b);
    ASSERT_OK(b->Exec("UPDATE runs SET url_normalization = 'rfc3986'"));
  }
  Result<MergeStats> stats = Merge({a_, b_}, out_);
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("worker b normalised its URLs by rfc3986, worker a by whatwg"),
            std::string::npos)
      << stats.status().message();
  EXPECT_FALSE(std::filesystem::exists(out_));
}

TEST_F(MergeTest, TheInputsAreNotWritten) {
  const std::string a_before = ReadBytes(a_), b_before = ReadBytes(b_);
  ASSERT_OK(Merge({a_, b_}, out_));
  EXPECT_EQ(ReadBytes(a_), a_before);
  EXPECT_EQ(ReadBytes(b_), b_before);
}

TEST_F(MergeTest, AnExistingDatabaseGetsTheMergedRunAppended) {
  ASSERT_OK(Merge({a_, b_}, out_));
  Result<MergeStats> again = Merge({b_, a_}, out_);
  ASSERT_OK(again);
  EXPECT_EQ(again->run_id, 2);
  EXPECT_EQ(again->workers, "b,a");
  SqliteDb out = OpenReader(out_);
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM pages WHERE run_id = 1"), 5);
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM pages WHERE run_id = 2"), 5);
  EXPECT_EQ(Edges(out, "p.run_id = 1"), Edges(out, "p.run_id = 2"));
  EXPECT_EQ(QueryInt(out, "SELECT count(*) - count(DISTINCT url) FROM urls"), 0) << "URLs are interned by text";
}

TEST_F(MergeTest, AWorkerThatNeverFinishedLeavesTheMergedRunUnfinished) {
  const std::string c = dir_.File("c.db");
  {
    auto store = test::OpenWorkerStore(c);
    ASSERT_TRUE(store);
    ASSERT_OK(store->BeginRun(test::SharedRunInfo("c")));
    ASSERT_OK(store->AddPage(FetchedPage("/c", 1006), {Followed("http://site.test/d")}));
    ASSERT_OK(store->Close());  // killed: no FinishRun
  }
  Result<MergeStats> stats = Merge({a_, b_, c}, out_);
  ASSERT_OK(stats);
  EXPECT_FALSE(stats->finished);
  SqliteDb out = OpenReader(out_);
  // c's count is what it stored, as `fanout runs` would count it.
  EXPECT_EQ(QueryText(out, "SELECT coalesce(finished_at, '-') || ' ' || coalesce(wall_seconds, '-') || ' ' || "
                           "coalesce(pages_per_second, '-') || ' ' || pages || ' ' || worker FROM runs"),
            "- - - 7 a,b,c");
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM pages"), 6);
}

TEST_F(MergeTest, AWorkerRestartedAsANewRunHasBothOfItsRunsMerged) {
  {
    auto store = test::OpenWorkerStore(b_);
    ASSERT_TRUE(store);
    ASSERT_OK(store->BeginRun(test::SharedRunInfo("b")));
    ASSERT_OK(store->AddPage(FetchedPage("/late", 1010), {}));
    ASSERT_OK(store->FinishRun(test::Finished(1, 0)));
    ASSERT_OK(store->Close());
  }
  Result<MergeStats> stats = Merge({a_, b_}, out_);
  ASSERT_OK(stats);
  EXPECT_EQ(stats->runs, 3u);
  EXPECT_EQ(stats->workers, "a,b");
  EXPECT_EQ(stats->pages, 6);
}

TEST_F(MergeTest, WithoutRunTheOneSharedRunIsChosenAndWithItThatOne) {
  std::vector<MergeInput> inputs = Inputs({a_, b_});
  Result<SharedRun> run = ChooseSharedRun(inputs, std::nullopt);
  ASSERT_OK(run);
  EXPECT_EQ(run->frontier_run, 7);
  EXPECT_EQ(run->frontier, test::kFrontier);
  ASSERT_EQ(run->runs.size(), 2u);
  EXPECT_EQ(run->runs[0].input, 0u);
  EXPECT_EQ(run->runs[0].run_id, 2);  // a's first run is its own
  EXPECT_EQ(run->runs[1].run_id, 1);

  Result<SharedRun> seven = ChooseSharedRun(inputs, 7);
  ASSERT_OK(seven);
  EXPECT_EQ(seven->runs.size(), 2u);
  Result<SharedRun> eight = ChooseSharedRun(inputs, 8);
  ASSERT_FALSE(eight.ok());
  EXPECT_EQ(eight.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(eight.status().message(), "no input holds frontier run 8 (" + a_ + ": 7 (" + test::kFrontier + "); " +
                                          b_ + ": 7 (" + test::kFrontier + "))");
}

TEST_F(MergeTest, InputsOfTwoSharedRunsNeedRunAndThenNameTheFileWithout) {
  // b joins frontier run 8 as well: without --run the choice is the user's.
  {
    auto store = test::OpenWorkerStore(b_);
    ASSERT_TRUE(store);
    ASSERT_OK(store->BeginRun(test::SharedRunInfo("b", 8)));
    ASSERT_OK(store->AddPage(FetchedPage("/eight", 2000), {}));
    ASSERT_OK(store->FinishRun(test::Finished(1, 0)));
    ASSERT_OK(store->Close());
  }
  std::vector<MergeInput> inputs = Inputs({a_, b_});
  Result<SharedRun> none = ChooseSharedRun(inputs, std::nullopt);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
  const std::string f = test::kFrontier;
  EXPECT_EQ(none.status().message(), "the inputs hold more than one shared run; choose one with --run N (" + a_ +
                                         ": 7 (" + f + "); " + b_ + ": 7 (" + f + "), 8 (" + f + "))");
  EXPECT_OK(ChooseSharedRun(inputs, 7));
  Result<SharedRun> eight = ChooseSharedRun(inputs, 8);
  ASSERT_FALSE(eight.ok());
  EXPECT_EQ(eight.status().message(),
            "'" + a_ + "' holds no run of frontier run 8 (" + f + ") (it holds 7 (" + f + "))");
}

TEST_F(MergeTest, TheSameRunIdOfAnotherFrontierIsNotTheSameRun) {
  const std::string c = dir_.File("c.db");
  {
    auto store = test::OpenWorkerStore(c);
    ASSERT_TRUE(store);
    RunInfo elsewhere = test::SharedRunInfo("c");
    elsewhere.frontier = "postgresql://crawler@other.test/frontier";
    ASSERT_OK(store->BeginRun(elsewhere));
    ASSERT_OK(store->FinishRun(test::Finished(0, 0)));
    ASSERT_OK(store->Close());
  }
  std::vector<MergeInput> inputs = Inputs({a_, c});
  Result<SharedRun> seven = ChooseSharedRun(inputs, 7);
  ASSERT_FALSE(seven.ok());
  EXPECT_EQ(seven.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(seven.status().message(),
            "frontier run 7 is a run of more than one frontier (postgresql://crawler@db.test/frontier, "
            "postgresql://crawler@other.test/frontier); merge the workers of one at a time");
  Result<SharedRun> any = ChooseSharedRun(inputs, std::nullopt);
  ASSERT_FALSE(any.ok());
  EXPECT_EQ(any.status().message().rfind("the inputs hold more than one shared run; choose one with --run N", 0), 0u)
      << any.status().message();
}

TEST_F(MergeTest, AnInputWithNoSharedRunIsNamed) {
  const std::string solo = dir_.File("solo.db");
  test::WriteUnsharedRun(solo);
  std::vector<MergeInput> inputs = Inputs({a_, solo});
  Result<SharedRun> run = ChooseSharedRun(inputs, std::nullopt);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(run.status().message(),
            "'" + solo + "' holds no run of frontier run 7 (" + std::string(test::kFrontier) + ")");

  std::vector<MergeInput> only_solo = Inputs({solo});
  Result<SharedRun> nothing = ChooseSharedRun(only_solo, std::nullopt);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.status().message(), "no input holds a run of a shared frontier (" + solo + ": none)");
}

TEST_F(MergeTest, AnInputFromBeforeSharedFrontiersIsReadAndNamed) {
  const std::string old = dir_.File("old.db");
  {
    Result<SqliteDb> db = SqliteDb::Open(old);
    ASSERT_OK(db);
    ASSERT_OK(MigrateSchemaTo(*db, kSharedFrontierVersion - 1));
    ASSERT_OK(db->Exec("INSERT INTO runs (started_at, mode, seeds, options) VALUES (1, 'async', '[]', '{}')"));
  }
  std::vector<MergeInput> inputs = Inputs({a_, old});
  ASSERT_EQ(inputs[1].schema_version, 5);
  Result<SharedRun> run = ChooseSharedRun(inputs, std::nullopt);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(run.status().message(), "'" + old + "' holds no run of frontier run 7 (" + std::string(test::kFrontier) +
                                        ") (its schema version 5 is from before fanout had shared frontiers)");
}

TEST_F(MergeTest, AnotherProgramsDatabaseIsRefusedAndLeftAlone) {
  {
    Result<SqliteDb> db = SqliteDb::Open(out_);
    ASSERT_OK(db);
    ASSERT_OK(db->Exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')"));
  }
  const std::string before = ReadBytes(out_);
  Result<MergeStats> stats = Merge({a_, b_}, out_);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(stats.status().message().find("not a fanout database"), std::string::npos) << stats.status().message();
  EXPECT_EQ(ReadBytes(out_), before);
}

TEST_F(MergeTest, TheOutputCannotBeAnInput) {
  Result<MergeStats> stats = Merge({a_, b_}, b_);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), Status::Code::kInvalidArgument);
  SqliteDb b = OpenReader(b_);
  EXPECT_EQ(QueryInt(b, "SELECT count(*) FROM runs"), 1);
}

// An input that breaks while its last rows are read (its robots table is gone) fails the merge after
// everything else was written: a new output is then not there at all, and an existing one holds what
// it held.
TEST_F(MergeTest, AFailureHalfwayLeavesNothingBehind) {
  const std::string broken = dir_.File("broken.db");
  std::filesystem::copy_file(b_, broken);
  {
    Result<SqliteDb> db = SqliteDb::Open(broken);
    ASSERT_OK(db);
    ASSERT_OK(db->Exec("DROP TABLE robots"));
  }
  Result<MergeStats> fresh = Merge({a_, broken}, out_);
  ASSERT_FALSE(fresh.ok());
  EXPECT_NE(fresh.status().message().find("robots"), std::string::npos) << fresh.status().message();
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_NE(entry.path().filename().string().rfind("out.db", 0), 0u) << entry.path() << " was left behind";
  }

  ASSERT_OK(Merge({a_, b_}, out_));
  Result<MergeStats> existing = Merge({a_, broken}, out_);
  ASSERT_FALSE(existing.ok());
  SqliteDb out = OpenReader(out_);
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM pages"), 5);
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM link_rows"), 9);
  EXPECT_EQ(QueryInt(out, "SELECT count(*) FROM sqlite_schema WHERE name = 'link_rows_url'"), 1);
}

}  // namespace
}  // namespace fanout
