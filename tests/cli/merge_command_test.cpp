// `fanout merge` as a user runs it, on worker databases written by the real Store
// (tests/support/worker_databases.h tells their story); then `fanout why`, `runs` and `export` on
// what it wrote.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "storage/schema.h"
#include "storage/sqlite.h"
#include "tests/support/fanout_binary.h"
#include "tests/support/lines.h"
#include "tests/support/sqlite_query.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/worker_databases.h"

namespace fanout {
namespace {

using test::Fanout;
using test::SplitLines;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

using test::QueryInt;

class MergeCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = dir_.File("a.db");
    b_ = dir_.File("b.db");
    out_ = dir_.File("out.db");
    test::WriteWorkerA(a_);
    test::WriteWorkerB(b_);
  }

  // A failed merge: one line on stderr, the exit code expected, and no output file.
  void ExpectRefused(const test::ProcessResult& r, int exit_code, const std::string& says) {
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    EXPECT_EQ(SplitLines(r.err).size(), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("fanout merge: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(std::filesystem::exists(out_));
  }

  test::TempDir dir_;
  std::string a_, b_, out_;
};

TEST_F(MergeCommand, MergesTheWorkersAndSaysWhatItWrote) {
  test::ProcessResult r = Fanout({"merge", out_, a_, b_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(SplitLines(r.err).size(), 1u) << r.err;
  for (const std::string& part : {std::string("merged 2 runs of frontier run 7 (") + test::kFrontier + ") by a,b",
                                  "into run 1 of " + out_, std::string("5 pages, 9 links, 1 error"),
                                  std::string("1 page fetched by two workers kept once, as first fetched "
                                              "(1 link and 1 error of the later fetches dropped)")}) {
    EXPECT_NE(r.err.find(part), std::string::npos) << part << "\n" << r.err;
  }
  EXPECT_EQ(QueryInt(out_, "SELECT count(*) FROM pages"), 5);
}

TEST_F(MergeCommand, RunsWhyAndExportSeeOneRunWithEveryPage) {
  ASSERT_EQ(Fanout({"merge", out_, a_, b_}).exit_code, 0);

  test::ProcessResult runs = Fanout({"runs", "--db", out_});
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  const std::vector<std::string> lines = SplitLines(runs.out);
  ASSERT_EQ(lines.size(), 3u) << runs.out;  // header, rule, one run
  // Six fetches by the workers (one URL twice), two of them errors; both finished.
  EXPECT_TRUE(std::regex_match(lines[2], std::regex("  1  .*  async  http://site\\.test/ +6 +2 +[0-9.]+ +[0-9.]+")))
      << lines[2];

  // /dup: b's fetch (a 200 at depth 2), found on b's /b; a's 500 is gone.
  test::ProcessResult why = Fanout({"why", "http://site.test/dup", "--db", out_});
  ASSERT_EQ(why.exit_code, 0) << why.err;
  EXPECT_EQ(why.out,
            "http://site.test/dup in run 1:\n"
            "  fetched (depth 2): 200, text/html, 100 bytes\n"
            "  title: \"Page /dup\"\n"
            "  found on http://site.test/b (depth 1), followed\n");
  // A page of a's is found on a page of b's, and the other way round: one run.
  test::ProcessResult why_a = Fanout({"why", "http://site.test/a", "--db", out_});
  ASSERT_EQ(why_a.exit_code, 0) << why_a.err;
  EXPECT_NE(why_a.out.find("found on http://site.test/ (depth 0), followed"), std::string::npos) << why_a.out;
  EXPECT_NE(why_a.out.find("found on http://site.test/b (depth 1), not followed: duplicate"), std::string::npos)
      << why_a.out;
  test::ProcessResult why_secret = Fanout({"why", "http://site.test/secret", "--db", out_});
  EXPECT_NE(why_secret.out.find("not fetched: robots (Disallow: /secret)"), std::string::npos) << why_secret.out;

  test::ProcessResult pages = Fanout({"export", "--db", out_, "--format", "jsonl"});
  ASSERT_EQ(pages.exit_code, 0) << pages.err;
  const std::vector<std::string> rows = SplitLines(pages.out);
  ASSERT_EQ(rows.size(), 5u) << pages.out;
  for (const std::string& row : rows) EXPECT_NE(row.find("\"run_id\":1,"), std::string::npos) << row;
  for (const char* url : {"/\"", "/a\"", "/b\"", "/dup\"", "/broken\""}) {
    EXPECT_EQ(std::count_if(rows.begin(), rows.end(),
                            [&](const std::string& row) {
                              return row.find(std::string("\"url\":\"http://site.test") + url) != std::string::npos;
                            }),
              1)
        << url;
  }
  test::ProcessResult links = Fanout({"export", "--db", out_, "--format", "csv", "--what", "links", "--run", "1"});
  ASSERT_EQ(links.exit_code, 0) << links.err;
  EXPECT_EQ(SplitLines(links.out).size(), 1u + 9u) << links.out;  // the header, nine links
  test::ProcessResult errors = Fanout({"export", "--db", out_, "--format", "csv", "--what", "errors"});
  ASSERT_EQ(errors.exit_code, 0) << errors.err;
  EXPECT_EQ(SplitLines(errors.out).size(), 1u + 1u) << errors.out;
}

TEST_F(MergeCommand, RunChoosesAmongSharedRuns) {
  ASSERT_EQ(Fanout({"merge", out_, a_, b_, "--run", "7"}).exit_code, 0);
  EXPECT_EQ(QueryInt(out_, "SELECT frontier_run FROM runs"), 7);
}

TEST_F(MergeCommand, InputsWithNoCommonRunAreExitCode1AndNamed) {
  const std::string solo = dir_.File("solo.db");
  test::WriteUnsharedRun(solo);
  ExpectRefused(Fanout({"merge", out_, a_, solo}), 1, "'" + solo + "' holds no run of frontier run 7");
}

TEST_F(MergeCommand, ARunAnInputDoesNotHoldIsAUsageError) {
  ExpectRefused(Fanout({"merge", out_, a_, b_, "--run", "8"}), 2, "no input holds frontier run 8");
}

TEST_F(MergeCommand, AMissingInputIsExitCode3) {
  const std::string missing = dir_.File("missing.db");
  ExpectRefused(Fanout({"merge", out_, a_, missing}), 3, "no such database '" + missing + "'");
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST_F(MergeCommand, AnInputThatIsNotAFanoutDatabaseIsExitCode4) {
  const std::string text = dir_.File("notes.txt");
  std::ofstream(text) << "not a database at all, just some text that is long enough to be a header\n";
  ExpectRefused(Fanout({"merge", out_, a_, text}), 4, text);

  const std::string other = dir_.File("other.db");
  {
    Result<SqliteDb> db = SqliteDb::Open(other);
    ASSERT_OK(db);
    ASSERT_OK(db->Exec("CREATE TABLE notes (text TEXT)"));
  }
  ExpectRefused(Fanout({"merge", out_, other, b_}), 4, "not a fanout crawl database");

  const std::string newer = dir_.File("newer.db");
  std::filesystem::copy_file(b_, newer);
  {
    Result<SqliteDb> db = SqliteDb::Open(newer);
    ASSERT_OK(db);
    ASSERT_TRUE(db->Exec("UPDATE meta SET value = '" + std::to_string(kSchemaVersion + 1) +
                         "' WHERE key = 'schema_version'")
                    .ok());
  }
  ExpectRefused(Fanout({"merge", out_, a_, newer}), 4, "upgrade fanout");
}

TEST_F(MergeCommand, AnOutputThatIsAnotherProgramsDatabaseIsExitCode4AndLeftAlone) {
  {
    Result<SqliteDb> db = SqliteDb::Open(out_);
    ASSERT_OK(db);
    ASSERT_OK(db->Exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')"));
  }
  const std::string before = ReadBytes(out_);
  test::ProcessResult r = Fanout({"merge", out_, a_, b_});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(SplitLines(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("not a fanout database"), std::string::npos) << r.err;
  EXPECT_EQ(ReadBytes(out_), before);
}

TEST_F(MergeCommand, AnOutputThatIsAnInputOrAnInputGivenTwiceIsAUsageError) {
  const std::string before = ReadBytes(b_);
  test::ProcessResult r = Fanout({"merge", b_, a_, b_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "fanout merge: the output '" + b_ + "' is one of the inputs\n");
  EXPECT_EQ(ReadBytes(b_), before);
  ExpectRefused(Fanout({"merge", out_, a_, b_, a_}), 2, "'" + a_ + "' is given twice");
}

TEST_F(MergeCommand, NeedsAnOutputAndAnInput) {
  test::ProcessResult r = Fanout({"merge", out_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out_));
}

}  // namespace
}  // namespace fanout
