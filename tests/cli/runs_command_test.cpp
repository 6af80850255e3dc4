// `fanout runs` as a user runs it, on the database of real crawls of the sample site.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/lines.h"
#include "tests/support/sample_site_crawl.h"

namespace fanout {
namespace {

using test::Fanout;
using test::SplitLines;

using RunsCommand = test::SampleSiteCrawl;

TEST_F(RunsCommand, ListsEveryRunWithItsCounts) {
  Crawl({"--max-pages", "3"});
  test::ProcessResult r = Fanout({"runs", "--db", db_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;  // header, rule, two runs
  for (const char* column : {"run", "started", "mode", "seeds", "pages", "errors", "wall s", "pages/s"}) {
    EXPECT_NE(lines[0].find(column), std::string::npos) << column << "\n" << r.out;
  }
  const int64_t pages = QueryInt(db_, "SELECT count(*) FROM pages WHERE run_id = 1");
  // run, local start time, mode, seed, pages, errors (the 404), wall seconds, pages/s.
  const std::string seed = std::regex_replace(Url(""), std::regex("[.]"), "\\.");
  const std::regex first("  1  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  sync  " + seed + " +" +
                         std::to_string(pages) + " +1 +[0-9.]+ +[0-9.]+");
  EXPECT_TRUE(std::regex_match(lines[2], first)) << lines[2];
  const std::regex second("  2  .*  sync  .* +3 +0 +[0-9.]+ +[0-9.]+");
  EXPECT_TRUE(std::regex_match(lines[3], second)) << lines[3];
  EXPECT_EQ(r.out.find("unfinished"), std::string::npos) << r.out;
}

TEST_F(RunsCommand, MarksARunThatNeverFinishedAndCountsWhatItStored) {
  // What an interrupted crawl leaves: a run with no end and no counts of its own.
  const std::string cut = CopyWith("cut.db", R"sql(
    UPDATE runs SET finished_at = NULL, pages = NULL, errors = NULL, wall_seconds = NULL,
                    pages_per_second = NULL, summary = NULL)sql");
  test::ProcessResult r = Fanout({"runs", "--db", cut});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  const int64_t pages = QueryInt(cut, "SELECT count(*) FROM pages");
  EXPECT_TRUE(std::regex_match(lines[2], std::regex(".* " + std::to_string(pages) + " +1 +- +-  unfinished")))
      << lines[2];
}

TEST_F(RunsCommand, SaysSoWhenThereAreNoRuns) {
  const std::string empty = CopyWith("empty.db", "DELETE FROM link_rows; DELETE FROM errors; DELETE FROM skipped; "
                                                 "DELETE FROM robots; DELETE FROM pages; DELETE FROM runs");
  test::ProcessResult r = Fanout({"runs", "--db", empty});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, empty + " has no runs yet\n");
}

TEST_F(RunsCommand, AMissingDatabaseIsExitCode3) {
  test::ProcessResult r = Fanout({"runs", "--db", dir_.File("nothing.db")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "fanout runs: no such database '" + dir_.File("nothing.db") + "'\n");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("nothing.db")));
}

TEST_F(RunsCommand, NeverWritesTheDatabase) {
  const std::string before = Contents(db_);
  EXPECT_EQ(Fanout({"runs", "--db", db_}).exit_code, 0);
  EXPECT_EQ(Contents(db_), before);
}

}  // namespace
}  // namespace fanout
