// `fanout export` as a user runs it, on the database of a real crawl of the sample site; the
// output is read back the way another tool would read it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/lines.h"
#include "tests/support/sample_site_crawl.h"
#include "tests/support/status_matchers.h"
#include "tests/support/version4_copy.h"

namespace fanout {
namespace {

using test::Fanout;
using test::SplitLines;
using test::LineCount;

using ExportCommand = test::SampleSiteCrawl;
using Record = std::vector<std::string>;

// An RFC 4180 reader: records end with CRLF; a quoted field may hold commas, CR, LF and doubled
// quotes. Fails the test on anything else (a bare LF between records, text after a closing quote).
std::vector<Record> ReadCsv(const std::string& text) {
  std::vector<Record> records;
  Record record;
  std::string field;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      for (++i;; ++i) {
        if (i >= text.size()) {
          ADD_FAILURE() << "unterminated quoted field";
          return records;
        }
        if (text[i] == '"' && i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else if (text[i] == '"') {
          ++i;
          break;
        } else {
          field += text[i];
        }
      }
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '\r' && text[i] != '\n' && text[i] != '"') {
        field += text[i++];
      }
    }
    record.push_back(std::move(field));
    field.clear();
    if (i < text.size() && text[i] == ',') {
      ++i;
    } else if (text.compare(i, 2, "\r\n") == 0) {
      records.push_back(std::move(record));
      record.clear();
      i += 2;
    } else {
      ADD_FAILURE() << "bad CSV at byte " << i << ": " << text.substr(i, 20);
      return records;
    }
  }
  EXPECT_TRUE(record.empty()) << "the last record has no CRLF";
  return records;
}

TEST(Csv, TheTestsReaderReadsQuotedFields) {
  const std::vector<Record> r = ReadCsv("a,b,c\r\n1,\"x, \"\"y\"\"\r\nz\",\r\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1], (Record{"1", "x, \"y\"\r\nz", ""}));
}

