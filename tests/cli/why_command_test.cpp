// `fanout why` as a user runs it, on the database of a real crawl of the sample site.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/lines.h"
#include "tests/support/sample_site_crawl.h"
#include "tests/support/status_matchers.h"
#include "tests/support/version4_copy.h"

namespace fanout {
namespace {

using test::Fanout;
using test::LineCount;

using WhyCommand = test::SampleSiteCrawl;

bool Has(const std::string& text, const std::string& words) { return text.find(words) != std::string::npos; }

TEST_F(WhyCommand, TellsARobotsRefusalWithItsRuleAndThePageItWasFoundOn) {
  test::ProcessResult r = Fanout({"why", Url("private/staff.html"), "--db", db_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, Url("private/staff.html") + " in run 1:\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "  not fetched: robots (Disallow: /private/ (line 4))\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "  found on " + Url("about.html") + " (depth 1), followed\n")) << r.out;
  EXPECT_FALSE(Has(r.out, "fetched (")) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(WhyCommand, TellsAFetchedPageWithItsStatusTitleAndWhereItWasFound) {
  test::ProcessResult r = Fanout({"why", Url("about.html"), "--db", db_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "  fetched (depth 1): 200, text/html")) << r.out;
  EXPECT_TRUE(Has(r.out, "  title: \"About us — Harbor Town Library\" (decoded from utf-8)\n")) << r.out;
  // Found by the home page first; every other page's nav link was a duplicate by then.
  EXPECT_TRUE(Has(r.out, "  found on " + Url("") + " (depth 0), followed\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "not followed: duplicate\n")) << r.out;
  // The help page that says nofollow is listed before the many duplicates.
  EXPECT_TRUE(Has(r.out, "  found on " + Url("help/old-links.html") + " (depth 2), not followed: nofollow\n"))
      << r.out;
  // Linked from every page: the first ten are shown, the rest counted, and --all shows them all.
  EXPECT_TRUE(Has(r.out, " more pages (--all lists them)\n")) << r.out;
  test::ProcessResult all = Fanout({"why", Url("about.html"), "--db", db_, "--all"});
  const int64_t linking_pages = QueryInt(
      db_, "SELECT count(DISTINCT l.page_id) FROM links l WHERE l.to_url = '" + Url("about.html") + "'");
  EXPECT_GT(linking_pages, 10);
  int found_on = 0;
  for (size_t at = 0; (at = all.out.find("  found on http", at)) != std::string::npos; ++at) ++found_on;
  EXPECT_EQ(found_on, linking_pages) << all.out;
}

TEST_F(WhyCommand, ShowsARedirectHopByHop) {
  test::ProcessResult r = Fanout({"why", Url("old-news.html"), "--db", db_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "  redirects followed: 1\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "    1. 301 " + Url("old-news.html") + " -> " + Url("news/index.html") + "\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "  final URL: " + Url("news/index.html") + "\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "  found on " + Url("about.html") + " (depth 1), followed\n")) << r.out;

  // The target's own story says how it was reached.
  test::ProcessResult target = Fanout({"why", Url("news/index.html"), "--db", db_});
  EXPECT_EQ(target.exit_code, 0) << target.err;
  EXPECT_TRUE(Has(target.out, "  reached by redirect: the final URL of " + Url("old-news.html") + " (200)\n"))
      << target.out;
}

TEST_F(WhyCommand, TellsABrokenLinkWithItsError) {
  test::ProcessResult r = Fanout({"why", Url("catalogue/missing-book.html"), "--db", db_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "  fetched (depth 3): 404, ")) << r.out;
  EXPECT_TRUE(Has(r.out, "  error: http: HTTP 404\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "  found on " + Url("catalogue/fiction/classics/index.html") + " (depth 2), followed\n"))
      << r.out;
}

TEST_F(WhyCommand, NormalisesTheUrlAsTheCrawlerDoes) {
  const std::string messy = "HTTP://127.0.0.1:" + std::to_string(server_->port()) + "/news/../about.html#team";
  test::ProcessResult r = Fanout({"why", messy, "--db", db_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, Url("about.html") + " in run 1:\n")) << r.out;
}

TEST_F(WhyCommand, LooksUpALinkItCouldNotFollowAsWritten) {
  test::ProcessResult r = Fanout({"why", "mailto:desk@harbortown-library.example", "--db", db_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "  found on " + Url("contact.html") + " (depth 1), not followed: not_http\n")) << r.out;
}

TEST_F(WhyCommand, AUrlNeverSeenIsExitCode1AndOneLine) {
  test::ProcessResult r = Fanout({"why", Url("no-such-page.html"), "--db", db_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err, "fanout why: " + Url("no-such-page.html") + " never seen in run 1\n");
}

TEST_F(WhyCommand, ReadsTheLatestRunUnlessToldWhich) {
  Crawl({"--max-pages", "1"});  // run 2: the home page only; its links queued and never fetched
  test::ProcessResult latest = Fanout({"why", Url("about.html"), "--db", db_});
  EXPECT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_TRUE(Has(latest.out, Url("about.html") + " in run 2:\n")) << latest.out;
  EXPECT_TRUE(Has(latest.out, "  not fetched: queued, but the run stopped first (--max-pages)\n")) << latest.out;
  EXPECT_TRUE(Has(latest.out, "  found on " + Url("") + " (depth 0), followed\n")) << latest.out;

  test::ProcessResult first = Fanout({"why", Url("about.html"), "--db", db_, "--run", "1"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(Has(first.out, "  fetched (depth 1): 200")) << first.out;

  test::ProcessResult staff = Fanout({"why", Url("private/staff.html"), "--db", db_});
  EXPECT_EQ(staff.exit_code, 1);
  EXPECT_TRUE(Has(staff.err, "never seen in run 2")) << staff.err;
}

TEST_F(WhyCommand, ReadsAnOlderSchemaAsItIsAndLeavesItSo) {
  // Version 2 had no skipped table and no attempts, redirect_chain or charset columns.
  const std::string old = CopyWith("v2.db", R"sql(
    ALTER TABLE pages DROP COLUMN attempts;
    ALTER TABLE pages DROP COLUMN redirect_chain;
    ALTER TABLE pages DROP COLUMN charset;
    DROP TABLE skipped;
    DROP TABLE robots;
    UPDATE meta SET value = '2' WHERE key = 'schema_version';)sql");
  test::ProcessResult r = Fanout({"why", Url("old-news.html"), "--db", old});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Has(r.out, "  redirects followed: 1\n")) << r.out;
  EXPECT_TRUE(Has(r.out, "  final URL: " + Url("news/index.html") + "\n")) << r.out;
  EXPECT_EQ(QueryInt(old, "SELECT value FROM meta WHERE key = 'schema_version'"), 2) << "not migrated";
}

TEST_F(WhyCommand, TellsTheSameStoryFromAVersionFourDatabase) {
  const std::string old = dir_.File("v4.db");
  ASSERT_OK(test::CopyAsVersion4(db_, old));
  for (const char* path : {"about.html", "private/staff.html", "old-news.html", "news/index.html",
                           "catalogue/missing-book.html", "nowhere.html"}) {
    test::ProcessResult now = Fanout({"why", Url(path), "--db", db_, "--all"});
    test::ProcessResult before = Fanout({"why", Url(path), "--db", old, "--all"});
    EXPECT_EQ(before.exit_code, now.exit_code) << path;
    EXPECT_EQ(before.out, now.out) << path;
    EXPECT_EQ(before.err, now.err) << path;
  }
  EXPECT_EQ(QueryInt(old, "SELECT value FROM meta WHERE key = 'schema_version'"), 4) << "not migrated";
}

TEST_F(WhyCommand, NeverWritesTheDatabase) {
  const std::string before = Contents(db_);
  for (const char* path : {"about.html", "private/staff.html", "nowhere.html"}) {
    (void)Fanout({"why", Url(path), "--db", db_});
  }
  EXPECT_EQ(Contents(db_), before);
}

TEST_F(WhyCommand, BadInputIsOneClearLineAndADocumentedExitCode) {
  std::ofstream(dir_.File("notes.txt")) << "not a database, just some notes that are long enough for a header\n";
  const std::string newer = CopyWith("newer.db", "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  const std::string other = CopyWith("other.db", "DROP TABLE meta");
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string words;
  };
  const std::string url = Url("about.html");
  const Case cases[] = {
      {{"why", url, "--db", dir_.File("missing.db")}, 3, "no such database"},
      {{"why", url, "--db", dir_.File("notes.txt")}, 4, "not a usable SQLite database"},
      {{"why", url, "--db", dir_.path().string()}, 4, dir_.path().string()},
      {{"why", url, "--db", newer}, 4, "schema version 99 is newer than this fanout"},
      {{"why", url, "--db", other}, 4, "not a fanout crawl database"},
      {{"why", url, "--db", db_, "--run", "9"}, 2, "no run 9"},
      {{"why", url, "--db", db_, "--run", "0"}, 2, "--run"},
      {{"why", "--db", db_}, 2, "url is required"},
      {{"why", url, "--db", db_, "--bogus"}, 2, "--bogus"},
  };
  for (const Case& c : cases) {
    test::ProcessResult r = Fanout(c.args);
    std::string cmd;
    for (const auto& a : c.args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, c.code) << cmd << "\n" << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << cmd << "\n" << r.err;
    EXPECT_TRUE(Has(r.err, c.words)) << cmd << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << cmd << "\n" << r.out;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.File("missing.db"))) << "a read-only command creates no database";
}

}  // namespace
}  // namespace fanout
