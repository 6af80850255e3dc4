// The HTML reports (`fanout bench --html`, `fanout crawl --html`) as a browser sees them: each page
// is loaded by Debian's headless chromium, driven by playwright-core (tests/cli/js/report_dom.mjs,
// installed by scripts/report-browser.sh, which scripts/test.sh runs before ctest), which prints what
// the console said, any request the page tried to make, and the charts' series, points and bars as
// the DOM holds them. These are checked against the commands' own --json and --report.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "testsite/server.h"

namespace fanout {
namespace {

using nlohmann::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// The page as chromium loaded it (report_dom.mjs's line of JSON), a screenshot written beside it.
// A missing node, chromium or page reader is a failure that says what to install, never a skip.
json LoadInBrowser(const std::string& page, const std::string& screenshot) {
  const char* chromium = std::getenv("FANOUT_CHROMIUM");
  const std::string browser = chromium != nullptr ? chromium : "/usr/bin/chromium";
  EXPECT_EQ(access(browser.c_str(), X_OK), 0) << "no chromium at " << browser << ": apt-get install chromium "
                                                 "(scripts/test.sh installs it)";
  EXPECT_TRUE(std::filesystem::exists(FANOUT_REPORT_BROWSER_SCRIPT))
      << "no page reader: run scripts/report-browser.sh " << std::filesystem::path(FANOUT_REPORT_BROWSER_SCRIPT).parent_path();
  std::string node;
  for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"}) {
    if (node.empty() && access((std::string(dir) + "/node").c_str(), X_OK) == 0) node = std::string(dir) + "/node";
  }
  EXPECT_FALSE(node.empty()) << "no node: apt-get install nodejs (scripts/report-browser.sh does)";
  if (node.empty()) return json::object();
  test::ProcessResult r = test::RunProcess({node, FANOUT_REPORT_BROWSER_SCRIPT, "--screenshot", screenshot, page}, 90000);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  json j = json::parse(r.out, nullptr, false);
  EXPECT_TRUE(j.is_object()) << r.out << r.err;
  return j.is_object() ? j : json::object();
}

// What every report must be, in the browser: loaded, silent, self-contained, legible.
void ExpectCleanPage(const json& dom, const std::string& screenshot) {
  EXPECT_FALSE(dom.contains("load_error")) << dom.dump();
  for (const json& m : dom.value("console", json::array())) {
    EXPECT_NE(m["type"], "error") << m.dump();
    EXPECT_NE(m["type"], "warning") << m.dump();
  }
  EXPECT_EQ(dom.value("page_errors", json::array()).size(), 0u) << dom["page_errors"].dump();
  EXPECT_EQ(dom.value("external", json::array()).size(), 0u) << "the page fetched: " << dom["external"].dump();
  // Laid out for a 1200-pixel window: nothing wider than it.
  EXPECT_LE(dom.value("scroll_width", 0), 1200);
  // Legends are lists under their charts: no entry covers another.
  const json boxes = dom.value("legend_boxes", json::array());
  EXPECT_GT(boxes.size(), 0u);
  for (size_t a = 0; a < boxes.size(); ++a) {
    for (size_t b = a + 1; b < boxes.size(); ++b) {
      const json& p = boxes[a];
      const json& q = boxes[b];
      const bool apart = p["x"].get<double>() + p["width"].get<double>() <= q["x"].get<double>() + 0.5 ||
                         q["x"].get<double>() + q["width"].get<double>() <= p["x"].get<double>() + 0.5 ||
                         p["y"].get<double>() + p["height"].get<double>() <= q["y"].get<double>() + 0.5 ||
                         q["y"].get<double>() + q["height"].get<double>() <= p["y"].get<double>() + 0.5;
      EXPECT_TRUE(apart) << "legend entries overlap: " << p.dump() << " " << q.dump();
    }
  }
  const std::string png = Slurp(screenshot);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << "no screenshot at " << screenshot;
}

json Chart(const json& dom, const std::string& id) {
  for (const json& c : dom.value("charts", json::array())) {
    if (c["chart"] == id) return c;
  }
  ADD_FAILURE() << "no chart " << id;
  return json::object();
}

json Series(const json& chart, const std::string& name) {
  for (const json& s : chart.value("series", json::array())) {
    if (s["name"] == name) return s;
  }
  ADD_FAILURE() << "no series " << name << " in " << chart.value("chart", "");
  return json::object();
}

// y at x of a series, or -1.
double YAt(const json& series, double x) {
  for (const json& p : series.value("points", json::array())) {
    if (p["x"].get<double>() == x) return p["y"].get<double>();
  }
  return -1;
}

TEST(HtmlReport, BenchPageDrawsEveryCellAsItsJsonSaysWithTheIdealAboveThem) {
  test::TempDir dir;
  // Latency large against the crawls' own overhead, small enough that the whole bench takes seconds.
  test::ProcessResult r = test::RunProcess(
      {FANOUT_BINARY, "bench", "--pages", "60", "--latency", "10", "--modes", "sync,threads,async", "--concurrency",
       "1,4,16", "--json", dir.File("b.json"), "--html", dir.File("b.html")},
      120000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json bench = json::parse(Slurp(dir.File("b.json")));
  const json dom = LoadInBrowser(dir.File("b.html"), dir.File("b.png"));
  ExpectCleanPage(dom, dir.File("b.png"));
  EXPECT_EQ(dom.value("title", ""), "fanout bench");

  const json throughput = Chart(dom, "throughput");
  std::map<std::string, size_t> points_per_mode;
  for (const json& cell : bench["cells"]) {
    const std::string mode = cell["mode"];
    const double c = cell["concurrency"].get<double>();
    const double rate = cell["report"]["pages_per_second"].get<double>();
    ++points_per_mode[mode];
    // The point is the figure --json gives, exactly.
    EXPECT_EQ(YAt(Series(throughput, mode), c), rate) << mode << " at " << c;
    // Nothing beats the latency-bound ideal, which bench computes from the site's breadth.
    const double ideal = YAt(Series(throughput, "ideal: latency-bound"), c);
    EXPECT_GE(ideal, rate) << mode << " at " << c;
    EXPECT_GE(cell["ideal_pages_per_second"].get<double>(), rate) << mode << " at " << c;
    EXPECT_GT(YAt(Series(Chart(dom, "cpu"), mode), c), 0) << mode << " at " << c;
    EXPECT_DOUBLE_EQ(YAt(Series(Chart(dom, "rss"), mode), c), cell["report"]["peak_rss_kb"].get<double>() / 1024)
        << mode << " at " << c;
    // Its fan-out over time, sampled, never above its limit.
    const json in_flight = Series(Chart(dom, "in-flight-" + mode + "-" + std::to_string(static_cast<int>(c))), "in flight");
    EXPECT_GT(in_flight.value("points", json::array()).size(), 0u) << mode << " at " << c;
    for (const json& p : in_flight.value("points", json::array())) EXPECT_LE(p["y"].get<double>(), c);
  }
  EXPECT_EQ(points_per_mode, (std::map<std::string, size_t>{{"sync", 1}, {"threads", 3}, {"async", 3}}));
  // One line per mode and the ideal, each with a point per level run.
  ASSERT_EQ(throughput["series"].size(), 4u);
  for (const json& s : throughput["series"]) {
    EXPECT_EQ(s["points"].size(), s["name"] == "sync" ? 1u : 3u) << s.dump();
  }
  for (const json& p : bench["ideal"]) {
    EXPECT_EQ(YAt(Series(throughput, "ideal: latency-bound"), p["concurrency"].get<double>()),
              p["pages_per_second"].get<double>());
  }
  EXPECT_NE(throughput.value("x_axis", "").find("log"), std::string::npos);
  EXPECT_NE(throughput.value("y_axis", "").find("pages/s"), std::string::npos);

  // Where the time went: a bar per cell, the latency in first_byte.
  const json phases = Chart(dom, "phases");
  ASSERT_EQ(phases["bars"].size(), bench["cells"].size());
  for (const json& bar : phases["bars"]) {
    double first_byte = 0;
    for (const json& seg : bar["segments"]) {
      if (seg["name"] == "first_byte") first_byte = seg["value"].get<double>();
    }
    EXPECT_GT(first_byte, 5) << bar.dump();  // ms per page, of the site's 10
  }
}

TEST(HtmlReport, CrawlPageOfTheSampleSiteShowsItsReport) {
  test::TempDir dir;
  testsite::ServerOptions o;
  o.root = std::string(FANOUT_SOURCE_DIR) + "/samples/site";
  auto server = testsite::SiteServer::Create(o);
  ASSERT_OK(server);
  (*server)->Start();
  // The page on standard output, so the text summary goes to stderr.
  test::ProcessResult r = test::RunProcess({FANOUT_BINARY, "crawl", (*server)->url(), "--db", dir.File("c.db"), "--html",
                                            "-", "--report", dir.File("r.json"), "--concurrency", "4"},
                                           60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("<!DOCTYPE html>", 0), 0u) << r.out.substr(0, 200);
  EXPECT_NE(r.err.find("pages"), std::string::npos) << r.err;
  {
    std::ofstream page(dir.File("c.html"), std::ios::binary);
    page << r.out;
  }
  const json report = json::parse(Slurp(dir.File("r.json")));
  const json dom = LoadInBrowser(dir.File("c.html"), dir.File("c.png"));
  ExpectCleanPage(dom, dir.File("c.png"));
  EXPECT_EQ(dom.value("title", ""), "fanout crawl");

  // A bar per status code, each as long as the report's count.
  const json status = Chart(dom, "status");
  ASSERT_EQ(status["bars"].size(), report["status_codes"].size());
  for (const json& bar : status["bars"]) {
    const std::string code = bar["label"].get<std::string>().substr(0, 3);
    EXPECT_EQ(bar["segments"][0]["value"].get<double>(), report["status_codes"][code].get<double>()) << code;
  }
  ASSERT_EQ(Chart(dom, "phases")["bars"].size(), 1u);
  const json in_flight = Series(Chart(dom, "in-flight"), "in flight");
  EXPECT_EQ(in_flight["points"].size(), report["in_flight_timeline"].size());
  EXPECT_GT(in_flight["points"].size(), 0u);
  // The sample site has a 404 (missing-book.html): errors by kind are shown.
  EXPECT_GT(report["errors"].get<int>(), 0);
  EXPECT_EQ(Chart(dom, "errors")["bars"].size(), report["errors_by_kind"].size());
  size_t slowest_rows = 0;
  for (const json& t : dom["tables"]) {
    if (t["table"] == "slowest") slowest_rows = t["rows"];
  }
  EXPECT_EQ(slowest_rows, std::min<size_t>(10, report["pages"].get<size_t>()));
  EXPECT_EQ(report["slowest_pages"].size(), slowest_rows);
}

}  // namespace
}  // namespace fanout
