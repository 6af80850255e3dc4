// `fanout bench` end to end at a tiny size: its table, JSON, CSV and HTML report.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "parser/html_parser.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace fanout {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t Occurrences(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(BenchCommand, RunsEveryModeAndWritesJsonCsvAndHtml) {
  test::TempDir dir;
  test::ProcessResult r = test::RunProcess(
      {FANOUT_BINARY, "bench", "--pages", "40", "--latency", "10", "--concurrency", "1,4", "--sync-pages", "10",
       "--json", dir.File("b.json"), "--csv", dir.File("b.csv"), "--html", dir.File("b.html")},
      120000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Rows: mode, concurrency, pages crawled.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nasync +4 +40 "))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nsync +1 +10 "))) << r.out;

  nlohmann::json j = nlohmann::json::parse(Slurp(dir.File("b.json")));
  ASSERT_EQ(j["cells"].size(), 5u);  // sync once; threads and async at 1 and 4
  for (const auto& cell : j["cells"]) {
    for (const char* field : {"mode", "concurrency", "speedup", "efficiency", "cpu_seconds_per_1000_pages"}) {
      EXPECT_TRUE(cell.contains(field)) << field;
    }
    const auto& report = cell["report"];
    for (const char* field : {"pages", "wall_seconds", "pages_per_second", "max_in_flight", "phase_seconds",
                              "fetch_seconds", "peak_rss_kb", "cpu_user_seconds", "voluntary_switches"}) {
      EXPECT_TRUE(report.contains(field)) << field;
    }
    EXPECT_GT(report["pages_per_second"].get<double>(), 0);
  }
  EXPECT_DOUBLE_EQ(j["cells"][0]["speedup"].get<double>(), 1.0);  // sync against itself
  EXPECT_EQ(j["cells"][4]["mode"], "async");
  EXPECT_EQ(j["cells"][4]["report"]["max_in_flight"], 4);

  std::string csv = Slurp(dir.File("b.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);
  EXPECT_EQ(csv.rfind("mode,concurrency,pages,", 0), 0u);

  std::string html = Slurp(dir.File("b.html"));
  ParsedPage page = ParseHtml(html);
  EXPECT_EQ(page.errors, 0u) << "the report is not well-formed HTML";
  EXPECT_EQ(page.title, "fanout bench");
  EXPECT_EQ(Occurrences(html, "<svg"), 2u);       // throughput, and where the time went
  EXPECT_EQ(Occurrences(html, "<figure>"), 2u);
  // Self-contained: nothing to load (the SVG namespace URI is a name, not a fetch).
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
}

TEST(BenchCommand, BadOptionsAreUsageErrors) {
  test::ProcessResult r = test::RunProcess({FANOUT_BINARY, "bench", "--modes", "sync,turbo"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("turbo"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fanout