TEST_F(ExportCommand, JsonLinesHasOneObjectPerPageWithTypedValues) {
  Crawl({"--max-pages", "4"});  // a second run: the default exports every run
  test::ProcessResult r = Fanout({"export", "--db", db_, "--format", "jsonl"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = SplitLines(r.out);
  EXPECT_EQ(static_cast<int64_t>(lines.size()), QueryInt(db_, "SELECT count(*) FROM pages"));
  bool saw_run_2 = false, saw_redirect = false;
  for (const std::string& line : lines) {
    const nlohmann::json page = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(page.is_object()) << line;
    EXPECT_TRUE(page["status"].is_number_integer()) << line;
    EXPECT_TRUE(page["fetched_at"].is_number_float()) << line;
    EXPECT_TRUE(page["url"].is_string()) << line;
    EXPECT_TRUE(page.contains("final_url")) << line;
    saw_run_2 = saw_run_2 || page["run_id"] == 2;
    if (page["url"] == Url("old-news.html") && page["run_id"] == 1) {
      saw_redirect = true;
      EXPECT_EQ(page["final_url"], Url("news/index.html"));
      EXPECT_EQ(page["redirects"], 1);
    } else if (page["redirects"] == 0) {
      EXPECT_TRUE(page["final_url"].is_null()) << line;  // NULL is null, not ""
    }
  }
  EXPECT_TRUE(saw_run_2);
  EXPECT_TRUE(saw_redirect);
  // Keys come in the table's column order.
  EXPECT_EQ(lines.at(0).rfind("{\"id\":1,\"run_id\":1,\"url\":", 0), 0u) << lines.at(0);
}

TEST_F(ExportCommand, OneRunsLinksComeWithTheUrlOfThePageTheyWereFoundOn) {
  Crawl({"--max-pages", "2"});
  test::ProcessResult r = Fanout({"export", "--db", db_, "--format", "jsonl", "--what", "links", "--run", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = SplitLines(r.out);
  EXPECT_EQ(static_cast<int64_t>(lines.size()),
            QueryInt(db_, "SELECT count(*) FROM links l JOIN pages p ON p.id = l.page_id WHERE p.run_id = 1"));
  bool saw_staff = false;
  for (const std::string& line : lines) {
    const nlohmann::json link = nlohmann::json::parse(line);
    EXPECT_EQ(link["run_id"], 1) << line;
    if (link["to_url"] == Url("private/staff.html")) {
      saw_staff = true;
      EXPECT_EQ(link["from_url"], Url("about.html"));
      EXPECT_EQ(link["followed"], 1);
      EXPECT_TRUE(link["reason"].is_null());
    }
  }
  EXPECT_TRUE(saw_staff);
}

TEST_F(ExportCommand, CsvQuotesFieldsWithCommasQuotesAndNewlines) {
  // No page of the sample site has such a title: give one page a title that needs every rule.
  const std::string title = "Say \"hello\", then\r\nleave, quietly\nplease";
  std::string quoted_sql;
  for (char c : title) quoted_sql += c == '\'' ? std::string("''") : std::string(1, c);
  const std::string db =
      CopyWith("odd.db", "UPDATE pages SET title = '" + quoted_sql + "' WHERE url = '" + Url("about.html") + "'");
  test::ProcessResult r = Fanout({"export", "--db", db, "--format", "csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<Record> records = ReadCsv(r.out);
  ASSERT_FALSE(records.empty());
  const Record& header = records[0];
  EXPECT_EQ(header.at(0), "id");
  EXPECT_EQ(header.at(1), "run_id");
  EXPECT_EQ(static_cast<int64_t>(records.size()) - 1, QueryInt(db, "SELECT count(*) FROM pages"));
  const auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  bool saw_title = false;
  for (size_t i = 1; i < records.size(); ++i) {
    ASSERT_EQ(records[i].size(), header.size()) << "record " << i;
    if (records[i][column("url")] == Url("about.html")) {
      saw_title = true;
      EXPECT_EQ(records[i][column("title")], title);
      EXPECT_EQ(records[i][column("status")], "200");
      EXPECT_EQ(records[i][column("final_url")], "");  // NULL is an empty field
    }
  }
  EXPECT_TRUE(saw_title);
}

TEST_F(ExportCommand, SkippedRowsSayWhyAndTheOutputFileHoldsWhatStdoutWould) {
  const std::string file = dir_.File("skipped.csv");
  test::ProcessResult to_file =
      Fanout({"export", "--db", db_, "--format", "csv", "--what", "skipped", "--output", file});
  EXPECT_EQ(to_file.exit_code, 0) << to_file.err;
  EXPECT_TRUE(to_file.out.empty()) << to_file.out;
  test::ProcessResult to_stdout = Fanout({"export", "--db", db_, "--format", "csv", "--what", "skipped"});
  EXPECT_EQ(Contents(file), to_stdout.out);
  const std::vector<Record> records = ReadCsv(to_stdout.out);
  ASSERT_EQ(records.size(), 2u) << to_stdout.out;  // the header and /private/staff.html
  EXPECT_EQ(records[0], (Record{"id", "run_id", "url", "reason", "detail", "found_on", "depth", "at"}));
  EXPECT_EQ(records[1][2], Url("private/staff.html"));
  EXPECT_EQ(records[1][3], "robots");
  EXPECT_EQ(records[1][4], "Disallow: /private/ (line 4)");
  EXPECT_EQ(records[1][5], Url("about.html"));
}

TEST_F(ExportCommand, ErrorsAreExportedToo) {
  test::ProcessResult r = Fanout({"export", "--db", db_, "--format", "jsonl", "--what", "errors"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const nlohmann::json error = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(error["url"], Url("catalogue/missing-book.html"));
  EXPECT_EQ(error["kind"], "http");
  EXPECT_EQ(error["message"], "HTTP 404");
}

// A database from before compact links (version 4: links a table of text) is read as it is, and
// exports exactly what the same rows export from the current layout.
// An export of pages without the columns schema version 7 added (the archive's index, NULL in a
// crawl without --warc), which a version 4 file does not have.
std::string WithoutArchiveColumns(std::string out, const std::string& what, const std::string& format) {
  if (what != "pages") return out;
  auto replace_all = [&](const std::string& text, const std::string& by) {
    for (size_t at = 0; (at = out.find(text, at)) != std::string::npos; at += by.size()) out.replace(at, text.size(), by);
  };
  if (format == "jsonl") {
    replace_all(R"(,"warc_file":null,"warc_offset":null,"warc_length":null,"warc_type":null,"warc_date":null,)"
                R"("payload_digest":null)",
                "");
  } else {
    // The header, then each row's empty fields.
    replace_all(",warc_file,warc_offset,warc_length,warc_type,warc_date,payload_digest\r\n", "\r\n");
    replace_all(",,,,,,\r\n", "\r\n");
  }
  return out;
}

TEST_F(ExportCommand, AVersionFourDatabaseExportsTheSameBytes) {
  Crawl({"--new-run"});  // two runs, so that --run picks
  const std::string old = dir_.File("v4.db");
  ASSERT_OK(test::CopyAsVersion4(db_, old));
  for (const char* what : {"pages", "links", "errors", "skipped"}) {
    for (const char* format : {"csv", "jsonl"}) {
      for (std::vector<std::string> run : {std::vector<std::string>{}, std::vector<std::string>{"--run", "2"}}) {
        std::vector<std::string> args = {"export", "--format", format, "--what", what};
        args.insert(args.end(), run.begin(), run.end());
        args.insert(args.end(), {"--db", db_});
        test::ProcessResult now = Fanout(args);
        args.back() = old;
        test::ProcessResult before = Fanout(args);
        EXPECT_EQ(now.exit_code, 0) << now.err;
        EXPECT_EQ(before.exit_code, 0) << before.err;
        EXPECT_FALSE(now.out.empty()) << what << " " << format;
        EXPECT_EQ(before.out, WithoutArchiveColumns(now.out, what, format)) << what << " " << format << " " << run.size();
      }
    }
  }
  EXPECT_EQ(QueryInt(old, "SELECT value FROM meta WHERE key = 'schema_version'"), 4) << "not migrated";
}

TEST_F(ExportCommand, NeverWritesTheDatabase) {
  const std::string before = Contents(db_);
  for (const char* what : {"pages", "links", "errors", "skipped"}) {
    EXPECT_EQ(Fanout({"export", "--db", db_, "--format", "csv", "--what", what}).exit_code, 0) << what;
  }
  EXPECT_EQ(Contents(db_), before);
}

TEST_F(ExportCommand, BadInputIsOneClearLineAndADocumentedExitCode) {
  const std::string old =
      CopyWith("v2.db", "DROP TABLE skipped; UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string words;
  };
  const Case cases[] = {
      {{"export", "--db", db_}, 2, "--format is required"},
      {{"export", "--db", db_, "--format", "xml"}, 2, "--format"},
      {{"export", "--db", db_, "--format", "csv", "--what", "robots"}, 2, "--what"},
      {{"export", "--db", db_, "--format", "csv", "--run", "7"}, 2, "no run 7"},
      {{"export", "--db", db_, "--format", "csv", "--output", db_}, 2, "is the database itself"},
      {{"export", "--db", db_, "--format", "csv", "--output", dir_.File("no/such/dir/out.csv")}, 3, "cannot write"},
      {{"export", "--db", dir_.File("missing.db"), "--format", "csv"}, 3, "no such database"},
      {{"export", "--db", old, "--format", "csv", "--what", "skipped"}, 4, "schema version 2"},
  };
  for (const Case& c : cases) {
    test::ProcessResult r = Fanout(c.args);
    std::string cmd;
    for (const auto& a : c.args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, c.code) << cmd << "\n" << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << cmd << "\n" << r.err;
    EXPECT_NE(r.err.find(c.words), std::string::npos) << cmd << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << cmd;
  }
  EXPECT_GT(Contents(db_).size(), 0u) << "--output never truncates the database";
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM runs"), 1);
}

}  // namespace
}  // namespace fanout
