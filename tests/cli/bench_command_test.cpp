// `fanout bench` end to end at a tiny size: its table, JSON, CSV and HTML report, and --vs rows
// for other crawlers' commands.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "parser/html_parser.h"
#include "tests/support/lines.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace fanout {
namespace {

using test::LineCount;

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
  EXPECT_EQ(LineCount(csv), 6);
  EXPECT_EQ(csv.rfind("mode,concurrency,pages,", 0), 0u);

  std::string html = Slurp(dir.File("b.html"));
  ParsedPage page = ParseHtml(html, {.parser = HtmlParser::kGumbo});  // the tree counts parse errors
  EXPECT_EQ(page.errors, 0u) << "the report is not well-formed HTML";
  EXPECT_EQ(page.title, "fanout bench");
  // Throughput, CPU, RSS, where the time went, and fetches in flight over time for each of the 5 cells.
  EXPECT_EQ(Occurrences(html, "data-chart="), 9u);
  EXPECT_EQ(Occurrences(html, "<figure"), 9u);
  EXPECT_EQ(Occurrences(html, "data-series=\"ideal: latency-bound\""), 1u);
  // Self-contained: nothing to load (the SVG namespace URI is a name, not a fetch).
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
}

TEST(BenchCommand, BadOptionsAreUsageErrors) {
  test::ProcessResult r = test::RunProcess({FANOUT_BINARY, "bench", "--modes", "sync,turbo"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("turbo"), std::string::npos) << r.err;
}

// A bench as small as it gets: one async cell of a 30-page site at no latency, then the --vs rows.
std::vector<std::string> TinyBench(std::vector<std::string> more) {
  std::vector<std::string> args = {FANOUT_BINARY, "bench",         "--pages",   "30", "--modes",
                                   "async",       "--concurrency", "4",         "--latency", "0"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The JSON cell of the row labelled `mode`, or null.
nlohmann::json CellOf(const nlohmann::json& bench, const std::string& mode) {
  for (const auto& cell : bench["cells"]) {
    if (cell["mode"] == mode) return cell;
  }
  return nullptr;
}

TEST(BenchCommand, VsCommandIsARowWhosePagesTheServerCounted) {
  test::TempDir dir;
  // Five pages of the synthetic site (/ and the root directory's p3, p6, p9, p12), then robots.txt
  // (answered 200, but not a page) and a missing page (404): the server must count 5.
  const std::string fetch_five =
      "for p in '' p3.html p6.html p9.html p12.html robots.txt missing.html; do "
      "curl -s -o /dev/null {url}$p || exit 1; done";
  test::ProcessResult r = test::RunProcess(
      TinyBench({"--vs", fetch_five, "--vs-name", "fetch5", "--json", dir.File("b.json"), "--csv", dir.File("b.csv"),
                 "--html", dir.File("b.html")}),
      60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Mode, no concurrency, 5 pages, ..., and the status column that --vs adds.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nfetch5 +- +5 .* ok\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nasync +4 +30 .* ok\n"))) << r.out;

  nlohmann::json j = nlohmann::json::parse(Slurp(dir.File("b.json")));
  ASSERT_EQ(j["cells"].size(), 2u);
  const nlohmann::json vs = CellOf(j, "fetch5");
  ASSERT_FALSE(vs.is_null()) << j.dump(2);
  EXPECT_TRUE(vs["concurrency"].is_null());
  EXPECT_EQ(vs["report"]["pages"], 5);
  EXPECT_EQ(vs["report"]["requests"], 7);  // every request the server answered, robots.txt and the 404 too
  EXPECT_GT(vs["report"]["pages_per_second"].get<double>(), 0);
  for (const char* field : {"wall_seconds", "cpu_user_seconds", "cpu_system_seconds", "peak_rss_kb",
                            "voluntary_switches", "involuntary_switches", "max_in_flight"}) {
    EXPECT_TRUE(vs["report"].contains(field)) << field;
  }
  EXPECT_GT(vs["report"]["peak_rss_kb"].get<int64_t>(), 0);  // wait4's rusage of the command
  EXPECT_EQ(vs["external"]["command"], fetch_five);
  EXPECT_EQ(vs["external"]["status"], "ok");
  EXPECT_EQ(vs["external"]["exit_code"], 0);

  const std::string csv = Slurp(dir.File("b.csv"));
  EXPECT_NE(csv.find("\nfetch5,,5,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",status\n"), std::string::npos) << csv;
  const std::string html = Slurp(dir.File("b.html"));
  EXPECT_EQ(ParseHtml(html, {.parser = HtmlParser::kGumbo}).errors, 0u);
  // A line in the throughput, CPU and RSS charts; no bar in the time breakdown, which is fanout's own.
  EXPECT_EQ(Occurrences(html, "data-series=\"fetch5\""), 3u);
  EXPECT_EQ(Occurrences(html, "data-label=\"fetch5\""), 0u);
}

TEST(BenchCommand, VsCommandRunsOncePerConcurrencyLevelInAFreshOutdir) {
  test::TempDir dir;
  // {outdir} must exist and be empty; the command echoes its concurrency for the JSON to show.
  test::ProcessResult r = test::RunProcess(
      {FANOUT_BINARY, "bench", "--pages", "30", "--modes", "async", "--concurrency", "1,3", "--latency", "0", "--vs",
       "test -z \"$(ls -A {outdir})\" && touch {outdir}/mine && curl -s -o /dev/null {url} && echo {concurrency}",
       "--json", dir.File("b.json")},
      60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The label defaults to the command's program.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\ntest +1 +1 "))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\ntest +3 +1 "))) << r.out;
  nlohmann::json j = nlohmann::json::parse(Slurp(dir.File("b.json")));
  ASSERT_EQ(j["cells"].size(), 4u);  // async at 1 and 3, then the command at 1 and 3
  EXPECT_EQ(j["cells"][2]["concurrency"], 1);
  EXPECT_EQ(j["cells"][2]["external"]["stdout_last_line"], "1");
  EXPECT_EQ(j["cells"][3]["concurrency"], 3);
  EXPECT_EQ(j["cells"][3]["external"]["stdout_last_line"], "3");
}

TEST(BenchCommand, FailingVsCommandIsShownWithItsStatus) {
  test::TempDir dir;
  test::ProcessResult r = test::RunProcess(
      TinyBench({"--vs", "echo 'no such site' >&2; exit 3 # {url}", "--vs-name", "broken", "--json", dir.File("b.json")}),
      60000);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // after printing everything
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nbroken +- +0 .* exit 3\n"))) << r.out;
  EXPECT_NE(r.err.find("broken failed (exit 3): no such site"), std::string::npos) << r.err;
  const nlohmann::json vs = CellOf(nlohmann::json::parse(Slurp(dir.File("b.json"))), "broken");
  ASSERT_FALSE(vs.is_null());
  EXPECT_EQ(vs["external"]["exit_code"], 3);
  EXPECT_EQ(vs["external"]["status"], "exit 3");
  EXPECT_EQ(vs["external"]["stderr_last_line"], "no such site");
}

TEST(BenchCommand, VsCommandPastItsTimeoutIsKilledWithItsChildren) {
  test::TempDir dir;
  const std::string pid_file = dir.File("sleeper.pid");
  // The shell waits on a background sleep: killing the shell alone would leave the sleep running.
  test::ProcessResult r = test::RunProcess(
      TinyBench({"--vs", "sleep 30 & echo $! > " + pid_file + "; wait # {url}", "--vs-timeout", "1", "--json",
                 dir.File("b.json")}),
      25000);
  ASSERT_FALSE(r.timed_out) << "bench waited for the whole sleep";
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\nsleep +- .* timeout\n"))) << r.out;
  EXPECT_NE(r.err.find("timed out after 1 s"), std::string::npos) << r.err;
  const nlohmann::json vs = CellOf(nlohmann::json::parse(Slurp(dir.File("b.json"))), "sleep");
  ASSERT_FALSE(vs.is_null());
  EXPECT_EQ(vs["external"]["timed_out"], true);
  EXPECT_EQ(vs["external"]["signal"], 9);

  // The background sleep went with its process group: its pidfd turns readable once it has exited.
  const pid_t sleeper = std::stoi(Slurp(pid_file));
  // (The system call itself: glibc 2.36's pidfd_open has no C linkage for C++ to link to.)
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, sleeper, 0));
  if (pidfd >= 0) {  // else it is gone already (ESRCH)
    pollfd p{pidfd, POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 10000), 1) << "the background sleep outlived the timeout";
    close(pidfd);
  }
}

TEST(BenchCommand, BadVsOptionsAreUsageErrors) {
  test::ProcessResult empty = test::RunProcess({FANOUT_BINARY, "bench", "--vs", " "});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("--vs"), std::string::npos) << empty.err;
  EXPECT_EQ(LineCount(empty.err), 1) << empty.err;

  test::ProcessResult names =
      test::RunProcess({FANOUT_BINARY, "bench", "--vs", "true", "--vs-name", "a", "--vs-name", "b"});
  EXPECT_EQ(names.exit_code, 2);
  EXPECT_NE(names.err.find("2 --vs-name for 1 --vs"), std::string::npos) << names.err;
  EXPECT_EQ(LineCount(names.err), 1) << names.err;

  test::ProcessResult url = test::RunProcess({FANOUT_BINARY, "bench", "http://127.0.0.1:9/", "--vs", "true"});
  EXPECT_EQ(url.exit_code, 2);
  EXPECT_NE(url.err.find("--vs needs bench's own site"), std::string::npos) << url.err;

  // Bench's site is on a port chosen at run time: a command that does not take {url} is a mistake.
  test::ProcessResult no_url = test::RunProcess({FANOUT_BINARY, "bench", "--vs", "wget2 -r http://127.0.0.1:8080/"});
  EXPECT_EQ(no_url.exit_code, 2);
  EXPECT_NE(no_url.err.find("has no {url}"), std::string::npos) << no_url.err;

  test::ProcessResult timeout = test::RunProcess({FANOUT_BINARY, "bench", "--vs", "true {url}", "--vs-timeout", "0"});
  EXPECT_EQ(timeout.exit_code, 2);
}

}  // namespace
}  // namespace fanout
